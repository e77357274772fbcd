#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/int128.hpp"

#include <cstring>

namespace rfmseg {

namespace {
inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline std::uint64_t mul_fold(std::uint64_t a, std::uint64_t b) noexcept {
  const uint128_t r = static_cast<uint128_t>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
}  // namespace

// A small wyhash-style hash: 8-byte lanes folded by 128-bit multiplication. Little-endian loads
// (x86-64, aarch64) make it stable for the platforms MPI clusters run.
std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed) noexcept {
  constexpr std::uint64_t k0 = 0xa0761d6478bd642fULL;
  constexpr std::uint64_t k1 = 0xe7037ed1a0b428dbULL;
  constexpr std::uint64_t k2 = 0x8ebc6af09c88c6e3ULL;
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t h = seed ^ mul_fold(seed ^ k0, k1) ^ n;
  while (n >= 16) {
    h = mul_fold(load64(p) ^ k1, load64(p + 8) ^ h);
    p += 16;
    n -= 16;
  }
  std::uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = load64(p);
    b = load64(p + n - 8);
  } else if (n > 0) {
    std::uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    a = tail;
    b = static_cast<unsigned char>(p[n - 1]);
  }
  h = mul_fold(a ^ k1 ^ n, b ^ h ^ k2);
  return mix64(h);
}

}  // namespace rfmseg
