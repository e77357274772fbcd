#pragma once
// Exact, partition-independent global reductions of doubles. Floating-point sums depend on the
// order of the additions, so a different rank count would change the last bits of every mean and
// every centroid. Here each value is rounded once onto a fixed-point grid chosen from the global
// maximum magnitude (2^-86 relative to it), summed in 128-bit integers (associative, so any
// reduction tree gives the same bits), and rounded back to double once. Sums of up to 2^40 values
// cannot overflow; values below 2^-86 of the maximum are truncated toward zero.

#include <cstdint>
#include <span>
#include <vector>

#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Σ values over all ranks, bit-identical for any partition of the values.
[[nodiscard]] double global_sum(const mpi::Comm& comm, std::span<const double> values);

/// Per-group sums: result[g] = Σ values[i] with groups[i] == g, over all ranks (groups in [0, k)).
[[nodiscard]] std::vector<double> global_grouped_sum(const mpi::Comm& comm, std::span<const double> values,
                                                     std::span<const std::int32_t> groups, int k);

struct Moments {
  std::uint64_t count = 0;
  double mean = 0;
  double variance = 0;  ///< population variance (divides by count)
};

/// Two-pass mean and population variance over all ranks (exact sums).
[[nodiscard]] Moments global_moments(const mpi::Comm& comm, std::span<const double> values);

[[nodiscard]] double global_min(const mpi::Comm& comm, std::span<const double> values);
[[nodiscard]] double global_max(const mpi::Comm& comm, std::span<const double> values);

}  // namespace rfmseg
