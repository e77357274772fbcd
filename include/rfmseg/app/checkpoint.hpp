#pragma once
// Checkpoints (--checkpoint DIR, --resume). Two kinds of files, each written under a temporary
// name and renamed, so a file under its final name is always complete:
//
//   DIR/customers.h5   the RFM table after partitioning (parallel HDF5, rows in id order) and
//                      everything the rest of the job reports about ingest (counters, bad lines,
//                      snapshot, bytes);
//   DIR/fit-kK.h5      one per K-means fit (k = K): the progress of the restart running, saved
//                      every --checkpoint-every iterations by rank 0, and, once the fit is done,
//                      its model and metrics.
//
// Every file carries a fingerprint of the inputs (path, size, modification time) and of every
// option that changes the result; --resume uses a file only when the fingerprint matches, and
// refuses with a clear message when it does not. Resuming needs no particular rank count: the
// table is read back in even blocks, and every later stage gives the same result for any
// distribution of the rows. On success the job removes its checkpoint files.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rfmseg/core/config.hpp"
#include "rfmseg/io/output_guard.hpp"
#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/model/metrics.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

struct CustomerStage;
struct InputPlan;

/// A finished fit, as the sweep and the final model need it.
struct SavedFit {
  KMeansModel model;
  ClusterMetrics metrics;
};

class Checkpoints final : public KMeansCheckpoints {
 public:
  /// Collective: creates DIR if needed (agreed errors when it cannot).
  Checkpoints(const mpi::Comm& comm, const RunConfig& config);

  /// Collective: the fingerprint of `plan`'s files and the result-relevant options; call once
  /// the input plan is known, before any load or save.
  void set_fingerprint(const InputPlan& plan);

  /// Collective: saves the customer stage (table and ingest report).
  void save_customers(const CustomerStage& stage);
  /// Collective: the saved customer stage when --resume and a matching checkpoint exist.
  /// Throws AgreedError when a checkpoint exists but was made for other inputs or options.
  [[nodiscard]] bool load_customers(CustomerStage& stage);

  /// Collective: a finished fit for k, saved before (only with --resume).
  [[nodiscard]] std::optional<SavedFit> load_fit(const KMeansOptions& options);
  void save_fit(const KMeansOptions& options, const SavedFit& fit);

  // KMeansCheckpoints
  [[nodiscard]] int every() const override { return _every; }
  void save_progress(const KMeansOptions& options, const KMeansProgress& progress) override;
  [[nodiscard]] std::optional<KMeansProgress> load_progress(const KMeansOptions& options) override;

  /// Collective: removes every checkpoint file of this run (after the result was committed).
  void remove_all();

  /// What was resumed, for the log and /run ("" when nothing was).
  [[nodiscard]] const std::string& resumed() const { return _resumed; }

 private:
  [[nodiscard]] std::string fit_path(int k) const;
  /// Collective: `path` exists, matches the fingerprint and holds a fit in `state` ("running", "done").
  [[nodiscard]] bool usable_fit_file(const std::string& path, const char* state) const;
  void note_resumed(const std::string& what);

  const mpi::Comm& _comm;
  std::string _dir;
  std::unique_ptr<OutputLock> _lock;  ///< DIR/checkpoint.lock: one run per checkpoint directory
  bool _resume;
  int _every;
  std::string _options_text;  ///< the resolved options that change the result
  std::string _fingerprint;
  std::string _resumed;
};

}  // namespace rfmseg
