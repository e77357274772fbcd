#include <gtest/gtest.h>

#include <set>

#include "rfmseg/core/hash.hpp"
#include "rfmseg/io/ingest.hpp"

TEST(Hash, stable_values_across_builds) {
  // Fixed outputs: a change here changes every partition and every random draw.
  EXPECT_EQ(rfmseg::hash_bytes(""), rfmseg::hash_bytes(""));
  EXPECT_NE(rfmseg::hash_bytes("17850"), rfmseg::hash_bytes("17851"));
  EXPECT_NE(rfmseg::hash_bytes("a", 1), rfmseg::hash_bytes("a", 2));
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 100000; ++i) seen.insert(rfmseg::hash_bytes(std::to_string(i)));
  EXPECT_EQ(seen.size(), 100000u);
}

TEST(Hash, owner_rank_is_in_range_and_balanced) {
  for (int ranks : {1, 2, 3, 4, 7, 64}) {
    std::vector<int> counts(static_cast<std::size_t>(ranks), 0);
    for (int i = 0; i < 70000; ++i) {
      const int owner = rfmseg::owner_rank(rfmseg::hash_bytes(std::to_string(i)), ranks);
      ASSERT_GE(owner, 0);
      ASSERT_LT(owner, ranks);
      ++counts[static_cast<std::size_t>(owner)];
    }
    for (int c : counts) EXPECT_NEAR(c, 70000.0 / ranks, 70000.0 / ranks * 0.1);
  }
}

TEST(Hash, counter_based_uniforms_are_in_the_open_unit_interval) {
  double sum = 0;
  for (std::uint64_t i = 0; i < 100000; ++i) {
    const double u = rfmseg::unit_open(rfmseg::random_word(42, 7, i));
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
  EXPECT_EQ(rfmseg::random_word(1, 2, 3), rfmseg::random_word(1, 2, 3));
  EXPECT_NE(rfmseg::random_word(1, 2, 3), rfmseg::random_word(1, 2, 4));
  // The draws are part of every result: pinned values (SplitMix64 finalizer, computed in Python),
  // and the split form used in hot loops gives the same words.
  EXPECT_EQ(rfmseg::random_word(1, 2, 3), 0x450a30e638dad0e9ULL);
  const std::uint64_t stream = (std::uint64_t{3} << 32) ^ (std::uint64_t{1} << 24) ^ 5;
  EXPECT_EQ(rfmseg::random_word(42, stream, 123456789), 0x0b5a53070e696217ULL);
  for (std::uint64_t c = 0; c < 1000; ++c)
    EXPECT_EQ(rfmseg::random_word_at(rfmseg::random_stream(42, stream), c * 7919),
              rfmseg::random_word(42, stream, c * 7919));
}

TEST(CustomerId, normalisation) {
  EXPECT_EQ(rfmseg::normalize_customer_id(" 17850 "), "17850");
  EXPECT_EQ(rfmseg::normalize_customer_id("17850.0"), "17850");
  EXPECT_EQ(rfmseg::normalize_customer_id("17850.00"), "17850");
  EXPECT_EQ(rfmseg::normalize_customer_id("00017"), "00017");
  EXPECT_EQ(rfmseg::normalize_customer_id("17850.5"), "17850.5");
  EXPECT_EQ(rfmseg::normalize_customer_id("CS1112"), "CS1112");
  EXPECT_EQ(rfmseg::normalize_customer_id("A.0"), "A.0");
  EXPECT_EQ(rfmseg::normalize_customer_id(""), "");
}
