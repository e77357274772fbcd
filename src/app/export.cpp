#include "rfmseg/app/export.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/previous.hpp"
#include "rfmseg/app/segmentation.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/io/output_guard.hpp"
#include "rfmseg/model/scores.hpp"

namespace fs = std::filesystem;

namespace rfmseg {

namespace csv_export {

void append_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (const char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void append_double(std::string& out, double value) {
  if (std::isnan(value)) return;
  char text[32];
  const auto [end, error] = std::to_chars(text, text + sizeof text, value);  // shortest round trip
  out.append(text, error == std::errc() ? end : text);
}

void append_integer(std::string& out, std::int64_t value) {
  char text[24];
  const auto [end, error] = std::to_chars(text, text + sizeof text, value);
  out.append(text, error == std::errc() ? end : text);
}

namespace {

// A streaming gzip member: feed() text, finish() for the trailer. Owns its z_stream.
class GzipMember {
 public:
  explicit GzipMember(int level) {
    // windowBits 15 + 16: a gzip header and trailer around the deflate stream (mtime 0).
    if (deflateInit2(&_zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("zlib: deflateInit2 failed");
  }
  ~GzipMember() { deflateEnd(&_zs); }
  GzipMember(const GzipMember&) = delete;
  GzipMember& operator=(const GzipMember&) = delete;

  void feed(std::string_view data, std::string& out) { run(data, Z_NO_FLUSH, out); }
  void finish(std::string& out) { run({}, Z_FINISH, out); }

 private:
  void run(std::string_view data, int flush, std::string& out) {
    _zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    // zlib counts in uInt: feed in pieces of at most 1 GiB.
    std::size_t left = data.size();
    do {
      const std::size_t piece = std::min<std::size_t>(left, 1u << 30);
      _zs.avail_in = static_cast<uInt>(piece);
      left -= piece;
      const int mode = left == 0 ? flush : Z_NO_FLUSH;
      int status = Z_OK;
      do {
        const std::size_t room = std::max<std::size_t>(deflateBound(&_zs, _zs.avail_in), 1 << 16);
        const std::size_t at = out.size();
        out.resize(at + room);
        _zs.next_out = reinterpret_cast<Bytef*>(out.data() + at);
        _zs.avail_out = static_cast<uInt>(room);
        status = deflate(&_zs, mode);
        if (status == Z_STREAM_ERROR) throw std::runtime_error("zlib: deflate failed");
        out.resize(at + room - _zs.avail_out);
      } while (_zs.avail_out == 0 || (mode == Z_FINISH && status != Z_STREAM_END));
    } while (left > 0);
  }

  z_stream _zs{};
};

}  // namespace

std::string gzip_member(std::string_view data, int level) {
  std::string out;
  GzipMember member(level);
  member.feed(data, out);
  member.finish(out);
  return out;
}

bool is_rfmseg_export(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  char start[512] = {};
  int got = 0;
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gz) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) return false;
    got = gzread(file, start, sizeof start - 1);
    gzclose(file);
  } else {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) return false;
    got = static_cast<int>(std::fread(start, 1, sizeof start - 1, file));
    std::fclose(file);
  }
  if (got <= 0) return false;
  const std::string_view text(start, static_cast<std::size_t>(got));
  const std::string_view line = text.substr(0, text.find('\n'));
  for (const auto header : {customers_header, clusters_header, segments_header, selection_header,
                            migration_clusters_header, migration_segments_header})
    if (line == header) return true;
  return false;
}

}  // namespace csv_export

namespace {

using csv_export::append_double;
using csv_export::append_field;
using csv_export::append_integer;

// MPI-IO counts are int: collective writes in pieces of at most this many bytes.
constexpr std::uint64_t write_piece_bytes = 1ull << 30;
// zlib level of customers.csv.gz: 1 (Z_BEST_SPEED) compresses this text ~3x faster than the
// default 6 for a file a third larger (26.4 MB of rows: 6.3 MB at level 1, 4.8 MB at level 6).
constexpr int export_gzip_level = 1;
// Rows formatted before they are handed to zlib (bounds the text held besides the compressed bytes).
constexpr std::size_t format_batch_bytes = 1u << 20;

}  // namespace

ExportFiles::ExportFiles(const mpi::Comm& comm, const RunConfig& config, const OutputRules& result_rules)
    : _comm(comm), _config(config.exports) {
  const std::string& dir = _config.dir;
  collectively(comm, [&] {
    if (!comm.is_root()) return;
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        throw ConfigError("--export '" + dir +
                          "' exists and is not a directory: --export names a directory for the CSV files");
    } else {
      std::error_code error;
      fs::create_directories(dir, error);
      if (error) throw ConfigError("cannot create export directory '" + dir + "': " + error.message());
    }
  });
  const bool gzip = _config.compression == ExportCompression::gzip;
  const std::string customers = gzip ? "customers.csv.gz" : "customers.csv";
  std::vector<std::string> names = {customers, "clusters.csv", "segments.csv"};
  _stale.push_back(dir + "/" + (gzip ? "customers.csv" : "customers.csv.gz"));
  if (config.model.k_max > 0)
    names.push_back("selection.csv");
  else
    _stale.push_back(dir + "/selection.csv");
  for (const char* name : {"migration_clusters.csv", "migration_segments.csv"}) {
    if (!config.previous.empty())
      names.emplace_back(name);
    else
      _stale.push_back(dir + "/" + name);
  }
  for (const auto& name : names) _files.push_back({name, dir + "/" + name, {}, false});

  // Before the lock: the result's or the rejects file's own lock would otherwise be reported as
  // another run's.
  collectively(comm, [&] {
    if (!comm.is_root()) return;
    for (const auto& file : _files)
      for (const auto& [other, option] : {std::pair{config.output, "--output"}, std::pair{config.rejects, "--rejects"}})
        if (same_file(file.final_path, other))
          throw ConfigError("export file '" + file.final_path + "' is the same file as " + option + " '" + other +
                            "'; give --export a directory of its own");
  });
  _lock = std::make_unique<OutputLock>(comm, dir + "/export", "--export");
  OutputRules rules = result_rules;
  rules.what = "export file";
  rules.option = "--export";
  rules.replaceable = &csv_export::is_rfmseg_export;
  rules.replaceable_what = "an rfmseg export (a CSV file with an rfmseg export header)";
  for (const auto& file : _files) {
    if (comm.is_root() && _lock->held()) remove_stale_temporaries(file.final_path);
    check_output_path(comm, file.final_path, rules);
  }
  std::string pid;
  if (comm.is_root()) pid = std::to_string(::getpid());
  mpi::broadcast(comm, pid);
  for (auto& file : _files) file.temporary = file.final_path + ".tmp-" + pid;
}

ExportFiles::~ExportFiles() {
  if (_committed || !_comm.is_root()) return;
  for (const auto& file : _files) std::remove(file.temporary.c_str());
}

ExportFiles::Entry& ExportFiles::entry(std::string_view name) {
  for (auto& file : _files)
    if (file.name == name) return file;
  throw std::logic_error("no export file " + std::string(name));
}

AgreedError ExportFiles::write_failure(const Entry& file, const std::string& what) const {
  return rfmseg::write_failure(_comm, file.final_path, file.temporary, "the export file '" + file.final_path + "'",
                               what);
}

void ExportFiles::write_parallel(Entry& file, std::string_view bytes) {
  const std::uint64_t mine = bytes.size();
  const std::uint64_t offset = mpi::exscan_sum(_comm, mine);
  const std::uint64_t total = mpi::allreduce(_comm, mine, mpi::Op::sum);
  const std::uint64_t rounds = mpi::allreduce(_comm, (mine + write_piece_bytes - 1) / write_piece_bytes, mpi::Op::max);
  // The exact size is known: a file that cannot fit is refused before the first byte.
  require_free_space(_comm, file.final_path, total, "the export file '" + file.final_path + "'");
  try {
    mpi::File out;
    collectively(_comm, [&] { out = mpi::File::create(_comm, file.temporary); });
    for (std::uint64_t round = 0; round < rounds; ++round) {  // a rank out of pieces joins empty
      const std::uint64_t from = std::min(round * write_piece_bytes, mine);
      const std::uint64_t length = std::min(write_piece_bytes, mine - from);
      collectively(_comm, [&] {
        out.write_at_all(offset + from, {bytes.data() + from, static_cast<std::size_t>(length)});
      });
    }
    collectively(_comm, [&] { out.set_size(total); });
    collectively(_comm, [&] { out.sync(); });
    collectively(_comm, [&] { out.close(); });
  } catch (const AgreedError& error) {
    throw write_failure(file, error.what());
  }
  // Each rank reads its range back: an MPI-IO layer that only prints a write error cannot leave a
  // short or zero-filled file behind an exit 0.
  try {
    collectively(_comm, [&] {
      const int fd = ::open(file.temporary.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("cannot open '" + file.temporary + "': " + std::strerror(errno));
      struct stat st {};
      std::string back(static_cast<std::size_t>(mine), '\0');
      std::size_t done = 0;
      bool ok = ::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) == total;
      while (ok && done < back.size()) {
        const ssize_t got = ::pread(fd, back.data() + done, back.size() - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        ok = got > 0;
        if (ok) done += static_cast<std::size_t>(got);
      }
      ::close(fd);
      if (!ok || hash_bytes(back) != hash_bytes(bytes))
        throw std::runtime_error("'" + file.temporary + "' differs from what was written at bytes " +
                                 std::to_string(offset) + ".." + std::to_string(offset + mine));
    });
  } catch (const AgreedError& error) {
    throw write_failure(file, std::string("read back: ") + error.what());
  }
  file.written = true;
}

void ExportFiles::write_small(Entry& file, const std::string& text) {
  require_free_space(_comm, file.final_path, text.size(), "the export file '" + file.final_path + "'");
  try {
    collectively(_comm, [&] {
      if (!_comm.is_root()) return;
      const int fd = ::open(file.temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) throw std::runtime_error("cannot create '" + file.temporary + "': " + std::strerror(errno));
      std::size_t done = 0;
      int error = 0;
      while (done < text.size() && error == 0) {
        const ssize_t put = ::write(fd, text.data() + done, text.size() - done);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0)
          error = put < 0 ? errno : ENOSPC;
        else
          done += static_cast<std::size_t>(put);
      }
      if (error == 0 && ::fsync(fd) != 0) error = errno;
      if (::close(fd) != 0 && error == 0) error = errno;
      if (error != 0) throw std::runtime_error("writing '" + file.temporary + "' failed: " + std::strerror(error));
    });
  } catch (const AgreedError& error) {
    throw write_failure(file, error.what());
  }
  file.written = true;
}

std::uint64_t ExportFiles::write(const CustomerStage& stage, const Segmentation& seg, const PreviousResult* previous,
                                 const Comparison* comparison) {
  const CustomerTable& customers = stage.customers;
  const auto& segment_names = classic_segment_names();
  const bool gzip = _config.compression == ExportCompression::gzip;
  std::uint64_t bytes = 0;

  // ---- customers: this rank's block, rows in id order, one gzip member per rank
  std::string text, compressed;
  std::optional<csv_export::GzipMember> member;
  collectively(_comm, [&] {
    if (gzip) member.emplace(export_gzip_level);
    if (_comm.is_root()) {
      text.append(csv_export::customers_header);
      text.push_back('\n');
    }
    const auto flush = [&](bool last) {
      if (!gzip) return;
      member->feed(text, compressed);
      text.clear();
      if (last) member->finish(compressed);
    };
    for (std::size_t i = 0; i < customers.size(); ++i) {
      const auto cluster = static_cast<std::size_t>(seg.labels[i]);
      append_field(text, customers.id[i]);
      text.push_back(',');
      append_integer(text, customers.recency[i]);
      text.push_back(',');
      append_integer(text, customers.frequency[i]);
      text.push_back(',');
      append_double(text, customers.monetary[i]);
      text.push_back(',');
      append_integer(text, seg.scores.r_score[i]);
      text.push_back(',');
      append_integer(text, seg.scores.f_score[i]);
      text.push_back(',');
      append_integer(text, seg.scores.m_score[i]);
      text.push_back(',');
      append_integer(text, seg.scores.rfm_code[i]);
      text.push_back(',');
      append_field(text, segment_names[static_cast<std::size_t>(seg.scores.segment[i])]);
      text.push_back(',');
      append_integer(text, seg.labels[i]);
      text.push_back(',');
      append_field(text, seg.cluster_labels[cluster]);
      text.push_back(',');
      append_integer(text, seg.scores.high_value[i]);
      text.push_back('\n');
      if (text.size() >= format_batch_bytes) flush(false);
    }
    flush(true);
  });
  const std::string_view mine = gzip ? std::string_view(compressed) : std::string_view(text);
  write_parallel(entry(gzip ? "customers.csv.gz" : "customers.csv"), mine);
  bytes += mpi::allreduce(_comm, static_cast<std::uint64_t>(mine.size()), mpi::Op::sum);
  text = std::string();
  compressed = std::string();

  // ---- the small tables, on rank 0 (every rank holds them)
  const std::size_t k = static_cast<std::size_t>(seg.model.k);
  std::string clusters(csv_export::clusters_header);
  clusters.push_back('\n');
  for (std::size_t c = 0; c < k; ++c) {
    append_integer(clusters, static_cast<std::int64_t>(c));
    clusters.push_back(',');
    append_field(clusters, seg.cluster_labels[c]);
    clusters.push_back(',');
    append_integer(clusters, seg.profile.size[c]);
    for (const double value : {seg.profile.share[c], seg.profile.revenue_share[c]}) {
      clusters.push_back(',');
      append_double(clusters, value);
    }
    for (const auto* stat : {&seg.profile.mean, &seg.profile.std, &seg.profile.min, &seg.profile.max})
      for (std::size_t d = 0; d < feature_count; ++d) {
        clusters.push_back(',');
        append_double(clusters, (*stat)[d][c]);
      }
    for (std::size_t d = 0; d < feature_count; ++d) {
      clusters.push_back(',');
      append_double(clusters, seg.model.centroids[c * feature_count + d]);
    }
    clusters.push_back('\n');
  }
  write_small(entry("clusters.csv"), clusters);
  bytes += clusters.size();

  std::string segments(csv_export::segments_header);
  segments.push_back('\n');
  for (std::size_t s = 0; s < seg.segments.count.size(); ++s) {
    append_integer(segments, static_cast<std::int64_t>(s));
    segments.push_back(',');
    append_field(segments, s < segment_names.size() ? segment_names[s] : std::to_string(s));
    segments.push_back(',');
    append_integer(segments, seg.segments.count[s]);
    for (const double value : {seg.segments.share[s], seg.segments.mean_recency[s], seg.segments.mean_frequency[s],
                               seg.segments.mean_monetary[s], seg.segments.revenue_share[s]}) {
      segments.push_back(',');
      append_double(segments, value);
    }
    segments.push_back('\n');
  }
  write_small(entry("segments.csv"), segments);
  bytes += segments.size();

  if (!seg.sweep.k.empty()) {
    std::string selection(csv_export::selection_header);
    selection.push_back('\n');
    for (std::size_t i = 0; i < seg.sweep.k.size(); ++i) {
      append_integer(selection, seg.sweep.k[i]);
      for (const double value :
           {seg.sweep.sse[i], seg.sweep.silhouette[i], seg.sweep.calinski_harabasz[i], seg.sweep.davies_bouldin[i]}) {
        selection.push_back(',');
        append_double(selection, value);
      }
      selection.push_back(',');
      append_integer(selection, seg.sweep.n_iter[i]);
      selection.push_back(',');
      append_integer(selection, seg.sweep.k[i] == seg.sweep.chosen_k ? 1 : 0);
      selection.push_back('\n');
    }
    write_small(entry("selection.csv"), selection);
    bytes += selection.size();
  }

  if (previous != nullptr && comparison != nullptr) {
    const auto& c = *comparison;
    const auto cols = static_cast<std::size_t>(c.k) + 1;
    std::string flows(csv_export::migration_clusters_header);
    flows.push_back('\n');
    for (std::size_t i = 0; i <= static_cast<std::size_t>(c.k_prev); ++i)
      for (std::size_t j = 0; j < cols; ++j) {
        const std::int64_t n = c.clusters[i * cols + j];
        if (n == 0) continue;
        const bool added = i == static_cast<std::size_t>(c.k_prev), gone = j + 1 == cols;
        if (!added) append_integer(flows, previous->model.cluster_ids[i]);
        flows.push_back(',');
        append_field(flows, added ? std::string("new") : previous->model.cluster_labels[i]);
        flows.push_back(',');
        if (!gone) append_integer(flows, seg.cluster_ids[j]);
        flows.push_back(',');
        append_field(flows, gone ? std::string("gone") : seg.cluster_labels[j]);
        flows.push_back(',');
        append_integer(flows, n);
        flows.push_back(',');
        append_double(flows, c.clusters_revenue[i * cols + j]);
        flows.push_back('\n');
      }
    write_small(entry("migration_clusters.csv"), flows);
    bytes += flows.size();
    constexpr std::size_t segs = 9;
    std::string segment_flows(csv_export::migration_segments_header);
    segment_flows.push_back('\n');
    for (std::size_t i = 0; i < segs; ++i)
      for (std::size_t j = 0; j < segs; ++j) {
        const std::int64_t n = c.segments[i * segs + j];
        if (n == 0) continue;
        append_field(segment_flows, i + 1 == segs ? std::string("new") : segment_names[i]);
        segment_flows.push_back(',');
        append_field(segment_flows, j + 1 == segs ? std::string("gone") : segment_names[j]);
        segment_flows.push_back(',');
        append_integer(segment_flows, n);
        segment_flows.push_back(',');
        append_double(segment_flows, c.segments_revenue[i * segs + j]);
        segment_flows.push_back('\n');
      }
    write_small(entry("migration_segments.csv"), segment_flows);
    bytes += segment_flows.size();
  }
  return bytes;
}

void ExportFiles::commit() {
  collectively(_comm, [&] {
    if (!_comm.is_root()) return;
    for (const auto& file : _files) {
      if (!file.written) continue;
      if (std::rename(file.temporary.c_str(), file.final_path.c_str()) != 0)
        throw InputError("cannot rename '" + file.temporary + "' to '" + file.final_path +
                         "': " + std::strerror(errno));
    }
    // An export file of other settings left by an earlier run would not match this result.
    for (const auto& stale : _stale)
      if (csv_export::is_rfmseg_export(stale) && std::remove(stale.c_str()) == 0)
        std::fprintf(stderr, "rfmseg: removed '%s', an export of an earlier run that this run does not write\n",
                     stale.c_str());
    const int fd = ::open(_config.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  });
  _committed = true;
}

}  // namespace rfmseg
