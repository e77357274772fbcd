#pragma once
// Cluster-quality metrics, distributed: Calinski-Harabasz, Davies-Bouldin and the silhouette
// coefficient, with the definitions of scikit-learn's calinski_harabasz_score,
// davies_bouldin_score and silhouette_score (Euclidean distance).
//
//   Calinski-Harabasz  (between-cluster dispersion / (m − 1)) / (within-cluster dispersion / (n − m));
//                      1 when the within-cluster dispersion is 0 (as scikit-learn).
//   Davies-Bouldin     mean over clusters of max_j (s_i + s_j) / d(c_i, c_j), s = mean distance of a
//                      cluster's points to its mean; 0 when every s or every d is ~0 (|·| <= 1e-8,
//                      scikit-learn's np.allclose test).
//   silhouette         mean over points of (b − a) / max(a, b), a = mean distance to the other points
//                      of its cluster, b = smallest mean distance to the points of another cluster;
//                      a point alone in its cluster (and a point with a = b = 0) scores 0.
//
// Here n is the number of points and m the number of NON-EMPTY clusters: like scikit-learn, which
// only sees the labels that occur, an empty cluster is ignored. Cluster means are recomputed from
// the labels (they need not be the K-means centroids). The metrics are undefined unless
// 2 <= m <= n − 1 (scikit-learn raises ValueError): then every function returns NaN — in
// particular always for k == 1.
//
// Exactness and rank-count independence. Every global sum goes through the exact fixed-point
// reductions of reduce.hpp (or exact integer counts), so means, dispersions and the final averages
// are bit-identical for any partition of the rows. The silhouette needs, for each point, the sum
// of its distances to every cluster; those sums are local to the point's rank and are accumulated
// over the other points in one fixed global order: the rows are visited in global chunks of
// silhouette_chunk_rows consecutive global rows (every rank receives each chunk once, by an
// allgatherv of the ranks' pieces, so one chunk is in flight at a time and memory stays
// O(n_local × k + chunk)); inside a chunk the rows are stably grouped by cluster and each
// cluster's run is summed in a fixed 4-lane pattern. Nothing in that order depends on the rank
// count, so neither do the bits. The points are never gathered onto one rank.
//
// Sampled silhouette. For large n the silhouette is computed on a seeded, partition-independent
// sample: every row draws random_word(seed, silhouette_sample_stream, key) from its key (the hash
// of its customer id), and the sample_size rows with the smallest draws are taken (ties: lower
// global row first), selected exactly across ranks: the sample_size-th smallest draw, found by
// global_select (parallel/select.hpp), is the threshold, and draws equal to it are taken in
// global row order. As scikit-learn's silhouette_score(X, labels, sample_size=...) does, the
// coefficient is then the silhouette of the sampled subset alone: a and b are distances to the sampled points only,
// cluster sizes are the sampled sizes, and m counts the clusters present in the sample. (scikit-learn draws its sample
// with a numpy permutation; ours is reproducible from the keys instead, for any rank count.)

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rfmseg/core/features.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// The three metrics of one clustering.
struct ClusterMetrics {
  double calinski_harabasz = 0;
  double davies_bouldin = 0;
  double silhouette = 0;
  /// Points the silhouette was averaged over when it was sampled; 0 = exact (all points).
  std::int64_t silhouette_sample = 0;
};

/// Random stream of the silhouette sample (the ASCII bytes "SILHOUET").
inline constexpr std::uint64_t silhouette_sample_stream = 0x53494c484f554554ULL;

/// Global rows per chunk of the exact silhouette (fixes the summation order; do not vary per run).
inline constexpr std::size_t silhouette_chunk_rows = 8192;

// All functions are collective over `comm`. `features` holds this rank's rows (a contiguous block
// of the globally ordered rows, blocks in rank order), `labels` their clusters in [0, k); a label
// outside [0, k) or a size mismatch on any rank throws AgreedError on every rank.

/// Calinski-Harabasz index (variance ratio); NaN when undefined (see above).
[[nodiscard]] double calinski_harabasz(const mpi::Comm& comm, const Features& features,
                                       std::span<const std::int32_t> labels, int k);

/// Davies-Bouldin index; NaN when undefined.
[[nodiscard]] double davies_bouldin(const mpi::Comm& comm, const Features& features,
                                    std::span<const std::int32_t> labels, int k);

/// Mean silhouette coefficient. sample_size == 0 or >= n: exact over all points (`keys` unused and
/// may be empty). Otherwise the silhouette of the seeded sample of sample_size rows described
/// above; `keys` holds one key per local row. NaN when undefined (for the sample: fewer than 2
/// clusters present in it, or as many clusters as sampled points).
[[nodiscard]] double silhouette(const mpi::Comm& comm, const Features& features, std::span<const std::int32_t> labels,
                                int k, std::span<const std::uint64_t> keys, std::int64_t sample_size,
                                std::uint64_t seed);

/// All three metrics; silhouette_sample records the sample actually used (0 = exact).
[[nodiscard]] ClusterMetrics cluster_metrics(const mpi::Comm& comm, const Features& features,
                                             std::span<const std::int32_t> labels, int k,
                                             std::span<const std::uint64_t> keys, std::int64_t sample_size,
                                             std::uint64_t seed);

/// The seeded sample: local indices (ascending) of this rank's rows among the sample_size rows with
/// the smallest random_word(seed, stream, key), ties by global row. All rows when sample_size >= n,
/// none when sample_size <= 0. The chosen set depends only on the keys in global row order.
[[nodiscard]] std::vector<std::size_t> seeded_sample(const mpi::Comm& comm, std::span<const std::uint64_t> keys,
                                                     std::int64_t sample_size, std::uint64_t seed,
                                                     std::uint64_t stream);

namespace detail {

/// Σ_j ‖p − y_j‖ as the silhouette sums it (four lanes, rows 4q + r in lane r), on the portable
/// (SSE2) path or, if avx2 and the CPU has it, the AVX2 one: the same bits either way (tested).
[[nodiscard]] double silhouette_distance_sum(const double* p, const double* y0, const double* y1, const double* y2,
                                             std::size_t length, bool avx2);

/// Exact silhouette over all rows, chunks of `chunk_rows` global rows (tests vary it).
[[nodiscard]] double exact_silhouette(const mpi::Comm& comm, const Features& features,
                                      std::span<const std::int32_t> labels, int k, std::size_t chunk_rows);

}  // namespace detail

}  // namespace rfmseg
