#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "rfmseg/app/options.hpp"
#include "rfmseg/core/errors.hpp"

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
    ini << "# comment\n[input]\ninput = data.csv\nformat = online-retail\n[rfm]\nfrequency = days\ncancellations = "
           "net\n";
  }
  const auto p = parse({"rfmseg", "--config", path, "--frequency", "invoices", "--output", "x.h5"});
  EXPECT_EQ(p.config.input.paths, (std::vector<std::string>{"data.csv"}));
  EXPECT_EQ(p.config.input.format, rfmseg::Format::online_retail);
  EXPECT_EQ(p.config.rfm.frequency, rfmseg::FrequencyMode::invoices);  // command line wins
  EXPECT_EQ(p.config.rfm.cancellations, rfmseg::CancellationPolicy::net);
  std::remove(path.c_str());
}

TEST(Options, progress_and_status_file_from_the_config_file) {
  const std::string path = testing::TempDir() + "rfmseg_options_progress.ini";
  {
    std::ofstream ini(path);
    ini << "[monitoring]\nprogress = true\nstatus-file = /run/rfmseg/status.json\n";
  }
  const auto p = parse({"rfmseg", "--config", path, "--output", "x.h5"});
  EXPECT_TRUE(p.config.progress);
  EXPECT_EQ(p.config.status_file, "/run/rfmseg/status.json");
  const auto q = parse({"rfmseg", "--config", path, "--status-file", "s.json", "--output", "x.h5"});
  EXPECT_EQ(q.config.status_file, "s.json");  // the command line wins
  const auto help = parse({"rfmseg", "--help"}).help_text;
  for (const char* part : {"--status-file", "--progress", "replaced atomically", "carriage-return"})
    EXPECT_NE(help.find(part), std::string::npos) << part;
  std::remove(path.c_str());
}

TEST(Options, window_in_days_is_a_result_option) {
  EXPECT_EQ(parse({"rfmseg", "--output", "x.h5"}).config.rfm.window_days, 0);
  const auto p = parse({"rfmseg", "--output", "x.h5", "--window", "365"});
  EXPECT_EQ(p.config.rfm.window_days, 365);
  EXPECT_NE(p.config.result_options.find("window"), std::string::npos) << "a resumed run may not change it";
  EXPECT_THROW((void)parse({"rfmseg", "--window", "-1"}), ConfigError);
  EXPECT_THROW((void)parse({"rfmseg", "--window", "a year"}), ConfigError);
  EXPECT_THROW((void)parse({"rfmseg", "--window", "3650001"}), ConfigError);
  EXPECT_NE(parse({"rfmseg", "--help"}).help_text.find("outside_window"), std::string::npos);
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
  for (const char* name :
       {"--input", "--output", "--config", "--format", "--col-customer", "--col-invoice", "--col-date",
        "--col-quantity", "--col-price", "--col-amount", "--delimiter", "--no-header", "--date-format", "--day-first",
        "--snapshot", "--frequency", "--cancellations", "--quiet", "--progress"}) {
    EXPECT_NE(p.help_text.find(name), std::string::npos) << name;
  }
  EXPECT_NE(p.help_text.find("(=auto)"), std::string::npos);
}

TEST(Options, help_documents_every_exit_status) {
  const auto p = parse({"rfmseg", "--help"});
  ASSERT_TRUE(p.help);
  for (const char* status : {"0  success", "1  bad input or configuration", "2  internal error",
                             "3  a rank or host stopped responding", "4  stopped by a signal"})
    EXPECT_NE(p.help_text.find(status), std::string::npos) << status;
}

TEST(Options, words_that_belong_to_no_option_are_errors) {
  // `--input *.csv` unquoted: the shell expands it, the second file is a stray word.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"rfmseg", "--input", "a.csv", "b.csv", "--output", "r.h5"},
        std::vector<std::string>{"rfmseg", "--input", "a.csv", "--output", "r.h5", "garbage"},
        std::vector<std::string>{"rfmseg", "--input", "a.csv", "--", "--output"}}) {
    try {
      (void)parse(args);
      ADD_FAILURE() << "no error for " << args[3];
    } catch (const ConfigError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("unexpected word"), std::string::npos) << message;
      EXPECT_NE(message.find("quote a glob"), std::string::npos) << message;
      EXPECT_NE(message.find("repeat --input"), std::string::npos) << message;
    }
  }
  try {
    (void)parse({"rfmseg", "--input", "a.csv", "b.csv", "c.csv", "d.csv", "e.csv", "f.csv", "g.csv", "h.csv"});
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'b.csv', 'c.csv', 'd.csv', 'e.csv', 'f.csv' and 2 more"), std::string::npos)
        << e.what();
  }
}

TEST(Options, config_must_be_a_readable_regular_file_without_command_line_only_keys) {
  const auto message_of = [](const std::vector<std::string>& args) {
    try {
      (void)parse(args);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message_of({"rfmseg", "--config", testing::TempDir()}).find("is a directory"), std::string::npos);
  EXPECT_NE(message_of({"rfmseg", "--config", "/dev/zero"}).find("is not a regular file"), std::string::npos);
  EXPECT_NE(message_of({"rfmseg", "--config", "/nonexistent/x.ini"}).find("No such file"), std::string::npos);
  const std::string path = testing::TempDir() + "rfmseg_options_nested.ini";
  for (const char* key : {"config = other.ini", "help = true", "version = 1"}) {
    {
      std::ofstream ini(path);
      ini << "[x]\nk = 3\n" << key << "\n";
    }
    const std::string message = message_of({"rfmseg", "--config", path});
    EXPECT_NE(message.find("sets '" + std::string(key).substr(0, std::string(key).find(' ')) + "'"), std::string::npos)
        << key << ": " << message;
  }
  std::remove(path.c_str());
}

TEST(Options, date_order_stated_or_assumed) {
  EXPECT_FALSE(parse({"rfmseg"}).config.input.date_order_stated);
  EXPECT_FALSE(parse({"rfmseg"}).config.input.day_first);
  const auto month = parse({"rfmseg", "--month-first"}).config.input;
  EXPECT_TRUE(month.date_order_stated);
  EXPECT_FALSE(month.day_first);
  const auto day = parse({"rfmseg", "--day-first"}).config.input;
  EXPECT_TRUE(day.date_order_stated);
  EXPECT_TRUE(day.day_first);
  EXPECT_TRUE(parse({"rfmseg", "--date-format", "dmy"}).config.input.date_order_stated);
  EXPECT_TRUE(parse({"rfmseg", "--date-format", "mdy", "--month-first"}).config.input.date_order_stated);
  EXPECT_THROW((void)parse({"rfmseg", "--day-first", "--month-first"}), ConfigError);
  EXPECT_THROW((void)parse({"rfmseg", "--date-format", "mdy", "--day-first"}), ConfigError);
  EXPECT_THROW((void)parse({"rfmseg", "--date-format", "dmy", "--month-first"}), ConfigError);
}

TEST(Options, duplicates_policy) {
  EXPECT_EQ(parse({"rfmseg"}).config.input.duplicates, rfmseg::DuplicatePolicy::automatic);
  EXPECT_EQ(parse({"rfmseg", "--duplicates", "drop"}).config.input.duplicates, rfmseg::DuplicatePolicy::drop);
  const auto keep = parse({"rfmseg", "--duplicates", "keep"});
  EXPECT_EQ(keep.config.input.duplicates, rfmseg::DuplicatePolicy::keep);
  EXPECT_NE(keep.config.resolved.find("duplicates = keep"), std::string::npos);
  EXPECT_THROW((void)parse({"rfmseg", "--duplicates", "some"}), ConfigError);
}

TEST(Options, score_replays_the_models_configuration_under_the_command_line) {
  using rfmseg::cli::parse_score;
  // What a model run recorded (its resolved configuration): layout, cleaning, its own run's paths.
  const auto recorded = parse({"rfmseg", "--input", "train.csv", "--output", "model.h5", "--cancellations", "net",
                               "--day-first", "--frequency", "days", "--snapshot", "2011-01-01", "--k", "7",
                               "--transform-monetary", "log1p", "--rejects", "old.csv"})
                            .config.resolved;
  const std::vector<std::string> args{"rfmseg",  "score",    "--model",   "model.h5",    "--input",
                                      "new.csv", "--output", "scored.h5", "--frequency", "invoices"};
  const auto first = parse_score(args, nullptr);
  EXPECT_FALSE(first.help);
  EXPECT_EQ(first.model, "model.h5");
  const auto p = parse_score(args, &recorded);
  EXPECT_EQ(p.config.input.paths, (std::vector<std::string>{"new.csv"}));  // never the model's input
  EXPECT_EQ(p.config.output, "scored.h5");
  EXPECT_EQ(p.config.rejects, "");
  EXPECT_FALSE(p.config.rfm.snapshot_day.has_value());                     // from the data unless --snapshot
  EXPECT_EQ(p.config.rfm.cancellations, rfmseg::CancellationPolicy::net);  // the model's
  EXPECT_TRUE(p.config.input.day_first);
  EXPECT_EQ(p.config.rfm.frequency, rfmseg::FrequencyMode::invoices);  // the command line wins
  EXPECT_EQ(p.config.model.k, 7);                                      // recorded, for /run
  EXPECT_EQ(p.config.model.transform[2], rfmseg::Transform::log1p);
  EXPECT_NE(p.config.resolved.find("model = model.h5"), std::string::npos);

  EXPECT_THROW(
      (void)parse_score({"rfmseg", "score", "--model", "m.h5", "--input", "a", "--output", "b", "--k", "3"}, nullptr),
      ConfigError);
  EXPECT_THROW((void)parse_score({"rfmseg", "score", "--input", "a", "--output", "b"}, nullptr), ConfigError);
  EXPECT_THROW((void)parse_score(
                   {"rfmseg", "score", "--model", "m.h5", "--input", "a", "--output", "b", "--export", "dir"}, nullptr),
               ConfigError);
  const auto help = parse_score({"rfmseg", "score", "--help"}, nullptr);
  EXPECT_TRUE(help.help);
  EXPECT_NE(help.help_text.find("--model"), std::string::npos);
  EXPECT_NE(help.help_text.find("frozen"), std::string::npos);
}
