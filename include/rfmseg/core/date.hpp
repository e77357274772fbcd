#pragma once
// Calendar dates as day numbers (days since 1970-01-01, proleptic Gregorian) and the date layouts
// that shop exports use. Only the calendar day matters for RFM; a time of day is validated and
// ignored.

#include <cstdint>
#include <string>
#include <string_view>

namespace rfmseg {

/// Day number of a civil date (Howard Hinnant's algorithm); no validation.
[[nodiscard]] constexpr std::int32_t days_from_civil(int year, unsigned month, unsigned day) noexcept {
  year -= month <= 2;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

struct CivilDate {
  int year;
  unsigned month;  ///< 1..12
  unsigned day;    ///< 1..31
};

/// Civil date of a day number (inverse of days_from_civil).
[[nodiscard]] CivilDate civil_from_days(std::int32_t day) noexcept;

/// "YYYY-MM-DD" of a day number.
[[nodiscard]] std::string format_day(std::int32_t day);

enum class DateFormat {
  automatic,  ///< each value by its shape: ISO, slash (M/D or D/M), YYYYMMDD, DD-Mon-YY
  iso,        ///< YYYY-MM-DD[ HH:MM[:SS]] (also a 'T' separator)
  slash,      ///< M/D/YYYY H:MM or M/D/YY H:MM (D/M with day_first)
  yyyymmdd,   ///< 19970101
  dd_mon_yy,  ///< 14-Jan-15 or 14-Jan-2015
};

/// Parses a date option value ("auto", "iso", "mdy", "dmy", "yyyymmdd", "dd-mon-yy"); throws
/// std::invalid_argument otherwise. "mdy"/"dmy" set `day_first`.
DateFormat parse_date_format(std::string_view name, bool& day_first);
[[nodiscard]] const char* date_format_name(DateFormat format);

enum class DateStatus {
  ok,
  bad,             ///< not a date in any accepted layout, or not a real calendar day
  order_conflict,  ///< a slash date whose month field exceeds 12: the day/month order is wrong
};

/// What a slash date read in the configured order says about that order.
enum class DateOrderEvidence : std::uint8_t {
  none,       ///< not a slash date, not a valid one, or one both orders read alike (5/5/2011)
  ambiguous,  ///< both fields <= 12: the other order would read it too (as another day)
  confirmed,  ///< the day field is above 12: only the configured order reads it
};

class DateParser {
 public:
  DateParser(DateFormat format = DateFormat::automatic, bool day_first = false)
      : _format(format), _day_first(day_first) {}
  /// Parses `text` into a day number. Years outside 1900..2199 are `bad`.
  DateStatus parse(std::string_view text, std::int32_t& day) const noexcept {
    DateOrderEvidence ignored{};
    return parse(text, day, ignored);
  }
  /// The same, and for an `ok` slash date whether it shows the day/month order (else `none`).
  DateStatus parse(std::string_view text, std::int32_t& day, DateOrderEvidence& evidence) const noexcept;

 private:
  DateFormat _format;
  bool _day_first;
};

}  // namespace rfmseg
