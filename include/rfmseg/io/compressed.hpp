#pragma once
// Compressed inputs, recognised by extension: `.gz` (zlib) and `.zst` (libzstd). Decoding is a
// sequential byte source over a range of the compressed file; what the reader can split is a
// list of pieces — independent gzip members or zstd frames that decode on their own:
//  - zstd: every frame (and skippable frame) is found by walking the frame and block headers
//    (ZSTD_findFrameCompressedSize on a frame that fits a bounded window, the same walk done
//    by hand with 3-byte block headers beyond it), without decompressing anything;
//  - gzip: BGZF members (bgzip; the "BC" extra subfield holds the member's size) are walked
//    header by header, again without inflating. Any other gzip member's end is only known by
//    inflating it, so a gzip file without that subfield is one piece: a stream that one rank
//    decodes and hands to the others in rounds (a scan for the magic bytes would need the same
//    inflation to tell a member start from compressed data that happens to match).
// A corrupt or truncated archive is an InputError naming the file and the compressed offset.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rfmseg {

enum class Compression : std::uint8_t { none, gzip, zstd };

/// The compression of an input named `path`: by its extension (.gz, .zst), else none.
[[nodiscard]] Compression compression_of(const std::string& path);
[[nodiscard]] const char* compression_name(Compression kind);

/// A compressed byte range that decodes on its own (whole members or frames).
struct CompressedPiece {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  friend bool operator==(const CompressedPiece&, const CompressedPiece&) = default;
};

/// The independent pieces of the compressed file `path` of `size` bytes, in file order and
/// covering it exactly. A file whose members/frames cannot be told apart without decoding is
/// one piece; a damaged header ends the walk (the rest is one piece, and decoding it reports the
/// damage with its offset).
[[nodiscard]] std::vector<CompressedPiece> find_pieces(const std::string& path, Compression kind, std::uint64_t size);

namespace detail {
class Codec;
}

/// Decodes the compressed range [begin, end) of `path` sequentially (any number of members or
/// frames). read() throws InputError naming the file and compressed offset when the data is
/// corrupt, or when the range ends inside a member/frame (truncated).
class Decompressor {
 public:
  Decompressor(std::string path, Compression kind, std::uint64_t begin, std::uint64_t end);
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  /// Up to `length` decoded bytes (fewer only at the end of the range); 0 at the end.
  std::size_t read(char* into, std::size_t length);
  /// Compressed bytes consumed so far (for progress).
  [[nodiscard]] std::uint64_t compressed_consumed() const { return _consumed; }

 private:
  bool refill();

  std::string _path;
  Compression _kind;
  int _fd = -1;
  std::uint64_t _begin, _end, _next;  ///< range, next compressed offset to read
  std::uint64_t _consumed = 0;
  std::vector<unsigned char> _input;
  std::size_t _input_pos = 0, _input_size = 0;
  std::unique_ptr<detail::Codec> _codec;
  bool _done = false;
};

}  // namespace rfmseg
