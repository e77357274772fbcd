#include "rfmseg/core/date.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace rfmseg {

CivilDate civil_from_days(std::int32_t day) noexcept {
  const int z = day + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y0 = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y0 + (m <= 2 ? 1 : 0), m, d};
}

std::string format_day(std::int32_t day) {
  const CivilDate c = civil_from_days(day);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", c.year, c.month, c.day);
  return text;
}

DateFormat parse_date_format(std::string_view name, bool& day_first) {
  if (name == "auto") return DateFormat::automatic;
  if (name == "iso") return DateFormat::iso;
  if (name == "mdy") {
    day_first = false;
    return DateFormat::slash;
  }
  if (name == "dmy") {
    day_first = true;
    return DateFormat::slash;
  }
  if (name == "slash") return DateFormat::slash;
  if (name == "yyyymmdd") return DateFormat::yyyymmdd;
  if (name == "dd-mon-yy") return DateFormat::dd_mon_yy;
  throw std::invalid_argument("unknown date format '" + std::string(name) +
                              "' (expected auto, iso, mdy, dmy, yyyymmdd or dd-mon-yy)");
}

const char* date_format_name(DateFormat format) {
  switch (format) {
    case DateFormat::automatic: return "auto";
    case DateFormat::iso: return "iso";
    case DateFormat::slash: return "slash";
    case DateFormat::yyyymmdd: return "yyyymmdd";
    case DateFormat::dd_mon_yy: return "dd-mon-yy";
  }
  return "?";
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads 1..max_digits digits at text[pos]; advances pos.
bool read_number(std::string_view text, std::size_t& pos, int min_digits, int max_digits, int& value) {
  value = 0;
  int digits = 0;
  while (pos < text.size() && is_digit(text[pos]) && digits < max_digits) {
    value = value * 10 + (text[pos] - '0');
    ++pos;
    ++digits;
  }
  return digits >= min_digits && !(pos < text.size() && is_digit(text[pos]));
}

bool valid_day(int year, int month, int day) {
  if (year < 1900 || year > 2199 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= lengths[month - 1] + (month == 2 && leap ? 1 : 0);
}

// Optional time of day after the date: [ T]H:MM[:SS[.fff]]. Validated, then ignored.
bool valid_time_suffix(std::string_view text, std::size_t pos) {
  if (pos == text.size()) return true;
  if (text[pos] != ' ' && text[pos] != 'T') return false;
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == 'T')) ++pos;
  if (pos == text.size()) return true;
  int hour = 0, minute = 0, second = 0;
  if (!read_number(text, pos, 1, 2, hour) || hour > 23) return false;
  if (pos == text.size() || text[pos] != ':') return false;
  ++pos;
  if (!read_number(text, pos, 2, 2, minute) || minute > 59) return false;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!read_number(text, pos, 2, 2, second) || second > 60) return false;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      while (pos < text.size() && is_digit(text[pos])) ++pos;
    }
  }
  // Optional AM/PM marker is tolerated.
  while (pos < text.size() && text[pos] == ' ') ++pos;
  const std::string_view rest = text.substr(pos);
  return rest.empty() || rest == "AM" || rest == "PM" || rest == "am" || rest == "pm";
}

int two_digit_year(int yy) { return yy <= 68 ? 2000 + yy : 1900 + yy; }

DateStatus finish(int year, int month, int day, std::int32_t& out) {
  if (!valid_day(year, month, day)) return DateStatus::bad;
  out = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return DateStatus::ok;
}

DateStatus parse_iso(std::string_view text, std::int32_t& out) {
  std::size_t pos = 0;
  int y = 0, m = 0, d = 0;
  if (!read_number(text, pos, 4, 4, y) || pos >= text.size() || text[pos] != '-') return DateStatus::bad;
  ++pos;
  if (!read_number(text, pos, 1, 2, m) || pos >= text.size() || text[pos] != '-') return DateStatus::bad;
  ++pos;
  if (!read_number(text, pos, 1, 2, d) || !valid_time_suffix(text, pos)) return DateStatus::bad;
  return finish(y, m, d, out);
}

DateStatus parse_slash(std::string_view text, bool day_first, std::int32_t& out, DateOrderEvidence& evidence) {
  std::size_t pos = 0;
  int a = 0, b = 0, y = 0;
  if (!read_number(text, pos, 1, 2, a) || pos >= text.size() || text[pos] != '/') return DateStatus::bad;
  ++pos;
  if (!read_number(text, pos, 1, 2, b) || pos >= text.size() || text[pos] != '/') return DateStatus::bad;
  ++pos;
  const std::size_t year_start = pos;
  if (!read_number(text, pos, 2, 4, y) || pos - year_start == 3) return DateStatus::bad;
  if (pos - year_start == 2) y = two_digit_year(y);
  if (!valid_time_suffix(text, pos)) return DateStatus::bad;
  const int month = day_first ? b : a;
  const int day = day_first ? a : b;
  // A month field of 13..31 with a valid month in the day field: the file's order is the other one.
  if (month > 12 && month <= 31 && day >= 1 && day <= 12) return DateStatus::order_conflict;
  const DateStatus status = finish(y, month, day, out);
  if (status == DateStatus::ok)
    evidence = day > 12       ? DateOrderEvidence::confirmed
               : day != month ? DateOrderEvidence::ambiguous
                              : DateOrderEvidence::none;
  return status;
}

DateStatus parse_yyyymmdd(std::string_view text, std::int32_t& out) {
  if (text.size() != 8) return DateStatus::bad;
  for (char c : text)
    if (!is_digit(c)) return DateStatus::bad;
  const int v = std::stoi(std::string(text));
  return finish(v / 10000, v / 100 % 100, v % 100, out);
}

int month_from_name(std::string_view name) {
  static constexpr const char* names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() != 3) return 0;
  for (int i = 0; i < 12; ++i) {
    bool same = true;
    for (int j = 0; j < 3; ++j) {
      const char c = static_cast<char>(name[static_cast<std::size_t>(j)] | 0x20);
      same = same && c == names[i][j];
    }
    if (same) return i + 1;
  }
  return 0;
}

DateStatus parse_dd_mon_yy(std::string_view text, std::int32_t& out) {
  std::size_t pos = 0;
  int d = 0, y = 0;
  if (!read_number(text, pos, 1, 2, d) || pos >= text.size() || (text[pos] != '-' && text[pos] != ' '))
    return DateStatus::bad;
  const char sep = text[pos];
  ++pos;
  if (pos + 3 > text.size()) return DateStatus::bad;
  const int m = month_from_name(text.substr(pos, 3));
  pos += 3;
  if (m == 0 || pos >= text.size() || text[pos] != sep) return DateStatus::bad;
  ++pos;
  const std::size_t year_start = pos;
  if (!read_number(text, pos, 2, 4, y) || pos - year_start == 3) return DateStatus::bad;
  if (pos - year_start == 2) y = two_digit_year(y);
  if (!valid_time_suffix(text, pos)) return DateStatus::bad;
  return finish(y, m, d, out);
}

}  // namespace

DateStatus DateParser::parse(std::string_view text, std::int32_t& day, DateOrderEvidence& evidence) const noexcept {
  evidence = DateOrderEvidence::none;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return DateStatus::bad;
  switch (_format) {
    case DateFormat::iso: return parse_iso(text, day);
    case DateFormat::slash: return parse_slash(text, _day_first, day, evidence);
    case DateFormat::yyyymmdd: return parse_yyyymmdd(text, day);
    case DateFormat::dd_mon_yy: return parse_dd_mon_yy(text, day);
    case DateFormat::automatic: break;
  }
  // Recognise the layout by shape.
  if (text.size() >= 5 && is_digit(text[0]) && is_digit(text[1]) && is_digit(text[2]) && is_digit(text[3]) &&
      text[4] == '-')
    return parse_iso(text, day);
  if (text.find('/') != std::string_view::npos) return parse_slash(text, _day_first, day, evidence);
  if (text.size() == 8 && std::all_of(text.begin(), text.end(), is_digit)) return parse_yyyymmdd(text, day);
  return parse_dd_mon_yy(text, day);
}

}  // namespace rfmseg
