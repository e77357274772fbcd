#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "rfmseg/errors.hpp"
#include "rfmseg/options.hpp"

using rfmseg::ConfigError;
using rfmseg::cli::parse;

TEST(Options, defaults_and_overrides) {
  const auto p = parse({"rfmseg", "--input", "a.csv", "--input", "b*.csv", "--output", "r.h5", "--frequency", "lines",
                        "--day-first", "--snapshot", "2011-12-10"});
  EXPECT_FALSE(p.help);
  EXPECT_EQ(p.config.input.paths, (std::vector<std::string>{"a.csv", "b*.csv"}));
  EXPECT_EQ(p.config.output, "r.h5");
  EXPECT_EQ(p.config.rfm.frequency, rfmseg::FrequencyMode::lines);
  EXPECT_TRUE(p.config.input.day_first);
  ASSERT_TRUE(p.config.rfm.snapshot_day.has_value());
  EXPECT_EQ(rfmseg::format_day(*p.config.rfm.snapshot_day), "2011-12-10");
  EXPECT_EQ(p.config.rfm.cancellations, rfmseg::CancellationPolicy::drop);
  EXPECT_NE(p.config.resolved.find("frequency = lines"), std::string::npos);
}

TEST(Options, config_file_with_free_sections_and_command_line_override) {
  const std::string path = testing::TempDir() + "rfmseg_options_test.ini";
  {
    std::ofstream ini(path);
    ini << "# comment\n[input]\ninput = data.csv\nformat = online-retail\n[rfm]\nfrequency = days\ncancellations = net\n";
  }
  const auto p = parse({"rfmseg", "--config", path, "--frequency", "invoices", "--output", "x.h5"});
  EXPECT_EQ(p.config.input.paths, (std::vector<std::string>{"data.csv"}));
  EXPECT_EQ(p.config.input.format, rfmseg::Format::online_retail);
  EXPECT_EQ(p.config.rfm.frequency, rfmseg::FrequencyMode::invoices);  // command line wins
  EXPECT_EQ(p.config.rfm.cancellations, rfmseg::CancellationPolicy::net);
  std::remove(path.c_str());
}

TEST(Options, unknown_or_bad_values_are_clear_errors) {
  EXPECT_THROW((void)parse({"rfmseg", "--bogus"}), ConfigError);
  EXPECT_THROW((void)parse({"rfmseg", "--frequency", "weekly"}), ConfigError);
  EXPECT_THROW((void)parse({"rfmseg", "--snapshot", "2011-13-01"}), ConfigError);
  EXPECT_THROW((void)parse({"rfmseg", "--format", "excel"}), ConfigError);
  EXPECT_THROW((void)parse({"rfmseg", "--config", "/nonexistent/file.ini"}), ConfigError);
  const std::string path = testing::TempDir() + "rfmseg_options_bad.ini";
  {
    std::ofstream ini(path);
    ini << "[x]\nnot_an_option = 1\n";
  }
  try {
    (void)parse({"rfmseg", "--config", path});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("not_an_option"), std::string::npos);
  }
  std::remove(path.c_str());
}

TEST(Options, help_lists_every_option_with_defaults) {
  const auto p = parse({"rfmseg", "--help"});
  ASSERT_TRUE(p.help);
  for (const char* name : {"--input", "--output", "--config", "--format", "--col-customer", "--col-invoice", "--col-date",
                           "--col-quantity", "--col-price", "--col-amount", "--delimiter", "--no-header",
                           "--date-format", "--day-first", "--snapshot", "--frequency", "--cancellations", "--quiet",
                           "--progress"}) {
    EXPECT_NE(p.help_text.find(name), std::string::npos) << name;
  }
  EXPECT_NE(p.help_text.find("(=auto)"), std::string::npos);
}
