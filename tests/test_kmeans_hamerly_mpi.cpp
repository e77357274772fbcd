// Hamerly's bounds and the kd-tree filter must change nothing but the work: the same labels,
// centroids, inertia and iteration counts as plain Lloyd, bit for bit, on data made to be hard for bounds (exact
// duplicates, lattice points equidistant from several centroids, overlapping clouds), for every
// init, many k, and any split of the rows over the ranks.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>

#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/names.hpp"
#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/model/scale.hpp"

using namespace rfmseg;

namespace {

struct Points {
  Features features;
  std::vector<std::uint64_t> keys;
};

// kind 0: a 5x5x5 integer lattice, every point 3 times (ties everywhere);
// kind 1: three overlapping Gaussian-like clouds (sums of uniforms);
// kind 2: one tight cloud plus far outliers (empty clusters get repaired).
Points make_points(int kind, std::uint64_t clouds_size = 1500) {
  Points p;
  auto add = [&](double x, double y, double z) {
    const auto row = p.keys.size();
    p.features.column[0].push_back(x);
    p.features.column[1].push_back(y);
    p.features.column[2].push_back(z);
    p.keys.push_back(hash_bytes("row" + std::to_string(row)));
  };
  if (kind == 0) {
    for (int copy = 0; copy < 3; ++copy)
      for (int a = 0; a < 5; ++a)
        for (int b = 0; b < 5; ++b)
          for (int c = 0; c < 5; ++c) add(a, b, c);
  } else if (kind == 1) {
    const double centers[3][3] = {{0, 0, 0}, {1.5, 0.5, -1}, {-1, 1.5, 0.5}};
    for (std::uint64_t i = 0; i < clouds_size; ++i) {
      double x[3];
      for (std::uint64_t d = 0; d < 3; ++d) {
        double s = 0;
        for (std::uint64_t t = 0; t < 4; ++t) s += unit_open(random_word(11, d * 4 + t, i));
        x[d] = centers[i % 3][d] + (s - 2.0);
      }
      add(x[0], x[1], x[2]);
    }
  } else {
    for (std::uint64_t i = 0; i < 600; ++i)
      add(unit_open(random_word(3, 0, i)) * 0.01, unit_open(random_word(3, 1, i)) * 0.01,
          unit_open(random_word(3, 2, i)) * 0.01);
    for (int i = 0; i < 4; ++i) add(100.0 * (i + 1), -50.0 * i, 25.0);
  }
  return p;
}

struct Fit {
  KMeansModel model;
  std::vector<std::int32_t> labels;  // all rows, gathered
};

Fit fit(const mpi::Comm& comm, const Points& all, KMeansOptions options, bool skew, KMeansCache* cache = nullptr) {
  const std::size_t n = all.keys.size();
  const auto p = static_cast<std::size_t>(comm.size()), r = static_cast<std::size_t>(comm.rank());
  auto boundary = [&](std::size_t q) { return skew && q != 0 && q != p ? std::min(n, q * n / p / 4 + 1) : q * n / p; };
  const std::size_t first = boundary(r), last = boundary(r + 1);
  // A cache is only valid for unchanged points: the fits sharing one keep their features here.
  static std::map<const KMeansCache*, Features> kept;
  Features fresh;
  Features& local = cache != nullptr ? kept[cache] : fresh;
  for (std::size_t d = 0; d < 3; ++d)
    local.column[d].assign(all.features.column[d].begin() + static_cast<std::ptrdiff_t>(first),
                           all.features.column[d].begin() + static_cast<std::ptrdiff_t>(last));
  const int exponent = snap_to_grid(comm, local);
  const std::vector<std::uint64_t> keys(all.keys.begin() + static_cast<std::ptrdiff_t>(first),
                                        all.keys.begin() + static_cast<std::ptrdiff_t>(last));
  const KMeansData data{local, keys, first, exponent, cache};
  Fit out;
  std::vector<std::int32_t> labels;
  out.model = fit_kmeans(comm, data, options, labels);
  out.labels = mpi::allgatherv<std::int32_t>(comm, labels);
  return out;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST(FastSteps, same_result_as_lloyd_bit_for_bit) {
  const auto comm = mpi::Comm::world();
  for (int kind = 0; kind < 3; ++kind) {
    const Points points = make_points(kind);
    for (Init init : {Init::kmeans_plus_plus, Init::kmeans_parallel, Init::random}) {
      KMeansCache cache;  // shared by the kd-tree fits of every k below, as in a sweep
      for (int k : {1, 2, 3, 5, 8, 13}) {
        KMeansOptions options;
        options.k = k;
        options.init = init;
        options.n_init = 3;
        options.tol = kind == 1 ? 0.0 : 1e-4;  // tol 0: run until the labels repeat
        options.algorithm = KMeansAlgorithm::lloyd;
        const Fit lloyd = fit(comm, points, options, false);
        for (KMeansAlgorithm fast : {KMeansAlgorithm::hamerly, KMeansAlgorithm::kdtree}) {
          SCOPED_TRACE("kind " + std::to_string(kind) + ", init " + std::to_string(static_cast<int>(init)) + ", k " +
                       std::to_string(k) + ", " + std::string(name_of(fast)));
          options.algorithm = fast;
          const bool skew = kind == 1;  // and another split of the rows
          const Fit other = fit(comm, points, options, skew, fast == KMeansAlgorithm::kdtree ? &cache : nullptr);
          EXPECT_TRUE(same_bits(lloyd.model.centroids, other.model.centroids));
          EXPECT_TRUE(same_bits({lloyd.model.inertia}, {other.model.inertia}));
          EXPECT_EQ(lloyd.model.n_iter, other.model.n_iter);
          EXPECT_EQ(lloyd.model.total_iterations, other.model.total_iterations);
          EXPECT_EQ(lloyd.model.restart, other.model.restart);
          EXPECT_EQ(lloyd.model.sizes, other.model.sizes);
          EXPECT_EQ(lloyd.labels, other.labels);
          // Plain Lloyd computes every distance; the others never more than that.
          EXPECT_EQ(lloyd.model.distance_evaluations, lloyd.model.lloyd_distance_evaluations);
          EXPECT_LE(other.model.distance_evaluations, other.model.lloyd_distance_evaluations);
        }
      }
    }
  }
}

TEST(FastSteps, kdtree_matches_lloyd_on_many_random_data_sets) {
  // Clouds of every shape and scale (including huge offsets, so that the margins of the cell
  // tests matter, and heavy duplication): the kd-tree fit equals plain Lloyd bit for bit.
  const auto comm = mpi::Comm::world();
  for (std::uint64_t trial = 0; trial < 24; ++trial) {
    Points p;
    const std::size_t n = 200 + 37 * trial;
    const double offset = trial % 3 == 0 ? 1e6 : 0.0, scale = trial % 4 == 1 ? 1e-3 : 1.0;
    const std::uint64_t distinct = trial % 10 == 7 ? 9 : n;  // few distinct points: ties galore
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t source = i % distinct;
      for (std::size_t d = 0; d < 3; ++d) {
        const double u = unit_open(random_word(trial, d, source));
        const double v = unit_open(random_word(trial, d + 3, source % 4));
        p.features.column[d].push_back(offset + scale * (trial % 2 == 0 ? std::floor(u * 8) : u + 3 * v));
      }
      p.keys.push_back(random_word(trial, 99, i));
    }
    for (int k : {2, 4, 7}) {
      SCOPED_TRACE("trial " + std::to_string(trial) + ", k " + std::to_string(k));
      KMeansOptions options;
      options.k = k;
      options.n_init = 2;
      options.seed = trial;
      options.tol = 0;
      options.algorithm = KMeansAlgorithm::lloyd;
      const Fit lloyd = fit(comm, p, options, trial % 2 == 1);
      options.algorithm = KMeansAlgorithm::kdtree;
      const Fit tree = fit(comm, p, options, trial % 2 == 0);
      EXPECT_TRUE(same_bits(lloyd.model.centroids, tree.model.centroids));
      EXPECT_TRUE(same_bits({lloyd.model.inertia}, {tree.model.inertia}));
      EXPECT_EQ(lloyd.model.total_iterations, tree.model.total_iterations);
      EXPECT_EQ(lloyd.labels, tree.labels);
    }
  }
}

TEST(FastSteps, a_cache_follows_its_points) {
  // One KMeansCache, fits on two different point sets in turn: each fit gets its own points'
  // tree (the cache is rebuilt when the points change), so results equal fresh fits.
  const auto comm = mpi::Comm::world();
  const Points a = make_points(1), b = make_points(2);
  KMeansOptions options;
  options.k = 3;
  options.n_init = 2;
  options.algorithm = KMeansAlgorithm::kdtree;
  KMeansCache cache;
  for (const Points* points : {&a, &b, &a}) {
    const Fit cached = fit(comm, *points, options, false, &cache);
    const Fit fresh = fit(comm, *points, options, false);
    EXPECT_TRUE(same_bits(cached.model.centroids, fresh.model.centroids));
    EXPECT_EQ(cached.labels, fresh.labels);
  }
}

TEST(FastSteps, kdtree_skips_most_distances_on_clustered_data) {
  const auto comm = mpi::Comm::world();
  const Points points = make_points(1, 20000);
  KMeansOptions options;
  options.k = 8;
  options.n_init = 2;
  options.tol = 0;
  options.algorithm = KMeansAlgorithm::kdtree;
  const Fit tree = fit(comm, points, options, false);
  ASSERT_GT(tree.model.total_iterations, 5);
  EXPECT_LT(static_cast<double>(tree.model.distance_evaluations),
            0.5 * static_cast<double>(tree.model.lloyd_distance_evaluations))
      << tree.model.distance_evaluations << " of " << tree.model.lloyd_distance_evaluations;
}

TEST(Hamerly, skips_most_distances_on_clustered_data) {
  const auto comm = mpi::Comm::world();
  const Points points = make_points(1);
  KMeansOptions options;
  options.k = 8;
  options.n_init = 2;
  options.tol = 0;
  options.algorithm = KMeansAlgorithm::hamerly;
  const Fit hamerly = fit(comm, points, options, false);
  ASSERT_GT(hamerly.model.total_iterations, 5);
  // After the first step most points keep a provably nearest centroid.
  EXPECT_LT(static_cast<double>(hamerly.model.distance_evaluations),
            0.6 * static_cast<double>(hamerly.model.lloyd_distance_evaluations))
      << hamerly.model.distance_evaluations << " of " << hamerly.model.lloyd_distance_evaluations;
}
