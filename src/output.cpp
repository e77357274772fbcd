#include "rfmseg/output.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "rfmseg/errors.hpp"

namespace rfmseg {

namespace {
std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

void check_output_path(const mpi::Comm& comm, const std::string& final_path) {
  collectively(comm, [&] {
    if (!comm.is_root()) return;
    if (final_path.empty()) throw ConfigError("no output given: use --output RESULT.h5");
    const std::string dir = directory_of(final_path);
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw ConfigError("output directory '" + dir + "' does not exist");
    if (::access(dir.c_str(), W_OK) != 0) throw ConfigError("output directory '" + dir + "' is not writable");
    if (::stat(final_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      throw ConfigError("output '" + final_path + "' is a directory");
  });
}

ResultFile::ResultFile(const mpi::Comm& comm, std::string final_path) : _comm(comm), _final(std::move(final_path)) {
  check_output_path(comm, _final);
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

void ResultFile::commit() {
  _file->close();
  _comm.barrier();  // every rank has closed the file
  collectively(_comm, [&] {
    if (_comm.is_root() && std::rename(_temporary.c_str(), _final.c_str()) != 0)
      throw InputError("cannot rename '" + _temporary + "' to '" + _final + "': " + std::strerror(errno));
  });
  _committed = true;
}

void write_customers(const ResultFile& result, const mpi::Comm& comm, const CustomerTable& table) {
  const auto rows = h5::Rows::distributed(comm, table.size());
  std::uint64_t width = 1;
  for (const auto& id : table.id) width = std::max<std::uint64_t>(width, id.size());
  width = mpi::allreduce(comm, width, mpi::Op::max);
  const h5::Group customers = result.group("customers");
  h5::write_strings(customers, "customer_id", table.id, rows, width);
  h5::write_rows<std::int32_t>(customers, "recency", table.recency, rows);
  h5::write_rows<std::int64_t>(customers, "frequency", table.frequency, rows);
  h5::write_rows<double>(customers, "monetary", table.monetary, rows);
}

}  // namespace rfmseg
