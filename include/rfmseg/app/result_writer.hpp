#pragma once
// Writes a run's result file: the stages' outputs, through the descriptions of
// io/result_format.hpp (docs/result-format.md), into an io/output.hpp ResultFile.

#include <cstdint>
#include <string>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/phases.hpp"
#include "rfmseg/app/previous.hpp"
#include "rfmseg/app/segmentation.hpp"
#include "rfmseg/core/config.hpp"
#include "rfmseg/core/customer_table.hpp"
#include "rfmseg/io/output.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Collective: a lower bound of the result's size, its per-customer data (for ResultFile).
[[nodiscard]] std::uint64_t result_data_bytes(const mpi::Comm& comm, const CustomerTable& table);

/// Collective: /customers/{customer_id, recency, frequency, monetary, nonpositive_monetary} from the
/// id-sorted table.
void write_customers(const ResultFile& result, const mpi::Comm& comm, const CustomerTable& table);

/// Collective: /customers/{features, cluster, scores, segment, ...}, /segments, /model (centroids,
/// profile, metrics, transform parameters) and /selection (the sweep, if any).
void write_model(const ResultFile& result, const mpi::Comm& comm, const Segmentation& seg);

/// Collective (with --previous): /customers/previous_cluster and previous_segment, /migration and
/// /drift.
void write_comparison(const ResultFile& result, const mpi::Comm& comm, const PreviousResult& previous,
                      const Comparison& comparison, const Segmentation& seg);

/// What the run learnt besides the stages' outputs, for /run and the console report.
struct RunFacts {
  std::int64_t nonpositive_monetary = 0;                       ///< customers with Monetary <= 0 (global)
  std::string bad_line_text;                                   ///< the first unusable lines, one per line
  std::string resumed;                                         ///< what a resumed run took from its checkpoint
  std::string mode = "fit";                                    ///< fit, or score (rfmseg score)
  std::string model_file, model_snapshot_date, model_version;  ///< score: the model that scored
  std::string kmeans_kernels;       ///< distance kernels of the ranks: avx2, portable, or avx2,portable
  std::string mpi_yield_when_idle;  ///< the oversubscription check before MPI_Init (rank 0's, agreed)
  bool yield_set = false;           ///< this rank's check set the yield (rank 0's report says so)
};

/// Collective: the facts of the data half (bad line examples, non-positive monetary count).
[[nodiscard]] RunFacts run_facts(const mpi::Comm& comm, const CustomerStage& stage);

/// Collective: the /run attributes (provenance, configuration, counters, times).
void write_run_record(const ResultFile& result, const mpi::Comm& comm, const RunConfig& config,
                      const CustomerStage& stage, const Segmentation& seg, const PhaseTimes& times,
                      const RunFacts& facts);

}  // namespace rfmseg
