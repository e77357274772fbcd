#include "rfmseg/app/verify_command.hpp"

#include <cstdio>

#include "rfmseg/io/verify.hpp"

namespace rfmseg {

int verify_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::puts(
        "usage: rfmseg verify RESULT.h5 [RESULT.h5 ...]\n\n"
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
      for (const auto& note : report.notes) std::printf("  note: %s\n", note.c_str());
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
