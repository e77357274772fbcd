#pragma once
// The input plan: which files, their sizes, compression and pieces, and each file's layout,
// resolved once on rank 0 and broadcast, so every rank reads the same plan.

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/io/compressed.hpp"
#include "rfmseg/io/fates.hpp"
#include "rfmseg/io/layout.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// An input file. A compressed one (.gz, .zst) is read as its decoded bytes: `data_begin` and
/// line numbers count decoded bytes, `size` stays the size on disk.
struct InputFile {
  std::string path;
  std::uint64_t size = 0;
  std::uint64_t data_begin = 0;    ///< first byte after the header record
  std::uint64_t header_lines = 0;  ///< physical lines the header occupies
  Layout layout;
  bool drop_duplicates = true;  ///< --duplicates resolved for this file's layout
  Compression compression = Compression::none;
  /// A compressed file's independent members/frames; one piece = a stream that a single rank
  /// decodes and hands to the others in rounds.
  std::vector<CompressedPiece> pieces;
  [[nodiscard]] bool is_compressed() const { return compression != Compression::none; }
  [[nodiscard]] bool is_stream() const { return is_compressed() && pieces.size() == 1; }
  /// Bytes the split over ranks spreads: a plain file's data region, a compressed file's size.
  [[nodiscard]] std::uint64_t weight() const { return is_compressed() ? size : size - data_begin; }
};

struct InputPlan {
  std::vector<InputFile> files;
  std::uint64_t data_bytes = 0;  ///< sum of the files' weights (data regions; compressed sizes)
  [[nodiscard]] bool all_have_invoice() const;
  /// The resolved --duplicates: "drop", "keep", or both with the files they apply to.
  [[nodiscard]] std::string duplicates_policy() const;
};

/// "file:line: fate: excerpt" of a reported line.
[[nodiscard]] std::string describe_bad_line(const BadLine& bad, const InputPlan& plan);

/// What to try when many lines were dropped, from the global counters and their evidence: one
/// sentence per kind of unparseable line that makes up at least a tenth of them (most frequent
/// first); with `all_dropped` also for missing_customer and after_snapshot.
[[nodiscard]] std::vector<std::string> dropped_line_hints(const CleaningCounters& counters, const InputConfig& config,
                                                          bool all_dropped);

/// Collective: rank 0 expands globs, checks files and reads headers; every rank gets the plan.
/// Throws InputError / ConfigError on every rank when the inputs are unusable.
[[nodiscard]] InputPlan plan_inputs(const mpi::Comm& comm, const InputConfig& config);

/// The paths named by `--input` values: plain paths as given, globs expanded (sorted). Throws
/// InputError for a glob that matches nothing.
[[nodiscard]] std::vector<std::string> expand_inputs(const std::vector<std::string>& patterns);

/// Collective, after the input was read: a file that is now smaller than planned shrank while it
/// was read (InputError on every rank: what was read may be torn); one that grew had data appended
/// after the start, which the run ignored (a warning on rank 0).
void recheck_input_sizes(const mpi::Comm& comm, const InputPlan& plan);

}  // namespace rfmseg
