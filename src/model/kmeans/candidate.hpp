#pragma once
// A point offered by one rank to a global choice (initialization, empty-cluster repair): the
// smallest (key, global row) wins on every rank. Private to src/model/kmeans/.

#include <algorithm>
#include <cstdint>

#include "rfmseg/core/features.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg::kmeans::detail {

struct Candidate {
  double key;
  std::uint64_t row;
  double x[feature_count];
};

inline bool candidate_less(const Candidate& a, const Candidate& b) {
  return a.key < b.key || (a.key == b.key && a.row < b.row);
}

/// Collective: the globally smallest of the ranks' best candidates.
inline Candidate global_best(const mpi::Comm& comm, const Candidate& local) {
  const auto all = mpi::allgather(comm, local);
  return *std::min_element(all.begin(), all.end(), candidate_less);
}

/// Local row `i` of `features` into `c.x`.
inline void copy_point(const Features& features, std::size_t i, Candidate& c) {
  for (std::size_t d = 0; d < feature_count; ++d) c.x[d] = features.column[d][i];
}

}  // namespace rfmseg::kmeans::detail
