#pragma once
// Reading a written HDF5 file back and checking it against its own checksums (see h5.hpp:
// "rowsum64p" per dataset, bound to its path; "attrsum64" over the attributes of every object).
// Used before a result or a checkpoint is renamed into place, when a checkpoint is resumed from,
// and by `rfmseg verify`. Every rank re-reads an even block of every dataset's rows, in pieces of
// bounded size, and the partial sums are added with one allreduce per dataset: the whole file is
// read once, in parallel, whatever its size.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

struct IntegrityReport {
  std::vector<std::string> problems;                         ///< one line per problem; empty = intact
  std::size_t datasets = 0;                                  ///< datasets found
  std::size_t checksums = 0;                                 ///< datasets whose checksum matched
  std::size_t legacy_checksums = 0;                          ///< of those, rfmseg 0.1 checksums (not bound to the path)
  std::size_t sealed_objects = 0;                            ///< objects whose attribute checksum matched
  std::map<std::string, std::vector<std::uint64_t>> shapes;  ///< dataset path -> shape
  [[nodiscard]] bool ok() const { return problems.empty(); }
};

/// Collective over `comm`: opens `path` read-only (MPI-IO), re-reads every dataset and checks its
/// checksum, and checks the attribute checksum of every object with attributes. Never throws for
/// a damaged or unreadable file (that is a problem in the report); the report is the same on
/// every rank. `max_piece_bytes` bounds the memory a rank uses for one read.
[[nodiscard]] IntegrityReport check_integrity(const mpi::Comm& comm, const std::string& path,
                                              std::uint64_t max_piece_bytes = 16u << 20);

}  // namespace rfmseg
