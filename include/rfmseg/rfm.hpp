#pragma once
// Stage 3 — rfm. On the owner rank: drop exact duplicates, classify cancellations and
// non-positive values, and reduce each customer's kept lines to one exact RFM row.

#include "rfmseg/int128.hpp"
#include <cstdint>
#include <string>
#include <vector>

#include "rfmseg/config.hpp"
#include "rfmseg/ingest.hpp"
#include "rfmseg/mpi.hpp"

namespace rfmseg {

/// One row per customer; columns as plain vectors (structure of arrays).
struct CustomerTable {
  std::vector<std::string> id;
  std::vector<std::int32_t> last_day;          ///< last kept purchase day
  std::vector<std::int32_t> recency;           ///< days, filled once the snapshot is known
  std::vector<std::int64_t> frequency;
  std::vector<int128_t> monetary_micros;       ///< exact
  std::vector<double> monetary;                ///< monetary_micros / 10^6, rounded once
  [[nodiscard]] std::size_t size() const { return id.size(); }
  void resize(std::size_t n);
  /// Reorders every column by `order` (new row i = old row order[i]).
  void permute(const std::vector<std::size_t>& order);
};

/// Correctly rounded double of micros / 10^6.
[[nodiscard]] double micros_to_units(int128_t micros) noexcept;

/// Local: reduces the transactions this rank owns to customer rows (recency not yet set) and
/// counts the owner-side fates (duplicate, cancellation, zero_quantity, nonpositive_price, kept).
[[nodiscard]] CustomerTable aggregate_customers(Transactions& owned, FrequencyMode frequency,
                                                CancellationPolicy cancellations, CleaningCounters& counters);

/// Collective: snapshot day = configured day, or the latest kept purchase day over all ranks + 1.
[[nodiscard]] std::int32_t snapshot_day(const mpi::Comm& comm, const CustomerTable& table, const RfmConfig& config);

/// Local: recency = snapshot − last purchase day.
void set_recency(CustomerTable& table, std::int32_t snapshot);

}  // namespace rfmseg
