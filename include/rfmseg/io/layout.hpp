#pragma once
// Which column holds what, resolved once per input file from its header (or the mapping).

#include <string>
#include <string_view>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/core/csv.hpp"

namespace rfmseg {

struct Layout {
  csv::Dialect dialect;
  bool has_header = true;
  std::string format_name;      ///< the preset recognised or "custom"
  std::size_t field_count = 0;  ///< fields per row (header's count; 0 = at least `min_fields`)
  std::size_t min_fields = 0;
  int customer = -1, invoice = -1, date = -1, quantity = -1, price = -1, amount = -1;  ///< 0-based
  [[nodiscard]] bool has_invoice() const { return invoice >= 0; }
  [[nodiscard]] bool has_amount() const { return amount >= 0; }
};

/// Chooses the dialect: the configured delimiter, or (auto) the most frequent of , ; tab in the
/// header line.
[[nodiscard]] csv::Dialect resolve_dialect(const InputConfig& config, std::string_view header_line);

/// Resolves columns of one file. `header` is the first record's fields (ignored when
/// config.has_header is false). Throws InputError naming `file` when a required column is missing.
[[nodiscard]] Layout resolve_layout(const InputConfig& config, const csv::Dialect& dialect,
                                    const std::vector<std::string_view>& header, const std::string& file);

}  // namespace rfmseg
