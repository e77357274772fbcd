#include "rfmseg/io/rejects.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/io/output.hpp"
#include "rfmseg/io/output_guard.hpp"

namespace rfmseg {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- CSV

namespace rejects {

void append_quoted(std::string& out, std::string_view field) {
  out += '"';
  for (std::size_t pos = 0;;) {
    const std::size_t quote = field.find('"', pos);
    if (quote == std::string_view::npos) {
      out.append(field.substr(pos));
      break;
    }
    out.append(field.substr(pos, quote + 1 - pos));
    out += '"';
    pos = quote + 1;
  }
  out += '"';
}

void append_row(std::string& out, std::string_view file, std::uint64_t line, std::string_view reason,
                std::string_view text) {
  append_quoted(out, file);
  out += ',';
  out += std::to_string(line);
  out += ',';
  out += reason;
  out += ',';
  append_quoted(out, text);
  out += '\n';
}

std::uint64_t memory_limit_bytes(std::uint64_t budget_bytes) {
  constexpr std::uint64_t lo = 64u << 10, hi = 4u << 20;
  return budget_bytes == 0 ? hi : std::clamp<std::uint64_t>(budget_bytes / 32, lo, hi);
}

}  // namespace rejects

// ---------------------------------------------------------------- RejectRows

namespace {
// A long record is quoted and buffered in pieces of this size, so memory stays near the limit.
constexpr std::size_t text_piece_bytes = 64u << 10;
// Each collective write moves at least this much per rank (one agreement per piece).
constexpr std::uint64_t write_piece_min_bytes = 64u << 10;
}  // namespace

RejectRows::RejectRows(std::vector<std::string> file_paths, std::string spill_path, std::uint64_t memory_limit_bytes,
                       bool with_header)
    : _paths(std::move(file_paths)),
      _spill_path(std::move(spill_path)),
      _limit(std::max<std::uint64_t>(memory_limit_bytes, 1)) {
  if (with_header) _buffer.append(rejects::header);
}

RejectRows::~RejectRows() {
  if (_spill_fd >= 0) ::close(_spill_fd);
}

void RejectRows::reject(std::uint32_t file, std::uint64_t line, Fate fate, std::string_view record) {
  ++_rows;
  if (record.size() <= text_piece_bytes) {
    rejects::append_row(_buffer, _paths[file], line, fate_name(fate), record);
  } else {
    // A huge line goes in whole, quoted piece by piece (a quote pair never straddles pieces: each
    // quote is doubled within its piece), spilling between pieces.
    rejects::append_quoted(_buffer, _paths[file]);
    _buffer += ',' + std::to_string(line) + ',' + fate_name(fate) + ",\"";
    for (std::size_t pos = 0; pos < record.size(); pos += text_piece_bytes) {
      const std::string_view piece = record.substr(pos, text_piece_bytes);
      std::string quoted;
      rejects::append_quoted(quoted, piece);
      _buffer.append(quoted, 1, quoted.size() - 2);  // without its own surrounding quotes
      if (_buffer.size() >= _limit) spill();
    }
    _buffer += "\"\n";
  }
  if (_buffer.size() >= _limit) spill();
}

void RejectRows::spill() {
  if (_spill_fd < 0) {
    _spill_fd = ::open(_spill_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (_spill_fd < 0)
      throw InputError("cannot create rejects spill file '" + _spill_path + "': " + std::strerror(errno));
    ::unlink(_spill_path.c_str());  // the open descriptor keeps it; nothing remains after the process
  }
  for (std::size_t done = 0; done < _buffer.size();) {
    const ssize_t n =
        ::pwrite(_spill_fd, _buffer.data() + done, _buffer.size() - done, static_cast<off_t>(_spilled + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot write rejects spill file '" + _spill_path + "': " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  _spilled += _buffer.size();
  _buffer.clear();
}

std::string_view RejectRows::read(std::uint64_t from, std::size_t length) {
  if (from >= _spilled) return std::string_view(_buffer).substr(static_cast<std::size_t>(from - _spilled), length);
  // Spilled bytes first, then any from memory.
  _scratch.resize(length);
  const std::size_t from_disk = static_cast<std::size_t>(std::min<std::uint64_t>(length, _spilled - from));
  for (std::size_t done = 0; done < from_disk;) {
    const ssize_t n = ::pread(_spill_fd, _scratch.data() + done, from_disk - done, static_cast<off_t>(from + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw InputError("cannot read rejects spill file '" + _spill_path +
                       "': " + (n < 0 ? std::strerror(errno) : "it is shorter than written"));
    done += static_cast<std::size_t>(n);
  }
  const std::size_t from_memory = std::min(length - from_disk, _buffer.size());
  std::memcpy(_scratch.data() + from_disk, _buffer.data(), from_memory);
  return std::string_view(_scratch).substr(0, from_disk + from_memory);
}

// ---------------------------------------------------------------- RejectsFile

RejectsFile::RejectsFile(const mpi::Comm& comm, std::string final_path, const OutputRules& result_rules,
                         const std::string& output_path)
    : _comm(comm), _final(std::move(final_path)) {
  // Before the lock: the result's own lock would otherwise be reported as another run's.
  collectively(comm, [&] {
    if (comm.is_root() && same_file(_final, output_path))
      throw ConfigError("rejects file '" + _final + "' is the same file as '" + output_path +
                        "'; give --rejects a name of its own");
  });
  _lock = std::make_unique<OutputLock>(comm, _final, "--rejects");
  if (comm.is_root() && _lock->held()) remove_stale_temporaries(_final);
  OutputRules rules = result_rules;
  rules.what = "rejects file";
  rules.option = "--rejects";
  rules.replaceable = &is_rfmseg_rejects;
  rules.replaceable_what = "an rfmseg rejects file (header file,line,reason,text)";
  check_output_path(comm, _final, rules);
  if (comm.is_root()) _temporary = _final + ".tmp-" + std::to_string(::getpid());
  mpi::broadcast(comm, _temporary);
}

RejectsFile::~RejectsFile() {
  _rows.reset();
  if (!_committed && _comm.is_root()) std::remove(_temporary.c_str());
}

void RejectsFile::start(const InputPlan& plan, std::uint64_t memory_limit_bytes) {
  std::vector<std::string> paths;
  for (const auto& file : plan.files) paths.push_back(file.path);
  collectively(_comm, [&] {
    if (!_comm.is_root()) return;
    for (const auto& path : paths)
      if (same_file(_final, path)) throw ConfigError("--rejects '" + _final + "' is the input file '" + path + "'");
  });
  _rows = std::make_unique<RejectRows>(std::move(paths), _temporary + ".spill-" + std::to_string(_comm.rank()),
                                       memory_limit_bytes, _comm.is_root());
}

std::uint64_t RejectsFile::write() {
  RejectRows& rows = *_rows;
  const std::uint64_t mine = rows.bytes();
  const std::uint64_t offset = mpi::exscan_sum(_comm, mine);
  const std::vector<std::uint64_t> totals =
      mpi::allreduce(_comm, std::vector<std::uint64_t>{mine, rows.rows()}, mpi::Op::sum);
  const std::uint64_t piece = std::max<std::uint64_t>(rows.memory_limit(), write_piece_min_bytes);
  const std::uint64_t rounds = mpi::allreduce(_comm, (mine + piece - 1) / piece, mpi::Op::max);
  // The exact size is known: a file that cannot fit is refused before the first byte.
  require_free_space(_comm, _final, totals[0], "the rejects file '" + _final + "'");
  mpi::File file;
  collectively(_comm, [&] { file = mpi::File::create(_comm, _temporary); });
  // One collective write per piece; a rank with fewer pieces joins with none. The spill is read
  // apart from the write, so a read error cannot make a rank skip a collective.
  // Each rank keeps a checksum of what it wrote (a sum of position-keyed piece hashes) and reads
  // its range back after the sync: an MPI-IO layer that only prints a write error (Open MPI's
  // OMPIO on a full disk) cannot leave a short or zero-filled rejects file behind an exit 0.
  std::uint64_t written_sum = 0;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    const std::uint64_t from = std::min(round * piece, mine);
    std::string_view bytes;
    collectively(_comm, [&] { bytes = rows.read(from, static_cast<std::size_t>(std::min(piece, mine - from))); });
    if (!bytes.empty()) written_sum += hash_bytes(bytes, offset + from);  // ranks out of pieces join empty
    try {
      collectively(_comm, [&] { file.write_at_all(offset + from, {bytes.data(), bytes.size()}); });
    } catch (const AgreedError& error) {
      throw write_failure(error.what());
    }
  }
  try {
    collectively(_comm, [&] { file.set_size(totals[0]); });
    collectively(_comm, [&] { file.sync(); });
    collectively(_comm, [&] { file.close(); });
  } catch (const AgreedError& error) {
    throw write_failure(error.what());
  }
  std::string problem;
  try {
    problem = read_back(offset, mine, piece, written_sum, totals[0]);
  } catch (const std::exception& error) {
    problem = error.what();
  }
  try {
    collectively(_comm, [&] {
      if (!problem.empty()) throw std::runtime_error(problem);
    });
  } catch (const AgreedError& error) {
    throw write_failure(std::string("read back: ") + error.what());
  }
  _rows.reset();
  return totals[1];
}

std::string RejectsFile::read_back(std::uint64_t offset, std::uint64_t length, std::uint64_t piece,
                                   std::uint64_t expected_sum, std::uint64_t total_bytes) const {
  const int fd = ::open(_temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open '" + _temporary + "': " + std::strerror(errno);
  struct stat st {};
  std::string problem;
  if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != total_bytes) {
    problem = "'" + _temporary + "' holds " + std::to_string(st.st_size) + " bytes, " + std::to_string(total_bytes) +
              " were written";
  } else {
    std::string buffer;
    std::uint64_t sum = 0;
    for (std::uint64_t from = 0; from < length && problem.empty(); from += piece) {
      buffer.resize(static_cast<std::size_t>(std::min(piece, length - from)));
      std::size_t done = 0;
      while (done < buffer.size()) {
        const ssize_t got =
            ::pread(fd, buffer.data() + done, buffer.size() - done, static_cast<off_t>(offset + from + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
          problem = "reading '" + _temporary + "' back failed: " + (got < 0 ? std::strerror(errno) : "short file");
          break;
        }
        done += static_cast<std::size_t>(got);
      }
      sum += hash_bytes(buffer, offset + from);
    }
    if (problem.empty() && sum != expected_sum)
      problem = "'" + _temporary + "' differs from what was written at bytes " + std::to_string(offset) + ".." +
                std::to_string(offset + length);
  }
  ::close(fd);
  return problem;
}

AgreedError RejectsFile::write_failure(const std::string& what) const {
  return rfmseg::write_failure(_comm, _final, _temporary, "the rejects file '" + _final + "'", what);
}

void RejectsFile::commit() {
  collectively(_comm, [&] {
    if (_comm.is_root() && std::rename(_temporary.c_str(), _final.c_str()) != 0)
      throw InputError("cannot rename '" + _temporary + "' to '" + _final + "': " + std::strerror(errno));
  });
  _committed = true;
}

}  // namespace rfmseg
