// rfmseg-gen's command line without MPI: defaults, the values as before Program_options, errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gen/options.hpp"
#include "rfmseg/core/date.hpp"

namespace {

using rfmseg::gen::DateStyle;
using rfmseg::gen::Format;
using rfmseg::gen::IdStyle;
using rfmseg::gen::Options;
using rfmseg::gen::UsageError;

Options parse(std::vector<std::string> words) {
  words.insert(words.begin(), "rfmseg-gen");
  std::vector<const char*> argv;
  for (const auto& word : words) argv.push_back(word.c_str());
  return rfmseg::gen::parse_options(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> words) {
  try {
    (void)parse(std::move(words));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(GenOptions, defaults) {
  const Options o = parse({"--output", "x.csv", "--lines", "1000"});
  EXPECT_FALSE(o.is_help);
  EXPECT_EQ(o.output, "x.csv");
  EXPECT_EQ(o.groups, "");
  EXPECT_EQ(o.lines, 1000u);
  EXPECT_EQ(o.customers, 50u);  // lines / 20
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.dirt, 0.02);
  EXPECT_EQ(o.format, Format::online_retail);
  EXPECT_EQ(o.date_style, DateStyle::us);
  EXPECT_EQ(o.id_style, IdStyle::cs);
  EXPECT_EQ(rfmseg::format_day(static_cast<std::int32_t>(o.start_day)), "2010-12-01");
  EXPECT_EQ(o.days, 373u);
  EXPECT_FALSE(o.is_crlf);
  EXPECT_EQ(o.chunk_lines, 262144u);
  EXPECT_EQ(parse({"--output", "x", "--lines", "3"}).customers, 1u);  // at least one customer
}

TEST(GenOptions, date_style_follows_the_format) {
  EXPECT_EQ(parse({"--output", "x", "--lines", "1", "--format", "online-retail-ii"}).date_style, DateStyle::iso);
  EXPECT_EQ(parse({"--output", "x", "--lines", "1", "--format", "amount"}).date_style, DateStyle::mon);
  EXPECT_EQ(parse({"--output", "x", "--lines", "1", "--format", "amount", "--date-style", "ymd"}).date_style,
            DateStyle::ymd);
}

TEST(GenOptions, every_option_both_spellings_last_value_counts) {
  const Options o = parse({"--output=o.csv",
                           "--lines",
                           "10",
                           "--lines=20",
                           "--customers",
                           "7",
                           "--seed",
                           "18446744073709551615",
                           "--dirt",
                           "0.5",
                           "--format",
                           "amount",
                           "--date-style",
                           "eu",
                           "--id-style",
                           "padded",
                           "--start",
                           "2020-02-29",
                           "--days",
                           "2",
                           "--crlf",
                           "--groups",
                           "g.csv",
                           "--chunk-lines",
                           "97"});
  EXPECT_EQ(o.output, "o.csv");
  EXPECT_EQ(o.lines, 20u);
  EXPECT_EQ(o.customers, 7u);
  EXPECT_EQ(o.seed, 18446744073709551615u);
  EXPECT_EQ(o.dirt, 0.5);
  EXPECT_EQ(o.format, Format::amount);
  EXPECT_EQ(o.date_style, DateStyle::eu);
  EXPECT_EQ(o.id_style, IdStyle::padded);
  EXPECT_EQ(rfmseg::format_day(static_cast<std::int32_t>(o.start_day)), "2020-02-29");
  EXPECT_EQ(o.days, 2u);
  EXPECT_TRUE(o.is_crlf);
  EXPECT_EQ(o.groups, "g.csv");
  EXPECT_EQ(o.chunk_lines, 97u);
}

TEST(GenOptions, help_skips_the_checks) {
  EXPECT_TRUE(parse({"--help"}).is_help);
  EXPECT_TRUE(parse({"-h"}).is_help);
  const std::string help = rfmseg::gen::help_text();
  for (const char* option : {"--output", "--lines", "--customers", "--seed", "--dirt", "--format", "--date-style",
                             "--id-style", "--start", "--days", "--crlf", "--groups", "--chunk-lines", "--help"}) {
    EXPECT_NE(help.find(std::string(option) + " "), std::string::npos) << option;
  }
}

TEST(GenOptions, errors_name_the_option) {
  EXPECT_EQ(error_of({"--lines", "1"}), "--output is required");
  EXPECT_EQ(error_of({"--output", "x"}), "--lines is required");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1e3"}), "bad value for --lines: '1e3'");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "70368744177665"}), "--lines is too large (max 2^46)");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--seed", "18446744073709551616"}),
            "bad value for --seed: '18446744073709551616'");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--customers", "0"}),
            "--customers must be between 1 and 2147483647");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--dirt", "1.5"}),
            "bad value for --dirt: '1.5' (expected a number in [0, 1])");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--start", "2011-02-29"}),
            "bad value for --start: '2011-02-29' (expected YYYY-MM-DD)");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--date-style", "mon", "--start", "2068-12-01"}),
            "two-digit years (date style us2/mon) need a period within 1969..2068");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--groups", "x"}), "--groups and --output are the same file");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--out", "y"}), "unknown option '--out'");  // no abbreviations
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "stray"}), "unknown option 'stray'");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--crlf=1"}), "option --crlf takes no value");
  EXPECT_EQ(error_of({"--output", "x", "--lines"}), "option --lines needs a value");
  EXPECT_EQ(error_of({"--output=", "--lines", "1"}), "--output must not be empty");
}

}  // namespace

TEST(GenOptions, consecutive_nights) {
  const Options one = parse({"--output", "x", "--lines", "10"});
  EXPECT_EQ(one.night, 1u);
  EXPECT_EQ(one.night_days, 1u);
  EXPECT_EQ(one.move_night, 2u);
  EXPECT_EQ(one.move_share, 0.25);
  EXPECT_EQ(one.total_days(), 373u);
  const Options o = parse({"--output", "x", "--lines", "10", "--night", "3", "--night-days", "7", "--move-night", "3",
                           "--move-share", "0.5", "--truth", "t.csv"});
  EXPECT_EQ(o.total_days(), 373u + 14u);
  EXPECT_EQ(o.move_night, 3u);
  EXPECT_EQ(o.move_share, 0.5);
  EXPECT_EQ(o.truth, "t.csv");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--night", "0"}), "--night must be between 1 and 36500");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--night-days", "0"}),
            "--night-days must be between 1 and 36500");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--move-night", "1"}),
            "--move-night must be 2 or more (night 1 is the base period)");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--move-share", "2"}),
            "bad value for --move-share: '2' (expected a number in [0, 1])");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--night", "400", "--night-days", "100"}),
            "--days + (--night - 1) * --night-days must be at most 36500");
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--truth", "x"}),
            "--truth must be another file than --output and --groups");
  // The period's end moves with the nights: two-digit years must still fit.
  EXPECT_EQ(error_of({"--output", "x", "--lines", "1", "--date-style", "mon", "--start", "2067-01-01", "--night", "3",
                      "--night-days", "365"}),
            "two-digit years (date style us2/mon) need a period within 1969..2068");
}
