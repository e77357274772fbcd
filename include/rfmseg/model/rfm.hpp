#pragma once
// Stage 3 — rfm. On the owner rank, round by round as the combined groups arrive: drop exact
// duplicates, count the fates the readers decided (cancellation, non-positive values, kept), and
// reduce each customer's kept lines to one exact RFM row.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/core/customer_table.hpp"
#include "rfmseg/core/int128.hpp"
#include "rfmseg/io/ingest.hpp"
#include "rfmseg/parallel/mpi.hpp"
#include "rfmseg/parallel/partition.hpp"

namespace rfmseg {

namespace detail {
/// Append-only storage in fixed blocks of 2^block_bits elements: growth never reallocates or
/// copies, so memory is what is used plus at most one block (no doubling peaks).
template <class T, unsigned block_bits = 12>
class BlockVector {
 public:
  static constexpr std::size_t block_size = std::size_t{1} << block_bits;
  [[nodiscard]] std::size_t size() const { return _size; }
  [[nodiscard]] T& operator[](std::size_t i) { return _blocks[i >> block_bits][i & (block_size - 1)]; }
  [[nodiscard]] const T& operator[](std::size_t i) const { return _blocks[i >> block_bits][i & (block_size - 1)]; }
  void push_back(const T& value) {
    if ((_size >> block_bits) == _blocks.size()) _blocks.push_back(std::make_unique_for_overwrite<T[]>(block_size));
    (*this)[_size++] = value;
  }
  /// Appends `n` <= block_size elements within one block (skipping the rest of the current block
  /// when they do not fit), so they can be read as one array; returns the index of the first.
  std::size_t append_contiguous(const T* data, std::size_t n) {
    if (n == 0) return _size;
    if (n > room_in_block()) _size = ((_size >> block_bits) + 1) << block_bits;
    while (((_size + n - 1) >> block_bits) >= _blocks.size())
      _blocks.push_back(std::make_unique_for_overwrite<T[]>(block_size));
    const std::size_t at = _size;
    std::copy_n(data, n, &(*this)[at]);
    _size += n;
    return at;
  }
  /// Elements that still fit in the current block.
  [[nodiscard]] std::size_t room_in_block() const { return block_size - (_size & (block_size - 1)); }
  [[nodiscard]] std::uint64_t memory_bytes() const {
    return _blocks.size() * block_size * sizeof(T) + _blocks.capacity() * sizeof(void*);
  }
  void clear() {
    _blocks.clear();
    _blocks.shrink_to_fit();
    _size = 0;
  }

 private:
  std::vector<std::unique_ptr<T[]>> _blocks;
  std::size_t _size = 0;
};
}  // namespace detail

/// The owner's side of the shuffle. Keeps, per customer, the running RFM sums and, per combined
/// group (customer, invoice, day), the dedup keys of the lines it has accepted, so a line that
/// arrives again — from another reader or a later round — is dropped as a duplicate exactly as
/// if all lines had been collected first. Memory: 8 bytes per distinct line plus ~50 per group
/// (28 + index + invoice text), independent of the line's size; 32-bit offsets limit one rank to
/// 4 billion distinct lines and 4 GiB of invoice text.
class CustomerAccumulator {
 public:
  explicit CustomerAccumulator(CancellationPolicy cancellations) : _cancellations(cancellations) {}
  /// Local: adds one round's received groups (WireReader format) and counts the owner-side fates
  /// (duplicate, cancellation, zero_quantity, nonpositive_price, kept) in `counters`.
  void absorb(std::span<const char> wire, CleaningCounters& counters);
  [[nodiscard]] std::size_t customers() const { return _customers.size(); }
  /// Bytes held, for the memory budget.
  [[nodiscard]] std::uint64_t memory_bytes() const;
  /// Local: one row per customer with at least one kept line (recency not yet set), in no
  /// particular order. Releases the accumulator's memory.
  [[nodiscard]] CustomerTable finish(FrequencyMode frequency);

 private:
  struct Customer {
    int128_t money;
    std::uint64_t hash;
    std::int64_t kept_lines;
    std::uint32_t text_offset;
    std::int32_t last_day;
    std::uint32_t length;
  };
  // 28 bytes: one per invoice and day of a customer, so it is most of the held memory with the keys.
  struct Group {
    std::uint32_t customer;
    std::uint32_t invoice_offset;
    std::uint32_t key_offset;  ///< first run of accepted keys (sorted) in `_keys`
    std::uint32_t key_count;
    std::uint32_t more_runs;  ///< further runs (later rounds or readers), `none` = no more
    std::int32_t day;
    std::uint16_t invoice_length;
    bool kept;
  };
  struct Run {
    std::uint32_t key_offset;
    std::uint32_t key_count;
    std::uint32_t next;
  };
  static constexpr std::uint32_t none = 0xffffffffu;

  struct Incoming {
    std::uint64_t customer_hash;
    std::uint64_t hash;
    std::size_t offset;  ///< of the group's header in the received buffer
  };
  std::uint32_t find_or_add_customer(std::string_view id, std::uint64_t hash);
  void reserve_groups(std::size_t more);
  [[nodiscard]] bool seen(const Group& group, std::uint64_t key) const;
  /// Stores `keys` (sorted) as runs of `group`.
  void store_keys(Group& group, const std::vector<std::uint64_t>& keys);
  [[nodiscard]] std::string_view customer_id(const Customer& c) const {
    return {&_customer_text[c.text_offset], c.length};
  }
  [[nodiscard]] std::string_view invoice(const Group& g) const {
    return g.invoice_length == 0 ? std::string_view{}
                                 : std::string_view{&_invoice_text[g.invoice_offset], g.invoice_length};
  }

  CancellationPolicy _cancellations;
  detail::BlockVector<Customer> _customers;
  detail::BlockVector<Group> _groups;
  detail::BlockVector<Run> _runs;
  detail::BlockVector<std::uint64_t, 13> _keys;
  detail::BlockVector<char, 16> _customer_text, _invoice_text;  ///< ids <= 256 bytes, invoices < 64 KiB
  static constexpr std::uint64_t tag_mask = 0xffffffff00000000ULL;
  std::vector<std::uint32_t> _customer_index;  ///< open addressing: index + 1, 0 = empty
  std::vector<std::uint64_t> _group_index;     ///< open addressing: hash's upper 32 bits | index + 1
  int _group_bits = 0;                         ///< _group_index has 2^_group_bits slots
  std::vector<std::uint64_t> _accepted;        ///< scratch
  std::vector<Incoming> _incoming;             ///< scratch: one round's group headers
};

/// Collective: snapshot day = configured day, or the latest kept purchase day over all ranks + 1.
[[nodiscard]] std::int32_t snapshot_day(const mpi::Comm& comm, const CustomerTable& table, const RfmConfig& config);

/// Local: recency = snapshot − last purchase day.
void set_recency(CustomerTable& table, std::int32_t snapshot);

}  // namespace rfmseg
