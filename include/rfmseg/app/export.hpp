#pragma once
// --export DIR: CSV copies of the result tables for tools that do not read HDF5 (pandas, DuckDB,
// Spark, spreadsheets). README "Feeding other tools" documents the columns.
//
//   customers.csv.gz  one row per customer, in customer-id order (byte order, as /customers);
//                     written in parallel: each rank formats its block of the id-sorted table,
//                     compresses it as an independent gzip member (zlib) and writes it with MPI-IO
//                     at the exclusive scan of the members' sizes, so the file is one multi-member
//                     gzip any reader opens. With --export-compress none: customers.csv, plain.
//   clusters.csv      the cluster profile (one row per cluster), rank 0
//   segments.csv      the 8 classic RFM segments, rank 0
//   selection.csv     the --k-range sweep (only when swept), rank 0
//   migration_clusters.csv, migration_segments.csv
//                     with --previous: /migration in long form (one row per non-empty cell), rank 0
//
// CSV: header row, ',' separated, '\n' line ends, RFC 4180 quoting (a field holding a comma, a
// quote, CR or LF is quoted, quotes doubled), doubles in the shortest form that reads back to the
// same double (std::to_chars), NaN as an empty field.
//
// Safety, with the rules of the result (output_guard.hpp): DIR is locked (DIR/export.lock) for the
// run, every file is checked before any work (never an input, never over a file that is not an
// rfmseg export unless --force), written as "<name>.tmp-<pid>", and renamed only once every export
// file is complete and the HDF5 result is committed.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/io/output_guard.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

struct CustomerStage;
struct Segmentation;
struct PreviousResult;
struct Comparison;

namespace csv_export {

/// Header rows (without '\n') of the export files.
inline constexpr std::string_view customers_header =
    "customer_id,recency,frequency,monetary,r_score,f_score,m_score,rfm_score,segment,cluster,cluster_label,"
    "high_value";
inline constexpr std::string_view clusters_header =
    "cluster,label,size,share,revenue_share,mean_recency,mean_frequency,mean_monetary,std_recency,std_frequency,"
    "std_monetary,min_recency,min_frequency,min_monetary,max_recency,max_frequency,max_monetary,centroid_recency,"
    "centroid_frequency,centroid_monetary";
inline constexpr std::string_view segments_header =
    "segment,name,count,share,mean_recency,mean_frequency,mean_monetary,revenue_share";
inline constexpr std::string_view selection_header = "k,sse,silhouette,calinski_harabasz,davies_bouldin,n_iter,chosen";
/// With --previous: cluster ids are /model/cluster_id (the previous result's for previous_*); the
/// id is empty and the label "new" / "gone" for customers new tonight / gone since.
inline constexpr std::string_view migration_clusters_header =
    "previous_cluster,previous_label,cluster,label,customers,revenue";
inline constexpr std::string_view migration_segments_header = "previous_segment,segment,customers,revenue";

/// Appends `field`, quoted by RFC 4180 only when it holds a comma, a quote, CR or LF.
void append_field(std::string& out, std::string_view field);
/// Appends the shortest decimal form of `value` that reads back to it; NaN as nothing (empty).
void append_double(std::string& out, double value);
void append_integer(std::string& out, std::int64_t value);

/// Compresses `data` as one complete gzip member (header, deflate stream, CRC-32 and size).
[[nodiscard]] std::string gzip_member(std::string_view data, int level = 6);

/// True when `path` is a regular file that starts with one of the headers above (read through
/// gzip for a name ending in ".gz"): a file an earlier --export wrote, which may be replaced.
[[nodiscard]] bool is_rfmseg_export(const std::string& path);

}  // namespace csv_export

/// The export files of one run.
class ExportFiles {
 public:
  /// Collective: creates `config.exports.dir` if missing (rank 0), takes its lock, removes
  /// temporary files of dead runs, and checks every file this run will write under the result's
  /// rules (`result_rules`: inputs, --force) as an export file; none may be the result
  /// (config.output) or the rejects file (config.rejects). Throws AgreedError (exit 1) otherwise.
  ExportFiles(const mpi::Comm& comm, const RunConfig& config, const OutputRules& result_rules);
  /// Without commit(): rank 0 removes the temporary files; no collective call is made.
  ~ExportFiles();
  ExportFiles(const ExportFiles&) = delete;
  ExportFiles& operator=(const ExportFiles&) = delete;

  /// Collective: writes every export file under its temporary name. Returns the bytes written.
  /// With --previous, `previous` and `comparison` give the migration tables.
  std::uint64_t write(const CustomerStage& stage, const Segmentation& seg, const PreviousResult* previous = nullptr,
                      const Comparison* comparison = nullptr);
  /// Collective: renames the temporary files to their final names (rank 0) and removes export
  /// files an earlier run left that this one did not write (selection.csv of a sweep, the other
  /// customers.csv form). Call after the result's commit.
  void commit();

  [[nodiscard]] const std::string& directory() const { return _config.dir; }

 private:
  struct Entry {
    std::string name;
    std::string final_path;
    std::string temporary;
    bool written = false;
  };
  Entry& entry(std::string_view name);
  /// Collective: writes this rank's `bytes` at the exclusive scan of all ranks' sizes into the
  /// temporary file of `file` (MPI-IO), syncs it and checks its size.
  void write_parallel(Entry& file, std::string_view bytes);
  /// Rank 0 writes `text` as the temporary file of `file`; agreed.
  void write_small(Entry& file, const std::string& text);
  [[nodiscard]] AgreedError write_failure(const Entry& file, const std::string& what) const;

  const mpi::Comm& _comm;
  ExportConfig _config;
  std::vector<Entry> _files;
  std::vector<std::string> _stale;  ///< export files of other settings: removed at commit if rfmseg's
  std::unique_ptr<OutputLock> _lock;
  bool _committed = false;
};

}  // namespace rfmseg
