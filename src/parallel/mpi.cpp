#include "rfmseg/parallel/mpi.hpp"
#include "rfmseg/core/int128.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace rfmseg::mpi {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw Error(std::string(what) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

int checked_int(std::size_t value, const char* what) {
  if (value > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw Error(std::string(what) + " of " + std::to_string(value) + " exceeds the MPI int limit");
  }
  return static_cast<int>(value);
}

namespace {

YieldChoice& yield_choice() {
  static YieldChoice choice{false, "not checked"};
  return choice;
}

// Ranks on this host as the launcher tells them before MPI_Init (0: unknown).
long local_ranks() {
  if (const char* ompi = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) return std::strtol(ompi, nullptr, 10);
  // Slurm: "4" or "2(x3),1" — this host's count is not known before init; take the largest.
  if (const char* slurm = std::getenv("SLURM_STEP_TASKS_PER_NODE")) {
    long most = 0;
    for (const char* p = slurm; *p != 0;) {
      char* end = nullptr;
      const long n = std::strtol(p, &end, 10);
      if (end == p) break;
      most = std::max(most, n);
      p = end;
      while (*p != 0 && *p != ',') ++p;
      if (*p == ',') ++p;
    }
    return most;
  }
  return 0;
}

}  // namespace

YieldChoice choose_yield(long local_ranks, long cpus, long online, const char* user_value) {
  YieldChoice choice;
  const long available = cpus > 1 ? cpus : std::max(1L, online);
  const std::string counts = std::to_string(local_ranks) + (local_ranks == 1 ? " rank on " : " ranks on ") +
                             std::to_string(available) + (available == 1 ? " CPU" : " CPUs");
  if (local_ranks <= 0) {
    choice.text = "not checked: the launcher did not tell the ranks per host";
  } else if (user_value != nullptr) {
    choice.text = std::string("as set by the user (") + user_value + "): " + counts;
  } else if (local_ranks > available) {
    choice.set = true;
    choice.text = "yield set by rfmseg: " + counts;
  } else {
    choice.text = "not needed: " + counts;
  }
  return choice;
}

Environment::Environment(int& argc, char**& argv) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  const long cpus = sched_getaffinity(0, sizeof mask, &mask) == 0 ? CPU_COUNT(&mask) : 0;
  const YieldChoice choice =
      choose_yield(local_ranks(), cpus, sysconf(_SC_NPROCESSORS_ONLN), std::getenv("OMPI_MCA_mpi_yield_when_idle"));
  if (choice.set) setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
  yield_choice() = choice;
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
}

Environment::~Environment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

const YieldChoice& Environment::yield_when_idle() { return yield_choice(); }

bool Environment::is_initialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}

Comm Comm::world() { return Comm(MPI_COMM_WORLD); }

Comm::Comm(MPI_Comm comm) {
  collective("MPI_Comm_dup", [&] { return MPI_Comm_dup(comm, &_comm); });
  check(MPI_Comm_set_errhandler(_comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(_comm, &_rank), "MPI_Comm_rank");
  check(MPI_Comm_size(_comm, &_size), "MPI_Comm_size");
}

Comm::~Comm() {
  if (_comm != MPI_COMM_NULL) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&_comm);  // destructors never throw
  }
}

Comm::Comm(Comm&& other) noexcept : _comm(other._comm), _rank(other._rank), _size(other._size) {
  other._comm = MPI_COMM_NULL;
}

Comm& Comm::operator=(Comm&& other) noexcept {
  if (this != &other) {
    if (_comm != MPI_COMM_NULL) MPI_Comm_free(&_comm);
    _comm = other._comm;
    _rank = other._rank;
    _size = other._size;
    other._comm = MPI_COMM_NULL;
  }
  return *this;
}

void Comm::barrier() const {
  collective("MPI_Barrier", [&] { return MPI_Barrier(_comm); });
}

ScopedDatatype::ScopedDatatype(MPI_Datatype type) : _type(type) { check(MPI_Type_commit(&_type), "MPI_Type_commit"); }

ScopedDatatype::~ScopedDatatype() {
  if (_type != MPI_DATATYPE_NULL) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Type_free(&_type);
  }
}

// ---------------------------------------------------------------- MPI-IO

namespace {
MPI_Offset checked_offset(std::uint64_t value, const std::string& path) {
  if (value > static_cast<std::uint64_t>(std::numeric_limits<MPI_Offset>::max()))
    throw Error("offset " + std::to_string(value) + " in '" + path + "' exceeds MPI_Offset");
  return static_cast<MPI_Offset>(value);
}

// A collective MPI-IO call under the watchdog (`what` a string literal); errors name the file.
template <class Call>
void file_call(const char* what, const std::string& path, Call&& call) {
  int rc = MPI_SUCCESS;
  {
    const watchdog::Collective scope(what);
    rc = call();
  }
  check(rc, (std::string(what) + " on '" + path + "'").c_str());
}
}  // namespace

File File::create(const Comm& comm, const std::string& path) {
  File file;
  file._path = path;
  file_call("MPI_File_open", path, [&] {
    return MPI_File_open(comm.native(), path.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &file._file);
  });
  return file;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    _file = other._file;  // a handle still open here is dropped, as in the destructor
    _path = std::move(other._path);
    other._file = MPI_FILE_NULL;
  }
  return *this;
}

void File::write_at_all(std::uint64_t offset, std::span<const char> bytes) {
  const int count = checked_int(bytes.size(), "MPI_File_write_at_all count");
  const MPI_Offset at = checked_offset(offset, _path);
  (void)checked_offset(offset + bytes.size(), _path);
  MPI_Status status{};
  file_call("MPI_File_write_at_all", _path,
            [&] { return MPI_File_write_at_all(_file, at, bytes.data(), count, MPI_BYTE, &status); });
  int written = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &written), "MPI_Get_count");
  if (written != count)
    throw Error("MPI_File_write_at_all on '" + _path + "' wrote " + std::to_string(written) + " of " +
                std::to_string(count) + " bytes");
}

void File::set_size(std::uint64_t bytes) {
  const MPI_Offset size = checked_offset(bytes, _path);
  file_call("MPI_File_set_size", _path, [&] { return MPI_File_set_size(_file, size); });
}

void File::sync() {
  file_call("MPI_File_sync", _path, [&] { return MPI_File_sync(_file); });
}

void File::close() {
  file_call("MPI_File_close", _path, [&] { return MPI_File_close(&_file); });
  _file = MPI_FILE_NULL;
}

MPI_Op native_op(Op op) {
  switch (op) {
    case Op::sum: return MPI_SUM;
    case Op::min: return MPI_MIN;
    case Op::max: return MPI_MAX;
  }
  return MPI_SUM;
}

bool any_of(const Comm& comm, bool flag) { return allreduce<std::int32_t>(comm, flag ? 1 : 0, Op::max) != 0; }

bool all_of(const Comm& comm, bool flag) { return allreduce<std::int32_t>(comm, flag ? 1 : 0, Op::min) != 0; }

namespace {
// Integer addition is associative, so this reduction is exact whatever the tree shape.
void sum_int128(void* in, void* inout, int* len, MPI_Datatype* /*type*/) {
  for (int i = 0; i < *len; ++i) {
    int128_t a, b;
    std::memcpy(&a, static_cast<char*>(in) + 16 * i, 16);
    std::memcpy(&b, static_cast<char*>(inout) + 16 * i, 16);
    b += a;
    std::memcpy(static_cast<char*>(inout) + 16 * i, &b, 16);
  }
}
}  // namespace

void allreduce_sum_inplace(const Comm& comm, std::span<int128_t> values) {
  if (values.empty()) return;
  MPI_Datatype raw = MPI_DATATYPE_NULL;
  check(MPI_Type_contiguous(16, MPI_BYTE, &raw), "MPI_Type_contiguous");
  ScopedDatatype type(raw);
  MPI_Op op = MPI_OP_NULL;
  check(MPI_Op_create(&sum_int128, 1, &op), "MPI_Op_create");
  const int count = checked_int(values.size(), "allreduce count");
  int rc = MPI_SUCCESS;
  {
    const watchdog::Collective scope("MPI_Allreduce(int128 sum)");
    rc = MPI_Allreduce(MPI_IN_PLACE, values.data(), count, type.get(), op, comm.native());
  }
  MPI_Op_free(&op);
  check(rc, "MPI_Allreduce(int128 sum)");
}

void broadcast(const Comm& comm, std::string& text, int root) {
  std::uint64_t length = text.size();
  collective("MPI_Bcast", [&] { return MPI_Bcast(&length, 1, MPI_UINT64_T, root, comm.native()); });
  text.resize(length);
  if (length > 0) {
    collective("MPI_Bcast", [&] {
      return MPI_Bcast(text.data(), checked_int(length, "broadcast length"), MPI_CHAR, root, comm.native());
    });
  }
}

std::vector<std::string> allgather_strings(const Comm& comm, const std::string& text) {
  const auto lengths = allgather<std::uint64_t>(comm, text.size());
  const auto bytes = allgatherv<char>(comm, std::span<const char>(text.data(), text.size()));
  std::vector<std::string> out;
  out.reserve(lengths.size());
  std::size_t offset = 0;
  for (auto length : lengths) {
    out.emplace_back(bytes.data() + offset, length);
    offset += length;
  }
  return out;
}

void assert_same_on_all_ranks([[maybe_unused]] const Comm& comm, [[maybe_unused]] std::int64_t value,
                              [[maybe_unused]] const char* what) {
#ifndef NDEBUG
  const auto lo = allreduce(comm, value, Op::min);
  const auto hi = allreduce(comm, value, Op::max);
  if (lo != hi) throw Error(std::string(what) + " differs between ranks");
#endif
}

}  // namespace rfmseg::mpi
