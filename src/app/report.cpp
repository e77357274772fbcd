#include "rfmseg/app/report.hpp"

#include <algorithm>
#include <cstdio>

#include "rfmseg/core/names.hpp"
#include "rfmseg/model/segment.hpp"
#include "rfmseg/version.hpp"

namespace rfmseg {

namespace {

// "3 at risk" shortened to a table column.
std::string cluster_heading(std::int64_t id, const std::string& label) {
  std::string text = std::to_string(id) + " " + label;
  return text.size() > 16 ? text.substr(0, 16) : text;
}

// With --previous: where yesterday's customers went (counts and row shares), and the drift line.
void print_comparison(const PreviousResult& previous, const Comparison& c, const Segmentation& seg) {
  const auto share = [](std::int64_t part, std::int64_t whole) {
    return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
  };
  const std::int64_t both = c.stayed;
  std::printf(
      "migration from %s (as of %s, k %d): stayed %lld, new %lld, gone %lld; changed cluster %lld (%.1f%%), "
      "segment %lld (%.1f%%); ARI %.4f; warm start %s\n",
      previous.model.path.c_str(), previous.model.snapshot_date.c_str(), c.k_prev, static_cast<long long>(c.stayed),
      static_cast<long long>(c.added), static_cast<long long>(c.gone), static_cast<long long>(c.changed_cluster),
      share(c.changed_cluster, both), static_cast<long long>(c.changed_segment), share(c.changed_segment, both), c.ari,
      c.warm_start.c_str());
  const auto cols = static_cast<std::size_t>(c.k) + 1;
  std::printf("%-18s", "previous \\ tonight");
  for (std::size_t j = 0; j < static_cast<std::size_t>(c.k); ++j)
    std::printf(" %16s", cluster_heading(seg.cluster_ids[j], seg.cluster_labels[j]).c_str());
  std::printf(" %16s %12s\n", "gone", "fate");
  for (std::size_t i = 0; i <= static_cast<std::size_t>(c.k_prev); ++i) {
    const bool added = i == static_cast<std::size_t>(c.k_prev);
    std::int64_t row_total = 0;
    for (std::size_t j = 0; j < cols; ++j) row_total += c.clusters[i * cols + j];
    std::printf(
        "%-18s",
        added ? "new" : cluster_heading(previous.model.cluster_ids[i], previous.model.cluster_labels[i]).c_str());
    for (std::size_t j = 0; j < cols; ++j) {
      const std::int64_t n = c.clusters[i * cols + j];
      char cell[40];
      std::snprintf(cell, sizeof cell, "%lld (%.1f%%)", static_cast<long long>(n), share(n, row_total));
      std::printf(" %16s", added && j + 1 == cols ? "" : cell);
    }
    std::printf(" %12s\n", added ? "" : fate_name(c.fates[i].fate));
  }
  static constexpr const char* names[] = {"R", "F", "M"};
  std::printf("drift: PSI");
  for (std::size_t d = 0; d < feature_count; ++d) std::printf(" %s %.4f", names[d], c.psi[d]);
  double worst = 0;
  for (double v : c.psi) worst = std::max(worst, v);
  std::printf(" (%s); mean", worst < 0.1 ? "stable" : worst <= 0.25 ? "moderate shift" : "major shift");
  for (std::size_t d = 0; d < feature_count; ++d)
    std::printf(" %s %.4g -> %.4g", names[d], previous.mean[d], seg.overall_mean[d]);
  std::printf("\n");
}

}  // namespace

void print_report(int ranks, const RunConfig& config, const CustomerStage& stage, const Segmentation& seg,
                  const PhaseTimes& times, const RunFacts& facts, const std::string& rejects_path,
                  const PreviousResult* previous, const Comparison* comparison) {
  const auto frequency = std::string(name_of(stage.frequency));
  std::printf("rfmseg %s: %d ranks, %zu input file(s), %.1f MB\n", version_string, ranks, stage.plan.files.size(),
              static_cast<double>(stage.bytes_read) / 1e6);
  std::printf("%s\n", format_counters(stage.counters).c_str());
  if (facts.yield_set)
    std::printf(
        "oversubscribed: %s (more ranks than CPUs on a host: waiting ranks give their core away; "
        "fewer ranks per host are faster)\n",
        facts.mpi_yield_when_idle.c_str());
  if (!facts.bad_line_text.empty()) std::printf("first unusable lines:\n%s", facts.bad_line_text.c_str());
  if (!rejects_path.empty())
    std::printf("rejects: %llu unusable line(s) in %s\n", static_cast<unsigned long long>(stage.rejected_rows),
                rejects_path.c_str());
  std::printf("customers %llu, snapshot %s, frequency = %s, duplicates = %s\n",
              static_cast<unsigned long long>(stage.total_customers), format_day(stage.snapshot).c_str(),
              frequency.c_str(), stage.duplicates.c_str());
  if (config.rfm.window_days > 0)
    std::printf("window %d days: lines dated %s .. %s (older: outside_window)\n", config.rfm.window_days,
                format_day(stage.snapshot - config.rfm.window_days).c_str(),
                format_day(config.rfm.snapshot_day ? stage.snapshot : stage.snapshot - 1).c_str());
  if (facts.nonpositive_monetary != 0)
    std::printf(
        "note: %lld customer%s with Monetary <= 0 (returns netted against purchases): kept, flagged in "
        "/customers/nonpositive_monetary\n",
        static_cast<long long>(facts.nonpositive_monetary), facts.nonpositive_monetary == 1 ? "" : "s");
  std::printf("time:");
  for (const auto& [name, seconds] : times.phases()) std::printf(" %s %.3fs", name.c_str(), seconds);
  std::printf(" | total %.3fs, %.1f MB/s\n", times.total(),
              static_cast<double>(stage.bytes_read) / 1e6 / std::max(times.total(), 1e-9));
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
  const std::string sample = seg.metrics.silhouette_sample
                                 ? " (sample of " + std::to_string(seg.metrics.silhouette_sample) + ")"
                                 : std::string();
  std::printf("quality: silhouette %.4f%s, Calinski-Harabasz %.1f, Davies-Bouldin %.4f\n", seg.metrics.silhouette,
              sample.c_str(), seg.metrics.calinski_harabasz, seg.metrics.davies_bouldin);
  if (!seg.sweep.k.empty()) {
    std::printf("elbow sweep (k chosen by %s: %d):\n%4s %14s %10s %12s %10s %6s\n", seg.sweep.rule.c_str(),
                seg.sweep.chosen_k, "k", "SSE", "silhouette", "Calinski-H.", "Davies-B.", "iter");
    for (std::size_t i = 0; i < seg.sweep.k.size(); ++i)
      std::printf("%4d %14.6g %10.4f %12.1f %10.4f %6lld%s\n", seg.sweep.k[i], seg.sweep.sse[i],
                  seg.sweep.silhouette[i], seg.sweep.calinski_harabasz[i], seg.sweep.davies_bouldin[i],
                  static_cast<long long>(seg.sweep.n_iter[i]), seg.sweep.k[i] == seg.sweep.chosen_k ? "  <-" : "");
  }
  std::printf("%s", format_profile(seg.profile, seg.cluster_labels).c_str());
  std::printf("classic RFM segments (split at the %s of R, F, M):\n%s", config.model.segment_median ? "median" : "mean",
              format_segment_table(seg.segments, classic_segment_names()).c_str());
  if (previous != nullptr && comparison != nullptr) print_comparison(*previous, *comparison, seg);
  std::printf("result: %s\n", config.output.c_str());
}

}  // namespace rfmseg
