#pragma once
// Exact distributed order statistics: the k-th smallest of values spread over the ranks, with
// no value leaving its rank and every decision taken from reduced counts, so the answer is the
// same for any partition of the values.
//
// Each value maps to an order-preserving 64-bit key (integers: the sign bit flipped; doubles: the
// IEEE bits with the sign handled, -0.0 folded onto +0.0). The k-th smallest key over all ranks is
// found by radix refinement: 8 rounds, each one allreduce of a 256-bucket histogram (per wanted
// rank) of the keys inside the current prefix; the bucket holding rank k fixes the next 8 bits.

#include <cstdint>
#include <span>
#include <vector>

#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Order-preserving key of an integer: a < b ⇔ order_key(a) < order_key(b).
[[nodiscard]] std::uint64_t order_key(std::int64_t value) noexcept;
/// Order-preserving key of a non-NaN double; -0.0 and +0.0 get the same key (they compare equal).
[[nodiscard]] std::uint64_t order_key(double value) noexcept;
/// Inverses of order_key (decode_double(order_key(-0.0)) is +0.0).
[[nodiscard]] std::int64_t decode_int64(std::uint64_t key) noexcept;
[[nodiscard]] double decode_double(std::uint64_t key) noexcept;

/// One selection problem: this rank's keys, sorted ascending, and the 1-based global ranks
/// wanted from them (the same ranks on every rank, each in 1..n with n the global key count).
struct SelectionQuery {
  std::span<const std::uint64_t> sorted_keys;
  std::vector<std::uint64_t> ranks;
};

/// Collective: result[q][t] = the key of global rank queries[q].ranks[t] (k-th smallest, counted
/// with multiplicity) over the union of every rank's queries[q].sorted_keys. All queries are
/// answered together in 8 allreduces; no key leaves its rank. Throws std::invalid_argument (on
/// every rank) for a rank outside 1..n.
[[nodiscard]] std::vector<std::vector<std::uint64_t>> global_select(const mpi::Comm& comm,
                                                                    std::span<const SelectionQuery> queries);

}  // namespace rfmseg
