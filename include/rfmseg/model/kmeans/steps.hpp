#pragma once
// K-means step policies (StepPolicy, kmeans/policies.hpp): one assignment of this rank's points to
// their nearest centroids (ties: lowest index) and the exact per-cluster sums of their grid
// coordinates. Local, no communication; LloydStep and HamerlyStep give the same labels and sums,
// bit for bit — Hamerly only skips distances it can prove would not change a label.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/core/features.hpp"
#include "rfmseg/model/kmeans/policies.hpp"

namespace rfmseg::kmeans {

/// The distance kernels this process uses, chosen once from the CPU: "avx2" (4 doubles per
/// operation) or "portable" (SSE2; forced by the environment variable RFMSEG_CPU=portable). Both
/// give the same bits; the result records the choice (/run/kmeans_kernels).
[[nodiscard]] std::string_view kernel_path();

/// Grid integers of the features (x · 2^grid_exponent, exact): cluster sums of these are exact.
struct GridPoints {
  std::array<std::vector<std::int64_t>, feature_count> column;
  GridPoints(const Features& features, int grid_exponent);
};

/// Plain Lloyd: every point-centroid distance, in tiles of points (SIMD over the points).
class LloydStep {
 public:
  /// `features` and `grid` (the same rows) must outlive the step.
  LloydStep(const Features& features, const GridPoints& grid) : _features(&features), _grid(&grid) {}
  [[nodiscard]] StepSums step(std::span<const double> centroids, std::span<std::int32_t> labels);
  void invalidate() {}

 private:
  const Features* _features;
  const GridPoints* _grid;
};

/// Hamerly's bounds per local point, as distances: `upper` on the distance to the assigned
/// centroid, `lower` on the distance to every other one. Invalid until a full step set them.
struct HamerlyBounds {
  std::vector<double> upper, lower;
  bool valid = false;
};

/// Lloyd with Hamerly's bounds (Hamerly 2010): a point whose upper bound stays below both its lower
/// bound and half the gap from its centroid to the nearest other one keeps its label without any
/// distance computed. The bounds are moved by how far the centroids moved since the previous step
/// (kept here: the previous step's centroids), and the test has a rounding margin, so a skipped
/// point is one plain Lloyd would also give the same label, ties included.
class HamerlyStep {
 public:
  /// `features` and `grid` (the same rows) must outlive the step.
  HamerlyStep(const Features& features, const GridPoints& grid) : _features(&features), _grid(&grid) {}
  [[nodiscard]] StepSums step(std::span<const double> centroids, std::span<std::int32_t> labels);
  /// The next step scans every centroid for every point (and makes the bounds tight again).
  void invalidate() { _bounds.valid = false; }
  [[nodiscard]] const HamerlyBounds& bounds() const { return _bounds; }

 private:
  const Features* _features;
  const GridPoints* _grid;
  HamerlyBounds _bounds;
  std::vector<double> _previous;  ///< [k, 3] the centroids of the previous step
};

class PointTree;

/// Lloyd by filtering (Kanungo et al. 2002) over a kd-tree of the local points (kmeans/kdtree.hpp):
/// a centroid is dropped for a whole cell when it is provably (with a margin far above rounding)
/// farther than another from every point of the cell; a cell left with one candidate goes to it
/// with its exact node sums, and only leaves with several candidates scan their points. The same
/// labels and sums as LloydStep, bit for bit. Labels are written only where they change (a node
/// remembers the cluster its points all had, if they did).
class FilterStep {
 public:
  /// `tree` must outlive the step.
  explicit FilterStep(const PointTree& tree);
  [[nodiscard]] StepSums step(std::span<const double> centroids, std::span<std::int32_t> labels);
  /// Forgets which nodes were whole clusters (the labels were changed outside the step).
  void invalidate();

 private:
  class Walk;
  static constexpr std::int32_t unknown = -2;
  const PointTree* _tree;
  std::vector<std::int32_t> _uniform;  ///< per node: the cluster all its points have, or unknown
};

static_assert(StepPolicy<LloydStep>);
static_assert(StepPolicy<HamerlyStep>);
static_assert(StepPolicy<FilterStep>);

/// The step chosen at run time (--kmeans-algorithm): visited once per restart.
using AnyStep = std::variant<LloydStep, HamerlyStep, FilterStep>;

/// Whether an --kmeans-algorithm choice for k clusters steps by filtering (auto: always).
[[nodiscard]] bool uses_tree(KMeansAlgorithm algorithm);

/// The step of an --kmeans-algorithm choice for k clusters; `tree` is needed when uses_tree().
[[nodiscard]] AnyStep make_step(KMeansAlgorithm algorithm, int k, const Features& features, const GridPoints& grid,
                                const PointTree* tree = nullptr);

}  // namespace rfmseg::kmeans
