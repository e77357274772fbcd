#include <gtest/gtest.h>

#include <cmath>

#include "rfmseg/model/selection.hpp"

using rfmseg::best_silhouette;
using rfmseg::kneedle_elbow;

TEST(Selection, kneedle_finds_the_bend_of_a_convex_curve) {
  const std::vector<int> ks{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  // Steep until k = 3, then flat: the elbow is 3.
  EXPECT_EQ(kneedle_elbow(ks, {1000, 600, 200, 180, 165, 150, 140, 130, 122, 115}), 3);
  // 1/k: kneed's reference example has its knee at a small k.
  std::vector<double> inverse;
  for (int k : ks) inverse.push_back(1.0 / k);
  EXPECT_EQ(kneedle_elbow(ks, inverse), 3);
  // A straight line has no elbow: the smallest k > 1.
  EXPECT_EQ(kneedle_elbow(ks, {10, 9, 8, 7, 6, 5, 4, 3, 2, 1}), 2);
  EXPECT_EQ(kneedle_elbow({2, 3}, {5, 4}), 3);
  EXPECT_THROW((void)kneedle_elbow({}, {}), std::invalid_argument);
}

TEST(Selection, best_silhouette_skips_k_1_and_prefers_the_smaller_k_on_ties) {
  EXPECT_EQ(best_silhouette({1, 2, 3, 4}, {NAN, 0.5, 0.7, 0.7}), 3);
  EXPECT_THROW((void)best_silhouette({1}, {NAN}), std::invalid_argument);
}
