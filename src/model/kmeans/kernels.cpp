// The portable compilation of the tile kernels (SSE2, the x86-64 baseline) and the dispatch
// between it and the AVX2 one (kernels_avx2.cpp), chosen once per process.
#define RFMSEG_KERNEL_VECTOR_BYTES 16
#include "kernels_body.hpp"

#include <cstdlib>
#include <string_view>

#include "rfmseg/model/kmeans/steps.hpp"

namespace rfmseg::kmeans::detail {

extern const bool avx2_kernels_built;  // kernels_avx2.cpp

void nearest_in_tile_portable(const double* a0, const double* a1, const double* a2, std::size_t m,
                              const double* centroids, std::size_t k, double* best_d, double* best) {
  nearest_in_tile_body(a0, a1, a2, m, centroids, k, best_d, best);
}

void nearest2_in_tile_portable(const double* a0, const double* a1, const double* a2, std::size_t m,
                               const double* centroids, std::size_t k, double* best_d, double* second_d, double* best) {
  nearest2_in_tile_body(a0, a1, a2, m, centroids, k, best_d, second_d, best);
}

bool avx2_kernels_usable() {
#if defined(__x86_64__) || defined(__i386__)
  return avx2_kernels_built && __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

namespace {

struct Kernels {
  decltype(&nearest_in_tile_portable) nearest;
  decltype(&nearest2_in_tile_portable) nearest2;
  std::string_view path;
};

// RFMSEG_CPU=portable forces the portable kernels; unset or any other value (auto) takes AVX2
// when the CPU has it.
Kernels choose_kernels() {
  const char* forced = std::getenv("RFMSEG_CPU");
  if ((forced == nullptr || std::string_view(forced) != "portable") && avx2_kernels_usable())
    return {&nearest_in_tile_avx2, &nearest2_in_tile_avx2, "avx2"};
  return {&nearest_in_tile_portable, &nearest2_in_tile_portable, "portable"};
}

const Kernels& kernels() {
  static const Kernels chosen = choose_kernels();  // once per process (thread-safe)
  return chosen;
}

}  // namespace

void nearest_in_tile(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                     std::size_t k, double* best_d, double* best) {
  kernels().nearest(a0, a1, a2, m, centroids, k, best_d, best);
}

void nearest2_in_tile(const double* a0, const double* a1, const double* a2, std::size_t m, const double* centroids,
                      std::size_t k, double* best_d, double* second_d, double* best) {
  kernels().nearest2(a0, a1, a2, m, centroids, k, best_d, second_d, best);
}

}  // namespace rfmseg::kmeans::detail

namespace rfmseg::kmeans {

std::string_view kernel_path() { return detail::kernels().path; }

}  // namespace rfmseg::kmeans
