#include "gen/options.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "gen/calendar.hpp"

namespace rfmseg::gen {

namespace {

bool parse_u64(std::string_view text, u64& out) {
  if (text.empty() || text.size() > 20) return false;
  u64 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const u64 digit = static_cast<u64>(c - '0');
    if (value > (~u64{0} - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

bool parse_date(std::string_view text, i64& out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  u64 y = 0, m = 0, d = 0;
  if (!parse_u64(text.substr(0, 4), y) || !parse_u64(text.substr(5, 2), m) || !parse_u64(text.substr(8, 2), d)) {
    return false;
  }
  if (y < 1000 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  const i64 z = days_from_civil(static_cast<i64>(y), static_cast<unsigned>(m), static_cast<unsigned>(d));
  const Civil back = civil_from_days(z);
  if (back.m != m || back.d != d) return false;  // 2011-02-30 and the like
  out = z;
  return true;
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0) {
      const auto eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_value = true;
      }
    }
    auto flag = [&](const char* name) {
      if (has_value) throw UsageError(std::string("option ") + name + " takes no value");
    };
    auto next = [&](const char* name) -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) throw UsageError(std::string("option ") + name + " needs a value");
      return argv[++i];
    };
    auto number = [&](const char* name) -> u64 {
      const std::string text = next(name);
      u64 v = 0;
      if (!parse_u64(text, v)) throw UsageError(std::string("bad value for ") + name + ": '" + text + "'");
      return v;
    };
    if (arg == "--help" || arg == "-h") {
      flag("--help");
      opt.help = true;
    } else if (arg == "--output") {
      opt.output = next("--output");
      if (opt.output.empty()) throw UsageError("--output must not be empty");
    } else if (arg == "--groups") {
      opt.groups = next("--groups");
      if (opt.groups.empty()) throw UsageError("--groups must not be empty");
    } else if (arg == "--lines") {
      opt.lines = number("--lines");
      opt.lines_set = true;
      if (opt.lines > (u64{1} << 46)) throw UsageError("--lines is too large (max 2^46)");
    } else if (arg == "--customers") {
      opt.customers = number("--customers");
      opt.customers_set = true;
      if (opt.customers < 1 || opt.customers > 0x7fffffffULL) {
        throw UsageError("--customers must be between 1 and 2147483647");
      }
    } else if (arg == "--seed") {
      opt.seed = number("--seed");
    } else if (arg == "--days") {
      opt.days = number("--days");
      if (opt.days < 1 || opt.days > 36500) throw UsageError("--days must be between 1 and 36500");
    } else if (arg == "--dirt") {
      const std::string text = next("--dirt");
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !(v >= 0.0 && v <= 1.0)) {
        throw UsageError("bad value for --dirt: '" + text + "' (expected a number in [0, 1])");
      }
      opt.dirt = v;
    } else if (arg == "--format") {
      const std::string text = next("--format");
      if (text == "online-retail") opt.format = Format::online_retail;
      else if (text == "online-retail-ii") opt.format = Format::online_retail_ii;
      else if (text == "amount") opt.format = Format::amount;
      else throw UsageError("bad value for --format: '" + text + "' (online-retail, online-retail-ii, amount)");
    } else if (arg == "--date-style") {
      const std::string text = next("--date-style");
      if (text == "us") opt.date_style = DateStyle::us;
      else if (text == "eu") opt.date_style = DateStyle::eu;
      else if (text == "iso") opt.date_style = DateStyle::iso;
      else if (text == "us2") opt.date_style = DateStyle::us2;
      else if (text == "mon") opt.date_style = DateStyle::mon;
      else if (text == "ymd") opt.date_style = DateStyle::ymd;
      else throw UsageError("bad value for --date-style: '" + text + "' (us, eu, iso, us2, mon, ymd)");
      opt.date_style_set = true;
    } else if (arg == "--id-style") {
      const std::string text = next("--id-style");
      if (text == "cs") opt.id_style = IdStyle::cs;
      else if (text == "padded") opt.id_style = IdStyle::padded;
      else throw UsageError("bad value for --id-style: '" + text + "' (cs, padded)");
    } else if (arg == "--start") {
      opt.start_text = next("--start");
      if (!parse_date(opt.start_text, opt.start_day)) {
        throw UsageError("bad value for --start: '" + opt.start_text + "' (expected YYYY-MM-DD)");
      }
    } else if (arg == "--chunk-lines") {
      opt.chunk_lines = number("--chunk-lines");
      if (opt.chunk_lines < 1 || opt.chunk_lines > (u64{1} << 24)) {
        throw UsageError("--chunk-lines must be between 1 and 16777216");
      }
    } else if (arg == "--crlf") {
      flag("--crlf");
      opt.crlf = true;
    } else {
      throw UsageError("unknown option '" + arg + "'");
    }
  }
  if (opt.help) return opt;
  if (!parse_date(opt.start_text, opt.start_day)) throw UsageError("bad --start");
  if (opt.output.empty()) throw UsageError("--output is required");
  if (!opt.lines_set) throw UsageError("--lines is required");
  if (!opt.customers_set) opt.customers = std::max<u64>(1, opt.lines / 20);
  if (opt.customers > 0x7fffffffULL) opt.customers = 0x7fffffffULL;
  if (!opt.date_style_set) {
    opt.date_style = opt.format == Format::online_retail      ? DateStyle::us
                     : opt.format == Format::online_retail_ii ? DateStyle::iso
                                                              : DateStyle::mon;
  }
  const i64 first_year = civil_from_days(opt.start_day).y;
  const i64 last_year = civil_from_days(opt.start_day + static_cast<i64>(opt.days) - 1).y;
  if (opt.date_style == DateStyle::us2 || opt.date_style == DateStyle::mon) {
    if (first_year < 1969 || last_year > 2068) {
      throw UsageError("two-digit years (date style us2/mon) need a period within 1969..2068");
    }
  } else if (first_year < 1000 || last_year > 9999) {
    throw UsageError("the period must lie within the years 1000..9999");
  }
  if (!opt.groups.empty() && opt.groups == opt.output) throw UsageError("--groups and --output are the same file");
  return opt;
}

}  // namespace rfmseg::gen
