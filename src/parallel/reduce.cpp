#include "rfmseg/parallel/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "rfmseg/core/int128.hpp"

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

// v · 2^e truncated toward zero, as a 128-bit integer. Multiplying by a power of two is exact (the
// result stays below 2^87, far from overflow; a subnormal product truncates to 0 either way), and
// the int64 conversion is the same truncation as the 128-bit one when the value fits: the same
// bits as static_cast<int128_t>(std::ldexp(v, e)), without the library calls.
class ToFixed {
 public:
  explicit ToFixed(int exponent)
      : _exponent(exponent), _scale(exponent > -1000 && exponent < 1000 ? std::ldexp(1.0, exponent) : 0) {}
  int128_t operator()(double v) const {
    const double y = _scale != 0 ? v * _scale : std::ldexp(v, _exponent);
    if (std::fabs(y) < 0x1p62) return static_cast<std::int64_t>(y);
    return large_to_int128(y);
  }

  // |y| >= 2^62 has an ulp >= 2^10, so y is an integer: its 53-bit significand shifted left by the
  // exponent, exactly what static_cast<int128_t>(y) gives, without the library call
  // (__fixdfti showed up at 8% of a rank's CPU in the transform's reductions).
  static int128_t large_to_int128(double y) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &y, sizeof bits);
    const int shift = static_cast<int>((bits >> 52) & 0x7ff) - 1075;
    const auto significand = static_cast<int128_t>((bits & ((std::uint64_t{1} << 52) - 1)) | (std::uint64_t{1} << 52));
    const int128_t magnitude = significand << shift;
    return (bits >> 63) != 0 ? -magnitude : magnitude;
  }

 private:
  int _exponent;
  double _scale;
};

}  // namespace

double global_sum(const mpi::Comm& comm, std::span<const double> values) {
  const double largest = max_magnitude(comm, values);
  // `largest` is reduced, so every rank takes the same branch.
  if (!std::isfinite(largest)) return largest;
  if (largest == 0) return 0.0;
  const int e = grid_exponent(largest);
  const ToFixed to_fixed(e);
  int128_t sum = 0;
  for (double v : values) sum += to_fixed(v);
  mpi::allreduce_sum_inplace(comm, std::span<int128_t>(&sum, 1));
  return from_fixed(sum, e);
}

std::vector<double> global_grouped_sum(const mpi::Comm& comm, std::span<const double> values,
                                       std::span<const std::int32_t> groups, int k) {
  const double largest = max_magnitude(comm, values);
  std::vector<int128_t> sums(static_cast<std::size_t>(k), 0);
  const int e = (largest > 0 && std::isfinite(largest)) ? grid_exponent(largest) : 0;
  if (largest > 0 && std::isfinite(largest)) {
    const ToFixed to_fixed(e);
    for (std::size_t i = 0; i < values.size(); ++i) sums[static_cast<std::size_t>(groups[i])] += to_fixed(values[i]);
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

double weighted_sum(std::span<const double> values, std::span<const std::uint64_t> counts) {
  // As global_sum: the grid from the largest magnitude, one fixed-point value per element, an
  // integer sum (c copies of a fixed-point value add up to c times it), rounded back once.
  double largest = 0;
  for (double v : values) largest = std::max(largest, std::fabs(v));
  if (!std::isfinite(largest)) return largest;
  if (largest == 0) return 0.0;
  const int e = grid_exponent(largest);
  const ToFixed to_fixed(e);
  int128_t sum = 0;
  for (std::size_t j = 0; j < values.size(); ++j) sum += to_fixed(values[j]) * static_cast<int128_t>(counts[j]);
  return from_fixed(sum, e);
}

Moments weighted_moments(std::span<const double> values, std::span<const std::uint64_t> counts) {
  Moments m;
  for (auto c : counts) m.count += c;
  if (m.count == 0) return m;
  m.mean = weighted_sum(values, counts) / static_cast<double>(m.count);
  std::vector<double> squares(values.size());
  for (std::size_t j = 0; j < values.size(); ++j) squares[j] = (values[j] - m.mean) * (values[j] - m.mean);
  m.variance = weighted_sum(squares, counts) / static_cast<double>(m.count);
  return m;
}

namespace {
// Appends `count` occurrences of `value`, not below the last value of the table.
void add_sorted(Histogram& table, double value, std::uint64_t count) {
  if (table.value.empty() || table.value.back() != value) {
    table.value.push_back(value);
    table.count.push_back(0);
  }
  table.count.back() += count;
}
}  // namespace

std::optional<Histogram> global_histogram(const mpi::Comm& comm, std::span<const double> values,
                                          std::size_t max_entries) {
  // This rank's distinct values first; the exchange only when the ranks' tables together are small.
  std::vector<double> sorted(values.begin(), values.end());
  bool finite = true;
  for (double v : sorted) finite = finite && std::isfinite(v);
  if (!mpi::all_of(comm, finite)) return std::nullopt;
  std::sort(sorted.begin(), sorted.end());
  Histogram local;
  for (double v : sorted) add_sorted(local, v, 1);
  const auto entries = mpi::allreduce<std::uint64_t>(comm, local.size(), mpi::Op::sum);
  if (entries > max_entries) return std::nullopt;
  const auto all_values = mpi::allgatherv<double>(comm, local.value);
  const auto all_counts = mpi::allgatherv<std::uint64_t>(comm, local.count);
  std::vector<std::size_t> order(all_values.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return all_values[a] < all_values[b]; });
  Histogram global;
  for (std::size_t i : order) add_sorted(global, all_values[i], all_counts[i]);
  return global;
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
