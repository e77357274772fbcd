#pragma once
// The result file's format, described once: every dataset (path, type, shape, meaning) and every
// attribute. The writer (app/result_writer.cpp) writes through these descriptions (type and shape
// checked at compile time), `rfmseg verify` checks a file against them, and docs/result-format.md
// is rendered from them (a unit test keeps the document equal to markdown()).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace rfmseg::result_format {

enum class Type : std::uint8_t { int8, int32, int64, float64, string };

/// What a dataset's first dimension counts.
enum class Extent : std::uint8_t {
  scalar,                     ///< a single value
  customers,                  ///< n: one row per customer, in customer-id order (distributed over ranks)
  clusters,                   ///< k: one row per cluster, in the final cluster order
  sweep,                      ///< one row per k of --k-range
  fixed,                      ///< a fixed count (Dataset::fixed_rows)
  previous_clusters,          ///< k_prev: one row per cluster of the --previous result (/migration previous_k)
  previous_clusters_and_new,  ///< k_prev + 1: the previous clusters, then "new tonight"
  clusters_and_gone,          ///< k + 1 (as columns): tonight's clusters, then "gone since the previous night"
};

/// When a dataset or attribute is in a result.
enum class Presence : std::uint8_t {
  always,
  with_sweep,     ///< with --k-range (the file has /selection)
  with_previous,  ///< with --previous (the file has /migration)
  scored,         ///< only in a file of `rfmseg score` (/run mode = score)
};

struct Dataset {
  std::string_view path;  ///< from the root, without the leading '/'
  Type type;
  Extent rows;
  std::uint64_t fixed_rows;  ///< rows when `rows == Extent::fixed`
  std::uint64_t columns;     ///< 0: one-dimensional (or scalar); else [rows, columns]
  Presence presence;
  std::string_view since;  ///< first rfmseg version that writes it
  std::string_view meaning;
  /// What the second dimension counts: Extent::fixed = `columns`; or clusters_and_gone.
  Extent column_extent = Extent::fixed;
};

struct Attribute {
  std::string_view object;  ///< "run", "selection", "model/transform"
  std::string_view name;    ///< a "<...>" part stands for a family (time_<phase>)
  Type type;                ///< int64, float64 or string
  Presence presence;
  std::string_view since;  ///< first rfmseg version that writes it
  std::string_view meaning;
};

template <class T>
constexpr Type type_of();
template <>
constexpr Type type_of<std::int8_t>() {
  return Type::int8;
}
template <>
constexpr Type type_of<std::int32_t>() {
  return Type::int32;
}
template <>
constexpr Type type_of<std::int64_t>() {
  return Type::int64;
}
template <>
constexpr Type type_of<double>() {
  return Type::float64;
}
template <>
constexpr Type type_of<std::string>() {
  return Type::string;
}

[[nodiscard]] std::string_view type_name(Type type);
/// The shape as the documentation writes it: "[n]", "[k, 3]", "[3, 4]", "scalar".
[[nodiscard]] std::string shape_text(const Dataset& dataset);

// ---------------------------------------------------------------- /customers
inline constexpr Dataset customer_id{"customers/customer_id",
                                     Type::string,
                                     Extent::customers,
                                     0,
                                     0,
                                     Presence::always,
                                     "0.1",
                                     "customer id as read (trimmed, normalised: a numeric id written as 12345.0 "
                                     "becomes 12345); fixed-length, NUL-padded; strictly ascending in byte order"};
inline constexpr Dataset recency{"customers/recency",
                                 Type::int32,
                                 Extent::customers,
                                 0,
                                 0,
                                 Presence::always,
                                 "0.1",
                                 "days from the last kept purchase to the snapshot date (/run snapshot_date)"};
inline constexpr Dataset frequency{"customers/frequency",
                                   Type::int64,
                                   Extent::customers,
                                   0,
                                   0,
                                   Presence::always,
                                   "0.1",
                                   "purchases: distinct invoices, kept lines or distinct days (/run frequency)"};
inline constexpr Dataset monetary{
    "customers/monetary",
    Type::float64,
    Extent::customers,
    0,
    0,
    Presence::always,
    "0.1",
    "total spend: the exact sum of quantity × price (or amount) over kept lines, rounded once"};
inline constexpr Dataset nonpositive_monetary{
    "customers/nonpositive_monetary",
    Type::int8,
    Extent::customers,
    0,
    0,
    Presence::always,
    "0.2",
    "1 where monetary <= 0 (returns netted against purchases with --cancellations net), else 0"};
inline constexpr Dataset features{"customers/features",
                                  Type::float64,
                                  Extent::customers,
                                  0,
                                  3,
                                  Presence::always,
                                  "0.1",
                                  "R, F, M transformed and scaled (/model/transform), the K-means input"};
inline constexpr Dataset cluster{"customers/cluster",
                                 Type::int32,
                                 Extent::customers,
                                 0,
                                 0,
                                 Presence::always,
                                 "0.1",
                                 "K-means cluster, 0..k-1; clusters ordered by mean monetary, descending"};
inline constexpr Dataset r_score{"customers/r_score",
                                 Type::int8,
                                 Extent::customers,
                                 0,
                                 0,
                                 Presence::always,
                                 "0.1",
                                 "recency quintile score 1..5 (5 = most recent)"};
inline constexpr Dataset f_score{"customers/f_score",
                                 Type::int8,
                                 Extent::customers,
                                 0,
                                 0,
                                 Presence::always,
                                 "0.1",
                                 "frequency quintile score 1..5 (5 = most frequent)"};
inline constexpr Dataset m_score{"customers/m_score",
                                 Type::int8,
                                 Extent::customers,
                                 0,
                                 0,
                                 Presence::always,
                                 "0.1",
                                 "monetary quintile score 1..5 (5 = highest spend)"};
inline constexpr Dataset rfm_sum{"customers/rfm_sum",
                                 Type::int32,
                                 Extent::customers,
                                 0,
                                 0,
                                 Presence::always,
                                 "0.1",
                                 "r_score + f_score + m_score, 3..15"};
inline constexpr Dataset rfm_code{"customers/rfm_code",
                                  Type::int32,
                                  Extent::customers,
                                  0,
                                  0,
                                  Presence::always,
                                  "0.1",
                                  "100 r_score + 10 f_score + m_score, the RFM cell (111..555)"};
inline constexpr Dataset segment{"customers/segment",
                                 Type::int8,
                                 Extent::customers,
                                 0,
                                 0,
                                 Presence::always,
                                 "0.1",
                                 "classic RFM segment: index into /segments/name"};
inline constexpr Dataset high_value{"customers/high_value",
                                    Type::int8,
                                    Extent::customers,
                                    0,
                                    0,
                                    Presence::always,
                                    "0.1",
                                    "1 where monetary >= /segments/high_value_threshold, else 0"};

// ---------------------------------------------------------------- /segments (the 8 classic RFM segments)
inline constexpr std::uint64_t segment_count = 8;
inline constexpr Dataset segment_name{"segments/name",
                                      Type::string,
                                      Extent::fixed,
                                      segment_count,
                                      0,
                                      Presence::always,
                                      "0.1",
                                      "names of the 8 classic segments (important value, ..., general win-back)"};
inline constexpr Dataset segment_customers{"segments/count", Type::int64, Extent::fixed,          segment_count, 0,
                                           Presence::always, "0.1",       "customers per segment"};
inline constexpr Dataset segment_share{"segments/share", Type::float64, Extent::fixed,           segment_count, 0,
                                       Presence::always, "0.1",         "share of all customers"};
inline constexpr Dataset segment_mean_recency{"segments/mean_recency",
                                              Type::float64,
                                              Extent::fixed,
                                              segment_count,
                                              0,
                                              Presence::always,
                                              "0.1",
                                              "mean recency of the segment's customers (0 when empty)"};
inline constexpr Dataset segment_mean_frequency{
    "segments/mean_frequency",      Type::float64, Extent::fixed, segment_count, 0, Presence::always, "0.1",
    "mean frequency (0 when empty)"};
inline constexpr Dataset segment_mean_monetary{
    "segments/mean_monetary",      Type::float64, Extent::fixed, segment_count, 0, Presence::always, "0.1",
    "mean monetary (0 when empty)"};
inline constexpr Dataset segment_revenue_share{
    "segments/revenue_share",     Type::float64, Extent::fixed, segment_count, 0, Presence::always, "0.1",
    "share of the total monetary"};
inline constexpr Dataset score_cut_points{"segments/score_cut_points",
                                          Type::float64,
                                          Extent::fixed,
                                          3,
                                          4,
                                          Presence::always,
                                          "0.1",
                                          "per feature (R, F, M) the 4 quintile edges that give the scores"};
inline constexpr Dataset segment_reference{
    "segments/reference",
    Type::float64,
    Extent::fixed,
    3,
    0,
    Presence::always,
    "0.1",
    "per feature the split value (mean, or median with --segment-median) that defines high/low"};
inline constexpr Dataset high_value_threshold{"segments/high_value_threshold",
                                              Type::float64,
                                              Extent::scalar,
                                              0,
                                              0,
                                              Presence::always,
                                              "0.1",
                                              "monetary from which a customer is high value"};

// ---------------------------------------------------------------- /model
inline constexpr Dataset model_k{"model/k", Type::int64,      Extent::scalar, 0,
                                 0,         Presence::always, "0.1",          "clusters of the final model"};
inline constexpr Dataset centroids{"model/centroids",
                                   Type::float64,
                                   Extent::clusters,
                                   0,
                                   3,
                                   Presence::always,
                                   "0.1",
                                   "cluster centres in feature space"};
inline constexpr Dataset fit_index{"model/fit_index",
                                   Type::int32,
                                   Extent::clusters,
                                   0,
                                   0,
                                   Presence::always,
                                   "0.3",
                                   "each cluster's index in the K-means fit, before the clusters were ordered: a point "
                                   "equally near two centres belongs to the one with the lower fit index (scoring)"};
inline constexpr Dataset init_centroids{"model/init_centroids",
                                        Type::float64,
                                        Extent::clusters,
                                        0,
                                        3,
                                        Presence::always,
                                        "0.1",
                                        "the winning restart's initial centres (same cluster order)"};
inline constexpr Dataset centroids_rfm{"model/centroids_rfm",
                                       Type::float64,
                                       Extent::clusters,
                                       0,
                                       3,
                                       Presence::always,
                                       "0.1",
                                       "cluster means of R, F, M in original units"};
inline constexpr Dataset cluster_size{"model/cluster_size", Type::int64, Extent::clusters,       0, 0,
                                      Presence::always,     "0.1",       "customers per cluster"};
inline constexpr Dataset cluster_label{"model/cluster_label",
                                       Type::string,
                                       Extent::clusters,
                                       0,
                                       0,
                                       Presence::always,
                                       "0.1",
                                       "descriptive label of each cluster (loyal, new, at risk, churned, ...)"};
inline constexpr Dataset cluster_id{"model/cluster_id",
                                    Type::int64,
                                    Extent::clusters,
                                    0,
                                    0,
                                    Presence::always,
                                    "0.3",
                                    "stable id of each cluster (rows are in ascending id order): 0..k-1 by mean "
                                    "monetary, descending; with --previous the previous result's id of the cluster "
                                    "it overlaps most (an optimal assignment), new ids after the highest for the "
                                    "rest (/model cluster_ids says which rule)"};
inline constexpr Dataset inertia{"model/inertia",
                                 Type::float64,
                                 Extent::scalar,
                                 0,
                                 0,
                                 Presence::always,
                                 "0.1",
                                 "sum of squared distances to the nearest centre (feature space)"};
inline constexpr Dataset n_iter{"model/n_iter",
                                Type::int64,
                                Extent::scalar,
                                0,
                                0,
                                Presence::always,
                                "0.1",
                                "Lloyd iterations of the winning restart"};
inline constexpr Dataset converged{"model/converged",
                                   Type::int8,
                                   Extent::scalar,
                                   0,
                                   0,
                                   Presence::always,
                                   "0.1",
                                   "1 when the winning restart converged within --tol"};
inline constexpr Dataset restart{"model/restart",
                                 Type::int64,
                                 Extent::scalar,
                                 0,
                                 0,
                                 Presence::always,
                                 "0.1",
                                 "index of the winning restart (0-based)"};
inline constexpr Dataset silhouette{
    "model/silhouette",
    Type::float64,
    Extent::scalar,
    0,
    0,
    Presence::always,
    "0.1",
    "silhouette coefficient of the final model (on a sample when silhouette_sample > 0)"};
inline constexpr Dataset calinski_harabasz{"model/calinski_harabasz", Type::float64, Extent::scalar,           0, 0,
                                           Presence::always,          "0.1",         "Calinski-Harabasz index"};
inline constexpr Dataset davies_bouldin{"model/davies_bouldin", Type::float64, Extent::scalar,        0, 0,
                                        Presence::always,       "0.1",         "Davies-Bouldin index"};
inline constexpr Dataset silhouette_sample{"model/silhouette_sample",
                                           Type::int64,
                                           Extent::scalar,
                                           0,
                                           0,
                                           Presence::always,
                                           "0.1",
                                           "customers the silhouette was computed on; 0 = all (exact)"};
inline constexpr Dataset profile_share{
    "model/profile/share",           Type::float64, Extent::clusters, 0, 0, Presence::always, "0.1",
    "share of customers per cluster"};
inline constexpr Dataset profile_revenue_share{"model/profile/revenue_share",
                                               Type::float64,
                                               Extent::clusters,
                                               0,
                                               0,
                                               Presence::always,
                                               "0.1",
                                               "share of the total monetary per cluster"};
inline constexpr Dataset profile_mean{"model/profile/mean",
                                      Type::float64,
                                      Extent::clusters,
                                      0,
                                      3,
                                      Presence::always,
                                      "0.1",
                                      "per cluster the mean of R, F, M (original units)"};
inline constexpr Dataset profile_std{"model/profile/std",
                                     Type::float64,
                                     Extent::clusters,
                                     0,
                                     3,
                                     Presence::always,
                                     "0.1",
                                     "per cluster the population standard deviation of R, F, M"};
inline constexpr Dataset profile_min{"model/profile/min",
                                     Type::float64,
                                     Extent::clusters,
                                     0,
                                     3,
                                     Presence::always,
                                     "0.1",
                                     "per cluster the minimum of R, F, M"};
inline constexpr Dataset profile_max{"model/profile/max",
                                     Type::float64,
                                     Extent::clusters,
                                     0,
                                     3,
                                     Presence::always,
                                     "0.1",
                                     "per cluster the maximum of R, F, M"};
inline constexpr Dataset transform_lambda{"model/transform/lambda",
                                          Type::float64,
                                          Extent::fixed,
                                          3,
                                          0,
                                          Presence::always,
                                          "0.1",
                                          "per feature the Box-Cox / Yeo-Johnson lambda (0 for other transforms)"};
inline constexpr Dataset transform_shift{"model/transform/shift",
                                         Type::float64,
                                         Extent::fixed,
                                         3,
                                         0,
                                         Presence::always,
                                         "0.1",
                                         "per feature the shift added before the transform"};
inline constexpr Dataset transform_center{
    "model/transform/center",
    Type::float64,
    Extent::fixed,
    3,
    0,
    Presence::always,
    "0.1",
    "per feature the scaler's centre (mean, or minimum for minmax), subtracted after the transform"};
inline constexpr Dataset transform_scale{
    "model/transform/scale",
    Type::float64,
    Extent::fixed,
    3,
    0,
    Presence::always,
    "0.1",
    "per feature the scaler's divisor (standard deviation, or max - min; 1 for a constant feature)"};

// ---------------------------------------------------------------- /selection (with --k-range)
inline constexpr Dataset selection_k{"selection/k",        Type::int64, Extent::sweep,        0, 0,
                                     Presence::with_sweep, "0.1",       "each k of --k-range"};
inline constexpr Dataset selection_sse{"selection/sse",
                                       Type::float64,
                                       Extent::sweep,
                                       0,
                                       0,
                                       Presence::with_sweep,
                                       "0.1",
                                       "inertia (within-cluster sum of squares) of the best restart, the elbow curve"};
inline constexpr Dataset selection_silhouette{"selection/silhouette",
                                              Type::float64,
                                              Extent::sweep,
                                              0,
                                              0,
                                              Presence::with_sweep,
                                              "0.1",
                                              "silhouette per k (NaN with --sweep-metrics sse)"};
inline constexpr Dataset selection_calinski_harabasz{"selection/calinski_harabasz",
                                                     Type::float64,
                                                     Extent::sweep,
                                                     0,
                                                     0,
                                                     Presence::with_sweep,
                                                     "0.1",
                                                     "Calinski-Harabasz index per k (NaN with --sweep-metrics sse)"};
inline constexpr Dataset selection_davies_bouldin{"selection/davies_bouldin",
                                                  Type::float64,
                                                  Extent::sweep,
                                                  0,
                                                  0,
                                                  Presence::with_sweep,
                                                  "0.1",
                                                  "Davies-Bouldin index per k (NaN with --sweep-metrics sse)"};
inline constexpr Dataset selection_n_iter{"selection/n_iter",
                                          Type::int64,
                                          Extent::sweep,
                                          0,
                                          0,
                                          Presence::with_sweep,
                                          "0.1",
                                          "iterations of the best restart per k"};

// ---------------------------------------------------------------- with --previous
inline constexpr Dataset previous_cluster{"customers/previous_cluster",
                                          Type::int32,
                                          Extent::customers,
                                          0,
                                          0,
                                          Presence::with_previous,
                                          "0.3",
                                          "the customer's cluster in the --previous result (its /customers/cluster, "
                                          "a row of its /model); -1 = new tonight"};
inline constexpr Dataset previous_segment{"customers/previous_segment",
                                          Type::int8,
                                          Extent::customers,
                                          0,
                                          0,
                                          Presence::with_previous,
                                          "0.3",
                                          "the customer's classic segment in the --previous result; -1 = new tonight"};
inline constexpr Dataset migration_clusters{
    "migration/clusters",
    Type::int64,
    Extent::previous_clusters_and_new,
    0,
    0,
    Presence::with_previous,
    "0.3",
    "customers per (previous cluster, tonight's cluster); row k_prev = new tonight, column k = gone since the "
    "previous result; [k_prev, k] is 0",
    Extent::clusters_and_gone};
inline constexpr Dataset migration_clusters_revenue{
    "migration/clusters_revenue",
    Type::float64,
    Extent::previous_clusters_and_new,
    0,
    0,
    Presence::with_previous,
    "0.3",
    "monetary of those customers: tonight's, the previous result's for the gone column (exact sums)",
    Extent::clusters_and_gone};
inline constexpr std::uint64_t segment_migration_size = 9;
inline constexpr Dataset migration_segments{"migration/segments",
                                            Type::int64,
                                            Extent::fixed,
                                            segment_migration_size,
                                            segment_migration_size,
                                            Presence::with_previous,
                                            "0.3",
                                            "customers per (previous segment, tonight's segment), the 8 classic "
                                            "segments of /segments/name; row 8 = new tonight, column 8 = gone"};
inline constexpr Dataset migration_segments_revenue{"migration/segments_revenue",
                                                    Type::float64,
                                                    Extent::fixed,
                                                    segment_migration_size,
                                                    segment_migration_size,
                                                    Presence::with_previous,
                                                    "0.3",
                                                    "monetary of those customers (as clusters_revenue)"};
inline constexpr Dataset migration_previous_cluster_id{
    "migration/previous_cluster_id",
    Type::int64,
    Extent::previous_clusters,
    0,
    0,
    Presence::with_previous,
    "0.3",
    "the previous result's /model/cluster_id (row i = its cluster i)"};
inline constexpr Dataset migration_previous_cluster_label{"migration/previous_cluster_label",
                                                          Type::string,
                                                          Extent::previous_clusters,
                                                          0,
                                                          0,
                                                          Presence::with_previous,
                                                          "0.3",
                                                          "the previous result's /model/cluster_label"};
inline constexpr Dataset migration_fate{
    "migration/fate",
    Type::string,
    Extent::previous_clusters,
    0,
    0,
    Presence::with_previous,
    "0.3",
    "what became of each previous cluster (MONIC), judged on the customers of both nights, with overlap(X, Y) = "
    "share of X's customers in tonight's Y: survived (some Y holds >= 1/2 of X, and no other previous cluster "
    ">= 1/2 of its own), absorbed (as survived, but another previous cluster also moved >= 1/2 into that Y), "
    "split (no Y holds 1/2, but two or more Y holding >= 1/4 each together hold >= 1/2), disappeared (else, or no "
    "customer of X left)"};
inline constexpr Dataset migration_fate_cluster{
    "migration/fate_cluster",
    Type::int32,
    Extent::previous_clusters,
    0,
    0,
    Presence::with_previous,
    "0.3",
    "survived / absorbed: tonight's cluster (row of /model) it went to; else -1"};
inline constexpr Dataset drift_psi{"drift/psi",
                                   Type::float64,
                                   Extent::fixed,
                                   3,
                                   0,
                                   Presence::with_previous,
                                   "0.3",
                                   "population stability index of recency, frequency, monetary: 10 bins at the "
                                   "previous result's deciles, shares below 1e-4 counted as 1e-4 (< 0.1 stable, "
                                   "0.1-0.25 moderate shift, > 0.25 major shift)"};
inline constexpr Dataset drift_decile_edges{"drift/decile_edges",
                                            Type::float64,
                                            Extent::fixed,
                                            9,
                                            3,
                                            Presence::with_previous,
                                            "0.3",
                                            "the previous result's deciles (the ceil(q n / 10)-th smallest value, "
                                            "q = 1..9); bin b holds the values above b edges"};
inline constexpr Dataset drift_previous_share{"drift/previous_share",
                                              Type::float64,
                                              Extent::fixed,
                                              10,
                                              3,
                                              Presence::with_previous,
                                              "0.3",
                                              "share of the previous result's customers per decile bin"};
inline constexpr Dataset drift_share{"drift/share",
                                     Type::float64,
                                     Extent::fixed,
                                     10,
                                     3,
                                     Presence::with_previous,
                                     "0.3",
                                     "share of tonight's customers per decile bin"};
inline constexpr Dataset drift_previous_mean{"drift/previous_mean",
                                             Type::float64,
                                             Extent::fixed,
                                             3,
                                             0,
                                             Presence::with_previous,
                                             "0.3",
                                             "mean recency, frequency, monetary of the previous result"};
inline constexpr Dataset drift_mean{"drift/mean",
                                    Type::float64,
                                    Extent::fixed,
                                    3,
                                    0,
                                    Presence::with_previous,
                                    "0.3",
                                    "mean recency, frequency, monetary tonight"};
inline constexpr Dataset drift_previous_parameters{"drift/previous_parameters",
                                                   Type::float64,
                                                   Extent::fixed,
                                                   4,
                                                   3,
                                                   Presence::with_previous,
                                                   "0.3",
                                                   "the previous model's transform λ, shift, scaler center, scale "
                                                   "(rows) per feature"};
inline constexpr Dataset drift_parameters{"drift/parameters",
                                          Type::float64,
                                          Extent::fixed,
                                          4,
                                          3,
                                          Presence::with_previous,
                                          "0.3",
                                          "tonight's transform λ, shift, scaler center, scale (rows) per feature"};
inline constexpr Dataset drift_previous_cluster_size{"drift/previous_cluster_size",
                                                     Type::int64,
                                                     Extent::previous_clusters,
                                                     0,
                                                     0,
                                                     Presence::with_previous,
                                                     "0.3",
                                                     "customers per cluster of the previous result"};

/// Every dataset, in the order the writer creates them.
[[nodiscard]] std::span<const Dataset* const> datasets();
/// Every attribute (besides the checksums, see h5.hpp).
[[nodiscard]] std::span<const Attribute> attributes();
/// The description of `path`, or nullptr.
[[nodiscard]] const Dataset* find_dataset(std::string_view path);
/// The description of attribute `name` of `object` (families such as time_<phase> match by
/// prefix), or nullptr.
[[nodiscard]] const Attribute* find_attribute(std::string_view object, std::string_view name);

/// docs/result-format.md.
[[nodiscard]] std::string markdown();

}  // namespace rfmseg::result_format
