#pragma once
// Stage 1 — ingest. Every rank reads its own byte range of the inputs (aligned to record starts:
// a newline ends a record only outside quotes, decided from the exact quote parity before the
// range, so ranges split the same records whatever the rank count), parses records into compact
// transactions, and counts every line it cannot use.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rfmseg/config.hpp"
#include "rfmseg/layout.hpp"
#include "rfmseg/mpi.hpp"

namespace rfmseg {

/// What became of an input line. Reader fates come first; the owner decides the rest.
enum class Fate : std::uint8_t {
  bad_field_count,    ///< wrong number of fields, unclosed quote
  bad_customer_id,    ///< customer id longer than max_customer_id_bytes
  bad_number,         ///< quantity, price or amount is not a number in range
  bad_date,           ///< not a date in an accepted layout, or not a real day
  missing_customer,   ///< empty customer id
  duplicate,          ///< byte-identical to an earlier line
  cancellation,       ///< invoice starting with C, or negative quantity
  zero_quantity,
  nonpositive_price,
  kept,
};
inline constexpr std::size_t fate_count = 10;
[[nodiscard]] const char* fate_name(Fate fate);

inline constexpr std::size_t max_customer_id_bytes = 256;

/// Every line's fate, counted. `lines` counts data records; `blank_lines` empty ones (skipped).
struct CleaningCounters {
  std::int64_t lines = 0;
  std::int64_t blank_lines = 0;
  std::array<std::int64_t, fate_count> fates{};
  std::int64_t& operator[](Fate fate) { return fates[static_cast<std::size_t>(fate)]; }
  std::int64_t operator[](Fate fate) const { return fates[static_cast<std::size_t>(fate)]; }
  /// Sums over all ranks (collective).
  void reduce(const mpi::Comm& comm);
};

/// A line that could not be used, for the report ("file:line: reason").
struct BadLine {
  Fate fate;
  std::uint32_t file;
  std::uint64_t line;
  std::string excerpt;
};

struct InputFile {
  std::string path;
  std::uint64_t size = 0;
  std::uint64_t data_begin = 0;        ///< first byte after the header record
  std::uint64_t header_lines = 0;      ///< physical lines the header occupies
  Layout layout;
};

struct InputPlan {
  std::vector<InputFile> files;
  std::uint64_t data_bytes = 0;        ///< sum of the data regions
  [[nodiscard]] bool all_have_invoice() const;
};

/// Collective: rank 0 expands globs, checks files and reads headers; every rank gets the plan.
/// Throws InputError / ConfigError on every rank when the inputs are unusable.
[[nodiscard]] InputPlan plan_inputs(const mpi::Comm& comm, const InputConfig& config);

/// Compact transactions: fixed-size records plus the id bytes they point to.
struct Transactions {
  struct Record {
    std::uint64_t customer_hash;
    std::uint64_t line_hash;      ///< hash of the line's bytes (line end excluded): duplicate detection
    std::int64_t quantity;
    std::int64_t price_micros;
    std::int32_t day;
    std::uint16_t customer_length;
    std::uint16_t invoice_length;
    std::uint64_t text_offset;    ///< customer id bytes, then invoice bytes, in `text`
  };
  std::vector<Record> records;
  std::string text;

  void clear() {
    records.clear();
    text.clear();
  }
  [[nodiscard]] std::size_t size() const { return records.size(); }
  [[nodiscard]] std::string_view customer(const Record& r) const { return {text.data() + r.text_offset, r.customer_length}; }
  [[nodiscard]] std::string_view invoice(const Record& r) const {
    return {text.data() + r.text_offset + r.customer_length, r.invoice_length};
  }
  void add(const Record& fields, std::string_view customer, std::string_view invoice);
};

/// Normalises a customer id: blanks trimmed, "17850.0" read as "17850".
[[nodiscard]] std::string_view normalize_customer_id(std::string_view id) noexcept;

/// Parses this rank's share of the input in bounded chunks.
class Reader {
 public:
  /// Local: assigns this rank's byte range and counts quotes and newlines in it (may throw).
  Reader(const mpi::Comm& comm, const InputPlan& plan, const InputConfig& config);
  /// Collective: exclusive scan of the counts gives the quote parity and line number at each
  /// range start.
  void start(const mpi::Comm& comm);

  /// Parses up to chunk_bytes more of this rank's range into `out` (appending). Returns false once
  /// the range is exhausted. Local; throws InputError on a fatal input problem.
  bool next(Transactions& out);

  [[nodiscard]] const CleaningCounters& counters() const { return _counters; }
  [[nodiscard]] const std::vector<BadLine>& bad_lines() const { return _bad_lines; }
  [[nodiscard]] std::uint64_t bytes_read() const { return _bytes_read; }

 private:
  struct Segment {
    std::uint32_t file;
    std::uint64_t begin, end;   ///< this rank owns records starting in [begin, end)
    std::uint64_t line;         ///< physical line number at `cursor`
    std::uint64_t cursor;       ///< next record start (after alignment)
    bool aligned = false;
    bool quoted_at_begin = false;
  };
  void align(Segment& segment, int fd);
  void parse_record(const Segment& segment, std::string_view record, std::uint64_t line, Transactions& out);
  void report(Fate fate, const Segment& segment, std::uint64_t line, std::string_view record);

  const InputPlan& _plan;
  InputConfig _config;
  std::vector<Segment> _segments;
  std::size_t _current = 0;
  std::vector<char> _buffer;
  CleaningCounters _counters;
  std::vector<BadLine> _bad_lines;
  std::array<int, fate_count> _reported{};
  std::uint64_t _bytes_read = 0;
  std::vector<std::string_view> _fields;
  std::vector<csv::FieldSplitter> _splitters;  ///< one per file
  std::vector<std::uint64_t> _counts;          ///< [quotes per file..., newlines per file...]
};

}  // namespace rfmseg
