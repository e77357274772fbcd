#pragma once
// Comparing two nights' clusterings of (mostly) the same customers: the matching of today's
// clusters to yesterday's ids, the adjusted Rand index, the fate of each previous cluster and the
// population stability index of a feature. Pure functions of global counts (every rank calls them
// with the same allreduced tables and gets the same answer), so they know nothing of MPI.
//
// A contingency table is row-major [rows, cols]: table[i * cols + j] = customers in previous
// cluster i and current cluster j (customers present on both nights only).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace rfmseg {

/// For each current cluster j, the previous cluster it takes the id of, or -1 (no partner):
/// the assignment maximising the total overlap Σ table[match[j], j] (the Hungarian method on the
/// contingency table, as scipy.optimize.linear_sum_assignment(table, maximize=True)). Ties between
/// optimal assignments go, deterministically, to the one keeping more clusters at their own
/// index (match[j] == j), then to the method's fixed scan order. With more current than previous
/// clusters, min(rows, cols) clusters get a partner.
[[nodiscard]] std::vector<int> match_clusters(std::span<const std::int64_t> table, int rows, int cols);

/// Adjusted Rand index (Hubert and Arabie, 1985; sklearn.metrics.adjusted_rand_score) of the two
/// labelings the contingency table counts. 1 when fewer than two customers or both labelings put
/// everyone in one cluster (as scikit-learn does).
[[nodiscard]] double adjusted_rand_index(std::span<const std::int64_t> table, int rows, int cols);

/// What became of a previous cluster (MONIC, Spiliopoulou et al., 2006), judged on the customers
/// present on both nights. With overlap(X, Y) = |X ∩ Y| / |X| for previous cluster X and current Y:
/// - survived: some Y holds >= survival_threshold of X and no other previous cluster has >=
///   survival_threshold of its customers in that Y;
/// - absorbed: as survived, but another previous cluster also moved >= survival_threshold into Y;
/// - split: no Y holds survival_threshold of X, but the current clusters that each hold >=
///   split_part_threshold of X are two or more and together hold >= survival_threshold of X;
/// - disappeared: anything else (including no customer of X left tonight).
enum class ClusterFate : std::int8_t { survived, absorbed, split, disappeared };
inline constexpr double survival_threshold = 0.5;
inline constexpr double split_part_threshold = 0.25;

struct FateOf {
  ClusterFate fate = ClusterFate::disappeared;
  int target = -1;  ///< survived / absorbed: the current cluster (column); else -1
};

[[nodiscard]] std::vector<FateOf> cluster_fates(std::span<const std::int64_t> table, int rows, int cols);
[[nodiscard]] const char* fate_name(ClusterFate fate);

/// Decile bins of the population stability index: bin(x) = number of edges e with e < x, so a
/// value equal to an edge falls into the lower bin (10 bins for 9 edges).
inline constexpr std::size_t psi_bins = 10;
[[nodiscard]] std::size_t psi_bin(std::span<const double> edges, double x);

/// PSI = Σ_b (q_b − p_b) · ln(q_b / p_b) over the bins, with p the previous and q the current
/// shares; a share below psi_floor counts as psi_floor (an empty bin would make it infinite).
/// Usual reading: < 0.1 stable, 0.1–0.25 a moderate shift, > 0.25 a major shift.
inline constexpr double psi_floor = 1e-4;
[[nodiscard]] double population_stability(std::span<const std::int64_t> previous_counts,
                                          std::span<const std::int64_t> current_counts);

}  // namespace rfmseg
