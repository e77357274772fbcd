#pragma once
// Writers of numbers and text into a character buffer: each returns the position after what it wrote.
// The core has parsers only (core/number.hpp; core/date.hpp's format_day returns a std::string):
// these write in place into the line buffer, which is what the generator's hot loop needs.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace rfmseg::gen {

inline char* put_uint(char* p, std::uint64_t v) {
  char tmp[24];
  char* t = tmp + sizeof tmp;
  do {
    *--t = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  const auto n = static_cast<std::size_t>(tmp + sizeof tmp - t);
  std::memcpy(p, t, n);
  return p + n;
}

inline char* put_int(char* p, std::int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return put_uint(p, static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v));
  }
  return put_uint(p, static_cast<std::uint64_t>(v));
}

/// Cents as a decimal with exactly two decimals: 255 -> "2.55", -5 -> "-0.05".
inline char* put_cents(char* p, std::int64_t cents) {
  std::uint64_t v = static_cast<std::uint64_t>(cents);
  if (cents < 0) {
    *p++ = '-';
    v = static_cast<std::uint64_t>(0) - v;
  }
  p = put_uint(p, v / 100);
  const auto frac = static_cast<unsigned>(v % 100);
  p[0] = '.';
  p[1] = static_cast<char>('0' + frac / 10);
  p[2] = static_cast<char>('0' + frac % 10);
  return p + 3;
}

/// Amounts: whole numbers without decimals ("39"), otherwise two decimals ("39.50").
inline char* put_amount(char* p, std::int64_t cents) {
  if (cents % 100 == 0) return put_int(p, cents / 100);
  return put_cents(p, cents);
}

inline char* put_str(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

inline char* put_pad2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10 % 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

}  // namespace rfmseg::gen
