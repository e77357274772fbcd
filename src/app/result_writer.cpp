#include "rfmseg/app/result_writer.hpp"
#include "rfmseg/core/pseudonym.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <vector>

#include "rfmseg/core/names.hpp"
#include "rfmseg/io/h5.hpp"
#include "rfmseg/io/input_plan.hpp"
#include "rfmseg/io/result_format.hpp"
#include "rfmseg/model/kmeans/steps.hpp"
#include "rfmseg/model/migration.hpp"
#include "rfmseg/model/segment.hpp"
#include "rfmseg/model/transform.hpp"
#include "rfmseg/version.hpp"

namespace rfmseg {

namespace {

namespace format = result_format;

// Writes go through the format's descriptions: the element type and the extent are checked at
// compile time, the row count at run time against the shape the caller states.
template <const format::Dataset& D, class T>
void put_rows(const ResultFile& result, std::span<const T> local, const h5::Rows& rows) {
  static_assert(D.type == format::type_of<T>(), "element type differs from the result format");
  static_assert(D.rows == format::Extent::customers, "not a per-customer dataset");
  h5::write_rows<T>(result.file(), std::string(D.path), local, rows, D.columns == 0 ? 1 : D.columns);
}

template <const format::Dataset& D>
void put_strings(const ResultFile& result, const std::vector<std::string>& local, const h5::Rows& rows,
                 std::uint64_t width) {
  static_assert(D.type == format::Type::string && D.rows == format::Extent::customers);
  h5::write_strings(result.file(), std::string(D.path), local, rows, width);
}

/// A replicated table; `rows` is k or m for those extents (ignored for fixed ones).
template <const format::Dataset& D, class T>
void put(const ResultFile& result, std::span<const T> values, std::uint64_t rows = 0) {
  static_assert(D.type == format::type_of<T>(), "element type differs from the result format");
  static_assert(D.rows != format::Extent::customers && D.rows != format::Extent::scalar);
  if constexpr (D.rows == format::Extent::fixed) rows = D.fixed_rows;
  std::vector<std::uint64_t> shape{rows};
  if (D.columns != 0) shape.push_back(D.columns);
  if (values.size() != rows * (D.columns == 0 ? 1 : D.columns))
    throw std::logic_error(std::string(D.path) + ": " + std::to_string(values.size()) + " values for shape " +
                           format::shape_text(D));
  h5::write_replicated<T>(result.file(), std::string(D.path), values, std::move(shape));
}

template <const format::Dataset& D, class T>
void put_scalar(const ResultFile& result, T value) {
  static_assert(D.type == format::type_of<T>() && D.rows == format::Extent::scalar);
  h5::write_scalar<T>(result.file(), std::string(D.path), value);
}

template <const format::Dataset& D>
void put_strings(const ResultFile& result, const std::vector<std::string>& values) {
  static_assert(D.type == format::Type::string && D.rows != format::Extent::customers);
  h5::write_strings_replicated(result.file(), std::string(D.path), values);
}

template <class T>
std::span<const T> view(const std::vector<T>& v) {
  return {v.data(), v.size()};
}

std::uint64_t id_width(const mpi::Comm& comm, const CustomerTable& table) {
  std::uint64_t width = 1;
  for (const auto& id : table.id) width = std::max<std::uint64_t>(width, id.size());
  return mpi::allreduce(comm, width, mpi::Op::max);
}

// [k][3] from per-feature columns [3][k].
std::vector<double> by_cluster(const std::array<std::vector<double>, feature_count>& columns, std::size_t k) {
  std::vector<double> values(k * feature_count);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t d = 0; d < feature_count; ++d) values[c * feature_count + d] = columns[d][c];
  return values;
}

void write_customer_model_columns(const ResultFile& result, const mpi::Comm& comm, const Segmentation& seg) {
  const auto rows = h5::Rows::distributed(comm, seg.features.size());
  put_rows<format::features>(result, view(seg.features.row_major()), rows);
  put_rows<format::cluster>(result, view(seg.labels), rows);
  put_rows<format::r_score>(result, view(seg.scores.r_score), rows);
  put_rows<format::f_score>(result, view(seg.scores.f_score), rows);
  put_rows<format::m_score>(result, view(seg.scores.m_score), rows);
  const std::vector<std::int32_t> rfm_sum(seg.scores.rfm_sum.begin(), seg.scores.rfm_sum.end());
  const std::vector<std::int32_t> rfm_code(seg.scores.rfm_code.begin(), seg.scores.rfm_code.end());
  put_rows<format::rfm_sum>(result, view(rfm_sum), rows);
  put_rows<format::rfm_code>(result, view(rfm_code), rows);
  put_rows<format::segment>(result, view(seg.scores.segment), rows);
  put_rows<format::high_value>(result, view(seg.scores.high_value), rows);
}

void write_segments(const ResultFile& result, const Segmentation& seg) {
  const auto& names = classic_segment_names();
  put_strings<format::segment_name>(result, std::vector<std::string>(names.begin(), names.end()));
  put<format::segment_customers>(result, view(seg.segments.count));
  put<format::segment_share>(result, view(seg.segments.share));
  put<format::segment_mean_recency>(result, view(seg.segments.mean_recency));
  put<format::segment_mean_frequency>(result, view(seg.segments.mean_frequency));
  put<format::segment_mean_monetary>(result, view(seg.segments.mean_monetary));
  put<format::segment_revenue_share>(result, view(seg.segments.revenue_share));
  std::vector<double> cut_points;
  for (const auto& feature : seg.scores.cut_points) cut_points.insert(cut_points.end(), feature.begin(), feature.end());
  put<format::score_cut_points>(result, view(cut_points));
  put<format::segment_reference>(result, std::span<const double>(seg.scores.reference));
  put_scalar<format::high_value_threshold>(result, seg.scores.high_value_threshold);
}

void write_clusters(const ResultFile& result, const Segmentation& seg) {
  const auto k = static_cast<std::uint64_t>(seg.model.k);
  const h5::Group model = result.group("model");
  put_scalar<format::model_k>(result, static_cast<std::int64_t>(seg.model.k));
  put<format::centroids>(result, view(seg.model.centroids), k);
  put<format::fit_index>(result, view(seg.fit_index), k);
  put<format::init_centroids>(result, view(seg.model.init_centroids), k);
  put<format::centroids_rfm>(result, view(by_cluster(seg.profile.mean, k)), k);
  put<format::cluster_size>(result, view(seg.model.sizes), k);
  put_strings<format::cluster_label>(result, seg.cluster_labels);
  put<format::cluster_id>(result, view(seg.cluster_ids), k);
  h5::write_attribute(model, "cluster_ids", seg.cluster_id_rule);
  put_scalar<format::inertia>(result, seg.model.inertia);
  put_scalar<format::n_iter>(result, static_cast<std::int64_t>(seg.model.n_iter));
  put_scalar<format::converged>(result, static_cast<std::int8_t>(seg.model.converged ? 1 : 0));
  put_scalar<format::restart>(result, static_cast<std::int64_t>(seg.model.restart));
  put_scalar<format::silhouette>(result, seg.metrics.silhouette);
  put_scalar<format::calinski_harabasz>(result, seg.metrics.calinski_harabasz);
  put_scalar<format::davies_bouldin>(result, seg.metrics.davies_bouldin);
  put_scalar<format::silhouette_sample>(result, static_cast<std::int64_t>(seg.metrics.silhouette_sample));
}

void write_selection(const ResultFile& result, const Sweep& sweep) {
  if (sweep.k.empty()) return;
  const h5::Group selection = result.group("selection");
  const std::uint64_t m = sweep.k.size();
  const std::vector<std::int64_t> ks(sweep.k.begin(), sweep.k.end());
  put<format::selection_k>(result, view(ks), m);
  put<format::selection_sse>(result, view(sweep.sse), m);
  put<format::selection_silhouette>(result, view(sweep.silhouette), m);
  put<format::selection_calinski_harabasz>(result, view(sweep.calinski_harabasz), m);
  put<format::selection_davies_bouldin>(result, view(sweep.davies_bouldin), m);
  put<format::selection_n_iter>(result, view(sweep.n_iter), m);
  h5::write_attribute(selection, "rule", sweep.rule);
  h5::write_attribute(selection, "chosen_k", static_cast<std::int64_t>(sweep.chosen_k));
}

void write_profile(const ResultFile& result, const Segmentation& seg) {
  const auto k = static_cast<std::uint64_t>(seg.model.k);
  (void)result.group("model/profile");
  put<format::profile_share>(result, view(seg.profile.share), k);
  put<format::profile_revenue_share>(result, view(seg.profile.revenue_share), k);
  put<format::profile_mean>(result, view(by_cluster(seg.profile.mean, k)), k);
  put<format::profile_std>(result, view(by_cluster(seg.profile.std, k)), k);
  put<format::profile_min>(result, view(by_cluster(seg.profile.min, k)), k);
  put<format::profile_max>(result, view(by_cluster(seg.profile.max, k)), k);
}

// Everything needed to score a new customer: x -> transform(x + shift) -> (x - center) / scale.
void write_transform(const ResultFile& result, const Segmentation& seg) {
  const h5::Group transform = result.group("model/transform");
  static constexpr const char* names[] = {"recency", "frequency", "monetary"};
  std::vector<double> lambda, shift;
  std::string kinds;
  for (std::size_t d = 0; d < feature_count; ++d) {
    lambda.push_back(seg.transforms[d].lambda);
    shift.push_back(seg.transforms[d].shift);
    kinds += std::string(d ? "," : "") + transform_name(seg.transforms[d].kind);
    h5::write_attribute(transform, std::string("kind_") + names[d],
                        std::string(transform_name(seg.transforms[d].kind)));
  }
  put<format::transform_lambda>(result, view(lambda));
  put<format::transform_shift>(result, view(shift));
  put<format::transform_center>(result, std::span<const double>(seg.scale.center));
  put<format::transform_scale>(result, std::span<const double>(seg.scale.scale));
  h5::write_attribute(transform, "kinds", kinds);
  h5::write_attribute(transform, "scaler", std::string(name_of(seg.scale.kind)));
  h5::write_attribute(transform, "grid_exponent", static_cast<std::int64_t>(seg.scale.grid_exponent));
  h5::write_attribute(transform, "features", std::string("recency,frequency,monetary"));
}

/// A [rows, cols] table whose extents both vary (the migration table).
template <const format::Dataset& D, class T>
void put_table(const ResultFile& result, std::span<const T> values, std::uint64_t rows, std::uint64_t cols) {
  static_assert(D.type == format::type_of<T>(), "element type differs from the result format");
  static_assert(D.rows != format::Extent::customers && D.rows != format::Extent::scalar &&
                D.column_extent != format::Extent::fixed);
  if (values.size() != rows * cols)
    throw std::logic_error(std::string(D.path) + ": " + std::to_string(values.size()) + " values for shape " +
                           format::shape_text(D));
  h5::write_replicated<T>(result.file(), std::string(D.path), values, {rows, cols});
}

// [rows][3] from an array of per-feature rows.
template <std::size_t Rows>
std::vector<double> flat(const std::array<std::array<double, feature_count>, Rows>& rows) {
  std::vector<double> out;
  for (const auto& row : rows) out.insert(out.end(), row.begin(), row.end());
  return out;
}

// [bins][3] from per-feature columns [3][bins].
template <std::size_t Bins, class T>
std::vector<double> by_bin(const std::array<std::array<T, Bins>, feature_count>& columns, bool shares) {
  std::vector<double> out(Bins * feature_count);
  for (std::size_t d = 0; d < feature_count; ++d) {
    double total = 0;
    for (auto v : columns[d]) total += static_cast<double>(v);
    for (std::size_t b = 0; b < Bins; ++b)
      out[b * feature_count + d] =
          shares ? static_cast<double>(columns[d][b]) / total : static_cast<double>(columns[d][b]);
  }
  return out;
}

}  // namespace

std::uint64_t result_data_bytes(const mpi::Comm& comm, const CustomerTable& table) {
  // Per customer: id, recency 4, frequency 8, monetary 8, flag 1, features 24, cluster 4,
  // scores 3, rfm_sum and rfm_code 8, segment 1, high_value 1.
  const std::uint64_t n = mpi::allreduce(comm, static_cast<std::uint64_t>(table.size()), mpi::Op::sum);
  return n * (id_width(comm, table) + 62);
}

void write_customers(const ResultFile& result, const mpi::Comm& comm, const CustomerTable& table) {
  const auto rows = h5::Rows::distributed(comm, table.size());
  (void)result.group("customers");
  put_strings<format::customer_id>(result, table.id, rows, id_width(comm, table));
  put_rows<format::recency>(result, view(table.recency), rows);
  put_rows<format::frequency>(result, view(table.frequency), rows);
  put_rows<format::monetary>(result, view(table.monetary), rows);
  std::vector<std::int8_t> nonpositive(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) nonpositive[i] = table.monetary_micros[i] <= 0 ? 1 : 0;
  put_rows<format::nonpositive_monetary>(result, view(nonpositive), rows);
}

void write_model(const ResultFile& result, const mpi::Comm& comm, const Segmentation& seg) {
  write_customer_model_columns(result, comm, seg);
  (void)result.group("segments");
  write_segments(result, seg);
  write_clusters(result, seg);
  write_selection(result, seg.sweep);
  write_profile(result, seg);
  write_transform(result, seg);
}

RunFacts run_facts(const mpi::Comm& comm, const CustomerStage& stage) {
  RunFacts facts;
  for (const auto& bad : stage.bad_lines) facts.bad_line_text += describe_bad_line(bad, stage.plan) + "\n";
  // README "RFM": kept in the table and flagged (/customers/nonpositive_monetary).
  for (const auto& micros : stage.customers.monetary_micros) facts.nonpositive_monetary += micros <= 0 ? 1 : 0;
  facts.nonpositive_monetary = mpi::allreduce(comm, facts.nonpositive_monetary, mpi::Op::sum);
  // Each rank chose its kernels from its own CPU; agreed here (an attribute must be equal on all).
  const int avx2 = kmeans::kernel_path() == "avx2" ? 1 : 0;
  const int all_avx2 = mpi::allreduce(comm, avx2, mpi::Op::min), any_avx2 = mpi::allreduce(comm, avx2, mpi::Op::max);
  facts.kmeans_kernels = all_avx2 != 0 ? "avx2" : any_avx2 != 0 ? "avx2,portable" : "portable";
  // What each rank found about its host before MPI_Init: rank 0's words, and on how many ranks
  // rfmseg set the yield if not on all or none.
  const mpi::YieldChoice& yield = mpi::Environment::yield_when_idle();
  const int ranks_set = mpi::allreduce(comm, yield.set ? 1 : 0, mpi::Op::sum);
  facts.mpi_yield_when_idle = yield.text;
  mpi::broadcast(comm, facts.mpi_yield_when_idle);
  facts.yield_set = yield.set;  // read by the report, which rank 0 prints
  if (ranks_set != 0 && ranks_set != comm.size())
    facts.mpi_yield_when_idle +=
        " (set on " + std::to_string(ranks_set) + " of " + std::to_string(comm.size()) + " ranks)";
  return facts;
}

void write_run_record(const ResultFile& result, const mpi::Comm& comm, const RunConfig& config,
                      const CustomerStage& stage, const Segmentation& seg, const PhaseTimes& times,
                      const RunFacts& facts) {
  const h5::Group run = result.group("run");
  const auto put_int = [&](const char* name, auto value) {
    h5::write_attribute(run, name, static_cast<std::int64_t>(value));
  };
  h5::write_attribute(run, "version", std::string(version_string));
  h5::write_attribute(run, "git_commit", std::string(git_commit));
  h5::write_attribute(run, "configuration", config.resolved);
  h5::write_attribute(run, "mode", facts.mode);
  if (facts.mode == "score") {
    h5::write_attribute(run, "model_file", facts.model_file);
    h5::write_attribute(run, "model_snapshot_date", facts.model_snapshot_date);
    h5::write_attribute(run, "model_version", facts.model_version);
  }
  put_int("ranks", comm.size());
  h5::write_attribute(run, "snapshot_date", format_day(stage.snapshot));
  put_int("window_days", config.rfm.window_days);
  std::string inputs, formats;
  for (const auto& file : stage.plan.files) {
    inputs += (inputs.empty() ? "" : "\n") + file.path;
    formats += (formats.empty() ? "" : "\n") + file.layout.format_name;
  }
  h5::write_attribute(run, "input_files", inputs);
  h5::write_attribute(run, "input_formats", formats);
  h5::write_attribute(run, "frequency", std::string(name_of(stage.frequency)));
  h5::write_attribute(run, "cancellations", std::string(name_of(config.rfm.cancellations)));
  h5::write_attribute(run, "duplicates", stage.duplicates);
  h5::write_attribute(run, "date_order", stage.date_order);
  put_int("customers", stage.total_customers);
  put_int("count_nonpositive_monetary_customers", facts.nonpositive_monetary);
  put_int("k", seg.model.k);
  put_int("silhouette_sample", seg.metrics.silhouette_sample);  // used; 0 = exact
  put_int("n_init", config.model.n_init);
  put_int("max_iter", config.model.max_iter);
  h5::write_attribute(run, "tol", config.model.tol);
  put_int("seed", config.model.seed);
  put_int("kmeans_iterations_total", seg.model.total_iterations);
  h5::write_attribute(run, "kmeans_algorithm", std::string(name_of(config.model.algorithm)));
  put_int("kmeans_distance_evaluations", seg.distance_evaluations);
  put_int("kmeans_lloyd_distance_evaluations", seg.lloyd_distance_evaluations);
  h5::write_attribute(run, "kmeans_kernels", facts.kmeans_kernels);
  h5::write_attribute(run, "mpi_yield_when_idle", facts.mpi_yield_when_idle);
  put_int("count_lines", stage.counters.lines);
  put_int("count_blank_lines", stage.counters.blank_lines);
  for (std::size_t f = 0; f < fate_count; ++f)
    h5::write_attribute(run, std::string("count_") + fate_name(static_cast<Fate>(f)), stage.counters.fates[f]);
  h5::write_attribute(run, "bad_line_examples", facts.bad_line_text);
  h5::write_attribute(run, "rejects_file", config.rejects);
  put_int("bytes_read", stage.bytes_read);
  put_int("bytes_shuffled", stage.bytes_shuffled);
  put_int("shuffle_rounds", stage.shuffle_rounds);
  put_int("max_memory_per_rank", stage.memory_budget_per_rank);
  for (const auto& [name, seconds] : times.phases()) h5::write_attribute(run, "time_" + name, seconds);
  h5::write_attribute(run, "time_total", times.total());
  h5::write_attribute(run, "resumed", facts.resumed);
  h5::write_attribute(run, "pseudonymization",
                      std::string(config.input.pseudonym_key.empty() ? "none" : pseudonym_method));
  h5::write_attribute(run, "pseudonymization_key_id", config.input.pseudonym_key_id);
}

}  // namespace rfmseg

namespace rfmseg {

void write_comparison(const ResultFile& result, const mpi::Comm& comm, const PreviousResult& previous,
                      const Comparison& comparison, const Segmentation& seg) {
  const SavedModel& model = previous.model;
  const auto rows = h5::Rows::distributed(comm, previous.cluster.size());
  put_rows<format::previous_cluster>(result, view(previous.cluster), rows);
  put_rows<format::previous_segment>(result, view(previous.segment), rows);

  const h5::Group migration = result.group("migration");
  const auto kp = static_cast<std::uint64_t>(comparison.k_prev), k = static_cast<std::uint64_t>(comparison.k);
  put_table<format::migration_clusters>(result, view(comparison.clusters), kp + 1, k + 1);
  put_table<format::migration_clusters_revenue>(result, view(comparison.clusters_revenue), kp + 1, k + 1);
  put<format::migration_segments>(result, view(comparison.segments));
  put<format::migration_segments_revenue>(result, view(comparison.segments_revenue));
  put<format::migration_previous_cluster_id>(result, view(model.cluster_ids), kp);
  put_strings<format::migration_previous_cluster_label>(result, model.cluster_labels);
  std::vector<std::string> fates;
  std::vector<std::int32_t> targets;
  for (const auto& fate : comparison.fates) {
    fates.emplace_back(fate_name(fate.fate));
    targets.push_back(fate.target);
  }
  put_strings<format::migration_fate>(result, fates);
  put<format::migration_fate_cluster>(result, view(targets), kp);
  h5::write_attribute(migration, "previous_file", model.path);
  h5::write_attribute(migration, "previous_snapshot", model.snapshot_date);
  h5::write_attribute(migration, "previous_k", static_cast<std::int64_t>(comparison.k_prev));
  h5::write_attribute(migration, "stayed", comparison.stayed);
  h5::write_attribute(migration, "new", comparison.added);
  h5::write_attribute(migration, "gone", comparison.gone);
  h5::write_attribute(migration, "changed_cluster", comparison.changed_cluster);
  h5::write_attribute(migration, "changed_segment", comparison.changed_segment);
  h5::write_attribute(migration, "ari", comparison.ari);
  h5::write_attribute(migration, "warm_start", comparison.warm_start);

  (void)result.group("drift");
  put<format::drift_psi>(result, std::span<const double>(comparison.psi));
  std::array<std::array<double, psi_bins - 1>, feature_count> edges = previous.decile_edges;
  put<format::drift_decile_edges>(result, view(by_bin(edges, false)));
  put<format::drift_previous_share>(result, view(by_bin(previous.bin_counts, true)));
  put<format::drift_share>(result, view(by_bin(comparison.bin_counts, true)));
  put<format::drift_previous_mean>(result, std::span<const double>(previous.mean));
  put<format::drift_mean>(result, std::span<const double>(seg.overall_mean));
  put<format::drift_previous_parameters>(result, view(flat(drift_parameters(model.transforms, model.scale))));
  put<format::drift_parameters>(result, view(flat(drift_parameters(seg.transforms, seg.scale))));
  put<format::drift_previous_cluster_size>(result, view(model.cluster_size), kp);
}

}  // namespace rfmseg
