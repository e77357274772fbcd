#pragma once
// What rfmseg may replace, and who may write it. Before any work the job checks every path it
// will write (the result, the rejects file): a path may be replaced only when nothing is there or
// an earlier rfmseg result is (an HDF5 file with /run); anything else needs --force; an input, a
// device, a FIFO, a socket or a directory is never replaced. While the job runs, rank 0 holds a
// lock beside the result (RESULT.lock, flock(2): released by the kernel when the process dies), so
// a second run writing the same result refuses at start and names the first; with the lock held,
// temporary files of earlier runs that died are removed.

#include <cstdint>
#include <string>
#include <vector>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// True when `path` is a regular HDF5 file with rfmseg's /run group (a result rfmseg wrote).
[[nodiscard]] bool is_rfmseg_result(const std::string& path);
/// True when `path` is a regular file starting with rfmseg's rejects header "file,line,reason,text".
[[nodiscard]] bool is_rfmseg_rejects(const std::string& path);

struct OutputRules {
  std::vector<std::string> inputs;  ///< input paths or globs: the output must be none of them
  bool force = false;               ///< replace a regular file that `replaceable` does not accept
  const char* what = "output";      ///< how messages name the path ("output", "rejects file")
  const char* option = "--output";  ///< the option that sets it
  bool (*replaceable)(const std::string&) = &is_rfmseg_result;             ///< what may be replaced without --force
  const char* replaceable_what = "an rfmseg result (no HDF5 /run group)";  ///< for the message
};

/// Collective: checks on rank 0 (agreed) that `path` may be written: its directory exists and is
/// writable, and what is at `path` may be replaced under `rules`. Called before the work starts,
/// so a long job does not fail at its very end; ResultFile checks again before it commits.
void check_output_path(const mpi::Comm& comm, const std::string& path, const OutputRules& rules = {});

/// Held by rank 0 from construction to destruction: "<path>.lock" beside the result. Collective
/// construction; throws AgreedError (exit 1) naming the holder when another live run has it.
/// On file systems without flock(2) the job warns and runs unlocked.
class OutputLock {
 public:
  /// `option` is what a user changes to avoid the other run ("--output", "--checkpoint").
  OutputLock(const mpi::Comm& comm, const std::string& path, const char* option = "--output");
  ~OutputLock();
  /// Rank 0: the lock is held (false where the file system has no flock, or the lock file cannot
  /// be created: a missing or unwritable directory is then reported by check_output_path).
  [[nodiscard]] bool held() const { return _fd >= 0; }
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string _lock_path;
  int _fd = -1;
};

/// Rank 0, with the lock held: removes "<path>.tmp-<pid>" and "<path>.probe-<pid>" files left by
/// runs that died, with a warning each (`any_name`: every "*.tmp-<pid>" and "*.probe-<pid>" in the
/// directory of `path`, for a checkpoint directory). Returns how many were removed.
int remove_stale_temporaries(const std::string& path, bool any_name = false);

/// Local: fsync(2)s the closed file `path` (and nothing else), so late write errors of this
/// process's writes (full disk, NFS, Lustre) show before the file is trusted. Throws h5-independent
/// std::runtime_error with the OS reason.
void sync_to_storage(const std::string& path);

/// Rank 0, before writing: "" when the file system of `path` has at least `bytes_needed` free
/// (a lower bound of what the file will take), else the reason in the words of a failed write
/// ("No space left on device (ENOSPC): needs at least 42.1 MB, 5.9 MB free on the file system of
/// 'out'"). Some MPI-IO layers lose or deadlock on a write error in a collective write (ROMIO);
/// a file that cannot fit is refused before the first byte.
[[nodiscard]] std::string check_free_space(const std::string& path, std::uint64_t bytes_needed);

/// Collective: check_free_space on rank 0; when it fails, AgreedError (exit 2) on every rank:
/// "cannot write <label>: No space left on device ...; '<path>' is untouched". `label` names the
/// file in messages ("'r.h5'", "the rejects file 'rj.csv'").
void require_free_space(const mpi::Comm& comm, const std::string& path, std::uint64_t bytes_needed,
                        const std::string& label);

/// Collective: the error (exit 2) for a failed write of `path` through its `temporary` file, with
/// the operating system's reason from diagnose_write_failure on rank 0 and `detail` (what failed).
/// Call while the temporary file still exists: the probe then sees the file system as the writes did.
[[nodiscard]] AgreedError write_failure(const mpi::Comm& comm, const std::string& path, const std::string& temporary,
                                        const std::string& label, const std::string& detail);

/// Rank 0, after a failed write: the operating system's reason, found by writing and syncing a
/// probe file in the directory of `path` ("No space left on device (ENOSPC): 0 bytes free on the
/// file system of '/data'"), or "" when the probe succeeds.
[[nodiscard]] std::string diagnose_write_failure(const std::string& path);

/// Whether two paths name one file: the same device and inode when both exist, else the same path
/// once symbolic links and "." / ".." are resolved. False when either is empty.
[[nodiscard]] bool same_file(const std::string& a, const std::string& b);

}  // namespace rfmseg
