#pragma once
// Day numbers and civil dates in the generator's types.

#include "gen/types.hpp"
#include "rfmseg/core/date.hpp"

namespace rfmseg::gen {

// The civil calendar of rfmseg/date.hpp (Howard Hinnant's algorithms), in the generator's types.
inline i64 days_from_civil(i64 y, unsigned m, unsigned d) { return rfmseg::days_from_civil(static_cast<int>(y), m, d); }

struct Civil {
  i64 y;
  unsigned m;
  unsigned d;
};

inline Civil civil_from_days(i64 z) {
  const rfmseg::CivilDate c = rfmseg::civil_from_days(static_cast<std::int32_t>(z));
  return {c.year, c.month, c.day};
}

/// 0 = Sunday ... 6 = Saturday.
inline unsigned weekday(i64 z) { return static_cast<unsigned>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6); }

}  // namespace rfmseg::gen
