#include "rfmseg/core/features.hpp"

#include <Eigen/Core>

namespace rfmseg {

std::vector<double> Features::row_major() const {
  const auto n = static_cast<Eigen::Index>(size());
  std::vector<double> out(size() * feature_count);
  // `out` seen as the [n, 3] row-major matrix; column d of it is feature column d (a copy).
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, feature_count, Eigen::RowMajor>;
  Eigen::Map<RowMajor> matrix(out.data(), n, feature_count);
  for (std::size_t d = 0; d < feature_count; ++d)
    matrix.col(static_cast<Eigen::Index>(d)) = Eigen::Map<const Eigen::VectorXd>(column[d].data(), n);
  return out;
}

}  // namespace rfmseg
