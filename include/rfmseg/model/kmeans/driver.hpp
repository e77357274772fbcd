#pragma once
// The K-means driver: one restart of distributed Lloyd, the loop and its convergence test, over
// a step policy and an empty-cluster policy (kmeans/policies.hpp). fit_kmeans (kmeans.hpp) runs
// it once per restart after an init policy chose the start.
//
// Per iteration: the step assigns the local points and sums them exactly (local); one allreduce
// of the sums, one of the counts and one of the "some label changed" flag; every rank then
// divides the same integers, so every rank computes the same next centroids, and the clusters
// left empty are repaired by the empty-cluster policy (collective). Convergence follows
// scikit-learn: stop when the labels repeat, or when Σ squared centroid shifts <= tolerance
// (tol × mean feature variance); both tests read reduced values only.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/model/kmeans/policies.hpp"
#include "rfmseg/parallel/stop.hpp"

namespace rfmseg::kmeans {

/// Where a run starts: iteration 0 from the initial centroids, or a saved iteration.
struct LloydStart {
  int iteration = 0;
  Centroids centroids;       ///< the centroids the next iteration assigns to
  Centroids previous;        ///< (resumed) the centroids the last completed iteration assigned to
  Centroids init_centroids;  ///< the restart's starting centroids (recorded in the model)
};

/// When a run stops.
struct StopRule {
  int max_iter = 300;
  double tolerance = 0;  ///< on Σ squared centroid shifts (already scaled by the feature variance)
};

struct RunResult {
  Centroids centroids, init_centroids;
  int n_iter = 0;
  bool converged = false;
  std::uint64_t distance_evaluations = 0;  ///< this rank's
  std::uint64_t lloyd_evaluations = 0;     ///< this rank's points x k x steps
};

/// Called after each completed iteration with (iterations done, centroids, previous centroids, the
/// stop signal the ranks agreed on in that iteration's reduction: 0 = none, see parallel/stop.hpp).
using IterationHook = std::function<void(int, const Centroids&, const Centroids&, int)>;

/// Collective: Lloyd iterations from `start` until convergence or stop.max_iter. `labels` (one per
/// local row) receives the assignment of the last step.
template <StepPolicy Step, EmptyClusterPolicy Empty>
RunResult lloyd(const Context& context, Step& step, const Empty& empty_clusters, LloydStart start, const StopRule& rule,
                std::span<std::int32_t> labels, const IterationHook& after_iteration = {}) {
  constexpr std::size_t D = feature_count;
  RunResult run;
  run.init_centroids = std::move(start.init_centroids);
  Centroids centroids = std::move(start.centroids);
  const auto k = static_cast<std::size_t>(context.k);
  const double unit = std::ldexp(1.0, -context.data.grid_exponent);
  if (start.iteration == 0) {
    std::fill(labels.begin(), labels.end(), -1);
  } else {
    // Resumed: the labels of the last completed iteration are the assignment to its centroids.
    std::vector<double> unused(labels.size());
    assign_nearest(context.data.features, start.previous, context.k, labels, unused);
  }
  run.n_iter = start.iteration;
  step.invalidate();  // a new start: the first step scans every centroid
  for (int iter = start.iteration; iter < rule.max_iter; ++iter) {
    StepSums sums = step.step(centroids, labels);
    run.distance_evaluations += sums.distance_evaluations;
    run.lloyd_evaluations += static_cast<std::uint64_t>(labels.size()) * static_cast<std::uint64_t>(k);
    mpi::allreduce_sum_inplace(context.comm, std::span<int128_t>(sums.sums));
    sums.counts = mpi::allreduce(context.comm, std::move(sums.counts), mpi::Op::sum);
    // One reduction: did a label change anywhere, and did a rank get a stop signal?
    const auto flags =
        mpi::allreduce(context.comm, std::vector<int>{sums.changed ? 1 : 0, stop::pending()}, mpi::Op::max);
    const bool changed = flags[0] != 0;
    // The new centroids: exact sums / counts, scaled back from grid units (same on every rank).
    Centroids next(centroids.size());
    std::vector<std::size_t> empty;
    for (std::size_t j = 0; j < k; ++j) {
      if (sums.counts[j] == 0) {
        empty.push_back(j);
        continue;
      }
      for (std::size_t d = 0; d < D; ++d)
        next[j * D + d] = static_cast<double>(sums.sums[j * D + d]) / static_cast<double>(sums.counts[j]) * unit;
    }
    if (!empty.empty()) empty_clusters.repair(context, centroids, labels, empty, next);
    double shift = 0;
    for (std::size_t t = 0; t < next.size(); ++t) shift += (next[t] - centroids[t]) * (next[t] - centroids[t]);
    std::swap(centroids, next);  // `next` now holds the centroids this iteration assigned to
    run.n_iter = iter + 1;
    if (iter > 0 && !changed) {  // labels repeated: strict convergence
      run.converged = true;
      break;
    }
    if (shift <= rule.tolerance) {
      run.converged = true;
      break;
    }
    if (after_iteration) after_iteration(run.n_iter, centroids, next, flags[1]);
  }
  run.centroids = std::move(centroids);
  return run;
}

}  // namespace rfmseg::kmeans
