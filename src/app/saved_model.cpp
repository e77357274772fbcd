#include "rfmseg/app/saved_model.hpp"

#include <sys/stat.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "rfmseg/core/date.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/names.hpp"
#include "rfmseg/core/packing.hpp"
#include "rfmseg/io/h5.hpp"
#include "rfmseg/io/integrity.hpp"
#include "rfmseg/io/result_format.hpp"

namespace rfmseg {

namespace {

namespace format = result_format;

constexpr const char* feature_names[] = {"recency", "frequency", "monetary"};

// A part the model cannot do without: its absence means an older rfmseg or another program.
class Missing : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void need_object(const h5::File& file, std::string_view path, const std::string& version) {
  if (!file.has(std::string(path)))
    throw Missing("lacks /" + std::string(path) + (version.empty() ? "" : " (written by rfmseg " + version + ")"));
}

// A dataset of the format, checked for its presence and its number of values.
template <class T>
std::vector<T> read_exact(const h5::File& file, const format::Dataset& d, std::size_t values,
                          const std::string& version) {
  need_object(file, d.path, version);
  auto out = h5::read<T>(file, std::string(d.path));
  if (out.size() != values)
    throw std::runtime_error("/" + std::string(d.path) + " has " + std::to_string(out.size()) + " values, not " +
                             std::to_string(values));
  return out;
}

std::string attribute(const h5::Location& object, const std::string& where, const std::string& name) {
  if (!h5::has_attribute(object, name)) throw Missing("lacks the attribute " + name + " of /" + where);
  return h5::read_string_attribute(object, name);
}

SavedModel read_model(const std::string& path, bool fit_index_required) {
  SavedModel m;
  m.path = path;
  const h5::File file = h5::File::open_read(path);
  if (!file.has("run") || !file.has("model") || !file.has("customers"))
    throw std::runtime_error("is not an rfmseg result (no /run, /model and /customers groups)");
  const h5::Group run = h5::open_object(file, "run");
  m.version = attribute(run, "run", "version");
  m.snapshot_date = attribute(run, "run", "snapshot_date");
  if (DateParser(DateFormat::iso).parse(m.snapshot_date, m.snapshot_day) != DateStatus::ok)
    throw std::runtime_error("/run snapshot_date '" + m.snapshot_date + "' is not a date YYYY-MM-DD");
  m.configuration = attribute(run, "run", "configuration");
  if (!h5::has_attribute(run, "customers")) throw Missing("lacks the attribute customers of /run");
  m.customers = h5::read_int_attribute(run, "customers");
  if (h5::has_attribute(run, "pseudonymization_key_id"))
    m.pseudonymization_key_id = h5::read_string_attribute(run, "pseudonymization_key_id");

  // ---- transforms and scaler
  need_object(file, "model/transform", m.version);
  const h5::Group transform = h5::open_object(file, "model/transform");
  const std::string features = attribute(transform, "model/transform", "features");
  if (features != "recency,frequency,monetary")
    throw std::runtime_error("/model/transform features is '" + features +
                             "', not recency,frequency,monetary: a model of other features");
  const auto lambda = read_exact<double>(file, format::transform_lambda, feature_count, m.version);
  const auto shift = read_exact<double>(file, format::transform_shift, feature_count, m.version);
  const auto center = read_exact<double>(file, format::transform_center, feature_count, m.version);
  const auto scale = read_exact<double>(file, format::transform_scale, feature_count, m.version);
  for (std::size_t d = 0; d < feature_count; ++d) {
    const std::string kind = attribute(transform, "model/transform", std::string("kind_") + feature_names[d]);
    try {
      m.transforms[d].kind = parse_transform(kind);
    } catch (const std::invalid_argument&) {
      throw std::runtime_error("/model/transform kind_" + std::string(feature_names[d]) + " '" + kind +
                               "' is not a transform this rfmseg knows");
    }
    m.transforms[d].lambda = lambda[d];
    m.transforms[d].shift = shift[d];
    m.scale.center[d] = center[d];
    m.scale.scale[d] = scale[d];
  }
  const std::string scaler = attribute(transform, "model/transform", "scaler");
  const auto kind = parse_name<Scaler>(scaler);
  if (!kind) throw std::runtime_error("/model/transform scaler '" + scaler + "' is not a scaler this rfmseg knows");
  m.scale.kind = *kind;
  if (!h5::has_attribute(transform, "grid_exponent"))
    throw Missing("lacks the attribute grid_exponent of /model/transform");
  const std::int64_t grid = h5::read_int_attribute(transform, "grid_exponent");
  if (grid < -1100 || grid > 1100) throw std::runtime_error("/model/transform grid_exponent is out of range");
  m.scale.grid_exponent = static_cast<int>(grid);

  // ---- clusters
  const std::int64_t k = read_exact<std::int64_t>(file, format::model_k, 1, m.version)[0];
  if (k < 1 || k > 100000) throw std::runtime_error("/model/k = " + std::to_string(k) + " is not a cluster count");
  m.k = static_cast<int>(k);
  const auto uk = static_cast<std::size_t>(k);
  m.centroids = read_exact<double>(file, format::centroids, uk * feature_count, m.version);
  need_object(file, format::cluster_label.path, m.version);
  m.cluster_labels = h5::read_strings(file, std::string(format::cluster_label.path));
  if (m.cluster_labels.size() != uk) throw std::runtime_error("/model/cluster_label does not have k values");
  m.cluster_size = read_exact<std::int64_t>(file, format::cluster_size, uk, m.version);
  if (fit_index_required || file.has(std::string(format::fit_index.path)))
    m.fit_index = read_exact<std::int32_t>(file, format::fit_index, uk, m.version);
  if (file.has(std::string(format::cluster_id.path))) {
    m.cluster_ids = read_exact<std::int64_t>(file, format::cluster_id, uk, m.version);
  } else {  // before 0.3: the ids are the rows
    m.cluster_ids.resize(uk);
    for (std::size_t c = 0; c < uk; ++c) m.cluster_ids[c] = static_cast<std::int64_t>(c);
  }
  std::vector<bool> seen(uk, false);
  for (const auto index : m.fit_index) {
    if (index < 0 || index >= k || seen[static_cast<std::size_t>(index)])
      throw std::runtime_error("/model/fit_index is not a permutation of 0..k-1");
    seen[static_cast<std::size_t>(index)] = true;
  }

  // ---- scores and segments
  const auto cuts = read_exact<double>(file, format::score_cut_points, feature_count * 4, m.version);
  for (std::size_t d = 0; d < feature_count; ++d)
    for (std::size_t j = 0; j < 4; ++j) m.score_cut_points[d][j] = cuts[d * 4 + j];
  const auto reference = read_exact<double>(file, format::segment_reference, feature_count, m.version);
  for (std::size_t d = 0; d < feature_count; ++d) m.segment_reference[d] = reference[d];
  m.high_value_threshold = read_exact<double>(file, format::high_value_threshold, 1, m.version)[0];

  // ---- the fit
  m.init_centroids = read_exact<double>(file, format::init_centroids, uk * feature_count, m.version);
  m.n_iter = read_exact<std::int64_t>(file, format::n_iter, 1, m.version)[0];
  m.converged = read_exact<std::int8_t>(file, format::converged, 1, m.version)[0] != 0;
  m.restart = read_exact<std::int64_t>(file, format::restart, 1, m.version)[0];
  m.silhouette = read_exact<double>(file, format::silhouette, 1, m.version)[0];
  m.calinski_harabasz = read_exact<double>(file, format::calinski_harabasz, 1, m.version)[0];
  m.davies_bouldin = read_exact<double>(file, format::davies_bouldin, 1, m.version)[0];
  m.silhouette_sample = read_exact<std::int64_t>(file, format::silhouette_sample, 1, m.version)[0];
  return m;
}

void put_double(Packer& p, double value) { p.put(std::bit_cast<std::uint64_t>(value)); }
double get_double(Unpacker& u) { return std::bit_cast<double>(u.number()); }

std::string pack(const SavedModel& m) {
  Packer p;
  p.put(m.path).put(m.version).put(m.snapshot_date).put(static_cast<std::uint64_t>(m.snapshot_day));
  p.put(m.configuration).put(m.pseudonymization_key_id);
  for (const auto& t : m.transforms) {
    p.put(static_cast<std::uint64_t>(t.kind));
    put_double(p, t.lambda);
    put_double(p, t.shift);
  }
  p.put(static_cast<std::uint64_t>(m.scale.kind)).put(static_cast<std::uint64_t>(m.scale.grid_exponent));
  for (std::size_t d = 0; d < feature_count; ++d) {
    put_double(p, m.scale.center[d]);
    put_double(p, m.scale.scale[d]);
  }
  p.put(static_cast<std::uint64_t>(m.k));
  for (double c : m.centroids) put_double(p, c);
  for (const auto& label : m.cluster_labels) p.put(label);
  p.put(m.fit_index.size());
  for (auto index : m.fit_index) p.put(static_cast<std::uint64_t>(index));
  for (auto id : m.cluster_ids) p.put(static_cast<std::uint64_t>(id));
  for (auto size : m.cluster_size) p.put(static_cast<std::uint64_t>(size));
  p.put(static_cast<std::uint64_t>(m.customers));
  for (const auto& feature : m.score_cut_points)
    for (double c : feature) put_double(p, c);
  for (double r : m.segment_reference) put_double(p, r);
  put_double(p, m.high_value_threshold);
  for (double c : m.init_centroids) put_double(p, c);
  p.put(static_cast<std::uint64_t>(m.n_iter)).put(m.converged ? 1 : 0).put(static_cast<std::uint64_t>(m.restart));
  put_double(p, m.silhouette);
  put_double(p, m.calinski_harabasz);
  put_double(p, m.davies_bouldin);
  p.put(static_cast<std::uint64_t>(m.silhouette_sample));
  return p.bytes();
}

SavedModel unpack(const std::string& bytes) {
  Unpacker u(bytes);
  SavedModel m;
  m.path = u.text();
  m.version = u.text();
  m.snapshot_date = u.text();
  m.snapshot_day = static_cast<std::int32_t>(u.number());
  m.configuration = u.text();
  m.pseudonymization_key_id = u.text();
  for (auto& t : m.transforms) {
    t.kind = static_cast<Transform>(u.number());
    t.lambda = get_double(u);
    t.shift = get_double(u);
  }
  m.scale.kind = static_cast<Scaler>(u.number());
  m.scale.grid_exponent = static_cast<int>(static_cast<std::int64_t>(u.number()));
  for (std::size_t d = 0; d < feature_count; ++d) {
    m.scale.center[d] = get_double(u);
    m.scale.scale[d] = get_double(u);
  }
  m.k = static_cast<int>(u.number());
  const auto k = static_cast<std::size_t>(m.k);
  m.centroids.resize(k * feature_count);
  for (double& c : m.centroids) c = get_double(u);
  m.cluster_labels.resize(k);
  for (auto& label : m.cluster_labels) label = u.text();
  m.fit_index.resize(u.number());
  for (auto& index : m.fit_index) index = static_cast<std::int32_t>(u.number());
  m.cluster_ids.resize(k);
  for (auto& id : m.cluster_ids) id = static_cast<std::int64_t>(u.number());
  m.cluster_size.resize(k);
  for (auto& size : m.cluster_size) size = static_cast<std::int64_t>(u.number());
  m.customers = static_cast<std::int64_t>(u.number());
  for (auto& feature : m.score_cut_points)
    for (double& c : feature) c = get_double(u);
  for (double& r : m.segment_reference) r = get_double(u);
  m.high_value_threshold = get_double(u);
  m.init_centroids.resize(k * feature_count);
  for (double& c : m.init_centroids) c = get_double(u);
  m.n_iter = static_cast<std::int64_t>(u.number());
  m.converged = u.number() != 0;
  m.restart = static_cast<std::int64_t>(u.number());
  m.silhouette = get_double(u);
  m.calinski_harabasz = get_double(u);
  m.davies_bouldin = get_double(u);
  m.silhouette_sample = static_cast<std::int64_t>(u.number());
  if (!u.done()) throw std::logic_error("saved model: trailing bytes in the broadcast");
  return m;
}

// Rank 0's finding, the same on every rank: "" or the problem.
std::string agreed(const mpi::Comm& comm, std::string problem) {
  mpi::broadcast(comm, problem);
  return problem;
}

[[noreturn]] void refuse(const std::string& path, const std::string& problem) {
  throw AgreedError("model file '" + path + "' " + problem, 1);
}

}  // namespace

SavedModel load_saved_model(const mpi::Comm& comm, const std::string& path) {
  // 1. It exists and is a regular file (rank 0 looks; every rank hears the same).
  std::string problem;
  if (comm.is_root()) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      problem = std::string("cannot be opened: ") + std::strerror(errno);
    else if (!S_ISREG(st.st_mode))
      problem = "is not a regular file";
  }
  problem = agreed(comm, problem);
  if (!problem.empty()) refuse(path, problem);

  // 2. Intact: every dataset's and every object's checksum, as `rfmseg verify` and the writer's
  // read-back check them (collective; the same report on every rank).
  const IntegrityReport integrity = check_integrity(comm, path);
  if (!integrity.ok()) {
    if (integrity.datasets == 0)
      refuse(path, "is not an rfmseg result (not a readable HDF5 file: " + integrity.problems.front() + ")");
    std::string list;
    for (std::size_t i = 0; i < integrity.problems.size() && i < 3; ++i)
      list += (i ? "; " : "") + integrity.problems[i];
    if (integrity.problems.size() > 3) list += "; ...";
    refuse(path, "is damaged (" + list + "); `rfmseg verify " + path + "` lists every problem");
  }

  // 3. The parameters.
  return read_saved_model(comm, path, "model file '" + path + "'", true);
}

SavedModel read_saved_model(const mpi::Comm& comm, const std::string& path, const std::string& refusal,
                            bool fit_index_required) {
  // Rank 0 reads them (a few hundred bytes) and broadcasts them exactly.
  std::string bytes, problem;
  if (comm.is_root()) {
    try {
      bytes = pack(read_model(path, fit_index_required));
    } catch (const Missing& missing) {
      problem = missing.what() + std::string(": it cannot be used as a model (write it again with this rfmseg)");
    } catch (const std::exception& error) {
      problem = error.what();
    }
  }
  problem = agreed(comm, problem);
  if (!problem.empty()) throw AgreedError(refusal + " " + problem, 1);
  mpi::broadcast(comm, bytes);
  return unpack(bytes);
}

}  // namespace rfmseg
