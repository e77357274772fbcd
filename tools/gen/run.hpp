#pragma once
// One generator run on all ranks: create the file, generate and write the chunks round by round,
// then (with --groups) reduce and write the ground truth.

#include "gen/options.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg::gen {

/// Returns the exit status (0, or 1 after an error all ranks agreed on and rank 0 printed).
int run(const rfmseg::mpi::Comm& comm, const Options& opt);

}  // namespace rfmseg::gen
