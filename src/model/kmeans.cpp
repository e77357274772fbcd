#include "rfmseg/model/kmeans.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <cstring>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/int128.hpp"
#include "rfmseg/core/progress.hpp"
#include "rfmseg/parallel/reduce.hpp"
#include "rfmseg/parallel/stop.hpp"

namespace rfmseg {

namespace {

constexpr std::size_t D = feature_count;
constexpr double infinity = std::numeric_limits<double>::infinity();

/// A point offered by one rank to a global choice: the smallest (key, row) wins everywhere.
struct Candidate {
  double key;
  std::uint64_t row;
  double x[D];
};

bool candidate_less(const Candidate& a, const Candidate& b) {
  return a.key < b.key || (a.key == b.key && a.row < b.row);
}

/// Collective: the globally smallest of the ranks' best candidates.
Candidate global_best(const mpi::Comm& comm, const Candidate& local) {
  const auto all = mpi::allgather(comm, local);
  return *std::min_element(all.begin(), all.end(), candidate_less);
}

/// Random stream of one (restart, purpose, step) triple.
std::uint64_t stream_id(int restart, int purpose, int step) {
  return (static_cast<std::uint64_t>(restart) << 32) ^ (static_cast<std::uint64_t>(purpose) << 24) ^
         static_cast<std::uint64_t>(step);
}

double squared_distance(const Features& f, std::size_t i, const double* c) {
  double s = 0;
  for (std::size_t d = 0; d < D; ++d) {
    const double diff = f.column[d][i] - c[d];
    s += diff * diff;
  }
  return s;
}

// Same operation order as nearest_in_tile, so equal inputs give equal bits.
double squared_distance_between(const double* a, const double* c) {
  const double u = a[0] - c[0], v = a[1] - c[1], w = a[2] - c[2];
  return u * u + v * v + w * w;
}

// Hamerly's test: a point whose (upper bound on the) distance to its centroid is below `z` (the
// larger of its lower bound to every other centroid and half the gap to the nearest other
// centroid) keeps its label. The margin absorbs rounding in the bounds (a few ulps per
// iteration), so a skipped point is one plain Lloyd would also give this label, ties included.
inline bool hamerly_certain(double u, double z) {
  return (z == infinity) | (u + 1e-9 * (1.0 + std::abs(u) + std::abs(z)) < z);
}

// Where a stop on a signal found the fit: "k-means k = 5, restart 3/10, iteration 41".
std::string kmeans_position(const KMeansOptions& options, int restart, int iteration) {
  return "k-means k = " + std::to_string(options.k) + ", restart " + std::to_string(restart + 1) + "/" +
         std::to_string(std::max(1, options.n_init)) + ", iteration " + std::to_string(iteration);
}

[[noreturn]] void too_few_points(int k, int found) {
  throw AgreedError("k = " + std::to_string(k) + " clusters requested, but the customers have only " +
                        std::to_string(found) + " distinct feature vectors: choose k <= " + std::to_string(found),
                    1);
}

// ---------------------------------------------------------------- initialization policies

/// k-means++ by an exponential race: P(point i wins step s) ∝ D²(i) exactly, for any partition.
std::vector<double> init_kmeans_plus_plus(const mpi::Comm& comm, const KMeansData& data, int k, std::uint64_t seed,
                                          int restart) {
  const Features& f = data.features;
  const std::size_t n = f.size();
  std::vector<double> centroids;
  std::vector<double> d2(n, infinity);
  for (int step = 0; step < k; ++step) {
    Candidate best{infinity, ~0ull, {}};
    const std::uint64_t stream = stream_id(restart, 1, step);
    for (std::size_t i = 0; i < n; ++i) {
      const double weight = step == 0 ? 1.0 : d2[i];
      if (!(weight > 0)) continue;
      const double u = unit_open(random_word(seed, stream, data.keys[i]));
      const Candidate c{-std::log(u) / weight, data.first_row + i, {}};
      if (candidate_less(c, best)) best = c;
    }
    if (best.key < infinity) {
      const std::size_t i = best.row - data.first_row;
      for (std::size_t d = 0; d < D; ++d) best.x[d] = f.column[d][i];
    }
    const Candidate chosen = global_best(comm, best);
    if (!(chosen.key < infinity)) too_few_points(k, step);
    centroids.insert(centroids.end(), chosen.x, chosen.x + D);
    for (std::size_t i = 0; i < n; ++i) d2[i] = std::min(d2[i], squared_distance(f, i, chosen.x));
  }
  return centroids;
}

/// The k points with the smallest random draws (duplicates are repaired as empty clusters).
std::vector<double> init_random(const mpi::Comm& comm, const KMeansData& data, int k, std::uint64_t seed, int restart) {
  const Features& f = data.features;
  std::vector<Candidate> local;
  const std::uint64_t stream = stream_id(restart, 2, 0);
  for (std::size_t i = 0; i < f.size(); ++i) {
    Candidate c{unit_open(random_word(seed, stream, data.keys[i])), data.first_row + i, {}};
    for (std::size_t d = 0; d < D; ++d) c.x[d] = f.column[d][i];
    local.push_back(c);
  }
  const auto keep = std::min<std::size_t>(local.size(), static_cast<std::size_t>(k));
  std::partial_sort(local.begin(), local.begin() + static_cast<std::ptrdiff_t>(keep), local.end(), candidate_less);
  local.resize(keep);
  auto all = mpi::allgatherv<Candidate>(comm, local);
  std::sort(all.begin(), all.end(), candidate_less);
  if (all.size() < static_cast<std::size_t>(k)) too_few_points(k, static_cast<int>(all.size()));
  std::vector<double> centroids;
  for (int j = 0; j < k; ++j) centroids.insert(centroids.end(), all[static_cast<std::size_t>(j)].x, all[static_cast<std::size_t>(j)].x + D);
  return centroids;
}

/// k-means‖: oversample, weight the candidates by the points nearest to them, then run weighted
/// k-means++ and a few weighted Lloyd steps on the candidates (identically on every rank).
std::vector<double> init_kmeans_parallel(const mpi::Comm& comm, const KMeansData& data, int k, std::uint64_t seed,
                                         int restart) {
  const Features& f = data.features;
  const std::size_t n = f.size();
  constexpr int rounds = 5;
  const double oversampling = 2.0 * k;
  // First candidate: uniform, as the first k-means++ step.
  std::vector<Candidate> candidates;
  {
    Candidate best{infinity, ~0ull, {}};
    const std::uint64_t stream = stream_id(restart, 3, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const Candidate c{-std::log(unit_open(random_word(seed, stream, data.keys[i]))), data.first_row + i, {}};
      if (candidate_less(c, best)) best = c;
    }
    if (best.key < infinity)
      for (std::size_t d = 0; d < D; ++d) best.x[d] = f.column[d][best.row - data.first_row];
    candidates.push_back(global_best(comm, best));
  }
  std::vector<double> d2(n);
  for (std::size_t i = 0; i < n; ++i) d2[i] = squared_distance(f, i, candidates[0].x);
  for (int round = 1; round <= rounds; ++round) {
    const double phi = global_sum(comm, d2);
    if (!(phi > 0)) break;
    std::vector<Candidate> picked;
    const std::uint64_t stream = stream_id(restart, 3, round);
    for (std::size_t i = 0; i < n; ++i) {
      const double p = std::min(1.0, oversampling * d2[i] / phi);
      if (p > 0 && unit_open(random_word(seed, stream, data.keys[i])) < p) {
        Candidate c{0, data.first_row + i, {}};
        for (std::size_t d = 0; d < D; ++d) c.x[d] = f.column[d][i];
        picked.push_back(c);
      }
    }
    const auto gathered = mpi::allgatherv<Candidate>(comm, picked);
    for (const auto& c : gathered) {
      candidates.push_back(c);
      for (std::size_t i = 0; i < n; ++i) d2[i] = std::min(d2[i], squared_distance(f, i, c.x));
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return a.row < b.row; });
  const std::size_t m = candidates.size();
  if (m < static_cast<std::size_t>(k)) return init_kmeans_plus_plus(comm, data, k, seed, restart);
  // Weight = number of points nearest to each candidate.
  std::vector<std::int64_t> weight(m, 0);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t best = 0;
    double best_d = infinity;
    for (std::size_t c = 0; c < m; ++c) {
      const double dist = squared_distance(f, i, candidates[c].x);
      if (dist < best_d) {
        best_d = dist;
        best = c;
      }
    }
    ++weight[best];
  }
  weight = mpi::allreduce(comm, std::move(weight), mpi::Op::sum);
  // Weighted k-means++ on the candidates: local and identical on every rank.
  std::vector<double> centroids;
  std::vector<double> cd2(m, infinity);
  for (int step = 0; step < k; ++step) {
    double best_key = infinity;
    std::size_t best = m;
    for (std::size_t c = 0; c < m; ++c) {
      const double w = static_cast<double>(weight[c]) * (step == 0 ? 1.0 : cd2[c]);
      if (!(w > 0)) continue;
      const double key = -std::log(unit_open(random_word(seed, stream_id(restart, 4, step), candidates[c].row))) / w;
      if (key < best_key) {
        best_key = key;
        best = c;
      }
    }
    if (best == m) return init_kmeans_plus_plus(comm, data, k, seed, restart);
    centroids.insert(centroids.end(), candidates[best].x, candidates[best].x + D);
    for (std::size_t c = 0; c < m; ++c) {
      double s = 0;
      for (std::size_t d = 0; d < D; ++d) s += (candidates[c].x[d] - candidates[best].x[d]) * (candidates[c].x[d] - candidates[best].x[d]);
      cd2[c] = std::min(cd2[c], s);
    }
  }
  // A few weighted Lloyd steps on the candidates (fixed order: same bits everywhere).
  for (int iter = 0; iter < 10; ++iter) {
    std::vector<double> sums(static_cast<std::size_t>(k) * D, 0.0), counts(static_cast<std::size_t>(k), 0.0);
    for (std::size_t c = 0; c < m; ++c) {
      std::size_t best = 0;
      double best_d = infinity;
      for (std::size_t j = 0; j < static_cast<std::size_t>(k); ++j) {
        double s = 0;
        for (std::size_t d = 0; d < D; ++d) s += (candidates[c].x[d] - centroids[j * D + d]) * (candidates[c].x[d] - centroids[j * D + d]);
        if (s < best_d) {
          best_d = s;
          best = j;
        }
      }
      for (std::size_t d = 0; d < D; ++d) sums[best * D + d] += static_cast<double>(weight[c]) * candidates[c].x[d];
      counts[best] += static_cast<double>(weight[c]);
    }
    for (std::size_t j = 0; j < static_cast<std::size_t>(k); ++j)
      if (counts[j] > 0)
        for (std::size_t d = 0; d < D; ++d) centroids[j * D + d] = sums[j * D + d] / counts[j];
  }
  return centroids;
}

// ---------------------------------------------------------------- Lloyd step

/// Empty-cluster policy: the farthest points (ties: lowest global row) become the centroids of
/// the empty clusters, in cluster order.
void repair_empty_clusters(const mpi::Comm& comm, const KMeansData& data, const std::vector<double>& old_centroids,
                           const std::vector<std::int32_t>& labels, const std::vector<std::size_t>& empty,
                           std::vector<double>& centroids) {
  const Features& f = data.features;
  std::vector<Candidate> local;
  for (std::size_t i = 0; i < f.size(); ++i) {
    Candidate c{-squared_distance(f, i, &old_centroids[static_cast<std::size_t>(labels[i]) * D]), data.first_row + i, {}};
    for (std::size_t d = 0; d < D; ++d) c.x[d] = f.column[d][i];
    local.push_back(c);
  }
  const auto keep = std::min(local.size(), empty.size());
  std::partial_sort(local.begin(), local.begin() + static_cast<std::ptrdiff_t>(keep), local.end(), candidate_less);
  local.resize(keep);
  auto all = mpi::allgatherv<Candidate>(comm, local);
  std::sort(all.begin(), all.end(), candidate_less);
  for (std::size_t e = 0; e < empty.size() && e < all.size(); ++e)
    std::copy(all[e].x, all[e].x + D, centroids.begin() + static_cast<std::ptrdiff_t>(empty[e] * D));
}

struct RunResult {
  std::vector<double> centroids, init_centroids;
  int n_iter = 0;
  bool converged = false;
  std::uint64_t distance_evaluations = 0;  ///< this rank's
  std::uint64_t lloyd_evaluations = 0;     ///< this rank's points x k x steps
};

// Where a Lloyd run starts: iteration 0 from the initial centroids, or a saved iteration.
struct LloydStart {
  int iteration = 0;
  std::vector<double> centroids, previous, init_centroids;
};

// Called after each completed iteration with (iterations done, centroids, previous centroids, the
// stop signal the ranks agreed on in that iteration's reduction: 0 = none).
using IterationHook = std::function<void(int, const std::vector<double>&, const std::vector<double>&, int)>;

RunResult lloyd(const mpi::Comm& comm, const KMeansData& data, const detail::GridPoints& grid, LloydStart start,
                const KMeansOptions& options, double tolerance, std::vector<std::int32_t>& labels,
                const IterationHook& after_iteration) {
  RunResult run;
  run.init_centroids = std::move(start.init_centroids);
  std::vector<double> centroids = std::move(start.centroids);
  const int k = options.k;
  const double unit = std::ldexp(1.0, -data.grid_exponent);
  if (start.iteration == 0) {
    std::fill(labels.begin(), labels.end(), -1);
  } else {
    // Resumed: the labels of the last completed iteration are the assignment to its centroids.
    std::vector<double> unused(labels.size());
    assign_nearest(data.features, start.previous, k, labels, unused);
  }
  run.n_iter = start.iteration;
  // Hamerly's bounds start invalid (first step, or resumed): that step scans every centroid.
  detail::HamerlyBounds bounds;
  std::vector<double> movement(static_cast<std::size_t>(k), 0.0);
  const bool use_hamerly = options.algorithm == KMeansAlgorithm::hamerly ||
                           (options.algorithm == KMeansAlgorithm::automatic && k >= hamerly_min_k);
  for (int iter = start.iteration; iter < options.max_iter; ++iter) {
    detail::StepSums step =
        use_hamerly ? detail::assign_and_accumulate_hamerly(data.features, grid, centroids, movement, k, labels, bounds)
            : detail::assign_and_accumulate(data.features, grid, centroids, k, labels);
    run.distance_evaluations += step.distance_evaluations;
    run.lloyd_evaluations += static_cast<std::uint64_t>(labels.size()) * static_cast<std::uint64_t>(k);
    mpi::allreduce_sum_inplace(comm, std::span<int128_t>(step.sums));
    step.counts = mpi::allreduce(comm, std::move(step.counts), mpi::Op::sum);
    // One reduction: did a label change anywhere, and did a rank get a stop signal (parallel/stop.hpp)?
    const auto flags = mpi::allreduce(comm, std::vector<int>{step.changed ? 1 : 0, stop::pending()}, mpi::Op::max);
    const bool changed = flags[0] != 0;
    std::vector<double> next(centroids.size());
    std::vector<std::size_t> empty;
    for (std::size_t j = 0; j < static_cast<std::size_t>(k); ++j) {
      if (step.counts[j] == 0) {
        empty.push_back(j);
        continue;
      }
      for (std::size_t d = 0; d < D; ++d)
        next[j * D + d] = static_cast<double>(step.sums[j * D + d]) / static_cast<double>(step.counts[j]) * unit;
    }
    if (!empty.empty()) repair_empty_clusters(comm, data, centroids, labels, empty, next);
    double shift = 0;
    for (std::size_t t = 0; t < next.size(); ++t) shift += (next[t] - centroids[t]) * (next[t] - centroids[t]);
    for (std::size_t j = 0; j < static_cast<std::size_t>(k); ++j)
      movement[j] = std::sqrt(squared_distance_between(&next[j * D], &centroids[j * D]));
    std::swap(centroids, next);  // `next` now holds the centroids this iteration assigned to
    run.n_iter = iter + 1;
    if (iter > 0 && !changed) {  // labels repeated: strict convergence
      run.converged = true;
      break;
    }
    if (shift <= tolerance) {
      run.converged = true;
      break;
    }
    if (after_iteration) after_iteration(run.n_iter, centroids, next, flags[1]);
  }
  run.centroids = std::move(centroids);
  return run;
}

// Nearest centroid of m <= tile points (ties: lowest index) with explicit vectors: packed
// compares and blends instead of branches. The arithmetic is the same IEEE operations in the
// same order as the scalar tail, so every point gets the same label on any path.
#if defined(__AVX__)
inline constexpr int vector_bytes = 32;  // 4 doubles per operation
#else
inline constexpr int vector_bytes = 16;  // SSE2: 2 doubles (wider types would be split badly)
#endif
using v4d = double __attribute__((vector_size(vector_bytes)));
using v4l = long long __attribute__((vector_size(vector_bytes)));

void nearest_in_tile(const double* a0, const double* a1, const double* a2, std::size_t m,
                     const std::vector<double>& centroids, std::size_t k, double* best_d, double* best) {
  std::size_t i = 0;
  constexpr std::size_t width = sizeof(v4d) / sizeof(double);
  for (; i + width <= m; i += width) {
    v4d x, y, z;
    std::memcpy(&x, a0 + i, sizeof x);
    std::memcpy(&y, a1 + i, sizeof y);
    std::memcpy(&z, a2 + i, sizeof z);
    v4d u = x - centroids[0], v = y - centroids[1], w = z - centroids[2];
    v4d bd = u * u + v * v + w * w;
    v4d bl = {};
    for (std::size_t j = 1; j < k; ++j) {
      u = x - centroids[j * D];
      v = y - centroids[j * D + 1];
      w = z - centroids[j * D + 2];
      const v4d dist = u * u + v * v + w * w;
      const v4l closer = dist < bd;
      bd = closer ? dist : bd;
      bl = closer ? v4d{} + static_cast<double>(j) : bl;
    }
    std::memcpy(best_d + i, &bd, sizeof bd);
    std::memcpy(best + i, &bl, sizeof bl);
  }
  for (; i < m; ++i) {
    double u = a0[i] - centroids[0], v = a1[i] - centroids[1], w = a2[i] - centroids[2];
    double bd = u * u + v * v + w * w, bl = 0;
    for (std::size_t j = 1; j < k; ++j) {
      u = a0[i] - centroids[j * D];
      v = a1[i] - centroids[j * D + 1];
      w = a2[i] - centroids[j * D + 2];
      const double dist = u * u + v * v + w * w;
      if (dist < bd) {
        bd = dist;
        bl = static_cast<double>(j);
      }
    }
    best_d[i] = bd;
    best[i] = bl;
  }
}

// nearest_in_tile that also finds the second-nearest distance (Hamerly's lower bound). The
// nearest label and its distance are computed exactly as nearest_in_tile does.
void nearest2_in_tile(const double* a0, const double* a1, const double* a2, std::size_t m,
                      const std::vector<double>& centroids, std::size_t k, double* best_d, double* second_d,
                      double* best) {
  std::size_t i = 0;
  constexpr std::size_t width = sizeof(v4d) / sizeof(double);
  const v4d inf = v4d{} + infinity;
  for (; i + width <= m; i += width) {
    v4d x, y, z;
    std::memcpy(&x, a0 + i, sizeof x);
    std::memcpy(&y, a1 + i, sizeof y);
    std::memcpy(&z, a2 + i, sizeof z);
    v4d u = x - centroids[0], v = y - centroids[1], w = z - centroids[2];
    v4d bd = u * u + v * v + w * w;
    v4d sd = inf;
    v4d bl = {};
    for (std::size_t j = 1; j < k; ++j) {
      u = x - centroids[j * D];
      v = y - centroids[j * D + 1];
      w = z - centroids[j * D + 2];
      const v4d dist = u * u + v * v + w * w;
      const v4l closer = dist < bd;
      const v4l second = dist < sd;
      sd = closer ? bd : (second ? dist : sd);
      bd = closer ? dist : bd;
      bl = closer ? v4d{} + static_cast<double>(j) : bl;
    }
    std::memcpy(best_d + i, &bd, sizeof bd);
    std::memcpy(second_d + i, &sd, sizeof sd);
    std::memcpy(best + i, &bl, sizeof bl);
  }
  for (; i < m; ++i) {
    double u = a0[i] - centroids[0], v = a1[i] - centroids[1], w = a2[i] - centroids[2];
    double bd = u * u + v * v + w * w, sd = infinity, bl = 0;
    for (std::size_t j = 1; j < k; ++j) {
      u = a0[i] - centroids[j * D];
      v = a1[i] - centroids[j * D + 1];
      w = a2[i] - centroids[j * D + 2];
      const double dist = u * u + v * v + w * w;
      if (dist < bd) {
        sd = bd;
        bd = dist;
        bl = static_cast<double>(j);
      } else if (dist < sd) {
        sd = dist;
      }
    }
    best_d[i] = bd;
    second_d[i] = sd;
    best[i] = bl;
  }
}

// Exact per-cluster sums of the grid coordinates for one Lloyd step. Points go into `lanes`
// interleaved int64 copies so consecutive points of one cluster do not wait on each other's
// stores; |grid value| < 2^40, so the partials of up to 2^22 points cannot overflow, and they are
// flushed into the 128-bit sums of `out` before that. Integer sums: the result does not depend
// on the lane or flush points.
class ClusterSums {
 public:
  ClusterSums(const detail::GridPoints& grid, std::size_t k, detail::StepSums& out)
      : _g0(grid.column[0].data()), _g1(grid.column[1].data()), _g2(grid.column[2].data()), _k(k), _out(out),
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
  detail::StepSums& _out;
  std::vector<std::int64_t> _partial;
};

}  // namespace

namespace detail {

StepSums assign_and_accumulate_hamerly(const Features& f, const GridPoints& grid, const std::vector<double>& centroids,
                                       const std::vector<double>& movement, int k, std::vector<std::int32_t>& labels,
                                       HamerlyBounds& bounds) {
  const std::size_t n = f.size();
  const auto kk = static_cast<std::size_t>(k);
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
  double max_move = 0;
  if (bounds.valid) {
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
  constexpr std::size_t tile = 256;
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
      nearest2_in_tile(b0, b1, b2, waiting, centroids, kk, best_d, second_d, best);
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
  out.changed = changed != 0;
  out.distance_evaluations = evaluations;
  return out;
}

/// Grid integers of the features: exact, so sums are exact.
GridPoints::GridPoints(const Features& f, int exponent) {
  for (std::size_t d = 0; d < D; ++d) {
    column[d].resize(f.size());
    for (std::size_t i = 0; i < f.size(); ++i)
      column[d][i] = static_cast<std::int64_t>(std::ldexp(f.column[d][i], exponent));
  }
}

/// Assigns every local point to its nearest centroid and accumulates exact per-cluster sums.
StepSums assign_and_accumulate(const Features& f, const GridPoints& grid, const std::vector<double>& centroids, int k,
                               std::vector<std::int32_t>& labels) {
  const std::size_t n = f.size();
  const auto kk = static_cast<std::size_t>(k);
  StepSums out;
  const double* x0 = f.column[0].data();
  const double* x1 = f.column[1].data();
  const double* x2 = f.column[2].data();
  // Pass 1 over a fixed-size tile (vectorizable: the cluster loop is outside, the points inside);
  // pass 2 adds the points to the exact cluster sums.
  constexpr std::size_t tile = 256;
  alignas(64) double best_d[tile];
  alignas(64) double best[tile];  // label as double: same lane width as the distances, so the
                                  // select below vectorizes (labels < 2^53 are exact)
  ClusterSums sums(grid, kk, out);
  std::int32_t changed = 0;
  for (std::size_t start = 0; start < n; start += tile) {
    const std::size_t m = std::min(tile, n - start);
    nearest_in_tile(x0 + start, x1 + start, x2 + start, m, centroids, kk, best_d, best);
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

}  // namespace detail

void assign_nearest(const Features& features, std::span<const double> centroids, int k, std::span<std::int32_t> labels,
                    std::span<double> distances) {
  const std::vector<double> c(centroids.begin(), centroids.end());
  constexpr std::size_t tile = 256;
  alignas(64) double best[tile];
  for (std::size_t start = 0; start < features.size(); start += tile) {
    const std::size_t m = std::min(tile, features.size() - start);
    nearest_in_tile(features.column[0].data() + start, features.column[1].data() + start,
                    features.column[2].data() + start, m, c, static_cast<std::size_t>(k), distances.data() + start, best);
    for (std::size_t i = 0; i < m; ++i) labels[start + i] = static_cast<std::int32_t>(best[i]);
  }
}

double inertia_of(const mpi::Comm& comm, std::span<const double> distances) { return global_sum(comm, distances); }

KMeansModel fit_kmeans(const mpi::Comm& comm, const KMeansData& data, const KMeansOptions& options,
                       std::vector<std::int32_t>& labels) {
  mpi::assert_same_on_all_ranks(comm, options.k, "k");
  mpi::assert_same_on_all_ranks(comm, static_cast<std::int64_t>(options.seed), "seed");
  mpi::assert_same_on_all_ranks(comm, options.n_init, "n_init");
  const Features& f = data.features;
  const std::size_t n = f.size();
  const std::uint64_t total = mpi::allreduce<std::uint64_t>(comm, n, mpi::Op::sum);
  if (total < static_cast<std::uint64_t>(options.k)) too_few_points(options.k, static_cast<int>(total));

  // scikit-learn's tolerance: tol × mean of the features' variances.
  double mean_variance = 0;
  for (std::size_t d = 0; d < D; ++d) mean_variance += global_moments(comm, f.column[d]).variance;
  const double tolerance = options.tol * mean_variance / D;

  const detail::GridPoints grid(f, data.grid_exponent);
  KMeansModel best;
  bool have_best = false;
  std::int64_t total_iterations = 0;
  std::uint64_t distance_evaluations = 0, lloyd_evaluations = 0;
  std::vector<std::int32_t> run_labels(n);
  std::vector<double> distances(n);
  int first_restart = 0;
  std::optional<KMeansProgress> resumed;
  if (options.checkpoints != nullptr) resumed = options.checkpoints->load_progress(options);
  if (resumed) {
    first_restart = resumed->restart;
    total_iterations = resumed->total_iterations;
    have_best = resumed->have_best;
    if (have_best) best = resumed->best;
  }
  for (int restart = first_restart; restart < std::max(1, options.n_init); ++restart) {
    LloydStart start;
    if (resumed && restart == resumed->restart) {
      start = {resumed->iteration, resumed->centroids, resumed->previous, resumed->init_centroids};
    } else {
      switch (options.init) {
        case Init::kmeans_plus_plus: start.centroids = init_kmeans_plus_plus(comm, data, options.k, options.seed, restart); break;
        case Init::random: start.centroids = init_random(comm, data, options.k, options.seed, restart); break;
        case Init::kmeans_parallel: start.centroids = init_kmeans_parallel(comm, data, options.k, options.seed, restart); break;
      }
      start.init_centroids = start.centroids;
    }
    std::vector<double> init_centroids = start.init_centroids;
    // After each iteration: a checkpoint every few, a progress event, and a safe point of the
    // stop on a signal (which saves this very iteration first).
    const int every = options.checkpoints != nullptr ? std::max(1, options.checkpoints->every()) : 0;
    const IterationHook save = [&, restart, every](int done, const std::vector<double>& centroids,
                                                   const std::vector<double>& previous, int stop_signal) {
      const auto checkpoint = [&] {
        if (options.checkpoints == nullptr) return;
        KMeansProgress progress{restart, done, centroids, previous, init_centroids, total_iterations, have_best, best};
        options.checkpoints->save_progress(options, progress);
      };
      const bool saved = every > 0 && done % every == 0;
      if (saved) checkpoint();
      progress::kmeans(options.k, restart, options.n_init, done, have_best ? best.inertia : std::nan(""));
      stop::agreed(stop_signal, kmeans_position(options, restart, done), [&] {
        if (!saved) checkpoint();
      });
    };
    RunResult run = lloyd(comm, data, grid, std::move(start), options, tolerance, run_labels, save);
    run.init_centroids = std::move(init_centroids);
    total_iterations += run.n_iter;
    distance_evaluations += run.distance_evaluations;
    lloyd_evaluations += run.lloyd_evaluations;
    // Final E-step against the final centroids; inertia from exact sums.
    assign_nearest(f, run.centroids, options.k, run_labels, distances);
    const double inertia = inertia_of(comm, distances);
    if (!have_best || inertia < best.inertia) {
      best.k = options.k;
      best.centroids = std::move(run.centroids);
      best.init_centroids = std::move(run.init_centroids);
      best.inertia = inertia;
      best.n_iter = run.n_iter;
      best.converged = run.converged;
      best.restart = restart;
      labels = run_labels;
      have_best = true;
    }
  }
  // The labels of the best restart (a resumed fit may not have computed them in this process).
  if (labels.size() != n || (resumed && best.restart < first_restart)) {
    labels.resize(n);
    assign_nearest(f, best.centroids, options.k, labels, distances);
  }
  best.total_iterations = total_iterations;
  // Throughput figures: distance evaluations over all ranks (this process's restarts), and what
  // plain Lloyd would have done for the same iterations.
  const auto evaluations = mpi::allreduce(comm, std::vector<std::uint64_t>{distance_evaluations, lloyd_evaluations}, mpi::Op::sum);
  best.distance_evaluations = evaluations[0];
  best.lloyd_distance_evaluations = evaluations[1];
  best.sizes.assign(static_cast<std::size_t>(options.k), 0);
  for (auto label : labels) ++best.sizes[static_cast<std::size_t>(label)];
  best.sizes = mpi::allreduce(comm, std::move(best.sizes), mpi::Op::sum);
  return best;
}

}  // namespace rfmseg
