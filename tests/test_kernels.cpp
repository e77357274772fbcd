// model/kmeans/kernels: the portable (SSE2) and AVX2 compilations of the tile kernels give the
// same labels and the same distance bits on random tiles full of ties, duplicated centroids,
// signed zeros, huge and tiny magnitudes; both equal a plain scalar loop; the dispatched entry
// points equal the path kernel_path() names.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "model/kmeans/kernels.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/model/kmeans/steps.hpp"
#include "rfmseg/model/metrics.hpp"

namespace rfmseg::kmeans::detail {
namespace {

// One tile: three columns of m points (at an offset, so vectors load unaligned) and k centroids.
struct Tile {
  std::size_t m = 0, k = 0, offset = 0;
  std::vector<double> column[3];
  std::vector<double> centroids;
  const double* a(std::size_t d) const { return column[d].data() + offset; }
};

// Values that make ties and edge cases likely: small integers, a coarse grid, signed zeros,
// huge (squares overflow to infinity) and tiny (squares underflow, subnormals) magnitudes.
double edge_value(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int> small(-3, 3);
  std::uniform_real_distribution<double> unit(-1, 1);
  switch (kind(rng)) {
    case 0: return static_cast<double>(small(rng));
    case 1: return static_cast<double>(small(rng)) * 0.25;
    case 2: return (rng() & 1) != 0 ? -0.0 : 0.0;
    case 3: return unit(rng) * 1e154;   // squares near the top of the range, sums may overflow
    case 4: return unit(rng) * 1e300;   // squares overflow to infinity
    case 5: return unit(rng) * 1e-160;  // squares underflow into subnormals
    case 6: return std::numeric_limits<double>::denorm_min() * static_cast<double>(small(rng));
    case 7: return std::ldexp(std::nearbyint(std::ldexp(unit(rng), 10)), -10);
    default: return unit(rng) * 4;
  }
}

Tile random_tile(std::mt19937_64& rng, std::size_t m, std::size_t k) {
  Tile t;
  t.m = m;
  t.k = k;
  t.offset = rng() % 5;
  for (auto& c : t.column) {
    c.resize(t.offset + m);
    for (auto& x : c) x = edge_value(rng);
  }
  t.centroids.resize(k * D);
  for (std::size_t j = 0; j < k; ++j) {
    const auto how = rng() % 4;
    for (std::size_t d = 0; d < D; ++d) {
      if (how == 0 && j > 0)  // a duplicate of an earlier centroid: exact ties
        t.centroids[j * D + d] = t.centroids[(rng() % j) * D + d];
      else if (how == 1 && m > 0)  // on a point: a zero distance
        t.centroids[j * D + d] = t.a(d)[rng() % m];
      else
        t.centroids[j * D + d] = edge_value(rng);
    }
  }
  return t;
}

struct Out {
  std::vector<double> best_d, second_d, best;
  explicit Out(std::size_t m) : best_d(m + 1, 7.0), second_d(m + 1, 7.0), best(m + 1, 7.0) {}
};

using Nearest = void (*)(const double*, const double*, const double*, std::size_t, const double*, std::size_t, double*,
                         double*);
using Nearest2 = void (*)(const double*, const double*, const double*, std::size_t, const double*, std::size_t, double*,
                          double*, double*);

Out run(const Tile& t, Nearest nearest) {
  Out o(t.m);
  nearest(t.a(0), t.a(1), t.a(2), t.m, t.centroids.data(), t.k, o.best_d.data(), o.best.data());
  return o;
}

Out run2(const Tile& t, Nearest2 nearest2) {
  Out o(t.m);
  nearest2(t.a(0), t.a(1), t.a(2), t.m, t.centroids.data(), t.k, o.best_d.data(), o.second_d.data(), o.best.data());
  return o;
}

// The definition: one point at a time, the same operations in the same order.
Out scalar(const Tile& t) {
  Out o(t.m);
  for (std::size_t i = 0; i < t.m; ++i) {
    double bd = infinity, sd = infinity, bl = 0;
    for (std::size_t j = 0; j < t.k; ++j) {
      const double u = t.a(0)[i] - t.centroids[j * D], v = t.a(1)[i] - t.centroids[j * D + 1],
                   w = t.a(2)[i] - t.centroids[j * D + 2];
      const double dist = u * u + v * v + w * w;
      if (j == 0 || dist < bd) {
        sd = j == 0 ? infinity : bd;
        bd = dist;
        bl = static_cast<double>(j);
      } else if (dist < sd) {
        sd = dist;
      }
    }
    o.best_d[i] = bd;
    o.second_d[i] = sd;
    o.best[i] = bl;
  }
  return o;
}

bool same_bits(const std::vector<double>& x, const std::vector<double>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
}

std::string where(const Tile& t, int round) {
  return "round " + std::to_string(round) + ", m = " + std::to_string(t.m) + ", k = " + std::to_string(t.k) +
         ", offset = " + std::to_string(t.offset);
}

// Every m from 0 to 9 and 250 to 256 (all remainders of both widths), then random m.
std::size_t tile_size(std::mt19937_64& rng, int round) {
  if (round < 10) return static_cast<std::size_t>(round);
  if (round < 17) return static_cast<std::size_t>(240 + round);
  return rng() % (tile + 1);
}

void compare_with(Nearest nearest, Nearest2 nearest2, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 3000; ++round) {
    const Tile t = random_tile(rng, tile_size(rng, round), 1 + rng() % 12);
    const Out want = scalar(t), got = run(t, nearest), got2 = run2(t, nearest2);
    ASSERT_TRUE(same_bits(got.best, want.best)) << where(t, round);
    ASSERT_TRUE(same_bits(got.best_d, want.best_d)) << where(t, round);
    ASSERT_TRUE(same_bits(got2.best, want.best)) << where(t, round);
    ASSERT_TRUE(same_bits(got2.best_d, want.best_d)) << where(t, round);
    ASSERT_TRUE(same_bits(got2.second_d, want.second_d)) << where(t, round);
  }
}

TEST(Kernels, PortableEqualsScalarBitForBit) {
  compare_with(&nearest_in_tile_portable, &nearest2_in_tile_portable, 42);
}

TEST(Kernels, Avx2EqualsScalarBitForBit) {
  if (!avx2_kernels_usable()) GTEST_SKIP() << "no AVX2 on this CPU (or not an x86-64 build)";
  compare_with(&nearest_in_tile_avx2, &nearest2_in_tile_avx2, 42);
}

TEST(Kernels, Avx2EqualsPortableBitForBit) {
  if (!avx2_kernels_usable()) GTEST_SKIP() << "no AVX2 on this CPU (or not an x86-64 build)";
  std::mt19937_64 rng(7);
  for (int round = 0; round < 3000; ++round) {
    const Tile t = random_tile(rng, tile_size(rng, round), 1 + rng() % 12);
    const Out p = run(t, &nearest_in_tile_portable), a = run(t, &nearest_in_tile_avx2);
    ASSERT_TRUE(same_bits(p.best, a.best)) << where(t, round);
    ASSERT_TRUE(same_bits(p.best_d, a.best_d)) << where(t, round);
    const Out p2 = run2(t, &nearest2_in_tile_portable), a2 = run2(t, &nearest2_in_tile_avx2);
    ASSERT_TRUE(same_bits(p2.best, a2.best)) << where(t, round);
    ASSERT_TRUE(same_bits(p2.best_d, a2.best_d)) << where(t, round);
    ASSERT_TRUE(same_bits(p2.second_d, a2.second_d)) << where(t, round);
  }
}

// The tests would prove nothing if the edge cases never happened: ties, signed zeros and
// infinite distances all occur in the random tiles.
TEST(Kernels, RandomTilesContainTheEdgeCases) {
  std::mt19937_64 rng(42);
  std::size_t ties = 0, infinite = 0, zero = 0, subnormal = 0;
  for (int round = 0; round < 3000; ++round) {
    const Tile t = random_tile(rng, tile_size(rng, round), 1 + rng() % 12);
    const Out o = scalar(t);
    for (std::size_t i = 0; i < t.m; ++i) {
      ties += o.second_d[i] == o.best_d[i] ? 1 : 0;
      infinite += std::isinf(o.best_d[i]) ? 1 : 0;
      zero += o.best_d[i] == 0 ? 1 : 0;
      subnormal += std::fpclassify(o.best_d[i]) == FP_SUBNORMAL ? 1 : 0;
    }
  }
  EXPECT_GT(ties, 1000U);
  EXPECT_GT(infinite, 1000U);
  EXPECT_GT(zero, 100U);
  EXPECT_GT(subnormal, 10U);
}

TEST(Kernels, DispatchedEntryPointsUseTheNamedPath) {
  const std::string path(kernel_path());
  const char* forced = std::getenv("RFMSEG_CPU");
  const bool portable_forced = forced != nullptr && std::string(forced) == "portable";
  EXPECT_EQ(path, avx2_kernels_usable() && !portable_forced ? "avx2" : "portable");
  std::mt19937_64 rng(3);
  for (int round = 0; round < 200; ++round) {
    const Tile t = random_tile(rng, tile_size(rng, round), 1 + rng() % 12);
    const Out d = run(t, &nearest_in_tile), d2 = run2(t, &nearest2_in_tile);
    const Out p = run(t, path == "avx2" ? &nearest_in_tile_avx2 : &nearest_in_tile_portable);
    const Out p2 = run2(t, path == "avx2" ? &nearest2_in_tile_avx2 : &nearest2_in_tile_portable);
    ASSERT_TRUE(same_bits(d.best, p.best) && same_bits(d.best_d, p.best_d)) << where(t, round);
    ASSERT_TRUE(same_bits(d2.best, p2.best) && same_bits(d2.best_d, p2.best_d) && same_bits(d2.second_d, p2.second_d))
        << where(t, round);
  }
}

}  // namespace
}  // namespace rfmseg::kmeans::detail

// The silhouette's distance sums (model/metrics.cpp): the AVX2 path keeps the four lanes of the
// SSE2 one (rows 4q + r in lane r, combined (0 + 1) + (2 + 3), then the tail), so the same bits.
TEST(SilhouetteKernel, avx2_and_portable_distance_sums_are_bit_identical) {
  if (!rfmseg::kmeans::detail::avx2_kernels_usable()) GTEST_SKIP() << "no AVX2 kernels on this CPU or build";
  std::vector<double> y0(300), y1(300), y2(300);
  for (std::uint64_t trial = 0; trial < 2000; ++trial) {
    const double scale = trial % 3 == 0 ? 1e-150 : trial % 3 == 1 ? 1.0 : 1e150;  // tiny / huge squares too
    for (std::size_t j = 0; j < y0.size(); ++j) {
      y0[j] = scale * (rfmseg::unit_open(rfmseg::random_word(trial, 0, j)) - 0.5);
      y1[j] = trial % 5 == 0 ? 0.0 : scale * (rfmseg::unit_open(rfmseg::random_word(trial, 1, j)) - 0.5);
      y2[j] = trial % 7 == 0 ? -0.0 : scale * (rfmseg::unit_open(rfmseg::random_word(trial, 2, j)) - 0.5);
    }
    const double p[3] = {y0[trial % 300], y1[(trial * 7) % 300], trial % 2 ? 0.0 : y2[3]};
    const std::size_t offset = trial % 5, length = (trial * 37) % 290;  // unaligned starts, every tail
    const double portable = rfmseg::detail::silhouette_distance_sum(p, y0.data() + offset, y1.data() + offset,
                                                                    y2.data() + offset, length, false);
    const double avx2 = rfmseg::detail::silhouette_distance_sum(p, y0.data() + offset, y1.data() + offset,
                                                                y2.data() + offset, length, true);
    ASSERT_EQ(std::memcmp(&portable, &avx2, sizeof portable), 0)
        << "trial " << trial << ": " << portable << " vs " << avx2;
  }
}
