#include "rfmseg/model/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "kernels.hpp"
#include "rfmseg/core/progress.hpp"
#include "rfmseg/model/kmeans/driver.hpp"
#include "rfmseg/model/kmeans/empty_cluster.hpp"
#include "rfmseg/model/kmeans/init.hpp"
#include "rfmseg/model/kmeans/kdtree.hpp"
#include "rfmseg/model/kmeans/steps.hpp"
#include "rfmseg/parallel/reduce.hpp"
#include "rfmseg/parallel/stop.hpp"

namespace rfmseg {

namespace {
// Where a stop on a signal found the fit: "k-means k = 5, restart 3/10, iteration 41".
std::string kmeans_position(const KMeansOptions& options, int restart, int iteration) {
  return "k-means k = " + std::to_string(options.k) + ", restart " + std::to_string(restart + 1) + "/" +
         std::to_string(options.warm_start.empty() ? std::max(1, options.n_init) : options.n_init + 1) +
         (restart == options.n_init && !options.warm_start.empty() ? " (warm start)" : "") + ", iteration " +
         std::to_string(iteration);
}
}  // namespace

namespace kmeans {
/// The parts of a KMeansCache, and the points they were built from.
struct Prepared {
  const double* rows[feature_count] = {};
  std::size_t n = 0;
  int grid_exponent = 0;
  GridPoints grid;
  double mean_variance = 0;  ///< mean of the features' (global) variances
  std::optional<PointTree> tree;
  Prepared(const mpi::Comm& comm, const Features& features, int exponent)
      : n(features.size()), grid_exponent(exponent), grid(features, exponent) {
    for (std::size_t d = 0; d < feature_count; ++d) {
      rows[d] = features.column[d].data();
      mean_variance += global_moments(comm, features.column[d]).variance;
    }
  }
  [[nodiscard]] bool built_from(const Features& features, int exponent) const {
    for (std::size_t d = 0; d < feature_count; ++d)
      if (rows[d] != features.column[d].data()) return false;
    return n == features.size() && grid_exponent == exponent;
  }
};
}  // namespace kmeans

KMeansCache::KMeansCache() = default;
KMeansCache::~KMeansCache() = default;

const kmeans::Prepared& KMeansCache::prepare(const mpi::Comm& comm, const Features& features, int grid_exponent,
                                             bool with_tree) {
  // Collective: the ranks agree whether their caches still fit, so all of them rebuild together.
  const bool fits = _prepared && _prepared->built_from(features, grid_exponent);
  if (!mpi::all_of(comm, fits)) _prepared = std::make_unique<kmeans::Prepared>(comm, features, grid_exponent);
  if (with_tree && !_prepared->tree) _prepared->tree.emplace(features, _prepared->grid);
  return *_prepared;
}

using kmeans::detail::D;
using kmeans::detail::nearest_in_tile;
using kmeans::detail::tile;

void assign_nearest(const Features& features, std::span<const double> centroids, int k, std::span<std::int32_t> labels,
                    std::span<double> distances) {
  alignas(64) double best[tile];
  for (std::size_t start = 0; start < features.size(); start += tile) {
    const std::size_t m = std::min(tile, features.size() - start);
    nearest_in_tile(features.column[0].data() + start, features.column[1].data() + start,
                    features.column[2].data() + start, m, centroids.data(), static_cast<std::size_t>(k),
                    distances.data() + start, best);
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
  if (total < static_cast<std::uint64_t>(options.k)) kmeans::detail::too_few_points(options.k, static_cast<int>(total));

  // The grid integers, the features' mean variance and the filtering step's kd-tree: computed
  // once, shared by every restart (and, through data.cache, by the next fits on the same points).
  KMeansCache own_cache;
  KMeansCache& cache = data.cache != nullptr ? *data.cache : own_cache;
  const kmeans::Prepared& prepared = cache.prepare(comm, f, data.grid_exponent, kmeans::uses_tree(options.algorithm));
  const kmeans::GridPoints& grid = prepared.grid;
  const kmeans::PointTree* tree = prepared.tree ? &*prepared.tree : nullptr;
  // scikit-learn's tolerance: tol × mean of the features' variances.
  const double tolerance = options.tol * prepared.mean_variance / D;

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
  const kmeans::AnyInit init = kmeans::make_init(options.init);
  const kmeans::StopRule stop{options.max_iter, tolerance};
  const bool warm = !options.warm_start.empty();
  if (warm && options.warm_start.size() != static_cast<std::size_t>(options.k) * D)
    throw std::invalid_argument("fit_kmeans: warm start centroids are not [k, 3]");
  const int restarts = warm ? options.n_init + 1 : std::max(1, options.n_init);
  for (int restart = first_restart; restart < restarts; ++restart) {
    const kmeans::Context context{comm, data, options.k, options.seed, restart};
    kmeans::LloydStart start;
    if (resumed && restart == resumed->restart) {
      start = {resumed->iteration, resumed->centroids, resumed->previous, resumed->init_centroids};
    } else if (warm && restart == options.n_init) {
      start.centroids = options.warm_start;
      start.init_centroids = start.centroids;
    } else {
      start.centroids = kmeans::initialize(init, context);
      start.init_centroids = start.centroids;
    }
    std::vector<double> init_centroids = start.init_centroids;
    // After each iteration: a checkpoint every few, a progress event, and a safe point of the
    // stop on a signal (which saves this very iteration first).
    const int every = options.checkpoints != nullptr ? std::max(1, options.checkpoints->every()) : 0;
    const kmeans::IterationHook save = [&, restart, every](int done, const std::vector<double>& centroids,
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
    // The step policy of this restart (fresh state), visited once: no dispatch inside the loop.
    kmeans::AnyStep step = kmeans::make_step(options.algorithm, options.k, f, grid, tree);
    kmeans::RunResult run = std::visit(
        [&](auto& policy) {
          return kmeans::lloyd(context, policy, kmeans::FarthestPoint{}, std::move(start), stop, run_labels, save);
        },
        step);
    run.init_centroids = std::move(init_centroids);
    total_iterations += run.n_iter;
    distance_evaluations += run.distance_evaluations;
    lloyd_evaluations += run.lloyd_evaluations;
    // Final E-step against the final centroids; inertia from exact sums. The filtering step
    // finds the labels (its state matches run_labels), then each point's distance to its own
    // centroid is the one the full scan would have found: the same operations on the same values.
    if (auto* filter = std::get_if<kmeans::FilterStep>(&step)) {
      (void)filter->step(run.centroids, run_labels);
      kmeans::detail::distances_to_assigned(f, run.centroids, run_labels, distances);
    } else {
      assign_nearest(f, run.centroids, options.k, run_labels, distances);
    }
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
  const auto evaluations =
      mpi::allreduce(comm, std::vector<std::uint64_t>{distance_evaluations, lloyd_evaluations}, mpi::Op::sum);
  best.distance_evaluations = evaluations[0];
  best.lloyd_distance_evaluations = evaluations[1];
  best.sizes.assign(static_cast<std::size_t>(options.k), 0);
  for (auto label : labels) ++best.sizes[static_cast<std::size_t>(label)];
  best.sizes = mpi::allreduce(comm, std::move(best.sizes), mpi::Op::sum);
  return best;
}

}  // namespace rfmseg
