#include "rfmseg/model/kmeans/steps.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels.hpp"

namespace rfmseg::kmeans {

using detail::D;
using detail::infinity;
using detail::nearest2_in_tile;
using detail::nearest_in_tile;
using detail::squared_distance_between;
using detail::tile;

namespace {

// Hamerly's test: a point whose (upper bound on the) distance to its centroid is below `z` (the
// larger of its lower bound to every other centroid and half the gap to the nearest other
// centroid) keeps its label. The margin absorbs rounding in the bounds (a few ulps per
// iteration), so a skipped point is one plain Lloyd would also give this label, ties included.
inline bool hamerly_certain(double u, double z) {
  return (z == infinity) | (u + 1e-9 * (1.0 + std::abs(u) + std::abs(z)) < z);
}

// Exact per-cluster sums of the grid coordinates for one Lloyd step. Points go into `lanes`
// interleaved int64 copies so consecutive points of one cluster do not wait on each other's
// stores; |grid value| < 2^40, so the partials of up to 2^22 points cannot overflow, and they are
// flushed into the 128-bit sums of `out` before that. Integer sums: the result does not depend
// on the lane or flush points.
class ClusterSums {
 public:
  ClusterSums(const GridPoints& grid, std::size_t k, StepSums& out)
      : _g0(grid.column[0].data()),
        _g1(grid.column[1].data()),
        _g2(grid.column[2].data()),
        _k(k),
        _out(out),
        _partial(lanes * k * 4, 0) {  // [lane][cluster][x0 x1 x2 count]
    out.sums.assign(k * D, 0);
    out.counts.assign(k, 0);
  }
  /// Adds point `i` (global index into the grid) to cluster `label`; `lane` is any small counter.
  void add(std::size_t lane, std::size_t i, std::size_t label) {
    std::int64_t* p = &_partial[((lane % lanes) * _k + label) * 4];
    p[0] += _g0[i];
    p[1] += _g1[i];
    p[2] += _g2[i];
    p[3] += 1;
  }
  /// Call after each tile with the points added so far; flushes before the partials could overflow.
  void tile_done(std::size_t points) {
    if (points % flush_every == 0) flush();
  }
  void flush() {
    for (std::size_t lane = 0; lane < lanes; ++lane)
      for (std::size_t j = 0; j < _k; ++j) {
        const std::int64_t* p = &_partial[(lane * _k + j) * 4];
        for (std::size_t d = 0; d < D; ++d) _out.sums[j * D + d] += p[d];
        _out.counts[j] += p[3];
      }
    std::fill(_partial.begin(), _partial.end(), 0);
  }

 private:
  static constexpr std::size_t lanes = 4;
  static constexpr std::size_t flush_every = std::size_t{1} << 22;  // a multiple of every tile size
  const std::int64_t* _g0;
  const std::int64_t* _g1;
  const std::int64_t* _g2;
  std::size_t _k;
  StepSums& _out;
  std::vector<std::int64_t> _partial;
};

}  // namespace

/// Grid integers of the features: exact, so sums are exact.
GridPoints::GridPoints(const Features& f, int exponent) {
  for (std::size_t d = 0; d < D; ++d) {
    column[d].resize(f.size());
    for (std::size_t i = 0; i < f.size(); ++i)
      column[d][i] = static_cast<std::int64_t>(std::ldexp(f.column[d][i], exponent));
  }
}

/// Assigns every local point to its nearest centroid and accumulates exact per-cluster sums.
StepSums LloydStep::step(std::span<const double> centroids, std::span<std::int32_t> labels) {
  const Features& f = *_features;
  const GridPoints& grid = *_grid;
  const std::size_t n = f.size();
  const std::size_t kk = centroids.size() / D;
  StepSums out;
  const double* x0 = f.column[0].data();
  const double* x1 = f.column[1].data();
  const double* x2 = f.column[2].data();
  // Pass 1 over a fixed-size tile (vectorizable: the cluster loop is outside, the points inside);
  // pass 2 adds the points to the exact cluster sums.
  alignas(64) double best_d[tile];
  alignas(64) double best[tile];  // label as double: same lane width as the distances, so the
                                  // select below vectorizes (labels < 2^53 are exact)
  ClusterSums sums(grid, kk, out);
  std::int32_t changed = 0;
  for (std::size_t start = 0; start < n; start += tile) {
    const std::size_t m = std::min(tile, n - start);
    nearest_in_tile(x0 + start, x1 + start, x2 + start, m, centroids.data(), kk, best_d, best);
    std::int32_t* old = labels.data() + start;
    for (std::size_t i = 0; i < m; ++i) {
      const auto label = static_cast<std::int32_t>(best[i]);
      changed |= old[i] ^ label;
      old[i] = label;
      sums.add(i, start + i, static_cast<std::size_t>(label));
    }
    sums.tile_done(start + tile);
  }
  sums.flush();
  out.changed = changed != 0;
  out.distance_evaluations = static_cast<std::uint64_t>(n) * kk;
  return out;
}

StepSums HamerlyStep::step(std::span<const double> centroids, std::span<std::int32_t> labels) {
  const Features& f = *_features;
  const GridPoints& grid = *_grid;
  HamerlyBounds& bounds = _bounds;
  const std::size_t n = f.size();
  const std::size_t kk = centroids.size() / D;
  StepSums out;
  // Half the distance from each centroid to its nearest other one: a point closer than that to
  // its own centroid cannot be closer to any other.
  std::vector<double> half(kk, infinity);
  for (std::size_t a = 0; a < kk; ++a)
    for (std::size_t b = a + 1; b < kk; ++b) {
      const double d = 0.5 * std::sqrt(squared_distance_between(&centroids[a * D], &centroids[b * D]));
      half[a] = std::min(half[a], d);
      half[b] = std::min(half[b], d);
    }
  // How far each centroid moved since the previous step: bounds move by as much.
  std::vector<double> movement(kk, 0.0);
  double max_move = 0;
  if (bounds.valid) {
    for (std::size_t j = 0; j < kk; ++j)
      movement[j] = std::sqrt(squared_distance_between(&centroids[j * D], &_previous[j * D]));
    for (double m : movement) max_move = std::max(max_move, m);
  } else {
    bounds.upper.assign(n, 0);
    bounds.lower.assign(n, 0);
  }
  double* upper = bounds.upper.data();
  double* lower = bounds.lower.data();
  const double* x0 = f.column[0].data();
  const double* x1 = f.column[1].data();
  const double* x2 = f.column[2].data();
  alignas(64) double b0[tile], b1[tile], b2[tile], best_d[tile], second_d[tile], best[tile];
  alignas(64) std::int32_t open[tile];
  std::uint32_t pending[tile];
  std::int32_t changed = 0;
  std::uint64_t evaluations = 0;
  ClusterSums sums(grid, kk, out);  // accumulated tile by tile, while the tile is in cache
  for (std::size_t start = 0; start < n; start += tile) {
    const std::size_t m = std::min(tile, n - start);
    // Pass 1, branch-free: move the bounds by the centroids' movement and test them. A point
    // whose test fails gets a full scan (which also makes its bounds tight again).
    if (bounds.valid) {
      for (std::size_t t = 0; t < m; ++t) {
        const std::size_t i = start + t;
        const auto a = static_cast<std::size_t>(labels[i]);
        const double u = upper[i] + movement[a];
        const double l = lower[i] - max_move;
        upper[i] = u;
        lower[i] = l;
        open[t] = hamerly_certain(u, std::max(l, half[a])) ? 0 : 1;
      }
    } else {
      std::fill(open, open + m, 1);
    }
    std::size_t waiting = 0;
    for (std::size_t t = 0; t < m; ++t) {
      if (open[t] == 0) continue;
      const std::size_t i = start + t;
      b0[waiting] = x0[i];
      b1[waiting] = x1[i];
      b2[waiting] = x2[i];
      pending[waiting++] = static_cast<std::uint32_t>(t);
    }
    if (waiting > 0) {
      nearest2_in_tile(b0, b1, b2, waiting, centroids.data(), kk, best_d, second_d, best);
      evaluations += waiting * kk;
      for (std::size_t p = 0; p < waiting; ++p) {
        const std::size_t i = start + pending[p];
        const auto label = static_cast<std::int32_t>(best[p]);
        changed |= labels[i] ^ label;
        labels[i] = label;
        upper[i] = std::sqrt(best_d[p]);
        lower[i] = std::sqrt(second_d[p]);
      }
    }
    for (std::size_t t = 0; t < m; ++t) sums.add(t, start + t, static_cast<std::size_t>(labels[start + t]));
    sums.tile_done(start + tile);
  }
  sums.flush();
  bounds.valid = true;
  _previous.assign(centroids.begin(), centroids.end());
  out.changed = changed != 0;
  out.distance_evaluations = evaluations;
  return out;
}

bool uses_tree(KMeansAlgorithm algorithm) {
  return algorithm == KMeansAlgorithm::kdtree || algorithm == KMeansAlgorithm::automatic;
}

AnyStep make_step(KMeansAlgorithm algorithm, int k, const Features& features, const GridPoints& grid,
                  const PointTree* tree) {
  if (uses_tree(algorithm)) {
    if (tree == nullptr) throw std::invalid_argument("make_step: the filtering step needs the point tree");
    return FilterStep(*tree);
  }
  if (algorithm == KMeansAlgorithm::hamerly) return HamerlyStep(features, grid);
  (void)k;
  return LloydStep(features, grid);
}

}  // namespace rfmseg::kmeans
