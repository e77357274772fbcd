#pragma once
// Stage 1 — ingest. Every rank reads its own byte range of the inputs (aligned to record starts:
// a newline ends a record only outside quotes, decided from the exact quote parity before the
// range, so ranges split the same records whatever the rank count), parses records — plain ones
// on an SSE2 fast path, quoted ones exactly by RFC 4180 — into groups combined per customer,
// invoice and day (CombinedBatch), and counts every line it cannot use. The pieces it shares with
// other stages have headers of their own: fates.hpp (what became of a line, the counters),
// customer_id.hpp, input_plan.hpp (the files, broadcast once), combined_batch.hpp (its output).

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/core/date.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/int128.hpp"
#include "rfmseg/core/pseudonym.hpp"
#include "rfmseg/io/combined_batch.hpp"
#include "rfmseg/io/compressed.hpp"
#include "rfmseg/io/customer_id.hpp"
#include "rfmseg/io/fates.hpp"
#include "rfmseg/io/input_plan.hpp"
#include "rfmseg/io/layout.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Receives every line whose fate the reader decides (the reader fates: it cannot be used), with
/// its input file index, physical line number (its first, for a record spanning lines) and raw
/// bytes (line end excluded), in input order. Lines that reach the owner never come here.
class RejectSink {
 public:
  virtual ~RejectSink() = default;
  virtual void reject(std::uint32_t file, std::uint64_t line, Fate fate, std::string_view record) = 0;
};

/// Day numbers of date texts, remembering the last text seen: exports sorted by time repeat a
/// date (and usually the whole timestamp of an invoice) on many consecutive lines.
class CachedDateParser {
 public:
  CachedDateParser(DateFormat format = DateFormat::automatic, bool day_first = false) : _parser(format, day_first) {}
  DateStatus parse(std::string_view text, std::int32_t& day, DateOrderEvidence& evidence) noexcept {
    if (text.size() == _length && std::memcmp(text.data(), _text.data(), _length) == 0) {
      day = _day;
      evidence = _evidence;
      return _status;
    }
    const DateStatus status = _parser.parse(text, day, evidence);
    if (text.size() <= _text.size()) {
      std::memcpy(_text.data(), text.data(), text.size());
      _length = text.size();
      _status = status;
      _day = day;
      _evidence = evidence;
    }
    return status;
  }
  DateStatus parse(std::string_view text, std::int32_t& day) noexcept {
    DateOrderEvidence ignored{};
    return parse(text, day, ignored);
  }

 private:
  DateParser _parser;
  std::array<char, 40> _text{};
  std::size_t _length = static_cast<std::size_t>(-1);
  DateStatus _status = DateStatus::bad;
  std::int32_t _day = 0;
  DateOrderEvidence _evidence = DateOrderEvidence::none;
};

/// Parses this rank's share of the input in bounded chunks.
///
/// The inputs are laid end to end by weight (InputFile::weight) and cut into one range per rank.
/// A plain file is split at any byte; a compressed file of several pieces at piece boundaries
/// (each piece goes to the rank whose range holds its start); a compressed stream (one piece)
/// goes whole to the rank whose range holds its start, its decoder, which cuts the decoded bytes
/// at record ends into one block per rank every round: parsing and the shuffle stay parallel.
/// Rejected lines of a block go back to the decoder, which hands them to the reject sink in block
/// order, so every rank's rejects stay in input order.
class Reader {
 public:
  /// Local: assigns this rank's share and counts quotes and newlines in it (compressed pieces
  /// are decoded for that); may throw.
  Reader(const mpi::Comm& comm, const InputPlan& plan, const InputConfig& config);
  ~Reader();
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) = delete;
  /// Collective: exclusive scan of the counts gives the quote parity and line number at each
  /// range start.
  void start(const mpi::Comm& comm);

  /// Parses about `chunk_bytes` more of this rank's range (whole records; at least one) into `out`
  /// (appending). Returns false once the range is exhausted. Local, unless the plan holds a
  /// compressed stream: then collective (every rank calls it every round until all return false;
  /// a local failure is thrown after the round's exchange, so no rank is left in it). Throws
  /// InputError on a fatal input problem.
  bool next(CombinedBatch& out, std::uint64_t chunk_bytes);
  /// Bytes of this rank's range not parsed yet, and of the whole range.
  [[nodiscard]] std::uint64_t bytes_left() const;
  [[nodiscard]] std::uint64_t range_bytes() const { return _range_bytes; }

  [[nodiscard]] const CleaningCounters& counters() const { return _counters; }
  [[nodiscard]] const std::vector<BadLine>& bad_lines() const { return _bad_lines; }
  [[nodiscard]] std::uint64_t bytes_read() const { return _bytes_read; }
  /// The latest day of this rank's lines that reached the owner with the fate kept (a duplicate
  /// has its original's day, so over all ranks + 1 it is the default snapshot); INT32_MIN if none.
  [[nodiscard]] std::int32_t last_kept_day() const { return _last_kept_day; }
  /// Every line with a reader fate also goes to `sink` (nullptr: none; not owned).
  void set_reject_sink(RejectSink* sink) { _rejects = sink; }
  /// What this rank's slash dates said about the day/month order (README "Dates").
  struct DateOrderSeen {
    bool ambiguous = false;  ///< a date that the other order would read as another day
    bool confirmed = false;  ///< a date whose day field is above 12 ...
    std::uint32_t file = 0;  ///< ... the first one: its file and physical line
    std::uint64_t line = 0;
  };
  [[nodiscard]] const DateOrderSeen& date_order_seen() const { return _date_order; }

 private:
  enum class RangeKind : std::uint8_t { plain, pieces, stream };
  struct ByteRange {
    std::uint32_t file;
    std::uint64_t begin, end;  ///< this rank owns records starting in [begin, end) (decoded bytes if compressed)
    std::uint64_t line;        ///< physical line number at `cursor`
    std::uint64_t cursor;      ///< next record start (after alignment)
    bool aligned = false;
    bool quoted_at_begin = false;
    RangeKind kind = RangeKind::plain;
    std::uint32_t first_piece = 0, end_piece = 0;  ///< compressed: pieces [first, end) of the file
    std::uint64_t weight = 0;                      ///< compressed bytes (progress)
    bool after_newline = true;                     ///< pieces: the decoded byte before `begin` is a newline (or none)
  };
  struct Source;      ///< the decoder and decoded window of the compressed range being read
  struct PieceCount;  ///< a pieces range's counts, gathered in start()
  void align(ByteRange& range, int fd);
  void align_compressed(ByteRange& range);
  /// Reads this rank's own ranges up to the next stream range (the local part of next()).
  bool read_own(CombinedBatch& out, std::uint64_t chunk_bytes);
  bool read_plain(ByteRange& range, CombinedBatch& out, std::uint64_t& budget);
  bool read_compressed(ByteRange& range, CombinedBatch& out, std::uint64_t& budget);
  /// The collective round of a plan with streams.
  bool next_round(CombinedBatch& out, std::uint64_t chunk_bytes);
  /// Decoder of a stream: decodes about half a round and cuts it at record ends into one block
  /// per rank: block k is [ends[k-1], ends[k]) of the window and starts at physical line
  /// lines[k]; lines[p] is the line after the last block. Consumes nothing.
  void cut_stream(ByteRange& range, std::uint64_t chunk_bytes, std::vector<std::size_t>& ends,
                  std::vector<std::uint64_t>& lines);
  /// Parses the records of `text` that start before the range's end; returns the bytes consumed
  /// (whole records only, unless `at_eof`).
  std::size_t parse_block(ByteRange& range, std::string_view text, bool at_eof, CombinedBatch& out);
  /// One record (line end stripped) split into `fields` (the first `field_total` of which exist).
  void interpret(const ByteRange& range, std::string_view record, const std::string_view* fields,
                 std::size_t field_total, std::uint64_t line, CombinedBatch& out);
  void report(Fate fate, const ByteRange& range, std::uint64_t line, std::string_view record);
  /// Counts a line with a reader fate and hands it to the reject sink (report() calls it).
  void reject(Fate fate, const ByteRange& range, std::uint64_t line, std::string_view record);
  /// Counts what another setting would have made of an unparseable line (Evidence); bad path only.
  void gather_evidence(Fate fate, const ByteRange& range, std::string_view record, const std::string_view* fields,
                       std::string_view customer = {});

  const InputPlan& _plan;
  InputConfig _config;
  std::vector<ByteRange> _ranges;
  std::size_t _current = 0;
  std::vector<char> _buffer;
  CleaningCounters _counters;
  std::vector<BadLine> _bad_lines;
  std::array<int, fate_count> _reported{};
  std::uint64_t _bytes_read = 0;
  std::uint64_t _range_bytes = 0;
  std::vector<std::string_view> _fields;
  std::vector<csv::FieldSplitter> _splitters;  ///< one per file
  std::vector<bool> _fast;                     ///< per file: records without quotes take the SSE2 path
  std::vector<std::uint64_t> _counts;          ///< [quotes per file..., newlines per file...]
  std::vector<std::uint32_t> _delimiters;      ///< delimiter offsets of the current plain record
  CachedDateParser _dates;
  std::optional<Pseudonymizer> _pseudonymizer;  ///< --pseudonymize-key: ids replaced as read; no line text kept
  RejectSink* _rejects = nullptr;
  std::int32_t _last_day;                   ///< lines dated later are after_snapshot
  std::int32_t _first_day;                  ///< lines dated earlier are outside_window
  std::int32_t _last_kept_day = INT32_MIN;  ///< latest day of a line the reader gave the fate kept
  DateOrderSeen _date_order;
  const mpi::Comm* _comm;
  int _rank = 0, _ranks = 1;
  bool _has_streams = false;  ///< next() is collective
  std::unique_ptr<Source> _source;
  std::vector<PieceCount> _piece_counts;  ///< this rank's, from the counting pass
  std::vector<std::string> _returns;      ///< per decoder rank: rejected lines of its blocks, to send back
};

}  // namespace rfmseg
