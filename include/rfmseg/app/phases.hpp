#pragma once
// Wall time per phase of a run, and the phase the watchdog names when a rank stops responding.

#include <string>
#include <utility>
#include <vector>

#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Wall time per phase (the slowest rank's, once reduced).
class PhaseTimes {
 public:
  explicit PhaseTimes(const mpi::Comm& comm);
  /// Collective: ends the current phase under `name` and starts the next. A progress event, and a
  /// safe point of the stop on a signal (rfmseg/parallel/stop.hpp) except after "output".
  void lap(const std::string& name);
  /// Collective: each phase's maximum over ranks.
  void reduce(const mpi::Comm& comm);
  [[nodiscard]] const std::vector<std::pair<std::string, double>>& phases() const { return _phases; }
  [[nodiscard]] double total() const;

 private:
  const mpi::Comm* _comm;
  double _last;
  std::vector<std::pair<std::string, double>> _phases;
};

}  // namespace rfmseg
