#pragma once
// The feature matrix: n customers × 3 features (recency, frequency, monetary), stored by column
// (structure of arrays), the layout the transforms, the scaler and the K-means kernels stream.

#include <array>
#include <cstddef>
#include <vector>

namespace rfmseg {

inline constexpr int feature_count = 3;  ///< recency, frequency, monetary

/// Local rows of the feature matrix as a structure of arrays: column[d][i].
struct Features {
  std::array<std::vector<double>, feature_count> column;
  [[nodiscard]] std::size_t size() const { return column[0].size(); }
  void resize(std::size_t n) {
    for (auto& c : column) c.resize(n);
  }
  /// Row-major copy [n, 3] for HDF5 and Python users.
  [[nodiscard]] std::vector<double> row_major() const;
};

}  // namespace rfmseg
