#pragma once
// Thin RAII layer over the HDF5 C API. Every HDF5 call is wrapped once: a negative return becomes
// h5::Error with context. Files written by the pipeline are opened with the MPI-IO driver and
// collective metadata; every rank joins every create/write call, and ranks with no rows join with
// an empty selection. Reading (tests, verification, resume) is serial.

#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg::h5 {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An HDF5 identifier we own; closed with the right H5*close in the destructor (never throws).
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : _id(id) {}
  ~Id();
  Id(Id&& other) noexcept : _id(other._id) { other._id = H5I_INVALID_HID; }
  Id& operator=(Id&& other) noexcept;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  [[nodiscard]] hid_t get() const { return _id; }
  [[nodiscard]] bool valid() const { return _id >= 0; }
  void close();
  /// Gives up ownership without closing (for a parallel file abandoned on an error path, where a
  /// collective close could block; HDF5 closes it at MPI_Finalize).
  hid_t release() {
    const hid_t id = _id;
    _id = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t _id = H5I_INVALID_HID;
};

/// A file or group location that datasets and attributes hang off.
class Location {
 public:
  explicit Location(Id id, bool is_writer = true, const mpi::Comm* comm = nullptr)
      : _id(std::move(id)), _is_writer(is_writer), _comm(comm) {}
  [[nodiscard]] hid_t id() const { return _id.get(); }
  [[nodiscard]] bool has(const std::string& path) const;
  /// The rank that writes replicated data (rank 0 of a parallel file; always true when serial).
  [[nodiscard]] bool is_writer() const { return _is_writer; }
  /// The communicator of a parallel file being written (nullptr when serial): a write that fails
  /// on some ranks is agreed over it, so every rank throws the same AgreedError.
  [[nodiscard]] const mpi::Comm* comm() const { return _comm; }

 protected:
  Id _id;
  bool _is_writer = true;
  const mpi::Comm* _comm = nullptr;
};

class Group : public Location {
 public:
  using Location::Location;
};

/// A parallel HDF5 file (collective create) or a serial read-only one.
class File : public Location {
 public:
  /// Collectively creates (truncates) `path` with the MPI-IO driver.
  static File create(const std::string& path, const mpi::Comm& comm);
  /// Opens `path` read-only, serially (not collective).
  static File open_read(const std::string& path);
  /// Collectively opens `path` read-only with the MPI-IO driver (for reading back in parallel).
  static File open_read(const std::string& path, const mpi::Comm& comm);
  /// Creates (truncates) `path` serially, for one writer (small replicated state such as a
  /// K-means checkpoint written by rank 0).
  static File create_serial(const std::string& path);
  /// Collective close: every rank must call it (or let the destructor do it on every rank).
  /// Throws when an object of the file is still open: the MPI-IO driver would then keep the file
  /// open (unflushed) until the process exits, and a rename after "close" would publish it early.
  /// (No H5Fflush: its MPI_File_sync is collective, and a rank whose metadata write failed skips
  /// it and deadlocks the others. Callers fsync(2) the closed file instead; see sync_to_storage.)
  void close();
  /// Drops the handle without a (collective) close; see Id::release.
  void abandon() { (void)_id.release(); }
  [[nodiscard]] bool is_parallel() const { return _parallel; }

  [[nodiscard]] Group create_group(const std::string& path) const;

 private:
  using Location::Location;
  bool _parallel = false;
};

// ---------------------------------------------------------------- checksums
//
// Every dataset rfmseg writes carries a `checksum` attribute, "rowsum64p:<16 hex digits>": the sum
// modulo 2^64 of hash_bytes(row bytes, seed = global row index) over all rows, plus a hash of the
// dataset's path. A sum of position-keyed hashes can be computed by each rank on its own rows and
// added with one allreduce, so it is the same for any rank count; reading the file back and
// recomputing it detects changed, lost, swapped or truncated rows, and datasets moved or swapped
// together with their checksums. Files of rfmseg 0.1 carry "rowsum64:" (no path): still checked.
//
// Every object with other attributes (/run, /selection, /model/transform, checkpoint state)
// carries `attributes_checksum`, "attrsum64:<hex>": a hash of all its other attributes (name,
// type, bytes) in name order, so an edited /run counter or version is detected too.

inline constexpr const char* checksum_attribute = "checksum";
inline constexpr const char* attributes_checksum_attribute = "attributes_checksum";

/// Sum of hash_bytes(row i, seed = first_row + i) over `rows` rows of `row_bytes` bytes each.
[[nodiscard]] std::uint64_t row_checksum(const void* data, std::uint64_t rows, std::uint64_t row_bytes,
                                         std::uint64_t first_row) noexcept;
/// The stored text of a dataset's checksum: "rowsum64p:<hex>" of the row sum bound to `path`
/// (the dataset's path from the root, without the leading '/').
[[nodiscard]] std::string format_checksum(std::uint64_t row_sum, const std::string& path);
/// The legacy text (rfmseg 0.1, no path): "rowsum64:<hex>".
[[nodiscard]] std::string format_legacy_checksum(std::uint64_t row_sum);
/// The path of an object from the root, without the leading '/' ("customers/recency").
[[nodiscard]] std::string object_path(const Location& object);

/// `checksum` or `attributes_checksum`: the attributes no attribute checksum covers.
[[nodiscard]] bool is_checksum_attribute(const std::string& name);
/// "attrsum64:<hex>" over every attribute of `object` except the two checksum attributes.
[[nodiscard]] std::string attributes_checksum(const Location& object);
/// Writes `attributes_checksum` on every object of `file` that has other attributes. Collective
/// on a parallel file; call once, after the last attribute was written.
void seal_attributes(const File& file);
/// Paths (from the root, without '/'; "" = the root group) of every group and dataset.
[[nodiscard]] std::vector<std::string> list_objects(const Location& where);

// ---------------------------------------------------------------- writing (collective)

/// Global extent and this rank's part of a row-distributed dataset.
struct Rows {
  MPI_Comm comm = MPI_COMM_NULL;  ///< the ranks sharing the dataset (for its checksum)
  std::uint64_t global_rows = 0;  ///< rows over all ranks
  std::uint64_t first_row = 0;    ///< this rank's first row (exclusive scan of row counts)
  std::uint64_t local_rows = 0;   ///< rows this rank writes
  /// Computes the exclusive scan and the total from each rank's local row count.
  static Rows distributed(const mpi::Comm& comm, std::uint64_t local_rows);
};

/// Writes a distributed column (`local.size() == rows.local_rows * columns`, row-major).
template <class T>
void write_rows(const Location& where, const std::string& name, std::span<const T> local, const Rows& rows,
                std::uint64_t columns = 1);

/// Writes fixed-length strings of `width` bytes (NUL-padded), one per row, distributed.
void write_strings(const Location& where, const std::string& name, const std::vector<std::string>& local,
                   const Rows& rows, std::uint64_t width);

/// Writes data every rank holds identically (rank 0 writes, the others join with empty selections).
template <class T>
void write_replicated(const Location& where, const std::string& name, std::span<const T> values,
                      std::vector<std::uint64_t> shape);

template <class T>
void write_scalar(const Location& where, const std::string& name, T value) {
  write_replicated<T>(where, name, std::span<const T>(&value, 1), {});
}

void write_strings_replicated(const Location& where, const std::string& name, const std::vector<std::string>& values);

/// Attributes: every rank calls with identical values.
void write_attribute(const Location& where, const std::string& name, const std::string& value);
void write_attribute(const Location& where, const std::string& name, std::int64_t value);
void write_attribute(const Location& where, const std::string& name, double value);

// ---------------------------------------------------------------- reading (serial)

template <class T>
[[nodiscard]] std::vector<T> read(const Location& where, const std::string& name,
                                  std::vector<std::uint64_t>* shape = nullptr);
[[nodiscard]] std::vector<std::string> read_strings(const Location& where, const std::string& name);
/// Rows [first, first + count) of a dataset's first dimension (all columns), serially.
template <class T>
[[nodiscard]] std::vector<T> read_rows(const Location& where, const std::string& name, std::uint64_t first,
                                       std::uint64_t count);
[[nodiscard]] std::vector<std::string> read_string_rows(const Location& where, const std::string& name,
                                                        std::uint64_t first, std::uint64_t count);
/// Rows of a dataset's first dimension.
[[nodiscard]] std::uint64_t row_count(const Location& where, const std::string& name);
[[nodiscard]] std::string read_string_attribute(const Location& where, const std::string& name);
[[nodiscard]] std::int64_t read_int_attribute(const Location& where, const std::string& name);
[[nodiscard]] double read_double_attribute(const Location& where, const std::string& name);
[[nodiscard]] std::vector<std::string> list_attributes(const Location& where);
[[nodiscard]] bool has_attribute(const Location& where, const std::string& name);

/// A dataset's raw bytes as stored (its own type), for checks that do not care about the type.
struct RawDataset {
  std::vector<std::uint64_t> shape;  ///< empty for a scalar
  std::size_t element_bytes = 0;     ///< size of one element of the stored type
  /// Class of the stored type: 'i' signed integer, 'u' unsigned, 'f' floating point, 's' string,
  /// '?' anything else (filled by dataset_shape).
  char kind = '?';
  std::vector<unsigned char> bytes;
  [[nodiscard]] std::uint64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  [[nodiscard]] std::uint64_t row_bytes() const;
};
[[nodiscard]] RawDataset read_raw(const Location& where, const std::string& name);
/// Shape and element size of a dataset (no data read).
[[nodiscard]] RawDataset dataset_shape(const Location& where, const std::string& name);
/// Rows [first, first + count) of a dataset's first dimension as stored bytes (independent read).
[[nodiscard]] std::vector<unsigned char> read_raw_rows(const Location& where, const std::string& name,
                                                       std::uint64_t first, std::uint64_t count);

/// Opens a group or dataset by path for attribute access.
[[nodiscard]] Group open_object(const Location& where, const std::string& path);

}  // namespace rfmseg::h5
