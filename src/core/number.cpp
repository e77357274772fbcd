#include "rfmseg/core/number.hpp"
#include "rfmseg/core/int128.hpp"

namespace rfmseg {

namespace {
std::string_view trim_blanks(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Trims blanks and consumes an optional sign; false for an empty field.
bool begin_number(std::string_view& text, bool& negative, std::size_t& i) noexcept {
  text = trim_blanks(text);
  if (text.empty()) return false;
  negative = false;
  i = 0;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    ++i;
  }
  return true;
}
}  // namespace

bool parse_micros(std::string_view text, std::int64_t& micros, bool decimal_comma) noexcept {
  bool negative = false;
  std::size_t i = 0;
  if (!begin_number(text, negative, i)) return false;
  const char point = decimal_comma ? ',' : '.';
  uint128_t value = 0;  // in micro-units
  int digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
    if (value > static_cast<uint128_t>(max_abs_micros)) return false;
    ++i;
    ++digits;
  }
  value *= micros_per_unit;
  if (i < text.size() && text[i] == point) {
    ++i;
    std::int64_t scale = micros_per_unit / 10;
    bool round_up = false;
    int fraction_digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      const unsigned d = static_cast<unsigned>(text[i] - '0');
      if (scale > 0)
        value += static_cast<uint128_t>(d) * static_cast<unsigned>(scale);
      else if (scale == 0 && fraction_digits == 6)
        round_up = d >= 5;  // first dropped digit decides
      scale /= 10;
      ++i;
      ++digits;
      ++fraction_digits;
    }
    if (round_up) value += 1;
  }
  if (digits == 0 || i != text.size()) return false;
  if (value > static_cast<uint128_t>(max_abs_micros)) return false;
  micros = negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
  return true;
}

bool parse_quantity(std::string_view text, std::int64_t& quantity) noexcept {
  bool negative = false;
  std::size_t i = 0;
  if (!begin_number(text, negative, i)) return false;
  std::int64_t value = 0;
  int digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    if (value > max_abs_quantity) return false;
    ++i;
    ++digits;
  }
  if (digits == 0 || i != text.size()) return false;
  quantity = negative ? -value : value;
  return true;
}

}  // namespace rfmseg
