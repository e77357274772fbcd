#include "rfmseg/io/result_format.hpp"

#include <array>

namespace rfmseg::result_format {

namespace {

constexpr const Dataset* all_datasets[] = {&customer_id,
                                           &recency,
                                           &frequency,
                                           &monetary,
                                           &nonpositive_monetary,
                                           &features,
                                           &cluster,
                                           &r_score,
                                           &f_score,
                                           &m_score,
                                           &rfm_sum,
                                           &rfm_code,
                                           &segment,
                                           &high_value,
                                           &segment_name,
                                           &segment_customers,
                                           &segment_share,
                                           &segment_mean_recency,
                                           &segment_mean_frequency,
                                           &segment_mean_monetary,
                                           &segment_revenue_share,
                                           &score_cut_points,
                                           &segment_reference,
                                           &high_value_threshold,
                                           &model_k,
                                           &centroids,
                                           &fit_index,
                                           &init_centroids,
                                           &centroids_rfm,
                                           &cluster_size,
                                           &cluster_label,
                                           &cluster_id,
                                           &inertia,
                                           &n_iter,
                                           &converged,
                                           &restart,
                                           &silhouette,
                                           &calinski_harabasz,
                                           &davies_bouldin,
                                           &silhouette_sample,
                                           &selection_k,
                                           &selection_sse,
                                           &selection_silhouette,
                                           &selection_calinski_harabasz,
                                           &selection_davies_bouldin,
                                           &selection_n_iter,
                                           &profile_share,
                                           &profile_revenue_share,
                                           &profile_mean,
                                           &profile_std,
                                           &profile_min,
                                           &profile_max,
                                           &transform_lambda,
                                           &transform_shift,
                                           &transform_center,
                                           &transform_scale,
                                           &previous_cluster,
                                           &previous_segment,
                                           &migration_clusters,
                                           &migration_clusters_revenue,
                                           &migration_segments,
                                           &migration_segments_revenue,
                                           &migration_previous_cluster_id,
                                           &migration_previous_cluster_label,
                                           &migration_fate,
                                           &migration_fate_cluster,
                                           &drift_psi,
                                           &drift_decile_edges,
                                           &drift_previous_share,
                                           &drift_share,
                                           &drift_previous_mean,
                                           &drift_mean,
                                           &drift_previous_parameters,
                                           &drift_parameters,
                                           &drift_previous_cluster_size};

constexpr Presence always = Presence::always;
constexpr Attribute all_attributes[] = {
    {"run", "version", Type::string, always, "0.1", "rfmseg version that wrote the file"},
    {"run", "git_commit", Type::string, always, "0.1", "git commit of that build"},
    {"run", "configuration", Type::string, always, "0.1",
     "every option's resolved value, as `key = value` lines (replayable as a config file)"},
    {"run", "mode", Type::string, always, "0.3",
     "fit (a K-means run) or score (`rfmseg score`: customers placed in a saved model's clusters, nothing fitted; "
     "/model and the /segments parameters are the model's, /selection is absent)"},
    {"run", "model_file", Type::string, Presence::scored, "0.3",
     "score only: the result file whose model scored these customers, as given"},
    {"run", "model_snapshot_date", Type::string, Presence::scored, "0.3", "score only: the model's snapshot_date"},
    {"run", "model_version", Type::string, Presence::scored, "0.3",
     "score only: the rfmseg version that wrote the model"},
    {"run", "ranks", Type::int64, always, "0.1", "MPI ranks of the run (the result does not depend on it)"},
    {"run", "snapshot_date", Type::string, always, "0.1", "reference date for recency, YYYY-MM-DD"},
    {"run", "window_days", Type::int64, always, "0.2",
     "--window: only lines with snapshot_date - day <= window_days were used, older ones are count_outside_window "
     "(0 = no window)"},
    {"run", "input_files", Type::string, always, "0.1", "input files, one per line, in reading order"},
    {"run", "input_formats", Type::string, always, "0.1", "layout detected or given per input file, one per line"},
    {"run", "frequency", Type::string, always, "0.1", "what frequency counts: invoices, lines or days"},
    {"run", "cancellations", Type::string, always, "0.1", "drop or net"},
    {"run", "duplicates", Type::string, always, "0.2", "how exact duplicate lines were treated (drop or keep) and why"},
    {"run", "date_order", Type::string, always, "0.2", "how slash dates were read (month-first or day-first) and why"},
    {"run", "customers", Type::int64, always, "0.1", "customers in the result (n)"},
    {"run", "count_nonpositive_monetary_customers", Type::int64, always, "0.2", "customers with monetary <= 0"},
    {"run", "k", Type::int64, always, "0.1", "clusters of the final model"},
    {"run", "silhouette_sample", Type::int64, always, "0.1", "customers the silhouette was computed on; 0 = exact"},
    {"run", "n_init", Type::int64, always, "0.1", "K-means restarts per k"},
    {"run", "max_iter", Type::int64, always, "0.1", "iteration limit per restart"},
    {"run", "tol", Type::float64, always, "0.1", "convergence tolerance"},
    {"run", "seed", Type::int64, always, "0.1", "seed of every random draw (draws are keyed by customer id)"},
    {"run", "kmeans_iterations_total", Type::int64, always, "0.1", "iterations over all restarts of the final k"},
    {"run", "kmeans_algorithm", Type::string, always, "0.1",
     "auto, kdtree, hamerly or lloyd (the same clusters either way; auto = kdtree since 0.4)"},
    {"run", "kmeans_distance_evaluations", Type::int64, always, "0.1",
     "point-centre distances computed, all fits, all ranks (kdtree: the points of leaves scanned against "
     "their remaining candidates; whole cells assigned at once count none)"},
    {"run", "kmeans_lloyd_distance_evaluations", Type::int64, always, "0.1",
     "what plain Lloyd computes for the same iterations"},
    {"run", "kmeans_kernels", Type::string, always, "0.4",
     "distance kernels the ranks used, chosen from each CPU at run time: avx2 or portable (SSE2; forced by "
     "RFMSEG_CPU=portable), avx2,portable if the ranks differed; the same bits either way"},
    {"run", "mpi_yield_when_idle", Type::string, always, "0.4",
     "more ranks than CPUs on a host? checked before MPI_Init: 'yield set by rfmseg: 4 ranks on 2 CPUs' (Open MPI's "
     "collectives then yield instead of busy-waiting), 'not needed: ...', 'as set by the user (V): ...' or 'not "
     "checked: ...' (rank 0's words; '(set on S of P ranks)' if the hosts differed)"},
    {"run", "count_lines", Type::int64, always, "0.1", "data lines read (header excluded)"},
    {"run", "count_blank_lines", Type::int64, always, "0.1", "blank lines skipped"},
    {"run", "count_<fate>", Type::int64, always, "0.1",
     "lines per fate: bad_field_count, bad_customer_id, bad_number, bad_date, missing_customer, after_snapshot, "
     "outside_window "
     "(older than --window; 0 without it), "
     "duplicate, cancellation, zero_quantity, nonpositive_price, kept"},
    {"run", "bad_line_examples", Type::string, always, "0.1",
     "the first unusable lines per kind, as file:line: reason"},
    {"run", "rejects_file", Type::string, always, "0.1", "the --rejects file (empty without)"},
    {"run", "bytes_read", Type::int64, always, "0.1", "input bytes read"},
    {"run", "bytes_shuffled", Type::int64, always, "0.1", "bytes sent between ranks by the shuffle"},
    {"run", "shuffle_rounds", Type::int64, always, "0.1", "ingest rounds"},
    {"run", "max_memory_per_rank", Type::int64, always, "0.1", "memory budget per rank in bytes (0 = none)"},
    {"run", "time_<phase>", Type::float64, always, "0.1",
     "wall seconds of each phase (slowest rank): ingest, rfm, sort, transform, scale, kmeans, evaluate, segment, "
     "output; load_checkpoint / checkpoint when used; in a scored file assign (nearest centroid) instead of kmeans"},
    {"run", "time_total", Type::float64, always, "0.1", "sum of the phases"},
    {"run", "resumed", Type::string, always, "0.1", "what a resumed run took from its checkpoint (empty otherwise)"},
    {"run", "pseudonymization", Type::string, always, "0.2",
     "none, or how customer ids were replaced (--pseudonymize-key): HMAC-SHA256(key, customer_id), lowercase hex"},
    {"run", "pseudonymization_key_id", Type::string, always, "0.2",
     "the key's id, the first 16 hex digits of SHA-256 of the key file (empty without a key); never the key"},
    {"model", "cluster_ids", Type::string, always, "0.3",
     "how /model/cluster_id was given: \"mean monetary, descending\" or \"maximum overlap with the previous "
     "result\""},
    {"selection", "rule", Type::string, Presence::with_sweep, "0.1",
     "how the final k was chosen: elbow, silhouette or fixed"},
    {"selection", "chosen_k", Type::int64, Presence::with_sweep, "0.1", "the k the rule chose"},
    {"model/transform", "kind_<feature>", Type::string, always, "0.1",
     "transform of recency, frequency, monetary: none, log1p, cbrt, boxcox, yeojohnson"},
    {"model/transform", "kinds", Type::string, always, "0.1", "the three kinds, comma-separated"},
    {"model/transform", "scaler", Type::string, always, "0.1", "standard or minmax"},
    {"model/transform", "grid_exponent", Type::int64, always, "0.1",
     "features are multiples of 2^-grid_exponent (exact K-means sums)"},
    {"model/transform", "features", Type::string, always, "0.1",
     "feature order of every [*, 3] dataset: recency,frequency,monetary"},
    {"migration", "previous_file", Type::string, Presence::with_previous, "0.3", "the --previous result file"},
    {"migration", "previous_snapshot", Type::string, Presence::with_previous, "0.3", "its snapshot date, YYYY-MM-DD"},
    {"migration", "previous_k", Type::int64, Presence::with_previous, "0.3", "its number of clusters (k_prev)"},
    {"migration", "stayed", Type::int64, Presence::with_previous, "0.3", "customers in both results"},
    {"migration", "new", Type::int64, Presence::with_previous, "0.3", "customers only tonight"},
    {"migration", "gone", Type::int64, Presence::with_previous, "0.3", "customers only in the previous result"},
    {"migration", "changed_cluster", Type::int64, Presence::with_previous, "0.3",
     "customers of both whose cluster id (/model/cluster_id) changed"},
    {"migration", "changed_segment", Type::int64, Presence::with_previous, "0.3",
     "customers of both whose classic segment changed"},
    {"migration", "ari", Type::float64, Presence::with_previous, "0.3",
     "adjusted Rand index of the two cluster labelings on the customers of both"},
    {"migration", "warm_start", Type::string, Presence::with_previous, "0.3",
     "what the warm start from the previous model did: won, lost (a fresh restart had lower inertia), or why "
     "it was not tried"},
};

std::string_view extent_symbol(Extent extent) {
  switch (extent) {
    case Extent::customers: return "n";
    case Extent::clusters: return "k";
    case Extent::sweep: return "m";
    case Extent::previous_clusters: return "k_prev";
    case Extent::previous_clusters_and_new: return "k_prev + 1";
    case Extent::clusters_and_gone: return "k + 1";
    default: return "";
  }
}

std::string presence_note(Presence presence) {
  switch (presence) {
    case Presence::with_sweep: return " (only with `--k-range`, never in a scored file)";
    case Presence::scored: return " (only in a file of `rfmseg score`)";
    case Presence::with_previous: return " (only with `--previous`)";
    default: return "";
  }
}

}  // namespace

std::string_view type_name(Type type) {
  switch (type) {
    case Type::int8: return "int8";
    case Type::int32: return "int32";
    case Type::int64: return "int64";
    case Type::float64: return "float64";
    case Type::string: return "string";
  }
  return "?";
}

std::string shape_text(const Dataset& d) {
  if (d.rows == Extent::scalar) return "scalar";
  const std::string rows = d.rows == Extent::fixed ? std::to_string(d.fixed_rows) : std::string(extent_symbol(d.rows));
  if (d.column_extent != Extent::fixed) return "[" + rows + ", " + std::string(extent_symbol(d.column_extent)) + "]";
  return d.columns == 0 ? "[" + rows + "]" : "[" + rows + ", " + std::to_string(d.columns) + "]";
}

std::span<const Dataset* const> datasets() { return all_datasets; }
std::span<const Attribute> attributes() { return all_attributes; }

const Dataset* find_dataset(std::string_view path) {
  for (const Dataset* d : all_datasets)
    if (d->path == path) return d;
  return nullptr;
}

const Attribute* find_attribute(std::string_view object, std::string_view name) {
  for (const Attribute& a : all_attributes)  // an exact entry first (time_total before time_<phase>)
    if (a.object == object && a.name == name) return &a;
  for (const Attribute& a : all_attributes) {
    const auto open = a.name.find('<');
    if (a.object == object && open != std::string_view::npos && name.size() > open &&
        name.substr(0, open) == a.name.substr(0, open))
      return &a;
  }
  return nullptr;
}

std::string markdown() {
  std::string out =
      "# The result file\n\n"
      "<!-- Rendered from src/io/result_format.cpp (result_format::markdown); the unit test\n"
      "     ResultFormat.DocumentIsCurrent fails when this file differs. Do not edit by hand. -->\n\n"
      "One HDF5 file per run, written in parallel under a temporary name and renamed only when complete\n"
      "and read back (see README, \"Data safety\"). This page is generated from the same description\n"
      "the writer writes through and `rfmseg verify` checks against.\n\n"
      "Shapes: `n` customers (one row each, sorted by customer id in byte order), `k` clusters (in the\n"
      "final order: ascending /model/cluster_id), `m` values of `--k-range`, `k_prev` clusters of the\n"
      "`--previous` result. Every `[*, 3]` dataset has\n"
      "the columns recency, frequency, monetary. Strings are fixed-length, NUL-padded ASCII/UTF-8.\n"
      "Every dataset carries a `checksum` attribute and every object with attributes an\n"
      "`attributes_checksum` (what `rfmseg verify` recomputes).\n\n"
      "A file written by `rfmseg score` (`/run mode` = score) has the same layout: `/customers` and the\n"
      "`/segments` table are the scored customers', placed by the model's frozen parameters; `/model`\n"
      "(centroids, fit_index, labels, transform, fit facts and quality) and the `/segments` parameters\n"
      "(score_cut_points, reference, high_value_threshold) are copied from the model, while\n"
      "`/model/cluster_size`, `/model/inertia`, `/model/centroids_rfm` and `/model/profile` describe the\n"
      "scored customers; there is no `/selection`. A scored file is itself a usable model.\n\n"
      "Reading it:\n\n"
      "```python\n"
      "import h5py, pandas as pd\n"
      "with h5py.File(\"result.h5\") as f:\n"
      "    c = f[\"customers\"]\n"
      "    df = pd.DataFrame({name: c[name][...] for name in\n"
      "                       (\"recency\", \"frequency\", \"monetary\", \"cluster\", \"segment\")},\n"
      "                      index=c[\"customer_id\"].asstr()[...])\n"
      "    df[\"segment\"] = f[\"segments/name\"].asstr()[...][df[\"segment\"]]\n"
      "```\n\n"
      "## Datasets\n\n";
  std::string_view group;
  for (const Dataset* d : all_datasets) {
    const std::string_view g = d->path.substr(0, d->path.find('/'));
    if (g != group) {
      group = g;
      out += "\n### /" + std::string(g) + presence_note(d->presence) +
             "\n\n| dataset | type | shape | since | meaning |\n|---|---|---|---|---|\n";
    }
    out += "| `/" + std::string(d->path) + "` | " + std::string(type_name(d->type)) + " | " + shape_text(*d) + " | " +
           std::string(d->since) + " | " + std::string(d->meaning) + " |\n";
  }
  out += "\n## Attributes\n";
  std::string_view object;
  for (const Attribute& a : all_attributes) {
    if (a.object != object) {
      object = a.object;
      out += "\n### /" + std::string(object) + presence_note(a.presence) +
             "\n\n| attribute | type | since | meaning |\n|---|---|---|---|\n";
    }
    out += "| `" + std::string(a.name) + "` | " + std::string(type_name(a.type)) + " | " + std::string(a.since) +
           " | " + std::string(a.meaning) + " |\n";
  }
  return out;
}

}  // namespace rfmseg::result_format
