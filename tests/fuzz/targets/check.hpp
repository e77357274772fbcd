#pragma once
// Invariant checks for the fuzz targets. A violated invariant prints the condition and the values
// involved (bytes escaped, so a stray control byte cannot hide) and aborts: libFuzzer reports the
// abort as a crash and saves the input that caused it. assert() is not used because it vanishes
// under NDEBUG and says nothing about the values.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace rfmseg::fuzz {

/// `bytes` as a double-quoted C string literal: printable ASCII as is, everything else \xNN.
inline std::string show(std::string_view bytes) {
  std::string out = "\"";
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return out + "\"";
}

[[noreturn]] inline void fail(const char* condition, const char* file, int line, const std::string& detail) {
  std::fprintf(stderr, "\n%s:%d: invariant violated: %s\n  %s\n", file, line, condition, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace rfmseg::fuzz

/// Aborts with `detail` (a std::string expression, evaluated only on failure) unless `condition`.
#define FUZZ_CHECK(condition, detail)                                                 \
  do {                                                                                \
    if (!(condition)) ::rfmseg::fuzz::fail(#condition, __FILE__, __LINE__, (detail)); \
  } while (false)
