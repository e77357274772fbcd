#include "rfmseg/app/checkpoint.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/segmentation.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/notices.hpp"
#include "rfmseg/io/h5.hpp"
#include "rfmseg/io/integrity.hpp"
#include "rfmseg/io/output.hpp"

namespace rfmseg {

namespace {

namespace fs = std::filesystem;

constexpr const char* customers_file = "customers.h5";

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// Writes a small replicated file on rank 0 under a temporary name, then renames it. `fill`
// writes the content. Agreed: an error on rank 0 reaches every rank.
template <class Fill>
void write_small_file(const mpi::Comm& comm, const std::string& path, Fill&& fill) {
  collectively(comm, [&] {
    if (!comm.is_root()) return;
    const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
    try {
      h5::File file = h5::File::create_serial(temporary);
      fill(file);
      h5::seal_attributes(file);
      file.close();
      sync_to_storage(temporary);  // late write errors surface here
      // Read back and checked before it may replace the previous checkpoint.
      const mpi::Comm self(MPI_COMM_SELF);
      const IntegrityReport report = check_integrity(self, temporary);
      if (!report.ok()) throw h5::Error("read back: " + report.problems.front());
    } catch (const std::exception& error) {
      const std::string reason = diagnose_write_failure(path);
      std::remove(temporary.c_str());
      throw h5::Error("cannot write checkpoint '" + path + "'" + (reason.empty() ? "" : ": " + reason) + " (" +
                      error.what() + ")");
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
      const std::string reason = std::strerror(errno);
      std::remove(temporary.c_str());
      throw InputError("cannot rename checkpoint '" + temporary + "' to '" + path + "': " + reason);
    }
  });
}

// Collective: refuses (exit 1, on every rank) a checkpoint file whose content does not match its
// checksums, saying what to do, instead of resuming from damaged state.
void refuse_damaged(const IntegrityReport& report, const std::string& path) {
  if (report.ok()) return;
  throw AgreedError(
      "checkpoint '" + path + "' is damaged (" + report.problems.front() +
          (report.problems.size() > 1 ? "; " + std::to_string(report.problems.size() - 1) + " more" : "") +
          "): delete it (rm '" + path + "') to redo that step, or run without --resume to start over",
      1);
}

// An earlier checkpoint there is replaced (force); a device or directory never is.
OutputRules checkpoint_rules() {
  OutputRules rules;
  rules.force = true;
  rules.what = "checkpoint";
  rules.option = "--checkpoint";
  return rules;
}

bool exists_on_root(const mpi::Comm& comm, const std::string& path) {
  std::int32_t found = 0;
  if (comm.is_root()) found = ::access(path.c_str(), F_OK) == 0 ? 1 : 0;
  return mpi::allreduce(comm, found, mpi::Op::max) != 0;
}

}  // namespace

Checkpoints::Checkpoints(const mpi::Comm& comm, const RunConfig& config)
    : _comm(comm),
      _dir(config.reliability.checkpoint_dir),
      _resume(config.reliability.resume),
      _every(config.reliability.checkpoint_every) {
  collectively(comm, [&] {
    if (!comm.is_root()) return;
    std::error_code error;
    fs::create_directories(_dir, error);
    if (error || !fs::is_directory(_dir))
      throw ConfigError("cannot create checkpoint directory '" + _dir + "'" + (error ? ": " + error.message() : ""));
    if (::access(_dir.c_str(), W_OK) != 0) throw ConfigError("checkpoint directory '" + _dir + "' is not writable");
  });
  // One run per checkpoint directory; with the lock held, files of runs that died are removed.
  _lock = std::make_unique<OutputLock>(comm, _dir + "/checkpoint", "--checkpoint");
  if (comm.is_root() && _lock->held()) remove_stale_temporaries(_dir + "/checkpoint", true);
  _options_text = config.result_options;
}

void Checkpoints::set_fingerprint(const InputPlan& plan) {
  std::string text = _options_text;
  collectively(_comm, [&] {
    if (!_comm.is_root()) return;
    for (const auto& file : plan.files) {
      struct stat st {};
      if (::stat(file.path.c_str(), &st) != 0) throw InputError("cannot stat input '" + file.path + "'");
      text += file.path + "\t" + std::to_string(st.st_size) + "\t" + std::to_string(st.st_mtim.tv_sec) + "." +
              std::to_string(st.st_mtim.tv_nsec) + "\n";
    }
  });
  mpi::broadcast(_comm, text);
  _fingerprint = hex(hash_bytes(text)) + hex(hash_bytes(text, 0x5eed));
}

std::string Checkpoints::fit_path(int k) const { return _dir + "/fit-k" + std::to_string(k) + ".h5"; }

void Checkpoints::note_resumed(const std::string& what) {
  _resumed += (_resumed.empty() ? "" : "; ") + what;
  if (_comm.is_root()) notices::note("resuming: " + what);
}

// ---------------------------------------------------------------- customers

void Checkpoints::save_customers(const CustomerStage& stage) {
  const CustomerTable& t = stage.customers;
  std::uint64_t width = 1;
  for (const auto& id : t.id) width = std::max<std::uint64_t>(width, id.size());
  width = mpi::allreduce(_comm, width, mpi::Op::max);
  // An earlier checkpoint there is replaced (force); a device or directory never is. At least the
  // id, last_day 4, recency 4, frequency 8, monetary micros 16 and monetary 8 per customer.
  ResultFile out(_comm, _dir + "/" + customers_file, checkpoint_rules(), stage.total_customers * (width + 40));
  const auto rows = h5::Rows::distributed(_comm, t.size());
  std::vector<std::uint64_t> lo(t.size());
  std::vector<std::int64_t> hi(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    lo[i] = static_cast<std::uint64_t>(static_cast<uint128_t>(t.monetary_micros[i]));
    hi[i] = static_cast<std::int64_t>(t.monetary_micros[i] >> 64);
  }
  out.write([&] {  // a write error on any rank names the OS reason; every object is closed before commit()
    const h5::Group table = out.group("customers");
    h5::write_strings(table, "id", t.id, rows, width);
    h5::write_rows<std::int32_t>(table, "last_day", t.last_day, rows);
    h5::write_rows<std::int32_t>(table, "recency", t.recency, rows);
    h5::write_rows<std::int64_t>(table, "frequency", t.frequency, rows);
    h5::write_rows<std::uint64_t>(table, "monetary_micros_lo", lo, rows);
    h5::write_rows<std::int64_t>(table, "monetary_micros_hi", hi, rows);
    h5::write_rows<double>(table, "monetary", t.monetary, rows);

    const h5::Group report = out.group("stage");
    h5::write_attribute(report, "fingerprint", _fingerprint);
    h5::write_attribute(report, "total_customers", static_cast<std::int64_t>(stage.total_customers));
    h5::write_attribute(report, "snapshot", static_cast<std::int64_t>(stage.snapshot));
    h5::write_attribute(report, "frequency", static_cast<std::int64_t>(stage.frequency));
    h5::write_attribute(report, "bytes_read", static_cast<std::int64_t>(stage.bytes_read));
    h5::write_attribute(report, "bytes_shuffled", static_cast<std::int64_t>(stage.bytes_shuffled));
    h5::write_attribute(report, "shuffle_rounds", static_cast<std::int64_t>(stage.shuffle_rounds));
    h5::write_attribute(report, "duplicates", stage.duplicates);
    h5::write_attribute(report, "date_order", stage.date_order);
    h5::write_attribute(report, "date_order_assumed", static_cast<std::int64_t>(stage.date_order_assumed));
    h5::write_attribute(report, "lines", stage.counters.lines);
    h5::write_attribute(report, "blank_lines", stage.counters.blank_lines);
    h5::write_replicated<std::int64_t>(report, "fates", stage.counters.fates, {fate_count});
    std::vector<std::int64_t> bad_fate, bad_file, bad_line;
    std::vector<std::string> bad_excerpt;
    for (const auto& bad : stage.bad_lines) {
      bad_fate.push_back(static_cast<std::int64_t>(bad.fate));
      bad_file.push_back(bad.file);
      bad_line.push_back(static_cast<std::int64_t>(bad.line));
      bad_excerpt.push_back(bad.excerpt);
    }
    const std::uint64_t nb = bad_fate.size();
    h5::write_replicated<std::int64_t>(report, "bad_fate", bad_fate, {nb});
    h5::write_replicated<std::int64_t>(report, "bad_file", bad_file, {nb});
    h5::write_replicated<std::int64_t>(report, "bad_line", bad_line, {nb});
    h5::write_strings_replicated(report, "bad_excerpt", bad_excerpt);
  });
  out.commit();
}

bool Checkpoints::load_customers(CustomerStage& stage) {
  const std::string path = _dir + "/" + customers_file;
  if (!_resume) return false;
  if (!exists_on_root(_comm, path)) {
    if (_comm.is_root()) notices::note("no checkpoint in '" + _dir + "' yet: starting from the input");
    return false;
  }
  refuse_damaged(check_integrity(_comm, path), path);
  collectively(_comm, [&] {
    const h5::File file = h5::File::open_read(path);
    const h5::Group report = h5::open_object(file, "stage");
    if (h5::read_string_attribute(report, "fingerprint") != _fingerprint)
      throw ConfigError("the checkpoint in '" + _dir +
                        "' was made for other input files or options: rerun without "
                        "--resume (or remove the directory) to start from the input");
    const std::uint64_t n = h5::row_count(file, "customers/id");
    const auto p = static_cast<std::uint64_t>(_comm.size()), r = static_cast<std::uint64_t>(_comm.rank());
    const std::uint64_t first = n * r / p, count = n * (r + 1) / p - first;
    CustomerTable& t = stage.customers;
    t.id = h5::read_string_rows(file, "customers/id", first, count);
    t.last_day = h5::read_rows<std::int32_t>(file, "customers/last_day", first, count);
    t.recency = h5::read_rows<std::int32_t>(file, "customers/recency", first, count);
    t.frequency = h5::read_rows<std::int64_t>(file, "customers/frequency", first, count);
    t.monetary = h5::read_rows<double>(file, "customers/monetary", first, count);
    const auto lo = h5::read_rows<std::uint64_t>(file, "customers/monetary_micros_lo", first, count);
    const auto hi = h5::read_rows<std::int64_t>(file, "customers/monetary_micros_hi", first, count);
    t.monetary_micros.resize(count);
    for (std::size_t i = 0; i < count; ++i)
      t.monetary_micros[i] =
          static_cast<int128_t>((static_cast<uint128_t>(static_cast<std::uint64_t>(hi[i])) << 64) | lo[i]);

    stage.total_customers = static_cast<std::uint64_t>(h5::read_int_attribute(report, "total_customers"));
    stage.snapshot = static_cast<std::int32_t>(h5::read_int_attribute(report, "snapshot"));
    stage.frequency = static_cast<FrequencyMode>(h5::read_int_attribute(report, "frequency"));
    stage.bytes_read = static_cast<std::uint64_t>(h5::read_int_attribute(report, "bytes_read"));
    stage.bytes_shuffled = static_cast<std::uint64_t>(h5::read_int_attribute(report, "bytes_shuffled"));
    stage.shuffle_rounds = static_cast<std::uint64_t>(h5::read_int_attribute(report, "shuffle_rounds"));
    stage.duplicates = h5::read_string_attribute(report, "duplicates");
    stage.date_order = h5::read_string_attribute(report, "date_order");
    stage.date_order_assumed = h5::read_int_attribute(report, "date_order_assumed") != 0;
    stage.counters.lines = h5::read_int_attribute(report, "lines");
    stage.counters.blank_lines = h5::read_int_attribute(report, "blank_lines");
    const auto fates = h5::read<std::int64_t>(file, "stage/fates");
    if (fates.size() != fate_count) throw InputError("checkpoint '" + path + "': unexpected counter layout");
    std::copy(fates.begin(), fates.end(), stage.counters.fates.begin());
    const auto bad_fate = h5::read<std::int64_t>(file, "stage/bad_fate");
    const auto bad_file = h5::read<std::int64_t>(file, "stage/bad_file");
    const auto bad_line = h5::read<std::int64_t>(file, "stage/bad_line");
    const auto bad_excerpt = h5::read_strings(file, "stage/bad_excerpt");
    stage.bad_lines.clear();
    for (std::size_t i = 0; i < bad_fate.size(); ++i)
      stage.bad_lines.push_back({static_cast<Fate>(bad_fate[i]), static_cast<std::uint32_t>(bad_file[i]),
                                 static_cast<std::uint64_t>(bad_line[i]), bad_excerpt.at(i)});
  });
  note_resumed("customer table (" + std::to_string(stage.total_customers) + " customers) from " + path);
  return true;
}

// ---------------------------------------------------------------- K-means fits

namespace {

void write_fit_model(const h5::File& file, const std::string& prefix, const KMeansModel& model) {
  const auto k = static_cast<std::uint64_t>(model.k);
  h5::write_replicated<double>(file, prefix + "centroids", model.centroids, {k, feature_count});
  h5::write_replicated<double>(file, prefix + "init_centroids", model.init_centroids, {k, feature_count});
  const std::vector<double> scalars{model.inertia, static_cast<double>(model.n_iter), model.converged ? 1.0 : 0.0,
                                    static_cast<double>(model.restart), static_cast<double>(model.total_iterations)};
  h5::write_replicated<double>(file, prefix + "scalars", scalars, {scalars.size()});
  std::vector<std::int64_t> sizes = model.sizes;
  h5::write_replicated<std::int64_t>(file, prefix + "sizes", sizes, {sizes.size()});
}

KMeansModel read_fit_model(const h5::File& file, const std::string& prefix, int k) {
  KMeansModel model;
  model.k = k;
  model.centroids = h5::read<double>(file, prefix + "centroids");
  model.init_centroids = h5::read<double>(file, prefix + "init_centroids");
  const auto scalars = h5::read<double>(file, prefix + "scalars");
  model.inertia = scalars.at(0);
  model.n_iter = static_cast<int>(scalars.at(1));
  model.converged = scalars.at(2) != 0;
  model.restart = static_cast<int>(scalars.at(3));
  model.total_iterations = static_cast<std::int64_t>(scalars.at(4));
  model.sizes = h5::read<std::int64_t>(file, prefix + "sizes");
  return model;
}

}  // namespace

bool Checkpoints::usable_fit_file(const std::string& path, const char* state) const {
  // Rank 0 decides; every rank then reads the same small file.
  std::int32_t usable = 0;
  std::string damage;
  if (_comm.is_root() && ::access(path.c_str(), F_OK) == 0) {
    const mpi::Comm self(MPI_COMM_SELF);
    const IntegrityReport report = check_integrity(self, path);
    if (!report.ok()) {
      damage = report.problems.front();
    } else {
      try {
        const h5::File file = h5::File::open_read(path);
        usable = h5::read_string_attribute(file, "fingerprint") == _fingerprint &&
                 h5::read_string_attribute(file, "state") == state;
      } catch (const std::exception& error) {
        damage = error.what();
      }
    }
  }
  mpi::broadcast(_comm, damage);
  if (!damage.empty()) {
    IntegrityReport report;
    report.problems.push_back(damage);
    refuse_damaged(report, path);
  }
  return mpi::allreduce(_comm, usable, mpi::Op::max) != 0;
}

void Checkpoints::save_progress(const KMeansOptions& options, const KMeansProgress& progress) {
  write_small_file(_comm, fit_path(options.k), [&](const h5::File& file) {
    h5::write_attribute(file, "fingerprint", _fingerprint);
    h5::write_attribute(file, "state", std::string("running"));
    h5::write_attribute(file, "k", static_cast<std::int64_t>(options.k));
    h5::write_attribute(file, "restart", static_cast<std::int64_t>(progress.restart));
    h5::write_attribute(file, "iteration", static_cast<std::int64_t>(progress.iteration));
    h5::write_attribute(file, "total_iterations", progress.total_iterations);
    h5::write_attribute(file, "have_best", static_cast<std::int64_t>(progress.have_best));
    const auto k = static_cast<std::uint64_t>(options.k);
    h5::write_replicated<double>(file, "centroids", progress.centroids, {k, feature_count});
    h5::write_replicated<double>(file, "previous", progress.previous, {k, feature_count});
    h5::write_replicated<double>(file, "init_centroids", progress.init_centroids, {k, feature_count});
    if (progress.have_best) write_fit_model(file, "best_", progress.best);
  });
}

std::optional<KMeansProgress> Checkpoints::load_progress(const KMeansOptions& options) {
  if (!_resume) return std::nullopt;
  const std::string path = fit_path(options.k);
  if (!usable_fit_file(path, "running")) return std::nullopt;
  KMeansProgress progress;
  collectively(_comm, [&] {
    const h5::File file = h5::File::open_read(path);
    progress.restart = static_cast<int>(h5::read_int_attribute(file, "restart"));
    progress.iteration = static_cast<int>(h5::read_int_attribute(file, "iteration"));
    progress.total_iterations = h5::read_int_attribute(file, "total_iterations");
    progress.have_best = h5::read_int_attribute(file, "have_best") != 0;
    progress.centroids = h5::read<double>(file, "centroids");
    progress.previous = h5::read<double>(file, "previous");
    progress.init_centroids = h5::read<double>(file, "init_centroids");
    if (progress.have_best) progress.best = read_fit_model(file, "best_", options.k);
  });
  note_resumed("k-means k=" + std::to_string(options.k) + " at restart " + std::to_string(progress.restart + 1) +
               ", iteration " + std::to_string(progress.iteration));
  return progress;
}

void Checkpoints::save_fit(const KMeansOptions& options, const SavedFit& fit) {
  write_small_file(_comm, fit_path(options.k), [&](const h5::File& file) {
    h5::write_attribute(file, "fingerprint", _fingerprint);
    h5::write_attribute(file, "state", std::string("done"));
    h5::write_attribute(file, "k", static_cast<std::int64_t>(options.k));
    write_fit_model(file, "model_", fit.model);
    const std::vector<double> metrics{fit.metrics.calinski_harabasz, fit.metrics.davies_bouldin, fit.metrics.silhouette,
                                      static_cast<double>(fit.metrics.silhouette_sample)};
    h5::write_replicated<double>(file, "metrics", metrics, {metrics.size()});
  });
}

std::optional<SavedFit> Checkpoints::load_fit(const KMeansOptions& options) {
  if (!_resume) return std::nullopt;
  const std::string path = fit_path(options.k);
  if (!usable_fit_file(path, "done")) return std::nullopt;
  SavedFit fit;
  collectively(_comm, [&] {
    const h5::File file = h5::File::open_read(path);
    fit.model = read_fit_model(file, "model_", options.k);
    const auto metrics = h5::read<double>(file, "metrics");
    fit.metrics.calinski_harabasz = metrics.at(0);
    fit.metrics.davies_bouldin = metrics.at(1);
    fit.metrics.silhouette = metrics.at(2);
    fit.metrics.silhouette_sample = static_cast<std::int64_t>(metrics.at(3));
  });
  note_resumed("finished k-means fit k=" + std::to_string(options.k));
  return fit;
}

void Checkpoints::remove_all() {
  collectively(_comm, [&] {
    if (!_comm.is_root()) return;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(_dir, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(customers_file, 0) == 0 || name.rfind("fit-k", 0) == 0) fs::remove(entry.path(), error);
    }
  });
}

}  // namespace rfmseg
