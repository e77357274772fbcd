#pragma once
// rfmseg-gen's command line: the options with their defaults, parsed and checked once
// (Boost.Program_options); nothing else in the generator sees the command line.

#include <cstdint>
#include <stdexcept>
#include <string>

namespace rfmseg::gen {

enum class Format { online_retail, online_retail_ii, amount };
enum class DateStyle { us, eu, iso, us2, mon, ymd };
enum class IdStyle { cs, padded };

struct Options {
  std::string output;
  std::string groups;  ///< ground-truth file; empty = none
  std::uint64_t lines = 0;
  std::uint64_t customers = 0;
  std::uint64_t seed = 42;
  double dirt = 0.02;
  Format format = Format::online_retail;
  DateStyle date_style = DateStyle::us;
  IdStyle id_style = IdStyle::cs;
  std::int64_t start_day = 0;  ///< first day of the period, days since 1970-01-01
  std::uint64_t days = 373;
  bool is_crlf = false;
  bool is_help = false;  ///< --help: print help_text() and exit; the other fields are unset
  std::uint64_t chunk_lines = std::uint64_t{1} << 18;
  // Consecutive nights (README "Test data"): night N = the period plus (N - 1) * night_days days.
  std::uint64_t night = 1;
  std::uint64_t night_days = 1;
  std::uint64_t move_night = 2;  ///< the movements of behaviour start with this night's new days
  double move_share = 0.25;      ///< share of loyal customers that stop, of churned ones that come back
  std::string truth;             ///< --truth: behaviour per night; empty = none
  /// Days of this night's file: the period and the days the later nights added.
  [[nodiscard]] std::uint64_t total_days() const { return days + (night - 1) * night_days; }
};

/// A command line the generator cannot run with; main prints it with "(see --help)".
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses and checks the command line; throws UsageError.
[[nodiscard]] Options parse_options(int argc, const char* const* argv);

/// The --help text: what the tool does, every option, the customer groups, the console output.
[[nodiscard]] std::string help_text();

}  // namespace rfmseg::gen
