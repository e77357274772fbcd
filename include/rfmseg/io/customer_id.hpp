#pragma once
// Customer ids as read: the longest accepted, the bytes that make one unusable, and the
// normalisation every reader applies ("17850.0" is "17850").

#include <cstdint>
#include <cstring>
#include <string_view>

namespace rfmseg {

inline constexpr std::size_t max_customer_id_bytes = 256;

/// Whether `id` holds a control byte (0x00-0x1F, 0x7F): such an id is `bad_customer_id` (a NUL
/// would make "a" and "a\0" one name in HDF5's fixed-length strings; ESC would reach terminals).
/// Eight bytes per step (SWAR): ids are short and this runs once per line.
[[nodiscard]] inline bool has_control_byte(std::string_view id) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const auto control_in = [](std::uint64_t w) {
    const std::uint64_t below_space = (w - 0x20 * ones) & ~w & highs;  // some byte < 0x20 (exact for any)
    const std::uint64_t del = w ^ (0x7F * ones);
    return (below_space | ((del - ones) & ~del & highs)) != 0;  // ... or some byte == 0x7F
  };
  std::size_t i = 0;
  for (; i + 8 <= id.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, id.data() + i, 8);
    if (control_in(w)) return true;
  }
  std::uint64_t w = 0x4141414141414141ULL;  // the tail, padded with 'A'
  if (i < id.size()) std::memcpy(&w, id.data() + i, id.size() - i);
  return control_in(w);
}

/// Normalises a customer id: blanks trimmed, "17850.0" read as "17850".
[[nodiscard]] std::string_view normalize_customer_id(std::string_view id) noexcept;

}  // namespace rfmseg
