#include "rfmseg/model/kmeans/kdtree.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels.hpp"
#include "rfmseg/model/kmeans/steps.hpp"

namespace rfmseg::kmeans {

using detail::D;
using detail::infinity;
using detail::nearest_in_tile;

// ---------------------------------------------------------------- the tree

/// One point while the tree is built: moved as a whole by the median splits (no indirection).
struct BuildPoint {
  double x[feature_count];
  std::uint32_t row;
};

PointTree::PointTree(const Features& features, const GridPoints& grid) {
  const std::size_t n = features.size();
  if (n >= std::size_t{1} << 32) throw std::length_error("PointTree: 2^32 or more local points");
  std::vector<BuildPoint> points(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t d = 0; d < D; ++d) points[i].x[d] = features.column[d][i];
    points[i].row = static_cast<std::uint32_t>(i);
  }
  _nodes.reserve(2 * (n / leaf_size + 1));
  build(points, 0, static_cast<std::uint32_t>(n), 1);
  // Tree order, as columns: a leaf's points are contiguous.
  _row.resize(n);
  for (std::size_t d = 0; d < D; ++d) {
    _x[d].resize(n);
    _grid[d].resize(n);
  }
  for (std::size_t t = 0; t < n; ++t) {
    const std::uint32_t r = points[t].row;
    for (std::size_t d = 0; d < D; ++d) {
      _x[d][t] = points[t].x[d];
      _grid[d][t] = grid.column[d][r];
    }
    _row[t] = r;
  }
  // Node sums bottom-up (children are created after their parent: higher indices).
  for (std::size_t id = _nodes.size(); id-- > 0;) {
    Node& node = _nodes[id];
    for (std::size_t d = 0; d < D; ++d) {
      node.sum[d] = 0;
      if (node.leaf()) {
        for (std::uint32_t t = node.begin; t < node.end; ++t) node.sum[d] += _grid[d][t];
      } else {
        node.sum[d] = _nodes[node.left].sum[d] + _nodes[node.right].sum[d];
      }
    }
  }
}

// Splits [begin, end) at the median of its widest coordinate (nth_element moves the points);
// the sums are added afterwards, bottom-up.
std::uint32_t PointTree::build(std::vector<BuildPoint>& points, std::uint32_t begin, std::uint32_t end,
                               std::size_t depth) {
  _depth = std::max(_depth, depth);
  const auto id = static_cast<std::uint32_t>(_nodes.size());
  _nodes.emplace_back();
  Node node;
  node.begin = begin;
  node.end = end;
  for (std::size_t d = 0; d < D; ++d) {
    node.lo[d] = infinity;
    node.hi[d] = -infinity;
  }
  for (std::uint32_t t = begin; t < end; ++t)
    for (std::size_t d = 0; d < D; ++d) {
      node.lo[d] = std::min(node.lo[d], points[t].x[d]);
      node.hi[d] = std::max(node.hi[d], points[t].x[d]);
    }
  std::size_t widest = 0;
  for (std::size_t d = 1; d < D; ++d)
    if (node.hi[d] - node.lo[d] > node.hi[widest] - node.lo[widest]) widest = d;
  if (end - begin > leaf_size && node.hi[widest] > node.lo[widest]) {
    const std::uint32_t middle = begin + (end - begin) / 2;
    std::nth_element(points.begin() + begin, points.begin() + middle, points.begin() + end,
                     [widest](const BuildPoint& a, const BuildPoint& b) { return a.x[widest] < b.x[widest]; });
    node.left = build(points, begin, middle, depth + 1);
    node.right = build(points, middle, end, depth + 1);
  }
  _nodes[id] = node;
  return id;
}

// ---------------------------------------------------------------- the filtering step

namespace {

/// Σ_d (a_d − b_d)², left to right.
inline double distance2(const double* a, const double* b) {
  const double u = a[0] - b[0], v = a[1] - b[1], w = a[2] - b[2];
  return u * u + v * v + w * w;
}

/// The largest squared distance from `c` to a point of the box [lo, hi].
inline double farthest2(const PointTree::Node& node, const double* c) {
  double s = 0;
  for (std::size_t d = 0; d < D; ++d) {
    const double e = std::max(std::abs(c[d] - node.lo[d]), std::abs(c[d] - node.hi[d]));
    s += e * e;
  }
  return s;
}

}  // namespace

// One step: the candidates of a cell are the centroids that may be nearest to one of its points.
// At each node the candidate nearest to the cell's midpoint, z*, rules out every z that is
// farther than z* from all of the box: |p − z|² − |p − z*|² is linear in p, so its minimum over
// the box is at the corner v that lies farthest in the direction z − z*. z goes only when that
// minimum exceeds a margin (1e-9 of the squared distances involved) far above the rounding of a
// point's computed distances (~1e-15 of them), so no dropped centroid could win or tie a point's
// scan. One candidate left: the whole subtree is its cluster. Leaves scan their points against
// the candidates left, in index order (ties: lowest index), exactly like LloydStep.
class FilterStep::Walk {
 public:
  Walk(FilterStep& self, std::span<const double> centroids, std::span<std::int32_t> labels, StepSums& out)
      : _tree(*self._tree),
        _uniform(self._uniform),
        _centroids(centroids.data()),
        _labels(labels.data()),
        _out(out),
        _k(centroids.size() / D),
        _candidates((_tree.depth() + 1) * _k) {}

  void run() {
    for (std::size_t j = 0; j < _k; ++j) _candidates[j] = static_cast<std::uint32_t>(j);
    if (_tree.size() > 0) visit(0, 0, _k);
  }
  [[nodiscard]] bool changed() const { return _changed != 0; }
  [[nodiscard]] std::uint64_t evaluations() const { return _evaluations; }

 private:
  void visit(std::uint32_t id, std::size_t depth, std::size_t m) {
    const PointTree::Node& node = _tree.nodes()[id];
    const std::uint32_t* cand = &_candidates[depth * _k];
    if (m > 1) {
      double mid[D];
      for (std::size_t d = 0; d < D; ++d) mid[d] = 0.5 * (node.lo[d] + node.hi[d]);
      std::uint32_t best = cand[0];
      double best_d = distance2(mid, centroid(best));
      for (std::size_t c = 1; c < m; ++c) {
        const double dist = distance2(mid, centroid(cand[c]));
        if (dist < best_d) {
          best_d = dist;
          best = cand[c];
        }
      }
      const double* zs = centroid(best);
      const double far_s = farthest2(node, zs);
      std::uint32_t* kept = &_candidates[(depth + 1) * _k];
      std::size_t left = 0;
      for (std::size_t c = 0; c < m; ++c) {
        const std::uint32_t j = cand[c];
        if (j != best) {
          const double* z = centroid(j);
          double v[D];
          for (std::size_t d = 0; d < D; ++d) v[d] = z[d] > zs[d] ? node.hi[d] : node.lo[d];
          const double gap = distance2(v, z) - distance2(v, zs);
          if (gap > 1e-9 * (farthest2(node, z) + far_s)) continue;  // never nearest in this cell
        }
        kept[left++] = j;
      }
      if (left > 1) {
        if (node.leaf()) {
          scan(node, kept, left);
          _uniform[id] = unknown;
          return;
        }
        if (_uniform[id] != unknown) _uniform[node.left] = _uniform[node.right] = _uniform[id];
        _uniform[id] = unknown;
        visit(node.left, depth + 1, left);
        visit(node.right, depth + 1, left);
        return;
      }
      cand = kept;
    }
    whole(id, node, cand[0]);
  }

  // Every point of the subtree goes to cluster j: the node's exact sums; labels are written only
  // where the subtree was not already all j.
  void whole(std::uint32_t id, const PointTree::Node& node, std::uint32_t j) {
    for (std::size_t d = 0; d < D; ++d) _out.sums[j * D + d] += node.sum[d];
    _out.counts[j] += node.count();
    const auto label = static_cast<std::int32_t>(j);
    if (_uniform[id] == label) return;
    const std::uint32_t* row = _tree.row();
    std::int32_t changed = 0;
    for (std::uint32_t t = node.begin; t < node.end; ++t) {
      changed |= _labels[row[t]] ^ label;
      _labels[row[t]] = label;
    }
    _changed |= changed;
    _uniform[id] = label;
  }

  // A leaf's points against the m candidates left (ascending: ties keep the lowest index).
  void scan(const PointTree::Node& node, const std::uint32_t* kept, std::size_t m) {
    double* cc = _compact.data();
    for (std::size_t c = 0; c < m; ++c)
      for (std::size_t d = 0; d < D; ++d) cc[c * D + d] = _centroids[kept[c] * D + d];
    const std::size_t count = node.end - node.begin;
    alignas(64) double best_d[detail::tile];
    alignas(64) double best[detail::tile];
    const std::uint32_t* row = _tree.row();
    for (std::size_t start = 0; start < count; start += detail::tile) {
      const std::size_t len = std::min(detail::tile, count - start);
      const std::size_t t0 = node.begin + start;
      nearest_in_tile(_tree.x(0) + t0, _tree.x(1) + t0, _tree.x(2) + t0, len, cc, m, best_d, best);
      for (std::size_t t = 0; t < len; ++t) {
        const std::uint32_t j = kept[static_cast<std::size_t>(best[t])];
        const auto label = static_cast<std::int32_t>(j);
        const std::uint32_t r = row[t0 + t];
        _changed |= _labels[r] ^ label;
        _labels[r] = label;
        for (std::size_t d = 0; d < D; ++d) _out.sums[j * D + d] += _tree.grid(d)[t0 + t];
        _out.counts[j] += 1;
      }
    }
    _evaluations += count * m;
  }

  [[nodiscard]] const double* centroid(std::uint32_t j) const { return _centroids + std::size_t{j} * D; }

  static constexpr std::int32_t unknown = FilterStep::unknown;
  const PointTree& _tree;
  std::vector<std::int32_t>& _uniform;
  const double* _centroids;
  std::int32_t* _labels;
  StepSums& _out;
  std::size_t _k;
  std::vector<std::uint32_t> _candidates;                      ///< [depth][k]: the candidates of the node at each depth
  std::vector<double> _compact = std::vector<double>(_k * D);  ///< the candidates' centroids
  std::int32_t _changed = 0;
  std::uint64_t _evaluations = 0;
};

FilterStep::FilterStep(const PointTree& tree) : _tree(&tree), _uniform(tree.nodes().size(), unknown) {}

void FilterStep::invalidate() { std::fill(_uniform.begin(), _uniform.end(), unknown); }

StepSums FilterStep::step(std::span<const double> centroids, std::span<std::int32_t> labels) {
  const std::size_t k = centroids.size() / D;
  StepSums out;
  out.sums.assign(k * D, 0);
  out.counts.assign(k, 0);
  Walk walk(*this, centroids, labels, out);
  walk.run();
  out.changed = walk.changed();
  out.distance_evaluations = walk.evaluations();
  return out;
}

}  // namespace rfmseg::kmeans
