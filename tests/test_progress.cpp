// --progress and --status-file (src/app/progress.cpp): the status file is complete JSON after
// every event, follows the run's phases, and ends with the exit status; no temporary is left.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "rfmseg/app/progress.hpp"

using namespace rfmseg;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(Progress, status_file_follows_the_run_and_ends_with_the_exit_status) {
  const auto dir = std::filesystem::temp_directory_path() / ("rfmseg-progress-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  RunConfig config;
  config.status_file = (dir / "status.json").string();
  config.model.k_min = 2;
  config.model.k_max = 5;
  {
    ProgressReporter reporter(config, 0.0);
    progress::phase_started("ingest");
    std::string s = read_file(config.status_file);
    EXPECT_TRUE(has(s, "\"state\": \"running\"")) << s;
    EXPECT_TRUE(has(s, "\"phase\": \"ingest\"")) << s;
    EXPECT_TRUE(has(s, "\"exit_status\": null")) << s;
    progress::ingest(1, 25'000'000, 100'000'000);
    progress::phase_done("ingest", 1.5);
    s = read_file(config.status_file);
    EXPECT_TRUE(has(s, "\"last_event\": \"phase ingest done in 1.50 s\"")) << s;
    EXPECT_TRUE(has(s, "\"phase_fraction\": 1.0000")) << s;
    progress::phase_started("kmeans");
    progress::kmeans(3, 4, 10, 7, std::nan(""));
    reporter.finish(4, "stopped by SIGTERM at k-means k = 3, restart 5/10, iteration 7");
  }
  const std::string s = read_file(config.status_file);
  EXPECT_TRUE(has(s, "\"state\": \"stopped\"")) << s;
  EXPECT_TRUE(has(s, "\"phase\": \"kmeans\"")) << s;
  EXPECT_TRUE(has(s, "\"exit_status\": 4")) << s;
  EXPECT_TRUE(has(s, "\"last_event\": \"finished: stopped (exit status 4): stopped by SIGTERM at k-means k = 3")) << s;
  EXPECT_EQ(s.front(), '{');
  EXPECT_EQ(s.substr(s.size() - 2), "}\n");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "status.json");  // no temporary left behind
  }
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

TEST(Progress, an_unwritable_status_file_is_a_warning_not_a_failure) {
  RunConfig config;
  config.status_file = "/nonexistent-directory/status.json";
  ProgressReporter reporter(config, 0.0);
  EXPECT_NO_THROW(progress::phase_started("ingest"));
  EXPECT_NO_THROW(reporter.finish(0, ""));
}
