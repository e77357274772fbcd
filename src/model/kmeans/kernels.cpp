#include "kernels.hpp"

#include <cstring>

namespace rfmseg::kmeans::detail {

// Nearest centroid of m <= tile points (ties: lowest index) with explicit vectors: packed
// compares and blends instead of branches. The arithmetic is the same IEEE operations in the
// same order as the scalar tail, so every point gets the same label on any path.
#if defined(__AVX__)
inline constexpr int vector_bytes = 32;  // 4 doubles per operation
#else
inline constexpr int vector_bytes = 16;  // SSE2: 2 doubles (wider types would be split badly)
#endif
using v4d = double __attribute__((vector_size(vector_bytes)));
using v4l = long long __attribute__((vector_size(vector_bytes)));

void nearest_in_tile(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                     std::size_t k, double* best_d, double* best) {
  std::size_t i = 0;
  constexpr std::size_t width = sizeof(v4d) / sizeof(double);
  for (; i + width <= m; i += width) {
    v4d x, y, z;
    std::memcpy(&x, a0 + i, sizeof x);
    std::memcpy(&y, a1 + i, sizeof y);
    std::memcpy(&z, a2 + i, sizeof z);
    v4d u = x - centroids[0], v = y - centroids[1], w = z - centroids[2];
    v4d bd = u * u + v * v + w * w;
    v4d bl = {};
    for (std::size_t j = 1; j < k; ++j) {
      u = x - centroids[j * D];
      v = y - centroids[j * D + 1];
      w = z - centroids[j * D + 2];
      const v4d dist = u * u + v * v + w * w;
      const v4l closer = dist < bd;
      bd = closer ? dist : bd;
      bl = closer ? v4d{} + static_cast<double>(j) : bl;
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
void nearest2_in_tile(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                      std::size_t k, double* best_d, double* second_d, double* best) {
  std::size_t i = 0;
  constexpr std::size_t width = sizeof(v4d) / sizeof(double);
  const v4d inf = v4d{} + infinity;
  for (; i + width <= m; i += width) {
    v4d x, y, z;
    std::memcpy(&x, a0 + i, sizeof x);
    std::memcpy(&y, a1 + i, sizeof y);
    std::memcpy(&z, a2 + i, sizeof z);
    v4d u = x - centroids[0], v = y - centroids[1], w = z - centroids[2];
    v4d bd = u * u + v * v + w * w;
    v4d sd = inf;
    v4d bl = {};
    for (std::size_t j = 1; j < k; ++j) {
      u = x - centroids[j * D];
      v = y - centroids[j * D + 1];
      w = z - centroids[j * D + 2];
      const v4d dist = u * u + v * v + w * w;
      const v4l closer = dist < bd;
      const v4l second = dist < sd;
      sd = closer ? bd : (second ? dist : sd);
      bd = closer ? dist : bd;
      bl = closer ? v4d{} + static_cast<double>(j) : bl;
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

}  // namespace rfmseg::kmeans::detail
