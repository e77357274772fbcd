#include "rfmseg/app/phases.hpp"

#include "rfmseg/core/progress.hpp"
#include "rfmseg/parallel/stop.hpp"
#include "rfmseg/parallel/watchdog.hpp"

namespace rfmseg {

namespace {
// Which phase follows a finished one, so the watchdog can name the one running (string literals).
constexpr std::pair<const char*, const char*> next_phase[] = {
    {"ingest", "rfm"},           {"rfm", "sort"},        {"sort", "transform"}, {"load_checkpoint", "transform"},
    {"checkpoint", "transform"}, {"transform", "scale"}, {"scale", "kmeans"},   {"kmeans", "evaluate"},
    {"evaluate", "segment"},     {"segment", "output"},  {"output", "finish"}};
}  // namespace

PhaseTimes::PhaseTimes(const mpi::Comm& comm) : _comm(&comm), _last(MPI_Wtime()) {
  watchdog::set_phase("ingest");
  progress::phase_started("ingest");
}

void PhaseTimes::lap(const std::string& name) {
  const double now = MPI_Wtime();
  _phases.emplace_back(name, now - _last);
  _last = now;
  progress::phase_done(name.c_str(), _phases.back().second);
  for (const auto& [finished, next] : next_phase)
    if (name == finished) watchdog::set_phase(next);
  if (name == "output") return;  // the result is being written: it finishes (seconds)
  stop::at_safe_point(*_comm, "the end of phase " + name);
  progress::phase_started(watchdog::phase());
}

void PhaseTimes::reduce(const mpi::Comm& comm) {
  std::vector<double> seconds;
  for (const auto& phase : _phases) seconds.push_back(phase.second);
  seconds = mpi::allreduce(comm, std::move(seconds), mpi::Op::max);
  for (std::size_t i = 0; i < _phases.size(); ++i) _phases[i].second = seconds[i];
}

double PhaseTimes::total() const {
  double sum = 0;
  for (const auto& phase : _phases) sum += phase.second;
  return sum;
}

}  // namespace rfmseg
