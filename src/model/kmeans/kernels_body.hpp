#pragma once
// The body of the tile kernels (private to kernels.cpp and kernels_avx2.cpp), compiled once per
// instruction set: the including file defines RFMSEG_KERNEL_VECTOR_BYTES (16 = SSE2, 2 doubles;
// 32 = AVX2, 4 doubles) and includes this file once. Everything here has internal linkage, so the
// copy compiled with -mavx2 can never be picked by the linker for the portable path.
//
// Every width performs the same IEEE operations in the same order (u*u + v*v + w*w, left to
// right; -ffp-contract=off and no -mfma, so no fused multiply-add; strict < compare, ties to the
// lowest index), vector body and scalar tail alike: equal inputs give equal bits on any path.

#include <cstddef>
#include <cstring>

#include "kernels.hpp"

#ifndef RFMSEG_KERNEL_VECTOR_BYTES
#error "define RFMSEG_KERNEL_VECTOR_BYTES (16 or 32) before including kernels_body.hpp"
#endif

namespace rfmseg::kmeans::detail {
namespace {

// Nearest centroid of m <= tile points (ties: lowest index) with explicit vectors: packed
// compares and blends instead of branches. The arithmetic is the same IEEE operations in the
// same order as the scalar tail, so every point gets the same label on any path.
using vd = double __attribute__((vector_size(RFMSEG_KERNEL_VECTOR_BYTES)));
using vl = long long __attribute__((vector_size(RFMSEG_KERNEL_VECTOR_BYTES)));

[[maybe_unused]] void nearest_in_tile_body(const double* a0, const double* a1, const double* a2, std::size_t m,
                                           const double* centroids, std::size_t k, double* best_d, double* best) {
  std::size_t i = 0;
  constexpr std::size_t width = sizeof(vd) / sizeof(double);
  for (; i + width <= m; i += width) {
    vd x, y, z;
    std::memcpy(&x, a0 + i, sizeof x);
    std::memcpy(&y, a1 + i, sizeof y);
    std::memcpy(&z, a2 + i, sizeof z);
    vd u = x - centroids[0], v = y - centroids[1], w = z - centroids[2];
    vd bd = u * u + v * v + w * w;
    vd bl = {};
    for (std::size_t j = 1; j < k; ++j) {
      u = x - centroids[j * D];
      v = y - centroids[j * D + 1];
      w = z - centroids[j * D + 2];
      const vd dist = u * u + v * v + w * w;
      const vl closer = dist < bd;
      bd = closer ? dist : bd;
      bl = closer ? vd{} + static_cast<double>(j) : bl;
    }
    std::memcpy(best_d + i, &bd, sizeof bd);
    std::memcpy(best + i, &bl, sizeof bl);
  }
  for (; i < m; ++i) {
    double u = a0[i] - centroids[0], v = a1[i] - centroids[1], w = a2[i] - centroids[2];
    double bd = u * u + v * v + w * w, bl = 0;
    for (std::size_t j = 1; j < k; ++j) {
      u = a0[i] - centroids[j * D];
      v = a1[i] - centroids[j * D + 1];
      w = a2[i] - centroids[j * D + 2];
      const double dist = u * u + v * v + w * w;
      if (dist < bd) {
        bd = dist;
        bl = static_cast<double>(j);
      }
    }
    best_d[i] = bd;
    best[i] = bl;
  }
}

// nearest_in_tile that also finds the second-nearest distance (Hamerly's lower bound). The
// nearest label and its distance are computed exactly as nearest_in_tile does.
[[maybe_unused]] void nearest2_in_tile_body(const double* a0, const double* a1, const double* a2, std::size_t m,
                                            const double* centroids, std::size_t k, double* best_d, double* second_d,
                                            double* best) {
  std::size_t i = 0;
  constexpr std::size_t width = sizeof(vd) / sizeof(double);
  const vd inf = vd{} + infinity;
  for (; i + width <= m; i += width) {
    vd x, y, z;
    std::memcpy(&x, a0 + i, sizeof x);
    std::memcpy(&y, a1 + i, sizeof y);
    std::memcpy(&z, a2 + i, sizeof z);
    vd u = x - centroids[0], v = y - centroids[1], w = z - centroids[2];
    vd bd = u * u + v * v + w * w;
    vd sd = inf;
    vd bl = {};
    for (std::size_t j = 1; j < k; ++j) {
      u = x - centroids[j * D];
      v = y - centroids[j * D + 1];
      w = z - centroids[j * D + 2];
      const vd dist = u * u + v * v + w * w;
      const vl closer = dist < bd;
      const vl second = dist < sd;
      sd = closer ? bd : (second ? dist : sd);
      bd = closer ? dist : bd;
      bl = closer ? vd{} + static_cast<double>(j) : bl;
    }
    std::memcpy(best_d + i, &bd, sizeof bd);
    std::memcpy(second_d + i, &sd, sizeof sd);
    std::memcpy(best + i, &bl, sizeof bl);
  }
  for (; i < m; ++i) {
    double u = a0[i] - centroids[0], v = a1[i] - centroids[1], w = a2[i] - centroids[2];
    double bd = u * u + v * v + w * w, sd = infinity, bl = 0;
    for (std::size_t j = 1; j < k; ++j) {
      u = a0[i] - centroids[j * D];
      v = a1[i] - centroids[j * D + 1];
      w = a2[i] - centroids[j * D + 2];
      const double dist = u * u + v * v + w * w;
      if (dist < bd) {
        sd = bd;
        bd = dist;
        bl = static_cast<double>(j);
      } else if (dist < sd) {
        sd = dist;
      }
    }
    best_d[i] = bd;
    second_d[i] = sd;
    best[i] = bl;
  }
}

}  // namespace
}  // namespace rfmseg::kmeans::detail
