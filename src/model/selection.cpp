#include "rfmseg/model/selection.hpp"

#include <cmath>
#include <stdexcept>

namespace rfmseg {

int kneedle_elbow(const std::vector<int>& ks, const std::vector<double>& sse) {
  if (ks.empty() || ks.size() != sse.size()) throw std::invalid_argument("kneedle_elbow: empty or mismatched sweep");
  if (ks.size() < 3) return ks.back();
  const double x0 = ks.front(), x1 = ks.back();
  double lo = sse.front(), hi = sse.front();
  for (double v : sse) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!(hi > lo)) return ks.front();
  int best = -1;
  double best_gap = 1e-9;  // rounding noise on a straight line is not an elbow
  for (std::size_t i = 0; i < ks.size(); ++i) {
    const double x = (ks[i] - x0) / (x1 - x0);
    const double y = (sse[i] - lo) / (hi - lo);
    const double gap = (1 - x) - y;
    if (gap > best_gap) {
      best_gap = gap;
      best = ks[i];
    }
  }
  if (best < 0) {
    for (int k : ks)
      if (k > 1) return k;
    return ks.front();
  }
  return best;
}

int best_silhouette(const std::vector<int>& ks, const std::vector<double>& silhouette) {
  int best = -1;
  double best_value = -2;
  for (std::size_t i = 0; i < ks.size(); ++i) {
    if (ks[i] < 2 || !std::isfinite(silhouette[i])) continue;
    if (silhouette[i] > best_value) {
      best_value = silhouette[i];
      best = ks[i];
    }
  }
  if (best < 0) throw std::invalid_argument("--k-select silhouette needs a --k-range containing some k >= 2");
  return best;
}

}  // namespace rfmseg
