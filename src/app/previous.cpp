#include "rfmseg/app/previous.hpp"

#include <algorithm>
#include <cstring>
#include <span>

#include "rfmseg/app/segmentation.hpp"
#include "rfmseg/core/date.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/names.hpp"
#include "rfmseg/io/h5.hpp"
#include "rfmseg/io/integrity.hpp"
#include "rfmseg/io/result_format.hpp"
#include "rfmseg/model/scores.hpp"
#include "rfmseg/model/transform.hpp"
#include "rfmseg/parallel/reduce.hpp"
#include "rfmseg/parallel/select.hpp"

namespace rfmseg {

namespace {

namespace format = result_format;

std::string quoted(const std::string& path) { return "'" + path + "'"; }

std::string transform_kinds(std::span<const Transform, feature_count> kinds) {
  std::string text;
  for (std::size_t d = 0; d < feature_count; ++d) text += std::string(d ? "," : "") + transform_name(kinds[d]);
  return text;
}

// Rank 0, before the model is read: a result with customers to join, of the same features.
void check_result(const std::string& path) {
  const h5::File file = h5::File::open_read(path);
  for (const char* needed : {"run", "model/transform", "customers/customer_id", "customers/cluster",
                             "customers/segment", "customers/monetary", "customers/recency", "customers/frequency"})
    if (!file.has(needed))
      throw InputError("--previous " + quoted(path) + " is not an rfmseg result (no /" + needed + ")");
  const std::string features = h5::read_string_attribute(h5::open_object(file, "model/transform"), "features");
  if (features != "recency,frequency,monetary")
    throw InputError("--previous " + quoted(path) + " has the features " + features +
                     ", not recency,frequency,monetary");
}

// Yesterday's model against tonight's configuration: the same transforms, scaler, customer ids and
// (with a fixed --k) k.
void check_comparable(const SavedModel& model, const RunConfig& config) {
  const std::string& path = model.path;
  std::array<Transform, feature_count> kinds{};
  for (std::size_t d = 0; d < feature_count; ++d) kinds[d] = model.transforms[d].kind;
  const std::string kinds_text = transform_kinds(kinds), scaler(name_of(model.scale.kind));
  const std::string tonight_kinds = transform_kinds(config.model.transform);
  const std::string tonight_scaler(name_of(config.model.scaler));
  if (kinds_text != tonight_kinds || scaler != tonight_scaler)
    throw InputError("--previous " + quoted(path) + " was fitted with the transforms " + kinds_text + " and the " +
                     scaler + " scaler; tonight's configuration has " + tonight_kinds + " and " + tonight_scaler +
                     ": the two models are not comparable (set --transform-recency/-frequency/-monetary and "
                     "--scaler as in the previous run, or run without --previous)");
  const std::string& key_id = model.pseudonymization_key_id;
  if (key_id != config.input.pseudonym_key_id)
    throw InputError(
        "--previous " + quoted(path) + " has customer ids " +
        (key_id.empty() ? std::string("as read") : "pseudonymized with the key " + key_id) + ", tonight's are " +
        (config.input.pseudonym_key_id.empty() ? std::string("as read")
                                               : "pseudonymized with the key " + config.input.pseudonym_key_id) +
        ": the same customer would not match; use the same --pseudonymize-key");
  const bool fixed_k = config.model.k_select == KSelect::none;
  if (fixed_k && model.k != config.model.k)
    throw InputError("--previous " + quoted(path) + " has k = " + std::to_string(model.k) + " clusters, this run --k " +
                     std::to_string(config.model.k) +
                     ": a warm start and stable cluster ids need the same k (use --k " + std::to_string(model.k) +
                     ", or --k-select to let the data choose: the warm start then applies " + "only when it chooses " +
                     std::to_string(model.k) + ")");
}

// The rank holding `id` tonight: the last non-empty rank whose first id is <= id (ids below every
// first id go to the first non-empty rank).
class RangeOwners {
 public:
  RangeOwners(const mpi::Comm& comm, const CustomerTable& customers) {
    const std::string first = customers.size() > 0 ? customers.id.front() : std::string();
    const auto firsts = mpi::allgather_strings(comm, first);
    const auto sizes = mpi::allgather<std::uint64_t>(comm, customers.size());
    for (std::size_t r = 0; r < firsts.size(); ++r)
      if (sizes[r] > 0) {
        _first.push_back(firsts[r]);
        _rank.push_back(static_cast<int>(r));
      }
  }
  [[nodiscard]] int owner(const std::string& id) const {
    const auto after = std::upper_bound(_first.begin(), _first.end(), id);
    const auto index = after == _first.begin() ? 0 : static_cast<std::size_t>(after - _first.begin()) - 1;
    return _rank.at(index);
  }

 private:
  std::vector<std::string> _first;
  std::vector<int> _rank;
};

// A routed previous row: the id, then cluster (int32), segment (int8), monetary (double).
void append_row(std::string& out, const std::string& id, std::int32_t cluster, std::int8_t segment, double monetary) {
  const auto length = static_cast<std::uint32_t>(id.size());
  out.append(reinterpret_cast<const char*>(&length), sizeof length);
  out.append(id);
  out.append(reinterpret_cast<const char*>(&cluster), sizeof cluster);
  out.append(reinterpret_cast<const char*>(&segment), sizeof segment);
  out.append(reinterpret_cast<const char*>(&monetary), sizeof monetary);
}

}  // namespace

PreviousResult open_previous(const mpi::Comm& comm, const std::string& path, const RunConfig& config) {
  const IntegrityReport integrity = check_integrity(comm, path);
  if (!integrity.ok())
    throw AgreedError("--previous " + quoted(path) + " cannot be used: " + integrity.problems.front() +
                          (integrity.problems.size() > 1
                               ? " (and " + std::to_string(integrity.problems.size() - 1) + " more problems)"
                               : std::string()) +
                          "; check it with `rfmseg verify`, or run without --previous (RFMSEG_PREVIOUS=none)",
                      1);
  collectively(comm, [&] {
    if (comm.is_root()) check_result(path);
  });
  PreviousResult previous;
  previous.model = read_saved_model(comm, path, "--previous " + quoted(path) + " cannot be used:", false);
  collectively(comm, [&] {
    if (comm.is_root()) check_comparable(previous.model, config);
  });
  return previous;
}

std::array<std::array<double, feature_count>, 4> drift_parameters(
    const std::array<TransformParams, feature_count>& transforms, const ScaleParams& scale) {
  std::array<std::array<double, feature_count>, 4> out{};
  for (std::size_t d = 0; d < feature_count; ++d) {
    out[0][d] = transforms[d].lambda;
    out[1][d] = transforms[d].shift;
    out[2][d] = scale.center[d];
    out[3][d] = scale.scale[d];
  }
  return out;
}

void join_previous(const mpi::Comm& comm, const CustomerStage& stage, PreviousResult& previous) {
  const SavedModel& model = previous.model;
  if (model.snapshot_day > stage.snapshot)
    throw AgreedError("--previous " + quoted(model.path) + " is as of " + model.snapshot_date +
                          ", after tonight's snapshot " + format_day(stage.snapshot) +
                          ": a previous result must not be newer than the run it is compared with",
                      1);
  const CustomerTable& customers = stage.customers;
  // Each rank reads an even block of the previous rows.
  const auto ranks = static_cast<std::uint64_t>(comm.size());
  const auto rank = static_cast<std::uint64_t>(comm.rank());
  const auto n = static_cast<std::uint64_t>(model.customers);
  const std::uint64_t first = n * rank / ranks, count = n * (rank + 1) / ranks - first;
  std::vector<std::string> ids;
  std::vector<std::int32_t> cluster, recency;
  std::vector<std::int8_t> segment;
  std::vector<std::int64_t> frequency;
  std::vector<double> monetary;
  collectively(comm, [&] {
    const h5::File file = h5::File::open_read(model.path);
    ids = h5::read_string_rows(file, std::string(format::customer_id.path), first, count);
    cluster = h5::read_rows<std::int32_t>(file, std::string(format::cluster.path), first, count);
    segment = h5::read_rows<std::int8_t>(file, std::string(format::segment.path), first, count);
    monetary = h5::read_rows<double>(file, std::string(format::monetary.path), first, count);
    recency = h5::read_rows<std::int32_t>(file, std::string(format::recency.path), first, count);
    frequency = h5::read_rows<std::int64_t>(file, std::string(format::frequency.path), first, count);
    if (ids.size() != count || cluster.size() != count || segment.size() != count || monetary.size() != count ||
        recency.size() != count || frequency.size() != count)
      throw InputError("--previous " + quoted(model.path) + ": /customers columns differ in length");
    for (auto c : cluster)
      if (c < 0 || c >= model.k)
        throw InputError("--previous " + quoted(model.path) + ": /customers/cluster outside 0..k-1");
    for (auto s : segment)
      if (s < 0 || static_cast<std::uint64_t>(s) >= format::segment_count)
        throw InputError("--previous " + quoted(model.path) + ": /customers/segment outside the segment table");
  });

  // Yesterday's means and deciles, from the blocks (any partition gives the same).
  std::array<std::vector<double>, feature_count> column;
  column[0].assign(recency.begin(), recency.end());
  column[1].assign(frequency.begin(), frequency.end());
  column[2] = monetary;
  std::array<std::vector<std::uint64_t>, feature_count> keys;
  std::vector<SelectionQuery> queries;
  for (std::size_t d = 0; d < feature_count; ++d) {
    previous.mean[d] = global_sum(comm, column[d]) / static_cast<double>(n);
    for (double v : column[d]) keys[d].push_back(order_key(v));
    std::sort(keys[d].begin(), keys[d].end());
    SelectionQuery query{keys[d], {}};
    for (std::uint64_t q = 1; q < psi_bins; ++q) query.ranks.push_back(std::max<std::uint64_t>(1, (q * n + 9) / 10));
    queries.push_back(std::move(query));
  }
  const auto selected = global_select(comm, queries);
  for (std::size_t d = 0; d < feature_count; ++d) {
    for (std::size_t q = 0; q + 1 < psi_bins; ++q) previous.decile_edges[d][q] = decode_double(selected[d][q]);
    std::array<std::int64_t, psi_bins> counts{};
    for (double v : column[d]) ++counts[psi_bin(previous.decile_edges[d], v)];
    const auto total = mpi::allreduce(comm, std::vector<std::int64_t>(counts.begin(), counts.end()), mpi::Op::sum);
    std::copy(total.begin(), total.end(), previous.bin_counts[d].begin());
  }

  // Every previous row to the rank holding its id range tonight.
  const RangeOwners owners(comm, customers);
  std::vector<std::string> outgoing(static_cast<std::size_t>(comm.size()));
  for (std::size_t i = 0; i < ids.size(); ++i)
    append_row(outgoing[static_cast<std::size_t>(owners.owner(ids[i]))], ids[i], cluster[i], segment[i], monetary[i]);
  std::string send;
  std::vector<std::size_t> send_counts;
  for (const auto& part : outgoing) {
    send += part;
    send_counts.push_back(part.size());
  }
  const std::vector<char> received =
      mpi::alltoallv<char>(comm, std::span<const char>(send.data(), send.size()), send_counts);

  previous.cluster.assign(customers.size(), -1);
  previous.segment.assign(customers.size(), -1);
  previous.gone_cluster.clear();
  previous.gone_segment.clear();
  previous.gone_monetary.clear();
  std::size_t pos = 0;
  while (pos < received.size()) {
    std::uint32_t length = 0;
    std::memcpy(&length, received.data() + pos, sizeof length);
    pos += sizeof length;
    const std::string id(received.data() + pos, length);
    pos += length;
    std::int32_t c = 0;
    std::int8_t s = 0;
    double m = 0;
    std::memcpy(&c, received.data() + pos, sizeof c);
    pos += sizeof c;
    std::memcpy(&s, received.data() + pos, sizeof s);
    pos += sizeof s;
    std::memcpy(&m, received.data() + pos, sizeof m);
    pos += sizeof m;
    const auto found = std::lower_bound(customers.id.begin(), customers.id.end(), id);
    if (found != customers.id.end() && *found == id) {
      const auto row = static_cast<std::size_t>(found - customers.id.begin());
      previous.cluster[row] = c;
      previous.segment[row] = s;
    } else {
      previous.gone_cluster.push_back(c);
      previous.gone_segment.push_back(s);
      previous.gone_monetary.push_back(m);
    }
  }
}

Comparison compare_with_previous(const mpi::Comm& comm, const CustomerStage& stage, const Segmentation& seg,
                                 const PreviousResult& previous) {
  Comparison out;
  const CustomerTable& customers = stage.customers;
  const int kp = previous.model.k, k = seg.model.k;
  out.k_prev = kp;
  out.k = k;
  const auto cols = static_cast<std::size_t>(k) + 1;
  constexpr std::size_t segs = format::segment_migration_size;
  const auto cell = [&](int from, int to) {
    return static_cast<std::int32_t>(static_cast<std::size_t>(from) * cols + static_cast<std::size_t>(to));
  };
  const auto segment_cell = [&](int from, int to) {
    return static_cast<std::int32_t>(static_cast<std::size_t>(from) * segs + static_cast<std::size_t>(to));
  };
  const int other = static_cast<int>(segs) - 1;  // new (row) / gone (column)
  std::vector<std::int64_t> clusters(static_cast<std::size_t>(kp + 1) * cols, 0), segments(segs * segs, 0);
  std::vector<double> values;
  std::vector<std::int32_t> cluster_cells, segment_cells;
  std::int64_t changed_cluster = 0, changed_segment = 0;
  for (std::size_t i = 0; i < customers.size(); ++i) {
    const int from = previous.cluster[i] < 0 ? kp : previous.cluster[i];
    const int from_segment = previous.segment[i] < 0 ? other : previous.segment[i];
    const int to = seg.labels[i], to_segment = seg.scores.segment[i];
    cluster_cells.push_back(cell(from, to));
    segment_cells.push_back(segment_cell(from_segment, to_segment));
    values.push_back(customers.monetary[i]);
    if (previous.cluster[i] >= 0) {
      changed_cluster += previous.model.cluster_ids[static_cast<std::size_t>(previous.cluster[i])] !=
                                 seg.cluster_ids[static_cast<std::size_t>(to)]
                             ? 1
                             : 0;
      changed_segment += previous.segment[i] != to_segment ? 1 : 0;
    }
  }
  for (std::size_t g = 0; g < previous.gone_cluster.size(); ++g) {
    cluster_cells.push_back(cell(previous.gone_cluster[g], k));
    segment_cells.push_back(segment_cell(previous.gone_segment[g], other));
    values.push_back(previous.gone_monetary[g]);
  }
  for (auto c : cluster_cells) ++clusters[static_cast<std::size_t>(c)];
  for (auto c : segment_cells) ++segments[static_cast<std::size_t>(c)];
  out.clusters = mpi::allreduce(comm, std::move(clusters), mpi::Op::sum);
  out.segments = mpi::allreduce(comm, std::move(segments), mpi::Op::sum);
  out.clusters_revenue = global_grouped_sum(comm, values, cluster_cells, static_cast<int>(out.clusters.size()));
  out.segments_revenue = global_grouped_sum(comm, values, segment_cells, static_cast<int>(out.segments.size()));
  const auto changed = mpi::allreduce(comm, std::vector<std::int64_t>{changed_cluster, changed_segment}, mpi::Op::sum);
  out.changed_cluster = changed[0];
  out.changed_segment = changed[1];

  // The common customers' table [k_prev, k], then the counts, the ARI and the fates.
  std::vector<std::int64_t> common(static_cast<std::size_t>(kp) * static_cast<std::size_t>(k));
  for (int i = 0; i < kp; ++i)
    for (int j = 0; j < k; ++j) {
      const std::int64_t c = out.clusters[static_cast<std::size_t>(cell(i, j))];
      common[static_cast<std::size_t>(i) * static_cast<std::size_t>(k) + static_cast<std::size_t>(j)] = c;
      out.stayed += c;
    }
  for (int j = 0; j < k; ++j) out.added += out.clusters[static_cast<std::size_t>(cell(kp, j))];
  for (int i = 0; i < kp; ++i) out.gone += out.clusters[static_cast<std::size_t>(cell(i, k))];
  out.ari = adjusted_rand_index(common, kp, k);
  out.fates = cluster_fates(common, kp, k);

  // Drift: tonight's customers in yesterday's decile bins.
  for (std::size_t d = 0; d < feature_count; ++d) {
    std::array<std::int64_t, psi_bins> counts{};
    for (std::size_t i = 0; i < customers.size(); ++i) {
      const double v = d == 0   ? static_cast<double>(customers.recency[i])
                       : d == 1 ? static_cast<double>(customers.frequency[i])
                                : customers.monetary[i];
      ++counts[psi_bin(previous.decile_edges[d], v)];
    }
    const auto total = mpi::allreduce(comm, std::vector<std::int64_t>(counts.begin(), counts.end()), mpi::Op::sum);
    std::copy(total.begin(), total.end(), out.bin_counts[d].begin());
    out.psi[d] = population_stability(previous.bin_counts[d], out.bin_counts[d]);
  }
  out.warm_start = seg.warm_start;
  return out;
}

}  // namespace rfmseg
