#include "rfmseg/app/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <sstream>
#include <utility>

#include "rfmseg/io/checkpoint.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/progress.hpp"
#include "rfmseg/parallel/stop.hpp"
#include "rfmseg/parallel/watchdog.hpp"
#include "rfmseg/parallel/reduce.hpp"
#include "rfmseg/model/segment.hpp"
#include "rfmseg/model/selection.hpp"
#include "rfmseg/io/h5.hpp"
#include "rfmseg/io/ingest.hpp"
#include "rfmseg/io/output.hpp"
#include "rfmseg/parallel/partition.hpp"
#include "rfmseg/io/rejects.hpp"
#include "rfmseg/model/rfm.hpp"
#include "rfmseg/parallel/sort.hpp"
#include "rfmseg/version.hpp"

namespace rfmseg {

namespace {
// Which phase follows a finished one, so the watchdog can name the one running (string literals).
constexpr std::pair<const char*, const char*> next_phase[] = {
    {"ingest", "rfm"},         {"rfm", "sort"},         {"sort", "transform"}, {"load_checkpoint", "transform"},
    {"checkpoint", "transform"}, {"transform", "scale"}, {"scale", "kmeans"},   {"kmeans", "evaluate"},
    {"evaluate", "segment"},   {"segment", "output"},   {"output", "finish"}};
}  // namespace

PhaseTimes::PhaseTimes(const mpi::Comm& comm) : _comm(&comm), _last(MPI_Wtime()) {
  watchdog::set_phase("ingest");
  progress::phase_started("ingest");
}

void PhaseTimes::lap(const std::string& name) {
  const double now = MPI_Wtime();
  _phases.emplace_back(name, now - _last);
  _last = now;
  progress::phase_done(name.c_str(), _phases.back().second);
  for (const auto& [finished, next] : next_phase)
    if (name == finished) watchdog::set_phase(next);
  if (name != "output") stop::at_safe_point(*_comm, "the end of phase " + name);
  if (name != "output") progress::phase_started(watchdog::phase());
}

void PhaseTimes::reduce(const mpi::Comm& comm) {
  std::vector<double> seconds;
  for (const auto& phase : _phases) seconds.push_back(phase.second);
  seconds = mpi::allreduce(comm, std::move(seconds), mpi::Op::max);
  for (std::size_t i = 0; i < _phases.size(); ++i) _phases[i].second = seconds[i];
}

double PhaseTimes::total() const {
  double sum = 0;
  for (const auto& phase : _phases) sum += phase.second;
  return sum;
}

namespace {

const char* frequency_name(FrequencyMode mode) {
  switch (mode) {
    case FrequencyMode::automatic: return "auto";
    case FrequencyMode::invoices: return "invoices";
    case FrequencyMode::lines: return "lines";
    case FrequencyMode::days: return "days";
  }
  return "?";
}

std::string describe_bad_lines(const std::vector<BadLine>& bad, const InputPlan& plan) {
  std::string text;
  for (const auto& b : bad) text += describe_bad_line(b, plan) + "\n";
  return text;
}

}  // namespace

Segmentation segment_customers(const mpi::Comm& comm, const ModelConfig& config, const CustomerStage& stage,
                               PhaseTimes& times, Checkpoints* checkpoints) {
  Segmentation seg;
  const CustomerTable& customers = stage.customers;
  const std::size_t n = customers.size();
  const double total = static_cast<double>(stage.total_customers);

  // ---- transform
  const Features raw = rfm_columns(customers);
  seg.features.resize(n);
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
  times.lap("transform");

  // ---- scale
  seg.scale = fit_scaler(comm, seg.features, config.scaler, seg.warnings);
  apply_scaler(seg.scale, seg.features);
  seg.scale.grid_exponent = snap_to_grid(comm, seg.features);
  times.lap("scale");

  // ---- kmeans
  std::vector<std::uint64_t> keys(n);
  for (std::size_t i = 0; i < n; ++i) keys[i] = hash_bytes(customers.id[i]);
  const std::uint64_t first_row = mpi::exscan_sum<std::uint64_t>(comm, n);
  const KMeansData data{seg.features, keys, first_row, seg.scale.grid_exponent};
  KMeansOptions options{config.k, config.init, config.n_init, config.max_iter, config.tol, config.seed, checkpoints,
                        config.algorithm};
  // One fit with its metrics; a finished fit saved by an interrupted run is taken from its checkpoint.
  const auto fit = [&](std::vector<std::int32_t>& labels) {
    std::optional<SavedFit> saved;
    if (checkpoints != nullptr) saved = checkpoints->load_fit(options);
    if (saved) {
      labels.resize(n);
      std::vector<double> distances(n);
      assign_nearest(seg.features, saved->model.centroids, options.k, labels, distances);
      return *saved;
    }
    SavedFit done;
    done.model = fit_kmeans(comm, data, options, labels);
    seg.distance_evaluations += done.model.distance_evaluations;
    seg.lloyd_distance_evaluations += done.model.lloyd_distance_evaluations;
    done.metrics = cluster_metrics(comm, seg.features, labels, options.k, keys, config.silhouette_sample, config.seed);
    if (checkpoints != nullptr) checkpoints->save_fit(options, done);
    return done;
  };
  bool have_final = false;
  if (config.k_max > 0) {
    // Elbow sweep: every k on the in-memory features, no re-reading.
    std::vector<std::vector<std::int32_t>> sweep_labels;
    std::vector<KMeansModel> sweep_models;
    std::vector<ClusterMetrics> sweep_metrics;
    for (int k = config.k_min; k <= config.k_max; ++k) {
      options.k = k;
      std::vector<std::int32_t> labels;
      SavedFit done;
      try {
        done = fit(labels);
      } catch (const stop::Stopped&) {
        throw;
      } catch (const AgreedError& error) {  // e.g. fewer distinct customers than this k
        throw AgreedError("--k-range " + std::to_string(config.k_min) + ".." + std::to_string(config.k_max) + ": " +
                              error.what(),
                          error.exit_code());
      }
      sweep_models.push_back(std::move(done.model));
      sweep_metrics.push_back(done.metrics);
      const auto& model = sweep_models.back();
      const auto& metrics = sweep_metrics.back();
      seg.sweep.k.push_back(k);
      seg.sweep.sse.push_back(model.inertia);
      seg.sweep.n_iter.push_back(model.n_iter);
      seg.sweep.silhouette.push_back(metrics.silhouette);
      seg.sweep.calinski_harabasz.push_back(metrics.calinski_harabasz);
      seg.sweep.davies_bouldin.push_back(metrics.davies_bouldin);
      sweep_labels.push_back(std::move(labels));
    }
    switch (config.k_select) {
      case KSelect::elbow: seg.sweep.chosen_k = kneedle_elbow(seg.sweep.k, seg.sweep.sse); seg.sweep.rule = "elbow"; break;
      case KSelect::silhouette:
        seg.sweep.chosen_k = best_silhouette(seg.sweep.k, seg.sweep.silhouette);
        seg.sweep.rule = "silhouette";
        break;
      case KSelect::none: seg.sweep.chosen_k = config.k; seg.sweep.rule = "fixed"; break;
    }
    if (seg.sweep.chosen_k >= config.k_min && seg.sweep.chosen_k <= config.k_max) {
      const auto i = static_cast<std::size_t>(seg.sweep.chosen_k - config.k_min);
      seg.model = std::move(sweep_models[i]);
      seg.labels = std::move(sweep_labels[i]);
      seg.metrics = sweep_metrics[i];
      have_final = true;
    }
    options.k = seg.sweep.chosen_k;
  }
  if (!have_final) {
    SavedFit done = fit(seg.labels);
    seg.model = std::move(done.model);
    seg.metrics = done.metrics;
  }
  const int k = options.k;
  times.lap("kmeans");

  // ---- evaluate + segment: stable cluster order, profile, labels
  const auto fitted = profile_clusters(comm, customers, seg.labels, k);
  const auto order = order_by_monetary(fitted);
  std::vector<std::int32_t> new_index(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) new_index[static_cast<std::size_t>(order[i])] = static_cast<std::int32_t>(i);
  for (auto& label : seg.labels) label = new_index[static_cast<std::size_t>(label)];
  seg.model.centroids = reorder(seg.model.centroids, order, feature_count);
  seg.model.init_centroids = reorder(seg.model.init_centroids, order, feature_count);
  seg.model.sizes = reorder(seg.model.sizes, order);
  seg.profile = reorder(fitted, order);
  seg.cluster_labels = label_clusters(seg.profile, seg.overall_mean, config.cluster_names);
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

int run_pipeline(const mpi::Comm& comm, const RunConfig& config) {
  PhaseTimes times(comm);
  const bool talk = comm.is_root() && !config.quiet;
  // Data safety before any work: what may be replaced, and nobody else writing it.
  // The lock first: with it held, temporary files of dead runs are removed before the directory
  // is probed (a dead run's temporary file may be what filled the disk).
  OutputRules output_rules;
  output_rules.inputs = config.input.paths;
  output_rules.force = config.force;
  const OutputLock output_lock(comm, config.output);
  if (comm.is_root() && output_lock.held()) remove_stale_temporaries(config.output);
  check_output_path(comm, config.output, output_rules);
  std::optional<RejectsFile> rejects;
  if (!config.rejects.empty()) rejects.emplace(comm, config.rejects, output_rules, config.output);
  std::optional<Checkpoints> checkpoints;
  if (!config.reliability.checkpoint_dir.empty()) checkpoints.emplace(comm, config);
  CustomerStage stage;
  bool resumed = false;
  if (checkpoints && config.reliability.resume && rejects && talk)
    std::fprintf(stderr, "rfmseg: --rejects: reading the input again (checkpoints hold no rejected lines)\n");
  if (checkpoints && config.reliability.resume && !rejects) {
    collectively(comm, [&] { stage.plan = plan_inputs(comm, config.input); });
    checkpoints->set_fingerprint(stage.plan);
    resumed = checkpoints->load_customers(stage);
    if (resumed) times.lap("load_checkpoint");
  }
  if (!resumed) {
    stage = build_customer_table(comm, config, times, rejects ? &*rejects : nullptr);
    if (checkpoints) {
      checkpoints->set_fingerprint(stage.plan);
      checkpoints->save_customers(stage);
      times.lap("checkpoint");
    }
  }
  const auto& plan = stage.plan;
  const auto& customers = stage.customers;
  const auto& counters = stage.counters;
  const auto snapshot = stage.snapshot;
  const auto frequency = stage.frequency;
  const auto total_customers = stage.total_customers;
  const auto bytes_read = stage.bytes_read;
  const std::string bad_text = describe_bad_lines(stage.bad_lines, plan);
  if (stage.date_order_assumed && comm.is_root())
    std::fprintf(stderr,
                 "rfmseg: warning: no slash date in the input has a day or month field above 12, so their order cannot "
                 "be told from the data: read as month-first (M/D/Y); state it with --month-first, or --day-first "
                 "if the dates are D/M/Y\n");
  // README "RFM": kept in the table and flagged (/customers/nonpositive_monetary).
  std::int64_t nonpositive_monetary = 0;
  for (const auto& micros : customers.monetary_micros) nonpositive_monetary += micros <= 0 ? 1 : 0;
  nonpositive_monetary = mpi::allreduce(comm, nonpositive_monetary, mpi::Op::sum);
  const Segmentation seg =
      segment_customers(comm, config.model, stage, times, checkpoints ? &*checkpoints : nullptr);

  // ---- output
  {
    ResultFile result(comm, config.output, output_rules, result_data_bytes(comm, customers));
    result.write([&] {
    write_customers(result, comm, customers);
    write_model(result, comm, seg);
    times.lap("output");
    times.reduce(comm);
    {  // every object of the file is closed before commit()
      const h5::Group run = result.group("run");
      h5::write_attribute(run, "version", std::string(version_string));
      h5::write_attribute(run, "git_commit", std::string(git_commit));
      h5::write_attribute(run, "configuration", config.resolved);
      h5::write_attribute(run, "ranks", static_cast<std::int64_t>(comm.size()));
      h5::write_attribute(run, "snapshot_date", format_day(snapshot));
      std::string inputs, formats;
      for (const auto& file : plan.files) {
        inputs += (inputs.empty() ? "" : "\n") + file.path;
        formats += (formats.empty() ? "" : "\n") + file.layout.format_name;
      }
      h5::write_attribute(run, "input_files", inputs);
      h5::write_attribute(run, "input_formats", formats);
      h5::write_attribute(run, "frequency", std::string(frequency_name(frequency)));
      h5::write_attribute(run, "cancellations",
                          std::string(config.rfm.cancellations == CancellationPolicy::drop ? "drop" : "net"));
      h5::write_attribute(run, "duplicates", stage.duplicates);
      h5::write_attribute(run, "date_order", stage.date_order);
      h5::write_attribute(run, "customers", static_cast<std::int64_t>(total_customers));
      h5::write_attribute(run, "count_nonpositive_monetary_customers", nonpositive_monetary);
      h5::write_attribute(run, "k", static_cast<std::int64_t>(seg.model.k));
      h5::write_attribute(run, "silhouette_sample", seg.metrics.silhouette_sample);  // used; 0 = exact
      h5::write_attribute(run, "n_init", static_cast<std::int64_t>(config.model.n_init));
      h5::write_attribute(run, "max_iter", static_cast<std::int64_t>(config.model.max_iter));
      h5::write_attribute(run, "tol", config.model.tol);
      h5::write_attribute(run, "seed", static_cast<std::int64_t>(config.model.seed));
      h5::write_attribute(run, "kmeans_iterations_total", seg.model.total_iterations);
      h5::write_attribute(run, "kmeans_algorithm",
                          std::string(config.model.algorithm == KMeansAlgorithm::hamerly ? "hamerly"
                                      : config.model.algorithm == KMeansAlgorithm::lloyd ? "lloyd"
                                                                                         : "auto"));
      h5::write_attribute(run, "kmeans_distance_evaluations", static_cast<std::int64_t>(seg.distance_evaluations));
      h5::write_attribute(run, "kmeans_lloyd_distance_evaluations",
                          static_cast<std::int64_t>(seg.lloyd_distance_evaluations));
      h5::write_attribute(run, "count_lines", counters.lines);
      h5::write_attribute(run, "count_blank_lines", counters.blank_lines);
      for (std::size_t f = 0; f < fate_count; ++f)
        h5::write_attribute(run, std::string("count_") + fate_name(static_cast<Fate>(f)), counters.fates[f]);
      h5::write_attribute(run, "bad_line_examples", bad_text);
      h5::write_attribute(run, "rejects_file", config.rejects);
      h5::write_attribute(run, "bytes_read", static_cast<std::int64_t>(bytes_read));
      h5::write_attribute(run, "bytes_shuffled", static_cast<std::int64_t>(stage.bytes_shuffled));
      h5::write_attribute(run, "shuffle_rounds", static_cast<std::int64_t>(stage.shuffle_rounds));
      h5::write_attribute(run, "max_memory_per_rank", static_cast<std::int64_t>(stage.memory_budget_per_rank));
      for (const auto& [name, seconds] : times.phases()) h5::write_attribute(run, "time_" + name, seconds);
      h5::write_attribute(run, "time_total", times.total());
      h5::write_attribute(run, "resumed", checkpoints ? checkpoints->resumed() : std::string());
    }
    });
    result.commit();
  }
  if (rejects) rejects->commit();  // only once the result itself is in place
  if (checkpoints) checkpoints->remove_all();  // the result exists: nothing left to resume

  if (talk) {
    std::printf("rfmseg %s: %d ranks, %zu input file(s), %.1f MB\n", version_string, comm.size(), plan.files.size(),
                static_cast<double>(bytes_read) / 1e6);
    std::printf("%s\n", format_counters(counters).c_str());
    if (!bad_text.empty()) std::printf("first unusable lines:\n%s", bad_text.c_str());
    if (rejects)
      std::printf("rejects: %llu unusable line(s) in %s\n", static_cast<unsigned long long>(stage.rejected_rows),
                  rejects->path().c_str());
    std::printf("customers %llu, snapshot %s, frequency = %s, duplicates = %s\n",
                static_cast<unsigned long long>(total_customers), format_day(snapshot).c_str(),
                frequency_name(frequency), stage.duplicates.c_str());
    if (nonpositive_monetary != 0)
      std::printf("note: %lld customer%s with Monetary <= 0 (returns netted against purchases): kept, flagged in "
                  "/customers/nonpositive_monetary\n",
                  static_cast<long long>(nonpositive_monetary), nonpositive_monetary == 1 ? "" : "s");
    std::printf("time:");
    for (const auto& [name, seconds] : times.phases()) std::printf(" %s %.3fs", name.c_str(), seconds);
    std::printf(" | total %.3fs, %.1f MB/s\n", times.total(),
                static_cast<double>(bytes_read) / 1e6 / std::max(times.total(), 1e-9));
    for (const auto& warning : seg.warnings) std::printf("warning: %s\n", warning.c_str());
    std::printf("transforms:");
    static constexpr const char* names[] = {"R", "F", "M"};
    for (std::size_t d = 0; d < feature_count; ++d) {
      std::printf(" %s %s", names[d], transform_name(seg.transforms[d].kind));
      if (seg.transforms[d].kind == Transform::boxcox || seg.transforms[d].kind == Transform::yeojohnson)
        std::printf("(lambda %.4f)", seg.transforms[d].lambda);
      if (seg.transforms[d].shift != 0) std::printf("(shift %g)", seg.transforms[d].shift);
    }
    std::printf("\nk-means: k %d, inertia %.6g, %d iterations (%s), best of %d restarts\n", seg.model.k,
                seg.model.inertia, seg.model.n_iter, seg.model.converged ? "converged" : "not converged",
                config.model.n_init);
    std::printf("quality: silhouette %.4f%s, Calinski-Harabasz %.1f, Davies-Bouldin %.4f\n", seg.metrics.silhouette,
                seg.metrics.silhouette_sample ? (" (sample of " + std::to_string(seg.metrics.silhouette_sample) + ")").c_str() : "",
                seg.metrics.calinski_harabasz, seg.metrics.davies_bouldin);
    if (!seg.sweep.k.empty()) {
      std::printf("elbow sweep (k chosen by %s: %d):\n%4s %14s %10s %12s %10s %6s\n", seg.sweep.rule.c_str(),
                  seg.sweep.chosen_k, "k", "SSE", "silhouette", "Calinski-H.", "Davies-B.", "iter");
      for (std::size_t i = 0; i < seg.sweep.k.size(); ++i)
        std::printf("%4d %14.6g %10.4f %12.1f %10.4f %6lld%s\n", seg.sweep.k[i], seg.sweep.sse[i], seg.sweep.silhouette[i],
                    seg.sweep.calinski_harabasz[i], seg.sweep.davies_bouldin[i], static_cast<long long>(seg.sweep.n_iter[i]),
                    seg.sweep.k[i] == seg.sweep.chosen_k ? "  <-" : "");
    }
    std::printf("%s", format_profile(seg.profile, seg.cluster_labels).c_str());
    std::printf("classic RFM segments (split at the %s of R, F, M):\n%s", config.model.segment_median ? "median" : "mean",
                format_segment_table(seg.segments, classic_segment_names()).c_str());
    std::printf("result: %s\n", config.output.c_str());
  }
  return 0;
}

}  // namespace rfmseg
