#pragma once
// The job: the data half (app/customer_stage.hpp), the model half (app/segmentation.hpp), the
// result file (app/result_writer.hpp) and the console report (app/report.hpp), one after another,
// with wall time per phase. Every failure becomes an AgreedError on all ranks.

#include <string>

#include "rfmseg/core/config.hpp"
#include "rfmseg/io/output_guard.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Collective data safety before any work (the run and `score`): with `lock` held, temporary
/// files of dead runs are removed first (one may be what filled the disk), then the output path
/// is checked: never an input, nor `also_protected` (the --previous result, the --model), never a
/// device, a foreign file only with --force. Returns the rules other outputs are checked with.
[[nodiscard]] OutputRules check_output(const mpi::Comm& comm, const RunConfig& config, const OutputLock& lock,
                                       const std::string& also_protected);

/// Runs the whole job. Returns the exit status (0); failures throw AgreedError on every rank.
int run_pipeline(const mpi::Comm& comm, const RunConfig& config);

}  // namespace rfmseg
