#pragma once
// A clean, resumable stop on SIGTERM, SIGINT or SIGUSR1 (what Slurm sends at a time limit or on
// preemption, and what an operator types). The signal handler only records the signal; the job
// stops at its next safe point, where every rank asks the others in one small allreduce (or folds
// pending() into a reduction that already happens there). If any rank got a signal, every rank
// runs the same `before_stop` (e.g. writes the checkpoint of the K-means restart in progress) and
// throws `Stopped`: an AgreedError with exit status 4, so the stack unwinds on every rank alike,
// the temporary result is removed, and main prints one message with the signal, the phase, the
// position and the command to resume.
//
// Safe points: every ingest round and every K-means iteration (pending() folded into the
// reduction each already makes), and every phase boundary (PhaseTimes::lap, one allreduce), so
// the stop waits at most for one of these (seconds; measured in the README). The final write of
// the result is not interrupted: a signal during it lets the run finish.
// A second signal while a stop is pending or in progress ends the process at once (the default
// action of that signal): the last complete checkpoint still resumes. One within 0.5 s of the
// first counts as the same request delivered twice (Ctrl-C reaches mpirun and the ranks; Slurm's
// SIGTERM reaches the ranks and the batch shell, which forwards it).

#include <functional>
#include <string>
#include <utility>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg::stop {

/// Exit status of a job stopped by a signal (documented: resumable with --resume).
inline constexpr int exit_code = 4;

/// Installs the handlers of SIGTERM, SIGINT and SIGUSR1 (once per process, in main).
void install_handlers();

/// The first signal this process received (0: none). Async-signal-safe to read.
[[nodiscard]] int pending() noexcept;

/// Forgets a recorded signal (tests; a caller that has handled the stop and carries on).
void clear() noexcept;

/// "SIGTERM", "SIGINT", "SIGUSR1", else "signal N".
[[nodiscard]] std::string signal_name(int signal);

/// Thrown on every rank at the same safe point.
class Stopped : public AgreedError {
 public:
  Stopped(int signal, std::string where, bool checkpointed)
      : AgreedError("stopped by " + signal_name(signal) + " at " + where, stop::exit_code),
        _signal(signal),
        _where(std::move(where)),
        _checkpointed(checkpointed) {}
  [[nodiscard]] int signal() const { return _signal; }
  [[nodiscard]] const std::string& where() const { return _where; }
  /// A checkpoint of the position was written (or the position is covered by earlier ones).
  [[nodiscard]] bool checkpointed() const { return _checkpointed; }

 private:
  int _signal;
  std::string _where;
  bool _checkpointed;
};

/// Whether the work since the last checkpoint is saved when the job stops: set by the run
/// (checkpoints on or off), read for the message.
void set_checkpointing(bool enabled) noexcept;

/// Collective safe point: one allreduce of the ranks' pending signals. Returns when no rank got
/// one; otherwise runs `before_stop` (collective, on every rank) and throws Stopped naming `where`.
void at_safe_point(const mpi::Comm& comm, const std::string& where, const std::function<void()>& before_stop = {});

/// The same, for a loop that already reduced pending() with max into `agreed_signal`.
void agreed(int agreed_signal, const std::string& where, const std::function<void()>& before_stop = {});

}  // namespace rfmseg::stop
