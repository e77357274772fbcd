#pragma once
// `rfmseg summary [--csv] [--no-header] RESULT.h5...`: one line of facts per finished result (the
// row the nightly job appends to OUTDIR/history.csv). Reads each file serially (rank 0) through
// io/h5.hpp; nothing is computed that the file does not hold.

#include <string>
#include <utility>
#include <vector>

namespace rfmseg {

/// The summary's columns, in order, with their values for one result. Names and order are the same
/// for every result (empty values where a file has no /migration or /drift).
using SummaryFields = std::vector<std::pair<std::string, std::string>>;

/// Reads the summary of the result at `path`; `name` is what the result column says (the path as
/// given). Throws std::runtime_error naming what is missing when the file is no rfmseg result.
[[nodiscard]] SummaryFields summarize_result(const std::string& path, const std::string& name);

/// One CSV field: quoted (with doubled quotes) when it holds a comma, a quote or a line break.
[[nodiscard]] std::string csv_field(const std::string& text);

/// The subcommand: args are what follows "summary". Returns the exit status (0, or 1 when a file
/// could not be summarized or on bad usage).
int summary_command(const std::vector<std::string>& args);

}  // namespace rfmseg
