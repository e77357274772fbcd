#pragma once
// Command line and INI config (Boost.Program_options) → RunConfig. Used only by the executables.

#include <cstdint>
#include <string>
#include <vector>

#include "rfmseg/core/config.hpp"

namespace rfmseg::cli {

struct Parsed {
  bool help = false;
  bool version = false;
  std::string help_text;
  RunConfig config;
};

/// Parses argv (argv[0] is the program name). A `--config FILE` is read first; the command line
/// overrides it. Throws ConfigError with a user-facing message on any unknown option or bad value.
[[nodiscard]] Parsed parse(const std::vector<std::string>& args);

/// `rfmseg score ...` (args[0] the program, args[1] "score").
struct ScoreParsed {
  bool help = false;
  std::string help_text;
  std::string model;  ///< --model
  RunConfig config;   ///< complete only when parsed with the model's configuration
};

/// Parses `rfmseg score`'s command line. Without `model_configuration`: checks it, answers --help
/// and finds --model (config left empty). With the model's /run configuration (INI text): the
/// full RunConfig, the command line (and --config) over the model's recorded layout, cleaning and
/// segmentation options; its own run's options (input, output, snapshot, ...) are never taken.
/// Throws ConfigError for unknown options, an option the model fixes (--k, --transform-*, ...) or
/// a missing --model, --input or --output.
[[nodiscard]] ScoreParsed parse_score(const std::vector<std::string>& args, const std::string* model_configuration);

/// A non-negative decimal integer (no sign, no wrap-around); throws ConfigError naming `option`.
[[nodiscard]] std::uint64_t parse_unsigned(const std::string& text, const char* option);

/// "512M", "2G", "1.5GiB", "1048576" → bytes; throws ConfigError naming `option`.
[[nodiscard]] std::uint64_t parse_byte_size(const std::string& text, const char* option);

/// "A..B" → (A, B); throws ConfigError.
void parse_k_range(const std::string& text, int& k_min, int& k_max);

}  // namespace rfmseg::cli
