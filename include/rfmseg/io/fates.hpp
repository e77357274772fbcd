#pragma once
// What became of every input line (its fate), the cleaning counters the job reports and records in
// /run, and the bad lines it shows ("file:line: reason").

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "rfmseg/core/config.hpp"
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
  outside_window,    ///< dated more than --window days before the snapshot (snapshot - day > window)
  duplicate,         ///< byte-identical to an earlier line
  cancellation,      ///< invoice starting with C, or negative quantity
  zero_quantity,
  nonpositive_price,
  kept,
};
inline constexpr std::size_t fate_count = 12;
[[nodiscard]] const char* fate_name(Fate fate);

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

}  // namespace rfmseg
