#pragma once
// Exact, partition-independent global reductions of doubles. Floating-point sums depend on the
// order of the additions, so a different rank count would change the last bits of every mean and
// every centroid. Here each value is rounded once onto a fixed-point grid chosen from the global
// maximum magnitude (2^-86 relative to it), summed in 128-bit integers (associative, so any
// reduction tree gives the same bits), and rounded back to double once. Sums of up to 2^40 values
// cannot overflow; values below 2^-86 of the maximum are truncated toward zero.

#include <cstdint>
#include <optional>
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

/// A multiset of doubles: its distinct values (ascending) and how often each occurs.
struct Histogram {
  std::vector<double> value;
  std::vector<std::uint64_t> count;
  [[nodiscard]] std::size_t size() const { return value.size(); }
};

/// Collective: the histogram of `values` over all ranks, the same on every rank; nothing (on
/// every rank) when the ranks' distinct values add up to more than `max_entries`, or a value is
/// not finite. Features such as recency (days) and frequency (counts) take few distinct values.
[[nodiscard]] std::optional<Histogram> global_histogram(const mpi::Comm& comm, std::span<const double> values,
                                                        std::size_t max_entries);

/// Local: Σ values[j] · counts[j], bit-identical to global_sum over the multiset the pairs stand
/// for (the same fixed-point grid, the same integer sum). No communication.
[[nodiscard]] double weighted_sum(std::span<const double> values, std::span<const std::uint64_t> counts);

/// Local: what global_moments gives over the multiset (values[j] occurring counts[j] times), bit
/// for bit. No communication.
[[nodiscard]] Moments weighted_moments(std::span<const double> values, std::span<const std::uint64_t> counts);

[[nodiscard]] double global_min(const mpi::Comm& comm, std::span<const double> values);
[[nodiscard]] double global_max(const mpi::Comm& comm, std::span<const double> values);

}  // namespace rfmseg
