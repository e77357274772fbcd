#pragma once
// Helpers for MPI tests: a shared temporary directory, files written by rank 0, and gathering a
// distributed table to every rank for comparison.

#include <string>
#include <vector>

#include "rfmseg/model/rfm.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg::test {

/// A directory every rank sees, created by rank 0 and removed (by rank 0) when it goes away.
class SharedTempDir {
 public:
  explicit SharedTempDir(const mpi::Comm& comm);
  ~SharedTempDir();
  SharedTempDir(const SharedTempDir&) = delete;
  SharedTempDir& operator=(const SharedTempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return _path; }
  /// Rank 0 writes `content` to path()/name; every rank returns the full path after a barrier.
  [[nodiscard]] std::string write(const std::string& name, const std::string& content) const;

 private:
  const mpi::Comm& _comm;
  std::string _path;
};

/// One customer row as plain values, for comparisons.
struct Row {
  std::string id;
  int recency;
  long long frequency;
  double monetary;
  bool operator==(const Row&) const = default;
};

/// Every rank's rows, concatenated in rank order, on every rank.
[[nodiscard]] std::vector<Row> gather_rows(const mpi::Comm& comm, const CustomerTable& table);

}  // namespace rfmseg::test
