#pragma once
// Eigen views of the K-means buffers (private to src/model/kmeans/): storage and elementwise
// operations only, which round exactly like the scalar code. Never Eigen reductions (sum,
// squaredNorm, dot) or products here: they reorder the additions (see KMEANS-POLICIES.md).

#include <Eigen/Core>

#include "rfmseg/model/scale.hpp"

namespace rfmseg::kmeans::detail {

/// [k, 3] centroids, row-major: the layout of Centroids.
using CentroidMatrix = Eigen::Matrix<double, Eigen::Dynamic, feature_count, Eigen::RowMajor>;
/// A Centroids buffer seen as a [k, 3] matrix (no copy).
using CentroidsView = Eigen::Map<CentroidMatrix>;
/// One point (3 coordinates) seen as a row vector (no copy).
using PointView = Eigen::Map<const Eigen::Matrix<double, 1, feature_count>>;

}  // namespace rfmseg::kmeans::detail
