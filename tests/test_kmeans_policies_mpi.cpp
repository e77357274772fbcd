// Each K-means policy alone (kmeans/policies.hpp), under every rank count: an init policy gives the
// same centroids as on one rank; LloydStep and HamerlyStep give the same labels and exact sums,
// and the reduced sums equal one rank's; FarthestPoint fills the empty clusters with the farthest
// points, ties by global row; the driver runs any step and empty-cluster policy types.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/model/kmeans/driver.hpp"
#include "rfmseg/model/kmeans/empty_cluster.hpp"
#include "rfmseg/model/kmeans/init.hpp"
#include "rfmseg/model/kmeans/kdtree.hpp"
#include "rfmseg/model/kmeans/steps.hpp"
#include "rfmseg/model/scale.hpp"

using namespace rfmseg;

namespace {

/// All rows of a test data set (the same on every rank) and one key per row.
struct Points {
  Features features;
  std::vector<std::uint64_t> keys;
  void add(double x, double y, double z) {
    const auto row = keys.size();
    features.column[0].push_back(x);
    features.column[1].push_back(y);
    features.column[2].push_back(z);
    keys.push_back(hash_bytes("customer" + std::to_string(row)));
  }
};

/// Three overlapping clouds (sums of uniforms) plus an integer lattice where every point appears
/// twice (ties between centroids everywhere), on a grid of 2^-20.
Points clouds_and_lattice() {
  Points p;
  const double centers[3][3] = {{0, 0, 0}, {1.5, 0.5, -1}, {-1, 1.5, 0.5}};
  for (std::uint64_t i = 0; i < 1200; ++i) {
    double x[3];
    for (std::uint64_t d = 0; d < 3; ++d) {
      double s = 0;
      for (std::uint64_t t = 0; t < 4; ++t) s += unit_open(random_word(11, d * 4 + t, i));
      x[d] = std::ldexp(std::nearbyint(std::ldexp(centers[i % 3][d] + (s - 2.0), 20)), -20);
    }
    p.add(x[0], x[1], x[2]);
  }
  for (int copy = 0; copy < 2; ++copy)
    for (int a = -2; a <= 2; ++a)
      for (int b = -2; b <= 2; ++b)
        for (int c = -2; c <= 2; ++c) p.add(a, b, c);
  return p;
}

/// This rank's block of `all` (skewed: rank 0 holds little, the last rank most) as KMeansData.
struct LocalPart {
  Features features;
  std::vector<std::uint64_t> keys;
  std::uint64_t first_row = 0;
  int grid_exponent = 0;
  [[nodiscard]] KMeansData data() const { return KMeansData{features, keys, first_row, grid_exponent}; }
};

LocalPart part_of(const mpi::Comm& comm, const Points& all, bool skew) {
  const std::size_t n = all.keys.size();
  const auto p = static_cast<std::size_t>(comm.size()), r = static_cast<std::size_t>(comm.rank());
  auto boundary = [&](std::size_t q) { return skew && q != 0 && q != p ? std::min(n, q * n / p / 3 + 1) : q * n / p; };
  const std::size_t first = boundary(r), last = boundary(r + 1);
  LocalPart part;
  for (std::size_t d = 0; d < feature_count; ++d)
    part.features.column[d].assign(all.features.column[d].begin() + static_cast<std::ptrdiff_t>(first),
                                   all.features.column[d].begin() + static_cast<std::ptrdiff_t>(last));
  part.keys.assign(all.keys.begin() + static_cast<std::ptrdiff_t>(first),
                   all.keys.begin() + static_cast<std::ptrdiff_t>(last));
  part.first_row = first;
  part.grid_exponent = snap_to_grid(comm, part.features);
  return part;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// One comm of size 1 per process: a policy run on it over all rows is the one-rank result.
mpi::Comm self_comm() { return mpi::Comm(MPI_COMM_SELF); }

}  // namespace

// ---------------------------------------------------------------- init policies

template <class Policy>
class KMeansInit : public ::testing::Test {};
using InitPolicies = ::testing::Types<kmeans::KMeansPlusPlus, kmeans::KMeansParallel<>, kmeans::RandomSample>;
TYPED_TEST_SUITE(KMeansInit, InitPolicies);

TYPED_TEST(KMeansInit, same_centroids_for_any_rank_count) {
  const auto world = mpi::Comm::world();
  const auto self = self_comm();
  const Points all = clouds_and_lattice();
  const TypeParam policy{};
  for (const bool skew : {false, true}) {
    const LocalPart mine = part_of(world, all, skew);
    const LocalPart whole = part_of(self, all, false);
    const KMeansData data = mine.data(), one_rank = whole.data();
    for (int k : {1, 3, 8}) {
      for (int restart : {0, 2}) {
        SCOPED_TRACE("k " + std::to_string(k) + ", restart " + std::to_string(restart) + (skew ? ", skewed" : ""));
        const kmeans::Centroids got = policy.initialize(kmeans::Context{world, data, k, 42, restart});
        const kmeans::Centroids want = policy.initialize(kmeans::Context{self, one_rank, k, 42, restart});
        ASSERT_EQ(got.size(), static_cast<std::size_t>(k) * feature_count);
        EXPECT_TRUE(same_bits(got, want));
      }
    }
  }
  // Draws depend on the seed and the restart, not only on the data.
  const LocalPart mine = part_of(world, all, false);
  const KMeansData data = mine.data();
  EXPECT_FALSE(same_bits(policy.initialize(kmeans::Context{world, data, 8, 42, 0}),
                         policy.initialize(kmeans::Context{world, data, 8, 42, 1})));
  EXPECT_FALSE(same_bits(policy.initialize(kmeans::Context{world, data, 8, 42, 0}),
                         policy.initialize(kmeans::Context{world, data, 8, 43, 0})));
}

// The race as written before its shortcut: every customer's key −ln(u)/D², the smallest (key,
// global row) wins. KMeansPlusPlus skips the logarithm where 1 − u already loses; it must pick the
// same customers.
kmeans::Centroids plain_race(const Points& all, int k, std::uint64_t seed, int restart) {
  const std::size_t n = all.keys.size();
  std::vector<double> d2(n, std::numeric_limits<double>::infinity());
  kmeans::Centroids centroids;
  for (int step = 0; step < k; ++step) {
    const std::uint64_t stream = kmeans::stream_id(restart, kmeans::RandomPurpose::kmeans_plus_plus, step);
    double best_key = std::numeric_limits<double>::infinity();
    std::size_t best = n;
    for (std::size_t i = 0; i < n; ++i) {
      const double weight = step == 0 ? 1.0 : d2[i];
      if (!(weight > 0)) continue;
      const double key = -std::log(unit_open(random_word(seed, stream, all.keys[i]))) / weight;
      if (key < best_key) {  // ties: the lower row, scanned first
        best_key = key;
        best = i;
      }
    }
    if (best == n) break;
    double x[3];
    for (std::size_t d = 0; d < 3; ++d) x[d] = all.features.column[d][best];
    centroids.insert(centroids.end(), x, x + 3);
    for (std::size_t i = 0; i < n; ++i) {
      const double u = all.features.column[0][i] - x[0], v = all.features.column[1][i] - x[1],
                   w = all.features.column[2][i] - x[2];
      d2[i] = std::min(d2[i], u * u + v * v + w * w);
    }
  }
  return centroids;
}

TEST(KMeansInitPlusPlus, the_shortcut_race_picks_what_the_plain_race_picks) {
  const auto world = mpi::Comm::world();
  for (std::uint64_t trial = 0; trial < 12; ++trial) {
    // Clouds at several scales (tiny D² makes large keys; duplicates make D² = 0), on a grid.
    Points all;
    const double scale = trial % 3 == 0 ? 1e-6 : trial % 3 == 1 ? 1.0 : 1e5;
    for (std::uint64_t i = 0; i < 900 + 50 * trial; ++i) {
      const std::uint64_t source = trial % 4 == 3 ? i % 40 : i;
      double x[3];
      for (std::uint64_t d = 0; d < 3; ++d)
        x[d] = std::ldexp(std::nearbyint(std::ldexp(scale * unit_open(random_word(trial, d, source)), 20)), -20);
      all.add(x[0], x[1], x[2]);
    }
    const LocalPart mine = part_of(world, all, trial % 2 == 1);
    const LocalPart whole = part_of(self_comm(), all, false);  // the same grid rounding as `mine`
    Points snapped;
    for (std::size_t i = 0; i < whole.keys.size(); ++i)
      snapped.add(whole.features.column[0][i], whole.features.column[1][i], whole.features.column[2][i]);
    snapped.keys = whole.keys;
    for (int k : {2, 5, 9})
      for (int restart : {0, 3}) {
        SCOPED_TRACE("trial " + std::to_string(trial) + ", k " + std::to_string(k) + ", restart " +
                     std::to_string(restart));
        const kmeans::Centroids want = plain_race(snapped, k, 40 + trial, restart);
        if (want.size() != static_cast<std::size_t>(k) * 3) continue;  // fewer distinct points than k
        const KMeansData data = mine.data();
        EXPECT_TRUE(
            same_bits(kmeans::KMeansPlusPlus{}.initialize(kmeans::Context{world, data, k, 40 + trial, restart}), want));
      }
  }
}

TEST(KMeansInitPlusPlus, picks_distinct_data_points_and_refuses_too_large_k) {
  const auto world = mpi::Comm::world();
  Points all;
  for (int copy = 0; copy < 10; ++copy)  // 4 distinct points, 40 rows
    for (int i = 0; i < 4; ++i) all.add(i, i * i, -i);
  const LocalPart mine = part_of(world, all, true);
  const KMeansData data = mine.data();
  const kmeans::Centroids c = kmeans::KMeansPlusPlus{}.initialize(kmeans::Context{world, data, 4, 7, 0});
  ASSERT_EQ(c.size(), 12u);
  std::vector<double> first_coordinates;
  for (std::size_t j = 0; j < 4; ++j) {
    const double x = c[j * 3];
    EXPECT_EQ(c[j * 3 + 1], x * x);  // a data point (i, i², −i)
    EXPECT_EQ(c[j * 3 + 2], -x);
    first_coordinates.push_back(x);
  }
  std::sort(first_coordinates.begin(), first_coordinates.end());
  EXPECT_EQ(first_coordinates, (std::vector<double>{0, 1, 2, 3}));  // D² = 0 never wins again
  EXPECT_THROW((void)kmeans::KMeansPlusPlus{}.initialize(kmeans::Context{world, data, 5, 7, 0}), AgreedError);
}

// ---------------------------------------------------------------- step policies

TEST(KMeansStep, lloyd_hamerly_and_kdtree_give_the_same_labels_and_exact_sums) {
  const auto world = mpi::Comm::world();
  const auto self = self_comm();
  const Points all = clouds_and_lattice();
  for (const int k : {2, 5, 9}) {
    SCOPED_TRACE("k " + std::to_string(k));
    const LocalPart mine = part_of(world, all, true);
    const LocalPart whole = part_of(self, all, false);
    ASSERT_EQ(mine.grid_exponent, whole.grid_exponent);
    const kmeans::GridPoints grid(mine.features, mine.grid_exponent);
    const kmeans::GridPoints whole_grid(whole.features, whole.grid_exponent);
    kmeans::LloydStep lloyd(mine.features, grid);
    kmeans::HamerlyStep hamerly(mine.features, grid);
    const kmeans::PointTree tree(mine.features, grid);
    kmeans::FilterStep filter(tree);
    kmeans::LloydStep one_rank(whole.features, whole_grid);
    std::vector<std::int32_t> lloyd_labels(mine.features.size(), -1), hamerly_labels(lloyd_labels),
        filter_labels(lloyd_labels), one_rank_labels(whole.features.size(), -1);
    // Start from rows 0, 97, 194, ... (on every rank: taken from the full data).
    kmeans::Centroids centroids;
    for (std::size_t j = 0; j < static_cast<std::size_t>(k); ++j)
      for (std::size_t d = 0; d < feature_count; ++d) centroids.push_back(whole.features.column[d][97 * j]);
    const double unit = std::ldexp(1.0, -mine.grid_exponent);
    std::uint64_t hamerly_evaluations = 0, lloyd_evaluations = 0;
    for (int iteration = 0; iteration < 12; ++iteration) {
      SCOPED_TRACE("iteration " + std::to_string(iteration));
      kmeans::StepSums a = lloyd.step(centroids, lloyd_labels);
      const kmeans::StepSums b = hamerly.step(centroids, hamerly_labels);
      const kmeans::StepSums c = filter.step(centroids, filter_labels);
      const kmeans::StepSums serial = one_rank.step(centroids, one_rank_labels);
      EXPECT_TRUE(a.sums == b.sums);
      EXPECT_EQ(a.counts, b.counts);
      EXPECT_EQ(a.changed, b.changed);
      EXPECT_EQ(lloyd_labels, hamerly_labels);
      EXPECT_TRUE(a.sums == c.sums);
      EXPECT_EQ(a.counts, c.counts);
      EXPECT_EQ(a.changed, c.changed);
      EXPECT_EQ(lloyd_labels, filter_labels);
      EXPECT_LE(c.distance_evaluations, a.distance_evaluations);
      lloyd_evaluations += a.distance_evaluations;
      hamerly_evaluations += b.distance_evaluations;
      // Exact sums: the reduced partial sums are one rank's sums, bit for bit.
      mpi::allreduce_sum_inplace(world, std::span<int128_t>(a.sums));
      a.counts = mpi::allreduce(world, std::move(a.counts), mpi::Op::sum);
      EXPECT_TRUE(a.sums == serial.sums);
      EXPECT_EQ(a.counts, serial.counts);
      EXPECT_EQ(mpi::allgatherv<std::int32_t>(world, lloyd_labels), one_rank_labels);
      for (std::size_t j = 0; j < static_cast<std::size_t>(k); ++j)
        if (serial.counts[j] > 0)
          for (std::size_t d = 0; d < feature_count; ++d)
            centroids[j * 3 + d] =
                static_cast<double>(serial.sums[j * 3 + d]) / static_cast<double>(serial.counts[j]) * unit;
    }
    EXPECT_EQ(lloyd_evaluations, 12 * mine.features.size() * static_cast<std::size_t>(k));
    EXPECT_LE(hamerly_evaluations, lloyd_evaluations);
    // After invalidate() Hamerly scans every centroid for every point again.
    hamerly.invalidate();
    EXPECT_EQ(hamerly.step(centroids, hamerly_labels).distance_evaluations,
              mine.features.size() * static_cast<std::size_t>(k));
  }
}

TEST(KMeansStep, kdtree_labels_stay_exact_when_centroids_jump_back_and_forth) {
  // Centroid sets that are not Lloyd updates: three sets visited in turn, fresh ones in between,
  // and repeats of one set. A region's cluster goes a -> b -> a, so a node remembered as "all a"
  // whose points were meanwhile labelled b by an ancestor must still be written. Every step
  // against plain Lloyd: labels, the "changed" flag and the sums.
  const auto world = mpi::Comm::world();
  const Points all = clouds_and_lattice();
  const LocalPart mine = part_of(world, all, false);
  const kmeans::GridPoints grid(mine.features, mine.grid_exponent);
  const kmeans::PointTree tree(mine.features, grid);
  for (const int k : {2, 3, 6}) {
    SCOPED_TRACE("k " + std::to_string(k));
    kmeans::LloydStep lloyd(mine.features, grid);
    kmeans::FilterStep filter(tree);
    std::vector<std::int32_t> lloyd_labels(mine.features.size(), -1), filter_labels(lloyd_labels);
    auto random_set = [&](std::uint64_t stream) {
      kmeans::Centroids c;
      for (std::uint64_t t = 0; t < static_cast<std::uint64_t>(k) * 3; ++t)
        c.push_back(4.0 * unit_open(random_word(static_cast<std::uint64_t>(k), stream, t)) - 2.0);
      return c;
    };
    const kmeans::Centroids sets[3] = {random_set(1), random_set(2), random_set(3)};
    for (int step = 0; step < 40; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      const kmeans::Centroids centroids =
          step % 7 == 6 ? random_set(100 + static_cast<std::uint64_t>(step)) : sets[(step * step) % 3];
      const kmeans::StepSums a = lloyd.step(centroids, lloyd_labels);
      const kmeans::StepSums b = filter.step(centroids, filter_labels);
      ASSERT_EQ(lloyd_labels, filter_labels);
      EXPECT_EQ(a.changed, b.changed);
      EXPECT_TRUE(a.sums == b.sums);
      EXPECT_EQ(a.counts, b.counts);
    }
  }
}

// ---------------------------------------------------------------- empty-cluster policy

TEST(KMeansEmptyCluster, farthest_points_fill_the_empty_clusters_in_order_ties_by_row) {
  const auto world = mpi::Comm::world();
  Points all;
  for (int i = 0; i < 40; ++i) all.add(0.25 * (i % 4), 0.25 * (i % 3), 0);  // near the origin
  // Outliers: rows 40.. (distance² to the origin 400, 100, 100, 100 — the ties at rows 41, 42, 43).
  all.add(20, 0, 0);
  all.add(0, -10, 0);
  all.add(0, 10, 0);
  all.add(0, 0, 10);
  for (int i = 0; i < 10; ++i) all.add(0.5, 0.5, 0.25 * i);
  const LocalPart mine = part_of(world, all, true);
  const KMeansData data = mine.data();
  // Cluster 0 at the origin takes every point; 1, 2 and 3 (far away) are empty.
  const kmeans::Centroids old{0, 0, 0, 1000, 0, 0, 0, 1000, 0, 0, 0, 1000};
  std::vector<std::int32_t> labels(mine.features.size());
  std::vector<double> distances(mine.features.size());
  assign_nearest(mine.features, old, 4, labels, distances);
  for (auto label : labels) ASSERT_EQ(label, 0);
  kmeans::Centroids next(12, -7.0);
  const std::vector<std::size_t> empty{1, 2, 3};
  kmeans::FarthestPoint{}.repair(kmeans::Context{world, data, 4, 42, 0}, old, labels, empty, next);
  const kmeans::Centroids want{-7, -7, -7, 20, 0, 0, 0, -10, 0, 0, 10, 0};
  EXPECT_EQ(next, want);
  // Only the clusters named empty change.
  kmeans::Centroids only_two(12, -7.0);
  const std::vector<std::size_t> one_empty{2};
  kmeans::FarthestPoint{}.repair(kmeans::Context{world, data, 4, 42, 0}, old, labels, one_empty, only_two);
  EXPECT_EQ(only_two, (kmeans::Centroids{-7, -7, -7, -7, -7, -7, 20, 0, 0, -7, -7, -7}));
}

// ---------------------------------------------------------------- the driver over any policies

namespace {

/// An empty-cluster policy that counts its calls and moves empty cluster j to (j, j, j) / 4.
struct CountingRepair {
  int* calls;
  void repair(const kmeans::Context&, std::span<const double>, std::span<const std::int32_t>,
              std::span<const std::size_t> empty, std::span<double> next) const {
    ++*calls;
    for (auto j : empty)
      for (std::size_t d = 0; d < feature_count; ++d) next[j * feature_count + d] = 0.25 * static_cast<double>(j);
  }
};
static_assert(kmeans::EmptyClusterPolicy<CountingRepair>);

}  // namespace

TEST(KMeansDriver, runs_any_policies_and_calls_the_repair_for_empty_clusters) {
  const auto world = mpi::Comm::world();
  const Points all = clouds_and_lattice();
  const LocalPart mine = part_of(world, all, false);
  const KMeansData data = mine.data();
  const kmeans::Context context{world, data, 4, 42, 0};
  const kmeans::GridPoints grid(mine.features, mine.grid_exponent);
  // Two centroids far from every point: their clusters are empty after the first step.
  kmeans::LloydStart start;
  start.centroids = {0, 0, 0, 1, 1, 1, 500, 500, 500, -500, -500, -500};
  start.init_centroids = start.centroids;
  int calls = 0;
  std::vector<std::int32_t> labels(mine.features.size());
  kmeans::LloydStep step(mine.features, grid);
  const kmeans::RunResult run =
      kmeans::lloyd(context, step, CountingRepair{&calls}, start, kmeans::StopRule{50, 0.0}, labels);
  EXPECT_GE(calls, 1);
  EXPECT_GT(run.n_iter, 1);
  EXPECT_TRUE(run.converged);
  // The repair ran in the first iteration: clusters 2 and 3 moved to (0.5, 0.5, 0.5) and
  // (0.75, 0.75, 0.75), inside the data, and took points.
  std::vector<std::int64_t> sizes(4, 0);
  for (auto label : labels) ++sizes[static_cast<std::size_t>(label)];
  sizes = mpi::allreduce(world, std::move(sizes), mpi::Op::sum);
  EXPECT_GT(sizes[2] + sizes[3], 0);
  // The same start with Hamerly's step and FarthestPoint: the same result as with LloydStep.
  kmeans::HamerlyStep hamerly(mine.features, grid);
  std::vector<std::int32_t> hamerly_labels(mine.features.size());
  kmeans::LloydStep lloyd(mine.features, grid);
  std::vector<std::int32_t> lloyd_labels(mine.features.size());
  const auto a = kmeans::lloyd(context, lloyd, kmeans::FarthestPoint{}, start, kmeans::StopRule{50, 0.0}, lloyd_labels);
  const auto b =
      kmeans::lloyd(context, hamerly, kmeans::FarthestPoint{}, start, kmeans::StopRule{50, 0.0}, hamerly_labels);
  EXPECT_TRUE(same_bits(a.centroids, b.centroids));
  EXPECT_EQ(a.n_iter, b.n_iter);
  EXPECT_EQ(lloyd_labels, hamerly_labels);
}
