// rfmseg summary: the CSV quoting and the command line (the values against real results are
// checked with h5py in tests/e2e/summary.sh and tests/slurm/test_nightly_history.sh).
#include <gtest/gtest.h>

#include "rfmseg/app/summary.hpp"

namespace rfmseg {
namespace {

TEST(Summary, CsvFieldQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(csv_field("segments-2030-01-01.h5"), "segments-2030-01-01.h5");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("0:loyal, high value;1:new"), "\"0:loyal, high value;1:new\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
}

TEST(Summary, CommandLine) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  EXPECT_EQ(summary_command({}), 1);                   // nothing to summarize: usage, exit 1
  EXPECT_EQ(summary_command({"--help"}), 0);           // asked for: exit 0
  EXPECT_EQ(summary_command({"--csv"}), 1);            // no file
  EXPECT_EQ(summary_command({"--bogus", "r.h5"}), 1);  // unknown option, nothing read
  const std::string out = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("usage: rfmseg summary [--csv] [--no-header] RESULT.h5"), std::string::npos);
  EXPECT_NE(err.find("unknown option '--bogus'"), std::string::npos);
}

}  // namespace
}  // namespace rfmseg
