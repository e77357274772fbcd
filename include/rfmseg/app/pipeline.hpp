#pragma once
// The job: ingest → partition → rfm → (sort) → output, one stage after another, with wall time per
// phase. Every failure becomes an AgreedError on all ranks.

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/io/ingest.hpp"
#include "rfmseg/model/rfm.hpp"
#include "rfmseg/model/evaluate.hpp"
#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/model/metrics.hpp"
#include "rfmseg/model/scores.hpp"
#include "rfmseg/model/scale.hpp"
#include "rfmseg/model/transform.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Wall time per phase (the slowest rank's, once reduced).
class PhaseTimes {
 public:
  explicit PhaseTimes(const mpi::Comm& comm);
  /// Collective: ends the current phase under `name` and starts the next. A progress event, and a
  /// safe point of the stop on a signal (rfmseg/parallel/stop.hpp) except after "output".
  void lap(const std::string& name);
  /// Collective: each phase's maximum over ranks.
  void reduce(const mpi::Comm& comm);
  [[nodiscard]] const std::vector<std::pair<std::string, double>>& phases() const { return _phases; }
  [[nodiscard]] double total() const;

 private:
  const mpi::Comm* _comm;
  double _last;
  std::vector<std::pair<std::string, double>> _phases;
};

/// What the first half of the job (ingest → partition → rfm → sort) produces.
struct CustomerStage {
  InputPlan plan;
  CustomerTable customers;          ///< this rank's contiguous block of the id-sorted table
  std::uint64_t total_customers = 0;
  CleaningCounters counters;        ///< global
  std::vector<BadLine> bad_lines;   ///< global, first few per kind, by file and line
  std::int32_t snapshot = 0;
  FrequencyMode frequency = FrequencyMode::automatic;
  std::uint64_t bytes_read = 0, bytes_shuffled = 0, shuffle_rounds = 0;  ///< global
  std::uint64_t memory_budget_per_rank = 0;  ///< resolved --max-memory-per-rank (smallest over ranks; 0 = no limit)
  std::uint64_t rejected_rows = 0;           ///< rows written to the --rejects file (global)
  std::string duplicates;           ///< resolved --duplicates (InputPlan::duplicates_policy)
  std::string date_order;           ///< how slash dates were read, and why (/run date_order)
  bool date_order_assumed = false;  ///< month-first without a statement or a date showing it: warn
};

class RejectsFile;

/// Collective: input → one exact RFM row per customer, sorted by id across ranks. With `rejects`,
/// every line with a reader fate is written to its temporary file (not yet committed).
[[nodiscard]] CustomerStage build_customer_table(const mpi::Comm& comm, const RunConfig& config, PhaseTimes& times,
                                                 RejectsFile* rejects = nullptr);

/// The elbow sweep: one K-means fit per k of --k-range, with its quality metrics.
struct Sweep {
  std::vector<int> k;
  std::vector<double> sse, silhouette, calinski_harabasz, davies_bouldin;
  std::vector<std::int64_t> n_iter;
  int chosen_k = 0;
  std::string rule;  ///< "elbow", "silhouette" or "fixed"
};

/// What the second half (transform → scale → kmeans → evaluate → segment) produces.
struct Segmentation {
  std::array<TransformParams, feature_count> transforms;
  ScaleParams scale;
  Features features;                     ///< local rows, transformed, scaled, on the grid
  std::vector<std::int32_t> labels;      ///< local rows' clusters, in the final order
  KMeansModel model;                     ///< centroids etc. in the final cluster order
  ClusterProfile profile;                ///< in the final cluster order
  ClusterMetrics metrics;                ///< of the final model
  Sweep sweep;                           ///< empty without --k-range
  RfmScores scores;                      ///< quintile scores and the 8 classic segments, local rows
  SegmentTable segments;                 ///< the classic segments' table
  std::vector<std::string> cluster_labels;
  std::array<double, feature_count> overall_mean{};  ///< R, F, M over all customers
  std::vector<std::string> warnings;
  std::uint64_t distance_evaluations = 0;        ///< K-means, all fits of this run, all ranks
  std::uint64_t lloyd_distance_evaluations = 0;  ///< what plain Lloyd computes for the same steps
  double kmeans_seconds = 0;                     ///< wall time of the K-means phase
};

class Checkpoints;

/// Collective: segments the customers of `stage` (already id-sorted across ranks). With
/// `checkpoints`, every K-means fit saves its progress and resumes from a saved one.
[[nodiscard]] Segmentation segment_customers(const mpi::Comm& comm, const ModelConfig& config,
                                             const CustomerStage& stage, PhaseTimes& times,
                                             Checkpoints* checkpoints = nullptr);

/// Runs the whole job. Returns the exit status (0); failures throw AgreedError on every rank.
int run_pipeline(const mpi::Comm& comm, const RunConfig& config);

}  // namespace rfmseg
