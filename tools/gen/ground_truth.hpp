#pragma once
// The RFM table rfmseg must compute from the generated lines (--groups): per-customer sums,
// line fates, and the per-day duplicate detector.

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gen/shop_model.hpp"

namespace rfmseg::gen {

/// 128-bit fingerprints of the lines of one day (open addressing, epoch-tagged slots).
class LineSet {
 public:
  void reset(std::size_t expected) {
    std::size_t cap = 64;
    while (cap < 2 * expected + 16) cap <<= 1;
    if (cap > _slots.size()) {
      _slots.assign(cap, Slot{});
      _epoch = 0;
    }
    _mask = _slots.size() - 1;
    ++_epoch;
    _count = 0;
  }
  /// Inserts the fingerprint; returns false when it was already present.
  bool insert(std::uint64_t h1, std::uint64_t h2) {
    if (2 * (_count + 1) > _slots.size()) grow();
    std::size_t i = static_cast<std::size_t>(h1) & _mask;
    while (_slots[i].epoch == _epoch) {
      if (_slots[i].h1 == h1 && _slots[i].h2 == h2) return false;
      i = (i + 1) & _mask;
    }
    _slots[i] = Slot{h1, h2, _epoch};
    ++_count;
    return true;
  }

 private:
  struct Slot {
    std::uint64_t h1 = 0;
    std::uint64_t h2 = 0;
    std::uint32_t epoch = 0;
  };
  void grow() {
    std::vector<Slot> old;
    old.swap(_slots);
    const std::uint32_t e = _epoch;
    _slots.assign(old.size() * 2, Slot{});
    _mask = _slots.size() - 1;
    _epoch = 1;
    _count = 0;
    for (const Slot& s : old) {
      if (s.epoch == e) insert(s.h1, s.h2);
    }
  }
  std::vector<Slot> _slots;
  std::size_t _mask = 0;
  std::uint32_t _epoch = 0;
  std::size_t _count = 0;
};

/// What rfmseg's default cleaning does with a line (the order of its counters).
enum class LineFate : std::size_t { missing_customer, duplicate, cancellation, zero_quantity, nonpositive_price, kept };
inline constexpr std::size_t fate_count = 6;
inline constexpr std::array<const char*, fate_count> fate_names = {
    "missing_customer", "duplicate", "cancellation", "zero_quantity", "nonpositive_price", "kept"};

/// What rfmseg must compute, accumulated per customer on every rank and summed at the end.
struct GroundTruth {
  explicit GroundTruth(std::uint64_t customers)
      : sums(static_cast<std::size_t>(customers) * column_count, 0),
        last_day(static_cast<std::size_t>(customers), -1),
        day_marker(static_cast<std::size_t>(customers), -1) {}
  enum Column : std::size_t { id_lines, kept_lines, invoices, purchase_days, monetary, monetary_net, column_count };
  std::vector<std::int64_t> sums;                // column_count per customer
  std::vector<std::int32_t> last_day;            // max over ranks
  std::vector<std::int32_t> day_marker;          // local: last day with a kept line seen (incl. re-generated prefix)
  std::array<std::int64_t, fate_count> fates{};  // indexed by LineFate
  LineSet seen;
  std::int64_t& at(std::uint64_t c, Column col) { return sums[static_cast<std::size_t>(c) * column_count + col]; }
};

/// The facts about one line that decide its fate.
struct LineFacts {
  std::int64_t cust = -1;  // -1: id empty
  std::int64_t qty = 0;
  std::int64_t price = 0;  // cents (amount layout: the amount, qty 1)
  bool cancel = false;     // C invoice or negative quantity
};

/// Writes the ground-truth table into `f` (opened by rank 0 before generating) and closes it.
void write_groups(const ShopModel& m, GroundTruth& t, std::FILE* f, const std::string& path, std::size_t snapshot_day);

}  // namespace rfmseg::gen
