// model/migration: the assignment of cluster ids, the ARI, the MONIC fates and the PSI, checked
// against values computed with scipy / scikit-learn and against brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "rfmseg/model/migration.hpp"

namespace rfmseg {
namespace {

// Total overlap of an assignment (match[j] = row or -1).
std::int64_t overlap(const std::vector<std::int64_t>& t, int cols, const std::vector<int>& match) {
  std::int64_t sum = 0;
  for (int j = 0; j < cols; ++j)
    if (match[static_cast<std::size_t>(j)] >= 0)
      sum += t[static_cast<std::size_t>(match[static_cast<std::size_t>(j)] * cols + j)];
  return sum;
}

// The best total overlap by trying every injective assignment (small tables only).
std::int64_t brute_force_best(const std::vector<std::int64_t>& t, int rows, int cols) {
  const int n = std::max(rows, cols);
  std::vector<int> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::int64_t best = 0;
  do {
    std::int64_t sum = 0;
    for (int j = 0; j < cols; ++j) {
      const int i = perm[static_cast<std::size_t>(j)];
      if (i < rows) sum += t[static_cast<std::size_t>(i * cols + j)];
    }
    best = std::max(best, sum);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

TEST(Migration, MatchFollowsThePermutation) {
  // Tonight's clusters are yesterday's, shuffled: 0 -> 2, 1 -> 0, 2 -> 1.
  const std::vector<std::int64_t> t = {0, 0, 90, 80, 5, 0, 3, 70, 1};
  EXPECT_EQ(match_clusters(t, 3, 3), (std::vector<int>{1, 2, 0}));
}

TEST(Migration, MatchIsOptimalNotGreedy) {
  // Greedy would give column 1 to row 0 (5) and then row 1 gets column 0 (4): 9; scipy's
  // linear_sum_assignment(maximize=True) gives the same 9 here; the optimum is unique in value.
  const std::vector<std::int64_t> t = {1, 5, 0, 4, 4, 0, 0, 0, 3};
  const auto match = match_clusters(t, 3, 3);
  EXPECT_EQ(overlap(t, 3, match), 12);
  EXPECT_EQ(match, (std::vector<int>{1, 0, 2}));
}

TEST(Migration, TiesKeepClustersAtTheirIndex) {
  const std::vector<std::int64_t> t = {5, 5, 5, 5};
  EXPECT_EQ(match_clusters(t, 2, 2), (std::vector<int>{0, 1}));
  const std::vector<std::int64_t> zeros(9, 0);
  EXPECT_EQ(match_clusters(zeros, 3, 3), (std::vector<int>{0, 1, 2}));
}

TEST(Migration, RectangularTablesLeaveTheRestWithoutPartner) {
  // 2 previous clusters, 3 tonight: the one with the least overlap gets no partner.
  const std::vector<std::int64_t> t = {10, 1, 0, 0, 2, 9};
  EXPECT_EQ(match_clusters(t, 2, 3), (std::vector<int>{0, -1, 1}));
  // 3 previous, 2 tonight: every tonight's cluster has a partner.
  const std::vector<std::int64_t> u = {1, 8, 7, 0, 0, 2};
  EXPECT_EQ(match_clusters(u, 3, 2), (std::vector<int>{1, 0}));
}

TEST(Migration, MatchEqualsBruteForceOnRandomTables) {
  std::mt19937_64 random(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int rows = 1 + static_cast<int>(random() % 6), cols = 1 + static_cast<int>(random() % 6);
    std::vector<std::int64_t> t(static_cast<std::size_t>(rows * cols));
    for (auto& c : t) c = static_cast<std::int64_t>(random() % (trial % 3 == 0 ? 3 : 1000));
    const auto match = match_clusters(t, rows, cols);
    EXPECT_EQ(overlap(t, cols, match), brute_force_best(t, rows, cols)) << "trial " << trial;
    std::vector<int> used;
    for (int m : match)
      if (m >= 0) used.push_back(m);
    std::sort(used.begin(), used.end());
    EXPECT_EQ(std::adjacent_find(used.begin(), used.end()), used.end()) << "a row matched twice";
    EXPECT_EQ(used.size(), static_cast<std::size_t>(std::min(rows, cols)));
  }
}

TEST(Migration, AdjustedRandIndexEqualsScikitLearn) {
  // adjusted_rand_score([0,0,1,1], [0,0,1,2]) = 0.5714285714285714
  EXPECT_NEAR(adjusted_rand_index(std::vector<std::int64_t>{2, 0, 0, 0, 1, 1}, 2, 3), 0.5714285714285714, 1e-15);
  // table [[5,1,0],[2,7,1]] -> 0.25
  EXPECT_NEAR(adjusted_rand_index(std::vector<std::int64_t>{5, 1, 0, 2, 7, 1}, 2, 3), 0.25, 1e-15);
  EXPECT_EQ(adjusted_rand_index(std::vector<std::int64_t>{4, 0, 0, 6}, 2, 2), 1.0);
  EXPECT_EQ(adjusted_rand_index(std::vector<std::int64_t>{9}, 1, 1), 1.0);
  EXPECT_EQ(adjusted_rand_index(std::vector<std::int64_t>{}, 0, 0), 1.0);
}

TEST(Migration, FatesFollowTheDocumentedThresholds) {
  // rows: previous clusters. 0 survives in 0; 1 and 2 both move >= 1/2 into 1 (absorbed);
  // 3 splits 40/40/20 over 0, 2, 3; 4 scatters (disappeared); 5 has no common customer.
  const std::vector<std::int64_t> t = {
      90, 10, 0,  0,   //
      0,  60, 40, 0,   //
      10, 50, 0,  40,  //
      40, 0,  40, 20,  //
      20, 20, 20, 40,  // 40 % in 3: under 1/2; parts >= 1/4: only column 3 → disappeared
      0,  0,  0,  0};
  const auto fates = cluster_fates(t, 6, 4);
  ASSERT_EQ(fates.size(), 6u);
  EXPECT_EQ(fates[0].fate, ClusterFate::survived);
  EXPECT_EQ(fates[0].target, 0);
  EXPECT_EQ(fates[1].fate, ClusterFate::absorbed);
  EXPECT_EQ(fates[1].target, 1);
  EXPECT_EQ(fates[2].fate, ClusterFate::absorbed);
  EXPECT_EQ(fates[3].fate, ClusterFate::split);
  EXPECT_EQ(fates[3].target, -1);
  EXPECT_EQ(fates[4].fate, ClusterFate::disappeared);
  EXPECT_EQ(fates[5].fate, ClusterFate::disappeared);
}

TEST(Migration, PsiBinsAndValue) {
  const std::vector<double> edges = {1, 2, 2, 5};
  EXPECT_EQ(psi_bin(edges, 0.5), 0u);
  EXPECT_EQ(psi_bin(edges, 1.0), 0u);  // equal to an edge: the lower bin
  EXPECT_EQ(psi_bin(edges, 2.0), 1u);
  EXPECT_EQ(psi_bin(edges, 3.0), 3u);
  EXPECT_EQ(psi_bin(edges, 9.0), 4u);
  const std::vector<std::int64_t> same = {10, 20, 30};
  EXPECT_EQ(population_stability(same, same), 0.0);
  const std::vector<std::int64_t> p = {50, 50, 0}, q = {25, 75, 0};
  const double expected = (0.25 - 0.5) * std::log(0.25 / 0.5) + (0.75 - 0.5) * std::log(0.75 / 0.5);
  EXPECT_DOUBLE_EQ(population_stability(p, q), expected);
  const std::vector<std::int64_t> r = {100, 0, 0}, s = {0, 0, 100};  // empty bins: floored, finite
  EXPECT_TRUE(std::isfinite(population_stability(r, s)));
  EXPECT_GT(population_stability(r, s), 0.25);
}

}  // namespace
}  // namespace rfmseg
