#include "rfmseg/model/evaluate.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include "rfmseg/parallel/reduce.hpp"

namespace rfmseg {

Features rfm_columns(const CustomerTable& table) {
  Features f;
  f.resize(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    f.column[0][i] = table.recency[i];
    f.column[1][i] = static_cast<double>(table.frequency[i]);
    f.column[2][i] = table.monetary[i];
  }
  return f;
}

ClusterProfile profile_clusters(const mpi::Comm& comm, const CustomerTable& table, std::span<const std::int32_t> labels,
                                int k) {
  ClusterProfile p;
  p.k = k;
  const auto kk = static_cast<std::size_t>(k);
  p.size.assign(kk, 0);
  for (auto label : labels) ++p.size[static_cast<std::size_t>(label)];
  p.size = mpi::allreduce(comm, std::move(p.size), mpi::Op::sum);
  std::int64_t total = 0;
  for (auto s : p.size) total += s;
  p.share.resize(kk);
  for (std::size_t c = 0; c < kk; ++c)
    p.share[c] = total ? static_cast<double>(p.size[c]) / static_cast<double>(total) : 0;

  const Features values = rfm_columns(table);
  for (std::size_t d = 0; d < feature_count; ++d) {
    const auto& x = values.column[d];
    const auto sums = global_grouped_sum(comm, x, labels, k);
    p.mean[d].resize(kk);
    for (std::size_t c = 0; c < kk; ++c) p.mean[d][c] = p.size[c] ? sums[c] / static_cast<double>(p.size[c]) : 0;
    std::vector<double> deviation(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double diff = x[i] - p.mean[d][static_cast<std::size_t>(labels[i])];
      deviation[i] = diff * diff;
    }
    const auto squares = global_grouped_sum(comm, deviation, labels, k);
    p.std[d].resize(kk);
    for (std::size_t c = 0; c < kk; ++c)
      p.std[d][c] = p.size[c] ? std::sqrt(squares[c] / static_cast<double>(p.size[c])) : 0;
    std::vector<double> lo(kk, std::numeric_limits<double>::infinity()),
        hi(kk, -std::numeric_limits<double>::infinity());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto c = static_cast<std::size_t>(labels[i]);
      lo[c] = std::min(lo[c], x[i]);
      hi[c] = std::max(hi[c], x[i]);
    }
    p.min[d] = mpi::allreduce(comm, std::move(lo), mpi::Op::min);
    p.max[d] = mpi::allreduce(comm, std::move(hi), mpi::Op::max);
    if (d == 2) {
      double revenue = 0;
      for (double s : sums) revenue += s;
      p.revenue_share.resize(kk);
      for (std::size_t c = 0; c < kk; ++c) p.revenue_share[c] = revenue != 0 ? sums[c] / revenue : 0;
    }
  }
  return p;
}

ClusterProfile reorder(const ClusterProfile& profile, const std::vector<int>& order) {
  ClusterProfile out;
  out.k = profile.k;
  out.size = reorder(profile.size, order);
  out.share = reorder(profile.share, order);
  out.revenue_share = reorder(profile.revenue_share, order);
  for (std::size_t d = 0; d < feature_count; ++d) {
    out.mean[d] = reorder(profile.mean[d], order);
    out.std[d] = reorder(profile.std[d], order);
    out.min[d] = reorder(profile.min[d], order);
    out.max[d] = reorder(profile.max[d], order);
  }
  return out;
}

std::string format_profile(const ClusterProfile& p, const std::vector<std::string>& labels) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-7s %-22s %9s %6s %9s %9s %9s %9s %12s %12s %7s\n", "cluster", "label",
                "customers", "share", "R mean", "R std", "F mean", "F std", "M mean", "M std", "revenue");
  out += line;
  for (std::size_t c = 0; c < static_cast<std::size_t>(p.k); ++c) {
    std::snprintf(line, sizeof line, "%-7zu %-22.22s %9lld %5.1f%% %9.1f %9.1f %9.2f %9.2f %12.2f %12.2f %6.1f%%\n", c,
                  c < labels.size() ? labels[c].c_str() : "", static_cast<long long>(p.size[c]), 100 * p.share[c],
                  p.mean[0][c], p.std[0][c], p.mean[1][c], p.std[1][c], p.mean[2][c], p.std[2][c],
                  100 * p.revenue_share[c]);
    out += line;
  }
  return out;
}

}  // namespace rfmseg
