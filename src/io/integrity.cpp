#include "rfmseg/io/integrity.hpp"

#include <algorithm>
#include <exception>
#include <optional>

#include "rfmseg/io/h5.hpp"
#include "rfmseg/parallel/watchdog.hpp"

namespace rfmseg {

namespace {

constexpr const char* current_prefix = "rowsum64p:";
constexpr const char* legacy_prefix = "rowsum64:";

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// A local failure (some ranks only) becomes the same problem text on every rank.
std::string agreed_problem(const mpi::Comm& comm, const std::string& local_problem) {
  const int failed = mpi::allreduce(comm, local_problem.empty() ? 0 : 1, mpi::Op::max);
  if (failed == 0) return {};
  for (const auto& text : mpi::allgather_strings(comm, local_problem))
    if (!text.empty()) return text;
  return "unknown error";
}

// Runs `work`; its exception's message, or "" when it succeeded.
template <class Work>
std::string attempt(Work&& work) {
  try {
    work();
  } catch (const std::exception& error) {
    return error.what();
  }
  return {};
}

}  // namespace

IntegrityReport check_integrity(const mpi::Comm& comm, const std::string& path, std::uint64_t max_piece_bytes) {
  IntegrityReport report;
  std::optional<h5::File> file;
  std::vector<std::string> objects;
  // Agreed after each collective step: a rank that failed to open must not skip the listing alone.
  std::string problem = agreed_problem(comm, attempt([&] { file.emplace(h5::File::open_read(path, comm)); }));
  if (problem.empty()) problem = agreed_problem(comm, attempt([&] { objects = h5::list_objects(*file); }));
  if (!problem.empty()) {
    report.problems.push_back(problem);
    return report;
  }

  const auto p = static_cast<std::uint64_t>(comm.size());
  const auto r = static_cast<std::uint64_t>(comm.rank());
  bool any_seal = false;
  std::vector<std::string> unsealed;
  for (const auto& name : objects) {
    // ---- attributes: small, every rank reads them (collective metadata reads)
    std::string stored_seal, actual_seal, stored_sum;
    bool is_dataset = false, has_plain = false;
    problem.clear();
    std::vector<std::uint64_t> shape;
    std::uint64_t element_bytes = 0;
    try {
      const h5::Group object = h5::open_object(*file, name.empty() ? "/" : name);
      for (const auto& attribute : h5::list_attributes(object))
        if (!h5::is_checksum_attribute(attribute)) has_plain = true;
      if (h5::has_attribute(object, h5::attributes_checksum_attribute)) {
        stored_seal = h5::read_string_attribute(object, h5::attributes_checksum_attribute);
        actual_seal = h5::attributes_checksum(object);
      }
      is_dataset = H5Iget_type(object.id()) == H5I_DATASET;
      if (is_dataset) {
        if (h5::has_attribute(object, h5::checksum_attribute))
          stored_sum = h5::read_string_attribute(object, h5::checksum_attribute);
        const auto raw = h5::dataset_shape(*file, name);
        shape = raw.shape;
        element_bytes = raw.element_bytes;
      }
    } catch (const std::exception& error) {
      problem = (name.empty() ? "/" : name) + ": " + error.what();
    }
    problem = agreed_problem(comm, problem);
    if (!problem.empty()) {
      report.problems.push_back(problem);
      continue;
    }
    const std::string shown = name.empty() ? "/" : name;
    if (!stored_seal.empty()) {
      any_seal = true;
      if (stored_seal == actual_seal)
        ++report.sealed_objects;
      else
        report.problems.push_back(shown + ": attributes changed (stored " + stored_seal + ", content " + actual_seal +
                                  ")");
    } else if (has_plain) {
      unsealed.push_back(shown);
    }
    if (!is_dataset) continue;

    // ---- a dataset: every rank re-reads an even block of its rows
    ++report.datasets;
    report.shapes[name] = shape;
    if (stored_sum.empty()) {
      report.problems.push_back(name + ": no checksum attribute");
      continue;
    }
    const std::uint64_t rows = shape.empty() ? 1 : shape[0];
    std::uint64_t row_bytes = element_bytes;
    for (std::size_t d = 1; d < shape.size(); ++d) row_bytes *= shape[d];
    const std::uint64_t first = rows * r / p, end = rows * (r + 1) / p;
    const std::uint64_t piece = std::max<std::uint64_t>(1, max_piece_bytes / std::max<std::uint64_t>(row_bytes, 1));
    std::uint64_t sum = 0;
    problem.clear();
    try {
      for (std::uint64_t at = first; at < end; at += piece) {
        const std::uint64_t count = std::min(piece, end - at);
        const auto bytes = h5::read_raw_rows(*file, name, at, count);
        sum += h5::row_checksum(bytes.data(), count, row_bytes, at);
      }
    } catch (const std::exception& error) {
      problem = name + ": " + error.what();
    }
    problem = agreed_problem(comm, problem);
    if (!problem.empty()) {
      report.problems.push_back(problem);
      continue;
    }
    sum = mpi::allreduce(comm, sum, mpi::Op::sum);
    std::string actual;
    if (starts_with(stored_sum, current_prefix)) {
      actual = h5::format_checksum(sum, name);
    } else if (starts_with(stored_sum, legacy_prefix)) {
      actual = h5::format_legacy_checksum(sum);
      if (stored_sum == actual) ++report.legacy_checksums;
    } else {
      report.problems.push_back(name + ": unknown checksum format '" + stored_sum + "'");
      continue;
    }
    if (stored_sum == actual)
      ++report.checksums;
    else
      report.problems.push_back(name + ": checksum mismatch (stored " + stored_sum + ", content " + actual + ")");
  }
  // Files of rfmseg 0.1 have no attribute checksums at all; any newer file seals every object
  // that has attributes, so an unsealed one there was added or edited afterwards.
  const bool legacy_file = !any_seal && report.legacy_checksums == report.checksums && report.checksums > 0;
  if (report.legacy_checksums > 0 && report.legacy_checksums < report.checksums)
    report.problems.push_back("legacy (rowsum64:) and current (rowsum64p:) checksums mixed in one file");
  if (!legacy_file)
    for (const auto& name : unsealed) report.problems.push_back(name + ": attributes without an attribute checksum");
  {
    const watchdog::Collective scope("parallel HDF5 file close");
    file.reset();
  }
  return report;
}

}  // namespace rfmseg
