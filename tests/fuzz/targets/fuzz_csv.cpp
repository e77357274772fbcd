// libFuzzer target: the CSV record scanner and field splitter of include/rfmseg/core/csv.hpp
// (find_record_end, strip_line_end, FieldSplitter, trim).
//
// Input layout:
//   * Usually the input is a region of a CSV file in the default dialect (',' and '"'). It is cut
//     into records and fields the way the Reader does, and every result is compared with the
//     plain reference implementation below.
//   * An input whose first byte is a control byte other than TAB, LF and CR is a "selector":
//       bit 0  round-trip mode: the rest is a FuzzedDataProvider recipe for records of fields,
//              which are CSV-encoded; scanning and splitting the encoding must give them back;
//       bit 1  whitespace dialect (fields separated by runs of blanks);
//       bit 2  the quote character is the byte after the delimiter (otherwise '"');
//     and the next byte is the delimiter (any byte: the functions take any, whatever the options
//     allow).
//
// The reference is a character-by-character restatement of the rules written down in
// scripts/reference/rfm_reference.py: a record ends at the first LF preceded by an even number of
// quote characters since the record's start; a field that starts with the quote is quoted ("" is a
// literal quote, delimiters and line breaks are data, text after the closing quote is appended up
// to the next separator); a quote anywhere else is a literal character.
//
// The SSE2 fast path (scan_plain_record, count_two; compiled in when csv.hpp declares it, see
// CMakeLists.txt) is checked at every record start against the reference and against the exact
// path: the fields it delimits must be the ones FieldSplitter returns.
//
// Extending: another scanner or splitter added to csv.hpp is checked the same way, by calling it
// next to find_record_end / FieldSplitter::split in check_buffer() and requiring the same answer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "check.hpp"
#include "rfmseg/core/csv.hpp"

namespace {

using rfmseg::csv::Dialect;
using rfmseg::csv::FieldSplitter;
using rfmseg::fuzz::show;
constexpr std::size_t npos = std::string_view::npos;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_separator(const Dialect& dialect, char c) { return dialect.whitespace ? is_blank(c) : c == dialect.delimiter; }

/// A dialect the format can be written in: the delimiter, quote and line end are distinct (the
/// options refuse the others). Other dialects are still fuzzed for memory safety and bounds, but
/// only sane ones are held to the reference semantics.
bool is_sane(const Dialect& dialect) {
  const char q = dialect.quote;
  if (q == '\n' || q == '\r' || (dialect.whitespace && is_blank(q))) return false;
  return dialect.whitespace || (dialect.delimiter != q && dialect.delimiter != '\n' && dialect.delimiter != '\r');
}

std::string describe(const Dialect& dialect) {
  return "dialect{delimiter=" + show(std::string_view(&dialect.delimiter, 1)) +
         " quote=" + show(std::string_view(&dialect.quote, 1)) + " whitespace=" + (dialect.whitespace ? "1" : "0") +
         "}";
}

std::string show_fields(const std::vector<std::string>& fields) {
  std::string out = "[";
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? ", " : "") + show(fields[i]);
  return out + "]";
}

// ------------------------------------------------------------------------------- the reference

/// One past the LF that ends the record starting at `begin`, or npos when the buffer ends first.
std::size_t reference_record_end(std::string_view buffer, std::size_t begin, char quote) {
  bool odd = false;  // quote characters seen since `begin`
  for (std::size_t i = begin; i < buffer.size(); ++i) {
    if (buffer[i] == quote)
      odd = !odd;
    else if (buffer[i] == '\n' && !odd)
      return i + 1;
  }
  return npos;
}

/// Fields of one record (no line end) by a state machine; nullopt for an unclosed quoted field.
std::optional<std::vector<std::string>> reference_split(std::string_view record, const Dialect& dialect) {
  enum class State { field_start, plain, quoted, quote_in_quoted, after_quoted };
  std::vector<std::string> fields;
  std::string field;
  State state = State::field_start;
  const auto emit = [&] {
    fields.push_back(field);
    field.clear();
    state = State::field_start;
  };
  for (const char c : record) {
    switch (state) {
      case State::field_start:
        if (c == dialect.quote)
          state = State::quoted;
        else if (is_separator(dialect, c)) {
          if (!dialect.whitespace) emit();  // an empty field; in whitespace mode a run of blanks is one separator
        } else {
          field += c;
          state = State::plain;
        }
        break;
      case State::plain:
        if (is_separator(dialect, c))
          emit();
        else
          field += c;
        break;
      case State::quoted:
        if (c == dialect.quote)
          state = State::quote_in_quoted;
        else
          field += c;
        break;
      case State::quote_in_quoted:  // just after a quote inside a quoted field
        if (c == dialect.quote) {
          field += c;
          state = State::quoted;
        } else if (is_separator(dialect, c)) {
          emit();
        } else {
          field += c;
          state = State::after_quoted;
        }
        break;
      case State::after_quoted:
        if (is_separator(dialect, c))
          emit();
        else
          field += c;
        break;
    }
  }
  switch (state) {
    case State::quoted: return std::nullopt;
    case State::field_start:
      // Non-whitespace: an empty record or a trailing delimiter ends with one empty field.
      // Whitespace: leading, trailing and only blanks make no field.
      if (!dialect.whitespace) fields.push_back(field);
      break;
    default: fields.push_back(field);
  }
  return fields;
}

// ------------------------------------------------------------------------------------ checks

#if RFMSEG_FUZZ_PLAIN_SCAN
/// scan_plain_record at `pos` against the plain definition, and its fields (cut the way
/// Reader::parse_block cuts them) against FieldSplitter's; count_two against std::count.
void check_plain_scan(std::string_view buffer, std::size_t pos, const Dialect& dialect, std::size_t capacity,
                      FieldSplitter& splitter, std::vector<std::string_view>& fields) {
  using rfmseg::csv::PlainScan;
  std::vector<std::uint32_t> offsets(capacity + 1, 0xdeadbeef);  // one guard entry past `capacity`
  std::size_t count = 0, end = 0;
  const PlainScan scan = rfmseg::csv::scan_plain_record(buffer, pos, dialect.delimiter, dialect.quote, offsets.data(),
                                                        capacity, count, end);
  const std::size_t newline = buffer.find('\n', pos);
  const std::string_view line = buffer.substr(pos, newline == npos ? npos : newline - pos);
  const bool quoted = line.find(dialect.quote) != npos;
  const PlainScan expected = quoted ? PlainScan::quoted : newline == npos ? PlainScan::incomplete : PlainScan::plain;
  // (Messages are built only on failure: building them for every record would make this O(n^2).)
  const auto where = [&] {
    return "scan_plain_record(" + show(buffer) + ", " + std::to_string(pos) + ") " + describe(dialect);
  };
  FUZZ_CHECK(scan == expected, where() + " returned " + std::to_string(static_cast<int>(scan)) + ", expected " +
                                   std::to_string(static_cast<int>(expected)));
  FUZZ_CHECK(offsets[capacity] == 0xdeadbeef, where() + " wrote past `capacity` " + std::to_string(capacity));
  if (scan != PlainScan::plain) return;
  FUZZ_CHECK(end == newline + 1,
             where() + ": end " + std::to_string(end) + ", the LF is at " + std::to_string(newline));
  FUZZ_CHECK(dialect.quote == '\n' || end == rfmseg::csv::find_record_end(buffer, pos, dialect.quote),
             where() + ": the fast and exact record ends differ");
  std::vector<std::uint32_t> expected_offsets;
  for (std::size_t i = pos; i < newline; ++i)
    if (buffer[i] == dialect.delimiter) expected_offsets.push_back(static_cast<std::uint32_t>(i - pos));
  FUZZ_CHECK(count == expected_offsets.size(), where() + ": " + std::to_string(count) + " delimiters, expected " +
                                                   std::to_string(expected_offsets.size()));
  for (std::size_t i = 0; i < std::min(count, capacity); ++i)
    FUZZ_CHECK(offsets[i] == expected_offsets[i], where() + ": delimiter " + std::to_string(i) + " at " +
                                                      std::to_string(offsets[i]) + ", expected " +
                                                      std::to_string(expected_offsets[i]));
  // The contract: for a delimited dialect whose delimiter is not a line-end byte or the quote, the
  // fields between the offsets are exactly FieldSplitter's for the record without its line end.
  if (dialect.whitespace || !is_sane(dialect) || count > capacity) return;
  std::size_t length = end - 1 - pos;
  if (length > 0 && buffer[pos + length - 1] == '\r') --length;
  const std::string_view record = buffer.substr(pos, length);
  FUZZ_CHECK(record == rfmseg::csv::strip_line_end(buffer.substr(pos, end - pos)), where() + ": line end");
  std::vector<std::string> fast;
  for (std::size_t i = 0; i <= count; ++i) {
    const std::size_t from = i == 0 ? 0 : offsets[i - 1] + 1;
    const std::size_t to = i < count ? offsets[i] : length;
    FUZZ_CHECK(from <= to && to <= length, where() + ": field " + std::to_string(i) + " out of the record");
    fast.emplace_back(record.substr(from, to - from));
  }
  FUZZ_CHECK(splitter.split(record, fields), where() + ": FieldSplitter rejects a record without quotes");
  const std::vector<std::string> exact(fields.begin(), fields.end());
  FUZZ_CHECK(fast == exact, where() + ": fast fields " + show_fields(fast) + ", FieldSplitter " + show_fields(exact));
}

void check_count_two(std::string_view text, char a, char b) {
  std::uint64_t na = 0, nb = 0;
  rfmseg::csv::count_two(text, a, b, na, nb);
  const auto count = [&](char c) { return static_cast<std::uint64_t>(std::count(text.begin(), text.end(), c)); };
  FUZZ_CHECK(na == count(a) && nb == count(b), "count_two(" + show(text) + ", " + show(std::string_view(&a, 1)) + ", " +
                                                   show(std::string_view(&b, 1)) + ") = " + std::to_string(na) + ", " +
                                                   std::to_string(nb));
}
#endif

void check_trim(std::string_view text) {
  const std::string_view t = rfmseg::csv::trim(text);
  const auto ascii_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  FUZZ_CHECK(t.data() >= text.data() && t.data() + t.size() <= text.data() + text.size(),
             "trim returned a view outside its argument " + show(text));
  FUZZ_CHECK(t.empty() || (!ascii_space(t.front()) && !ascii_space(t.back())), "trim left a blank: " + show(t));
  const auto head = static_cast<std::size_t>(t.data() - text.data());
  for (std::size_t i = 0; i < head; ++i)
    FUZZ_CHECK(ascii_space(text[i]), "trim removed a non-blank from " + show(text));
  for (std::size_t i = head + t.size(); i < text.size(); ++i)
    FUZZ_CHECK(ascii_space(text[i]), "trim removed a non-blank from " + show(text));
}

/// Splits one record (line end included) and checks the fields against the reference and bounds.
void check_record(FieldSplitter& splitter, std::string_view record_with_end, bool sane,
                  std::vector<std::string_view>& fields) {
  const Dialect& dialect = splitter.dialect();
  const std::string_view record = rfmseg::csv::strip_line_end(record_with_end);
  const std::string_view removed = record_with_end.substr(record.size());
  FUZZ_CHECK(record_with_end.substr(0, record.size()) == record &&
                 (removed.empty() || removed == "\n" || removed == "\r\n" || removed == "\r"),
             "strip_line_end(" + show(record_with_end) + ") = " + show(record));
  check_trim(record);

  const bool ok = splitter.split(record, fields);
  // Every view is read here: a view into a reallocated scratch buffer is a use-after-free for ASan.
  std::vector<std::string> got(fields.begin(), fields.end());
  std::size_t separators = 0, total = 0;
  for (const char c : record) separators += is_separator(dialect, c) ? 1 : 0;
  for (const auto& f : got) total += f.size();
  if (ok) {
    FUZZ_CHECK(got.size() <= separators + 1,
               "more fields than separators + 1 in " + show(record) + " " + describe(dialect));
    FUZZ_CHECK(total <= record.size(), "fields longer than the record " + show(record));
    if (!dialect.whitespace)
      FUZZ_CHECK(!got.empty(), "no field in a delimited record " + show(record));
    else if (got.empty()) {
      for (const char c : record) FUZZ_CHECK(is_blank(c), "no field in a record with text " + show(record));
    }
  }
  if (sane && record.find(dialect.quote) == npos) {
    // No quote: splitting is exactly cutting at separators, and never fails.
    FUZZ_CHECK(ok, "unquoted record rejected: " + show(record) + " " + describe(dialect));
    if (!dialect.whitespace) {
      std::string joined;
      for (std::size_t i = 0; i < got.size(); ++i) (joined += i ? std::string(1, dialect.delimiter) : "") += got[i];
      FUZZ_CHECK(joined == record, "fields " + show_fields(got) + " do not re-join to " + show(record));
    }
  }
  if (!sane) return;
  const auto expected = reference_split(record, dialect);
  FUZZ_CHECK(ok == expected.has_value(), "split(" + show(record) + ") returned " + (ok ? "true" : "false") +
                                             ", the reference " + (expected ? "true" : "false") + " " +
                                             describe(dialect));
  if (ok)
    FUZZ_CHECK(got == *expected, "split(" + show(record) + ") = " + show_fields(got) + ", the reference " +
                                     show_fields(*expected) + " " + describe(dialect));
}

/// Cuts `buffer` into records as Reader::next does and checks each one; returns the record
/// boundaries (each a record start, the last one buffer.size()).
std::vector<std::size_t> check_buffer(std::string_view buffer, const Dialect& dialect) {
  FieldSplitter splitter(dialect);  // one splitter for all records, as the Reader keeps it
  std::vector<std::string_view> fields;
  std::vector<std::size_t> starts;
  const bool sane = is_sane(dialect);
#if RFMSEG_FUZZ_PLAIN_SCAN
  FieldSplitter fast_splitter(dialect);
  std::vector<std::string_view> fast_fields;
  // The offset buffer's size varies with the input (2..257), so records with more delimiters
  // than it holds are exercised too; the Reader uses 256.
  const std::size_t capacity = 2 + buffer.size() % 256;
  check_count_two(buffer, dialect.quote, '\n');
  check_count_two(buffer.substr(buffer.size() / 3), dialect.delimiter, dialect.quote);
  if (!buffer.empty()) {
    // count_two keeps byte-wide counters for up to 255 blocks of 16 bytes: a text longer than
    // that (inputs are shorter) tests their flush; its length, and so the scalar tail, varies.
    std::string long_text;
    while (long_text.size() < 2 * 255 * 16 + 7) long_text.append(buffer);
    check_count_two(long_text, dialect.quote, '\n');
  }
#endif
  if (buffer.empty()) check_record(splitter, buffer, sane, fields);  // an empty last line
  std::size_t pos = 0;
  while (pos < buffer.size()) {
    starts.push_back(pos);
#if RFMSEG_FUZZ_PLAIN_SCAN
    check_plain_scan(buffer, pos, dialect, capacity, fast_splitter, fast_fields);
#endif
    std::size_t end = rfmseg::csv::find_record_end(buffer, pos, dialect.quote);
    // (A LF quote character is meaningless: record ends are then only held to the bounds.)
    FUZZ_CHECK(dialect.quote == '\n' || end == reference_record_end(buffer, pos, dialect.quote),
               "find_record_end(" + show(buffer) + ", " + std::to_string(pos) + ") = " + std::to_string(end) +
                   ", the reference " + std::to_string(reference_record_end(buffer, pos, dialect.quote)));
    if (end == npos) {
      end = buffer.size();  // at end of file the rest is the last record
    } else {
      FUZZ_CHECK(end > pos && end <= buffer.size() && buffer[end - 1] == '\n',
                 "record end " + std::to_string(end) + " is not just after a LF in " + show(buffer));
      // A record is balanced: every boundary sits at an even quote count from the start of the
      // data, which is what lets a rank find boundaries from the exclusive scan of quote counts.
      std::size_t quotes = 0;
      for (std::size_t i = pos; i < end; ++i) quotes += buffer[i] == dialect.quote ? 1 : 0;
      FUZZ_CHECK(dialect.quote == '\n' || quotes % 2 == 0,
                 "record " + show(buffer.substr(pos, end - pos)) + " has an odd quote count");
    }
    check_record(splitter, buffer.substr(pos, end - pos), sane, fields);
    pos = end;
  }
  starts.push_back(buffer.size());
  return starts;
}

// ------------------------------------------------------------------------------ round trip

/// RFC 4180 encoding of one field: quoted when it holds a separator, the quote or a line-end
/// byte (or is empty in whitespace mode, where an unquoted empty field cannot be written).
std::string encode_field(std::string_view field, const Dialect& dialect, bool force_quotes) {
  bool quote = force_quotes || (dialect.whitespace && field.empty());
  for (const char c : field) quote = quote || c == dialect.quote || c == '\n' || c == '\r' || is_separator(dialect, c);
  if (!quote) return std::string(field);
  std::string out(1, dialect.quote);
  for (const char c : field) {
    out += c;
    if (c == dialect.quote) out += c;
  }
  return out += dialect.quote;
}

void round_trip(FuzzedDataProvider& input, Dialect dialect) {
  if (!is_sane(dialect)) dialect.delimiter = ',';
  if (!is_sane(dialect)) dialect.quote = '"';
  std::string buffer;
  std::vector<std::vector<std::string>> records;
  std::vector<std::size_t> starts;  // where each encoded record begins, then buffer.size()
  const int count = input.ConsumeIntegralInRange(1, 4);
  for (int r = 0; r < count; ++r) {
    std::vector<std::string> fields;
    const int n = input.ConsumeIntegralInRange(dialect.whitespace ? 0 : 1, 8);
    std::string line;
    if (dialect.whitespace) line.append(input.ConsumeIntegralInRange(0, 2), input.ConsumeBool() ? ' ' : '\t');
    for (int i = 0; i < n; ++i) {
      fields.push_back(input.ConsumeRandomLengthString(48));
      if (i > 0) {
        if (dialect.whitespace)
          line.append(input.ConsumeIntegralInRange(1, 3), input.ConsumeBool() ? ' ' : '\t');
        else
          line += dialect.delimiter;
      }
      line += encode_field(fields.back(), dialect, input.ConsumeBool());
    }
    if (dialect.whitespace) line.append(input.ConsumeIntegralInRange(0, 2), input.ConsumeBool() ? ' ' : '\t');
    // The last record may end without a line end, as at the end of a file.
    const int end = input.ConsumeIntegralInRange(r + 1 == count ? 0 : 1, 2);
    line += end == 1 ? "\n" : end == 2 ? "\r\n" : "";
    if (line.empty()) break;  // an empty last record without a line end is no record at all
    starts.push_back(buffer.size());
    records.push_back(std::move(fields));
    buffer += line;
  }
  starts.push_back(buffer.size());

  // The scanner must find exactly the encoded boundaries (quoted line breaks stay inside their
  // field), and each record must split back to its fields.
  const std::vector<std::size_t> found = check_buffer(buffer, dialect);
  FUZZ_CHECK(found == starts,
             "the records of " + show(buffer) + " were not found where they were written " + describe(dialect));
  std::vector<std::string_view> views;
  FieldSplitter splitter(dialect);
  for (std::size_t r = 0; r < records.size(); ++r) {
    const std::string_view record =
        rfmseg::csv::strip_line_end(std::string_view(buffer).substr(starts[r], starts[r + 1] - starts[r]));
    FUZZ_CHECK(splitter.split(record, views),
               "encoded record " + show(record) + " does not split " + describe(dialect));
    const std::vector<std::string> got(views.begin(), views.end());
    FUZZ_CHECK(got == records[r], "fields " + show_fields(records[r]) + " encoded as " + show(record) + " split to " +
                                      show_fields(got) + " " + describe(dialect));
  }
}

bool is_selector(std::uint8_t byte) { return byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (size < 2 || !is_selector(data[0])) {
    check_buffer(input, Dialect{});
    return 0;
  }
  const std::uint8_t selector = data[0];
  Dialect dialect;
  dialect.delimiter = static_cast<char>(data[1]);
  dialect.whitespace = (selector & 2) != 0;
  std::size_t used = 2;
  if ((selector & 4) != 0 && size > 2) dialect.quote = static_cast<char>(data[used++]);
  if ((selector & 1) != 0) {
    FuzzedDataProvider provider(data + used, size - used);
    round_trip(provider, dialect);
  } else {
    check_buffer(input.substr(used), dialect);
  }
  return 0;
}
