#pragma once
// `rfmseg verify FILE...`: checks a result file's schema, internal consistency and the checksum
// of every dataset (see h5.hpp). Serial; needs no MPI launch.

#include <cstdint>
#include <string>
#include <vector>

namespace rfmseg {

struct VerifyReport {
  std::vector<std::string> problems;  ///< empty: the file is complete and intact
  std::vector<std::string> notes;     ///< worth saying, not a defect (e.g. datasets of a newer format)
  std::size_t datasets = 0;           ///< datasets found
  std::size_t checksums = 0;          ///< checksums recomputed and matching
  std::size_t legacy_checksums = 0;   ///< of those, rfmseg 0.1 checksums (no path binding)
  std::int64_t customers = 0;
  [[nodiscard]] bool ok() const { return problems.empty(); }
};

/// Checks one result file. Never throws for a bad file: every finding is a problem in the report.
[[nodiscard]] VerifyReport verify_result(const std::string& path);

}  // namespace rfmseg
