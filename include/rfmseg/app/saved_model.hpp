#pragma once
// The model part of a result file, loaded to place new customers in its clusters (`rfmseg score`,
// `--previous`): version, snapshot, configuration, and every fitted parameter — transforms,
// scaler and grid, centroids with their fit order, cluster labels, quintile cut points, classic
// segment split values and the high-value threshold — read exactly as stored (float64).

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rfmseg/core/features.hpp"
#include "rfmseg/model/scale.hpp"
#include "rfmseg/model/transform.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// The model part of a result file: everything needed to place new customers in its clusters.
struct SavedModel {
  std::string path;
  std::string version;                  ///< /run version
  std::string snapshot_date;            ///< /run snapshot_date (YYYY-MM-DD)
  std::int32_t snapshot_day = 0;        ///< the same as a day number (core/date.hpp)
  std::string configuration;            ///< /run configuration (INI text)
  std::string pseudonymization_key_id;  ///< /run pseudonymization_key_id ("" = ids as read, or not recorded)
  std::array<TransformParams, feature_count> transforms;  ///< kind, lambda, shift per feature
  ScaleParams scale;                                      ///< kind, center, scale, grid_exponent
  int k = 0;
  std::vector<double> centroids;            ///< k*feature_count, row-major, feature space (/model/centroids)
  std::vector<std::string> cluster_labels;  ///< /model/cluster_label
  /// /model/fit_index: the index each cluster had in the K-means fit (before the clusters were
  /// ordered); a point equally near two centres goes to the one with the lower fit index. Empty
  /// when read by read_saved_model without it from a file before 0.3.
  std::vector<std::int32_t> fit_index;
  /// /model/cluster_id (0..k-1 in files before 0.3): the stable id of each cluster.
  std::vector<std::int64_t> cluster_ids;
  std::vector<std::int64_t> cluster_size;  ///< /model/cluster_size: the training customers per cluster
  std::int64_t customers = 0;              ///< /run customers: the training customers
  /// /segments/score_cut_points: per feature (R, F, M) the 4 quintile edges (recency in days, not reversed).
  std::array<std::array<double, 4>, feature_count> score_cut_points{};
  std::array<double, feature_count> segment_reference{};  ///< /segments/reference: R, F, M split values
  double high_value_threshold = 0;                        ///< /segments/high_value_threshold
  // The fit that made the model, as recorded (a scored file's /model repeats them).
  std::vector<double> init_centroids;                                ///< /model/init_centroids, [k, 3] like centroids
  std::int64_t n_iter = 0;                                           ///< /model/n_iter
  bool converged = false;                                            ///< /model/converged
  std::int64_t restart = 0;                                          ///< /model/restart
  double silhouette = 0, calinski_harabasz = 0, davies_bouldin = 0;  ///< /model quality of the fit
  std::int64_t silhouette_sample = 0;                                ///< /model/silhouette_sample
};

/// Collective (every rank gets the same model). Throws AgreedError (exit 1) with a clear message
/// naming the file and the problem when the file is missing, not an rfmseg result, damaged
/// (checksums: reuse what `rfmseg verify` / io/verify.cpp and io/integrity.cpp do), or lacks a part
/// (e.g. written by an older version without some parameter).
[[nodiscard]] SavedModel load_saved_model(const mpi::Comm& comm, const std::string& path);

/// Collective, for a file check_integrity found intact (load_saved_model's step 3; --previous
/// checks the integrity with its own message): rank 0 reads the model part, every rank gets the
/// same. Without `fit_index_required` a file before 0.3 (no /model/fit_index) is read too. Throws
/// AgreedError (exit 1) "`refusal` PROBLEM" when a part is missing or malformed.
[[nodiscard]] SavedModel read_saved_model(const mpi::Comm& comm, const std::string& path, const std::string& refusal,
                                          bool fit_index_required);

}  // namespace rfmseg
