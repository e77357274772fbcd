#include "rfmseg/parallel/select.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

namespace rfmseg {

// ---------------------------------------------------------------- keys

namespace {
constexpr std::uint64_t sign_bit = std::uint64_t{1} << 63;
}  // namespace

std::uint64_t order_key(std::int64_t value) noexcept { return std::bit_cast<std::uint64_t>(value) ^ sign_bit; }

std::uint64_t order_key(double value) noexcept {
  if (value == 0) value = 0.0;  // fold -0.0 onto +0.0
  const auto bits = std::bit_cast<std::uint64_t>(value);
  // Negative doubles order backwards by their bits: flip all; positive ones sit above: set the sign.
  return (bits & sign_bit) ? ~bits : bits | sign_bit;
}

std::int64_t decode_int64(std::uint64_t key) noexcept { return std::bit_cast<std::int64_t>(key ^ sign_bit); }

double decode_double(std::uint64_t key) noexcept {
  return std::bit_cast<double>((key & sign_bit) ? key ^ sign_bit : ~key);
}

// ---------------------------------------------------------------- selection

namespace {

constexpr int radix_bits = 8;
constexpr std::size_t buckets = std::size_t{1} << radix_bits;
constexpr int rounds = 64 / radix_bits;

// The search state of one wanted rank: the keys still in play are those whose top `resolved` bits
// equal `prefix`; `below` counts (globally) the keys under that range.
struct Search {
  std::size_t query = 0;
  std::uint64_t rank = 0;
  std::uint64_t prefix = 0;
  int resolved = 0;
  std::uint64_t below = 0;
};

// Local histogram of the keys inside `s`'s range over the next `radix_bits` bits, into `out`.
void local_histogram(std::span<const std::uint64_t> keys, const Search& s, std::span<std::uint64_t> out) {
  const int width_bits = 64 - s.resolved - radix_bits;  // bits below the bucket digit
  const std::uint64_t base = s.resolved == 0 ? 0 : s.prefix << (64 - s.resolved);
  auto first = std::lower_bound(keys.begin(), keys.end(), base);
  for (std::size_t j = 0; j < buckets; ++j) {
    // Upper end of bucket j; the last bucket of the last range ends at 2^64 (no overflow).
    auto last = keys.end();
    const bool is_top = j + 1 == buckets && (s.resolved == 0 || (s.prefix + 1) << (64 - s.resolved) == 0);
    if (!is_top) {
      const std::uint64_t end = base + (static_cast<std::uint64_t>(j + 1) << width_bits);
      last = std::lower_bound(first, keys.end(), end);
    }
    out[j] = static_cast<std::uint64_t>(last - first);
    first = last;
  }
}

}  // namespace

std::vector<std::vector<std::uint64_t>> global_select(const mpi::Comm& comm, std::span<const SelectionQuery> queries) {
  std::vector<std::uint64_t> totals(queries.size());
  for (std::size_t q = 0; q < queries.size(); ++q) totals[q] = queries[q].sorted_keys.size();
  totals = mpi::allreduce(comm, std::move(totals), mpi::Op::sum);

  std::vector<Search> searches;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    for (auto rank : queries[q].ranks) {
      // Ranks are the same on every rank and totals are reduced: every rank throws or none does.
      if (rank < 1 || rank > totals[q]) {
        throw std::invalid_argument("global_select: rank " + std::to_string(rank) + " outside 1.." +
                                    std::to_string(totals[q]));
      }
      searches.push_back(Search{q, rank, 0, 0, 0});
    }
  }

  std::vector<std::uint64_t> histogram(searches.size() * buckets);
  for (int round = 0; round < rounds && !searches.empty(); ++round) {
    for (std::size_t t = 0; t < searches.size(); ++t) {
      local_histogram(queries[searches[t].query].sorted_keys, searches[t],
                      std::span<std::uint64_t>(histogram).subspan(t * buckets, buckets));
    }
    histogram = mpi::allreduce(comm, std::move(histogram), mpi::Op::sum);
    for (std::size_t t = 0; t < searches.size(); ++t) {
      Search& s = searches[t];
      std::size_t j = 0;
      // Invariant: below < rank ≤ below + (keys in range), so some bucket reaches the rank.
      while (s.below + histogram[t * buckets + j] < s.rank) s.below += histogram[t * buckets + j++];
      s.prefix = (s.prefix << radix_bits) | j;
      s.resolved += radix_bits;
    }
  }

  std::vector<std::vector<std::uint64_t>> result(queries.size());
  for (const auto& s : searches) result[s.query].push_back(s.prefix);
  return result;
}

}  // namespace rfmseg
