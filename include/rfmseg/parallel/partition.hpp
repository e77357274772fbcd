#pragma once
// Stage 2 — partition. Every combined group of a reader round (CombinedBatch: one per customer,
// invoice and day) goes to the rank that owns its customer (owner_rank(hash(customer id))), in one
// MPI_Alltoallv per round, so all lines of a customer end on one rank and duplicate removal and
// RFM are local. On the wire a group is its ids and day once, then per distinct line only the
// 64-bit dedup key and one varint (owner-side fate and value): a few bytes per line instead of
// the whole parsed record.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rfmseg/core/int128.hpp"
#include "rfmseg/io/ingest.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

struct ShuffleStats {
  std::uint64_t bytes_sent = 0;  ///< to other ranks
  std::uint64_t groups_sent = 0;
  std::uint64_t lines_sent = 0;
  std::uint64_t rounds = 0;
};

/// Collective: encodes each group of `batch` for the rank that owns its customer, dropping lines
/// repeated within the group (counted as `duplicate` in `counters`: they are byte-identical to a
/// line that is still sent), exchanges the groups in one MPI_Alltoallv and returns the encoded
/// groups this rank received (decode them with WireReader). `send` is scratch kept by the caller
/// so its memory is reused from round to round.
[[nodiscard]] std::vector<char> exchange_to_owners(const mpi::Comm& comm, const CombinedBatch& batch,
                                                   CleaningCounters& counters, ShuffleStats& stats,
                                                   std::vector<char>& send);

/// Local, MPI-free: the encoding of exchange_to_owners for `ranks` ranks. `send` gets the groups
/// for rank 0, then rank 1, ...; `bytes_for[r]` their sizes. Returns the bytes written: `send`
/// only grows (its size is a high-water mark, so rounds do not zero-fill it again).
std::size_t encode_for_owners(const CombinedBatch& batch, int ranks, std::vector<char>& send,
                              std::vector<std::size_t>& bytes_for, CleaningCounters& counters, ShuffleStats& stats);

/// One encoded group: the ids are views into the wire buffer.
struct WireGroup {
  std::string_view customer;
  std::string_view invoice;
  std::int32_t day = 0;
  std::uint32_t lines = 0;  ///< distinct lines that follow, ordered by (key, fate, value)
};

/// One encoded line of a group.
struct WireLine {
  std::uint64_t key = 0;
  Fate fate = Fate::kept;  ///< cancellation, zero_quantity, nonpositive_price or kept
  int128_t value = 0;      ///< quantity x price in micro-units (0 where the owner does not need it)
  friend bool operator==(const WireLine&, const WireLine&) = default;
};

/// Sequential decoder of received groups: group(), then line() exactly `lines` times, until
/// at_end(). Throws std::runtime_error on a malformed buffer (an internal error).
class WireReader {
 public:
  explicit WireReader(std::span<const char> bytes) : _pos(bytes.data()), _end(bytes.data() + bytes.size()) {}
  [[nodiscard]] bool at_end() const { return _pos == _end; }
  [[nodiscard]] WireGroup group();
  [[nodiscard]] WireLine line();
  /// Skips `count` lines (to come back to them later from position()).
  void skip_lines(std::uint32_t count);
  [[nodiscard]] const char* position() const { return _pos; }

 private:
  uint128_t varint();
  const char* _pos;
  const char* _end;
};

}  // namespace rfmseg
