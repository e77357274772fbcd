#pragma once
// Thin RAII layer over MPI. Everything the pipeline needs from MPI goes through here, so the
// stages read like the math: counts and datatypes come from the containers, every return code is
// checked once, and counts become `int` only through a checked cast.

#include <mpi.h>
#include "rfmseg/core/int128.hpp"
#include "rfmseg/parallel/watchdog.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace rfmseg::mpi {

/// An MPI call returned an error code; the message carries MPI_Error_string.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws mpi::Error naming `what` when `rc` is not MPI_SUCCESS.
void check(int rc, const char* what);

/// Converts a size to the `int` MPI wants, throwing when it does not fit.
int checked_int(std::size_t value, const char* what);

/// Runs one blocking collective (`call` returns its MPI error code) under the watchdog's deadline
/// (--collective-timeout) and checks the result.
template <class Call>
void collective(const char* what, Call&& call) {
  const watchdog::Collective scope(what);
  check(call(), what);
}

/// The decision of Environment (exposed for tests): with `local_ranks` ranks on the host, `cpus`
/// CPUs in this process's affinity mask, `online` CPUs on the host and the user's value of
/// OMPI_MCA_mpi_yield_when_idle (null: unset), whether to set it, and the text describing it.
struct YieldChoice {
  bool set = false;
  std::string text;
};
[[nodiscard]] YieldChoice choose_yield(long local_ranks, long cpus, long online, const char* user_value);

/// Owns MPI_Init / MPI_Finalize. Exactly one per process, created first in main.
///
/// Before MPI_Init it looks for an oversubscribed host: more ranks on this host (Open MPI's
/// OMPI_COMM_WORLD_LOCAL_SIZE, or Slurm's SLURM_STEP_TASKS_PER_NODE) than CPUs this process may
/// run on (its affinity mask; the host's online CPUs if the rank is bound to one). Open MPI's
/// collectives busy-wait, and a waiting rank then takes the core from the rank it waits for: a
/// sweep's K-means took 39 s instead of 0.7 s with 4 ranks on 2 cores here (mpirun with a
/// hostfile of 4 slots). mpirun's own --oversubscribe already makes them yield; when the host is
/// oversubscribed without Open MPI knowing, the environment sets OMPI_MCA_mpi_yield_when_idle=1
/// (unless the user set it) so waiting ranks give the core away.
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  static bool is_initialized();
  /// What was found and done before MPI_Init: whether rfmseg set the yield, and in words, e.g.
  /// "yield set by rfmseg: 4 ranks on 2 CPUs", "not needed: 2 ranks on 2 CPUs".
  static const YieldChoice& yield_when_idle();
};

/// A communicator we own: a duplicate with MPI_ERRORS_RETURN set, freed in the destructor.
/// Move-only; duplicating is explicit (dup()) because it is a collective call.
class Comm {
 public:
  /// A duplicate of MPI_COMM_WORLD with errors returned (not fatal).
  static Comm world();
  /// Duplicates `comm` (collective over it).
  explicit Comm(MPI_Comm comm);
  ~Comm();
  Comm(Comm&& other) noexcept;
  Comm& operator=(Comm&& other) noexcept;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  [[nodiscard]] Comm dup() const { return Comm(_comm); }
  [[nodiscard]] int rank() const { return _rank; }
  [[nodiscard]] int size() const { return _size; }
  [[nodiscard]] bool is_root() const { return _rank == 0; }
  [[nodiscard]] MPI_Comm native() const { return _comm; }
  void barrier() const;

 private:
  MPI_Comm _comm = MPI_COMM_NULL;
  int _rank = 0;
  int _size = 1;
};

// ---------------------------------------------------------------- MPI-IO

/// A file opened with MPI-IO on every rank of a communicator, for writing at explicit offsets.
/// Move-only. Errors come back as mpi::Error with MPI_Error_string (MPI-IO returns them by
/// default). Open, collective writes, sync and close are collective: call them on every rank.
/// Without close() the destructor drops the handle without closing it (a collective close on an
/// error path could block; Open MPI closes it at MPI_Finalize), like h5::File::abandon.
class File {
 public:
  File() = default;
  /// Collective: creates (or opens) `path` write-only.
  static File create(const Comm& comm, const std::string& path);
  ~File() = default;
  File(File&& other) noexcept : _file(other._file), _path(std::move(other._path)) { other._file = MPI_FILE_NULL; }
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  [[nodiscard]] bool is_open() const { return _file != MPI_FILE_NULL; }
  /// Collective: writes `bytes` at byte `offset` (a rank may pass none); throws unless all of
  /// them were written.
  void write_at_all(std::uint64_t offset, std::span<const char> bytes);
  /// Collective: sets the file's size (truncates or extends).
  void set_size(std::uint64_t bytes);
  /// Collective: flushes to storage.
  void sync();
  /// Collective: closes the file.
  void close();

 private:
  MPI_File _file = MPI_FILE_NULL;
  std::string _path;
};

// ---------------------------------------------------------------- datatypes

template <class T>
MPI_Datatype datatype() {
  if constexpr (std::is_same_v<T, double>)
    return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, float>)
    return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return MPI_INT64_T;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return MPI_UINT64_T;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return MPI_INT32_T;
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return MPI_UINT32_T;
  else if constexpr (std::is_same_v<T, std::int8_t>)
    return MPI_INT8_T;
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return MPI_UINT8_T;
  else if constexpr (std::is_same_v<T, char>)
    return MPI_CHAR;
  else if constexpr (std::is_same_v<T, long long>)
    return MPI_LONG_LONG;
  else if constexpr (std::is_same_v<T, unsigned long long>)
    return MPI_UNSIGNED_LONG_LONG;
  else
    static_assert(sizeof(T) == 0, "no MPI datatype for this type");
}

/// A derived datatype we own (freed in the destructor). Move-only.
class ScopedDatatype {
 public:
  explicit ScopedDatatype(MPI_Datatype type);
  ~ScopedDatatype();
  ScopedDatatype(ScopedDatatype&& other) noexcept : _type(other._type) { other._type = MPI_DATATYPE_NULL; }
  ScopedDatatype(const ScopedDatatype&) = delete;
  ScopedDatatype& operator=(const ScopedDatatype&) = delete;
  ScopedDatatype& operator=(ScopedDatatype&&) = delete;
  [[nodiscard]] MPI_Datatype get() const { return _type; }

 private:
  MPI_Datatype _type;
};

enum class Op { sum, min, max };
MPI_Op native_op(Op op);

// ---------------------------------------------------------------- collectives

/// Element-wise reduction of `values` over all ranks, in place.
template <class T>
void allreduce_inplace(const Comm& comm, std::span<T> values, Op op) {
  if (values.empty()) return;
  const int count = checked_int(values.size(), "allreduce count");
  collective("MPI_Allreduce", [&] {
    return MPI_Allreduce(MPI_IN_PLACE, values.data(), count, datatype<T>(), native_op(op), comm.native());
  });
}

template <class T>
[[nodiscard]] T allreduce(const Comm& comm, T value, Op op) {
  allreduce_inplace(comm, std::span<T>(&value, 1), op);
  return value;
}

template <class T>
[[nodiscard]] std::vector<T> allreduce(const Comm& comm, std::vector<T> values, Op op) {
  allreduce_inplace(comm, std::span<T>(values), op);
  return values;
}

/// True on every rank when `flag` is true on any rank.
[[nodiscard]] bool any_of(const Comm& comm, bool flag);
/// True on every rank when `flag` is true on all ranks.
[[nodiscard]] bool all_of(const Comm& comm, bool flag);

/// Exact, order-independent sum of 128-bit integers over all ranks (element-wise).
void allreduce_sum_inplace(const Comm& comm, std::span<int128_t> values);

/// Exclusive prefix sum: rank r gets the sum of `value` over ranks < r (0 on rank 0).
template <class T>
[[nodiscard]] T exscan_sum(const Comm& comm, T value) {
  T result{};
  collective("MPI_Exscan", [&] { return MPI_Exscan(&value, &result, 1, datatype<T>(), MPI_SUM, comm.native()); });
  if (comm.rank() == 0) result = T{};
  return result;
}

/// Element-wise exclusive prefix sum of `values` in place (zeros on rank 0).
template <class T>
void exscan_sum_inplace(const Comm& comm, std::span<T> values) {
  if (values.empty()) return;
  std::vector<T> result(values.size(), T{});
  const int count = checked_int(values.size(), "exscan count");
  collective("MPI_Exscan",
             [&] { return MPI_Exscan(values.data(), result.data(), count, datatype<T>(), MPI_SUM, comm.native()); });
  if (comm.rank() == 0) std::fill(result.begin(), result.end(), T{});
  std::copy(result.begin(), result.end(), values.begin());
}

/// One value from every rank, in rank order.
template <class T>
[[nodiscard]] std::vector<T> allgather(const Comm& comm, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::vector<T> out(static_cast<std::size_t>(comm.size()));
  collective("MPI_Allgather", [&] {
    return MPI_Allgather(&value, sizeof(T), MPI_BYTE, out.data(), sizeof(T), MPI_BYTE, comm.native());
  });
  return out;
}

/// Concatenation of every rank's `local`, in rank order, on every rank.
template <class T>
[[nodiscard]] std::vector<T> allgatherv(const Comm& comm, std::span<const T> local) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto counts = allgather<std::uint64_t>(comm, local.size() * sizeof(T));
  std::vector<int> counts_int(counts.size());
  std::vector<int> displs(counts.size());
  std::size_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    counts_int[r] = checked_int(counts[r], "allgatherv count");
    displs[r] = checked_int(total, "allgatherv displacement");
    total += counts[r];
  }
  std::vector<T> out(total / sizeof(T));
  collective("MPI_Allgatherv", [&] {
    return MPI_Allgatherv(local.data(), counts_int[static_cast<std::size_t>(comm.rank())], MPI_BYTE, out.data(),
                          counts_int.data(), displs.data(), MPI_BYTE, comm.native());
  });
  return out;
}

/// Personalized all-to-all of trivially copyable items: `send` holds the items for rank 0, then
/// for rank 1, ... with `send_counts[r]` items for rank r. Returns the received items in source
/// rank order; `recv_counts` (if given) receives the per-source counts.
template <class T>
[[nodiscard]] std::vector<T> alltoallv(const Comm& comm, std::span<const T> send,
                                       std::span<const std::size_t> send_counts,
                                       std::vector<std::size_t>* recv_counts = nullptr) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto p = static_cast<std::size_t>(comm.size());
  std::vector<int> scount(p), sdispl(p), rcount(p), rdispl(p);
  std::size_t offset = 0;
  for (std::size_t r = 0; r < p; ++r) {
    scount[r] = checked_int(send_counts[r] * sizeof(T), "alltoallv send count");
    sdispl[r] = checked_int(offset * sizeof(T), "alltoallv send displacement");
    offset += send_counts[r];
  }
  collective("MPI_Alltoall",
             [&] { return MPI_Alltoall(scount.data(), 1, MPI_INT, rcount.data(), 1, MPI_INT, comm.native()); });
  std::size_t total_bytes = 0;
  for (std::size_t r = 0; r < p; ++r) {
    rdispl[r] = checked_int(total_bytes, "alltoallv receive displacement");
    total_bytes += static_cast<std::size_t>(rcount[r]);
  }
  std::vector<T> out(total_bytes / sizeof(T));
  collective("MPI_Alltoallv", [&] {
    return MPI_Alltoallv(send.data(), scount.data(), sdispl.data(), MPI_BYTE, out.data(), rcount.data(), rdispl.data(),
                         MPI_BYTE, comm.native());
  });
  if (recv_counts != nullptr) {
    recv_counts->resize(p);
    for (std::size_t r = 0; r < p; ++r) (*recv_counts)[r] = static_cast<std::size_t>(rcount[r]) / sizeof(T);
  }
  return out;
}

/// Broadcasts a string from `root` to every rank.
void broadcast(const Comm& comm, std::string& text, int root = 0);

/// Gathers one string per rank to every rank (rank order).
[[nodiscard]] std::vector<std::string> allgather_strings(const Comm& comm, const std::string& text);

/// Debug builds: throws unless `value` is equal on all ranks (k, seed, feature count, ...).
void assert_same_on_all_ranks(const Comm& comm, std::int64_t value, const char* what);

}  // namespace rfmseg::mpi
