#include "rfmseg/io/h5.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"

#include <algorithm>
#include <cstring>
#include <exception>

namespace rfmseg::h5 {

namespace {

// Collects the innermost HDF5 error description so exceptions say more than "failed".
herr_t collect_error(unsigned n, const H5E_error2_t* err, void* client) {
  auto* text = static_cast<std::string*>(client);
  if (n == 0 && err->desc != nullptr) *text = err->desc;
  return 0;
}

[[noreturn]] void fail(const std::string& what) {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, &collect_error, &detail);
  H5Eclear2(H5E_DEFAULT);
  throw Error("HDF5: " + what + (detail.empty() ? "" : " (" + detail + ")"));
}

hid_t checked(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}

void checked_status(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

// The path of an object from the root, without the leading '/'.
std::string path_of(hid_t object) {
  const ssize_t length = H5Iget_name(object, nullptr, 0);
  if (length < 0) fail("H5Iget_name");
  std::string name(static_cast<std::size_t>(length) + 1, '\0');
  H5Iget_name(object, name.data(), name.size());
  name.resize(static_cast<std::size_t>(length));
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

// Silence HDF5's own stack printing once; our exceptions carry the message instead.
struct QuietErrors {
  QuietErrors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};
void quiet() { static QuietErrors once; }

template <class T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, double>)
    return H5T_NATIVE_DOUBLE;
  else if constexpr (std::is_same_v<T, float>)
    return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return H5T_NATIVE_UINT64;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return H5T_NATIVE_INT32;
  else if constexpr (std::is_same_v<T, std::int8_t>)
    return H5T_NATIVE_INT8;
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return H5T_NATIVE_UINT8;
  else
    static_assert(sizeof(T) == 0, "no HDF5 type for this type");
}

Id string_type(std::uint64_t width) {
  Id type(checked(H5Tcopy(H5T_C_S1), "H5Tcopy"));
  checked_status(H5Tset_size(type.get(), std::max<std::uint64_t>(width, 1)), "H5Tset_size");
  checked_status(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), "H5Tset_strpad");
  return type;
}

Id transfer_list(bool parallel) {
  Id dxpl(checked(H5Pcreate(H5P_DATASET_XFER), "H5Pcreate(xfer)"));
  if (parallel) checked_status(H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio");
  return dxpl;
}

bool location_is_parallel(hid_t loc) {
  Id file(checked(H5Iget_file_id(loc), "H5Iget_file_id"));
  Id fapl(checked(H5Fget_access_plist(file.get()), "H5Fget_access_plist"));
  return H5Pget_driver(fapl.get()) == H5FD_MPIO;
}

// Creates `name` with `type` and shape `dims` and writes the hyperslab [first, first+count) of the
// first dimension from `data` (count == 0: joins with an empty selection).
void write_slab(const Location& where, const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
                std::uint64_t first, std::uint64_t count, const void* data, std::uint64_t checksum) {
  quiet();
  const hid_t loc = where.id();
  const watchdog::Collective scope("parallel HDF5 dataset create/write");
  Id file_space(dims.empty() ? checked(H5Screate(H5S_SCALAR), "H5Screate")
                             : checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                                       "H5Screate_simple(" + name + ")"));
  Id dcpl(checked(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate(dcpl)"));
  // Parallel writes need no fill pass over space we overwrite completely.
  checked_status(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
  Id dataset(checked(H5Dcreate2(loc, name.c_str(), type, file_space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                     "create dataset " + name));
  const bool parallel = location_is_parallel(loc);
  Id xfer = transfer_list(parallel);
  Id mem_space;
  if (dims.empty()) {
    mem_space = Id(checked(H5Screate(H5S_SCALAR), "H5Screate"));
    if (count == 0) {
      checked_status(H5Sselect_none(file_space.get()), "H5Sselect_none");
      checked_status(H5Sselect_none(mem_space.get()), "H5Sselect_none");
    }
  } else {
    std::vector<hsize_t> start(dims.size(), 0), block(dims);
    start[0] = first;
    block[0] = count;
    if (count == 0) {
      checked_status(H5Sselect_none(file_space.get()), "H5Sselect_none");
      hsize_t one = 1;
      mem_space = Id(checked(H5Screate_simple(1, &one, nullptr), "H5Screate_simple"));
      checked_status(H5Sselect_none(mem_space.get()), "H5Sselect_none");
    } else {
      checked_status(
          H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr),
          "select rows of " + name);
      mem_space =
          Id(checked(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr), "H5Screate_simple"));
    }
  }
  // An empty dataset has nothing to write (and HDF5 rejects the write); the same on every rank,
  // since `dims` is global. HDF5 also refuses a null buffer for an empty local selection.
  hsize_t elements = 1;
  for (auto d : dims) elements *= d;
  static const std::uint64_t nothing = 0;
  if (data == nullptr) data = &nothing;
  // A failed write (a full disk, a lost file server) may fail on some ranks only: it is noted
  // here, the collective metadata calls below still run on every rank, and the ranks then agree.
  std::exception_ptr write_error;
  if (elements > 0) {
    try {
      checked_status(H5Dwrite(dataset.get(), type, mem_space.get(), file_space.get(), xfer.get(), data),
                     "write dataset " + name);
    } catch (const Error&) {
      write_error = std::current_exception();
    }
  }
  const std::string text = format_checksum(checksum, path_of(dataset.get()));
  Id text_type = string_type(text.size());
  Id scalar(checked(H5Screate(H5S_SCALAR), "H5Screate"));
  Id attr(
      checked(H5Acreate2(dataset.get(), checksum_attribute, text_type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT),
              "create checksum of " + name));
  checked_status(H5Awrite(attr.get(), text_type.get(), text.data()), "write checksum of " + name);
  if (where.comm() != nullptr)
    agree(*where.comm(), write_error);
  else if (write_error)
    std::rethrow_exception(write_error);
}

std::uint64_t row_bytes_of(const std::vector<std::uint64_t>& shape, std::size_t element_bytes) {
  std::uint64_t bytes = element_bytes;
  for (std::size_t d = 1; d < shape.size(); ++d) bytes *= shape[d];
  return bytes;
}

// The checksum of a distributed dataset: local rows' sum, added over the ranks.
std::uint64_t distributed_checksum(const Rows& rows, const void* data, std::uint64_t row_bytes) {
  std::uint64_t sum = row_checksum(data, rows.local_rows, row_bytes, rows.first_row);
  if (rows.comm != MPI_COMM_NULL) {
    const watchdog::Collective scope("MPI_Allreduce(checksum)");
    mpi::check(MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_UINT64_T, MPI_SUM, rows.comm), "MPI_Allreduce(checksum)");
  }
  return sum;
}

std::vector<hsize_t> to_dims(const std::vector<std::uint64_t>& shape) {
  return std::vector<hsize_t>(shape.begin(), shape.end());
}

}  // namespace

// ---------------------------------------------------------------- Id

Id::~Id() { close(); }

Id& Id::operator=(Id&& other) noexcept {
  if (this != &other) {
    close();
    _id = other._id;
    other._id = H5I_INVALID_HID;
  }
  return *this;
}

void Id::close() {
  if (_id < 0) return;
  switch (H5Iget_type(_id)) {
    case H5I_FILE: {
      const watchdog::Collective scope("parallel HDF5 file close");
      H5Fclose(_id);
      break;
    }
    case H5I_GROUP: H5Gclose(_id); break;
    case H5I_DATASET: H5Dclose(_id); break;
    case H5I_DATASPACE: H5Sclose(_id); break;
    case H5I_DATATYPE: H5Tclose(_id); break;
    case H5I_ATTR: H5Aclose(_id); break;
    case H5I_GENPROP_LST: H5Pclose(_id); break;
    default: break;
  }
  _id = H5I_INVALID_HID;
}

bool Location::has(const std::string& path) const {
  quiet();
  // Check each prefix so a missing intermediate group is "no" rather than an error.
  std::size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && prefix != "/" && H5Lexists(id(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

// ---------------------------------------------------------------- File

File File::create(const std::string& path, const mpi::Comm& comm) {
  quiet();
  Id fapl(checked(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate(fapl)"));
  checked_status(H5Pset_fapl_mpio(fapl.get(), comm.native(), MPI_INFO_NULL), "H5Pset_fapl_mpio");
  checked_status(H5Pset_all_coll_metadata_ops(fapl.get(), true), "H5Pset_all_coll_metadata_ops");
  checked_status(H5Pset_coll_metadata_write(fapl.get(), true), "H5Pset_coll_metadata_write");
  hid_t id = H5I_INVALID_HID;
  {
    const watchdog::Collective scope("parallel HDF5 file create");
    id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  }
  if (id < 0) fail("cannot create '" + path + "'");
  File file{Id(id), comm.is_root(), &comm};
  file._parallel = true;
  return file;
}

File File::open_read(const std::string& path, const mpi::Comm& comm) {
  quiet();
  Id fapl(checked(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate(fapl)"));
  checked_status(H5Pset_fapl_mpio(fapl.get(), comm.native(), MPI_INFO_NULL), "H5Pset_fapl_mpio");
  checked_status(H5Pset_all_coll_metadata_ops(fapl.get(), true), "H5Pset_all_coll_metadata_ops");
  hid_t id = H5I_INVALID_HID;
  {
    const watchdog::Collective scope("parallel HDF5 file open");
    id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
  }
  if (id < 0) fail("cannot open '" + path + "'");
  File file{Id(id), comm.is_root()};  // read-only: no comm, nothing is written
  file._parallel = true;
  return file;
}

File File::open_read(const std::string& path) {
  quiet();
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail("cannot open '" + path + "'");
  return File{Id(id)};
}

void File::close() {
  if (id() < 0) return;
  const ssize_t open_objects =
      H5Fget_obj_count(id(), H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR);
  if (open_objects > 0)
    throw Error("internal error: closing an HDF5 file with " + std::to_string(open_objects) + " object(s) still open");
  herr_t status = 0;
  {
    const watchdog::Collective scope("HDF5 file close");
    status = H5Fclose(_id.release());
  }
  if (status < 0) fail("closing the file failed");
}

File File::create_serial(const std::string& path) {
  quiet();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) fail("cannot create '" + path + "'");
  return File{Id(id)};
}

Group File::create_group(const std::string& path) const {
  const watchdog::Collective scope("parallel HDF5 group create");
  return Group(
      Id(checked(H5Gcreate2(id(), path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group " + path)),
      is_writer(), comm());
}

// ---------------------------------------------------------------- writing

Rows Rows::distributed(const mpi::Comm& comm, std::uint64_t local_rows) {
  Rows rows;
  rows.local_rows = local_rows;
  rows.first_row = mpi::exscan_sum(comm, local_rows);
  rows.global_rows = mpi::allreduce(comm, local_rows, mpi::Op::sum);
  rows.comm = comm.native();
  return rows;
}

template <class T>
void write_rows(const Location& where, const std::string& name, std::span<const T> local, const Rows& rows,
                std::uint64_t columns) {
  if (local.size() != rows.local_rows * columns) throw Error("write_rows(" + name + "): size mismatch");
  std::vector<hsize_t> dims{rows.global_rows};
  if (columns != 1) dims.push_back(columns);
  const std::uint64_t sum = distributed_checksum(rows, local.data(), sizeof(T) * columns);
  write_slab(where, name, native_type<T>(), dims, rows.first_row, rows.local_rows, local.data(), sum);
}

void write_strings(const Location& where, const std::string& name, const std::vector<std::string>& local,
                   const Rows& rows, std::uint64_t width) {
  if (local.size() != rows.local_rows) throw Error("write_strings(" + name + "): size mismatch");
  width = std::max<std::uint64_t>(width, 1);
  std::vector<char> packed(local.size() * width, '\0');
  for (std::size_t i = 0; i < local.size(); ++i) {
    if (local[i].size() > width) throw Error("write_strings(" + name + "): string longer than width");
    std::memcpy(packed.data() + i * width, local[i].data(), local[i].size());
  }
  Id type = string_type(width);
  const std::uint64_t sum = distributed_checksum(rows, packed.data(), width);
  write_slab(where, name, type.get(), {rows.global_rows}, rows.first_row, rows.local_rows, packed.data(), sum);
}

template <class T>
void write_replicated(const Location& where, const std::string& name, std::span<const T> values,
                      std::vector<std::uint64_t> shape) {
  const bool writer = where.is_writer();
  const std::uint64_t rows = shape.empty() ? 1 : shape[0];
  std::uint64_t elements = 1;
  for (auto d : shape) elements *= d;
  if (values.size() != elements) throw Error("write_replicated(" + name + "): size does not match the shape");
  // Every rank holds the values, so every rank computes the same checksum without communication.
  const std::uint64_t sum = row_checksum(values.data(), rows, row_bytes_of(shape, sizeof(T)), 0);
  write_slab(where, name, native_type<T>(), to_dims(shape), 0, writer ? rows : 0, values.data(), sum);
}

void write_strings_replicated(const Location& where, const std::string& name, const std::vector<std::string>& values) {
  std::uint64_t width = 1;
  for (const auto& v : values) width = std::max<std::uint64_t>(width, v.size());
  std::vector<char> packed(values.size() * width, '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
    std::memcpy(packed.data() + i * width, values[i].data(), values[i].size());
  Id type = string_type(width);
  write_slab(where, name, type.get(), {values.size()}, 0, where.is_writer() ? values.size() : 0, packed.data(),
             row_checksum(packed.data(), values.size(), width, 0));
}

namespace {
void write_attribute_raw(const Location& where, const std::string& name, hid_t type, const void* data) {
  quiet();
  const watchdog::Collective scope("parallel HDF5 attribute write");
  Id space(checked(H5Screate(H5S_SCALAR), "H5Screate"));
  if (H5Aexists(where.id(), name.c_str()) > 0) checked_status(H5Adelete(where.id(), name.c_str()), "H5Adelete");
  Id attr(checked(H5Acreate2(where.id(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                  "create attribute " + name));
  checked_status(H5Awrite(attr.get(), type, data), "write attribute " + name);
}
}  // namespace

void write_attribute(const Location& where, const std::string& name, const std::string& value) {
  Id type = string_type(value.size());
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  write_attribute_raw(where, name, type.get(), padded.data());
}

void write_attribute(const Location& where, const std::string& name, std::int64_t value) {
  write_attribute_raw(where, name, H5T_NATIVE_INT64, &value);
}

void write_attribute(const Location& where, const std::string& name, double value) {
  write_attribute_raw(where, name, H5T_NATIVE_DOUBLE, &value);
}

// ---------------------------------------------------------------- reading

template <class T>
std::vector<T> read(const Location& where, const std::string& name, std::vector<std::uint64_t>* shape) {
  quiet();
  Id dataset(checked(H5Dopen2(where.id(), name.c_str(), H5P_DEFAULT), "open dataset " + name));
  Id space(checked(H5Dget_space(dataset.get()), "H5Dget_space"));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::size_t total = 1;
  for (auto d : dims) total *= d;
  std::vector<T> out(total);
  if (shape != nullptr) shape->assign(dims.begin(), dims.end());
  if (total > 0) {
    checked_status(H5Dread(dataset.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
                   "read dataset " + name);
  }
  return out;
}

std::vector<std::string> read_strings(const Location& where, const std::string& name) {
  quiet();
  Id dataset(checked(H5Dopen2(where.id(), name.c_str(), H5P_DEFAULT), "open dataset " + name));
  Id file_type(checked(H5Dget_type(dataset.get()), "H5Dget_type"));
  if (H5Tis_variable_str(file_type.get()) > 0) throw Error(name + ": variable-length strings are not supported");
  const std::size_t width = H5Tget_size(file_type.get());
  Id space(checked(H5Dget_space(dataset.get()), "H5Dget_space"));
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  std::vector<char> raw(static_cast<std::size_t>(count) * width);
  Id type = string_type(width);
  if (count > 0) {
    checked_status(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()),
                   "read dataset " + name);
  }
  std::vector<std::string> out(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char* p = raw.data() + i * width;
    out[i].assign(p, strnlen(p, width));
  }
  return out;
}

namespace {
Id open_attribute(const Location& where, const std::string& name) {
  quiet();
  return Id(checked(H5Aopen(where.id(), name.c_str(), H5P_DEFAULT), "open attribute " + name));
}
}  // namespace

std::string read_string_attribute(const Location& where, const std::string& name) {
  Id attr = open_attribute(where, name);
  Id file_type(checked(H5Aget_type(attr.get()), "H5Aget_type"));
  const std::size_t width = H5Tget_size(file_type.get());
  std::string value(width, '\0');
  Id type = string_type(width);
  checked_status(H5Aread(attr.get(), type.get(), value.data()), "read attribute " + name);
  value.resize(strnlen(value.data(), width));
  return value;
}

std::int64_t read_int_attribute(const Location& where, const std::string& name) {
  Id attr = open_attribute(where, name);
  std::int64_t value = 0;
  checked_status(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), "read attribute " + name);
  return value;
}

double read_double_attribute(const Location& where, const std::string& name) {
  Id attr = open_attribute(where, name);
  double value = 0;
  checked_status(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value), "read attribute " + name);
  return value;
}

std::vector<std::string> list_attributes(const Location& where) {
  quiet();
  H5O_info_t info;
  checked_status(H5Oget_info2(where.id(), &info, H5O_INFO_NUM_ATTRS), "H5Oget_info");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    const ssize_t length = H5Aget_name_by_idx(where.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string name(static_cast<std::size_t>(length) + 1, '\0');
    H5Aget_name_by_idx(where.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(length));
    names.push_back(name);
  }
  return names;
}

// ---------------------------------------------------------------- reading row blocks

namespace {
// Opens `name` and selects rows [first, first + count) of its first dimension; returns the
// dataset, the file selection and a matching memory space.
struct RowSelection {
  Id dataset, file_space, mem_space;
  std::uint64_t row_elements = 1;
};
RowSelection select_rows(const Location& where, const std::string& name, std::uint64_t first, std::uint64_t count) {
  quiet();
  RowSelection sel;
  sel.dataset = Id(checked(H5Dopen2(where.id(), name.c_str(), H5P_DEFAULT), "open dataset " + name));
  sel.file_space = Id(checked(H5Dget_space(sel.dataset.get()), "H5Dget_space"));
  const int rank = H5Sget_simple_extent_ndims(sel.file_space.get());
  if (rank < 1) throw Error(name + " is not an array");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(sel.file_space.get(), dims.data(), nullptr);
  if (first + count > dims[0]) throw Error(name + ": rows beyond its end requested");
  std::vector<hsize_t> start(dims.size(), 0), block(dims);
  start[0] = first;
  block[0] = count;
  for (std::size_t d = 1; d < dims.size(); ++d) sel.row_elements *= dims[d];
  if (count > 0)
    checked_status(
        H5Sselect_hyperslab(sel.file_space.get(), H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr),
        "select rows of " + name);
  hsize_t elements = std::max<hsize_t>(count * sel.row_elements, 1);
  sel.mem_space = Id(checked(H5Screate_simple(1, &elements, nullptr), "H5Screate_simple"));
  return sel;
}
}  // namespace

template <class T>
std::vector<T> read_rows(const Location& where, const std::string& name, std::uint64_t first, std::uint64_t count) {
  RowSelection sel = select_rows(where, name, first, count);
  std::vector<T> out(count * sel.row_elements);
  if (!out.empty())
    checked_status(H5Dread(sel.dataset.get(), native_type<T>(), sel.mem_space.get(), sel.file_space.get(), H5P_DEFAULT,
                           out.data()),
                   "read dataset " + name);
  return out;
}

std::vector<std::string> read_string_rows(const Location& where, const std::string& name, std::uint64_t first,
                                          std::uint64_t count) {
  RowSelection sel = select_rows(where, name, first, count);
  Id file_type(checked(H5Dget_type(sel.dataset.get()), "H5Dget_type"));
  const std::size_t width = H5Tget_size(file_type.get());
  std::vector<char> raw(count * width);
  Id type = string_type(width);
  if (count > 0)
    checked_status(
        H5Dread(sel.dataset.get(), type.get(), sel.mem_space.get(), sel.file_space.get(), H5P_DEFAULT, raw.data()),
        "read dataset " + name);
  std::vector<std::string> out(count);
  for (std::size_t i = 0; i < count; ++i) out[i].assign(raw.data() + i * width, strnlen(raw.data() + i * width, width));
  return out;
}

std::uint64_t row_count(const Location& where, const std::string& name) {
  RowSelection sel = select_rows(where, name, 0, 0);
  std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(sel.file_space.get())));
  H5Sget_simple_extent_dims(sel.file_space.get(), dims.data(), nullptr);
  return dims.at(0);
}

// ---------------------------------------------------------------- checksums, raw access

std::uint64_t row_checksum(const void* data, std::uint64_t rows, std::uint64_t row_bytes,
                           std::uint64_t first_row) noexcept {
  const auto* bytes = static_cast<const char*>(data);
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < rows; ++i)
    sum += hash_bytes(std::string_view(bytes + i * row_bytes, row_bytes), first_row + i);
  return sum;
}

std::string format_checksum(std::uint64_t row_sum, const std::string& path) {
  char text[32];
  const std::uint64_t sum = row_sum + hash_bytes(path, 0x70a7b5u);
  std::snprintf(text, sizeof text, "rowsum64p:%016llx", static_cast<unsigned long long>(sum));
  return text;
}

std::string format_legacy_checksum(std::uint64_t row_sum) {
  char text[32];
  std::snprintf(text, sizeof text, "rowsum64:%016llx", static_cast<unsigned long long>(row_sum));
  return text;
}

std::string object_path(const Location& object) { return path_of(object.id()); }

bool is_checksum_attribute(const std::string& name) {
  return name == checksum_attribute || name == attributes_checksum_attribute;
}

std::string attributes_checksum(const Location& object) {
  quiet();
  std::string record;  // per attribute, in name order: name, NUL, class, size, element count, bytes
  for (const auto& name : list_attributes(object)) {
    if (is_checksum_attribute(name)) continue;
    Id attr(checked(H5Aopen(object.id(), name.c_str(), H5P_DEFAULT), "open attribute " + name));
    Id file_type(checked(H5Aget_type(attr.get()), "H5Aget_type"));
    const H5T_class_t type_class = H5Tget_class(file_type.get());
    if (type_class == H5T_STRING && H5Tis_variable_str(file_type.get()) > 0) {
      // rfmseg writes fixed-length strings only: a variable-length one was written by another
      // tool (h5py's default), and its type alone makes the checksum differ.
      record += name + std::string(1, '\0') + "variable-length string;";
      continue;
    }
    Id memory_type(type_class == H5T_STRING
                       ? H5Tcopy(file_type.get())
                       : checked(H5Tget_native_type(file_type.get(), H5T_DIR_ASCEND), "H5Tget_native_type"));
    Id space(checked(H5Aget_space(attr.get()), "H5Aget_space"));
    const hssize_t points = H5Sget_simple_extent_npoints(space.get());
    const std::size_t size = H5Tget_size(memory_type.get());
    std::string bytes(static_cast<std::size_t>(std::max<hssize_t>(points, 0)) * size, '\0');
    if (!bytes.empty()) checked_status(H5Aread(attr.get(), memory_type.get(), bytes.data()), "read attribute " + name);
    record += name;
    record += '\0';
    record +=
        std::to_string(static_cast<int>(type_class)) + ":" + std::to_string(size) + ":" + std::to_string(points) + ":";
    record += bytes;
  }
  char text[32];
  std::snprintf(text, sizeof text, "attrsum64:%016llx", static_cast<unsigned long long>(hash_bytes(record, 0xa77e5u)));
  return text;
}

namespace {
herr_t collect_object(hid_t /*root*/, const char* name, const H5O_info_t* info, void* out) {
  if (info->type == H5O_TYPE_DATASET || info->type == H5O_TYPE_GROUP)
    static_cast<std::vector<std::string>*>(out)->emplace_back(std::string(name) == "." ? "" : name);
  return 0;
}
}  // namespace

std::vector<std::string> list_objects(const Location& where) {
  quiet();
  std::vector<std::string> names;
  checked_status(H5Ovisit2(where.id(), H5_INDEX_NAME, H5_ITER_INC, &collect_object, &names, H5O_INFO_BASIC),
                 "H5Ovisit");
  return names;
}

void seal_attributes(const File& file) {
  for (const auto& path : list_objects(file)) {
    const Group object(Id(checked(H5Oopen(file.id(), path.empty() ? "/" : path.c_str(), H5P_DEFAULT), "open " + path)),
                       file.is_writer(), file.comm());
    bool plain = false;
    for (const auto& name : list_attributes(object)) plain = plain || !is_checksum_attribute(name);
    if (plain) write_attribute(object, attributes_checksum_attribute, attributes_checksum(object));
  }
}

bool has_attribute(const Location& where, const std::string& name) {
  quiet();
  return H5Aexists(where.id(), name.c_str()) > 0;
}

std::uint64_t RawDataset::row_bytes() const { return row_bytes_of(shape, element_bytes); }

namespace {
// An open dataset with its native memory type and its shape, for the raw readers below.
struct OpenDataset {
  Id dataset, native, space;
  std::vector<hsize_t> dims;
};
OpenDataset open_dataset(const Location& where, const std::string& name) {
  quiet();
  OpenDataset d;
  d.dataset = Id(checked(H5Dopen2(where.id(), name.c_str(), H5P_DEFAULT), "open dataset " + name));
  Id type(checked(H5Dget_type(d.dataset.get()), "H5Dget_type"));
  d.native = Id(checked(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), "H5Tget_native_type"));
  d.space = Id(checked(H5Dget_space(d.dataset.get()), "H5Dget_space"));
  const int rank = H5Sget_simple_extent_ndims(d.space.get());
  if (rank < 0) throw Error("cannot read the shape of " + name);
  d.dims.resize(static_cast<std::size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(d.space.get(), d.dims.data(), nullptr);
  return d;
}
}  // namespace

RawDataset dataset_shape(const Location& where, const std::string& name) {
  const OpenDataset d = open_dataset(where, name);
  RawDataset raw;
  raw.shape.assign(d.dims.begin(), d.dims.end());
  raw.element_bytes = H5Tget_size(d.native.get());
  switch (H5Tget_class(d.native.get())) {
    case H5T_INTEGER: raw.kind = H5Tget_sign(d.native.get()) == H5T_SGN_2 ? 'i' : 'u'; break;
    case H5T_FLOAT: raw.kind = 'f'; break;
    case H5T_STRING: raw.kind = 's'; break;
    default: break;
  }
  return raw;
}

std::vector<unsigned char> read_raw_rows(const Location& where, const std::string& name, std::uint64_t first,
                                         std::uint64_t count) {
  const OpenDataset d = open_dataset(where, name);
  std::uint64_t row_elements = 1;
  for (std::size_t i = 1; i < d.dims.size(); ++i) row_elements *= d.dims[i];
  std::vector<unsigned char> out(count * row_elements * H5Tget_size(d.native.get()));
  if (out.empty()) return out;
  Id mem_space;
  if (d.dims.empty()) {  // a scalar: one "row"
    if (first != 0 || count != 1) throw Error(name + ": rows beyond its end requested");
    mem_space = Id(checked(H5Screate(H5S_SCALAR), "H5Screate"));
  } else {
    if (first + count > d.dims[0]) throw Error(name + ": rows beyond its end requested");
    std::vector<hsize_t> start(d.dims.size(), 0), block(d.dims);
    start[0] = first;
    block[0] = count;
    checked_status(H5Sselect_hyperslab(d.space.get(), H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr),
                   "select rows of " + name);
    hsize_t elements = count * row_elements;
    mem_space = Id(checked(H5Screate_simple(1, &elements, nullptr), "H5Screate_simple"));
  }
  checked_status(H5Dread(d.dataset.get(), d.native.get(), mem_space.get(), d.space.get(), H5P_DEFAULT, out.data()),
                 "read dataset " + name);
  return out;
}

RawDataset read_raw(const Location& where, const std::string& name) {
  RawDataset raw = dataset_shape(where, name);
  const auto bytes = read_raw_rows(where, name, 0, raw.rows());
  raw.bytes.assign(bytes.begin(), bytes.end());
  return raw;
}

Group open_object(const Location& where, const std::string& path) {
  quiet();
  return Group(Id(checked(H5Oopen(where.id(), path.c_str(), H5P_DEFAULT), "open " + path)), false);
}

// Explicit instantiations for the element types the pipeline stores.
#define RFMSEG_H5_INSTANTIATE(T)                                                                                    \
  template void write_rows<T>(const Location&, const std::string&, std::span<const T>, const Rows&, std::uint64_t); \
  template void write_replicated<T>(const Location&, const std::string&, std::span<const T>,                        \
                                    std::vector<std::uint64_t>);                                                    \
  template std::vector<T> read<T>(const Location&, const std::string&, std::vector<std::uint64_t>*);                \
  template std::vector<T> read_rows<T>(const Location&, const std::string&, std::uint64_t, std::uint64_t);
RFMSEG_H5_INSTANTIATE(double)
RFMSEG_H5_INSTANTIATE(std::int64_t)
RFMSEG_H5_INSTANTIATE(std::uint64_t)
RFMSEG_H5_INSTANTIATE(std::int32_t)
RFMSEG_H5_INSTANTIATE(std::int8_t)
RFMSEG_H5_INSTANTIATE(std::uint8_t)
#undef RFMSEG_H5_INSTANTIATE

}  // namespace rfmseg::h5
