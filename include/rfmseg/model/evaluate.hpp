#pragma once
// Stage 7 — evaluate. The cluster profile (the tutorials' groupby('Cluster').agg(...) table) from
// exact global reductions: size, share, and mean / std / min / max of R, F, M in original units.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rfmseg/core/customer_table.hpp"
#include "rfmseg/core/features.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

struct ClusterProfile {
  int k = 0;
  std::vector<std::int64_t> size;
  std::vector<double> share;
  /// [feature][cluster], features in R, F, M order, original units.
  std::array<std::vector<double>, feature_count> mean, std, min, max;
  std::vector<double> revenue_share;  ///< cluster's share of total monetary
};

/// Collective: the profile of `labels` (local rows of `table`) over all ranks.
[[nodiscard]] ClusterProfile profile_clusters(const mpi::Comm& comm, const CustomerTable& table,
                                              std::span<const std::int32_t> labels, int k);

/// Rows of `values` (each `width` entries wide) in the order order[new] = old.
template <class T>
[[nodiscard]] std::vector<T> reorder(const std::vector<T>& values, const std::vector<int>& order,
                                     std::size_t width = 1) {
  std::vector<T> out;
  out.reserve(values.size());
  for (int old : order)
    for (std::size_t d = 0; d < width; ++d) out.push_back(values[static_cast<std::size_t>(old) * width + d]);
  return out;
}

/// The same profile with its clusters in the order order[new] = old.
[[nodiscard]] ClusterProfile reorder(const ClusterProfile& profile, const std::vector<int>& order);

/// RFM values of the local rows as doubles, columns R, F, M.
[[nodiscard]] Features rfm_columns(const CustomerTable& table);

/// The profile as a readable table (for the console report).
[[nodiscard]] std::string format_profile(const ClusterProfile& profile, const std::vector<std::string>& labels);

}  // namespace rfmseg
