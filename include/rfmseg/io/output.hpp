#pragma once
// Stage 9 — output. One parallel HDF5 file, written collectively, under a temporary name that is
// renamed to the final name only when everything was written, flushed to storage, closed on every
// rank, and read back and checked against its checksums. A run that fails never leaves a
// half-written file under the final name, and never truncates an existing result; a write error
// on any rank (a full disk) ends the job on every rank with the operating system's reason.

#include <functional>
#include <memory>
#include <string>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/io/h5.hpp"
#include "rfmseg/io/output_guard.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

class ResultFile {
 public:
  /// Collective: checks that `final_path` may be written under `rules` (agreed) and that its file
  /// system has `bytes_needed` free (a lower bound of the file's size: its data without HDF5
  /// metadata; a file that cannot fit is refused with exit 2 before it is created, since some
  /// MPI-IO layers lose or deadlock on a failed collective write), then creates
  /// "<final>.tmp-<pid>" beside it.
  ResultFile(const mpi::Comm& comm, std::string final_path, OutputRules rules = {}, std::uint64_t bytes_needed = 0);
  /// Without commit(): the temporary file is removed (rank 0); no collective call is made.
  ~ResultFile();
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;

  [[nodiscard]] const h5::File& file() const { return *_file; }
  [[nodiscard]] h5::Group group(const std::string& path) const { return _file->create_group(path); }
  [[nodiscard]] const std::string& temporary_path() const { return _temporary; }

  /// Collective: runs `work` (the writes); a failure on any rank ends every rank with an
  /// AgreedError that names the file and, for write errors (exit 2), the operating system's reason.
  void write(const std::function<void()>& work);

  /// Collective: seals the attributes, flushes and closes the file on every rank, reads it back
  /// and checks every checksum, and only then renames it to the final name (rank 0).
  void commit();

 private:
  [[nodiscard]] AgreedError write_failure(const std::string& what) const;

  const mpi::Comm& _comm;
  std::string _final;
  OutputRules _rules;
  std::string _temporary;
  std::unique_ptr<h5::File> _file;
  bool _committed = false;
};

}  // namespace rfmseg
