#pragma once
// Stage 1 — ingest. Every rank reads its own byte range of the inputs (aligned to record starts:
// a newline ends a record only outside quotes, decided from the exact quote parity before the
// range, so ranges split the same records whatever the rank count), parses records — plain ones
// on an SSE2 fast path, quoted ones exactly by RFC 4180 — into groups combined per customer,
// invoice and day (CombinedBatch), and counts every line it cannot use.

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
#include "rfmseg/io/compressed.hpp"
#include "rfmseg/io/layout.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// What became of an input line. Reader fates come first; the owner decides the rest.
enum class Fate : std::uint8_t {
  bad_field_count,   ///< wrong number of fields, unclosed quote
  bad_customer_id,   ///< customer id longer than max_customer_id_bytes, or with a control byte
  bad_number,        ///< quantity, price or amount is not a number in range
  bad_date,          ///< not a date in an accepted layout, or not a real day
  missing_customer,  ///< empty customer id
  after_snapshot,    ///< dated after --snapshot (the result is as of that day)
  duplicate,         ///< byte-identical to an earlier line
  cancellation,      ///< invoice starting with C, or negative quantity
  zero_quantity,
  nonpositive_price,
  kept,
};
inline constexpr std::size_t fate_count = 11;
[[nodiscard]] const char* fate_name(Fate fate);

inline constexpr std::size_t max_customer_id_bytes = 256;

/// Whether `id` holds a control byte (0x00-0x1F, 0x7F): such an id is `bad_customer_id` (a NUL
/// would make "a" and "a\0" one name in HDF5's fixed-length strings; ESC would reach terminals).
/// Eight bytes per step (SWAR): ids are short and this runs once per line.
[[nodiscard]] inline bool has_control_byte(std::string_view id) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const auto control_in = [](std::uint64_t w) {
    const std::uint64_t below_space = (w - 0x20 * ones) & ~w & highs;  // some byte < 0x20 (exact for any)
    const std::uint64_t del = w ^ (0x7F * ones);
    return (below_space | ((del - ones) & ~del & highs)) != 0;  // ... or some byte == 0x7F
  };
  std::size_t i = 0;
  for (; i + 8 <= id.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, id.data() + i, 8);
    if (control_in(w)) return true;
  }
  std::uint64_t w = 0x4141414141414141ULL;  // the tail, padded with 'A'
  if (i < id.size()) std::memcpy(&w, id.data() + i, id.size() - i);
  return control_in(w);
}

/// Unparseable lines: what --max-bad-fraction limits (the cleaning fates after them do not count).
[[nodiscard]] constexpr bool is_unparseable(Fate fate) noexcept {
  return fate == Fate::bad_field_count || fate == Fate::bad_customer_id || fate == Fate::bad_number ||
         fate == Fate::bad_date;
}

/// Evidence for the hint of a run that failed on unparseable lines: how many of them another
/// setting would have read. Gathered only on the bad path.
enum class Evidence : std::uint8_t {
  decimal_comma,  ///< bad_number lines whose numbers read with --decimal-comma
  decimal_point,  ///< bad_number lines (under --decimal-comma) whose numbers read without it
  semicolon,      ///< bad_field_count lines holding ';' (when it is not the delimiter)
  tab,            ///< ... a tab
  comma,          ///< ... ','
  pipe,           ///< ... '|'
  iso,            ///< bad_date lines whose date reads as YYYY-MM-DD
  mdy,            ///< ... as M/D/Y
  dmy,            ///< ... as D/M/Y
  yyyymmdd,       ///< ... as YYYYMMDD
  dd_mon_yy,      ///< ... as DD-Mon-YY
  control_id,     ///< bad_customer_id lines whose id holds a control byte
};
inline constexpr std::size_t evidence_count = 12;

/// Every line's fate, counted. `lines` counts data records; `blank_lines` empty ones (skipped).
struct CleaningCounters {
  std::int64_t lines = 0;
  std::int64_t blank_lines = 0;
  std::array<std::int64_t, fate_count> fates{};
  std::array<std::int64_t, evidence_count> evidence{};
  std::int64_t& operator[](Fate fate) { return fates[static_cast<std::size_t>(fate)]; }
  std::int64_t operator[](Fate fate) const { return fates[static_cast<std::size_t>(fate)]; }
  std::int64_t& operator[](Evidence e) { return evidence[static_cast<std::size_t>(e)]; }
  std::int64_t operator[](Evidence e) const { return evidence[static_cast<std::size_t>(e)]; }
  [[nodiscard]] std::int64_t unparseable() const;
  /// Sums over all ranks (collective).
  void reduce(const mpi::Comm& comm);
};

/// "lines N: kept K, <fate> n, ..., blank B" (the fates that occurred): the console's counter line.
[[nodiscard]] std::string format_counters(const CleaningCounters& counters);

/// The excerpt of a BadLine under --pseudonymize-key: the line's text may hold a raw id.
inline constexpr std::string_view withheld_line_text = "(text withheld: --pseudonymize-key)";

/// A line that could not be used, for the report ("file:line: reason").
struct BadLine {
  Fate fate;
  std::uint32_t file;
  std::uint64_t line;
  std::string excerpt;
};

/// Receives every line whose fate the reader decides (the reader fates: it cannot be used), with
/// its input file index, physical line number (its first, for a record spanning lines) and raw
/// bytes (line end excluded), in input order. Lines that reach the owner never come here.
class RejectSink {
 public:
  virtual ~RejectSink() = default;
  virtual void reject(std::uint32_t file, std::uint64_t line, Fate fate, std::string_view record) = 0;
};

/// An input file. A compressed one (.gz, .zst) is read as its decoded bytes: `data_begin` and
/// line numbers count decoded bytes, `size` stays the size on disk.
struct InputFile {
  std::string path;
  std::uint64_t size = 0;
  std::uint64_t data_begin = 0;    ///< first byte after the header record
  std::uint64_t header_lines = 0;  ///< physical lines the header occupies
  Layout layout;
  bool drop_duplicates = true;  ///< --duplicates resolved for this file's layout
  Compression compression = Compression::none;
  /// A compressed file's independent members/frames; one piece = a stream that a single rank
  /// decodes and hands to the others in rounds.
  std::vector<CompressedPiece> pieces;
  [[nodiscard]] bool is_compressed() const { return compression != Compression::none; }
  [[nodiscard]] bool is_stream() const { return is_compressed() && pieces.size() == 1; }
  /// Bytes the split over ranks spreads: a plain file's data region, a compressed file's size.
  [[nodiscard]] std::uint64_t weight() const { return is_compressed() ? size : size - data_begin; }
};

struct InputPlan {
  std::vector<InputFile> files;
  std::uint64_t data_bytes = 0;  ///< sum of the files' weights (data regions; compressed sizes)
  [[nodiscard]] bool all_have_invoice() const;
  /// The resolved --duplicates: "drop", "keep", or both with the files they apply to.
  [[nodiscard]] std::string duplicates_policy() const;
};

/// "file:line: fate: excerpt" of a reported line.
[[nodiscard]] std::string describe_bad_line(const BadLine& bad, const InputPlan& plan);

/// What to try when many lines were dropped, from the global counters and their evidence: one
/// sentence per kind of unparseable line that makes up at least a tenth of them (most frequent
/// first); with `all_dropped` also for missing_customer and after_snapshot.
[[nodiscard]] std::vector<std::string> dropped_line_hints(const CleaningCounters& counters, const InputConfig& config,
                                                          bool all_dropped);

/// Collective: rank 0 expands globs, checks files and reads headers; every rank gets the plan.
/// Throws InputError / ConfigError on every rank when the inputs are unusable.
[[nodiscard]] InputPlan plan_inputs(const mpi::Comm& comm, const InputConfig& config);

/// The paths named by `--input` values: plain paths as given, globs expanded (sorted). Throws
/// InputError for a glob that matches nothing.
[[nodiscard]] std::vector<std::string> expand_inputs(const std::vector<std::string>& patterns);

/// Collective, after the input was read: a file that is now smaller than planned shrank while it
/// was read (InputError on every rank: what was read may be torn); one that grew had data appended
/// after the start, which the run ignored (a warning on rank 0).
void recheck_input_sizes(const mpi::Comm& comm, const InputPlan& plan);

/// Dedup key of a line: the hash of its bytes (line end excluded) with the parsed quantity and
/// price folded in. Two lines of one customer, invoice and day are duplicates when their keys are
/// equal: byte-identical lines always are (up to 64-bit hash collisions, as before combining).
[[nodiscard]] constexpr std::uint64_t line_key(std::uint64_t line_hash, std::int64_t quantity,
                                               std::int64_t price_micros) noexcept {
  return mix64(line_hash ^ mix64(static_cast<std::uint64_t>(quantity) * 0x9e3779b97f4a7c15ULL ^
                                 mix64(static_cast<std::uint64_t>(price_micros) + 0x2545f4914f6cdd1dULL)));
}

/// Byte equality of short strings (ids, invoices) without a library call per comparison.
[[nodiscard]] inline bool same_bytes(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (std::memcmp(p + i, q + i, 8) != 0) return false;  // fixed size: one 8-byte compare, inlined
    return std::memcmp(p + n - 8, q + n - 8, 8) == 0;
  }
  if (n >= 4) return std::memcmp(p, q, 4) == 0 && std::memcmp(p + n - 4, q + n - 4, 4) == 0;
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != q[i]) return false;
  return true;
}

/// Hash of a combined group's identity (customer id, invoice, day); `customer_hash` = hash_bytes(id).
[[nodiscard]] inline std::uint64_t group_hash(std::uint64_t customer_hash, std::string_view invoice,
                                              std::int32_t day) noexcept {
  return mix64(customer_hash ^ mix64(hash_bytes(invoice, 0x1d) + static_cast<std::uint32_t>(day)));
}

/// One round of a reader's usable lines, combined before the shuffle: one group per
/// (customer id, invoice, day), holding for each of its lines only what the owner still needs —
/// a 64-bit dedup key (hash of the line's bytes, quantity and price: byte-identical lines have
/// equal keys), the owner-side fate and the line's value (quantity × price in micro-units; 0 where
/// the owner does not use it). Consecutive lines of one group (an invoice's lines) cost no hash
/// lookup; ids and invoices are copied once per group, never per line.
class CombinedBatch {
 public:
  struct Group {
    std::uint64_t hash;           ///< of customer id, invoice and day
    std::uint64_t customer_hash;  ///< hash_bytes(customer id): decides the owner rank
    std::uint64_t text_offset;    ///< customer id bytes, then invoice bytes, in the text arena
    std::uint32_t customer_length;
    std::uint32_t invoice_length;
    std::int32_t day;
    std::uint32_t first_line, last_line;  ///< chain through Line::next (`none` = end)
    std::uint32_t lines;
  };
  struct Line {
    std::uint64_t key;
    std::int64_t value;  ///< micro-units, or an index into the wide values when `wide`
    std::uint32_t next;
    Fate fate;
    bool wide;
  };
  static constexpr std::uint32_t none = 0xffffffffu;

  /// `carry_cancellation_values`: cancellations keep their value (for --cancellations net).
  explicit CombinedBatch(bool carry_cancellation_values = false) : _carry_cancellations(carry_cancellation_values) {}

  /// Adds a line that reached the owner-side fates (duplicate, cancellation, ..., kept).
  void add(std::string_view customer, std::string_view invoice, std::int32_t day, std::uint64_t key, Fate fate,
           int128_t value);
  void clear();
  [[nodiscard]] std::size_t lines() const { return _lines.size(); }
  [[nodiscard]] const std::vector<Group>& groups() const { return _groups; }
  [[nodiscard]] std::string_view customer(const Group& g) const {
    return {_text.data() + g.text_offset, g.customer_length};
  }
  [[nodiscard]] std::string_view invoice(const Group& g) const {
    return {_text.data() + g.text_offset + g.customer_length, g.invoice_length};
  }
  [[nodiscard]] const Line& line(std::uint32_t index) const { return _lines[index]; }
  [[nodiscard]] int128_t value(const Line& line) const {
    return line.wide ? _wide[static_cast<std::size_t>(line.value)] : line.value;
  }
  /// Bytes in use, for the memory budget.
  [[nodiscard]] std::uint64_t used_bytes() const;
  /// Frees the memory (clear() keeps it for the next round).
  void release();

 private:
  std::uint32_t find_or_add_group(std::string_view customer, std::string_view invoice, std::int32_t day);
  void grow_index();

  bool _carry_cancellations;
  std::vector<Group> _groups;
  std::vector<Line> _lines;
  std::vector<int128_t> _wide;  ///< values beyond int64 (rare: huge quantity x price)
  std::string _text;
  std::vector<std::uint32_t> _index;  ///< open addressing: group index + 1, 0 = empty
  std::uint32_t _last_group = none;
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

/// Normalises a customer id: blanks trimmed, "17850.0" read as "17850".
[[nodiscard]] std::string_view normalize_customer_id(std::string_view id) noexcept;

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
  std::int32_t _last_day;  ///< lines dated later are after_snapshot
  DateOrderSeen _date_order;
  const mpi::Comm* _comm;
  int _rank = 0, _ranks = 1;
  bool _has_streams = false;  ///< next() is collective
  std::unique_ptr<Source> _source;
  std::vector<PieceCount> _piece_counts;  ///< this rank's, from the counting pass
  std::vector<std::string> _returns;      ///< per decoder rank: rejected lines of its blocks, to send back
};

}  // namespace rfmseg
