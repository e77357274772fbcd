#pragma once
// Plain configuration of a run. The library never sees the command line: src/app/options.cpp maps
// Boost.Program_options values onto these structs once, validated.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rfmseg/core/csv.hpp"
#include "rfmseg/core/date.hpp"
#include "rfmseg/core/features.hpp"

namespace rfmseg {

enum class Format { automatic, online_retail, online_retail_ii, amount };
enum class FrequencyMode { automatic, invoices, lines, days };
enum class CancellationPolicy { drop, net };
/// Exact duplicate lines: drop all but the first, keep them as purchases, or (automatic) drop
/// them in files with an invoice column and keep them in amount-only logs, where two identical
/// lines may be two real purchases of one customer on one day.
enum class DuplicatePolicy { automatic, drop, keep };

/// Where each needed field is: a header name, or a 1-based column index (always with --no-header).
struct ColumnMapping {
  std::string customer, invoice, date, quantity, price, amount;
};

/// The field separator: found from the header (automatic), runs of blanks, or one character.
struct Delimiter {
  enum class Kind { automatic, whitespace, character };
  Kind kind = Kind::automatic;
  char character = ',';
};

struct InputConfig {
  std::vector<std::string> paths;  ///< files or globs, expanded on rank 0
  Format format = Format::automatic;
  ColumnMapping columns;
  Delimiter delimiter;
  char quote = '"';
  bool has_header = true;
  DateFormat date_format = DateFormat::automatic;
  bool day_first = false;
  bool date_order_stated =
      false;  ///< --day-first, --month-first or --date-format mdy|dmy (else month-first is assumed)
  bool decimal_comma = false;
  /// --snapshot: lines dated after it are counted as after_snapshot and not used (as of that day).
  std::optional<std::int32_t> snapshot_day;
  /// --window: lines dated before this day are counted as outside_window and not used.
  std::optional<std::int32_t> first_day;
  DuplicatePolicy duplicates = DuplicatePolicy::automatic;
  std::uint64_t chunk_bytes = 64ull << 20;  ///< bytes each rank parses per shuffle round
  int max_reported_lines = 10;              ///< bad lines reported with file:line, per kind
  /// The job fails when more than this share of the data lines is unparseable (is_unparseable).
  double max_bad_fraction = 0.05;
  /// Memory budget per rank in bytes (0 = no limit): bounds the ingest chunk and the shuffle
  /// rounds; a run that cannot fit ends with a clear error instead of the OOM killer.
  std::uint64_t max_memory_per_rank = 0;
  bool max_memory_per_rank_auto = false;  ///< resolved at run time: a share of the node's memory per local rank
  /// --pseudonymize-key: the key's bytes (empty: ids are kept as read). Each id is replaced by
  /// HMAC-SHA256(key, id) as it is read (core/pseudonym.hpp); never printed or recorded.
  std::string pseudonym_key;
  std::string pseudonym_key_id;  ///< pseudonym_key_id(key): recorded in /run and the configuration
};

struct RfmConfig {
  FrequencyMode frequency = FrequencyMode::automatic;
  CancellationPolicy cancellations = CancellationPolicy::drop;
  std::optional<std::int32_t> snapshot_day;  ///< reference day for recency
  /// --window DAYS (0 = none): only lines with snapshot − day <= DAYS count (Recency <= DAYS).
  std::int32_t window_days = 0;
};

enum class Transform { none, log1p, cbrt, boxcox, yeojohnson };
enum class Scaler { standard, minmax };
enum class Init { kmeans_plus_plus, kmeans_parallel, random };
enum class KSelect { none, elbow, silhouette };
/// What the elbow sweep computes per k: the SSE and every quality metric, or the SSE alone.
enum class SweepMetrics { all, sse };
/// K-means step: plain Lloyd (every distance), Hamerly's bounds (per point), or filtering over a
/// kd-tree of the points (whole cells at once; auto). The same result bit for bit either way.
enum class KMeansAlgorithm { automatic, lloyd, hamerly, kdtree };

struct ModelConfig {
  Transform transform[feature_count] = {Transform::boxcox, Transform::boxcox, Transform::cbrt};  ///< R, F, M
  Scaler scaler = Scaler::standard;
  int k = 4;
  int k_min = 0, k_max = 0;  ///< elbow sweep when k_max > 0
  KSelect k_select = KSelect::none;
  SweepMetrics sweep_metrics = SweepMetrics::all;
  Init init = Init::kmeans_plus_plus;
  KMeansAlgorithm algorithm = KMeansAlgorithm::automatic;
  int n_init = 10;
  int max_iter = 300;
  double tol = 1e-4;
  std::uint64_t seed = 42;
  std::int64_t silhouette_sample = 10000;  ///< 0 = exact
  std::array<std::string, 4> cluster_names = {"loyal", "new", "at risk", "churned"};
  bool segment_median = false;                 ///< 8 classic segments split at the median, not the mean
  double high_value_top_percent = 20;          ///< high-value flag: top p % by monetary
  std::optional<double> high_value_threshold;  ///< ... or an absolute monetary threshold
};

/// Fault tolerance: checkpoints, resume, and the deadline on every collective.
struct ReliabilityConfig {
  std::string checkpoint_dir;       ///< empty: no checkpoints
  bool resume = false;              ///< continue from the last complete checkpoint in checkpoint_dir
  int checkpoint_every = 10;        ///< K-means iterations between checkpoints
  double collective_timeout = 300;  ///< seconds a collective may wait before the job aborts (0 = never)
};

enum class ExportCompression { gzip, none };

/// --export DIR: CSV files beside the result for tools that do not read HDF5 (io/export.hpp).
struct ExportConfig {
  std::string dir;                                          ///< empty: no export
  ExportCompression compression = ExportCompression::gzip;  ///< of customers.csv(.gz)
};

struct RunConfig {
  InputConfig input;
  ReliabilityConfig reliability;
  RfmConfig rfm;
  ModelConfig model;
  std::string output;
  bool force = false;    ///< replace a file at `output` that is not an rfmseg result
  std::string rejects;   ///< --rejects: CSV of every unusable line (empty: none)
  std::string previous;  ///< --previous: the previous night's result (empty: none)
  ExportConfig exports;  ///< --export: CSV copies of the result tables (empty dir: none)
  bool quiet = false;
  bool progress = false;    ///< --progress: one line per event on rank 0 (src/app/progress.cpp)
  std::string status_file;  ///< --status-file: JSON status of the run, replaced atomically (empty: none)
  std::string resolved;     ///< the full resolved configuration as INI text (provenance)
  /// The lines of `resolved` whose options can change the result (what a checkpoint must match).
  std::string result_options;
};

}  // namespace rfmseg
