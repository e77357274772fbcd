#include "rfmseg/io/verify.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <set>

#include "rfmseg/io/h5.hpp"
#include "rfmseg/io/integrity.hpp"
#include "rfmseg/io/result_format.hpp"
#include "rfmseg/version.hpp"

namespace rfmseg {

namespace {

class Checker {
 public:
  explicit Checker(VerifyReport& report) : _report(report) {}
  void fail(const std::string& problem) { _report.problems.push_back(problem); }
  void expect(bool condition, const std::string& problem) {
    if (!condition) fail(problem);
  }

 private:
  VerifyReport& _report;
};

// Dataset path -> shape, as read by check_integrity (which reads every dataset once).
using Shapes = std::map<std::string, std::vector<std::uint64_t>>;

template <class T>
bool all_within(const std::vector<T>& values, T lo, T hi) {
  return std::all_of(values.begin(), values.end(), [&](T v) { return v >= lo && v <= hi; });
}

// The version that wrote a file: "0.1" for results with rfmseg 0.1 checksums (written before
// /run version existed in its current form), else /run version.
bool written_before(std::string_view file_version, std::string_view since) {
  const auto numbers = [](std::string_view v) {
    std::vector<long> out;
    long current = 0;
    for (char ch : v) {
      if (ch >= '0' && ch <= '9') {
        current = current * 10 + (ch - '0');
      } else if (ch == '.') {
        out.push_back(current);
        current = 0;
      } else {
        break;
      }
    }
    out.push_back(current);
    return out;
  };
  return numbers(file_version) < numbers(since);  // "0.1" < "0.2" < "0.10"
}

bool type_matches(const h5::RawDataset& stored, result_format::Type type) {
  using result_format::Type;
  switch (type) {
    case Type::int8: return stored.kind == 'i' && stored.element_bytes == 1;
    case Type::int32: return stored.kind == 'i' && stored.element_bytes == 4;
    case Type::int64: return stored.kind == 'i' && stored.element_bytes == 8;
    case Type::float64: return stored.kind == 'f' && stored.element_bytes == 8;
    case Type::string: return stored.kind == 's';
  }
  return false;
}

// Presence, type and shape of every dataset and attribute of the result format
// (io/result_format.hpp), then the consistency of the values.
void check_schema(const h5::File& file, const Shapes& shapes, bool legacy, VerifyReport& report, Checker& check) {
  namespace format = result_format;
  if (!file.has("run")) {
    check.fail("missing group /run");
    return;
  }
  const h5::Group run = h5::open_object(file, "run");
  const std::string version = legacy                              ? "0.1"
                              : h5::has_attribute(run, "version") ? h5::read_string_attribute(run, "version")
                                                                  : std::string(version_string);
  const bool swept = file.has("selection");
  const bool compared = file.has("migration");  // written with --previous
  const bool scored = h5::has_attribute(run, "mode") && h5::read_string_attribute(run, "mode") == "score";
  const auto present = [&](format::Presence presence) {
    return presence == format::Presence::always || (presence == format::Presence::with_sweep && swept) ||
           (presence == format::Presence::with_previous && compared) ||
           (presence == format::Presence::scored && scored);
  };
  bool complete = true;
  for (const auto& attribute : format::attributes()) {
    if (attribute.name.find('<') != std::string_view::npos) continue;  // a family (time_<phase>)
    if (!present(attribute.presence)) continue;
    if (written_before(version, attribute.since)) continue;
    const std::string object(attribute.object), name(attribute.name);
    if (!file.has(object) || !h5::has_attribute(h5::open_object(file, object), name)) {
      check.fail("missing attribute /" + object + "/" + name);
      complete = false;
    }
  }
  if (!complete) return;  // the shapes below need /run customers and k

  const std::int64_t n = h5::read_int_attribute(run, "customers");
  const std::int64_t k = h5::read_int_attribute(run, "k");
  report.customers = n;
  const auto found = shapes.find("selection/k");
  const std::uint64_t m = found == shapes.end() || found->second.empty() ? 0 : found->second[0];
  const std::int64_t k_prev = compared ? h5::read_int_attribute(h5::open_object(file, "migration"), "previous_k") : 0;
  const auto extent = [&](format::Extent e, std::uint64_t fixed) -> std::uint64_t {
    switch (e) {
      case format::Extent::customers: return static_cast<std::uint64_t>(n);
      case format::Extent::clusters: return static_cast<std::uint64_t>(k);
      case format::Extent::sweep: return m;
      case format::Extent::previous_clusters: return static_cast<std::uint64_t>(k_prev);
      case format::Extent::previous_clusters_and_new: return static_cast<std::uint64_t>(k_prev + 1);
      case format::Extent::clusters_and_gone: return static_cast<std::uint64_t>(k + 1);
      case format::Extent::scalar:
      case format::Extent::fixed: break;
    }
    return fixed;
  };
  for (const format::Dataset* d : format::datasets()) {
    const std::string path(d->path);
    if (!present(d->presence)) continue;
    if (!file.has(path)) {
      if (!written_before(version, d->since)) {
        check.fail("missing dataset " + path);
        complete = false;
      }
      continue;
    }
    const h5::RawDataset stored = h5::dataset_shape(file, path);
    if (!type_matches(stored, d->type))
      check.fail(path + " is not of type " + std::string(format::type_name(d->type)) + " (result format)");
    std::vector<std::uint64_t> expected;
    if (d->rows != format::Extent::scalar) expected.push_back(extent(d->rows, d->fixed_rows));
    if (d->column_extent != format::Extent::fixed || d->columns != 0)
      expected.push_back(extent(d->column_extent, d->columns));
    if (stored.shape != expected)
      check.fail(path + " does not have the shape " + format::shape_text(*d) +
                 " (n = /run customers = " + std::to_string(n) + ", k = /run k = " + std::to_string(k) +
                 (compared ? ", k_prev = /migration previous_k = " + std::to_string(k_prev) : std::string()) + ")");
  }
  // Anything the format does not describe: written by a newer rfmseg, or by something else.
  for (const auto& [path, shape] : shapes)
    if (format::find_dataset(path) == nullptr)
      report.notes.push_back("dataset /" + path + " is not part of the result format of rfmseg " +
                             std::string(version_string));
  for (const auto& object : h5::list_objects(file))
    for (const auto& name : h5::list_attributes(h5::open_object(file, object.empty() ? "/" : object)))
      if (!h5::is_checksum_attribute(name) && format::find_attribute(object, name) == nullptr)
        report.notes.push_back("attribute " + (object.empty() ? std::string("/") : "/" + object) + " " + name +
                               " is not part of the result format of rfmseg " + std::string(version_string));
  check.expect(h5::read<std::int64_t>(file, "model/k").at(0) == k, "model/k differs from /run k");
  if (!complete) return;

  const auto ids = h5::read_strings(file, "customers/customer_id");
  check.expect(std::adjacent_find(ids.begin(), ids.end(),
                                  [](const std::string& a, const std::string& b) { return !(a < b); }) == ids.end(),
               "customers/customer_id is not strictly ascending (sorted, unique)");
  const auto cluster = h5::read<std::int32_t>(file, "customers/cluster");
  check.expect(all_within<std::int32_t>(cluster, 0, static_cast<std::int32_t>(k - 1)),
               "customers/cluster has a value outside 0..k-1");
  std::vector<std::int64_t> counted(static_cast<std::size_t>(std::max<std::int64_t>(k, 0)), 0);
  for (auto c : cluster)
    if (c >= 0 && c < k) ++counted[static_cast<std::size_t>(c)];
  check.expect(h5::read<std::int64_t>(file, "model/cluster_size") == counted,
               "model/cluster_size does not match the counts of customers/cluster");
  if (file.has("model/cluster_id")) {
    const auto cluster_ids = h5::read<std::int64_t>(file, "model/cluster_id");
    check.expect(std::adjacent_find(cluster_ids.begin(), cluster_ids.end(), [](auto a, auto b) { return !(a < b); }) ==
                         cluster_ids.end() &&
                     (cluster_ids.empty() || cluster_ids.front() >= 0),
                 "model/cluster_id is not strictly ascending and non-negative");
  }
  for (const char* score : {"r_score", "f_score", "m_score"})
    check.expect(all_within<std::int8_t>(h5::read<std::int8_t>(file, std::string("customers/") + score), 1, 5),
                 std::string("customers/") + score + " has a value outside 1..5");
  const auto segment_names = h5::read_strings(file, "segments/name");
  check.expect(all_within<std::int8_t>(h5::read<std::int8_t>(file, "customers/segment"), 0,
                                       static_cast<std::int8_t>(segment_names.size() - 1)),
               "customers/segment has a value outside the segment table");
  const auto recency = h5::read<std::int32_t>(file, "customers/recency");
  check.expect(all_within<std::int32_t>(recency, 0, std::numeric_limits<std::int32_t>::max()),
               "customers/recency has a negative value");
  const auto frequency = h5::read<std::int64_t>(file, "customers/frequency");
  check.expect(all_within<std::int64_t>(frequency, 1, std::numeric_limits<std::int64_t>::max()),
               "customers/frequency has a value below 1");
  if (legacy) return;
  const auto monetary = h5::read<double>(file, "customers/monetary");
  const auto nonpositive = h5::read<std::int8_t>(file, "customers/nonpositive_monetary");
  bool flags_match = nonpositive.size() == monetary.size();
  for (std::size_t i = 0; flags_match && i < monetary.size(); ++i)
    flags_match = nonpositive[i] == (monetary[i] <= 0 ? 1 : 0);
  check.expect(flags_match, "customers/nonpositive_monetary is not 1 exactly where customers/monetary <= 0");
}

}  // namespace

VerifyReport verify_result(const std::string& path) {
  VerifyReport report;
  Checker check(report);
  // Checksums first: every dataset read back once, every attribute checksum recomputed.
  const mpi::Comm self(MPI_COMM_SELF);
  const IntegrityReport integrity = check_integrity(self, path);
  report.problems = integrity.problems;
  report.datasets = integrity.datasets;
  report.checksums = integrity.checksums;
  report.legacy_checksums = integrity.legacy_checksums;
  if (integrity.datasets == 0 && !integrity.ok()) return report;  // not an HDF5 file at all
  try {
    const h5::File file = h5::File::open_read(path);
    const bool legacy = integrity.legacy_checksums > 0 && integrity.legacy_checksums == integrity.checksums;
    check_schema(file, integrity.shapes, legacy, report, check);
  } catch (const std::exception& error) {
    check.fail(error.what());
  }
  return report;
}

}  // namespace rfmseg
