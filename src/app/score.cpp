#include "rfmseg/app/score.hpp"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <optional>

#include "rfmseg/app/pipeline.hpp"
#include "rfmseg/app/report.hpp"
#include "rfmseg/app/result_writer.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/io/output.hpp"
#include "rfmseg/io/output_guard.hpp"
#include "rfmseg/io/rejects.hpp"
#include "rfmseg/model/evaluate.hpp"
#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/parallel/reduce.hpp"

namespace rfmseg {

Segmentation score_with_model(const mpi::Comm& comm, const SavedModel& model, const CustomerStage& stage,
                              PhaseTimes& times) {
  Segmentation seg;
  const CustomerTable& customers = stage.customers;
  const std::size_t n = customers.size();
  const auto k = static_cast<std::size_t>(model.k);

  // ---- transform and scale with the model's parameters, onto the model's grid
  const Features raw = rfm_columns(customers);
  const double total = static_cast<double>(stage.total_customers);
  seg.transforms = model.transforms;
  seg.features.resize(n);
  for (std::size_t d = 0; d < feature_count; ++d) {
    seg.overall_mean[d] = global_sum(comm, raw.column[d]) / total;
    apply_transform(seg.transforms[d], raw.column[d], seg.features.column[d]);
  }
  bool finite = true;
  for (const auto& column : seg.features.column)
    for (double v : column) finite = finite && std::isfinite(v);
  if (!mpi::all_of(comm, finite))
    throw AgreedError("model file '" + model.path +
                          "': its transforms give a non-finite value (NaN or infinity) for some customer of this input "
                          "(a value outside what the model was fitted on, e.g. below the Box-Cox shift)",
                      1);
  times.lap("transform");
  seg.scale = model.scale;
  apply_scaler(seg.scale, seg.features);
  snap_to_grid(seg.features, seg.scale.grid_exponent);
  times.lap("scale");

  // ---- nearest centroid, in the fit's cluster order (a tie goes to the lower fit index, as in
  // the fit), then renumbered into the model's order
  std::vector<double> fit_centroids(k * feature_count);
  std::vector<std::int32_t> final_index(k);
  for (std::size_t i = 0; i < k; ++i) {
    const auto f = static_cast<std::size_t>(model.fit_index[i]);
    for (std::size_t d = 0; d < feature_count; ++d)
      fit_centroids[f * feature_count + d] = model.centroids[i * feature_count + d];
    final_index[f] = static_cast<std::int32_t>(i);
  }
  seg.labels.resize(n);
  std::vector<double> distances(n);
  assign_nearest(seg.features, fit_centroids, model.k, seg.labels, distances);
  for (auto& label : seg.labels) label = final_index[static_cast<std::size_t>(label)];
  seg.model.k = model.k;
  seg.model.centroids = model.centroids;
  seg.model.init_centroids = model.init_centroids;
  seg.model.sizes.assign(k, 0);
  for (const auto label : seg.labels) ++seg.model.sizes[static_cast<std::size_t>(label)];
  mpi::allreduce_inplace(comm, std::span<std::int64_t>(seg.model.sizes), mpi::Op::sum);
  seg.model.inertia = inertia_of(comm, distances);
  seg.model.n_iter = static_cast<int>(model.n_iter);
  seg.model.converged = model.converged;
  seg.model.restart = static_cast<int>(model.restart);
  seg.fit_index = model.fit_index;
  seg.metrics =
      ClusterMetrics{model.calinski_harabasz, model.davies_bouldin, model.silhouette, model.silhouette_sample};
  seg.distance_evaluations = seg.lloyd_distance_evaluations = stage.total_customers * k;
  times.lap("assign");

  // ---- the profile of these customers per cluster; the model's labels
  seg.profile = profile_clusters(comm, customers, seg.labels, model.k);
  seg.cluster_labels = model.cluster_labels;
  seg.cluster_ids = model.cluster_ids;
  seg.cluster_id_rule = "frozen from the model (--model)";
  times.lap("evaluate");

  // ---- scores and segments under the model's parameters
  seg.scores = score_customers_frozen(comm, customers, model.score_cut_points, model.segment_reference,
                                      model.high_value_threshold);
  seg.segments = segment_table(comm, customers, seg.scores.segment);
  times.lap("segment");
  return seg;
}

namespace {

// Rank 0 (agreed): the output is not the model file, by name or by identity (a link to it).
void refuse_output_over_model(const mpi::Comm& comm, const std::string& output, const std::string& model) {
  std::string problem;
  if (comm.is_root()) {
    struct stat a {
    }, b{};
    const bool same = output == model || (::stat(output.c_str(), &a) == 0 && ::stat(model.c_str(), &b) == 0 &&
                                          a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    if (same)
      problem = "--output '" + output + "' is the model file '" + model +
                "': score never writes over its model (give another --output)";
  }
  mpi::broadcast(comm, problem);
  if (!problem.empty()) throw AgreedError(problem, 1);
}

}  // namespace

int run_score(const mpi::Comm& comm, const RunConfig& config, const SavedModel& model) {
  PhaseTimes times(comm);
  refuse_output_over_model(comm, config.output, model.path);
  // Data safety as in the main command; the model is one more file never to be replaced.
  const OutputLock output_lock(comm, config.output);
  const OutputRules output_rules = check_output(comm, config, output_lock, model.path);
  std::optional<RejectsFile> rejects;
  if (!config.rejects.empty()) rejects.emplace(comm, config.rejects, output_rules, config.output);

  const CustomerStage stage = build_customer_table(comm, config, times, rejects ? &*rejects : nullptr);
  RunFacts facts = run_facts(comm, stage);
  facts.mode = "score";
  facts.model_file = model.path;
  facts.model_snapshot_date = model.snapshot_date;
  facts.model_version = model.version;
  if (stage.total_customers == 0) throw AgreedError("no customers to score in the input", 1);

  const Segmentation seg = score_with_model(comm, model, stage, times);
  {
    ResultFile result(comm, config.output, output_rules, result_data_bytes(comm, stage.customers));
    result.write([&] {
      write_customers(result, comm, stage.customers);
      write_model(result, comm, seg);
      times.lap("output");
      times.reduce(comm);
      write_run_record(result, comm, config, stage, seg, times, facts);
    });
    result.commit();
  }
  if (rejects) rejects->commit();
  if (comm.is_root() && !config.quiet) {
    std::printf("scored with model %s (snapshot %s, rfmseg %s): clusters, scores and segments frozen from it\n",
                model.path.c_str(), model.snapshot_date.c_str(), model.version.c_str());
    print_report(comm.size(), config, stage, seg, times, facts, rejects ? rejects->path() : std::string());
  }
  return 0;
}

}  // namespace rfmseg
