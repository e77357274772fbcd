#pragma once
// Deterministic hashing and counter-based random numbers. Nothing here depends on the rank, the
// rank count or arrival order: every value is a pure function of its inputs.

#include <cstdint>
#include <string_view>
#include "rfmseg/core/int128.hpp"

namespace rfmseg {

/// 64-bit hash of a byte string (stable across platforms and runs).
[[nodiscard]] std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed = 0) noexcept;

/// Strong 64-bit mixer (SplitMix64 finalizer).
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

/// The part of random_word that depends on (seed, stream) only: computed once for a loop over
/// counters, random_word(seed, stream, c) == random_word_at(random_stream(seed, stream), c).
[[nodiscard]] constexpr std::uint64_t random_stream(std::uint64_t seed, std::uint64_t stream) noexcept {
  return mix64(mix64(seed ^ 0x9e3779b97f4a7c15ULL) ^ stream);
}

/// The random word of `counter` in a stream from random_stream.
[[nodiscard]] constexpr std::uint64_t random_word_at(std::uint64_t stream_state, std::uint64_t counter) noexcept {
  return mix64(stream_state + counter * 0xd1b54a32d192ed03ULL);
}

/// Counter-based generator: a random 64-bit word for (seed, stream, counter).
[[nodiscard]] constexpr std::uint64_t random_word(std::uint64_t seed, std::uint64_t stream,
                                                  std::uint64_t counter) noexcept {
  return random_word_at(random_stream(seed, stream), counter);
}

/// Uniform double in the open interval (0, 1) from a random word.
[[nodiscard]] constexpr double unit_open(std::uint64_t word) noexcept {
  return (static_cast<double>(word >> 11) + 0.5) * 0x1.0p-53;
}

/// Rank that owns a customer: a pure function of the id's bytes and the rank count.
[[nodiscard]] inline int owner_rank(std::uint64_t customer_hash, int ranks) noexcept {
  // Multiply-shift maps the hash uniformly onto [0, ranks) without a division.
  return static_cast<int>((static_cast<uint128_t>(customer_hash) * static_cast<unsigned>(ranks)) >> 64);
}

}  // namespace rfmseg
