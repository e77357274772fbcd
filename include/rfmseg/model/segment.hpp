#pragma once
// Stage 8 — segment. Clusters get a stable order (by mean monetary, descending; ties by the
// fitted index) and a descriptive label from their RFM profile against the overall means:
//
//   recent (mean recency below the overall mean) and frequent (mean frequency above it) → "loyal"
//   recent, not frequent → "new";  not recent, frequent → "at risk";  neither → "churned"
//
// and ", high value" is appended when the cluster's mean monetary is above the overall mean. The
// four base names are configurable (--cluster-names). Repeated labels get " 2", " 3", ...

#include <array>
#include <string>
#include <vector>

#include "rfmseg/core/features.hpp"
#include "rfmseg/model/evaluate.hpp"

namespace rfmseg {

/// order[new] = old cluster index, by mean monetary descending (ties: old index).
[[nodiscard]] std::vector<int> order_by_monetary(const ClusterProfile& profile);

/// Labels of the clusters of `profile` (already in final order). `overall_mean` is R, F, M over
/// all customers; `names` are the loyal / new / at risk / churned names.
[[nodiscard]] std::vector<std::string> label_clusters(const ClusterProfile& profile,
                                                      const std::array<double, feature_count>& overall_mean,
                                                      const std::array<std::string, 4>& names);

}  // namespace rfmseg
