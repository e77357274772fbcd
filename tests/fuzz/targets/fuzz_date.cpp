// libFuzzer target: the date parser and the civil calendar of include/rfmseg/core/date.hpp.
//
// Input layout (the first byte chooses):
//   0x01  structured: a FuzzedDataProvider recipe for a calendar date (valid or not, in range or
//         not) written in one of the layouts of DATA.md with random padding, case and time of day;
//         the parsers must return exactly the expected status and day number;
//   0x02  calendar: a day number; civil_from_days, days_from_civil and format_day must agree with
//         each other and with std::chrono's proleptic Gregorian calendar;
//   else  raw: the whole input is a date field, parsed by every parser configuration; the
//         results must be consistent (range, round trip through format_day, auto = the layout's
//         own parser, blank padding changes nothing, order conflicts only from slash dates). It
//         is also given to parse_date_format as a --date-format value.
// The oracle for day numbers is std::chrono (C++20 calendar), which shares no code with date.cpp.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fuzzer/FuzzedDataProvider.h>

#include "check.hpp"
#include "rfmseg/core/date.hpp"

namespace {

using rfmseg::DateFormat;
using rfmseg::DateParser;
using rfmseg::DateStatus;
using rfmseg::fuzz::show;
namespace chr = std::chrono;

const char* status_name(DateStatus status) {
  switch (status) {
    case DateStatus::ok: return "ok";
    case DateStatus::bad: return "bad";
    case DateStatus::order_conflict: return "order_conflict";
  }
  return "?";
}

/// Day number of y-m-d by std::chrono; the date must be valid.
std::int32_t chrono_days(int y, unsigned m, unsigned d) {
  const chr::year_month_day ymd{chr::year{y}, chr::month{m}, chr::day{d}};
  return static_cast<std::int32_t>(chr::sys_days{ymd}.time_since_epoch().count());
}

bool chrono_valid(int y, unsigned m, unsigned d) {
  return chr::year_month_day{chr::year{y}, chr::month{m}, chr::day{d}}.ok();
}

const std::int32_t first_day = chrono_days(1900, 1, 1);  // the parsers accept years 1900..2199
const std::int32_t last_day = chrono_days(2199, 12, 31);

struct Config {
  const char* name;
  DateParser parser;
};
const std::array<Config, 7> configs{{
    {"auto", DateParser(DateFormat::automatic, false)},
    {"auto day-first", DateParser(DateFormat::automatic, true)},
    {"iso", DateParser(DateFormat::iso)},
    {"mdy", DateParser(DateFormat::slash, false)},
    {"dmy", DateParser(DateFormat::slash, true)},
    {"yyyymmdd", DateParser(DateFormat::yyyymmdd)},
    {"dd-mon-yy", DateParser(DateFormat::dd_mon_yy)},
}};
enum Index { automatic, automatic_day_first, iso, mdy, dmy, yyyymmdd, dd_mon_yy };

struct Result {
  DateStatus status;
  std::int32_t day;
  bool operator==(const Result& o) const { return status == o.status && (status != DateStatus::ok || day == o.day); }
};

Result parse(const DateParser& parser, std::string_view text) {
  Result r{DateStatus::bad, 0};
  r.status = parser.parse(text, r.day);
  return r;
}

std::string show_result(const Result& r) {
  return std::string(status_name(r.status)) + (r.status == DateStatus::ok ? " day " + std::to_string(r.day) : "");
}

/// Day-number invariants of any accepted date.
void check_day(std::int32_t day, std::string_view text, const char* parser) {
  const auto where = [&] { return std::string(parser) + " parsed " + show(text) + " as day " + std::to_string(day); };
  FUZZ_CHECK(day >= first_day && day <= last_day, where() + ", outside 1900-01-01..2199-12-31");
  const rfmseg::CivilDate c = rfmseg::civil_from_days(day);
  FUZZ_CHECK(chrono_days(c.year, c.month, c.day) == day && chrono_valid(c.year, c.month, c.day),
             where() + ": civil_from_days gives " + std::to_string(c.year) + "-" + std::to_string(c.month) + "-" +
                 std::to_string(c.day));
  // The ISO text of the day is what the output writes (snapshot_date): it must parse back.
  const std::string iso_text = rfmseg::format_day(day);
  char expected[16];
  std::snprintf(expected, sizeof expected, "%04d-%02u-%02u", c.year, c.month, c.day);
  FUZZ_CHECK(iso_text == expected, where() + ": format_day gives " + show(iso_text));
  const Result back = parse(configs[iso].parser, iso_text);
  FUZZ_CHECK(back.status == DateStatus::ok && back.day == day,
             where() + ": its ISO text " + iso_text + " parses as " + show_result(back));
}

// ----------------------------------------------------------------------------------- raw text

/// The --date-format option: exactly the documented names are accepted, and each maps to the
/// format date_format_name reports ("mdy" and "dmy" are the slash format with an order).
void check_format_name(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> names{{{"auto", "auto"},
                                                                                       {"iso", "iso"},
                                                                                       {"mdy", "slash"},
                                                                                       {"dmy", "slash"},
                                                                                       {"slash", "slash"},
                                                                                       {"yyyymmdd", "yyyymmdd"},
                                                                                       {"dd-mon-yy", "dd-mon-yy"}}};
  const auto known = std::find_if(names.begin(), names.end(), [&](const auto& n) { return n.first == text; });
  bool day_first = text == "mdy";  // so that a change is visible
  try {
    const DateFormat format = rfmseg::parse_date_format(text, day_first);
    FUZZ_CHECK(known != names.end(), "parse_date_format accepted " + show(text));
    FUZZ_CHECK(rfmseg::date_format_name(format) == known->second,
               "parse_date_format(" + show(text) + ") is " + rfmseg::date_format_name(format));
    if (text == "mdy" || text == "dmy") FUZZ_CHECK(day_first == (text == "dmy"), "day order of " + show(text));
  } catch (const std::invalid_argument&) {
    FUZZ_CHECK(known == names.end(), "parse_date_format rejected " + show(text));
  }
}

void check_text(std::string_view text) {
  check_format_name(text);
  std::array<Result, configs.size()> results{};
  for (std::size_t i = 0; i < configs.size(); ++i) {
    results[i] = parse(configs[i].parser, text);
    if (results[i].status == DateStatus::ok) check_day(results[i].day, text, configs[i].name);
    // Blanks around the field are not part of the date.
    for (const std::string& padded :
         {" " + std::string(text), std::string(text) + "\t", "\t " + std::string(text) + "  "}) {
      const Result again = parse(configs[i].parser, padded);
      FUZZ_CHECK(again == results[i], std::string(configs[i].name) + ": " + show(text) + " is " +
                                          show_result(results[i]) + " but " + show(padded) + " is " +
                                          show_result(again));
    }
  }
  for (const Index i : {iso, yyyymmdd, dd_mon_yy})
    FUZZ_CHECK(results[i].status != DateStatus::order_conflict,
               std::string(configs[i].name) + " reported an order conflict for " + show(text));
  // A conflict means the other order reads the month and day fields the right way round.
  if (results[mdy].status == DateStatus::order_conflict)
    FUZZ_CHECK(results[dmy].status != DateStatus::order_conflict, "both orders conflict for " + show(text));
  // Automatic recognition only chooses a layout: its answer is that layout's parser's answer.
  for (const auto& [a, slash] : {std::pair{automatic, mdy}, std::pair{automatic_day_first, dmy}}) {
    bool matched = false;
    for (const Index explicit_layout : {iso, slash, yyyymmdd, dd_mon_yy})
      matched = matched || results[a] == results[explicit_layout];
    FUZZ_CHECK(matched, std::string(configs[a].name) + " parsed " + show(text) + " as " + show_result(results[a]) +
                            " which no layout's own parser gives");
    if (results[a].status == DateStatus::order_conflict)
      FUZZ_CHECK(results[slash].status == DateStatus::order_conflict,
                 "auto conflict without a slash conflict: " + show(text));
  }
}

// ------------------------------------------------------------------------------ structured

std::string number(int value, int width) {
  char text[16];
  std::snprintf(text, sizeof text, "%0*d", width, value);
  return text;
}

/// A time of day in one of the shapes exports use, valid or not; `valid` tells which.
std::string time_of_day(FuzzedDataProvider& in, bool& valid) {
  valid = true;
  if (in.ConsumeBool()) return "";
  std::string text = in.ConsumeBool() ? " " : "T";
  const int hour = in.ConsumeIntegralInRange(0, 25);
  const int minute = in.ConsumeIntegralInRange(0, 60);
  valid = hour <= 23 && minute <= 59;
  text += number(hour, in.ConsumeBool() ? 2 : 1) + ":" + number(minute, 2);
  if (in.ConsumeBool()) {
    const int second = in.ConsumeIntegralInRange(0, 61);
    valid = valid && second <= 60;  // 60: a leap second
    text += ":" + number(second, 2);
    if (in.ConsumeBool()) text += "." + number(in.ConsumeIntegralInRange(0, 999), 3);
  }
  if (in.ConsumeBool()) text += std::array<const char*, 4>{" AM", " PM", " am", "pm"}[in.ConsumeIntegralInRange(0, 3)];
  return text;
}

void check_structured(FuzzedDataProvider& in) {
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int year = in.ConsumeIntegralInRange(1850, 2250);
  const int month = in.ConsumeIntegralInRange(0, 33);  // 13..31: a day in the month field
  const int day = in.ConsumeIntegralInRange(0, 32);
  const bool two_digit_year = in.ConsumeBool();
  const bool pad = in.ConsumeBool();
  bool time_valid = true;
  const std::string time = time_of_day(in, time_valid);
  const int layout = in.ConsumeIntegralInRange(0, 4);

  std::string text;
  std::string year_text = number(year, 4);
  if (two_digit_year) {
    // A two-digit year means 2000..2068 for 00..68 and 1969..1999 for 69..99.
    const int yy = year % 100;
    year_text = number(yy, 2);
    year = yy <= 68 ? 2000 + yy : 1900 + yy;
  }
  bool expect_conflict = false;
  std::size_t parser = automatic;
  switch (layout) {
    case 0:  // ISO: four-digit year only
      year_text = number(year, 4);
      text = year_text + "-" + number(month, pad ? 2 : 1) + "-" + number(day, pad ? 2 : 1) + time;
      parser = iso;
      break;
    case 1:  // M/D/Y
    case 2:  // D/M/Y
      if (layout == 1)
        text = number(month, pad ? 2 : 1) + "/" + number(day, pad ? 2 : 1);
      else
        text = number(day, pad ? 2 : 1) + "/" + number(month, pad ? 2 : 1);
      text += "/" + year_text + time;
      parser = layout == 1 ? mdy : dmy;
      expect_conflict = month >= 13 && month <= 31 && day >= 1 && day <= 12;
      break;
    case 3:  // YYYYMMDD, no time
      year_text = number(year, 4);
      text = year_text + number(month, 2) + number(day, 2);
      parser = yyyymmdd;
      time_valid = true;
      break;
    case 4: {  // DD-Mon-YY or DD Mon YYYY; months outside 1..12 get a non-month word
      std::string name = month >= 1 && month <= 12 ? months[static_cast<std::size_t>(month - 1)] : "Foo";
      for (char& c : name)
        if (in.ConsumeBool()) c = static_cast<char>(c ^ 0x20);  // any letter case
      const char sep = in.ConsumeBool() ? '-' : ' ';
      text = number(day, pad ? 2 : 1) + sep + name + sep + year_text + time;
      parser = dd_mon_yy;
      break;
    }
  }
  Result expected{DateStatus::bad, 0};
  if (expect_conflict && time_valid) {
    expected.status = DateStatus::order_conflict;
  } else if (time_valid && year >= 1900 && year <= 2199 && month >= 1 && month <= 12 && day >= 1 &&
             chrono_valid(year, static_cast<unsigned>(month), static_cast<unsigned>(day))) {
    expected = {DateStatus::ok, chrono_days(year, static_cast<unsigned>(month), static_cast<unsigned>(day))};
  }
  const Result got = parse(configs[parser].parser, text);
  FUZZ_CHECK(got == expected, std::string(configs[parser].name) + " parsed " + show(text) + " as " + show_result(got) +
                                  ", expected " + show_result(expected));
  // Automatic recognition reads every layout alike (slash dates in the configured order).
  const Index automatic_for = parser == dmy ? automatic_day_first : automatic;
  const Result recognised = parse(configs[automatic_for].parser, text);
  FUZZ_CHECK(recognised == expected, std::string(configs[automatic_for].name) + " parsed " + show(text) + " as " +
                                         show_result(recognised) + ", expected " + show_result(expected));
  check_text(text);
}

// -------------------------------------------------------------------------------- calendar

void check_calendar(FuzzedDataProvider& in) {
  // std::chrono's years span -32767..32767: compare within them; beyond, only the round trip.
  const std::int32_t lo = chrono_days(-32767, 1, 1), hi = chrono_days(32767, 12, 31);
  const bool wide = in.ConsumeBool();
  const std::int32_t day = wide ? in.ConsumeIntegralInRange<std::int32_t>(-2'000'000'000, 2'000'000'000)
                                : in.ConsumeIntegralInRange<std::int32_t>(lo, hi);
  const rfmseg::CivilDate c = rfmseg::civil_from_days(day);
  const auto where = [&] {
    return "day " + std::to_string(day) + " -> " + std::to_string(c.year) + "-" + std::to_string(c.month) + "-" +
           std::to_string(c.day);
  };
  FUZZ_CHECK(c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= 31, where());
  FUZZ_CHECK(rfmseg::days_from_civil(c.year, c.month, c.day) == day,
             where() + ": days_from_civil does not give it back");
  if (day >= lo && day <= hi) {
    const chr::year_month_day ymd{chr::sys_days{chr::days{day}}};
    FUZZ_CHECK(static_cast<int>(ymd.year()) == c.year && static_cast<unsigned>(ymd.month()) == c.month &&
                   static_cast<unsigned>(ymd.day()) == c.day,
               where() + ", std::chrono says " + std::to_string(static_cast<int>(ymd.year())) + "-" +
                   std::to_string(static_cast<unsigned>(ymd.month())) + "-" +
                   std::to_string(static_cast<unsigned>(ymd.day())));
  }
  // The next day number is the next calendar day.
  if (day < 2'000'000'000) {
    const rfmseg::CivilDate n = rfmseg::civil_from_days(day + 1);
    const bool next = (n.year == c.year && n.month == c.month && n.day == c.day + 1) ||
                      (n.year == c.year && n.month == c.month + 1 && n.day == 1) ||
                      (n.year == c.year + 1 && c.month == 12 && n.month == 1 && n.day == 1);
    FUZZ_CHECK(next, where() + ", but the day after is " + std::to_string(n.year) + "-" + std::to_string(n.month) +
                         "-" + std::to_string(n.day));
  }
  if (day >= first_day && day <= last_day) check_day(day, "(day number)", "calendar");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0 && (data[0] == 1 || data[0] == 2)) {
    FuzzedDataProvider in(data + 1, size - 1);
    if (data[0] == 1)
      check_structured(in);
    else
      check_calendar(in);
    return 0;
  }
  if (size > 256) return 0;  // a date field is short; long inputs only slow the search down
  check_text(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
