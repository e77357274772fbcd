#pragma once
// RFC 4180 record scanning and field splitting. No allocation per field: fields are views into
// the record, or into the splitter's scratch buffer when a quoted field had doubled quotes.

#include <cstddef>
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
/// std::string_view::npos when the buffer ends inside the record. `quotes_seen` returns how many
/// quote characters the record contains (its parity tells whether the record is balanced).
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

/// Trims ASCII whitespace (space, \t, \r, \n, \v, \f) at both ends.
[[nodiscard]] std::string_view trim(std::string_view text) noexcept;

}  // namespace rfmseg::csv
