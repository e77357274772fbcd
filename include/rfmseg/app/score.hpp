#pragma once
// `rfmseg score`: customers placed in a saved model's clusters without fitting. Everything fitted
// is frozen from the model (app/saved_model.hpp): transforms, scaler and grid, centroids with
// their fit order (ties), cluster ids and labels, quintile cut points, segment split values and
// the high-value threshold. Scoring a model's own input reproduces its /customers bit for bit.

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/phases.hpp"
#include "rfmseg/app/saved_model.hpp"
#include "rfmseg/app/segmentation.hpp"
#include "rfmseg/core/config.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Collective: the model half of a scoring run on the customers of `stage` (id-sorted across
/// ranks): transform, scale and snap with the model's parameters, nearest centroid, scores and
/// segments under the model's parameters; the profile and the segment table of these customers.
/// The fit's facts (iterations, quality) are the model's. Throws AgreedError (exit 1) when a
/// customer falls outside a transform's domain (e.g. Box-Cox of a value <= -shift).
[[nodiscard]] Segmentation score_with_model(const mpi::Comm& comm, const SavedModel& model, const CustomerStage& stage,
                                            PhaseTimes& times);

/// Collective: the whole `rfmseg score` run: data safety (the output is never an input or the
/// model), the customer table, score_with_model, the result file (/run mode = score). Returns 0.
int run_score(const mpi::Comm& comm, const RunConfig& config, const SavedModel& model);

}  // namespace rfmseg
