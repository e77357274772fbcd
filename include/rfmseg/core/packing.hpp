#pragma once
// Plain data packed into one byte string for a broadcast or an allgather, and unpacked on the
// other side: unsigned integers (8 bytes, little-endian) and strings (length, then the bytes, so
// any byte — a tab or a newline in a file name — travels unchanged). One format for every such
// message (the input plan, the reported bad lines).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rfmseg {

class Packer {
 public:
  Packer& put(std::uint64_t value) {
    for (int b = 0; b < 8; ++b) _bytes.push_back(static_cast<char>((value >> (8 * b)) & 0xff));
    return *this;
  }
  Packer& put(std::string_view text) {
    put(static_cast<std::uint64_t>(text.size()));
    _bytes.append(text);
    return *this;
  }
  [[nodiscard]] const std::string& bytes() const { return _bytes; }

 private:
  std::string _bytes;
};

class Unpacker {
 public:
  explicit Unpacker(std::string_view bytes) : _bytes(bytes) {}
  std::uint64_t number() {
    need(8);
    std::uint64_t value = 0;
    for (int b = 0; b < 8; ++b)
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>(_bytes[_pos++])) << (8 * b);
    return value;
  }
  std::string text() {
    const std::uint64_t size = number();
    need(size);
    std::string out(_bytes.substr(_pos, size));
    _pos += size;
    return out;
  }
  [[nodiscard]] bool done() const { return _pos == _bytes.size(); }

 private:
  void need(std::uint64_t size) const {
    if (size > _bytes.size() - _pos) throw std::logic_error("unpacking past the end of a packed message");
  }
  std::string_view _bytes;
  std::size_t _pos = 0;
};

}  // namespace rfmseg
