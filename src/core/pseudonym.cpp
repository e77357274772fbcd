#include "rfmseg/core/pseudonym.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

#include "rfmseg/core/errors.hpp"

namespace rfmseg {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void to_hex(const unsigned char* bytes, std::size_t n, char* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = hex_digits[bytes[i] >> 4];
    out[2 * i + 1] = hex_digits[bytes[i] & 0xf];
  }
}

}  // namespace

std::string read_pseudonym_key(const std::string& path) {
  const std::string what = "--pseudonymize-key '" + path + "'";
  // O_NOFOLLOW is not used: a link to a well-protected key is fine; fstat checks what is opened.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw ConfigError(what + ": cannot open the key file: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw ConfigError(what + ": cannot stat the key file: " + std::strerror(error));
  }
  std::string problem;
  if (S_ISDIR(st.st_mode))
    problem = "is a directory, not a key file";
  else if (!S_ISREG(st.st_mode))
    problem = "is not a regular file (a device, FIFO or socket): give a key file";
  else if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
    problem = std::string("is readable by ") +
              ((st.st_mode & S_IRGRP) && (st.st_mode & S_IROTH) ? "group and others"
               : (st.st_mode & S_IRGRP)                         ? "its group"
                                                                : "others") +
              " (mode " +
              [&] {
                char text[8];
                std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(st.st_mode & 07777));
                return std::string(text);
              }() +
              "): whoever can read the key can re-identify every customer; chmod 600 it";
  std::string key;
  if (problem.empty()) {
    key.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t done = 0;
    while (true) {
      if (done == key.size()) key.resize(2 * key.size());
      const ssize_t got = ::read(fd, key.data() + done, key.size() - done);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        problem = std::string("cannot be read: ") + std::strerror(errno);
        break;
      }
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    key.resize(done);
    if (problem.empty() && key.size() < min_pseudonym_key_bytes)
      problem = "holds " + std::to_string(key.size()) + " bytes, fewer than the " +
                std::to_string(min_pseudonym_key_bytes) +
                " a key needs (a short key can be guessed): make one with "
                "'(umask 077; head -c 32 /dev/urandom > KEYFILE)'";
  }
  ::close(fd);
  if (!problem.empty()) throw ConfigError(what + " " + problem);
  return key;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  std::string text(2 * length, '0');
  to_hex(digest, length, text.data());
  return text;
}

std::string pseudonym_key_id(std::string_view key) { return sha256_hex(key).substr(0, 16); }

Pseudonymizer::Pseudonymizer(std::string_view key) {
  _sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  _inner = EVP_MD_CTX_new();
  _outer = EVP_MD_CTX_new();
  _work = EVP_MD_CTX_new();
  if (_sha256 == nullptr || _inner == nullptr || _outer == nullptr || _work == nullptr) {
    release();
    throw std::runtime_error("OpenSSL: SHA-256 is not available");
  }
  // RFC 2104: a key longer than the block is replaced by its hash; then zero-padded to the block.
  constexpr std::size_t block = 64;
  unsigned char padded[block] = {};
  if (key.size() > block) {
    unsigned int length = 0;
    if (EVP_Digest(key.data(), key.size(), padded, &length, _sha256, nullptr) != 1) {
      release();
      throw std::runtime_error("OpenSSL: SHA-256 of the key failed");
    }
  } else {
    std::memcpy(padded, key.data(), key.size());
  }
  unsigned char ipad[block], opad[block];
  for (std::size_t i = 0; i < block; ++i) {
    ipad[i] = static_cast<unsigned char>(padded[i] ^ 0x36);
    opad[i] = static_cast<unsigned char>(padded[i] ^ 0x5c);
  }
  const bool ok = EVP_DigestInit_ex(_inner, _sha256, nullptr) == 1 && EVP_DigestUpdate(_inner, ipad, block) == 1 &&
                  EVP_DigestInit_ex(_outer, _sha256, nullptr) == 1 && EVP_DigestUpdate(_outer, opad, block) == 1;
  OPENSSL_cleanse(padded, block);
  OPENSSL_cleanse(ipad, block);
  OPENSSL_cleanse(opad, block);
  if (!ok) {
    release();
    throw std::runtime_error("OpenSSL: cannot set the HMAC-SHA256 key");
  }
}

void Pseudonymizer::release() noexcept {
  EVP_MD_CTX_free(_work);
  EVP_MD_CTX_free(_outer);
  EVP_MD_CTX_free(_inner);
  EVP_MD_free(_sha256);
  _work = _outer = _inner = nullptr;
  _sha256 = nullptr;
}

Pseudonymizer::~Pseudonymizer() { release(); }

Pseudonymizer::Pseudonymizer(Pseudonymizer&& other) noexcept
    : _sha256(std::exchange(other._sha256, nullptr)),
      _inner(std::exchange(other._inner, nullptr)),
      _outer(std::exchange(other._outer, nullptr)),
      _work(std::exchange(other._work, nullptr)),
      _last_id(std::move(other._last_id)),
      _token(other._token),
      _have_last(std::exchange(other._have_last, false)) {}

Pseudonymizer& Pseudonymizer::operator=(Pseudonymizer&& other) noexcept {
  if (this != &other) {
    release();
    _sha256 = std::exchange(other._sha256, nullptr);
    _inner = std::exchange(other._inner, nullptr);
    _outer = std::exchange(other._outer, nullptr);
    _work = std::exchange(other._work, nullptr);
    _last_id = std::move(other._last_id);
    _token = other._token;
    _have_last = std::exchange(other._have_last, false);
  }
  return *this;
}

std::string_view Pseudonymizer::token(std::string_view id) {
  if (_have_last && id == _last_id) return {_token.data(), _token.size()};
  unsigned char inner[32], mac[32];
  unsigned int inner_length = 0, mac_length = 0;
  // HMAC = H((K ^ opad) || H((K ^ ipad) || id)), from the two saved states.
  if (_work == nullptr || EVP_MD_CTX_copy_ex(_work, _inner) != 1 ||
      EVP_DigestUpdate(_work, id.data(), id.size()) != 1 || EVP_DigestFinal_ex(_work, inner, &inner_length) != 1 ||
      EVP_MD_CTX_copy_ex(_work, _outer) != 1 || EVP_DigestUpdate(_work, inner, inner_length) != 1 ||
      EVP_DigestFinal_ex(_work, mac, &mac_length) != 1 || mac_length != sizeof mac)
    throw std::runtime_error("OpenSSL: HMAC-SHA256 of a customer id failed");
  to_hex(mac, sizeof mac, _token.data());
  _last_id.assign(id);
  _have_last = true;
  return {_token.data(), _token.size()};
}

}  // namespace rfmseg
