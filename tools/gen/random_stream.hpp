#pragma once
// Counter-based random words: one stream per purpose (tag), indexed by line, invoice or customer.

#include "gen/types.hpp"
#include "rfmseg/core/hash.hpp"

namespace rfmseg::gen {

using rfmseg::mix64;

constexpr u64 kGolden = 0x9e3779b97f4a7c15ULL;
constexpr u64 kCounterMul = 0xd1b54a32d192ed03ULL;

/// The words of rfmseg::random_word(seed, stream, counter) with the per-stream part hoisted.
class Stream {
 public:
  Stream() = default;
  Stream(u64 seed, u64 stream) : _key(mix64(mix64(seed ^ kGolden) ^ stream)) {}
  [[nodiscard]] u64 operator()(u64 counter) const { return mix64(_key + counter * kCounterMul); }

 private:
  u64 _key = 0;
};

inline u64 mulhi(u64 a, u64 b) { return static_cast<u64>((static_cast<u128>(a) * b) >> 64); }
inline double unit(u64 word) { return rfmseg::unit_open(word); }

// Stream tags (arbitrary distinct constants; changing one changes the data).
enum Tag : u64 {
  kTagLine = 0x11,
  kTagKind = 0x12,
  kTagCustGroup = 0x13,
  kTagCustMult = 0x14,
  kTagCountry = 0x15,
  kTagCandidate = 0x16,
  kTagProduct = 0x17,
  kTagQuantity = 0x18,
  kTagVariant = 0x19,
  kTagAdjust = 0x1a,
  kTagBasket = 0x1b,
  kTagCatalog = 0x1c,
};

}  // namespace rfmseg::gen
