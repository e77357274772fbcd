#include <gtest/gtest.h>

#include "rfmseg/core/date.hpp"

using rfmseg::DateFormat;
using rfmseg::DateParser;
using rfmseg::DateStatus;
using rfmseg::days_from_civil;
using rfmseg::format_day;

namespace {
std::int32_t parse_ok(const DateParser& parser, std::string_view text) {
  std::int32_t day = -1;
  EXPECT_EQ(parser.parse(text, day), DateStatus::ok) << text;
  return day;
}
DateStatus status_of(const DateParser& parser, std::string_view text) {
  std::int32_t day = 0;
  return parser.parse(text, day);
}
}  // namespace

TEST(Date, civil_day_numbers_round_trip) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  for (int day = days_from_civil(1900, 1, 1); day < days_from_civil(2200, 1, 1); day += 37) {
    const std::string text = format_day(day);
    std::int32_t back = 0;
    ASSERT_EQ(DateParser(DateFormat::iso).parse(text, back), DateStatus::ok) << text;
    EXPECT_EQ(back, day);
  }
}

TEST(Date, all_layouts_of_the_data_description) {
  const DateParser automatic;
  const auto dec1 = days_from_civil(2010, 12, 1);
  EXPECT_EQ(parse_ok(automatic, "12/1/2010 8:26"), dec1);
  EXPECT_EQ(parse_ok(automatic, "12/1/10 8:26"), dec1);
  EXPECT_EQ(parse_ok(automatic, "2010-12-01 08:26:00"), dec1);
  EXPECT_EQ(parse_ok(automatic, "2010-12-01"), dec1);
  EXPECT_EQ(parse_ok(automatic, "2010-12-01T08:26:00"), dec1);
  EXPECT_EQ(parse_ok(automatic, "01-Dec-10"), dec1);
  EXPECT_EQ(parse_ok(automatic, "1-Dec-2010"), dec1);
  EXPECT_EQ(parse_ok(automatic, "20101201"), dec1);
  EXPECT_EQ(parse_ok(automatic, "14-Jan-15"), days_from_civil(2015, 1, 14));
  EXPECT_EQ(parse_ok(automatic, "19970101"), days_from_civil(1997, 1, 1));
  const DateParser day_first(DateFormat::automatic, true);
  EXPECT_EQ(parse_ok(day_first, "1/12/2010 8:26"), dec1);
}

TEST(Date, two_digit_year_pivot) {
  const DateParser p;
  EXPECT_EQ(parse_ok(p, "1/1/68"), days_from_civil(2068, 1, 1));
  EXPECT_EQ(parse_ok(p, "1/1/69"), days_from_civil(1969, 1, 1));
  EXPECT_EQ(parse_ok(p, "1-Jan-99"), days_from_civil(1999, 1, 1));
}

TEST(Date, contradicting_order_is_reported_as_such) {
  EXPECT_EQ(status_of(DateParser(), "13/1/2011 8:00"), DateStatus::order_conflict);
  EXPECT_EQ(status_of(DateParser(DateFormat::automatic, true), "1/13/2011"), DateStatus::order_conflict);
  EXPECT_EQ(status_of(DateParser(), "13/13/2011"), DateStatus::bad);
  EXPECT_EQ(status_of(DateParser(), "40/5/2011"), DateStatus::bad);  // 40 is no day either
  EXPECT_EQ(status_of(DateParser(), "31/5/2011"), DateStatus::order_conflict);
}

TEST(Date, slash_dates_tell_whether_they_show_the_order) {
  using rfmseg::DateOrderEvidence;
  const auto evidence_of = [](const DateParser& parser, std::string_view text) {
    std::int32_t day = 0;
    auto evidence = DateOrderEvidence::confirmed;
    parser.parse(text, day, evidence);
    return evidence;
  };
  const DateParser month_first, day_first(DateFormat::automatic, true), slash(DateFormat::slash);
  EXPECT_EQ(evidence_of(month_first, "12/1/2010 8:26"), DateOrderEvidence::ambiguous);
  EXPECT_EQ(evidence_of(month_first, "12/13/2010 8:26"), DateOrderEvidence::confirmed);
  EXPECT_EQ(evidence_of(slash, "1/31/10"), DateOrderEvidence::confirmed);
  EXPECT_EQ(evidence_of(month_first, "5/5/2010"), DateOrderEvidence::none);  // both orders: 5 May
  EXPECT_EQ(evidence_of(day_first, "13/1/2010"), DateOrderEvidence::confirmed);
  EXPECT_EQ(evidence_of(day_first, "1/12/2010"), DateOrderEvidence::ambiguous);
  // Not a slash date, not a valid one, or a contradiction: no evidence either way.
  EXPECT_EQ(evidence_of(month_first, "2010-12-13"), DateOrderEvidence::none);
  EXPECT_EQ(evidence_of(month_first, "13-Jan-15"), DateOrderEvidence::none);
  EXPECT_EQ(evidence_of(month_first, "2/30/2010"), DateOrderEvidence::none);
  EXPECT_EQ(evidence_of(month_first, "13/1/2010"), DateOrderEvidence::none);
}

TEST(Date, invalid_and_out_of_range_dates_are_bad) {
  const DateParser p;
  for (const char* text : {"", "2011-02-29", "2012-02-30", "2010-13-01", "0/1/2010", "1/0/2010", "32-Jan-10",
                           "12/1/2010 25:00", "12/1/2010 8:61", "1899-12-31", "2200-01-01", "2010-1-1x", "20101301",
                           "abc", "12/1/201", "1-Foo-10", "2010/12/01/01"}) {
    EXPECT_EQ(status_of(p, text), DateStatus::bad) << text;
  }
  EXPECT_EQ(parse_ok(p, "2012-02-29"), days_from_civil(2012, 2, 29));
  EXPECT_EQ(parse_ok(p, "2000-02-29"), days_from_civil(2000, 2, 29));
  EXPECT_EQ(status_of(p, "1900-02-29"), DateStatus::bad);
}

TEST(Date, format_names) {
  bool day_first = false;
  EXPECT_EQ(rfmseg::parse_date_format("dmy", day_first), DateFormat::slash);
  EXPECT_TRUE(day_first);
  EXPECT_THROW((void)rfmseg::parse_date_format("weird", day_first), std::invalid_argument);
}
