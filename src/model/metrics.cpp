#include "rfmseg/model/metrics.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "kmeans/kernels.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/model/kmeans/steps.hpp"
#include "rfmseg/parallel/reduce.hpp"
#include "rfmseg/parallel/select.hpp"

namespace rfmseg {

namespace {

constexpr std::size_t D = feature_count;
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

/// Collective: throws AgreedError on every rank when the input is malformed on any rank.
void check_input(const mpi::Comm& comm, const Features& features, std::span<const std::int32_t> labels, int k,
                 const char* what) {
  mpi::assert_same_on_all_ranks(comm, k, "metrics: k");
  bool is_bad = k < 1 || labels.size() != features.size();
  for (std::size_t d = 1; d < D; ++d) is_bad = is_bad || features.column[d].size() != features.size();
  if (!is_bad) {
    for (const auto label : labels) is_bad = is_bad || label < 0 || label >= k;
  }
  if (mpi::any_of(comm, is_bad)) {
    throw AgreedError(std::string(what) + ": labels must match the feature rows and lie in [0, k), k >= 1 (k = " +
                          std::to_string(k) + ")",
                      2);
  }
}

/// Global point count, points per cluster and the number of non-empty clusters.
struct ClusterCounts {
  std::int64_t n = 0;
  std::vector<std::int64_t> size;
  int present = 0;
  /// scikit-learn's check_number_of_labels: 1 < clusters present < n.
  [[nodiscard]] bool is_defined() const { return present > 1 && present < n; }
};

ClusterCounts count_clusters(const mpi::Comm& comm, std::span<const std::int32_t> labels, int k) {
  ClusterCounts counts;
  counts.size.assign(static_cast<std::size_t>(k), 0);
  for (const auto label : labels) ++counts.size[static_cast<std::size_t>(label)];
  counts.size = mpi::allreduce(comm, std::move(counts.size), mpi::Op::sum);
  for (const auto s : counts.size) {
    counts.n += s;
    if (s > 0) ++counts.present;
  }
  return counts;
}

using Point = std::array<double, D>;

/// Collective: the mean of every cluster (zeros for an empty one), from exact grouped sums.
std::vector<Point> cluster_means(const mpi::Comm& comm, const Features& features, std::span<const std::int32_t> labels,
                                 const ClusterCounts& counts) {
  const auto k = counts.size.size();
  std::vector<Point> means(k, Point{});
  for (std::size_t d = 0; d < D; ++d) {
    const auto sums = global_grouped_sum(comm, features.column[d], labels, static_cast<int>(k));
    for (std::size_t c = 0; c < k; ++c)
      if (counts.size[c] > 0) means[c][d] = sums[c] / static_cast<double>(counts.size[c]);
  }
  return means;
}

double squared_distance(const Point& a, const Point& b) {
  double s = 0;
  for (std::size_t d = 0; d < D; ++d) s += (a[d] - b[d]) * (a[d] - b[d]);
  return s;
}

Point row_of(const Features& features, std::size_t i) {
  Point p{};
  for (std::size_t d = 0; d < D; ++d) p[d] = features.column[d][i];
  return p;
}

// ---------------------------------------------------------------- exact silhouette

/// One row in flight between ranks.
struct WireRow {
  Point x;
  std::int32_t label;
  std::int32_t padding;
};

/// A chunk of rows grouped by cluster (stable: global row order inside a cluster), as columns.
struct GroupedChunk {
  std::array<std::vector<double>, D> column;
  std::vector<std::size_t> begin;  ///< cluster c occupies [begin[c], begin[c + 1])
};

GroupedChunk group_by_cluster(const std::vector<WireRow>& rows, std::size_t k) {
  GroupedChunk chunk;
  chunk.begin.assign(k + 1, 0);
  for (const auto& row : rows) ++chunk.begin[static_cast<std::size_t>(row.label) + 1];
  for (std::size_t c = 0; c < k; ++c) chunk.begin[c + 1] += chunk.begin[c];
  for (auto& column : chunk.column) column.resize(rows.size());
  std::vector<std::size_t> next(chunk.begin.begin(), chunk.begin.end() - 1);
  for (const auto& row : rows) {
    const std::size_t at = next[static_cast<std::size_t>(row.label)]++;
    for (std::size_t d = 0; d < D; ++d) chunk.column[d][at] = row.x[d];
  }
  return chunk;
}

/// ‖p − y_j‖ for one row j.
double distance_to(const Point& p, const double* y0, const double* y1, const double* y2, std::size_t j) {
  const double a = p[0] - y0[j];
  const double b = p[1] - y1[j];
  const double c = p[2] - y2[j];
  return std::sqrt(a * a + b * b + c * c);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RFMSEG_SILHOUETTE_AVX2 1
/// distance_sum with the four lanes in one AVX2 vector (no FMA): lane r still gets rows 4q + r,
/// with the same operations in the same order, so the same bits; used when the K-means kernels
/// run on AVX2 (kmeans::kernel_path(), which also honours RFMSEG_CPU=portable).
__attribute__((target("avx2"))) double distance_sum_avx2(const Point& p, const double* y0, const double* y1,
                                                         const double* y2, std::size_t length) {
  std::array<double, 4> lane{};
  std::size_t j = 0;
  const __m256d p0 = _mm256_set1_pd(p[0]);
  const __m256d p1 = _mm256_set1_pd(p[1]);
  const __m256d p2 = _mm256_set1_pd(p[2]);
  __m256d lanes = _mm256_setzero_pd();
  for (; j + 4 <= length; j += 4) {
    const __m256d a = _mm256_sub_pd(p0, _mm256_loadu_pd(y0 + j));
    const __m256d b = _mm256_sub_pd(p1, _mm256_loadu_pd(y1 + j));
    const __m256d c = _mm256_sub_pd(p2, _mm256_loadu_pd(y2 + j));
    lanes = _mm256_add_pd(lanes, _mm256_sqrt_pd(_mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(a, a), _mm256_mul_pd(b, b)),
                                                              _mm256_mul_pd(c, c))));
  }
  _mm256_storeu_pd(lane.data(), lanes);
  double tail = 0;
  for (; j < length; ++j) tail += distance_to(p, y0, y1, y2, j);
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + tail;
}
#endif

/// Σ_j ‖p − y_j‖ over a run of rows, in a fixed order: rows 4q + r go to lane r, the lanes are
/// combined as (0 + 1) + (2 + 3), then the tail rows are added. The SSE2 path (x86-64's baseline;
/// the square root dominates and sqrtpd does two at once) and the AVX2 one perform exactly the
/// same IEEE operations in the same order as the portable one, so all give the same bits.
double distance_sum_portable(const Point& p, const double* y0, const double* y1, const double* y2, std::size_t length) {
  std::array<double, 4> lane{};
  std::size_t j = 0;
#if defined(__SSE2__)
  const __m128d p0 = _mm_set1_pd(p[0]);
  const __m128d p1 = _mm_set1_pd(p[1]);
  const __m128d p2 = _mm_set1_pd(p[2]);
  auto two_distances = [&](std::size_t at) {
    const __m128d a = _mm_sub_pd(p0, _mm_loadu_pd(y0 + at));
    const __m128d b = _mm_sub_pd(p1, _mm_loadu_pd(y1 + at));
    const __m128d c = _mm_sub_pd(p2, _mm_loadu_pd(y2 + at));
    return _mm_sqrt_pd(_mm_add_pd(_mm_add_pd(_mm_mul_pd(a, a), _mm_mul_pd(b, b)), _mm_mul_pd(c, c)));
  };
  __m128d lanes01 = _mm_setzero_pd();
  __m128d lanes23 = _mm_setzero_pd();
  for (; j + 4 <= length; j += 4) {
    lanes01 = _mm_add_pd(lanes01, two_distances(j));
    lanes23 = _mm_add_pd(lanes23, two_distances(j + 2));
  }
  _mm_storeu_pd(lane.data(), lanes01);
  _mm_storeu_pd(lane.data() + 2, lanes23);
#else
  for (; j + 4 <= length; j += 4)
    for (std::size_t r = 0; r < 4; ++r) lane[r] += distance_to(p, y0, y1, y2, j + r);
#endif
  double tail = 0;
  for (; j < length; ++j) tail += distance_to(p, y0, y1, y2, j);
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + tail;
}

double distance_sum(const Point& p, const double* y0, const double* y1, const double* y2, std::size_t length) {
#if defined(RFMSEG_SILHOUETTE_AVX2)
  static const bool avx2 = kmeans::kernel_path() == "avx2";
  if (avx2) return distance_sum_avx2(p, y0, y1, y2, length);
#endif
  return distance_sum_portable(p, y0, y1, y2, length);
}

/// scikit-learn's per-point silhouette from the point's distance sums to every cluster.
double point_silhouette(std::span<const double> sums, std::size_t own, const std::vector<std::int64_t>& size) {
  if (size[own] <= 1) return 0;  // alone in its cluster: 0/0 in scikit-learn, mapped to 0
  const double a = sums[own] / static_cast<double>(size[own] - 1);
  double b = std::numeric_limits<double>::infinity();
  for (std::size_t c = 0; c < size.size(); ++c)
    if (c != own && size[c] > 0) b = std::min(b, sums[c] / static_cast<double>(size[c]));
  const double denominator = std::max(a, b);
  return denominator > 0 ? (b - a) / denominator : 0;  // a = b = 0: NaN in scikit-learn, mapped to 0
}

}  // namespace

namespace detail {

double silhouette_distance_sum(const double* p, const double* y0, const double* y1, const double* y2,
                               std::size_t length, bool avx2) {
  const Point point{p[0], p[1], p[2]};
#if defined(RFMSEG_SILHOUETTE_AVX2)
  if (avx2 && kmeans::detail::avx2_kernels_usable()) return distance_sum_avx2(point, y0, y1, y2, length);
#else
  (void)avx2;
#endif
  return distance_sum_portable(point, y0, y1, y2, length);
}

double exact_silhouette(const mpi::Comm& comm, const Features& features, std::span<const std::int32_t> labels, int k,
                        std::size_t chunk_rows) {
  check_input(comm, features, labels, k, "silhouette");
  const auto counts = count_clusters(comm, labels, k);
  if (!counts.is_defined()) return not_a_number;
  const auto kk = static_cast<std::size_t>(k);
  const std::size_t n_local = features.size();
  const auto n = static_cast<std::uint64_t>(counts.n);
  const std::uint64_t first = mpi::exscan_sum<std::uint64_t>(comm, n_local);
  const std::uint64_t chunk = std::max<std::size_t>(chunk_rows, 1);

  // sums[i * k + c]: Σ distance from local point i to the points of cluster c, accumulated chunk
  // by chunk in global row order.
  std::vector<double> sums(n_local * kk, 0.0);
  std::vector<Point> local_points(n_local);
  for (std::size_t i = 0; i < n_local; ++i) local_points[i] = row_of(features, i);
  for (std::uint64_t lo = 0; lo < n; lo += chunk) {
    const std::uint64_t hi = std::min(n, lo + chunk);
    // This rank's piece of global rows [lo, hi); the pieces concatenate in rank order = row order.
    const std::uint64_t own_lo = std::clamp(lo, first, first + n_local) - first;
    const std::uint64_t own_hi = std::clamp(hi, first, first + n_local) - first;
    std::vector<WireRow> piece;
    piece.reserve(own_hi - own_lo);
    for (std::uint64_t i = own_lo; i < own_hi; ++i) piece.push_back(WireRow{local_points[i], labels[i], 0});
    const auto grouped = group_by_cluster(mpi::allgatherv<WireRow>(comm, piece), kk);
    for (std::size_t i = 0; i < n_local; ++i) {
      double* point_sums = sums.data() + i * kk;
      for (std::size_t c = 0; c < kk; ++c) {
        const std::size_t b = grouped.begin[c];
        const std::size_t e = grouped.begin[c + 1];
        if (b == e) continue;
        point_sums[c] += distance_sum(local_points[i], grouped.column[0].data() + b, grouped.column[1].data() + b,
                                      grouped.column[2].data() + b, e - b);
      }
    }
  }

  std::vector<double> scores(n_local);
  for (std::size_t i = 0; i < n_local; ++i) {
    scores[i] = point_silhouette(std::span<const double>(sums).subspan(i * kk, kk), static_cast<std::size_t>(labels[i]),
                                 counts.size);
  }
  return global_sum(comm, scores) / static_cast<double>(counts.n);
}

}  // namespace detail

// ---------------------------------------------------------------- public metrics

double calinski_harabasz(const mpi::Comm& comm, const Features& features, std::span<const std::int32_t> labels, int k) {
  check_input(comm, features, labels, k, "calinski_harabasz");
  const auto counts = count_clusters(comm, labels, k);
  if (!counts.is_defined()) return not_a_number;
  const auto means = cluster_means(comm, features, labels, counts);
  Point overall{};
  for (std::size_t d = 0; d < D; ++d) overall[d] = global_sum(comm, features.column[d]) / static_cast<double>(counts.n);

  // Between-cluster dispersion: from reduced values, the same on every rank.
  double between = 0;
  for (std::size_t c = 0; c < means.size(); ++c)
    if (counts.size[c] > 0) between += static_cast<double>(counts.size[c]) * squared_distance(means[c], overall);

  // Within-cluster dispersion: one exact global sum of the rows' squared distances to their mean.
  std::vector<double> within_rows(features.size());
  for (std::size_t i = 0; i < within_rows.size(); ++i)
    within_rows[i] = squared_distance(row_of(features, i), means[static_cast<std::size_t>(labels[i])]);
  const double within = global_sum(comm, within_rows);

  if (within == 0.0) return 1.0;  // scikit-learn's convention
  const auto m = static_cast<double>(counts.present);
  return between * (static_cast<double>(counts.n) - m) / (within * (m - 1.0));
}

double davies_bouldin(const mpi::Comm& comm, const Features& features, std::span<const std::int32_t> labels, int k) {
  check_input(comm, features, labels, k, "davies_bouldin");
  const auto counts = count_clusters(comm, labels, k);
  if (!counts.is_defined()) return not_a_number;
  const auto means = cluster_means(comm, features, labels, counts);

  // s_c: mean distance of cluster c's points to its mean (exact grouped sums).
  std::vector<double> distances(features.size());
  for (std::size_t i = 0; i < distances.size(); ++i)
    distances[i] = std::sqrt(squared_distance(row_of(features, i), means[static_cast<std::size_t>(labels[i])]));
  const auto distance_sums = global_grouped_sum(comm, distances, labels, k);

  std::vector<std::size_t> present;
  for (std::size_t c = 0; c < means.size(); ++c)
    if (counts.size[c] > 0) present.push_back(c);
  const std::size_t m = present.size();
  std::vector<double> spread(m);
  for (std::size_t i = 0; i < m; ++i)
    spread[i] = distance_sums[present[i]] / static_cast<double>(counts.size[present[i]]);
  std::vector<double> separation(m * m);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j)
      separation[i * m + j] = i == j ? 0.0 : std::sqrt(squared_distance(means[present[i]], means[present[j]]));

  // scikit-learn: np.allclose(x, 0) (|x| <= 1e-8 everywhere) on either array gives 0.
  auto near_zero = [](double x) { return std::fabs(x) <= 1e-8; };
  if (std::all_of(spread.begin(), spread.end(), near_zero) ||
      std::all_of(separation.begin(), separation.end(), near_zero))
    return 0.0;

  double total = 0;
  for (std::size_t i = 0; i < m; ++i) {
    double worst = -std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < m; ++j) {
      // Coinciding means (and i == j) count as infinitely far apart, as in scikit-learn.
      const double d = separation[i * m + j] == 0 ? std::numeric_limits<double>::infinity() : separation[i * m + j];
      worst = std::max(worst, (spread[i] + spread[j]) / d);
    }
    total += worst;
  }
  return total / static_cast<double>(m);
}

std::vector<std::size_t> seeded_sample(const mpi::Comm& comm, std::span<const std::uint64_t> keys,
                                       std::int64_t sample_size, std::uint64_t seed, std::uint64_t stream) {
  const std::uint64_t n = mpi::allreduce<std::uint64_t>(comm, keys.size(), mpi::Op::sum);
  std::vector<std::size_t> chosen;
  if (sample_size <= 0) return chosen;
  const auto wanted = static_cast<std::uint64_t>(sample_size);
  if (wanted >= n) {
    chosen.resize(keys.size());
    for (std::size_t i = 0; i < chosen.size(); ++i) chosen[i] = i;
    return chosen;
  }

  std::vector<std::uint64_t> draws(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) draws[i] = random_word(seed, stream, keys[i]);
  // Only draws below a bound can be the threshold: the bound starts at twice the expected share of
  // the uniform draws and doubles until at least `wanted` draws are below it over all ranks. Only
  // those few are sorted (sorting every draw cost ~10 ms per fit of a sweep at 250 000 rows).
  const double share = 2.0 * static_cast<double>(wanted) / static_cast<double>(n);
  std::uint64_t bound = share >= 1 ? UINT64_MAX : static_cast<std::uint64_t>(std::ldexp(share, 64));
  const auto below_bound = [&](std::uint64_t draw) { return bound == UINT64_MAX || draw < bound; };
  for (;;) {
    const auto local = static_cast<std::uint64_t>(std::count_if(draws.begin(), draws.end(), below_bound));
    if (bound == UINT64_MAX || mpi::allreduce(comm, local, mpi::Op::sum) >= wanted) break;
    bound = bound > UINT64_MAX / 2 ? UINT64_MAX : 2 * bound;
  }
  std::vector<std::uint64_t> sorted;
  for (const std::uint64_t draw : draws)
    if (below_bound(draw)) sorted.push_back(draw);
  std::sort(sorted.begin(), sorted.end());
  // The wanted-th smallest draw over all ranks (exact radix selection, 8 allreduces).
  const SelectionQuery query{sorted, {wanted}};
  const std::uint64_t threshold = global_select(comm, std::span<const SelectionQuery>(&query, 1))[0][0];

  // Every draw below the threshold is in; draws equal to it fill up the rest in global row order.
  const auto local_below =
      static_cast<std::uint64_t>(std::lower_bound(sorted.begin(), sorted.end(), threshold) - sorted.begin());
  const auto local_ties =
      static_cast<std::uint64_t>(std::upper_bound(sorted.begin(), sorted.end(), threshold) - sorted.begin()) -
      local_below;
  const std::uint64_t below = mpi::allreduce(comm, local_below, mpi::Op::sum);
  const std::uint64_t ties_before = mpi::exscan_sum(comm, local_ties);
  const std::uint64_t ties_wanted = wanted - below;
  std::uint64_t ties_taken = ties_wanted > ties_before ? std::min(ties_wanted - ties_before, local_ties) : 0;
  for (std::size_t i = 0; i < draws.size(); ++i) {
    if (draws[i] < threshold) {
      chosen.push_back(i);
    } else if (draws[i] == threshold && ties_taken > 0) {
      chosen.push_back(i);
      --ties_taken;
    }
  }
  return chosen;
}

double silhouette(const mpi::Comm& comm, const Features& features, std::span<const std::int32_t> labels, int k,
                  std::span<const std::uint64_t> keys, std::int64_t sample_size, std::uint64_t seed) {
  check_input(comm, features, labels, k, "silhouette");
  const auto n = mpi::allreduce<std::int64_t>(comm, static_cast<std::int64_t>(features.size()), mpi::Op::sum);
  if (sample_size <= 0 || sample_size >= n) {
    return detail::exact_silhouette(comm, features, labels, k, silhouette_chunk_rows);
  }
  if (mpi::any_of(comm, keys.size() != features.size())) {
    throw AgreedError("silhouette: a sample needs one key per feature row", 2);
  }
  const auto rows = seeded_sample(comm, keys, sample_size, seed, silhouette_sample_stream);
  Features sample;
  sample.resize(rows.size());
  std::vector<std::int32_t> sample_labels(rows.size());
  for (std::size_t s = 0; s < rows.size(); ++s) {
    for (std::size_t d = 0; d < D; ++d) sample.column[d][s] = features.column[d][rows[s]];
    sample_labels[s] = labels[rows[s]];
  }
  return detail::exact_silhouette(comm, sample, sample_labels, k, silhouette_chunk_rows);
}

ClusterMetrics cluster_metrics(const mpi::Comm& comm, const Features& features, std::span<const std::int32_t> labels,
                               int k, std::span<const std::uint64_t> keys, std::int64_t sample_size,
                               std::uint64_t seed) {
  ClusterMetrics metrics;
  metrics.calinski_harabasz = calinski_harabasz(comm, features, labels, k);
  metrics.davies_bouldin = davies_bouldin(comm, features, labels, k);
  metrics.silhouette = silhouette(comm, features, labels, k, keys, sample_size, seed);
  const auto n = mpi::allreduce<std::int64_t>(comm, static_cast<std::int64_t>(features.size()), mpi::Op::sum);
  metrics.silhouette_sample = sample_size > 0 && sample_size < n ? sample_size : 0;
  return metrics;
}

}  // namespace rfmseg
