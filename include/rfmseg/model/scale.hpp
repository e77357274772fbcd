#pragma once
// Stage 5 — scale. Standard (population mean / std, like scikit-learn's StandardScaler) or
// min-max scaling from global reductions, then a snap onto a fixed-point grid: every feature
// becomes an integer multiple of 2^-grid_exponent (|x| < 2^40 on the grid), so cluster sums in
// K-means are exact integer sums and identical for any rank count. The grid step is ~1e-12 of the
// largest feature: far below any effect on the clustering.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/core/features.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

struct ScaleParams {
  Scaler kind = Scaler::standard;
  std::array<double, feature_count> center{};  ///< subtracted (mean or min)
  std::array<double, feature_count> scale{};   ///< divided by (std or max − min; 1 when that is 0)
  int grid_exponent = 0;                       ///< features are multiples of 2^-grid_exponent
};

/// Collective: fits the scaler over all ranks. A zero-variance (or constant) feature gets scale 1
/// and a warning in `warnings` instead of a division by zero.
[[nodiscard]] ScaleParams fit_scaler(const mpi::Comm& comm, const Features& features, Scaler kind,
                                     std::vector<std::string>& warnings);

/// Local: x = (x − center) / scale.
void apply_scaler(const ScaleParams& params, Features& features);

/// Collective: chooses the grid from the global largest |x| and rounds every value onto it
/// (round half to even). Returns the grid exponent.
[[nodiscard]] int snap_to_grid(const mpi::Comm& comm, Features& features);
/// Local: rounds every value onto the grid of 2^-exponent (round half to even), as snap_to_grid
/// does with the exponent it chose (a saved model's grid_exponent, when scoring).
void snap_to_grid(Features& features, int exponent);

}  // namespace rfmseg
