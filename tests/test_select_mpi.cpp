// Exact distributed selection (parallel/select.hpp): order-preserving keys, and every order
// statistic of a key list with ties and both ends of the key space, for any rank count.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "rfmseg/parallel/select.hpp"

using namespace rfmseg;

TEST(SelectKeys, order_keys_preserve_order_and_round_trip) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> doubles{-inf,
                                    -1e300,
                                    -2.5,
                                    -1.0,
                                    -std::numeric_limits<double>::denorm_min(),
                                    0.0,
                                    std::numeric_limits<double>::denorm_min(),
                                    1e-300,
                                    1.0,
                                    99.99,
                                    1e300,
                                    inf};
  for (std::size_t i = 0; i + 1 < doubles.size(); ++i) {
    EXPECT_LT(order_key(doubles[i]), order_key(doubles[i + 1])) << doubles[i] << " < " << doubles[i + 1];
  }
  for (double v : doubles) EXPECT_EQ(decode_double(order_key(v)), v);
  EXPECT_EQ(order_key(-0.0), order_key(0.0));
  EXPECT_FALSE(std::signbit(decode_double(order_key(-0.0))));

  const std::vector<std::int64_t> ints{std::numeric_limits<std::int64_t>::min(), -5, -1, 0, 1, 5,
                                       std::numeric_limits<std::int64_t>::max()};
  for (std::size_t i = 0; i + 1 < ints.size(); ++i) EXPECT_LT(order_key(ints[i]), order_key(ints[i + 1]));
  for (auto v : ints) EXPECT_EQ(decode_int64(order_key(v)), v);
}

TEST(Select, every_order_statistic_with_ties_and_extremes) {
  const auto comm = mpi::Comm::world();
  // A global key list with duplicates and both ends of the key space; each rank takes a block.
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> global;
  for (int i = 0; i < 1500; ++i) global.push_back(rng());
  for (int i = 0; i < 300; ++i) global.push_back(rng() % 5);  // heavy ties at the bottom
  for (int i = 0; i < 50; ++i) global.push_back(std::numeric_limits<std::uint64_t>::max());
  global.push_back(0);
  const auto n = global.size(), p = static_cast<std::size_t>(comm.size()), r = static_cast<std::size_t>(comm.rank());
  std::vector<std::uint64_t> local(global.begin() + static_cast<std::ptrdiff_t>(r * n / p),
                                   global.begin() + static_cast<std::ptrdiff_t>((r + 1) * n / p));
  std::sort(local.begin(), local.end());
  std::vector<std::uint64_t> empty;  // a second query whose keys all sit on the last rank
  const std::vector<std::uint64_t> last_only{3, 3, 9};
  std::sort(global.begin(), global.end());

  std::vector<SelectionQuery> queries(2);
  queries[0].sorted_keys = local;
  for (std::uint64_t k = 1; k <= n; k += 13) queries[0].ranks.push_back(k);
  queries[0].ranks.push_back(n);
  queries[0].ranks.push_back(n - 49);
  queries[1].sorted_keys =
      r + 1 == p ? std::span<const std::uint64_t>(last_only) : std::span<const std::uint64_t>(empty);
  queries[1].ranks = {1, 2, 3};
  const auto got = global_select(comm, queries);
  ASSERT_EQ(got.size(), 2u);  // same on every rank: no collective can be skipped
  ASSERT_EQ(got[0].size(), queries[0].ranks.size());
  for (std::size_t t = 0; t < got[0].size(); ++t) EXPECT_EQ(got[0][t], global[queries[0].ranks[t] - 1]);
  EXPECT_EQ(got[1], (std::vector<std::uint64_t>{3, 3, 9}));

  queries[1].ranks = {4};
  EXPECT_THROW((void)global_select(comm, queries), std::invalid_argument);
}
