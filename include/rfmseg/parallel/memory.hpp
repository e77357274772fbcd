#pragma once
// The memory budget per rank (--max-memory-per-rank). "auto" resolves to a share of the node's
// memory (physical memory, lowered by a cgroup limit) divided among the ranks on the node. Under a
// budget the ingest sizes its rounds so that what the rank holds across rounds (the owner's
// aggregated customers and dedup keys) plus one round's working set (read buffer, combined batch,
// send and receive buffers) stays within it; when the data cannot fit, the job stops on every
// rank with a clear error instead of being killed by the OOM killer. The budget covers rfmseg's
// data, not the MPI runtime and the libraries (a few tens of MB per rank).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rfmseg/core/config.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Share of the node's memory that "auto" gives the ranks of a node together.
inline constexpr double auto_memory_fraction = 0.6;

/// A cgroup memory limit file's content ("max", or a byte count) as bytes; nullopt when there is
/// no limit or the text is not a number.
[[nodiscard]] std::optional<std::uint64_t> parse_memory_limit(std::string_view text);

/// Memory of this node: physical memory, or the cgroup limit when lower (cgroup v2
/// /sys/fs/cgroup/memory.max, else v1 /sys/fs/cgroup/memory/memory.limit_in_bytes).
[[nodiscard]] std::uint64_t node_memory_bytes();

/// The "auto" budget of one rank: auto_memory_fraction of `node_bytes`, divided by the ranks on the node.
[[nodiscard]] std::uint64_t auto_memory_budget(std::uint64_t node_bytes, int ranks_on_node);

/// Collective: the budget per rank in bytes (0 = no limit): --max-memory-per-rank as given, or for
/// "auto" this node's share (ranks on the node counted with MPI_Comm_split_type(SHARED)).
[[nodiscard]] std::uint64_t resolve_memory_budget(const mpi::Comm& comm, const InputConfig& config);

/// "1.5 GiB", "16.0 MiB", "512 B".
[[nodiscard]] std::string format_bytes(std::uint64_t bytes);

/// Sizes the ingest rounds under a budget. Pure (no MPI): the caller agrees on failures.
class IngestBudget {
 public:
  /// Smallest round worth doing (a round also needs at least one whole record).
  static constexpr std::uint64_t min_chunk_bytes = 64u << 10;
  /// Largest round, whatever --chunk-size allows: a round's combined batch and its send and
  /// receive buffers then stay a few MB, reused from round to round (warm in cache, no fresh
  /// pages to fault in), at the price of one more pair of collectives per 8 MiB read.
  static constexpr std::uint64_t max_round_bytes = 8u << 20;
  /// Working bytes per chunk byte assumed before the first round is measured.
  static constexpr double initial_working_factor = 3.0;
  /// Headroom on the measured factor: buffers grow geometrically, so capacity can exceed use.
  static constexpr double capacity_slack = 1.5;

  /// `budget_bytes` 0 = no limit; `chunk_upper_bytes` = --chunk-size.
  IngestBudget(std::uint64_t budget_bytes, std::uint64_t chunk_upper_bytes)
      : _budget(budget_bytes), _upper(std::clamp<std::uint64_t>(chunk_upper_bytes, 1, max_round_bytes)) {}
  [[nodiscard]] bool limited() const { return _budget != 0; }
  [[nodiscard]] std::uint64_t budget() const { return _budget; }
  /// Bytes to parse in the next round while `held_bytes` are held across rounds: as much as the
  /// budget leaves for the round's working set, at most --chunk-size (and max_round_bytes), at
  /// least min_chunk_bytes.
  [[nodiscard]] std::uint64_t next_chunk(std::uint64_t held_bytes) const;
  /// Learns from a round that parsed `chunk_bytes` and used `working_bytes` besides what is held
  /// (sizes, not capacities). The largest ratio seen counts: rounds differ (short lines, many
  /// small groups) and the budget must hold for the worst.
  void observe(std::uint64_t chunk_bytes, std::uint64_t working_bytes);
  /// Working set of the smallest round.
  [[nodiscard]] std::uint64_t minimum_working_bytes() const;
  /// Whether a further round fits next to `held_bytes`.
  [[nodiscard]] bool fits(std::uint64_t held_bytes) const {
    return !limited() || held_bytes + minimum_working_bytes() <= _budget;
  }
  /// Working bytes per chunk byte used for sizing.
  [[nodiscard]] double working_factor() const {
    return _measured > 0 ? _measured * capacity_slack : initial_working_factor;
  }

 private:
  std::uint64_t _budget;
  std::uint64_t _upper;
  double _measured = 0;
};

}  // namespace rfmseg
