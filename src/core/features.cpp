#include "rfmseg/core/features.hpp"

namespace rfmseg {

std::vector<double> Features::row_major() const {
  std::vector<double> out(size() * feature_count);
  for (std::size_t i = 0; i < size(); ++i)
    for (int d = 0; d < feature_count; ++d) out[i * feature_count + static_cast<std::size_t>(d)] = column[static_cast<std::size_t>(d)][i];
  return out;
}

}  // namespace rfmseg
