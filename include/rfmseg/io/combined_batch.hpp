#pragma once
// What a reader hands to the shuffle: its round's lines combined per customer, invoice and day
// (CombinedBatch), each source line reduced to an 8-byte dedup key and its value.

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/int128.hpp"
#include "rfmseg/io/fates.hpp"

namespace rfmseg {

/// Dedup key of a line: the hash of its bytes (line end excluded) with the parsed quantity and
/// price folded in. Two lines of one customer, invoice and day are duplicates when their keys are
/// equal: byte-identical lines always are (up to 64-bit hash collisions, as before combining).
[[nodiscard]] constexpr std::uint64_t line_key(std::uint64_t line_hash, std::int64_t quantity,
                                               std::int64_t price_micros) noexcept {
  return mix64(line_hash ^ mix64(static_cast<std::uint64_t>(quantity) * 0x9e3779b97f4a7c15ULL ^
                                 mix64(static_cast<std::uint64_t>(price_micros) + 0x2545f4914f6cdd1dULL)));
}

/// Byte equality of short strings (ids, invoices) without a library call per comparison.
[[nodiscard]] inline bool same_bytes(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (std::memcmp(p + i, q + i, 8) != 0) return false;  // fixed size: one 8-byte compare, inlined
    return std::memcmp(p + n - 8, q + n - 8, 8) == 0;
  }
  if (n >= 4) return std::memcmp(p, q, 4) == 0 && std::memcmp(p + n - 4, q + n - 4, 4) == 0;
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != q[i]) return false;
  return true;
}

/// Hash of a combined group's identity (customer id, invoice, day); `customer_hash` = hash_bytes(id).
[[nodiscard]] inline std::uint64_t group_hash(std::uint64_t customer_hash, std::string_view invoice,
                                              std::int32_t day) noexcept {
  return mix64(customer_hash ^ mix64(hash_bytes(invoice, 0x1d) + static_cast<std::uint32_t>(day)));
}

/// One round of a reader's usable lines, combined before the shuffle: one group per
/// (customer id, invoice, day), holding for each of its lines only what the owner still needs —
/// a 64-bit dedup key (hash of the line's bytes, quantity and price: byte-identical lines have
/// equal keys), the owner-side fate and the line's value (quantity × price in micro-units; 0 where
/// the owner does not use it). Consecutive lines of one group (an invoice's lines) cost no hash
/// lookup; ids and invoices are copied once per group, never per line.
class CombinedBatch {
 public:
  struct Group {
    std::uint64_t hash;           ///< of customer id, invoice and day
    std::uint64_t customer_hash;  ///< hash_bytes(customer id): decides the owner rank
    std::uint64_t text_offset;    ///< customer id bytes, then invoice bytes, in the text arena
    std::uint32_t customer_length;
    std::uint32_t invoice_length;
    std::int32_t day;
    std::uint32_t first_line, last_line;  ///< chain through Line::next (`none` = end)
    std::uint32_t lines;
  };
  struct Line {
    std::uint64_t key;
    std::int64_t value;  ///< micro-units, or an index into the wide values when `wide`
    std::uint32_t next;
    Fate fate;
    bool wide;
  };
  static constexpr std::uint32_t none = 0xffffffffu;

  /// `carry_cancellation_values`: cancellations keep their value (for --cancellations net).
  explicit CombinedBatch(bool carry_cancellation_values = false) : _carry_cancellations(carry_cancellation_values) {}

  /// Adds a line that reached the owner-side fates (duplicate, cancellation, ..., kept).
  void add(std::string_view customer, std::string_view invoice, std::int32_t day, std::uint64_t key, Fate fate,
           int128_t value);
  void clear();
  [[nodiscard]] std::size_t lines() const { return _lines.size(); }
  [[nodiscard]] const std::vector<Group>& groups() const { return _groups; }
  [[nodiscard]] std::string_view customer(const Group& g) const {
    return {_text.data() + g.text_offset, g.customer_length};
  }
  [[nodiscard]] std::string_view invoice(const Group& g) const {
    return {_text.data() + g.text_offset + g.customer_length, g.invoice_length};
  }
  [[nodiscard]] const Line& line(std::uint32_t index) const { return _lines[index]; }
  [[nodiscard]] int128_t value(const Line& line) const {
    return line.wide ? _wide[static_cast<std::size_t>(line.value)] : line.value;
  }
  /// Bytes in use, for the memory budget.
  [[nodiscard]] std::uint64_t used_bytes() const;
  /// Frees the memory (clear() keeps it for the next round).
  void release();

 private:
  std::uint32_t find_or_add_group(std::string_view customer, std::string_view invoice, std::int32_t day);
  void grow_index();

  bool _carry_cancellations;
  std::vector<Group> _groups;
  std::vector<Line> _lines;
  std::vector<int128_t> _wide;  ///< values beyond int64 (rare: huge quantity x price)
  std::string _text;
  std::vector<std::uint32_t> _index;  ///< open addressing: group index + 1, 0 = empty
  std::uint32_t _last_group = none;
};

}  // namespace rfmseg
