#include <gtest/gtest.h>

#include "rfmseg/core/number.hpp"

using rfmseg::parse_micros;
using rfmseg::parse_quantity;

namespace {
std::int64_t micros(std::string_view text) {
  std::int64_t value = -999;
  EXPECT_TRUE(parse_micros(text, value)) << text;
  return value;
}
bool rejects(std::string_view text) {
  std::int64_t value = 0;
  return !parse_micros(text, value);
}
}  // namespace

TEST(Number, decimals_become_exact_micro_units) {
  EXPECT_EQ(micros("2.55"), 2'550'000);
  EXPECT_EQ(micros("0.001"), 1'000);
  EXPECT_EQ(micros("11062.06"), 11'062'060'000);
  EXPECT_EQ(micros("-27.50"), -27'500'000);
  EXPECT_EQ(micros("+3"), 3'000'000);
  EXPECT_EQ(micros("-0"), 0);
  EXPECT_EQ(micros(".5"), 500'000);
  EXPECT_EQ(micros("5."), 5'000'000);
  EXPECT_EQ(micros(" 7.25 "), 7'250'000);
}

TEST(Number, rounding_past_six_decimals_is_half_away_from_zero) {
  EXPECT_EQ(micros("0.0000005"), 1);
  EXPECT_EQ(micros("0.0000004999"), 0);
  EXPECT_EQ(micros("-0.0000005"), -1);
  EXPECT_EQ(micros("1.23456789"), 1'234'568);
}

TEST(Number, rejects_what_is_not_a_plain_decimal) {
  for (const char* text : {"", "abc", "1e400", "1e5", "nan", "NaN", "inf", "-inf", "12,5", "1,234.5", "1.2.3", "--1",
                           "+", ".", "1 2", "0x10"}) {
    EXPECT_TRUE(rejects(text)) << text;
  }
  std::int64_t value = 0;
  EXPECT_TRUE(parse_micros("12,5", value, true));
  EXPECT_EQ(value, 12'500'000);
}

TEST(Number, rejects_values_beyond_the_money_range) {
  EXPECT_TRUE(rejects("1000000000001"));  // > 10^12 currency units
  EXPECT_EQ(micros("1000000000000"), rfmseg::max_abs_micros);
  EXPECT_TRUE(rejects("99999999999999999999999999999999999999"));
}

TEST(Number, quantities_are_integers) {
  std::int64_t q = 0;
  EXPECT_TRUE(parse_quantity("6", q));
  EXPECT_EQ(q, 6);
  EXPECT_TRUE(parse_quantity("-12", q));
  EXPECT_EQ(q, -12);
  EXPECT_TRUE(parse_quantity("-0", q));
  EXPECT_EQ(q, 0);
  for (const char* text : {"", "1.5", "6.0", "x", "1e3", "10000000000000", "nan"})
    EXPECT_FALSE(parse_quantity(text, q)) << text;
}

#include <cmath>

#include "rfmseg/core/customer_table.hpp"

TEST(Number, money_is_rounded_to_double_exactly_once) {
  using rfmseg::int128_t;
  EXPECT_EQ(rfmseg::micros_to_units(46'740'000), 46.74);
  EXPECT_EQ(rfmseg::micros_to_units(-27'500'000), -27.5);
  EXPECT_EQ(rfmseg::micros_to_units(3'000), 0.003);
  // Beyond 2^53 micro-units a naive (double)x / 1e6 rounds twice: 1006633145311236.125.
  const int128_t big = static_cast<int128_t>(1006633145311236LL) * 1'000'000 + 43'253;
  EXPECT_EQ(rfmseg::micros_to_units(big), 1006633145311236.0);
  EXPECT_EQ(rfmseg::micros_to_units(-big), -1006633145311236.0);
  // Exactly representable large values stay exact.
  const int128_t exact = static_cast<int128_t>(1) << 80;
  EXPECT_EQ(rfmseg::micros_to_units(exact * 1'000'000), std::ldexp(1.0, 80));
  // Ties between two doubles go to the even mantissa: 2^53 + 1 units lies halfway.
  const int128_t tie = (static_cast<int128_t>(1) << 53) + 1;
  EXPECT_EQ(rfmseg::micros_to_units(tie * 1'000'000), std::ldexp(1.0, 53));
  const int128_t above_tie = tie * 1'000'000 + 1;
  EXPECT_EQ(rfmseg::micros_to_units(above_tie), std::ldexp(1.0, 53) + 2);
}
