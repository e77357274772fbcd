#include "rfmseg/core/customer_table.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace rfmseg {

void CustomerTable::resize(std::size_t n) {
  id.resize(n);
  last_day.resize(n);
  recency.resize(n);
  frequency.resize(n);
  monetary_micros.resize(n);
  monetary.resize(n);
}

namespace {
template <class T>
void apply_order(std::vector<T>& column, const std::vector<std::size_t>& order) {
  std::vector<T> out;
  out.reserve(order.size());
  for (auto i : order) out.push_back(std::move(column[i]));
  column = std::move(out);
}
}  // namespace

void CustomerTable::permute(const std::vector<std::size_t>& order) {
  apply_order(id, order);
  apply_order(last_day, order);
  apply_order(recency, order);
  apply_order(frequency, order);
  apply_order(monetary_micros, order);
  apply_order(monetary, order);
}

double micros_to_units(int128_t micros) noexcept {
  const bool negative = micros < 0;
  uint128_t a = negative ? -static_cast<uint128_t>(micros) : static_cast<uint128_t>(micros);
  if (a < (static_cast<uint128_t>(1) << 53)) {
    // Both operands are exact doubles; IEEE division rounds the exact quotient once.
    const double value = static_cast<double>(static_cast<std::uint64_t>(a)) / 1e6;
    return negative ? -value : value;
  }
  // Large sums: integer long division to 54+ significant bits, then round to nearest even by hand.
  const auto bit_length = [](uint128_t x) {
    int n = 0;
    while (x != 0) {
      x >>= 1;
      ++n;
    }
    return n;
  };
  const int pre_shift = std::max(0, std::min(127 - bit_length(a), 80 - bit_length(a)));
  a <<= pre_shift;
  const uint128_t quotient = a / 1'000'000;
  const bool sticky_remainder = a % 1'000'000 != 0;
  const int shift = bit_length(quotient) - 53;  // bits below the 53-bit mantissa (>= 1 here)
  uint128_t mantissa = quotient >> shift;
  const uint128_t rest = quotient & ((static_cast<uint128_t>(1) << shift) - 1);
  const uint128_t half = static_cast<uint128_t>(1) << (shift - 1);
  if (rest > half || (rest == half && (sticky_remainder || (mantissa & 1) != 0))) ++mantissa;
  const double value = std::ldexp(static_cast<double>(static_cast<std::uint64_t>(mantissa)), shift - pre_shift);
  return negative ? -value : value;
}

}  // namespace rfmseg
