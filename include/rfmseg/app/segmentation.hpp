#pragma once
// The model half of a run: transform → scale → kmeans (with the elbow sweep and the choice of k)
// → evaluate → segment, on the customer table of the data half.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/phases.hpp"
#include "rfmseg/core/config.hpp"
#include "rfmseg/core/features.hpp"
#include "rfmseg/model/evaluate.hpp"
#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/model/metrics.hpp"
#include "rfmseg/model/scale.hpp"
#include "rfmseg/model/scores.hpp"
#include "rfmseg/model/transform.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

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
  Features features;                    ///< local rows, transformed, scaled, on the grid
  std::vector<std::int32_t> labels;     ///< local rows' clusters, in the final order
  KMeansModel model;                    ///< centroids etc. in the final cluster order
  std::vector<std::int32_t> fit_index;  ///< per final cluster its index in the fit (ties between centres)
  ClusterProfile profile;               ///< in the final cluster order
  ClusterMetrics metrics;               ///< of the final model
  Sweep sweep;                          ///< empty without --k-range
  RfmScores scores;                     ///< quintile scores and the 8 classic segments, local rows
  SegmentTable segments;                ///< the classic segments' table
  std::vector<std::string> cluster_labels;
  std::vector<std::int64_t> cluster_ids;  ///< stable id per cluster (ascending: the final order)
  std::string cluster_id_rule;            ///< /model cluster_ids
  std::string warm_start;                 ///< with --previous: what the warm start did (/migration warm_start)
  std::array<double, feature_count> overall_mean{};  ///< R, F, M over all customers
  std::vector<std::string> warnings;
  std::uint64_t distance_evaluations = 0;        ///< K-means, all fits of this run, all ranks
  std::uint64_t lloyd_distance_evaluations = 0;  ///< what plain Lloyd computes for the same steps
  double kmeans_seconds = 0;                     ///< wall time of the K-means phase
};

class Checkpoints;
struct PreviousResult;

/// Collective: segments the customers of `stage` (already id-sorted across ranks). With
/// `checkpoints`, every K-means fit saves its progress and resumes from a saved one. With
/// `previous` (joined to the stage), the clusters take the previous result's ids by maximum overlap.
[[nodiscard]] Segmentation segment_customers(const mpi::Comm& comm, const ModelConfig& config,
                                             const CustomerStage& stage, PhaseTimes& times,
                                             Checkpoints* checkpoints = nullptr,
                                             const PreviousResult* previous = nullptr);

}  // namespace rfmseg
