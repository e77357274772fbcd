// The tile kernels compiled for AVX2 (4 doubles per operation). CMake builds this file with
// -mavx2 on x86-64 (never -mfma: the same IEEE operations as the portable path, see
// kernels_body.hpp); kernels.cpp calls these only when the CPU has AVX2. Elsewhere (another
// architecture or compiler) the file holds the portable body under these names and
// avx2_kernels_built is false.

#if defined(__AVX2__)
#define RFMSEG_KERNEL_VECTOR_BYTES 32
#else
#define RFMSEG_KERNEL_VECTOR_BYTES 16
#endif
#include "kernels_body.hpp"

namespace rfmseg::kmeans::detail {

extern const bool avx2_kernels_built;
#if defined(__AVX2__)
const bool avx2_kernels_built = true;
#else
const bool avx2_kernels_built = false;
#endif

void nearest_in_tile_avx2(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                          std::size_t k, double* best_d, double* best) {
  nearest_in_tile_body(a0, a1, a2, m, centroids, k, best_d, best);
}

void nearest2_in_tile_avx2(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                           std::size_t k, double* best_d, double* second_d, double* best) {
  nearest2_in_tile_body(a0, a1, a2, m, centroids, k, best_d, second_d, best);
}

}  // namespace rfmseg::kmeans::detail
