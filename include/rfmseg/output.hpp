#pragma once
// Stage 9 — output. One parallel HDF5 file, written collectively, under a temporary name that is
// renamed to the final name only when everything was written and closed on every rank. A run
// that fails never leaves a half-written file under the final name, and never truncates an
// existing result.

#include <memory>
#include <string>

#include "rfmseg/h5.hpp"
#include "rfmseg/mpi.hpp"
#include "rfmseg/rfm.hpp"

namespace rfmseg {

class ResultFile {
 public:
  /// Collective: checks that the output directory exists and is writable (agreed), then creates
  /// "<final>.tmp-<id>" beside it.
  ResultFile(const mpi::Comm& comm, std::string final_path);
  /// Without commit(): the temporary file is removed (rank 0); no collective call is made.
  ~ResultFile();
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;

  [[nodiscard]] const h5::File& file() const { return *_file; }
  [[nodiscard]] h5::Group group(const std::string& path) const { return _file->create_group(path); }
  [[nodiscard]] const std::string& temporary_path() const { return _temporary; }

  /// Collective: closes the file on every rank, then rank 0 renames it to the final name.
  void commit();

 private:
  const mpi::Comm& _comm;
  std::string _final;
  std::string _temporary;
  std::unique_ptr<h5::File> _file;
  bool _committed = false;
};

/// Collective: checks on rank 0 (agreed) that `final_path` can be written: its directory exists
/// and is writable and it is not a directory. Called before the work starts, so a long job does not
/// fail at its very end; ResultFile checks again.
void check_output_path(const mpi::Comm& comm, const std::string& final_path);

struct Segmentation;

/// Collective: /customers/{customer_id, recency, frequency, monetary} from the id-sorted table.
void write_customers(const ResultFile& result, const mpi::Comm& comm, const CustomerTable& table);

/// Collective: /customers/{features, cluster, scores, segment, ...}, /model (centroids, profile,
/// metrics, transform parameters), /selection (the sweep, if any) and /segments.
void write_model(const ResultFile& result, const mpi::Comm& comm, const Segmentation& seg);

}  // namespace rfmseg
