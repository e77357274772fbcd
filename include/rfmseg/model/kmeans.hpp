#pragma once
// Stage 6 — kmeans. Distributed Lloyd's algorithm: each rank assigns its customers and
// accumulates per-cluster sums and counts, one allreduce per iteration, and every rank computes
// the same new centroids. fit_kmeans runs the restarts; the pieces are policies, each in its own
// header under rfmseg/model/kmeans/ (contracts: policies.hpp):
//
//   initialization  init.hpp: KMeansPlusPlus (exact D² sampling by an exponential race: every
//                   customer draws u from a counter-based generator keyed by (seed, restart,
//                   step, hash of its id), key = −ln(u)/D², the global minimum wins),
//                   KMeansParallel (k-means‖, Bahmani et al.: 5 oversampling rounds of ℓ = 2k,
//                   then weighted k-means++ on the candidates), RandomSample (the k customers
//                   with the smallest draws);
//   Lloyd step      steps.hpp: LloydStep, HamerlyStep — assign each point to the nearest centroid
//                   (ties: lowest index) and sum its grid-integer coordinates into 128-bit
//                   accumulators; Hamerly's bounds skip distances, never change a label;
//   empty clusters  empty_cluster.hpp: FarthestPoint — an empty cluster takes the point farthest
//                   from its centroid (ties: lowest global row), the next empty one the next
//                   farthest, and so on;
//   the loop        driver.hpp: lloyd(), which owns the iterations and the convergence test.
//
// Every reduction that decides a result is exact (integers), and no random draw depends on the
// rank or the order of arrival, so labels, centroids and inertia are bit-identical for any rank
// count. Convergence follows scikit-learn: stop when the labels no longer change, or when the
// sum of squared centroid shifts is <= tol × (mean feature variance); then reassign once.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/core/features.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

class KMeansCheckpoints;

struct KMeansOptions {
  int k = 4;
  Init init = Init::kmeans_plus_plus;
  int n_init = 10;
  int max_iter = 300;
  double tol = 1e-4;
  std::uint64_t seed = 42;
  KMeansCheckpoints* checkpoints = nullptr;                ///< saves the state every few iterations; resumes from it
  KMeansAlgorithm algorithm = KMeansAlgorithm::automatic;  ///< same labels either way; Hamerly skips distances
  /// [k, 3]: one extra restart (number n_init, after the fresh ones) starts from these centroids
  /// and competes with them (lowest inertia wins; a tie goes to the lower restart). Empty: none.
  std::vector<double> warm_start;
};

namespace kmeans {
struct Prepared;
}

/// What fit_kmeans derives from the points alone (their grid integers, their mean variance and the
/// filtering step's kd-tree), kept for the next fit on the same points: a sweep builds them once.
/// The points must not change while a cache is used with them. Built by the
/// first fit; rebuilt if a fit sees other points (features, row count or grid).
class KMeansCache {
 public:
  KMeansCache();
  ~KMeansCache();
  KMeansCache(const KMeansCache&) = delete;
  KMeansCache& operator=(const KMeansCache&) = delete;
  /// (Used by fit_kmeans; collective.) The parts for these points, built on first use.
  [[nodiscard]] const kmeans::Prepared& prepare(const mpi::Comm& comm, const Features& features, int grid_exponent,
                                                bool with_tree);

 private:
  std::unique_ptr<kmeans::Prepared> _prepared;
};

/// The points: this rank's rows of the (grid-snapped) features, a random key per row (hash of
/// the customer id) and the global index of the first local row; optionally a cache shared by
/// the fits on these points (none: each fit prepares its own).
struct KMeansData {
  const Features& features;
  std::span<const std::uint64_t> keys;
  std::uint64_t first_row = 0;
  int grid_exponent = 0;
  KMeansCache* cache = nullptr;
};

struct KMeansModel {
  int k = 0;
  std::vector<double> centroids;       ///< [k, 3] row-major
  std::vector<double> init_centroids;  ///< [k, 3] the winning restart's starting centroids
  std::vector<std::int64_t> sizes;     ///< points per cluster
  double inertia = 0;                  ///< Σ squared distance to the assigned centroid
  int n_iter = 0;
  bool converged = false;
  int restart = 0;                               ///< which of the n_init restarts won
  std::int64_t total_iterations = 0;             ///< Lloyd iterations over all restarts (for throughput)
  std::uint64_t distance_evaluations = 0;        ///< point-centroid distances computed (all ranks)
  std::uint64_t lloyd_distance_evaluations = 0;  ///< what plain Lloyd computes for the same iterations
};

/// A fit between two Lloyd iterations: everything needed to continue it bit-identically. The
/// labels are not stored: they are the assignment to `previous` (recomputed on resume).
struct KMeansProgress {
  int restart = 0;                     ///< the restart in progress
  int iteration = 0;                   ///< Lloyd iterations it has completed
  std::vector<double> centroids;       ///< [k, 3] after `iteration` iterations
  std::vector<double> previous;        ///< [k, 3] the centroids the last iteration assigned to
  std::vector<double> init_centroids;  ///< [k, 3] this restart's start
  std::int64_t total_iterations = 0;   ///< Lloyd iterations of the restarts before this one
  bool have_best = false;              ///< some restart has finished
  KMeansModel best;                    ///< the best finished restart (no sizes yet)
};

/// Where fits are saved and found again (implemented on HDF5 files by checkpoint.cpp).
class KMeansCheckpoints {
 public:
  virtual ~KMeansCheckpoints() = default;
  /// Lloyd iterations between two saves.
  [[nodiscard]] virtual int every() const = 0;
  /// Collective: records `progress` of the fit with `options` (replicated on every rank).
  virtual void save_progress(const KMeansOptions& options, const KMeansProgress& progress) = 0;
  /// Collective: the last progress saved for the fit with `options`, if any.
  [[nodiscard]] virtual std::optional<KMeansProgress> load_progress(const KMeansOptions& options) = 0;
};

/// Collective: the best of n_init restarts (lowest inertia; ties: first). `labels` receives the
/// local rows' clusters. Throws AgreedError when k exceeds the number of distinct points.
[[nodiscard]] KMeansModel fit_kmeans(const mpi::Comm& comm, const KMeansData& data, const KMeansOptions& options,
                                     std::vector<std::int32_t>& labels);

/// Local: nearest centroid of every row (ties: lowest index) and its squared distance.
void assign_nearest(const Features& features, std::span<const double> centroids, int k, std::span<std::int32_t> labels,
                    std::span<double> distances);

/// Collective: Σ squared distances, exact.
[[nodiscard]] double inertia_of(const mpi::Comm& comm, std::span<const double> distances);

}  // namespace rfmseg
