#include "rfmseg/parallel/partition.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "rfmseg/core/hash.hpp"

namespace rfmseg {

namespace {

// Owner-side fates on the wire (2 bits).
constexpr std::uint8_t fate_code(Fate fate) {
  switch (fate) {
    case Fate::cancellation: return 1;
    case Fate::zero_quantity: return 2;
    case Fate::nonpositive_price: return 3;
    default: return 0;  // kept
  }
}
constexpr Fate fate_of_code(unsigned code) {
  constexpr Fate fates[] = {Fate::kept, Fate::cancellation, Fate::zero_quantity, Fate::nonpositive_price};
  return fates[code & 3];
}

// LEB128: 7 bits a byte, low bits first. At most 19 bytes for 128 bits.
inline char* put_varint(char* at, uint128_t value) {
  while (value >= 0x80) {
    *at++ = static_cast<char>(static_cast<unsigned>(value & 0x7f) | 0x80);
    value >>= 7;
  }
  *at++ = static_cast<char>(value);
  return at;
}
inline uint128_t zigzag(int128_t v) { return (static_cast<uint128_t>(v) << 1) ^ static_cast<uint128_t>(v >> 127); }
inline int128_t unzigzag(uint128_t u) { return static_cast<int128_t>(u >> 1) ^ -static_cast<int128_t>(u & 1); }

struct PendingLine {
  std::uint64_t key;
  std::uint8_t code;
  int128_t value;
};

}  // namespace

std::size_t encode_for_owners(const CombinedBatch& batch, int ranks, std::vector<char>& send,
                              std::vector<std::size_t>& bytes_for, CleaningCounters& counters, ShuffleStats& stats) {
  const auto p = static_cast<std::size_t>(ranks);
  const auto& groups = batch.groups();
  // Groups by owner rank (counting sort, stable): the send buffer is one block per destination.
  std::vector<std::uint32_t> owner(groups.size());
  std::vector<std::size_t> start(p + 1, 0);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    owner[g] = static_cast<std::uint32_t>(owner_rank(groups[g].customer_hash, ranks));
    ++start[owner[g] + 1];
  }
  for (std::size_t r = 0; r < p; ++r) start[r + 1] += start[r];
  std::vector<std::uint32_t> order(groups.size());
  {
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t g = 0; g < groups.size(); ++g) order[fill[owner[g]]++] = static_cast<std::uint32_t>(g);
  }
  bytes_for.assign(p, 0);
  std::vector<PendingLine> lines;
  std::size_t used = 0;
  for (std::size_t r = 0; r < p; ++r) {
    const std::size_t before = used;
    for (std::size_t i = start[r]; i < start[r + 1]; ++i) {
      const auto& group = groups[order[i]];
      lines.clear();
      for (std::uint32_t l = group.first_line; l != CombinedBatch::none; l = batch.line(l).next) {
        const auto& line = batch.line(l);
        lines.push_back({line.key, fate_code(line.fate), batch.value(line)});
      }
      // Sorted keys let the owner search them; equal neighbours are copies of one line.
      if (lines.size() > 1)
        std::sort(lines.begin(), lines.end(), [](const PendingLine& a, const PendingLine& b) {
          if (a.key != b.key) return a.key < b.key;
          if (a.code != b.code) return a.code < b.code;
          return a.value < b.value;
        });
      std::size_t unique = 0;
      for (std::size_t k = 0; k < lines.size(); ++k) {
        if (unique > 0 && lines[unique - 1].key == lines[k].key && lines[unique - 1].code == lines[k].code &&
            lines[unique - 1].value == lines[k].value) {
          ++counters[Fate::duplicate];
          continue;
        }
        lines[unique++] = lines[k];
      }
      const std::string_view customer = batch.customer(group);
      const std::string_view invoice = batch.invoice(group);
      const std::size_t most = 4 * 19 + customer.size() + invoice.size() + unique * (8 + 19);
      if (send.size() < used + most) send.resize(std::max(used + most, send.size() * 2));
      char* at = send.data() + used;
      at = put_varint(at, customer.size());
      std::memcpy(at, customer.data(), customer.size());
      at += customer.size();
      at = put_varint(at, invoice.size());
      std::memcpy(at, invoice.data(), invoice.size());
      at += invoice.size();
      at = put_varint(at, zigzag(group.day));
      at = put_varint(at, unique);
      for (std::size_t k = 0; k < unique; ++k) {
        std::memcpy(at, &lines[k].key, 8);
        at = put_varint(at + 8, (zigzag(lines[k].value) << 2) | lines[k].code);
      }
      used = static_cast<std::size_t>(at - send.data());
      stats.lines_sent += unique;
    }
    bytes_for[r] = used - before;
  }
  stats.groups_sent += groups.size();
  return used;
}

std::vector<char> exchange_to_owners(const mpi::Comm& comm, const CombinedBatch& batch, CleaningCounters& counters,
                                     ShuffleStats& stats, std::vector<char>& send) {
  std::vector<std::size_t> bytes_for;
  const std::size_t used = encode_for_owners(batch, comm.size(), send, bytes_for, counters, stats);
  stats.bytes_sent += used - bytes_for[static_cast<std::size_t>(comm.rank())];
  ++stats.rounds;
  return mpi::alltoallv<char>(comm, std::span<const char>(send.data(), used), bytes_for);
}

uint128_t WireReader::varint() {
  uint128_t value = 0;
  for (int shift = 0; shift < 128; shift += 7) {
    if (_pos == _end) throw std::runtime_error("shuffle: truncated group record");
    const auto byte = static_cast<unsigned char>(*_pos++);
    value |= static_cast<uint128_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  throw std::runtime_error("shuffle: malformed varint");
}

WireGroup WireReader::group() {
  WireGroup g;
  const auto text = [&](std::string_view& into) {
    const uint128_t length = varint();
    if (length > static_cast<uint128_t>(_end - _pos)) throw std::runtime_error("shuffle: truncated group record");
    into = {_pos, static_cast<std::size_t>(length)};
    _pos += static_cast<std::size_t>(length);
  };
  text(g.customer);
  text(g.invoice);
  g.day = static_cast<std::int32_t>(unzigzag(varint()));
  g.lines = static_cast<std::uint32_t>(varint());
  return g;
}

void WireReader::skip_lines(std::uint32_t count) {
  for (std::uint32_t l = 0; l < count; ++l) {
    if (_end - _pos < 8) throw std::runtime_error("shuffle: truncated line record");
    _pos += 8;
    (void)varint();
  }
}

WireLine WireReader::line() {
  WireLine l;
  if (_end - _pos < 8) throw std::runtime_error("shuffle: truncated line record");
  std::memcpy(&l.key, _pos, 8);
  _pos += 8;
  const uint128_t tag = varint();
  l.fate = fate_of_code(static_cast<unsigned>(tag & 3));
  l.value = unzigzag(tag >> 2);
  return l;
}

}  // namespace rfmseg
