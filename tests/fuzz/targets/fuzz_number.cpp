// libFuzzer target: the exact number parsers of include/rfmseg/core/number.hpp (parse_micros,
// parse_quantity).
//
// Input layout (the first byte chooses):
//   0x01  money round trip: a FuzzedDataProvider recipe for an amount in micro-units, written as
//         text in any accepted spelling (sign, leading zeros, trimmed or extra decimals, blanks,
//         decimal comma); parse_micros must give it back, rounded half away from zero;
//   0x02  quantity round trip: an integer near the accepted range, written with sign, leading
//         zeros and blanks; parse_quantity must give it back exactly when it is in range;
//   else  raw: the whole input is a field; both parsers (and both decimal separators) are
//         compared with the reference below, and their answers with each other.
// The reference parses by the documented grammar on decimal strings, with no 128-bit arithmetic
// and no digit-by-digit accumulation, so it shares neither its structure nor its overflow
// handling with number.cpp.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fuzzer/FuzzedDataProvider.h>

#include "check.hpp"
#include "rfmseg/core/number.hpp"

namespace {

using rfmseg::max_abs_micros;
using rfmseg::max_abs_quantity;
using rfmseg::micros_per_unit;
using rfmseg::fuzz::show;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_blanks(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// Splits "[+-]int[<point>frac]" (after trimming blanks) into its parts; false when the text has
/// another shape or no digit at all. The sign is kept as a flag.
bool split_number(std::string_view text, char point, bool& negative, std::string_view& integer,
                  std::string_view& fraction, bool& has_point) {
  text = trim_blanks(text);
  negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  const auto p = text.find(point);
  has_point = p != std::string_view::npos;
  integer = text.substr(0, p);
  fraction = has_point ? text.substr(p + 1) : std::string_view{};
  for (const char c : integer)
    if (!is_digit(c)) return false;
  for (const char c : fraction)
    if (!is_digit(c)) return false;
  return !integer.empty() || !fraction.empty();
}

/// The value of a digit string of at most 18 significant digits; nullopt when it has more.
std::optional<std::uint64_t> small_value(std::string_view digits) {
  const auto first = digits.find_first_not_of('0');
  if (first == std::string_view::npos) return 0;
  digits.remove_prefix(first);
  if (digits.size() > 18) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : digits) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  return value;
}

/// parse_micros by its documentation: [+-]digits[.digits], rounded half away from zero at the
/// sixth decimal, |value| <= max_abs_micros (the integer part is checked before the fraction is
/// added, so that no overflow can happen in the reference either).
std::optional<std::int64_t> reference_micros(std::string_view text, bool decimal_comma) {
  bool negative = false, has_point = false;
  std::string_view integer, fraction;
  if (!split_number(text, decimal_comma ? ',' : '.', negative, integer, fraction, has_point)) return std::nullopt;
  const auto units = small_value(integer);
  const std::uint64_t max_units = static_cast<std::uint64_t>(max_abs_micros / micros_per_unit);
  if (!units || *units > max_units) return std::nullopt;
  std::string six(fraction.substr(0, 6));
  six.resize(6, '0');
  std::uint64_t magnitude = *units * static_cast<std::uint64_t>(micros_per_unit) + *small_value(six);
  if (fraction.size() > 6 && fraction[6] >= '5') ++magnitude;  // the first dropped digit decides
  if (magnitude > static_cast<std::uint64_t>(max_abs_micros)) return std::nullopt;
  const auto value = static_cast<std::int64_t>(magnitude);
  return negative ? -value : value;
}

/// parse_quantity by its documentation: [+-]digits, |q| <= max_abs_quantity.
std::optional<std::int64_t> reference_quantity(std::string_view text) {
  bool negative = false, has_point = false;
  std::string_view integer, fraction;
  if (!split_number(text, '.', negative, integer, fraction, has_point) || has_point) return std::nullopt;
  const auto value = small_value(integer);
  if (!value || *value > static_cast<std::uint64_t>(max_abs_quantity)) return std::nullopt;
  return negative ? -static_cast<std::int64_t>(*value) : static_cast<std::int64_t>(*value);
}

std::string show_optional(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : std::string("rejected");
}

std::optional<std::int64_t> micros(std::string_view text, bool decimal_comma) {
  std::int64_t value = 0;
  if (!rfmseg::parse_micros(text, value, decimal_comma)) return std::nullopt;
  return value;
}

std::optional<std::int64_t> quantity(std::string_view text) {
  std::int64_t value = 0;
  if (!rfmseg::parse_quantity(text, value)) return std::nullopt;
  return value;
}

// ------------------------------------------------------------------------------------ raw

void check_text(std::string_view text) {
  const std::string_view trimmed = trim_blanks(text);
  const bool minus = !trimmed.empty() && trimmed[0] == '-';
  for (const bool decimal_comma : {false, true}) {
    const auto got = micros(text, decimal_comma);
    const auto expected = reference_micros(text, decimal_comma);
    const std::string where = std::string("parse_micros(") + show(text) + (decimal_comma ? ", comma)" : ")");
    FUZZ_CHECK(got == expected, where + " = " + show_optional(got) + ", the reference " + show_optional(expected));
    if (got) {
      FUZZ_CHECK(*got >= -max_abs_micros && *got <= max_abs_micros,
                 where + " is out of range: " + std::to_string(*got));
      FUZZ_CHECK(minus ? *got <= 0 : *got >= 0, where + " has the wrong sign: " + std::to_string(*got));
    }
  }
  const auto q = quantity(text);
  const auto expected_q = reference_quantity(text);
  FUZZ_CHECK(q == expected_q, "parse_quantity(" + show(text) + ") = " + show_optional(q) + ", the reference " +
                                  show_optional(expected_q));
  if (q) {
    // An integer is also an amount: the same value in micro-units, whichever decimal separator.
    for (const bool decimal_comma : {false, true}) {
      const auto m = micros(text, decimal_comma);
      FUZZ_CHECK(m && *m == *q * micros_per_unit,
                 "quantity " + show(text) + " = " + std::to_string(*q) + " but as an amount " + show_optional(m));
    }
  }
}

// ----------------------------------------------------------------------------- round trips

std::string blanks(FuzzedDataProvider& in) {
  std::string out;
  for (int n = in.ConsumeIntegralInRange(0, 2); n > 0; --n) out += in.ConsumeBool() ? ' ' : '\t';
  return out;
}

void check_money(FuzzedDataProvider& in) {
  const std::int64_t value = in.ConsumeIntegralInRange<std::int64_t>(-max_abs_micros - 2, max_abs_micros + 2);
  const bool decimal_comma = in.ConsumeBool();
  const std::uint64_t magnitude = value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  std::string integer = std::to_string(magnitude / micros_per_unit);
  std::string fraction = std::to_string(magnitude % micros_per_unit);
  fraction.insert(0, 6 - fraction.size(), '0');
  integer.insert(0, in.ConsumeIntegralInRange<std::size_t>(0, 3), '0');
  // Trailing zeros of the fraction may be dropped, down to none ("5." and "5" are both 5).
  while (!fraction.empty() && fraction.back() == '0' && in.ConsumeBool()) fraction.pop_back();
  // The sign as written: "-" for a negative value, optionally "+" otherwise, and "-0" is zero.
  char sign = value < 0 ? '-' : 0;
  if (value >= 0 && in.ConsumeBool()) sign = value == 0 && in.ConsumeBool() ? '-' : '+';
  // Digits past the sixth are rounded away, half away from zero (the written sign decides the
  // direction: "-0.0000007" is -1 micro-unit).
  std::int64_t expected = value;
  if (fraction.size() == 6 && in.ConsumeBool()) {
    const std::string extra = std::to_string(in.ConsumeIntegralInRange(0, 99999));
    fraction += extra;
    if (extra[0] >= '5') expected += sign == '-' ? -1 : 1;
  }
  if (integer.find_first_not_of('0') == std::string::npos && !fraction.empty() && in.ConsumeBool())
    integer.clear();  // ".5"
  std::string text = blanks(in);
  if (sign != 0) text += sign;
  text += integer;
  if (!fraction.empty() || in.ConsumeBool()) text += (decimal_comma ? ',' : '.') + fraction;
  text += blanks(in);

  const auto got = micros(text, decimal_comma);
  const bool in_range = expected >= -max_abs_micros && expected <= max_abs_micros;
  FUZZ_CHECK(in_range ? got == expected : !got, "parse_micros(" + show(text) + (decimal_comma ? ", comma" : "") +
                                                    ") = " + show_optional(got) + ", expected " +
                                                    (in_range ? std::to_string(expected) : "rejected"));
  check_text(text);
}

void check_quantity(FuzzedDataProvider& in) {
  const std::int64_t value = in.ConsumeIntegralInRange<std::int64_t>(-max_abs_quantity - 2, max_abs_quantity + 2);
  std::string digits = std::to_string(value < 0 ? -value : value);
  digits.insert(0, in.ConsumeIntegralInRange<std::size_t>(0, 20), '0');
  std::string text = blanks(in);
  if (value < 0)
    text += '-';
  else if (in.ConsumeBool())
    text += value == 0 && in.ConsumeBool() ? '-' : '+';  // "+5", and "-0" is zero
  text += digits + blanks(in);
  const auto got = quantity(text);
  const bool in_range = value >= -max_abs_quantity && value <= max_abs_quantity;
  FUZZ_CHECK(in_range ? got == value : !got, "parse_quantity(" + show(text) + ") = " + show_optional(got) +
                                                 ", expected " + (in_range ? std::to_string(value) : "rejected"));
  check_text(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0 && (data[0] == 1 || data[0] == 2)) {
    FuzzedDataProvider in(data + 1, size - 1);
    if (data[0] == 1)
      check_money(in);
    else
      check_quantity(in);
    return 0;
  }
  check_text(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
