#pragma once
// --previous RESULT.h5: yesterday's result next to tonight's run. Opened and checked before any
// work (refused with a clear message when damaged or not comparable), joined to tonight's
// customers once their table exists (each rank reads an even block of yesterday's rows and sends
// every row to the rank holding that id range tonight), and compared once tonight's model exists:
// the migration tables and the drift of R, F, M (model/migration.hpp does the arithmetic).
// Nothing is gathered on one rank, and every number is the same for any rank count of either night.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/saved_model.hpp"
#include "rfmseg/core/config.hpp"
#include "rfmseg/core/features.hpp"
#include "rfmseg/model/migration.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

struct Segmentation;

/// Yesterday's model (as `rfmseg score` loads it) and, once joined, yesterday's cluster and segment of each local row.
struct PreviousResult {
  SavedModel model;  ///< path, snapshot, customers, k, cluster ids, labels, sizes, centroids, transforms, scaler, grid
  std::array<double, feature_count> mean{};  ///< mean R, F, M of the previous customers
  std::array<std::array<double, psi_bins - 1>, feature_count> decile_edges{};
  std::array<std::array<std::int64_t, psi_bins>, feature_count> bin_counts{};  ///< previous customers per bin

  // After join_previous: per local row of tonight's table (-1 = new tonight).
  std::vector<std::int32_t> cluster;
  std::vector<std::int8_t> segment;
  // Previous customers gone tonight, held by the rank owning their id range.
  std::vector<std::int32_t> gone_cluster;
  std::vector<std::int8_t> gone_segment;
  std::vector<double> gone_monetary;
};

/// Collective, before any work: checks `path` (checksums, an rfmseg result, features, transforms,
/// scaler, k, pseudonymization comparable with `config`) and reads its model (read_saved_model). Throws
/// AgreedError (exit 1) naming the file and the mismatch.
[[nodiscard]] PreviousResult open_previous(const mpi::Comm& comm, const std::string& path, const RunConfig& config);

/// Collective: yesterday's cluster and segment for every local customer of tonight, the gone
/// customers, and yesterday's deciles and means. Refuses a previous snapshot after tonight's.
void join_previous(const mpi::Comm& comm, const CustomerStage& stage, PreviousResult& previous);

/// /migration and /drift: tonight against yesterday (the same on every rank).
struct Comparison {
  int k_prev = 0, k = 0;
  std::vector<std::int64_t> clusters;  ///< [(k_prev + 1), (k + 1)] row-major
  std::vector<double> clusters_revenue;
  std::vector<std::int64_t> segments;  ///< [9, 9]
  std::vector<double> segments_revenue;
  std::int64_t stayed = 0, added = 0, gone = 0, changed_cluster = 0, changed_segment = 0;
  double ari = 0;
  std::vector<FateOf> fates;  ///< per previous cluster
  std::array<double, feature_count> psi{};
  std::array<std::array<std::int64_t, psi_bins>, feature_count> bin_counts{};  ///< tonight per bin
  std::string warm_start;                                                      ///< /migration warm_start
};

/// /drift parameters of a model: per row λ, shift, center, scale; per column R, F, M.
[[nodiscard]] std::array<std::array<double, feature_count>, 4> drift_parameters(
    const std::array<TransformParams, feature_count>& transforms, const ScaleParams& scale);

/// Collective: compares tonight's `seg` (labels in their final order) with `previous`.
[[nodiscard]] Comparison compare_with_previous(const mpi::Comm& comm, const CustomerStage& stage,
                                               const Segmentation& seg, const PreviousResult& previous);

}  // namespace rfmseg
