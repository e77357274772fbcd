#pragma once
// RFC 4180 record scanning and field splitting. No allocation per field: fields are views into
// the record, or into the splitter's scratch buffer when a quoted field had doubled quotes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rfmseg::csv {

struct Dialect {
  char delimiter = ',';
  char quote = '"';
  bool whitespace = false;  ///< fields are separated by runs of blanks (space, tab)
};

/// Position one past the '\n' that ends the record starting at `begin`, honouring quotes; or
/// std::string_view::npos when the buffer ends inside the record (or before its newline).
[[nodiscard]] std::size_t find_record_end(std::string_view buffer, std::size_t begin, char quote) noexcept;

/// The record without its line terminator ("\n" or "\r\n").
[[nodiscard]] std::string_view strip_line_end(std::string_view record) noexcept;

/// Splits records into fields; reuse one splitter for many records.
class FieldSplitter {
 public:
  explicit FieldSplitter(Dialect dialect = {}) : _dialect(dialect) {}
  /// Splits `record` (no line terminator) into `fields`. Returns false when a quoted field is not
  /// closed. Views stay valid until the next call.
  bool split(std::string_view record, std::vector<std::string_view>& fields);
  [[nodiscard]] const Dialect& dialect() const { return _dialect; }

 private:
  Dialect _dialect;
  std::string _scratch;
};

/// Outcome of scan_plain_record.
enum class PlainScan {
  plain,       ///< a record without quote characters: `end` and the delimiter offsets are set
  quoted,      ///< a quote character occurs before the record's newline: use find_record_end + FieldSplitter
  incomplete,  ///< the buffer ends before a newline (and before any quote)
};

/// Fast path of record scanning for the common record without quotes. Looks at `buffer` from
/// `begin` up to the first '\n'. When no `quote` byte comes before it, returns `plain`, sets
/// `end` to one past the '\n', and stores in `delimiters[0..min(count, capacity))` the offsets
/// (relative to `begin`) of every `delimiter` byte before the '\n'; `count` is their number, also
/// beyond `capacity`. The fields are then exactly those FieldSplitter gives for the record
/// without its line end (for a non-whitespace dialect whose delimiter is neither '\n' nor '\r'
/// nor the quote). SSE2: 16 bytes per step; never reads outside `buffer`.
[[nodiscard]] PlainScan scan_plain_record(std::string_view buffer, std::size_t begin, char delimiter, char quote,
                                          std::uint32_t* delimiters, std::size_t capacity, std::size_t& count,
                                          std::size_t& end) noexcept;

/// How often `a` and `b` occur in `text` (one pass; SSE2).
void count_two(std::string_view text, char a, char b, std::uint64_t& count_a, std::uint64_t& count_b) noexcept;

/// Trims ASCII whitespace (space, \t, \r, \n, \v, \f) at both ends.
[[nodiscard]] std::string_view trim(std::string_view text) noexcept;

}  // namespace rfmseg::csv
