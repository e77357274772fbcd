#pragma once
// The data half of a run: ingest → partition → rfm → sort. Input files in, the id-sorted customer
// table out (one contiguous block per rank), with the cleaning counters and the first bad lines.

#include <cstdint>
#include <string>
#include <vector>

#include "rfmseg/app/phases.hpp"
#include "rfmseg/core/config.hpp"
#include "rfmseg/core/customer_table.hpp"
#include "rfmseg/io/ingest.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// What the first half of the job (ingest → partition → rfm → sort) produces.
struct CustomerStage {
  InputPlan plan;
  CustomerTable customers;  ///< this rank's contiguous block of the id-sorted table
  std::uint64_t total_customers = 0;
  CleaningCounters counters;       ///< global
  std::vector<BadLine> bad_lines;  ///< global, first few per kind, by file and line
  std::int32_t snapshot = 0;
  FrequencyMode frequency = FrequencyMode::automatic;
  std::uint64_t bytes_read = 0, bytes_shuffled = 0, shuffle_rounds = 0;  ///< global
  std::uint64_t memory_budget_per_rank = 0;  ///< resolved --max-memory-per-rank (smallest over ranks; 0 = no limit)
  std::uint64_t rejected_rows = 0;           ///< rows written to the --rejects file (global)
  std::string duplicates;                    ///< resolved --duplicates (InputPlan::duplicates_policy)
  std::string date_order;                    ///< how slash dates were read, and why (/run date_order)
  bool date_order_assumed = false;           ///< month-first without a statement or a date showing it: warn
};

class RejectsFile;

/// Collective: input → one exact RFM row per customer, sorted by id across ranks. With `rejects`,
/// every line with a reader fate is written to its temporary file (not yet committed).
[[nodiscard]] CustomerStage build_customer_table(const mpi::Comm& comm, const RunConfig& config, PhaseTimes& times,
                                                 RejectsFile* rejects = nullptr);

}  // namespace rfmseg
