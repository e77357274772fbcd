#include "rfmseg/core/csv.hpp"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

PlainScan scan_plain_record(std::string_view buffer, std::size_t begin, char delimiter, char quote,
                            std::uint32_t* delimiters, std::size_t capacity, std::size_t& count,
                            std::size_t& end) noexcept {
  const char* const data = buffer.data();
  const std::size_t size = buffer.size();
  std::size_t n = 0;
  std::size_t pos = begin;
  // Stores the delimiter positions of a bit mask (bit i = byte base + i).
  const auto emit = [&](unsigned mask, std::size_t base) {
    while (mask != 0) {
      if (n < capacity)
        delimiters[n] = static_cast<std::uint32_t>(base + static_cast<unsigned>(__builtin_ctz(mask)) - begin);
      ++n;
      mask &= mask - 1;
    }
  };
#if defined(__SSE2__)
  // One compare per byte class and 16 bytes per step: the record's delimiters come out as a bit
  // mask; only the first newline of the block matters, and a quote before it sends the record to
  // the exact (slow) path.
  const __m128i newline_v = _mm_set1_epi8('\n');
  const __m128i quote_v = _mm_set1_epi8(quote);
  const __m128i delimiter_v = _mm_set1_epi8(delimiter);
  while (pos + 16 <= size) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
    const auto newlines = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline_v)));
    const auto quotes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote_v)));
    const auto delims = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, delimiter_v)));
    if (newlines != 0) {
      const unsigned before = (newlines & (0u - newlines)) - 1;  // bytes before the first newline
      if ((quotes & before) != 0) {
        count = n;
        return PlainScan::quoted;
      }
      emit(delims & before, pos);
      count = n;
      end = pos + static_cast<unsigned>(__builtin_ctz(newlines)) + 1;
      return PlainScan::plain;
    }
    if (quotes != 0) {
      count = n;
      return PlainScan::quoted;
    }
    emit(delims, pos);
    pos += 16;
  }
#endif
  for (; pos < size; ++pos) {
    const char c = data[pos];
    if (c == '\n') {
      count = n;
      end = pos + 1;
      return PlainScan::plain;
    }
    if (c == quote) {
      count = n;
      return PlainScan::quoted;
    }
    if (c == delimiter) {
      if (n < capacity) delimiters[n] = static_cast<std::uint32_t>(pos - begin);
      ++n;
    }
  }
  count = n;
  return PlainScan::incomplete;
}

void count_two(std::string_view text, char a, char b, std::uint64_t& count_a, std::uint64_t& count_b) noexcept {
  const char* const data = text.data();
  const std::size_t size = text.size();
  std::size_t pos = 0;
  std::uint64_t na = 0, nb = 0;
#if defined(__SSE2__)
  // Byte-wise counters (a match subtracts -1) for at most 255 steps, then summed with psadbw.
  const __m128i a_v = _mm_set1_epi8(a);
  const __m128i b_v = _mm_set1_epi8(b);
  const __m128i zero = _mm_setzero_si128();
  while (pos + 16 <= size) {
    __m128i acc_a = zero, acc_b = zero;
    const std::size_t steps = std::min<std::size_t>(255, (size - pos) / 16);
    for (std::size_t s = 0; s < steps; ++s, pos += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
      acc_a = _mm_sub_epi8(acc_a, _mm_cmpeq_epi8(v, a_v));
      acc_b = _mm_sub_epi8(acc_b, _mm_cmpeq_epi8(v, b_v));
    }
    const __m128i sum_a = _mm_sad_epu8(acc_a, zero);
    const __m128i sum_b = _mm_sad_epu8(acc_b, zero);
    na += static_cast<std::uint64_t>(_mm_cvtsi128_si64(sum_a)) +
          static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum_a, sum_a)));
    nb += static_cast<std::uint64_t>(_mm_cvtsi128_si64(sum_b)) +
          static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum_b, sum_b)));
  }
#endif
  for (; pos < size; ++pos) {
    na += data[pos] == a;
    nb += data[pos] == b;
  }
  count_a = na;
  count_b = nb;
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
