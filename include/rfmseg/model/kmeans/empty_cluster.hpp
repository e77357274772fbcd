#pragma once
// K-means empty-cluster policy (EmptyClusterPolicy, kmeans/policies.hpp).

#include <cstddef>
#include <cstdint>
#include <span>

#include "rfmseg/model/kmeans/policies.hpp"

namespace rfmseg::kmeans {

/// Collective: the points farthest from the centroid they were assigned to (ties: lowest global
/// row) become the centroids of the empty clusters, in cluster order: the first empty cluster
/// takes the farthest point, the next one the next farthest, and so on (scikit-learn's
/// relocation). With fewer points than empty clusters the rest keep next's rows unchanged.
struct FarthestPoint {
  void repair(const Context& context, std::span<const double> old_centroids, std::span<const std::int32_t> labels,
              std::span<const std::size_t> empty, std::span<double> next) const;
};

static_assert(EmptyClusterPolicy<FarthestPoint>);

}  // namespace rfmseg::kmeans
