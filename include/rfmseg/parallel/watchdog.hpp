#pragma once
// A deadline on every collective. A rank blocked in a collective cannot tell a slow peer from a
// lost one, and Open MPI's TCP transport may wait forever for a host that dropped off the network.
// So every blocking collective (MPI, and parallel HDF5 calls that are collective underneath) runs
// inside a `watchdog::Collective` scope; a background thread checks the scope's age, and when one
// collective has waited longer than --collective-timeout it prints which collective, in which
// phase, on which rank, and ends the whole job with MPI_Abort (and `_exit` if even that cannot get
// through). This is the one place in rfmseg where a rank ends the job on its own: agreement needs
// the very communication that stopped.
//
// The state is a few atomics, so entering and leaving a scope costs two clock reads and stores.

#include <cstdint>

namespace rfmseg::watchdog {

/// Exit status of a job ended by the watchdog (documented: a lost rank or host, safe to retry).
inline constexpr int timeout_exit_code = 3;

/// Starts the watchdog thread (timeout in seconds; 0 = no deadline). Stopped by the destructor.
/// One per process, created in main after the options are known.
class Guard {
 public:
  Guard(double timeout_seconds, int rank);
  ~Guard();
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
};

/// Marks the calling (main) thread as inside the collective `what` (a string literal) for the
/// lifetime of the scope. Nesting is fine: the innermost scope is reported, the outer restored.
class Collective {
 public:
  explicit Collective(const char* what) noexcept;
  ~Collective();
  Collective(const Collective&) = delete;
  Collective& operator=(const Collective&) = delete;

 private:
  const char* _previous_what;
};

/// Names the pipeline phase now running (a string literal), for the timeout message.
void set_phase(const char* phase) noexcept;
[[nodiscard]] const char* phase() noexcept;

}  // namespace rfmseg::watchdog
