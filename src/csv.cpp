#include "rfmseg/csv.hpp"

#include <algorithm>
#include <cstring>

namespace rfmseg::csv {

std::size_t find_record_end(std::string_view buffer, std::size_t begin, char quote) noexcept {
  const char* const data = buffer.data();
  const std::size_t size = buffer.size();
  bool in_quotes = false;
  std::size_t pos = begin;
  while (pos < size) {
    const void* hit = std::memchr(data + pos, '\n', size - pos);
    const std::size_t newline = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - data) : size;
    // Quote parity up to the newline decides whether this newline ends the record.
    const auto quotes = std::count(data + pos, data + newline, quote);
    if (quotes & 1) in_quotes = !in_quotes;
    if (hit == nullptr) return std::string_view::npos;
    if (!in_quotes) return newline + 1;
    pos = newline + 1;
  }
  return std::string_view::npos;
}

std::string_view strip_line_end(std::string_view record) noexcept {
  if (!record.empty() && record.back() == '\n') record.remove_suffix(1);
  if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
  return record;
}

std::string_view trim(std::string_view text) noexcept {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

bool FieldSplitter::split(std::string_view record, std::vector<std::string_view>& fields) {
  fields.clear();
  // Unescaped quoted fields are copied here; reserving the record size keeps earlier views valid.
  _scratch.clear();
  _scratch.reserve(record.size());
  const char q = _dialect.quote;
  const char d = _dialect.delimiter;
  const bool ws = _dialect.whitespace;
  auto is_sep = [&](char c) { return ws ? (c == ' ' || c == '\t') : c == d; };
  std::size_t i = 0;
  const std::size_t n = record.size();
  if (ws) {
    while (i < n && is_sep(record[i])) ++i;
    if (i == n) return true;  // blank line: no fields
  }
  while (true) {
    if (i < n && record[i] == q) {
      // Quoted field: "" is a literal quote; text after the closing quote is kept (lenient).
      const std::size_t start = _scratch.size();
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = record[i];
        if (c == q) {
          if (i + 1 < n && record[i + 1] == q) {
            _scratch.push_back(q);
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        _scratch.push_back(c);
        ++i;
      }
      if (!closed) return false;
      while (i < n && !is_sep(record[i])) _scratch.push_back(record[i++]);
      fields.emplace_back(_scratch.data() + start, _scratch.size() - start);
    } else {
      const std::size_t start = i;
      while (i < n && !is_sep(record[i])) ++i;
      fields.push_back(record.substr(start, i - start));
    }
    if (i >= n) return true;
    // record[i] is a separator.
    ++i;
    if (ws) {
      while (i < n && is_sep(record[i])) ++i;
      if (i == n) return true;  // trailing blanks are not an empty field
    } else if (i == n) {
      fields.emplace_back();  // trailing delimiter: one more, empty field
      return true;
    }
  }
}

}  // namespace rfmseg::csv
