#pragma once
// The customer table: one exact RFM row per customer, the data every stage after rfm reads.
// Rows of a rank are a contiguous block of the table sorted by customer id (byte order).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rfmseg/core/int128.hpp"

namespace rfmseg {

/// One row per customer; columns as plain vectors (structure of arrays).
struct CustomerTable {
  std::vector<std::string> id;
  std::vector<std::int32_t> last_day;  ///< last kept purchase day
  std::vector<std::int32_t> recency;   ///< days, filled once the snapshot is known
  std::vector<std::int64_t> frequency;
  std::vector<int128_t> monetary_micros;  ///< exact
  std::vector<double> monetary;           ///< monetary_micros / 10^6, rounded once
  [[nodiscard]] std::size_t size() const { return id.size(); }
  void resize(std::size_t n);
  /// Reorders every column by `order` (new row i = old row order[i]).
  void permute(const std::vector<std::size_t>& order);
};

/// Correctly rounded double of micros / 10^6.
[[nodiscard]] double micros_to_units(int128_t micros) noexcept;

}  // namespace rfmseg
