#include "rfmseg/io/verify.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <set>

#include "rfmseg/io/h5.hpp"
#include "rfmseg/io/integrity.hpp"

namespace rfmseg {

namespace {

// What every result has (INTERFACE.md); /selection only with --k-range.
constexpr const char* customer_columns[] = {"customer_id", "recency", "frequency", "monetary", "features",
                                            "cluster", "r_score", "f_score", "m_score", "rfm_sum",
                                            "rfm_code", "segment", "high_value", "nonpositive_monetary"};
constexpr const char* other_datasets[] = {
    "model/k", "model/centroids", "model/init_centroids", "model/centroids_rfm", "model/cluster_size",
    "model/cluster_label", "model/inertia", "model/n_iter", "model/converged", "model/transform/lambda",
    "model/transform/shift", "model/transform/center", "model/transform/scale", "model/profile/mean",
    "segments/name", "segments/count", "segments/revenue_share"};
constexpr const char* run_attributes[] = {"version", "git_commit", "configuration", "ranks", "snapshot_date",
                                          "customers", "k", "count_lines", "count_kept", "time_total"};

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

// `legacy`: a result of rfmseg 0.1 (rowsum64 checksums), written before /customers/nonpositive_monetary.
bool optional_for(bool legacy, const char* column) {
  return legacy && std::string(column) == "nonpositive_monetary";
}

void check_schema(const h5::File& file, const Shapes& shapes, bool legacy, VerifyReport& report, Checker& check) {
  const auto shape_of = [&](const std::string& name) {
    const auto found = shapes.find(name);
    return found == shapes.end() ? std::vector<std::uint64_t>{} : found->second;
  };
  bool complete = true;
  for (const char* column : customer_columns)
    if (!optional_for(legacy, column) && !file.has(std::string("customers/") + column)) {
      check.fail(std::string("missing dataset customers/") + column);
      complete = false;
    }
  for (const char* name : other_datasets)
    if (!file.has(name)) {
      check.fail(std::string("missing dataset ") + name);
      complete = false;
    }
  if (!file.has("run")) {
    check.fail("missing group /run");
    return;
  }
  const h5::Group run = h5::open_object(file, "run");
  for (const char* attribute : run_attributes)
    if (!h5::has_attribute(run, attribute)) {
      check.fail(std::string("missing attribute /run/") + attribute);
      complete = false;
    }
  if (!complete) return;  // the consistency checks below need everything

  const std::int64_t n = h5::read_int_attribute(run, "customers");
  const std::int64_t k = h5::read_int_attribute(run, "k");
  report.customers = n;
  const auto rows = static_cast<std::uint64_t>(n);
  for (const char* column : customer_columns) {
    if (optional_for(legacy, column)) continue;
    const auto shape = shape_of(std::string("customers/") + column);
    check.expect(!shape.empty() && shape[0] == rows, std::string("customers/") + column + " does not have " +
                                                         std::to_string(n) + " rows (/run customers)");
  }
  const auto features = shape_of("customers/features");
  check.expect(features.size() == 2 && features[1] == 3, "customers/features is not [n, 3]");
  const auto shape = shape_of("model/centroids");
  check.expect(shape.size() == 2 && shape[0] == static_cast<std::uint64_t>(k) && shape[1] == 3,
               "model/centroids is not [k, 3] with k = /run k");
  check.expect(h5::read<std::int64_t>(file, "model/k").at(0) == k, "model/k differs from /run k");

  const auto ids = h5::read_strings(file, "customers/customer_id");
  check.expect(std::adjacent_find(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
                 return !(a < b);
               }) == ids.end(),
               "customers/customer_id is not strictly ascending (sorted, unique)");
  const auto cluster = h5::read<std::int32_t>(file, "customers/cluster");
  check.expect(all_within<std::int32_t>(cluster, 0, static_cast<std::int32_t>(k - 1)),
               "customers/cluster has a value outside 0..k-1");
  std::vector<std::int64_t> counted(static_cast<std::size_t>(std::max<std::int64_t>(k, 0)), 0);
  for (auto c : cluster)
    if (c >= 0 && c < k) ++counted[static_cast<std::size_t>(c)];
  check.expect(h5::read<std::int64_t>(file, "model/cluster_size") == counted,
               "model/cluster_size does not match the counts of customers/cluster");
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

int verify_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::puts("usage: rfmseg verify RESULT.h5 [RESULT.h5 ...]\n\n"
              "Checks each result file: every dataset present with the right shape, values in range\n"
              "(clusters, scores, segments, sorted unique customer ids), and each dataset's stored\n"
              "checksum against its content. Exit status 0 when every file is intact, 1 otherwise.");
    return args.empty() ? 1 : 0;
  }
  int status = 0;
  for (const auto& path : args) {
    const auto report = verify_result(path);
    if (report.ok()) {
      std::printf("%s: OK (%zu datasets, %zu checksums match, %lld customers)\n", path.c_str(), report.datasets,
                  report.checksums, static_cast<long long>(report.customers));
      if (report.legacy_checksums > 0)
        std::printf("  note: checksums of rfmseg 0.1 (not bound to dataset paths; /run not covered)\n");
    } else {
      std::printf("%s: FAILED (%zu problem%s)\n", path.c_str(), report.problems.size(),
                  report.problems.size() == 1 ? "" : "s");
      for (const auto& problem : report.problems) std::printf("  - %s\n", problem.c_str());
      status = 1;
    }
  }
  std::fflush(stdout);
  return status;
}

}  // namespace rfmseg
