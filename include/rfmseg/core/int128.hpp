#pragma once
// 128-bit integers for exact money sums and fixed-point reductions (GCC/Clang extension).

namespace rfmseg {
__extension__ typedef __int128 int128_t;
__extension__ typedef unsigned __int128 uint128_t;
}  // namespace rfmseg
