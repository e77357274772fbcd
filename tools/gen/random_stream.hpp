#pragma once
// Counter-based random words: one stream per purpose (tag), indexed by line, invoice or customer.

#include <cstdint>

#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/int128.hpp"

namespace rfmseg::gen {

inline constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;
inline constexpr std::uint64_t counter_multiplier = 0xd1b54a32d192ed03ULL;

/// The words of rfmseg::random_word(seed, stream, counter) with the per-stream part hoisted.
class RandomStream {
 public:
  RandomStream() = default;
  RandomStream(std::uint64_t seed, std::uint64_t stream) : _key(mix64(mix64(seed ^ golden_gamma) ^ stream)) {}
  [[nodiscard]] std::uint64_t operator()(std::uint64_t counter) const {
    return mix64(_key + counter * counter_multiplier);
  }

 private:
  std::uint64_t _key = 0;
};

/// The high 64 bits of a * b: a uniform word scaled to [0, b).
inline std::uint64_t mulhi(std::uint64_t a, std::uint64_t b) {
  return static_cast<std::uint64_t>((static_cast<uint128_t>(a) * b) >> 64);
}
inline double unit(std::uint64_t word) { return rfmseg::unit_open(word); }

// RandomStream tags (arbitrary distinct constants; changing one changes the data).
enum class StreamTag : std::uint64_t {
  line = 0x11,
  kind = 0x12,
  customer_group = 0x13,
  customer_multiplier = 0x14,
  country = 0x15,
  candidate = 0x16,
  product = 0x17,
  quantity = 0x18,
  variant = 0x19,
  adjust = 0x1a,
  basket = 0x1b,
  catalog = 0x1c,
  movement = 0x1d,  ///< --night: which customers move between behaviours
};

}  // namespace rfmseg::gen
