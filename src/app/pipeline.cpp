#include "rfmseg/app/pipeline.hpp"

#include <cstdio>
#include <optional>

#include "rfmseg/app/checkpoint.hpp"
#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/export.hpp"
#include "rfmseg/app/phases.hpp"
#include "rfmseg/app/previous.hpp"
#include "rfmseg/app/report.hpp"
#include "rfmseg/app/result_writer.hpp"
#include "rfmseg/app/segmentation.hpp"
#include "rfmseg/io/output.hpp"
#include "rfmseg/io/output_guard.hpp"
#include "rfmseg/io/rejects.hpp"

namespace rfmseg {

namespace {

// The data half, or its checkpoint when resuming (the rejects file needs the input read again).
CustomerStage customer_stage(const mpi::Comm& comm, const RunConfig& config, PhaseTimes& times, RejectsFile* rejects,
                             Checkpoints* checkpoints) {
  const bool talk = comm.is_root() && !config.quiet;
  const bool resume = checkpoints != nullptr && config.reliability.resume;
  if (resume && rejects != nullptr && talk)
    std::fprintf(stderr, "rfmseg: --rejects: reading the input again (checkpoints hold no rejected lines)\n");
  CustomerStage stage;
  if (resume && rejects == nullptr) {
    collectively(comm, [&] { stage.plan = plan_inputs(comm, config.input); });
    checkpoints->set_fingerprint(stage.plan);
    if (checkpoints->load_customers(stage)) {
      times.lap("load_checkpoint");
      return stage;
    }
  }
  stage = build_customer_table(comm, config, times, rejects);
  if (checkpoints != nullptr) {
    checkpoints->set_fingerprint(stage.plan);
    checkpoints->save_customers(stage);
    times.lap("checkpoint");
  }
  return stage;
}

}  // namespace

OutputRules check_output(const mpi::Comm& comm, const RunConfig& config, const OutputLock& lock,
                         const std::string& also_protected) {
  OutputRules rules;
  rules.inputs = config.input.paths;
  if (!also_protected.empty()) rules.inputs.push_back(also_protected);  // never replaced by the result
  rules.force = config.force;
  if (comm.is_root() && lock.held()) remove_stale_temporaries(config.output);
  check_output_path(comm, config.output, rules);
  return rules;
}

int run_pipeline(const mpi::Comm& comm, const RunConfig& config) {
  PhaseTimes times(comm);
  // Data safety before any work: what may be replaced, and nobody else writing it.
  // The lock first: with it held, temporary files of dead runs are removed before the directory
  // is probed (a dead run's temporary file may be what filled the disk).
  const OutputLock output_lock(comm, config.output);
  const OutputRules output_rules = check_output(comm, config, output_lock, config.previous);
  std::optional<RejectsFile> rejects;
  if (!config.rejects.empty()) rejects.emplace(comm, config.rejects, output_rules, config.output);
  std::optional<ExportFiles> exports;  // --export DIR: checked now, written before the result's commit
  if (!config.exports.dir.empty()) exports.emplace(comm, config, output_rules);
  std::optional<Checkpoints> checkpoints;
  if (!config.reliability.checkpoint_dir.empty()) checkpoints.emplace(comm, config);
  std::optional<PreviousResult> previous;  // --previous: checked before any work
  if (!config.previous.empty()) previous.emplace(open_previous(comm, config.previous, config));

  const CustomerStage stage =
      customer_stage(comm, config, times, rejects ? &*rejects : nullptr, checkpoints ? &*checkpoints : nullptr);
  RunFacts facts = run_facts(comm, stage);
  if (stage.date_order_assumed && comm.is_root())
    std::fprintf(stderr,
                 "rfmseg: warning: no slash date in the input has a day or month field above 12, so their order cannot "
                 "be told from the data: read as month-first (M/D/Y); state it with --month-first, or --day-first "
                 "if the dates are D/M/Y\n");
  if (previous) {
    join_previous(comm, stage, *previous);
    times.lap("previous");
  }
  const Segmentation seg = segment_customers(comm, config.model, stage, times, checkpoints ? &*checkpoints : nullptr,
                                             previous ? &*previous : nullptr);
  std::optional<Comparison> comparison;
  if (previous) {
    comparison.emplace(compare_with_previous(comm, stage, seg, *previous));
    times.lap("compare");
  }
  if (exports) {
    exports->write(stage, seg, previous ? &*previous : nullptr, comparison ? &*comparison : nullptr);
    times.lap("export");
  }

  {
    ResultFile result(comm, config.output, output_rules, result_data_bytes(comm, stage.customers));
    result.write([&] {
      write_customers(result, comm, stage.customers);
      write_model(result, comm, seg);
      if (comparison) write_comparison(result, comm, *previous, *comparison, seg);
      times.lap("output");
      times.reduce(comm);
      if (checkpoints) facts.resumed = checkpoints->resumed();
      write_run_record(result, comm, config, stage, seg, times, facts);  // every object closed before commit()
    });
    result.commit();
  }
  if (exports) exports->commit();  // only once the result itself is in place
  if (rejects) rejects->commit();
  if (checkpoints) checkpoints->remove_all();  // the result exists: nothing left to resume

  if (comm.is_root() && !config.quiet)
    print_report(comm.size(), config, stage, seg, times, facts, rejects ? rejects->path() : std::string(),
                 previous ? &*previous : nullptr, comparison ? &*comparison : nullptr);
  if (comm.is_root() && !config.quiet && exports) std::printf("exports: %s\n", exports->directory().c_str());
  return 0;
}

}  // namespace rfmseg
