#pragma once
// The job: the data half (app/customer_stage.hpp), the model half (app/segmentation.hpp), the
// result file (app/result_writer.hpp) and the console report (app/report.hpp), one after another,
// with wall time per phase. Every failure becomes an AgreedError on all ranks.

#include "rfmseg/core/config.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Runs the whole job. Returns the exit status (0); failures throw AgreedError on every rank.
int run_pipeline(const mpi::Comm& comm, const RunConfig& config);

}  // namespace rfmseg
