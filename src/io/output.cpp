#include "rfmseg/io/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/io/integrity.hpp"
#include "rfmseg/app/pipeline.hpp"

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
    const std::string dir = _final.find('/') == std::string::npos ? "." : _final.substr(0, _final.find_last_of('/') + 1);
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  });
  _committed = true;
}

namespace {
std::uint64_t id_width(const mpi::Comm& comm, const CustomerTable& table) {
  std::uint64_t width = 1;
  for (const auto& id : table.id) width = std::max<std::uint64_t>(width, id.size());
  return mpi::allreduce(comm, width, mpi::Op::max);
}
}  // namespace

std::uint64_t result_data_bytes(const mpi::Comm& comm, const CustomerTable& table) {
  // Per customer: id, recency 4, frequency 8, monetary 8, flag 1, features 24, cluster 4,
  // scores 3, rfm_sum and rfm_code 8, segment 1, high_value 1.
  const std::uint64_t n = mpi::allreduce(comm, static_cast<std::uint64_t>(table.size()), mpi::Op::sum);
  return n * (id_width(comm, table) + 62);
}

void write_customers(const ResultFile& result, const mpi::Comm& comm, const CustomerTable& table) {
  const auto rows = h5::Rows::distributed(comm, table.size());
  const std::uint64_t width = id_width(comm, table);
  const h5::Group customers = result.group("customers");
  h5::write_strings(customers, "customer_id", table.id, rows, width);
  h5::write_rows<std::int32_t>(customers, "recency", table.recency, rows);
  h5::write_rows<std::int64_t>(customers, "frequency", table.frequency, rows);
  h5::write_rows<double>(customers, "monetary", table.monetary, rows);
  // README "RFM": customers whose Monetary ends <= 0 (returns netted against purchases) are kept, flagged.
  std::vector<std::int8_t> nonpositive(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) nonpositive[i] = table.monetary_micros[i] <= 0 ? 1 : 0;
  h5::write_rows<std::int8_t>(customers, "nonpositive_monetary", nonpositive, rows);
}

void write_model(const ResultFile& result, const mpi::Comm& comm, const Segmentation& seg) {
  const std::uint64_t k = static_cast<std::uint64_t>(seg.model.k);
  const auto rows = h5::Rows::distributed(comm, seg.features.size());
  const auto row_major = seg.features.row_major();
  h5::write_rows<double>(result.file(), "customers/features", row_major, rows, feature_count);
  h5::write_rows<std::int32_t>(result.file(), "customers/cluster", seg.labels, rows);
  h5::write_rows<std::int8_t>(result.file(), "customers/r_score", seg.scores.r_score, rows);
  h5::write_rows<std::int8_t>(result.file(), "customers/f_score", seg.scores.f_score, rows);
  h5::write_rows<std::int8_t>(result.file(), "customers/m_score", seg.scores.m_score, rows);
  std::vector<std::int32_t> rfm_sum(seg.scores.rfm_sum.begin(), seg.scores.rfm_sum.end());
  std::vector<std::int32_t> rfm_code(seg.scores.rfm_code.begin(), seg.scores.rfm_code.end());
  h5::write_rows<std::int32_t>(result.file(), "customers/rfm_sum", rfm_sum, rows);
  h5::write_rows<std::int32_t>(result.file(), "customers/rfm_code", rfm_code, rows);
  h5::write_rows<std::int8_t>(result.file(), "customers/segment", seg.scores.segment, rows);
  h5::write_rows<std::int8_t>(result.file(), "customers/high_value", seg.scores.high_value, rows);

  const h5::Group segments = result.group("segments");
  const auto& segment_names = classic_segment_names();
  const std::uint64_t ns = segment_names.size();
  h5::write_strings_replicated(segments, "name", std::vector<std::string>(segment_names.begin(), segment_names.end()));
  h5::write_replicated<std::int64_t>(segments, "count", seg.segments.count, {ns});
  h5::write_replicated<double>(segments, "share", seg.segments.share, {ns});
  h5::write_replicated<double>(segments, "mean_recency", seg.segments.mean_recency, {ns});
  h5::write_replicated<double>(segments, "mean_frequency", seg.segments.mean_frequency, {ns});
  h5::write_replicated<double>(segments, "mean_monetary", seg.segments.mean_monetary, {ns});
  h5::write_replicated<double>(segments, "revenue_share", seg.segments.revenue_share, {ns});
  std::vector<double> cut_points;
  for (const auto& feature : seg.scores.cut_points) cut_points.insert(cut_points.end(), feature.begin(), feature.end());
  h5::write_replicated<double>(segments, "score_cut_points", cut_points, {3, 4});
  h5::write_replicated<double>(segments, "reference", seg.scores.reference, {3});
  h5::write_scalar<double>(segments, "high_value_threshold", seg.scores.high_value_threshold);

  const h5::Group model = result.group("model");
  h5::write_scalar<std::int64_t>(model, "k", seg.model.k);
  h5::write_replicated<double>(model, "centroids", seg.model.centroids, {k, feature_count});
  h5::write_replicated<double>(model, "init_centroids", seg.model.init_centroids, {k, feature_count});
  std::vector<double> centroids_rfm(k * feature_count);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t d = 0; d < feature_count; ++d) centroids_rfm[c * feature_count + d] = seg.profile.mean[d][c];
  h5::write_replicated<double>(model, "centroids_rfm", centroids_rfm, {k, feature_count});
  h5::write_replicated<std::int64_t>(model, "cluster_size", seg.model.sizes, {k});
  h5::write_strings_replicated(model, "cluster_label", seg.cluster_labels);
  h5::write_scalar<double>(model, "inertia", seg.model.inertia);
  h5::write_scalar<std::int64_t>(model, "n_iter", seg.model.n_iter);
  h5::write_scalar<std::int8_t>(model, "converged", seg.model.converged ? 1 : 0);
  h5::write_scalar<std::int64_t>(model, "restart", seg.model.restart);
  h5::write_scalar<double>(model, "silhouette", seg.metrics.silhouette);
  h5::write_scalar<double>(model, "calinski_harabasz", seg.metrics.calinski_harabasz);
  h5::write_scalar<double>(model, "davies_bouldin", seg.metrics.davies_bouldin);
  h5::write_scalar<std::int64_t>(model, "silhouette_sample", seg.metrics.silhouette_sample);

  if (!seg.sweep.k.empty()) {
    const h5::Group selection = result.group("selection");
    const std::uint64_t m = seg.sweep.k.size();
    std::vector<std::int64_t> ks(seg.sweep.k.begin(), seg.sweep.k.end());
    h5::write_replicated<std::int64_t>(selection, "k", ks, {m});
    h5::write_replicated<double>(selection, "sse", seg.sweep.sse, {m});
    h5::write_replicated<double>(selection, "silhouette", seg.sweep.silhouette, {m});
    h5::write_replicated<double>(selection, "calinski_harabasz", seg.sweep.calinski_harabasz, {m});
    h5::write_replicated<double>(selection, "davies_bouldin", seg.sweep.davies_bouldin, {m});
    h5::write_replicated<std::int64_t>(selection, "n_iter", seg.sweep.n_iter, {m});
    h5::write_attribute(selection, "rule", seg.sweep.rule);
    h5::write_attribute(selection, "chosen_k", static_cast<std::int64_t>(seg.sweep.chosen_k));
  }

  const h5::Group profile = result.group("model/profile");
  h5::write_replicated<double>(profile, "share", seg.profile.share, {k});
  h5::write_replicated<double>(profile, "revenue_share", seg.profile.revenue_share, {k});
  const std::pair<const char*, const std::array<std::vector<double>, feature_count>*> stats[] = {
      {"mean", &seg.profile.mean}, {"std", &seg.profile.std}, {"min", &seg.profile.min}, {"max", &seg.profile.max}};
  for (const auto& [name, table] : stats) {
    std::vector<double> values(k * feature_count);
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t d = 0; d < feature_count; ++d) values[c * feature_count + d] = (*table)[d][c];
    h5::write_replicated<double>(profile, name, values, {k, feature_count});
  }

  // Everything needed to score a new customer: x -> transform(x + shift) -> (x - center) / scale.
  const h5::Group transform = result.group("model/transform");
  static constexpr const char* names[] = {"recency", "frequency", "monetary"};
  std::vector<double> lambda, shift;
  std::string kinds;
  for (std::size_t d = 0; d < feature_count; ++d) {
    lambda.push_back(seg.transforms[d].lambda);
    shift.push_back(seg.transforms[d].shift);
    kinds += std::string(d ? "," : "") + transform_name(seg.transforms[d].kind);
    h5::write_attribute(transform, std::string("kind_") + names[d], std::string(transform_name(seg.transforms[d].kind)));
  }
  h5::write_replicated<double>(transform, "lambda", lambda, {feature_count});
  h5::write_replicated<double>(transform, "shift", shift, {feature_count});
  h5::write_replicated<double>(transform, "center", seg.scale.center, {feature_count});
  h5::write_replicated<double>(transform, "scale", seg.scale.scale, {feature_count});
  h5::write_attribute(transform, "kinds", kinds);
  h5::write_attribute(transform, "scaler", std::string(seg.scale.kind == Scaler::standard ? "standard" : "minmax"));
  h5::write_attribute(transform, "grid_exponent", static_cast<std::int64_t>(seg.scale.grid_exponent));
  h5::write_attribute(transform, "features", std::string("recency,frequency,monetary"));
}

}  // namespace rfmseg
