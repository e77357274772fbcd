#include "rfmseg/int128.hpp"
#include "rfmseg/rfm.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

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

CustomerTable aggregate_customers(Transactions& owned, FrequencyMode frequency, CancellationPolicy cancellations,
                                  CleaningCounters& counters) {
  const auto& rec = owned.records;
  std::vector<std::uint32_t> order(rec.size());
  std::iota(order.begin(), order.end(), 0u);
  // Group by customer; identical lines of a customer become neighbours.
  std::sort(order.begin(), order.end(), [&](std::uint32_t ia, std::uint32_t ib) {
    const auto& a = rec[ia];
    const auto& b = rec[ib];
    if (a.customer_hash != b.customer_hash) return a.customer_hash < b.customer_hash;
    if (const auto c = owned.customer(a).compare(owned.customer(b)); c != 0) return c < 0;
    if (a.line_hash != b.line_hash) return a.line_hash < b.line_hash;
    if (const auto c = owned.invoice(a).compare(owned.invoice(b)); c != 0) return c < 0;
    if (a.day != b.day) return a.day < b.day;
    if (a.quantity != b.quantity) return a.quantity < b.quantity;
    return a.price_micros < b.price_micros;
  });
  const auto same_line = [&](const Transactions::Record& a, const Transactions::Record& b) {
    return a.line_hash == b.line_hash && a.day == b.day && a.quantity == b.quantity &&
           a.price_micros == b.price_micros && owned.invoice(a) == owned.invoice(b);
  };

  CustomerTable table;
  std::vector<std::string_view> invoices;
  std::vector<std::int32_t> days;
  std::size_t i = 0;
  while (i < order.size()) {
    const auto& first = rec[order[i]];
    std::size_t j = i + 1;
    while (j < order.size() && rec[order[j]].customer_hash == first.customer_hash &&
           owned.customer(rec[order[j]]) == owned.customer(first))
      ++j;
    invoices.clear();
    days.clear();
    std::int64_t lines = 0;
    std::int32_t last_day = INT32_MIN;
    int128_t money = 0;
    for (std::size_t k = i; k < j; ++k) {
      const auto& r = rec[order[k]];
      if (k > i && same_line(r, rec[order[k - 1]])) {
        ++counters[Fate::duplicate];
        continue;
      }
      const std::string_view invoice = owned.invoice(r);
      const int128_t value = static_cast<int128_t>(r.quantity) * r.price_micros;
      if ((!invoice.empty() && invoice.front() == 'C') || r.quantity < 0) {
        ++counters[Fate::cancellation];
        if (cancellations == CancellationPolicy::net) money += value;  // signed: a return subtracts
        continue;
      }
      if (r.quantity == 0) {
        ++counters[Fate::zero_quantity];
        continue;
      }
      if (r.price_micros <= 0) {
        ++counters[Fate::nonpositive_price];
        continue;
      }
      ++counters[Fate::kept];
      ++lines;
      last_day = std::max(last_day, r.day);
      money += value;
      if (frequency == FrequencyMode::invoices) invoices.push_back(invoice);
      if (frequency == FrequencyMode::days) days.push_back(r.day);
    }
    if (lines > 0) {
      std::int64_t count = lines;
      if (frequency == FrequencyMode::invoices) {
        std::sort(invoices.begin(), invoices.end());
        count = std::unique(invoices.begin(), invoices.end()) - invoices.begin();
      } else if (frequency == FrequencyMode::days) {
        std::sort(days.begin(), days.end());
        count = std::unique(days.begin(), days.end()) - days.begin();
      }
      table.id.emplace_back(owned.customer(first));
      table.last_day.push_back(last_day);
      table.recency.push_back(0);
      table.frequency.push_back(count);
      table.monetary_micros.push_back(money);
      table.monetary.push_back(micros_to_units(money));
    }
    i = j;
  }
  return table;
}

std::int32_t snapshot_day(const mpi::Comm& comm, const CustomerTable& table, const RfmConfig& config) {
  std::int32_t latest = INT32_MIN;
  for (auto day : table.last_day) latest = std::max(latest, day);
  latest = mpi::allreduce(comm, latest, mpi::Op::max);
  if (config.snapshot_day) return *config.snapshot_day;
  return latest == INT32_MIN ? 0 : latest + 1;
}

void set_recency(CustomerTable& table, std::int32_t snapshot) {
  for (std::size_t i = 0; i < table.size(); ++i) table.recency[i] = snapshot - table.last_day[i];
}

}  // namespace rfmseg
