#include "rfmseg/model/rfm.hpp"
#include "rfmseg/core/int128.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "rfmseg/core/hash.hpp"
#include "rfmseg/parallel/partition.hpp"

namespace rfmseg {

namespace {

// Open addressing with linear probing over `index` (entries are element index + 1, 0 = empty);
// doubles when half full. `hash_of(i)` gives element i's hash.
// doubles until `room_for` elements fit half full; elements 0..present-1 are in it.
template <class HashOf>
void grow_index(std::vector<std::uint32_t>& index, std::size_t present, std::size_t room_for, HashOf hash_of) {
  if (2 * (room_for + 1) <= index.size()) return;
  std::size_t size = std::max<std::size_t>(1024, index.size() * 2);
  while (2 * (room_for + 1) > size) size *= 2;
  std::vector<std::uint32_t> grown(size, 0u);
  const std::size_t mask = grown.size() - 1;
  for (std::size_t i = 0; i < present; ++i) {
    std::size_t slot = hash_of(i) & mask;
    while (grown[slot] != 0) slot = (slot + 1) & mask;
    grown[slot] = static_cast<std::uint32_t>(i + 1);
  }
  index = std::move(grown);
}

void check_index_room(std::size_t count, const char* what) {
  if (count >= 0xfffffffeu)
    throw std::runtime_error(std::string("more than 4 billion ") + what + " on one rank: use more ranks");
}

std::uint32_t offset32(std::size_t offset, const char* what) {
  if (offset >= 0xfffffffeu)
    throw std::runtime_error(std::string("more than 4 GiB of ") + what + " on one rank: use more ranks");
  return static_cast<std::uint32_t>(offset);
}

}  // namespace

std::uint64_t CustomerAccumulator::memory_bytes() const {
  return _customers.memory_bytes() + _groups.memory_bytes() + _runs.memory_bytes() + _keys.memory_bytes() +
         _customer_text.memory_bytes() + _invoice_text.memory_bytes() +
         _customer_index.capacity() * sizeof(std::uint32_t) + _group_index.capacity() * sizeof(std::uint64_t) +
         _accepted.capacity() * sizeof(std::uint64_t) + _incoming.capacity() * sizeof(Incoming);
}

std::uint32_t CustomerAccumulator::find_or_add_customer(std::string_view id, std::uint64_t hash) {
  // The index has room: absorb() reserved it for the round.
  const std::size_t mask = _customer_index.size() - 1;
  std::size_t slot = hash & mask;
  while (_customer_index[slot] != 0) {
    const std::uint32_t c = _customer_index[slot] - 1;
    if (_customers[c].hash == hash && same_bytes(customer_id(_customers[c]), id)) return c;
    slot = (slot + 1) & mask;
  }
  check_index_room(_customers.size(), "customers");
  const auto c = static_cast<std::uint32_t>(_customers.size());
  _customer_index[slot] = c + 1;
  const std::uint32_t offset = offset32(_customer_text.append_contiguous(id.data(), id.size()), "customer ids");
  _customers.push_back({0, hash, 0, offset, INT32_MIN, static_cast<std::uint32_t>(id.size())});
  return c;
}

bool CustomerAccumulator::seen(const Group& group, std::uint64_t key) const {
  const auto in_run = [&](std::uint32_t offset, std::uint32_t count) {
    if (count == 0) return false;
    const std::uint64_t* keys = &_keys[offset];
    return std::binary_search(keys, keys + count, key);
  };
  if (in_run(group.key_offset, group.key_count)) return true;
  for (std::uint32_t r = group.more_runs; r != none; r = _runs[r].next)
    if (in_run(_runs[r].key_offset, _runs[r].key_count)) return true;
  return false;
}

void CustomerAccumulator::store_keys(Group& group, const std::vector<std::uint64_t>& keys) {
  // Runs never cross a block of `_keys`, so each can be binary-searched as one array.
  std::size_t done = 0;
  while (done < keys.size()) {
    const std::size_t n = std::min(keys.size() - done, decltype(_keys)::block_size);
    const std::uint32_t offset =
        offset32(_keys.append_contiguous(keys.data() + done, n), "dedup keys (distinct lines)");
    if (group.key_count == 0 && group.more_runs == none) {
      group.key_offset = offset;
      group.key_count = static_cast<std::uint32_t>(n);
    } else {
      check_index_room(_runs.size(), "key runs");
      _runs.push_back({offset, static_cast<std::uint32_t>(n), group.more_runs});
      group.more_runs = static_cast<std::uint32_t>(_runs.size() - 1);
    }
    done += n;
  }
}

void CustomerAccumulator::reserve_groups(std::size_t more) {
  // Up to 70 % full: the index is ~14 bytes per group on average. A slot is the hash's upper 32
  // bits (the tag) and the group index + 1; the home position is the hash's top bits, so moving
  // to a larger table needs only the tags, never the groups (which are far apart in memory).
  int bits = std::max(_group_bits, 10);
  while (10 * (_groups.size() + more + 1) > 7 * (std::size_t{1} << bits)) ++bits;
  if (bits == _group_bits) return;
  if (bits > 32) throw std::runtime_error("more than 3 billion invoice groups on one rank: use more ranks");
  std::vector<std::uint64_t> grown(std::size_t{1} << bits, 0);
  const std::size_t mask = grown.size() - 1;
  for (const std::uint64_t entry : _group_index) {
    if (entry == 0) continue;
    std::size_t slot = static_cast<std::size_t>((entry >> 32) >> (32 - bits));
    while (grown[slot] != 0) slot = (slot + 1) & mask;
    grown[slot] = entry;
  }
  _group_index = std::move(grown);
  _group_bits = bits;
}

void CustomerAccumulator::absorb(std::span<const char> wire, CleaningCounters& counters) {
  // Pass 1: the group headers and hashes. The tables are far larger than the caches, so each
  // lookup is a few cache misses; knowing the hashes ahead lets pass 2 prefetch them.
  _incoming.clear();
  WireReader reader(wire);
  while (!reader.at_end()) {
    const auto offset = static_cast<std::size_t>(reader.position() - wire.data());
    const WireGroup in = reader.group();
    reader.skip_lines(in.lines);
    const std::uint64_t customer_hash = hash_bytes(in.customer);
    _incoming.push_back({customer_hash, group_hash(customer_hash, in.invoice, in.day), offset});
  }
  // No index grows during pass 2 (prefetched slots stay valid).
  reserve_groups(_incoming.size());
  grow_index(_customer_index, _customers.size(), _customers.size() + _incoming.size(),
             [&](std::size_t i) { return _customers[i].hash; });
  const std::size_t mask = _group_index.size() - 1;
  const int shift = 64 - _group_bits;
  const std::size_t customer_mask = _customer_index.size() - 1;
  constexpr std::size_t ahead = 16;
  for (std::size_t i = 0; i < _incoming.size(); ++i) {
    if (i + ahead < _incoming.size()) {
      __builtin_prefetch(&_group_index[_incoming[i + ahead].hash >> shift]);
      __builtin_prefetch(&_customer_index[_incoming[i + ahead].customer_hash & customer_mask]);
    }
    if (i + ahead / 2 < _incoming.size()) {
      const std::uint32_t c = _customer_index[_incoming[i + ahead / 2].customer_hash & customer_mask];
      if (c != 0) __builtin_prefetch(&_customers[c - 1]);
    }
    const Incoming& item = _incoming[i];
    WireReader lines(wire.subspan(item.offset));
    const WireGroup in = lines.group();  // decoded again: cheaper than keeping every header
    const std::uint64_t hash = item.hash;
    // Slots carry the hash's upper half: most probes end without touching a group.
    std::size_t slot = static_cast<std::size_t>(hash >> shift);
    std::uint32_t g = none;
    while (_group_index[slot] != 0) {
      if ((_group_index[slot] & tag_mask) == (hash & tag_mask)) {
        const auto candidate = static_cast<std::uint32_t>((_group_index[slot] & ~tag_mask) - 1);
        const Group& group = _groups[candidate];
        if (group.day == in.day && same_bytes(invoice(group), in.invoice) &&
            same_bytes(customer_id(_customers[group.customer]), in.customer)) {
          g = candidate;
          break;
        }
      }
      slot = (slot + 1) & mask;
    }
    const bool known = g != none;
    if (!known) {
      check_index_room(_groups.size(), "invoice groups");
      const std::uint32_t c = find_or_add_customer(in.customer, item.customer_hash);
      g = static_cast<std::uint32_t>(_groups.size());
      _group_index[slot] = (hash & tag_mask) | (g + 1);
      if (in.invoice.size() > 0xffff) throw std::runtime_error("shuffle: invoice longer than 65535 bytes");
      const std::uint32_t invoice_offset =
          offset32(_invoice_text.append_contiguous(in.invoice.data(), in.invoice.size()), "invoice ids");
      _groups.push_back({c, invoice_offset, 0, 0, none, in.day, static_cast<std::uint16_t>(in.invoice.size()), false});
    }
    Group& group = _groups[g];
    Customer& customer = _customers[group.customer];
    // A sender's lines are distinct and sorted; a known group may have some of them already (a
    // copy of the line came from another reader or an earlier round): those are duplicates.
    _accepted.clear();
    for (std::uint32_t l = 0; l < in.lines; ++l) {
      const WireLine line = lines.line();
      if (known && seen(group, line.key)) {
        ++counters[Fate::duplicate];
        continue;
      }
      _accepted.push_back(line.key);
      ++counters[line.fate];
      switch (line.fate) {
        case Fate::kept:
          ++customer.kept_lines;
          customer.money += line.value;
          customer.last_day = std::max(customer.last_day, in.day);
          group.kept = true;
          break;
        case Fate::cancellation:
          if (_cancellations == CancellationPolicy::net) customer.money += line.value;  // signed: a return subtracts
          break;
        default: break;
      }
    }
    store_keys(group, _accepted);
  }
  _incoming.clear();
}

CustomerTable CustomerAccumulator::finish(FrequencyMode frequency) {
  std::vector<std::int64_t> count(_customers.size(), 0);
  if (frequency == FrequencyMode::invoices || frequency == FrequencyMode::days) {
    // Distinct invoices (or days) with a kept line per customer: sort (customer, invoice hash or
    // day) keys of the kept groups — groups are read in storage order, so collecting them is a
    // sequential pass — and count distinct neighbours; equal invoice hashes are confirmed byte by
    // byte, so the count is exact.
    const bool by_day = frequency == FrequencyMode::days;
    // Key: customer index in the upper half, the day or the invoice hash's upper half below.
    std::vector<std::pair<std::uint64_t, std::uint32_t>> items;
    for (std::uint32_t g = 0; g < _groups.size(); ++g) {
      const Group& group = _groups[g];
      if (!group.kept) continue;
      const std::uint64_t low = by_day ? static_cast<std::uint32_t>(group.day) : hash_bytes(invoice(group), 0x1d) >> 32;
      items.emplace_back((static_cast<std::uint64_t>(group.customer) << 32) | low, g);
    }
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string_view> same_key;
    for (std::size_t i = 0; i < items.size();) {
      std::size_t j = i + 1;
      while (j < items.size() && items[j].first == items[i].first) ++j;
      std::int64_t distinct = 1;
      if (!by_day && j - i > 1) {
        // Several groups of one invoice (other days), or equal 32-bit hashes: compare the bytes.
        same_key.clear();
        for (std::size_t k = i; k < j; ++k) same_key.push_back(invoice(_groups[items[k].second]));
        std::sort(same_key.begin(), same_key.end());
        distinct = std::unique(same_key.begin(), same_key.end()) - same_key.begin();
      }
      count[items[i].first >> 32] += distinct;
      i = j;
    }
  }
  CustomerTable table;
  std::size_t rows = 0;
  for (std::uint32_t c = 0; c < _customers.size(); ++c) rows += _customers[c].kept_lines > 0;
  table.id.reserve(rows);
  table.last_day.reserve(rows);
  table.recency.reserve(rows);
  table.frequency.reserve(rows);
  table.monetary_micros.reserve(rows);
  table.monetary.reserve(rows);
  for (std::uint32_t c = 0; c < _customers.size(); ++c) {
    const Customer& customer = _customers[c];
    if (customer.kept_lines == 0) continue;
    table.id.emplace_back(customer_id(customer));
    table.last_day.push_back(customer.last_day);
    table.recency.push_back(0);
    table.frequency.push_back(
        frequency == FrequencyMode::invoices || frequency == FrequencyMode::days ? count[c] : customer.kept_lines);
    table.monetary_micros.push_back(customer.money);
    table.monetary.push_back(micros_to_units(customer.money));
  }
  *this = CustomerAccumulator(_cancellations);
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
