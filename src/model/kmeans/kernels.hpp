#pragma once
// The distance kernels of K-means (private to src/model/kmeans/): the nearest centroid of a tile
// of points with explicit SIMD vectors, and the scalar distances the policies share. Every path
// performs the same IEEE operations in the same order (u·u + v·v + w·w, left to right; built with
// -ffp-contract=off, so no fused multiply-add), so equal inputs give equal bits on any path.
//
// The tile kernels are compiled twice from one body (kernels_body.hpp): portable (SSE2, 2 doubles
// per operation; kernels.cpp) and AVX2 (4 doubles, no FMA; kernels_avx2.cpp, built with -mavx2).
// nearest_in_tile and nearest2_in_tile dispatch to one of them, chosen once per process from the
// CPU (cpuid) unless RFMSEG_CPU=portable; kmeans::kernel_path() (kmeans/steps.hpp) names it.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "rfmseg/core/features.hpp"

namespace rfmseg::kmeans::detail {

inline constexpr std::size_t D = feature_count;
inline constexpr double infinity = std::numeric_limits<double>::infinity();

/// Points per tile of the step kernels (a multiple of every vector width).
inline constexpr std::size_t tile = 256;

/// Squared distance from local row `i` of `f` to the point `c`.
inline double squared_distance(const Features& f, std::size_t i, const double* c) {
  double s = 0;
  for (std::size_t d = 0; d < D; ++d) {
    const double diff = f.column[d][i] - c[d];
    s += diff * diff;
  }
  return s;
}

/// Squared distance between two points; the same operation order as nearest_in_tile.
inline double squared_distance_between(const double* a, const double* c) {
  const double u = a[0] - c[0], v = a[1] - c[1], w = a[2] - c[2];
  return u * u + v * v + w * w;
}

/// Squared distance of every local row to its labelled centroid ([k, 3] row-major), computed as
/// nearest_in_tile computes it: for the labels nearest_in_tile gives, its distances, bit for bit.
inline void distances_to_assigned(const Features& f, const std::vector<double>& centroids,
                                  std::span<const std::int32_t> labels, std::span<double> distances) {
  const double* x0 = f.column[0].data();
  const double* x1 = f.column[1].data();
  const double* x2 = f.column[2].data();
  for (std::size_t i = 0; i < f.size(); ++i) {
    const double* c = &centroids[static_cast<std::size_t>(labels[i]) * D];
    const double u = x0[i] - c[0], v = x1[i] - c[1], w = x2[i] - c[2];
    distances[i] = u * u + v * v + w * w;
  }
}

/// Nearest of the k centroids ([k, 3] row-major) for m <= tile points given as columns a0, a1,
/// a2 (ties: lowest index): its squared distance into best_d, its index (as a double) into best.
void nearest_in_tile(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                     std::size_t k, double* best_d, double* best);

/// nearest_in_tile that also finds the second-nearest squared distance (Hamerly's lower bound);
/// the nearest label and its distance are exactly nearest_in_tile's.
void nearest2_in_tile(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                      std::size_t k, double* best_d, double* second_d, double* best);

// The two compilations, callable directly (the tests compare them bit for bit). The _avx2 ones
// may only be called when avx2_kernels_usable().
void nearest_in_tile_portable(const double* a0, const double* a1, const double* a2, std::size_t m,
                              const double* centroids, std::size_t k, double* best_d, double* best);
void nearest2_in_tile_portable(const double* a0, const double* a1, const double* a2, std::size_t m,
                               const double* centroids, std::size_t k, double* best_d, double* second_d, double* best);
void nearest_in_tile_avx2(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                          std::size_t k, double* best_d, double* best);
void nearest2_in_tile_avx2(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                           std::size_t k, double* best_d, double* second_d, double* best);

/// True when the AVX2 kernels were built (x86-64 with GCC or Clang) and this CPU has AVX2.
bool avx2_kernels_usable();

}  // namespace rfmseg::kmeans::detail
