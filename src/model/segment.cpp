#include "rfmseg/model/segment.hpp"

#include <algorithm>
#include <map>
#include <numeric>

namespace rfmseg {

std::vector<int> order_by_monetary(const ClusterProfile& profile) {
  std::vector<int> order(static_cast<std::size_t>(profile.k));
  std::iota(order.begin(), order.end(), 0);
  const auto& monetary = profile.mean[2];
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return monetary[static_cast<std::size_t>(a)] > monetary[static_cast<std::size_t>(b)];
  });
  return order;
}

std::vector<std::string> label_clusters(const ClusterProfile& profile,
                                        const std::array<double, feature_count>& overall_mean,
                                        const std::array<std::string, 4>& names) {
  std::vector<std::string> labels;
  std::map<std::string, int> seen;
  for (std::size_t c = 0; c < static_cast<std::size_t>(profile.k); ++c) {
    const bool recent = profile.mean[0][c] < overall_mean[0];
    const bool frequent = profile.mean[1][c] > overall_mean[1];
    const bool valuable = profile.mean[2][c] > overall_mean[2];
    std::string label = recent ? (frequent ? names[0] : names[1]) : (frequent ? names[2] : names[3]);
    if (valuable) label += ", high value";
    const int count = ++seen[label];
    if (count > 1) {
      label += ' ';
      label += std::to_string(count);
    }
    labels.push_back(label);
  }
  return labels;
}

}  // namespace rfmseg
