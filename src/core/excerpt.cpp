#include "rfmseg/core/excerpt.hpp"

#include <algorithm>

namespace rfmseg {

namespace {

// Length of the valid UTF-8 character starting at text[i] that is not a C1 control, or 0.
std::size_t utf8_length(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the first continuation byte
  if (lead >= 0xC2 && lead <= 0xDF)
    length = 2;
  else if (lead >= 0xE0 && lead <= 0xEF)
    length = 3, lo = lead == 0xE0 ? 0xA0 : 0x80, hi = lead == 0xED ? 0x9F : 0xBF;
  else if (lead >= 0xF0 && lead <= 0xF4)
    length = 4, lo = lead == 0xF0 ? 0x90 : 0x80, hi = lead == 0xF4 ? 0x8F : 0xBF;
  else
    return 0;
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  if (lead == 0xC2 && byte(i + 1) <= 0x9F) return 0;  // U+0080..U+009F: C1 controls (CSI = U+009B)
  return length;
}

}  // namespace

std::string printable_excerpt(std::string_view bytes, std::size_t max_bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  text.reserve(std::min(bytes.size(), max_bytes) + 16);
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (i + 1 > max_bytes) break;
      if (c == '\\') text += '\\';
      text += static_cast<char>(c);
      ++i;
      continue;
    }
    const std::size_t length = c >= 0x80 ? utf8_length(bytes, i) : 0;
    if (length > 0) {
      if (i + length > max_bytes) break;
      text.append(bytes.substr(i, length));
      i += length;
      continue;
    }
    if (i + 1 > max_bytes) break;
    text += "\\x";
    text += digits[c >> 4];
    text += digits[c & 15];
    ++i;
  }
  if (i < bytes.size()) text += "... (+" + std::to_string(bytes.size() - i) + " bytes)";
  return text;
}

}  // namespace rfmseg
