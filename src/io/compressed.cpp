#include "rfmseg/io/compressed.hpp"
#include "rfmseg/io/file_handle.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader / ZSTD_frameHeader (stable since 1.4, still "static")
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "rfmseg/core/errors.hpp"

namespace rfmseg {

Compression compression_of(const std::string& path) {
  const auto ends_with = [&](const char* suffix) {
    const std::size_t n = std::strlen(suffix);
    return path.size() > n && path.compare(path.size() - n, n, suffix) == 0;
  };
  if (ends_with(".gz")) return Compression::gzip;
  if (ends_with(".zst")) return Compression::zstd;
  return Compression::none;
}

const char* compression_name(Compression kind) {
  switch (kind) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
  }
  return "?";
}

namespace {

// Frames whose compressed bytes fit this window are measured by ZSTD_findFrameCompressedSize;
// longer ones by walking their block headers (bounded memory for a single-frame file of any size).
constexpr std::size_t zstd_window_bytes = 4u << 20;

// The compressed size of the zstd frame at `offset` by walking its block headers; 0 = not a
// valid frame (the caller stops splitting there).
std::uint64_t walk_zstd_frame(int fd, std::uint64_t offset, std::uint64_t size, const std::string& path) {
  unsigned char head[ZSTD_FRAMEHEADERSIZE_MAX];
  const std::size_t got = read_at(fd, head, sizeof head, offset, path);
  ZSTD_frameHeader header{};
  if (ZSTD_getFrameHeader(&header, head, got) != 0) return 0;
  if (header.frameType == ZSTD_skippableFrame) return ZSTD_SKIPPABLEHEADERSIZE + header.frameContentSize;
  std::uint64_t pos = offset + header.headerSize;
  while (true) {
    unsigned char block[3];
    if (read_at(fd, block, 3, pos, path) != 3) return 0;
    const std::uint32_t bits = block[0] | (block[1] << 8) | (block[2] << 16);
    const bool last = (bits & 1) != 0;
    const std::uint32_t type = (bits >> 1) & 3, block_size = bits >> 3;
    if (type == 3) return 0;                  // reserved block type
    pos += 3 + (type == 1 ? 1 : block_size);  // RLE: one byte repeated
    if (pos > size) return 0;
    if (last) break;
  }
  if (header.checksumFlag) pos += 4;
  return pos <= size ? pos - offset : 0;
}

std::vector<CompressedPiece> zstd_pieces(int fd, std::uint64_t size, const std::string& path) {
  std::vector<CompressedPiece> pieces;
  std::vector<unsigned char> window;
  std::uint64_t offset = 0;
  while (offset < size) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, zstd_window_bytes));
    window.resize(n);
    read_at(fd, window.data(), n, offset, path);
    std::uint64_t length = ZSTD_findFrameCompressedSize(window.data(), n);
    if (ZSTD_isError(length)) length = n < size - offset ? walk_zstd_frame(fd, offset, size, path) : 0;
    if (length == 0) break;  // damaged or truncated: the rest is one piece, decoding names the offset
    pieces.push_back({offset, length});
    offset += length;
  }
  if (offset < size) pieces.push_back({offset, size - offset});
  return pieces;
}

// The member size of the BGZF member at `offset` (its "BC" extra subfield), 0 if it has none.
std::uint64_t bgzf_member_size(int fd, std::uint64_t offset, std::uint64_t size, const std::string& path) {
  unsigned char head[12];
  if (read_at(fd, head, sizeof head, offset, path) != sizeof head) return 0;
  if (head[0] != 0x1f || head[1] != 0x8b || head[2] != 8 || (head[3] & 4) == 0) return 0;
  const std::size_t extra_length = head[10] | (head[11] << 8);
  std::vector<unsigned char> extra(extra_length);
  if (read_at(fd, extra.data(), extra_length, offset + 12, path) != extra_length) return 0;
  for (std::size_t i = 0; i + 4 <= extra_length;) {
    const std::size_t field_length = extra[i + 2] | (extra[i + 3] << 8);
    if (extra[i] == 'B' && extra[i + 1] == 'C' && field_length == 2 && i + 6 <= extra_length) {
      const std::uint64_t member = (extra[i + 4] | (extra[i + 5] << 8)) + 1u;
      return offset + member <= size ? member : 0;
    }
    i += 4 + field_length;
  }
  return 0;
}

std::vector<CompressedPiece> gzip_pieces(int fd, std::uint64_t size, const std::string& path) {
  std::vector<CompressedPiece> pieces;
  std::uint64_t offset = 0;
  while (offset < size) {
    const std::uint64_t length = bgzf_member_size(fd, offset, size, path);
    if (length == 0) break;
    pieces.push_back({offset, length});
    offset += length;
  }
  if (offset < size) pieces.push_back({offset, size - offset});
  return pieces;
}

}  // namespace

std::vector<CompressedPiece> find_pieces(const std::string& path, Compression kind, std::uint64_t size) {
  FileHandle fd(path);
  switch (kind) {
    case Compression::zstd: return zstd_pieces(fd.fd(), size, path);
    case Compression::gzip: return gzip_pieces(fd.fd(), size, path);
    case Compression::none: break;
  }
  return {{0, size}};
}

// ---------------------------------------------------------------- codecs

namespace detail {

/// One decoding library behind a common interface; owns its stream state (RAII).
class Codec {
 public:
  virtual ~Codec() = default;
  /// Decodes from `in` (advancing `in_pos`) into `out`; returns the bytes produced. `in_offset`
  /// is the file offset of in[0], for messages. Throws InputError on corrupt data.
  virtual std::size_t decode(const unsigned char* in, std::size_t in_size, std::size_t& in_pos, char* out,
                             std::size_t out_size, std::uint64_t in_offset) = 0;
  /// Whether the data so far ends exactly at a member/frame end.
  [[nodiscard]] virtual bool at_boundary() const = 0;
  /// File offset where the current (unfinished) member or frame started.
  [[nodiscard]] std::uint64_t unit_start() const { return _unit_start; }

 protected:
  std::uint64_t _unit_start = 0;
};

namespace {

class GzipCodec final : public Codec {
 public:
  explicit GzipCodec(std::string path) : _path(std::move(path)) {
    if (inflateInit2(&_stream, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  }
  ~GzipCodec() override { inflateEnd(&_stream); }
  GzipCodec(const GzipCodec&) = delete;
  GzipCodec& operator=(const GzipCodec&) = delete;

  std::size_t decode(const unsigned char* in, std::size_t in_size, std::size_t& in_pos, char* out, std::size_t out_size,
                     std::uint64_t in_offset) override {
    std::size_t produced = 0;
    // Also without input while inside a member: inflate may still hold output for a full buffer.
    while (produced < out_size && (in_pos < in_size || _in_member)) {
      if (!_in_member) {
        _in_member = true;
        _unit_start = in_offset + in_pos;
      }
      const auto in_chunk = static_cast<uInt>(std::min<std::size_t>(in_size - in_pos, 1u << 30));
      const auto out_chunk = static_cast<uInt>(std::min<std::size_t>(out_size - produced, 1u << 30));
      _stream.next_in = const_cast<Bytef*>(in + in_pos);
      _stream.avail_in = in_chunk;
      _stream.next_out = reinterpret_cast<Bytef*>(out + produced);
      _stream.avail_out = out_chunk;
      const int rc = inflate(&_stream, Z_NO_FLUSH);
      in_pos += in_chunk - _stream.avail_in;
      produced += out_chunk - _stream.avail_out;
      if (rc == Z_STREAM_END) {
        _in_member = false;  // the next bytes, if any, must start another member
        inflateReset(&_stream);
        continue;
      }
      if (rc == Z_OK) continue;
      if (rc == Z_BUF_ERROR) break;  // needs more input or room: the caller comes back
      throw InputError("input '" + _path + "': corrupt gzip data at compressed offset " +
                       std::to_string(in_offset + in_pos) + " (member starting at " + std::to_string(_unit_start) +
                       "): " + (_stream.msg != nullptr ? _stream.msg : zError(rc)));
    }
    return produced;
  }
  [[nodiscard]] bool at_boundary() const override { return !_in_member; }

 private:
  std::string _path;
  z_stream _stream{};
  bool _in_member = false;
};

class ZstdCodec final : public Codec {
 public:
  explicit ZstdCodec(std::string path) : _path(std::move(path)), _context(ZSTD_createDCtx()) {
    if (_context == nullptr) throw std::bad_alloc();
  }
  ~ZstdCodec() override { ZSTD_freeDCtx(_context); }
  ZstdCodec(const ZstdCodec&) = delete;
  ZstdCodec& operator=(const ZstdCodec&) = delete;

  std::size_t decode(const unsigned char* in, std::size_t in_size, std::size_t& in_pos, char* out, std::size_t out_size,
                     std::uint64_t in_offset) override {
    ZSTD_inBuffer input{in, in_size, in_pos};
    ZSTD_outBuffer output{out, out_size, 0};
    while (output.pos < output.size && (input.pos < input.size || !_at_boundary)) {
      if (_at_boundary) _unit_start = in_offset + input.pos;
      const std::size_t before_in = input.pos, before_out = output.pos;
      const std::size_t rc = ZSTD_decompressStream(_context, &output, &input);
      // Without input (the range ended), an error means the frame is cut short: the caller
      // reports it as truncated.
      if (ZSTD_isError(rc) && in_size == 0) break;
      if (ZSTD_isError(rc))
        throw InputError("input '" + _path + "': corrupt zstd data at compressed offset " +
                         std::to_string(in_offset + input.pos) + " (frame starting at " + std::to_string(_unit_start) +
                         "): " + ZSTD_getErrorName(rc));
      _at_boundary = rc == 0;
      if (input.pos == before_in && output.pos == before_out) break;  // needs more input
    }
    in_pos = input.pos;
    return output.pos;
  }
  [[nodiscard]] bool at_boundary() const override { return _at_boundary; }

 private:
  std::string _path;
  ZSTD_DCtx* _context;
  bool _at_boundary = true;
};

}  // namespace
}  // namespace detail

// ---------------------------------------------------------------- Decompressor

namespace {
constexpr std::size_t input_buffer_bytes = 256u << 10;
}

Decompressor::Decompressor(std::string path, Compression kind, std::uint64_t begin, std::uint64_t end)
    : _path(std::move(path)), _kind(kind), _begin(begin), _end(end), _next(begin), _input(input_buffer_bytes) {
  _fd = FileHandle(_path).release();
  try {
    if (kind == Compression::gzip)
      _codec = std::make_unique<detail::GzipCodec>(_path);
    else if (kind == Compression::zstd)
      _codec = std::make_unique<detail::ZstdCodec>(_path);
    else
      throw std::logic_error("Decompressor for an uncompressed file");
  } catch (...) {
    ::close(_fd);
    throw;
  }
}

Decompressor::~Decompressor() {
  if (_fd >= 0) ::close(_fd);
}

bool Decompressor::refill() {
  if (_next >= _end) return false;
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(_input.size(), _end - _next));
  const std::size_t got = read_at(_fd, _input.data(), want, _next, _path);
  if (got == 0) return false;  // the file is shorter than planned: reported as truncated below
  _input_pos = 0;
  _input_size = got;
  _next += got;
  return true;
}

std::size_t Decompressor::read(char* into, std::size_t length) {
  std::size_t produced = 0;
  while (produced < length && !_done) {
    if (_input_pos == _input_size && !refill()) {
      // Out of input: flush what the codec still holds; then it must stand at a member/frame end.
      std::size_t none = 0;
      const std::size_t n = _codec->decode(nullptr, 0, none, into + produced, length - produced, _next);
      produced += n;
      if (n > 0) continue;
      if (!_codec->at_boundary())
        throw InputError("input '" + _path + "' is truncated: the compressed data ends at offset " +
                         std::to_string(_next) +
                         (_kind == Compression::gzip ? " inside the gzip member" : " inside the zstd frame") +
                         " that starts at offset " + std::to_string(_codec->unit_start()));
      _done = true;
      break;
    }
    const std::size_t before = _input_pos;
    const std::uint64_t base = _next - _input_size;
    const std::size_t n =
        _codec->decode(_input.data(), _input_size, _input_pos, into + produced, length - produced, base);
    produced += n;
    _consumed += _input_pos - before;
    if (n == 0 && _input_pos == before && _input_pos < _input_size)
      throw InputError("input '" + _path + "': corrupt compressed data at offset " + std::to_string(base + _input_pos));
  }
  return produced;
}

}  // namespace rfmseg
