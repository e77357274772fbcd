#pragma once
// A kd-tree over this rank's points for the filtering step (FilterStep, kmeans/steps.hpp; Kanungo
// et al., "An efficient k-means clustering algorithm: analysis and implementation", 2002). Built
// once per data set and shared by every fit of a sweep: each node keeps the tight bounding box of
// its points and the exact (128-bit) sums of their grid integers, so a whole subtree whose points
// all have the same nearest centroid is added to that cluster at once, with the same integers as
// point by point.
//
// The tree's shape never reaches a result: a label is still each point's exact nearest centroid
// (a centroid is dropped for a cell only with a margin far above rounding), and sums are integers.

#include <array>
#include <cstdint>
#include <vector>

#include "rfmseg/core/features.hpp"
#include "rfmseg/core/int128.hpp"

namespace rfmseg::kmeans {

struct GridPoints;
struct BuildPoint;  ///< a point while the tree is built (kdtree.cpp)

class PointTree {
 public:
  /// Points per leaf at most (a leaf of identical points may hold more).
  static constexpr std::uint32_t leaf_size = 48;

  struct Node {
    double lo[feature_count], hi[feature_count];  ///< the points' bounding box (exact min / max)
    int128_t sum[feature_count];                  ///< Σ grid integers of the points
    std::uint32_t begin = 0, end = 0;             ///< the points: positions [begin, end) in tree order
    std::uint32_t left = 0, right = 0;            ///< children (node indices); 0: a leaf
    [[nodiscard]] bool leaf() const { return left == 0; }
    [[nodiscard]] std::int64_t count() const { return static_cast<std::int64_t>(end - begin); }
  };

  /// `features` and `grid`: the same local rows (fewer than 2^32).
  PointTree(const Features& features, const GridPoints& grid);

  [[nodiscard]] const std::vector<Node>& nodes() const { return _nodes; }  ///< root: nodes()[0]
  [[nodiscard]] std::size_t size() const { return _row.size(); }
  /// Coordinate d of the point at tree position t, and its grid integer.
  [[nodiscard]] const double* x(std::size_t d) const { return _x[d].data(); }
  [[nodiscard]] const std::int64_t* grid(std::size_t d) const { return _grid[d].data(); }
  /// The local row of the point at tree position t.
  [[nodiscard]] const std::uint32_t* row() const { return _row.data(); }
  [[nodiscard]] std::size_t depth() const { return _depth; }

 private:
  std::uint32_t build(std::vector<BuildPoint>& points, std::uint32_t begin, std::uint32_t end, std::size_t depth);

  std::vector<Node> _nodes;
  std::array<std::vector<double>, feature_count> _x;
  std::array<std::vector<std::int64_t>, feature_count> _grid;
  std::vector<std::uint32_t> _row;
  std::size_t _depth = 0;
};

}  // namespace rfmseg::kmeans
