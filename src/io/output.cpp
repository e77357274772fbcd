#include "rfmseg/io/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/io/integrity.hpp"

namespace rfmseg {

ResultFile::ResultFile(const mpi::Comm& comm, std::string final_path, OutputRules rules, std::uint64_t bytes_needed)
    : _comm(comm), _final(std::move(final_path)), _rules(std::move(rules)) {
  check_output_path(comm, _final, _rules);
  require_free_space(comm, _final, bytes_needed, "'" + _final + "'");
  if (comm.is_root()) _temporary = _final + ".tmp-" + std::to_string(::getpid());
  mpi::broadcast(comm, _temporary);
  collectively(comm, [&] { _file = std::make_unique<h5::File>(h5::File::create(_temporary, comm)); });
}

ResultFile::~ResultFile() {
  if (_committed || !_file) return;
  // Error path: no collective calls here; rank 0 removes the partial file.
  _file->abandon();
  if (_comm.is_root()) std::remove(_temporary.c_str());
}

AgreedError ResultFile::write_failure(const std::string& what) const {
  return rfmseg::write_failure(_comm, _final, _temporary, "'" + _final + "'", what);
}

void ResultFile::write(const std::function<void()>& work) {
  try {
    collectively(_comm, work);
  } catch (const AgreedError& error) {
    if (error.exit_code() != 2) throw;
    throw write_failure(error.what());
  }
}

void ResultFile::commit() {
  // Every object of the file is closed by now; attribute checksums are the last thing written.
  write([&] {
    h5::seal_attributes(*_file);
    _file->close();
  });
  write([&] { sync_to_storage(_temporary); });  // every rank: late write errors of its own writes surface here
  // Read everything back, in parallel, and compare with the checksums: a write that an MPI-IO
  // layer reported only on its console (or not at all) is caught here, before the rename.
  const IntegrityReport report = check_integrity(_comm, _temporary);
  if (!report.ok()) {
    std::string problems;
    for (std::size_t i = 0; i < report.problems.size() && i < 3; ++i) problems += (i ? "; " : "") + report.problems[i];
    if (report.problems.size() > 3) problems += "; ... (" + std::to_string(report.problems.size()) + " problems)";
    throw write_failure("read back: " + problems);
  }
  check_output_path(_comm, _final, _rules);  // nothing appeared there meanwhile that must not be replaced
  collectively(_comm, [&] {
    if (!_comm.is_root()) return;
    if (std::rename(_temporary.c_str(), _final.c_str()) != 0)
      throw InputError("cannot rename '" + _temporary + "' to '" + _final + "': " + std::strerror(errno));
    // The rename itself is durable once the directory is synced.
    const std::string dir =
        _final.find('/') == std::string::npos ? "." : _final.substr(0, _final.find_last_of('/') + 1);
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  });
  _committed = true;
}

}  // namespace rfmseg
