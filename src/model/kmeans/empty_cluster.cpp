#include "rfmseg/model/kmeans/empty_cluster.hpp"

#include <algorithm>
#include <vector>

#include "candidate.hpp"
#include "kernels.hpp"
#include "views.hpp"

namespace rfmseg::kmeans {

using detail::Candidate;
using detail::candidate_less;
using detail::D;

void FarthestPoint::repair(const Context& context, std::span<const double> old_centroids,
                           std::span<const std::int32_t> labels, std::span<const std::size_t> empty,
                           std::span<double> next) const {
  const Features& f = context.data.features;
  std::vector<Candidate> local;
  for (std::size_t i = 0; i < f.size(); ++i) {
    Candidate c{-detail::squared_distance(f, i, &old_centroids[static_cast<std::size_t>(labels[i]) * D]),
                context.data.first_row + i,
                {}};
    detail::copy_point(f, i, c);
    local.push_back(c);
  }
  const auto keep = std::min(local.size(), empty.size());
  std::partial_sort(local.begin(), local.begin() + static_cast<std::ptrdiff_t>(keep), local.end(), candidate_less);
  local.resize(keep);
  auto all = mpi::allgatherv<Candidate>(context.comm, local);
  std::sort(all.begin(), all.end(), candidate_less);
  detail::CentroidsView centroids(next.data(), static_cast<Eigen::Index>(next.size() / D), feature_count);
  for (std::size_t e = 0; e < empty.size() && e < all.size(); ++e)
    centroids.row(static_cast<Eigen::Index>(empty[e])) = detail::PointView(all[e].x);
}

}  // namespace rfmseg::kmeans
