#pragma once
// The RFM table rfmseg must compute from the generated lines (--groups): per-customer sums,
// line fates, and the per-day duplicate detector.

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gen/shop_model.hpp"
#include "gen/types.hpp"

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
  bool insert(u64 h1, u64 h2) {
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
    u64 h1 = 0;
    u64 h2 = 0;
    u32 epoch = 0;
  };
  void grow() {
    std::vector<Slot> old;
    old.swap(_slots);
    const u32 e = _epoch;
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
  u32 _epoch = 0;
  std::size_t _count = 0;
};

enum Fate : std::size_t { kMissing, kDuplicate, kCancellation, kZeroQty, kNonpositive, kKept, kFates };
constexpr std::array<const char*, kFates> kFateNames = {"missing_customer", "duplicate", "cancellation",
                                                        "zero_quantity", "nonpositive_price", "kept"};

/// What rfmseg must compute, accumulated per customer on every rank and summed at the end.
struct Truth {
  explicit Truth(u64 customers)
      : sums(static_cast<std::size_t>(customers) * kCols, 0),
        last_day(static_cast<std::size_t>(customers), -1),
        day_marker(static_cast<std::size_t>(customers), -1) {}
  enum Col : std::size_t { kIdLines, kKeptLines, kInvoices, kDays, kMonetary, kMonetaryNet, kCols };
  std::vector<i64> sums;           // kCols per customer
  std::vector<std::int32_t> last_day;  // max over ranks
  std::vector<std::int32_t> day_marker;  // local: last day with a kept line seen (incl. re-generated prefix)
  std::array<i64, kFates> fates{};
  LineSet seen;
  i64& at(u64 c, Col col) { return sums[static_cast<std::size_t>(c) * kCols + col]; }
};

/// The facts about one line that decide its fate.
struct LineFacts {
  i64 cust = -1;  // -1: id empty
  i64 qty = 0;
  i64 price = 0;  // cents (amount layout: the amount, qty 1)
  bool cancel = false;  // C invoice or negative quantity
};

/// Writes the ground-truth table into `f` (opened by rank 0 before generating) and closes it.
void write_groups(const Model& m, Truth& t, std::FILE* f, const std::string& path, std::size_t snapshot_day);

}  // namespace rfmseg::gen
