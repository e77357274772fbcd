#include "rfmseg/app/segmentation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>

#include "rfmseg/app/checkpoint.hpp"
#include "rfmseg/app/previous.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/model/migration.hpp"
#include "rfmseg/model/segment.hpp"
#include "rfmseg/model/selection.hpp"
#include "rfmseg/parallel/reduce.hpp"
#include "rfmseg/parallel/stop.hpp"

namespace rfmseg {

namespace {

// ---- transform: each feature's transform fitted over all ranks, applied to the local rows.
void transform_features(const mpi::Comm& comm, const ModelConfig& config, const CustomerStage& stage,
                        Segmentation& seg) {
  const Features raw = rfm_columns(stage.customers);
  const double total = static_cast<double>(stage.total_customers);
  seg.features.resize(stage.customers.size());
  for (std::size_t d = 0; d < feature_count; ++d) {
    seg.overall_mean[d] = global_sum(comm, raw.column[d]) / total;
    seg.transforms[d] = fit_transform(comm, config.transform[d], raw.column[d]);
    apply_transform(seg.transforms[d], raw.column[d], seg.features.column[d]);
  }
  bool finite = true;
  for (const auto& column : seg.features.column)
    for (double v : column) finite = finite && std::isfinite(v);
  if (!mpi::all_of(comm, finite))
    throw AgreedError("a transform produced a non-finite value (NaN or infinity); choose another --transform-*", 1);
}

// ---- scale: fitted over all ranks, then snapped onto the fixed-point grid (exact K-means sums).
void scale_features(const mpi::Comm& comm, const ModelConfig& config, Segmentation& seg) {
  seg.scale = fit_scaler(comm, seg.features, config.scaler, seg.warnings);
  apply_scaler(seg.scale, seg.features);
  seg.scale.grid_exponent = snap_to_grid(comm, seg.features);
}

// ---- kmeans: one fit with its quality metrics; a fit finished by an interrupted run is taken
// from its checkpoint (its labels are the nearest centroids, as at the end of the fit).
class Fitter {
 public:
  Fitter(const mpi::Comm& comm, const ModelConfig& config, const KMeansData& data, Checkpoints* checkpoints,
         Segmentation& seg)
      : _comm(comm), _config(config), _data(data), _checkpoints(checkpoints), _seg(seg) {
    _options.k = config.k;
    _options.init = config.init;
    _options.n_init = config.n_init;
    _options.max_iter = config.max_iter;
    _options.tol = config.tol;
    _options.seed = config.seed;
    _options.checkpoints = checkpoints;
    _options.algorithm = config.algorithm;
  }

  /// Fits k clusters; the quality metrics only `with_metrics` (else NaN). With `warm` centroids,
  /// one extra restart starts from them (`fresh` = false: it alone, and not checkpointed).
  SavedFit operator()(int k, std::vector<std::int32_t>& labels, bool with_metrics = true,
                      const std::vector<double>& warm = {}, bool fresh = true) {
    _options.k = k;
    _options.warm_start = warm;
    _options.n_init = fresh ? _config.n_init : 0;
    if (!fresh) {
      KMeansOptions alone = _options;
      alone.checkpoints = nullptr;
      SavedFit done;
      done.model = fit_kmeans(_comm, _data, alone, labels);
      _seg.distance_evaluations += done.model.distance_evaluations;
      _seg.lloyd_distance_evaluations += done.model.lloyd_distance_evaluations;
      done.metrics = with_metrics ? metrics(k, labels) : ClusterMetrics{};
      return done;
    }
    std::optional<SavedFit> saved;
    if (_checkpoints != nullptr) saved = _checkpoints->load_fit(_options);
    if (saved) {
      labels.resize(_data.features.size());
      std::vector<double> distances(_data.features.size());
      assign_nearest(_data.features, saved->model.centroids, k, labels, distances);
      return *saved;
    }
    SavedFit done;
    done.model = fit_kmeans(_comm, _data, _options, labels);
    _seg.distance_evaluations += done.model.distance_evaluations;
    _seg.lloyd_distance_evaluations += done.model.lloyd_distance_evaluations;
    if (with_metrics) {
      done.metrics = metrics(k, labels);
    } else {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      done.metrics = ClusterMetrics{nan, nan, nan, 0};
    }
    if (_checkpoints != nullptr) _checkpoints->save_fit(_options, done);
    return done;
  }

  [[nodiscard]] ClusterMetrics metrics(int k, const std::vector<std::int32_t>& labels) const {
    return cluster_metrics(_comm, _data.features, labels, k, _data.keys, _config.silhouette_sample, _config.seed);
  }

 private:
  const mpi::Comm& _comm;
  const ModelConfig& _config;
  const KMeansData& _data;
  Checkpoints* _checkpoints;
  Segmentation& _seg;
  KMeansOptions _options;
};

// The elbow sweep: every k of --k-range on the in-memory features (no re-reading), then the
// choice of k by --k-select. The chosen k's fit becomes the final model when it is in the range.
// Returns whether it did.
bool sweep_k(const ModelConfig& config, Fitter& fit, Segmentation& seg) {
  std::vector<std::vector<std::int32_t>> sweep_labels;
  std::vector<KMeansModel> sweep_models;
  std::vector<ClusterMetrics> sweep_metrics;
  for (int k = config.k_min; k <= config.k_max; ++k) {
    std::vector<std::int32_t> labels;
    SavedFit done;
    try {
      done = fit(k, labels, config.sweep_metrics == SweepMetrics::all);
    } catch (const stop::Stopped&) {
      throw;
    } catch (const AgreedError& error) {  // e.g. fewer distinct customers than this k
      throw AgreedError(
          "--k-range " + std::to_string(config.k_min) + ".." + std::to_string(config.k_max) + ": " + error.what(),
          error.exit_code());
    }
    seg.sweep.k.push_back(k);
    seg.sweep.sse.push_back(done.model.inertia);
    seg.sweep.n_iter.push_back(done.model.n_iter);
    seg.sweep.silhouette.push_back(done.metrics.silhouette);
    seg.sweep.calinski_harabasz.push_back(done.metrics.calinski_harabasz);
    seg.sweep.davies_bouldin.push_back(done.metrics.davies_bouldin);
    sweep_models.push_back(std::move(done.model));
    sweep_metrics.push_back(done.metrics);
    sweep_labels.push_back(std::move(labels));
  }
  switch (config.k_select) {
    case KSelect::elbow:
      seg.sweep.chosen_k = kneedle_elbow(seg.sweep.k, seg.sweep.sse);
      seg.sweep.rule = "elbow";
      break;
    case KSelect::silhouette:
      seg.sweep.chosen_k = best_silhouette(seg.sweep.k, seg.sweep.silhouette);
      seg.sweep.rule = "silhouette";
      break;
    case KSelect::none:
      seg.sweep.chosen_k = config.k;
      seg.sweep.rule = "fixed";
      break;
  }
  if (seg.sweep.chosen_k < config.k_min || seg.sweep.chosen_k > config.k_max) return false;
  const auto i = static_cast<std::size_t>(seg.sweep.chosen_k - config.k_min);
  seg.model = std::move(sweep_models[i]);
  seg.labels = std::move(sweep_labels[i]);
  seg.metrics = sweep_metrics[i];
  // --sweep-metrics sse fitted the sweep without metrics: the final model gets its own.
  if (config.sweep_metrics == SweepMetrics::sse) seg.metrics = fit.metrics(seg.sweep.chosen_k, seg.labels);
  return true;
}

// New cluster i = old cluster order[i], in every per-cluster table and in the labels.
void reorder_clusters(const std::vector<int>& order, Segmentation& seg) {
  std::vector<std::int32_t> new_index(order.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    new_index[static_cast<std::size_t>(order[i])] = static_cast<std::int32_t>(i);
  for (auto& label : seg.labels) label = new_index[static_cast<std::size_t>(label)];
  seg.model.centroids = reorder(seg.model.centroids, order, feature_count);
  seg.model.init_centroids = reorder(seg.model.init_centroids, order, feature_count);
  seg.model.sizes = reorder(seg.model.sizes, order);
  seg.profile = reorder(seg.profile, order);
  seg.cluster_labels = reorder(seg.cluster_labels, order);
  seg.cluster_ids = reorder(seg.cluster_ids, order);
  seg.fit_index = reorder(seg.fit_index, order);
}

// With --previous: each cluster takes the id (and label) of the previous cluster it shares the
// most customers with, by an optimal assignment on the table of common customers; the clusters
// without a partner get new ids after the highest previous one. Rows end in ascending id order.
void take_previous_ids(const mpi::Comm& comm, const PreviousResult& previous, int k, Segmentation& seg) {
  const int kp = previous.model.k;
  std::vector<std::int64_t> table(static_cast<std::size_t>(kp) * static_cast<std::size_t>(k), 0);
  for (std::size_t i = 0; i < seg.labels.size(); ++i)
    if (previous.cluster[i] >= 0)
      ++table[static_cast<std::size_t>(previous.cluster[i]) * static_cast<std::size_t>(k) +
              static_cast<std::size_t>(seg.labels[i])];
  table = mpi::allreduce(comm, std::move(table), mpi::Op::sum);
  const std::vector<int> match = match_clusters(table, kp, k);
  const auto& ids = previous.model.cluster_ids;
  std::int64_t next = ids.empty() ? 0 : *std::max_element(ids.begin(), ids.end()) + 1;
  for (int j = 0; j < k; ++j) {
    const int partner = match[static_cast<std::size_t>(j)];
    auto& id = seg.cluster_ids[static_cast<std::size_t>(j)];
    if (partner >= 0) {
      id = ids[static_cast<std::size_t>(partner)];
      seg.cluster_labels[static_cast<std::size_t>(j)] =
          previous.model.cluster_labels[static_cast<std::size_t>(partner)];
    } else {
      id = next++;
    }
  }
  std::vector<int> order(static_cast<std::size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return seg.cluster_ids[static_cast<std::size_t>(a)] < seg.cluster_ids[static_cast<std::size_t>(b)];
  });
  reorder_clusters(order, seg);
  seg.cluster_id_rule = "maximum overlap with the previous result";
}

// ---- warm start (--previous): tonight's customers grouped by the previous full model (its
// transforms, scaler, grid and centroids), the groups' exact means in tonight's feature space as
// the start of one extra restart. A previous cluster left without customers starts where it was.
std::vector<double> warm_start_centroids(const mpi::Comm& comm, const CustomerStage& stage,
                                         const PreviousResult& previous, const Segmentation& seg) {
  const Features raw = rfm_columns(stage.customers);
  Features old;
  old.resize(raw.size());
  const SavedModel& model = previous.model;  // its transforms and scaler are tonight's kinds (open_previous)
  for (std::size_t d = 0; d < feature_count; ++d) apply_transform(model.transforms[d], raw.column[d], old.column[d]);
  apply_scaler(model.scale, old);
  snap_to_grid(old, model.scale.grid_exponent);
  std::vector<std::int32_t> groups(old.size());
  std::vector<double> distances(old.size());
  assign_nearest(old, model.centroids, model.k, groups, distances);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(model.k), 0);
  for (auto g : groups) ++counts[static_cast<std::size_t>(g)];
  counts = mpi::allreduce(comm, std::move(counts), mpi::Op::sum);
  std::vector<double> centroids = model.centroids;
  for (std::size_t d = 0; d < feature_count; ++d) {
    const auto sums = global_grouped_sum(comm, seg.features.column[d], groups, model.k);
    for (std::size_t j = 0; j < counts.size(); ++j)
      if (counts[j] > 0) centroids[j * feature_count + d] = sums[j] / static_cast<double>(counts[j]);
  }
  return centroids;
}

// ---- evaluate: a stable cluster order (by mean monetary, descending), the profile, the labels;
// with --previous, then the previous result's ids.
void order_clusters(const mpi::Comm& comm, const ModelConfig& config, const CustomerTable& customers, int k,
                    const PreviousResult* previous, Segmentation& seg) {
  seg.profile = profile_clusters(comm, customers, seg.labels, k);
  seg.cluster_labels.assign(static_cast<std::size_t>(k), std::string());
  seg.cluster_ids.resize(static_cast<std::size_t>(k));
  std::iota(seg.cluster_ids.begin(), seg.cluster_ids.end(), 0);
  seg.fit_index.resize(static_cast<std::size_t>(k));
  std::iota(seg.fit_index.begin(), seg.fit_index.end(), 0);
  reorder_clusters(order_by_monetary(seg.profile), seg);
  std::iota(seg.cluster_ids.begin(), seg.cluster_ids.end(), 0);
  seg.cluster_labels = label_clusters(seg.profile, seg.overall_mean, config.cluster_names);
  seg.cluster_id_rule = "mean monetary, descending";
  if (previous != nullptr) take_previous_ids(comm, *previous, k, seg);
}

}  // namespace

Segmentation segment_customers(const mpi::Comm& comm, const ModelConfig& config, const CustomerStage& stage,
                               PhaseTimes& times, Checkpoints* checkpoints, const PreviousResult* previous) {
  Segmentation seg;
  const CustomerTable& customers = stage.customers;
  const std::size_t n = customers.size();

  transform_features(comm, config, stage, seg);
  times.lap("transform");

  scale_features(comm, config, seg);
  times.lap("scale");

  // Random draws are keyed by customer id, never by rank or row: the same fit for any rank count.
  std::vector<std::uint64_t> keys(n);
  for (std::size_t i = 0; i < n; ++i) keys[i] = hash_bytes(customers.id[i]);
  const std::uint64_t first_row = mpi::exscan_sum<std::uint64_t>(comm, n);
  KMeansCache cache;  // the grid integers and the kd-tree, built once for every fit below
  const KMeansData data{seg.features, keys, first_row, seg.scale.grid_exponent, &cache};
  Fitter fit(comm, config, data, checkpoints, seg);
  int k = config.k;
  bool have_final = false;
  if (config.k_max > 0) {
    have_final = sweep_k(config, fit, seg);
    k = seg.sweep.chosen_k;
  }
  std::vector<double> warm;
  if (previous != nullptr) {
    if (k == previous->model.k)
      warm = warm_start_centroids(comm, stage, *previous, seg);
    else
      seg.warm_start = "not tried: k = " + std::to_string(k) + " tonight, " + std::to_string(previous->model.k) +
                       " in the previous result";
  }
  if (!have_final) {
    SavedFit done = fit(k, seg.labels, true, warm);
    seg.model = std::move(done.model);
    seg.metrics = done.metrics;
    if (!warm.empty())
      seg.warm_start = config.n_init == 0                   ? "used alone (--n-init 0)"
                       : seg.model.restart == config.n_init ? "won: lower inertia than the fresh restarts"
                                                            : "lost: a fresh restart reached a lower or equal inertia";
  } else if (!warm.empty()) {  // the sweep's fit of the chosen k against the warm start alone
    std::vector<std::int32_t> labels;
    SavedFit done = fit(k, labels, false, warm, false);
    if (done.model.inertia < seg.model.inertia) {
      done.model.restart = config.n_init;
      done.model.total_iterations += seg.model.total_iterations;
      seg.model = std::move(done.model);
      seg.labels = std::move(labels);
      seg.metrics = fit.metrics(k, seg.labels);
      seg.warm_start = "won: lower inertia than the sweep's fresh restarts";
    } else {
      seg.model.total_iterations += done.model.total_iterations;
      seg.warm_start = "lost: the sweep's fresh restarts reached a lower or equal inertia";
    }
  }
  times.lap("kmeans");

  order_clusters(comm, config, customers, k, previous, seg);
  times.lap("evaluate");

  // ---- segment: RFM quintile scores and the 8 classic segments (independent of K-means)
  ScoreConfig score_config;
  score_config.reference = config.segment_median ? SegmentReference::median : SegmentReference::mean;
  score_config.high_value_top_percent = config.high_value_top_percent;
  score_config.high_value_threshold = config.high_value_threshold;
  seg.scores = score_customers(comm, customers, score_config);
  seg.segments = segment_table(comm, customers, seg.scores.segment);
  times.lap("segment");
  return seg;
}

}  // namespace rfmseg
