#pragma once
// --pseudonymize-key FILE: customer ids become HMAC-SHA256(key, id) in lowercase hex (64
// characters), computed as each line is read, so no raw id is kept, shuffled, sorted, saved in a
// checkpoint or written anywhere. The key is the key file's bytes exactly (a trailing newline is
// part of it); the same key gives the same tokens on every run, rank and rank count. SHA-256 is
// OpenSSL's libcrypto (EVP); the HMAC construction around it (RFC 2104) is in pseudonym.cpp, and
// this header does not expose OpenSSL.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX
struct evp_md_st;      // OpenSSL's EVP_MD

namespace rfmseg {

/// Shortest key accepted, in bytes (the HMAC-SHA256 block is 64, its output 32).
inline constexpr std::size_t min_pseudonym_key_bytes = 32;
/// What /run records as the method.
inline constexpr std::string_view pseudonym_method = "HMAC-SHA256(key, customer_id), lowercase hex";

/// Local: the key in `path` after checking that it may serve as one: a regular file (not a
/// directory, device or FIFO), not readable by group or others (chmod 600), of at least
/// min_pseudonym_key_bytes bytes. Throws ConfigError saying which rule failed and how to fix it.
[[nodiscard]] std::string read_pseudonym_key(const std::string& path);

/// The key id recorded in /run: the first 16 hex digits of SHA-256(key), i.e. of the key file
/// (`sha256sum KEYFILE | cut -c1-16`). It names the key without revealing it.
[[nodiscard]] std::string pseudonym_key_id(std::string_view key);

/// SHA-256 of `bytes` in lowercase hex.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

/// HMAC-SHA256 with the key set once (RFC 2104): the SHA-256 states after the key's inner and
/// outer pad are computed in the constructor and copied for every id, so an id costs two short
/// SHA-256 finishes (~160 ns with SHA-NI, against ~700 ns for OpenSSL's EVP_MAC re-initialised
/// per id). One per rank: not thread-safe. Move-only; frees the OpenSSL objects in its destructor.
class Pseudonymizer {
 public:
  /// Throws std::runtime_error when OpenSSL cannot set up HMAC-SHA256.
  explicit Pseudonymizer(std::string_view key);
  ~Pseudonymizer();
  Pseudonymizer(Pseudonymizer&& other) noexcept;
  Pseudonymizer& operator=(Pseudonymizer&& other) noexcept;
  Pseudonymizer(const Pseudonymizer&) = delete;
  Pseudonymizer& operator=(const Pseudonymizer&) = delete;

  /// HMAC-SHA256(key, id) as 64 lowercase hex characters; valid until the next call. The last id
  /// and its token are remembered: consecutive lines of one customer cost one HMAC.
  [[nodiscard]] std::string_view token(std::string_view id);

  static constexpr std::size_t token_size = 64;

 private:
  void release() noexcept;

  evp_md_st* _sha256 = nullptr;
  evp_md_ctx_st* _inner = nullptr;  ///< SHA-256 state after (key ^ ipad)
  evp_md_ctx_st* _outer = nullptr;  ///< SHA-256 state after (key ^ opad)
  evp_md_ctx_st* _work = nullptr;
  std::string _last_id;
  std::array<char, token_size> _token{};
  bool _have_last = false;
};

}  // namespace rfmseg
