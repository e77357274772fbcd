#pragma once
// Exact decimal parsing. Money is held as integer micro-units (10^-6) so sums are exact and the
// same for any rank count; quantities are integers.

#include <cstdint>
#include <string_view>

namespace rfmseg {

inline constexpr std::int64_t micros_per_unit = 1'000'000;
/// Largest accepted |price| or |amount| in micro-units (10^12 currency units).
inline constexpr std::int64_t max_abs_micros = 1'000'000'000'000'000'000;
/// Largest accepted |quantity|. Together with max_abs_micros a line is below 2^100 micro-units,
/// so a 128-bit per-customer sum cannot overflow before 2^27 lines of that size.
inline constexpr std::int64_t max_abs_quantity = 1'000'000'000'000;

/// Parses [+-]digits[.digits] (blanks around allowed) into micro-units, rounding half away from
/// zero past six decimals. Rejects exponents, nan/inf, thousands separators, and values beyond
/// max_abs_micros. `decimal_comma` accepts ',' instead of '.'.
[[nodiscard]] bool parse_micros(std::string_view text, std::int64_t& micros, bool decimal_comma = false) noexcept;

/// Parses an integer quantity ([+-]digits), |q| <= max_abs_quantity.
[[nodiscard]] bool parse_quantity(std::string_view text, std::int64_t& quantity) noexcept;

}  // namespace rfmseg
