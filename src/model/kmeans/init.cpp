#include "rfmseg/model/kmeans/init.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "candidate.hpp"
#include "kernels.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/parallel/reduce.hpp"
#include "views.hpp"

namespace rfmseg::kmeans {

namespace detail {

void too_few_points(int k, int found) {
  throw AgreedError("k = " + std::to_string(k) + " clusters requested, but the customers have only " +
                        std::to_string(found) + " distinct feature vectors: choose k <= " + std::to_string(found),
                    1);
}

}  // namespace detail

using detail::Candidate;
using detail::candidate_less;
using detail::CentroidMatrix;
using detail::CentroidsView;
using detail::copy_point;
using detail::D;
using detail::global_best;
using detail::infinity;
using detail::PointView;
using detail::squared_distance;
using detail::too_few_points;

namespace {
/// A lower bound of −ln u for u in (0, 1): 1 − u, shrunk by far more than the few ulps by which
/// the computed 1 − u, −ln u, key × weight and the division by the weight can be off: when it
/// exceeds best key × weight, the computed key −ln(u) / weight exceeds the best key.
inline double race_bound(double u) { return (1.0 - u) * (1.0 - 1e-9); }
}  // namespace

/// k-means++ by an exponential race: P(point i wins step s) ∝ D²(i) exactly, for any partition.
Centroids KMeansPlusPlus::initialize(const Context& context) const {
  const KMeansData& data = context.data;
  const int k = context.k;
  const Features& f = data.features;
  const std::size_t n = f.size();
  Centroids centroids;
  std::vector<double> d2(n, infinity);
  for (int step = 0; step < k; ++step) {
    Candidate best{infinity, ~0ull, {}};
    const std::uint64_t stream =
        random_stream(context.seed, stream_id(context.restart, RandomPurpose::kmeans_plus_plus, step));
    for (std::size_t i = 0; i < n; ++i) {
      const double weight = step == 0 ? 1.0 : d2[i];
      if (!(weight > 0)) continue;
      const double u = unit_open(random_word_at(stream, data.keys[i]));
      // −ln u >= 1 − u: a customer whose cheap lower bound already exceeds the best key cannot
      // win, and its logarithm is skipped (the margin covers rounding; the winner is unchanged).
      if (race_bound(u) > best.key * weight) continue;
      const Candidate c{-std::log(u) / weight, data.first_row + i, {}};
      if (candidate_less(c, best)) best = c;
    }
    if (best.key < infinity) {
      const std::size_t i = best.row - data.first_row;
      copy_point(f, i, best);
    }
    const Candidate chosen = global_best(context.comm, best);
    if (!(chosen.key < infinity)) too_few_points(k, step);
    centroids.insert(centroids.end(), chosen.x, chosen.x + D);
    if (step + 1 == k) break;
    // D² to the nearest chosen centroid (as squared_distance computes it; vectorizes).
    const double* x0 = f.column[0].data();
    const double* x1 = f.column[1].data();
    const double* x2 = f.column[2].data();
    const double c0 = chosen.x[0], c1 = chosen.x[1], c2 = chosen.x[2];
    double* out = d2.data();
    for (std::size_t i = 0; i < n; ++i) {
      const double u = x0[i] - c0, v = x1[i] - c1, w = x2[i] - c2;
      const double dist = u * u + v * v + w * w;
      out[i] = dist < out[i] ? dist : out[i];
    }
  }
  return centroids;
}

/// The k points with the smallest random draws (duplicates are repaired as empty clusters).
Centroids RandomSample::initialize(const Context& context) const {
  const KMeansData& data = context.data;
  const int k = context.k;
  const Features& f = data.features;
  std::vector<Candidate> local;
  const std::uint64_t stream = stream_id(context.restart, RandomPurpose::random_sample, 0);
  for (std::size_t i = 0; i < f.size(); ++i) {
    Candidate c{unit_open(random_word(context.seed, stream, data.keys[i])), data.first_row + i, {}};
    copy_point(f, i, c);
    local.push_back(c);
  }
  const auto keep = std::min<std::size_t>(local.size(), static_cast<std::size_t>(k));
  std::partial_sort(local.begin(), local.begin() + static_cast<std::ptrdiff_t>(keep), local.end(), candidate_less);
  local.resize(keep);
  auto all = mpi::allgatherv<Candidate>(context.comm, local);
  std::sort(all.begin(), all.end(), candidate_less);
  if (all.size() < static_cast<std::size_t>(k)) too_few_points(k, static_cast<int>(all.size()));
  Centroids centroids;
  for (int j = 0; j < k; ++j)
    centroids.insert(centroids.end(), all[static_cast<std::size_t>(j)].x, all[static_cast<std::size_t>(j)].x + D);
  return centroids;
}

/// k-means‖: oversample, weight the candidates by the points nearest to them, then run weighted
/// k-means++ and a few weighted Lloyd steps on the candidates (identically on every rank).
template <InitPolicy Fallback>
Centroids KMeansParallel<Fallback>::initialize(const Context& context) const {
  const mpi::Comm& comm = context.comm;
  const KMeansData& data = context.data;
  const int k = context.k;
  const std::uint64_t seed = context.seed;
  const int restart = context.restart;
  const Features& f = data.features;
  const std::size_t n = f.size();
  const double expected = oversampling * k;  // ℓ: candidates expected per round
  // First candidate: uniform, as the first k-means++ step.
  std::vector<Candidate> candidates;
  {
    Candidate best{infinity, ~0ull, {}};
    const std::uint64_t stream = stream_id(restart, RandomPurpose::parallel_oversampling, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const Candidate c{-std::log(unit_open(random_word(seed, stream, data.keys[i]))), data.first_row + i, {}};
      if (candidate_less(c, best)) best = c;
    }
    if (best.key < infinity) copy_point(f, best.row - data.first_row, best);
    candidates.push_back(global_best(comm, best));
  }
  std::vector<double> d2(n);
  for (std::size_t i = 0; i < n; ++i) d2[i] = squared_distance(f, i, candidates[0].x);
  for (int round = 1; round <= rounds; ++round) {
    const double phi = global_sum(comm, d2);
    if (!(phi > 0)) break;
    std::vector<Candidate> picked;
    const std::uint64_t stream = stream_id(restart, RandomPurpose::parallel_oversampling, round);
    for (std::size_t i = 0; i < n; ++i) {
      const double p = std::min(1.0, expected * d2[i] / phi);
      if (p > 0 && unit_open(random_word(seed, stream, data.keys[i])) < p) {
        Candidate c{0, data.first_row + i, {}};
        copy_point(f, i, c);
        picked.push_back(c);
      }
    }
    const auto gathered = mpi::allgatherv<Candidate>(comm, picked);
    for (const auto& c : gathered) {
      candidates.push_back(c);
      for (std::size_t i = 0; i < n; ++i) d2[i] = std::min(d2[i], squared_distance(f, i, c.x));
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return a.row < b.row; });
  const std::size_t m = candidates.size();
  if (m < static_cast<std::size_t>(k)) return fallback.initialize(context);
  // Weight = number of points nearest to each candidate.
  std::vector<std::int64_t> weight(m, 0);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t best = 0;
    double best_d = infinity;
    for (std::size_t c = 0; c < m; ++c) {
      const double dist = squared_distance(f, i, candidates[c].x);
      if (dist < best_d) {
        best_d = dist;
        best = c;
      }
    }
    ++weight[best];
  }
  weight = mpi::allreduce(comm, std::move(weight), mpi::Op::sum);
  // Weighted k-means++ on the candidates: local and identical on every rank.
  Centroids centroids;
  std::vector<double> cd2(m, infinity);
  for (int step = 0; step < k; ++step) {
    double best_key = infinity;
    std::size_t best = m;
    const std::uint64_t stream = stream_id(restart, RandomPurpose::parallel_reduction, step);
    for (std::size_t c = 0; c < m; ++c) {
      const double w = static_cast<double>(weight[c]) * (step == 0 ? 1.0 : cd2[c]);
      if (!(w > 0)) continue;
      const double key = -std::log(unit_open(random_word(seed, stream, candidates[c].row))) / w;
      if (key < best_key) {
        best_key = key;
        best = c;
      }
    }
    if (best == m) return fallback.initialize(context);
    centroids.insert(centroids.end(), candidates[best].x, candidates[best].x + D);
    for (std::size_t c = 0; c < m; ++c) {
      double s = 0;
      for (std::size_t d = 0; d < D; ++d)
        s += (candidates[c].x[d] - candidates[best].x[d]) * (candidates[c].x[d] - candidates[best].x[d]);
      cd2[c] = std::min(cd2[c], s);
    }
  }
  // A few weighted Lloyd steps on the candidates (fixed order: same bits everywhere).
  CentroidsView centroid(centroids.data(), k, feature_count);
  for (int iter = 0; iter < refinement_iterations; ++iter) {
    CentroidMatrix sums = CentroidMatrix::Zero(k, feature_count);
    Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
    for (std::size_t c = 0; c < m; ++c) {
      std::size_t best = 0;
      double best_d = infinity;
      for (std::size_t j = 0; j < static_cast<std::size_t>(k); ++j) {
        double s = 0;
        for (std::size_t d = 0; d < D; ++d)
          s += (candidates[c].x[d] - centroids[j * D + d]) * (candidates[c].x[d] - centroids[j * D + d]);
        if (s < best_d) {
          best_d = s;
          best = j;
        }
      }
      const double w = static_cast<double>(weight[c]);
      sums.row(static_cast<Eigen::Index>(best)) += w * PointView(candidates[c].x);  // elementwise
      counts(static_cast<Eigen::Index>(best)) += w;
    }
    for (Eigen::Index j = 0; j < k; ++j)
      if (counts(j) > 0) centroid.row(j) = sums.row(j) / counts(j);  // elementwise
  }
  return centroids;
}

template struct KMeansParallel<KMeansPlusPlus>;

AnyInit make_init(Init init) {
  switch (init) {
    case Init::kmeans_plus_plus: return KMeansPlusPlus{};
    case Init::kmeans_parallel: return KMeansParallel<>{};
    case Init::random: return RandomSample{};
  }
  return KMeansPlusPlus{};
}

Centroids initialize(const AnyInit& init, const Context& context) {
  return std::visit([&](const auto& policy) { return policy.initialize(context); }, init);
}

}  // namespace rfmseg::kmeans
