#pragma once
// The generator's short names for fixed-width integers.

#include <cstdint>

namespace rfmseg::gen {

using u64 = std::uint64_t;
using i64 = std::int64_t;
using u32 = std::uint32_t;
__extension__ typedef unsigned __int128 u128;

}  // namespace rfmseg::gen
