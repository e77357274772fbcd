#pragma once
// The console report of a finished run (rank 0, stdout): input, cleaning, times, transforms, the
// model, its quality, the elbow sweep, the cluster profile and the classic segments.

#include <string>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/phases.hpp"
#include "rfmseg/app/previous.hpp"
#include "rfmseg/app/result_writer.hpp"
#include "rfmseg/app/segmentation.hpp"
#include "rfmseg/core/config.hpp"

namespace rfmseg {

/// Prints the report. `rejects_path` is empty without --rejects; `previous` and `comparison` are
/// given with --previous (the migration table and the drift line).
void print_report(int ranks, const RunConfig& config, const CustomerStage& stage, const Segmentation& seg,
                  const PhaseTimes& times, const RunFacts& facts, const std::string& rejects_path,
                  const PreviousResult* previous = nullptr, const Comparison* comparison = nullptr);

}  // namespace rfmseg
