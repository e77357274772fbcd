#include "rfmseg/model/scale.hpp"

#include <cmath>

#include <Eigen/Core>

#include "rfmseg/parallel/reduce.hpp"

namespace rfmseg {

ScaleParams fit_scaler(const mpi::Comm& comm, const Features& features, Scaler kind,
                       std::vector<std::string>& warnings) {
  static constexpr const char* names[] = {"recency", "frequency", "monetary"};
  ScaleParams params;
  params.kind = kind;
  for (std::size_t d = 0; d < feature_count; ++d) {
    const auto& x = features.column[d];
    if (kind == Scaler::standard) {
      const Moments m = global_moments(comm, x);
      params.center[d] = m.mean;
      params.scale[d] = std::sqrt(m.variance);
    } else {
      params.center[d] = global_min(comm, x);
      params.scale[d] = global_max(comm, x) - params.center[d];
    }
    if (!(params.scale[d] > 0)) {
      params.scale[d] = 1;
      warnings.push_back(std::string(names[d]) +
                         " is the same for every customer (zero variance): its scaled feature is 0");
    }
  }
  return params;
}

void apply_scaler(const ScaleParams& params, Features& features) {
  for (std::size_t d = 0; d < feature_count; ++d) {
    Eigen::Map<Eigen::ArrayXd> x(features.column[d].data(), static_cast<Eigen::Index>(features.column[d].size()));
    x = (x - params.center[d]) / params.scale[d];  // elementwise: the same rounding as a scalar loop
  }
}

int snap_to_grid(const mpi::Comm& comm, Features& features) {
  double largest = 0;
  for (const auto& column : features.column)
    for (double v : column) largest = std::max(largest, std::fabs(v));
  largest = mpi::allreduce(comm, largest, mpi::Op::max);
  // |x| < 2^40 grid steps: int64 block sums of 2^22 points cannot overflow.
  const int exponent = largest > 0 ? 39 - std::ilogb(largest) : 0;
  snap_to_grid(features, exponent);
  return exponent;
}

void snap_to_grid(Features& features, int exponent) {
  for (auto& column : features.column)
    for (auto& v : column) v = std::ldexp(std::nearbyint(std::ldexp(v, exponent)), -exponent);
}

}  // namespace rfmseg
