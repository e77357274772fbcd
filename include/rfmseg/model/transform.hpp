#pragma once
// Stage 4 — transform. De-skews each RFM feature: none | log1p | cbrt | boxcox | yeojohnson.
// Box-Cox and Yeo-Johnson λ are fitted by maximum likelihood over all customers (each likelihood
// evaluation is one exact global reduction; a 1-D search on λ), as scipy.stats.boxcox /
// yeojohnson do on one machine.
//
// Non-positive values: Box-Cox needs x > 0, so when the global minimum is <= 0 every value is
// shifted by 1 − min (the minimum becomes 1); log1p needs x > −1, so when the minimum is <= −1
// the shift is −min (the minimum becomes 0). The shift is stored with the model.

#include <span>
#include <string>

#include "rfmseg/core/config.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

struct TransformParams {
  Transform kind = Transform::none;
  double lambda = 0;  ///< boxcox / yeojohnson only
  double shift = 0;   ///< added before transforming
};

[[nodiscard]] const char* transform_name(Transform kind);
/// "none", "log1p", ...; throws std::invalid_argument.
[[nodiscard]] Transform parse_transform(const std::string& name);

/// Collective: chooses the shift and fits λ over all ranks' values.
[[nodiscard]] TransformParams fit_transform(const mpi::Comm& comm, Transform kind, std::span<const double> values);

/// Local: out[i] = transform(values[i] + shift).
void apply_transform(const TransformParams& params, std::span<const double> values, std::span<double> out);

/// Box-Cox and Yeo-Johnson of one value (x already shifted).
[[nodiscard]] double boxcox(double x, double lambda) noexcept;
[[nodiscard]] double yeojohnson(double x, double lambda) noexcept;

}  // namespace rfmseg
