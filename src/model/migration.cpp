#include "rfmseg/model/migration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "rfmseg/core/int128.hpp"

namespace rfmseg {

namespace {

void check_table(std::span<const std::int64_t> table, int rows, int cols) {
  if (rows < 0 || cols < 0 || table.size() != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols))
    throw std::invalid_argument("contingency table: size differs from rows x cols");
}

using int128 = int128_t;

int128 pairs(std::int64_t count) { return static_cast<int128>(count) * (count - 1) / 2; }

}  // namespace

std::vector<int> match_clusters(std::span<const std::int64_t> table, int rows, int cols) {
  check_table(table, rows, cols);
  std::vector<int> match(static_cast<std::size_t>(cols), -1);
  if (rows == 0 || cols == 0) return match;
  // Square weights (padding 0): overlap first, then one point for keeping a cluster's index.
  const int n = std::max(rows, cols);
  const std::int64_t tie_scale = static_cast<std::int64_t>(n) + 1;
  std::int64_t top = 0;
  std::vector<std::int64_t> weight(static_cast<std::size_t>(n) * static_cast<std::size_t>(n), 0);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const std::int64_t w =
          table[static_cast<std::size_t>(i) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(j)] *
              tie_scale +
          (i == j ? 1 : 0);
      weight[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)] = w;
      top = std::max(top, w);
    }
  // Hungarian method (potentials, O(n^3)) minimising top − weight; 1-based, row 0 / column 0 unused.
  const auto cost = [&](int i, int j) {
    return top -
           weight[static_cast<std::size_t>(i - 1) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j - 1)];
  };
  const std::int64_t infinity = std::numeric_limits<std::int64_t>::max();
  const auto size = static_cast<std::size_t>(n) + 1;
  std::vector<std::int64_t> u(size, 0), v(size, 0);
  std::vector<int> row_of(size, 0), way(size, 0);  // row_of[j]: the row assigned to column j
  for (int i = 1; i <= n; ++i) {
    row_of[0] = i;
    int j0 = 0;
    std::vector<std::int64_t> min_v(size, infinity);
    std::vector<char> used(size, 0);
    do {
      used[static_cast<std::size_t>(j0)] = 1;
      const int i0 = row_of[static_cast<std::size_t>(j0)];
      std::int64_t delta = infinity;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        const auto uj = static_cast<std::size_t>(j);
        if (used[uj]) continue;
        const std::int64_t current = cost(i0, j) - u[static_cast<std::size_t>(i0)] - v[uj];
        if (current < min_v[uj]) {
          min_v[uj] = current;
          way[uj] = j0;
        }
        if (min_v[uj] < delta) {
          delta = min_v[uj];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; ++j) {
        const auto uj = static_cast<std::size_t>(j);
        if (used[uj]) {
          u[static_cast<std::size_t>(row_of[uj])] += delta;
          v[uj] -= delta;
        } else {
          min_v[uj] -= delta;
        }
      }
      j0 = j1;
    } while (row_of[static_cast<std::size_t>(j0)] != 0);
    do {
      const int j1 = way[static_cast<std::size_t>(j0)];
      row_of[static_cast<std::size_t>(j0)] = row_of[static_cast<std::size_t>(j1)];
      j0 = j1;
    } while (j0 != 0);
  }
  for (int j = 1; j <= cols; ++j) {
    const int i = row_of[static_cast<std::size_t>(j)];
    if (i >= 1 && i <= rows) match[static_cast<std::size_t>(j - 1)] = i - 1;
  }
  return match;
}

double adjusted_rand_index(std::span<const std::int64_t> table, int rows, int cols) {
  check_table(table, rows, cols);
  std::vector<std::int64_t> row_sum(static_cast<std::size_t>(rows), 0), col_sum(static_cast<std::size_t>(cols), 0);
  std::int64_t n = 0;
  int128 index = 0;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const std::int64_t c =
          table[static_cast<std::size_t>(i) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(j)];
      row_sum[static_cast<std::size_t>(i)] += c;
      col_sum[static_cast<std::size_t>(j)] += c;
      n += c;
      index += pairs(c);
    }
  int128 a = 0, b = 0;
  for (auto s : row_sum) a += pairs(s);
  for (auto s : col_sum) b += pairs(s);
  const int128 all = pairs(n);
  if (all == 0) return 1.0;
  // (index − a·b/all) / ((a + b)/2 − a·b/all), multiplied through by 2·all.
  const long double numerator = 2.0L * static_cast<long double>(all) * static_cast<long double>(index) -
                                2.0L * static_cast<long double>(a) * static_cast<long double>(b);
  const long double denominator = static_cast<long double>(all) * static_cast<long double>(a + b) -
                                  2.0L * static_cast<long double>(a) * static_cast<long double>(b);
  if (denominator == 0) return 1.0;  // both labelings trivial (one cluster, or all singletons)
  return static_cast<double>(numerator / denominator);
}

std::vector<FateOf> cluster_fates(std::span<const std::int64_t> table, int rows, int cols) {
  check_table(table, rows, cols);
  const auto at = [&](int i, int j) {
    return table[static_cast<std::size_t>(i) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(j)];
  };
  std::vector<std::int64_t> size(static_cast<std::size_t>(rows), 0);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) size[static_cast<std::size_t>(i)] += at(i, j);
  // Integer comparisons: overlap >= t  ⇔  count >= t · size, with t = 1/2 or 1/4 exactly.
  const auto holds_half = [&](int i, int j) { return 2 * at(i, j) >= size[static_cast<std::size_t>(i)]; };
  const auto holds_quarter = [&](int i, int j) { return 4 * at(i, j) >= size[static_cast<std::size_t>(i)]; };
  std::vector<FateOf> fates(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    auto& out = fates[static_cast<std::size_t>(i)];
    if (size[static_cast<std::size_t>(i)] == 0) continue;  // disappeared
    int best = 0;
    for (int j = 1; j < cols; ++j)
      if (at(i, j) > at(i, best)) best = j;
    if (cols > 0 && holds_half(i, best)) {
      bool shared = false;
      for (int other = 0; other < rows; ++other)
        shared = shared || (other != i && size[static_cast<std::size_t>(other)] > 0 && holds_half(other, best));
      out.fate = shared ? ClusterFate::absorbed : ClusterFate::survived;
      out.target = best;
      continue;
    }
    int parts = 0;
    std::int64_t covered = 0;
    for (int j = 0; j < cols; ++j)
      if (holds_quarter(i, j)) {
        ++parts;
        covered += at(i, j);
      }
    if (parts >= 2 && 2 * covered >= size[static_cast<std::size_t>(i)]) out.fate = ClusterFate::split;
  }
  return fates;
}

const char* fate_name(ClusterFate fate) {
  switch (fate) {
    case ClusterFate::survived: return "survived";
    case ClusterFate::absorbed: return "absorbed";
    case ClusterFate::split: return "split";
    case ClusterFate::disappeared: return "disappeared";
  }
  return "?";
}

std::size_t psi_bin(std::span<const double> edges, double x) {
  return static_cast<std::size_t>(std::lower_bound(edges.begin(), edges.end(), x) - edges.begin());
}

double population_stability(std::span<const std::int64_t> previous_counts,
                            std::span<const std::int64_t> current_counts) {
  if (previous_counts.size() != current_counts.size())
    throw std::invalid_argument("population_stability: bin counts differ");
  std::int64_t previous_total = 0, current_total = 0;
  for (auto c : previous_counts) previous_total += c;
  for (auto c : current_counts) current_total += c;
  if (previous_total == 0 || current_total == 0) return std::numeric_limits<double>::quiet_NaN();
  double psi = 0;
  for (std::size_t b = 0; b < previous_counts.size(); ++b) {
    const double p = std::max(psi_floor, static_cast<double>(previous_counts[b]) / static_cast<double>(previous_total));
    const double q = std::max(psi_floor, static_cast<double>(current_counts[b]) / static_cast<double>(current_total));
    psi += (q - p) * std::log(q / p);
  }
  return psi;
}

}  // namespace rfmseg
