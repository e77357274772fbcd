#include "rfmseg/app/previous.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>

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

std::int32_t parse_date(const std::string& text) {
  int year = 0;
  unsigned month = 0, day = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%d-%u-%u%c", &year, &month, &day, &tail) != 3 || month < 1 || month > 12 || day < 1 ||
      day > 31)
    throw InputError("snapshot date '" + text + "' is not YYYY-MM-DD");
  return days_from_civil(year, month, day);
}

std::string transform_kinds(const ModelConfig& config) {
  std::string kinds;
  for (std::size_t d = 0; d < feature_count; ++d)
    kinds += std::string(d ? "," : "") + transform_name(config.transform[d]);
  return kinds;
}

// Rank 0's reading of the model summary, broadcast as one string so every rank holds the same.
void read_summary(const std::string& path, const RunConfig& config, PreviousResult& out) {
  const h5::File file = h5::File::open_read(path);
  for (const char* needed : {"run", "model/transform", "customers/customer_id", "customers/cluster",
                             "customers/segment", "customers/monetary", "customers/recency", "customers/frequency"})
    if (!file.has(needed))
      throw InputError("--previous " + quoted(path) + " is not an rfmseg result (no /" + needed + ")");
  const h5::Group run = h5::open_object(file, "run");
  const h5::Group transform = h5::open_object(file, "model/transform");
  out.snapshot_date = h5::read_string_attribute(run, "snapshot_date");
  out.snapshot_day = parse_date(out.snapshot_date);
  out.customers = static_cast<std::uint64_t>(h5::read_int_attribute(run, "customers"));
  const std::string features = h5::read_string_attribute(transform, "features");
  if (features != "recency,frequency,monetary")
    throw InputError("--previous " + quoted(path) + " has the features " + features +
                     ", not recency,frequency,monetary");
  out.grid_exponent = static_cast<int>(h5::read_int_attribute(transform, "grid_exponent"));
  const std::string kinds = h5::read_string_attribute(transform, "kinds");
  const std::string scaler = h5::read_string_attribute(transform, "scaler");
  const std::string tonight_kinds = transform_kinds(config.model);
  const std::string tonight_scaler(name_of(config.model.scaler));
  if (kinds != tonight_kinds || scaler != tonight_scaler)
    throw InputError("--previous " + quoted(path) + " was fitted with the transforms " + kinds + " and the " + scaler +
                     " scaler; tonight's configuration has " + tonight_kinds + " and " + tonight_scaler +
                     ": the two models are not comparable (set --transform-recency/-frequency/-monetary and "
                     "--scaler as in the previous run, or run without --previous)");
  const std::string key_id = h5::has_attribute(run, "pseudonymization_key_id")
                                 ? h5::read_string_attribute(run, "pseudonymization_key_id")
                                 : std::string();
  if (key_id != config.input.pseudonym_key_id)
    throw InputError(
        "--previous " + quoted(path) + " has customer ids " +
        (key_id.empty() ? std::string("as read") : "pseudonymized with the key " + key_id) + ", tonight's are " +
        (config.input.pseudonym_key_id.empty() ? std::string("as read")
                                               : "pseudonymized with the key " + config.input.pseudonym_key_id) +
        ": the same customer would not match; use the same --pseudonymize-key");
  out.k = static_cast<int>(h5::read<std::int64_t>(file, std::string(format::model_k.path)).at(0));
  const bool fixed_k = config.model.k_select == KSelect::none;
  if (fixed_k && out.k != config.model.k)
    throw InputError("--previous " + quoted(path) + " has k = " + std::to_string(out.k) + " clusters, this run --k " +
                     std::to_string(config.model.k) +
                     ": a warm start and stable cluster ids need the same k (use --k " + std::to_string(out.k) +
                     ", or --k-select to let the data choose: the warm start then applies " + "only when it chooses " +
                     std::to_string(out.k) + ")");
  out.centroids = h5::read<double>(file, std::string(format::centroids.path));
  out.cluster_labels = h5::read_strings(file, std::string(format::cluster_label.path));
  out.cluster_size = h5::read<std::int64_t>(file, std::string(format::cluster_size.path));
  if (file.has(std::string(format::cluster_id.path))) {
    out.cluster_id = h5::read<std::int64_t>(file, std::string(format::cluster_id.path));
  } else {  // written before 0.3: ids are the row indices
    out.cluster_id.resize(static_cast<std::size_t>(out.k));
    std::iota(out.cluster_id.begin(), out.cluster_id.end(), 0);
  }
  const auto k = static_cast<std::size_t>(out.k);
  if (out.centroids.size() != k * feature_count || out.cluster_labels.size() != k || out.cluster_size.size() != k ||
      out.cluster_id.size() != k)
    throw InputError("--previous " + quoted(path) +
                     ": /model has tables of other sizes than k = " + std::to_string(out.k));
  const format::Dataset* parameters[] = {&format::transform_lambda, &format::transform_shift, &format::transform_center,
                                         &format::transform_scale};
  for (std::size_t p = 0; p < 4; ++p) {
    const auto values = h5::read<double>(file, std::string(parameters[p]->path));
    if (values.size() != feature_count)
      throw InputError("--previous " + quoted(path) + ": /" + std::string(parameters[p]->path) + " is not [3]");
    std::copy(values.begin(), values.end(), out.parameters[p].begin());
  }
}

// The summary travels as packed text: one broadcast instead of one per field.
std::string pack_summary(const PreviousResult& p) {
  std::string bytes;
  const auto put = [&](const void* data, std::size_t size) {
    const auto n = static_cast<std::uint64_t>(size);
    bytes.append(reinterpret_cast<const char*>(&n), sizeof n);
    bytes.append(static_cast<const char*>(data), size);
  };
  put(p.snapshot_date.data(), p.snapshot_date.size());
  put(&p.snapshot_day, sizeof p.snapshot_day);
  put(&p.customers, sizeof p.customers);
  put(&p.k, sizeof p.k);
  put(&p.grid_exponent, sizeof p.grid_exponent);
  put(p.cluster_id.data(), p.cluster_id.size() * sizeof(std::int64_t));
  put(p.cluster_size.data(), p.cluster_size.size() * sizeof(std::int64_t));
  put(p.centroids.data(), p.centroids.size() * sizeof(double));
  put(p.parameters.data(), sizeof p.parameters);
  for (const auto& label : p.cluster_labels) put(label.data(), label.size());
  return bytes;
}

void unpack_summary(const std::string& bytes, PreviousResult& p) {
  std::size_t pos = 0;
  const auto take = [&]() {
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data() + pos, sizeof n);
    pos += sizeof n;
    std::string part = bytes.substr(pos, n);
    pos += n;
    return part;
  };
  const auto into = [&](void* data, std::size_t size) {
    const std::string part = take();
    std::memcpy(data, part.data(), std::min(size, part.size()));
  };
  p.snapshot_date = take();
  into(&p.snapshot_day, sizeof p.snapshot_day);
  into(&p.customers, sizeof p.customers);
  into(&p.k, sizeof p.k);
  into(&p.grid_exponent, sizeof p.grid_exponent);
  const auto k = static_cast<std::size_t>(p.k);
  p.cluster_id.resize(k);
  p.cluster_size.resize(k);
  p.centroids.resize(k * feature_count);
  into(p.cluster_id.data(), k * sizeof(std::int64_t));
  into(p.cluster_size.data(), k * sizeof(std::int64_t));
  into(p.centroids.data(), k * feature_count * sizeof(double));
  into(p.parameters.data(), sizeof p.parameters);
  p.cluster_labels.clear();
  for (std::size_t c = 0; c < k; ++c) p.cluster_labels.push_back(take());
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
  PreviousResult previous;
  previous.path = path;
  const IntegrityReport integrity = check_integrity(comm, path);
  if (!integrity.ok())
    throw AgreedError("--previous " + quoted(path) + " cannot be used: " + integrity.problems.front() +
                          (integrity.problems.size() > 1
                               ? " (and " + std::to_string(integrity.problems.size() - 1) + " more problems)"
                               : std::string()) +
                          "; check it with `rfmseg verify`, or run without --previous (RFMSEG_PREVIOUS=none)",
                      1);
  std::string packed;
  collectively(comm, [&] {
    if (!comm.is_root()) return;
    read_summary(path, config, previous);
    packed = pack_summary(previous);
  });
  mpi::broadcast(comm, packed);
  unpack_summary(packed, previous);
  return previous;
}

void join_previous(const mpi::Comm& comm, const CustomerStage& stage, PreviousResult& previous) {
  if (previous.snapshot_day > stage.snapshot)
    throw AgreedError("--previous " + quoted(previous.path) + " is as of " + previous.snapshot_date +
                          ", after tonight's snapshot " + format_day(stage.snapshot) +
                          ": a previous result must not be newer than the run it is compared with",
                      1);
  const CustomerTable& customers = stage.customers;
  // Each rank reads an even block of the previous rows.
  const auto ranks = static_cast<std::uint64_t>(comm.size());
  const auto rank = static_cast<std::uint64_t>(comm.rank());
  const std::uint64_t n = previous.customers;
  const std::uint64_t first = n * rank / ranks, count = n * (rank + 1) / ranks - first;
  std::vector<std::string> ids;
  std::vector<std::int32_t> cluster, recency;
  std::vector<std::int8_t> segment;
  std::vector<std::int64_t> frequency;
  std::vector<double> monetary;
  collectively(comm, [&] {
    const h5::File file = h5::File::open_read(previous.path);
    ids = h5::read_string_rows(file, std::string(format::customer_id.path), first, count);
    cluster = h5::read_rows<std::int32_t>(file, std::string(format::cluster.path), first, count);
    segment = h5::read_rows<std::int8_t>(file, std::string(format::segment.path), first, count);
    monetary = h5::read_rows<double>(file, std::string(format::monetary.path), first, count);
    recency = h5::read_rows<std::int32_t>(file, std::string(format::recency.path), first, count);
    frequency = h5::read_rows<std::int64_t>(file, std::string(format::frequency.path), first, count);
    if (ids.size() != count || cluster.size() != count || segment.size() != count || monetary.size() != count ||
        recency.size() != count || frequency.size() != count)
      throw InputError("--previous " + quoted(previous.path) + ": /customers columns differ in length");
    for (auto c : cluster)
      if (c < 0 || c >= previous.k)
        throw InputError("--previous " + quoted(previous.path) + ": /customers/cluster outside 0..k-1");
    for (auto s : segment)
      if (s < 0 || static_cast<std::uint64_t>(s) >= format::segment_count)
        throw InputError("--previous " + quoted(previous.path) + ": /customers/segment outside the segment table");
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
  const int kp = previous.k, k = seg.model.k;
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
      changed_cluster += previous.cluster_id[static_cast<std::size_t>(previous.cluster[i])] !=
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
    out.parameters[0][d] = seg.transforms[d].lambda;
    out.parameters[1][d] = seg.transforms[d].shift;
    out.parameters[2][d] = seg.scale.center[d];
    out.parameters[3][d] = seg.scale.scale[d];
  }
  out.mean = seg.overall_mean;
  out.warm_start = seg.warm_start;
  return out;
}

}  // namespace rfmseg
