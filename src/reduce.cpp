#include "rfmseg/reduce.hpp"

#include <cmath>
#include <limits>

#include "rfmseg/int128.hpp"

namespace rfmseg {

namespace {

// Binary exponent that puts `max_magnitude` just below 2^86 on the fixed-point grid.
int grid_exponent(double max_magnitude) { return 85 - std::ilogb(max_magnitude); }

double max_magnitude(const mpi::Comm& comm, std::span<const double> values) {
  double m = 0;
  for (double v : values) m = std::max(m, std::fabs(v));
  return mpi::allreduce(comm, m, mpi::Op::max);
}

double from_fixed(int128_t sum, int exponent) { return std::ldexp(static_cast<double>(sum), -exponent); }

}  // namespace

double global_sum(const mpi::Comm& comm, std::span<const double> values) {
  const double largest = max_magnitude(comm, values);
  // `largest` is reduced, so every rank takes the same branch.
  if (!std::isfinite(largest)) return largest;
  if (largest == 0) return 0.0;
  const int e = grid_exponent(largest);
  int128_t sum = 0;
  for (double v : values) sum += static_cast<int128_t>(std::ldexp(v, e));
  mpi::allreduce_sum_inplace(comm, std::span<int128_t>(&sum, 1));
  return from_fixed(sum, e);
}

std::vector<double> global_grouped_sum(const mpi::Comm& comm, std::span<const double> values,
                                       std::span<const std::int32_t> groups, int k) {
  const double largest = max_magnitude(comm, values);
  std::vector<int128_t> sums(static_cast<std::size_t>(k), 0);
  const int e = (largest > 0 && std::isfinite(largest)) ? grid_exponent(largest) : 0;
  if (largest > 0 && std::isfinite(largest)) {
    for (std::size_t i = 0; i < values.size(); ++i)
      sums[static_cast<std::size_t>(groups[i])] += static_cast<int128_t>(std::ldexp(values[i], e));
  }
  mpi::allreduce_sum_inplace(comm, std::span<int128_t>(sums));
  std::vector<double> out(static_cast<std::size_t>(k));
  for (std::size_t g = 0; g < out.size(); ++g) out[g] = std::isfinite(largest) ? from_fixed(sums[g], e) : largest;
  return out;
}

Moments global_moments(const mpi::Comm& comm, std::span<const double> values) {
  Moments m;
  m.count = mpi::allreduce<std::uint64_t>(comm, values.size(), mpi::Op::sum);
  if (m.count == 0) return m;
  m.mean = global_sum(comm, values) / static_cast<double>(m.count);
  std::vector<double> squares(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) squares[i] = (values[i] - m.mean) * (values[i] - m.mean);
  m.variance = global_sum(comm, squares) / static_cast<double>(m.count);
  return m;
}

double global_min(const mpi::Comm& comm, std::span<const double> values) {
  double m = std::numeric_limits<double>::infinity();
  for (double v : values) m = std::min(m, v);
  return mpi::allreduce(comm, m, mpi::Op::min);
}

double global_max(const mpi::Comm& comm, std::span<const double> values) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : values) m = std::max(m, v);
  return mpi::allreduce(comm, m, mpi::Op::max);
}

}  // namespace rfmseg
