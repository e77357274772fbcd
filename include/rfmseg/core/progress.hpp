#pragma once
// Progress events of a run (--progress, --status-file). The stages report what they do through
// these free functions; the application installs one Sink on rank 0 that prints lines and keeps
// the status file (src/app/progress.cpp). Without a sink (other ranks, tests) they do nothing.
// No MPI here: a stage calls them on every rank, and only the sink decides what to show.

#include <cstdint>

namespace rfmseg::progress {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void phase_started(const char* phase) = 0;
  virtual void phase_done(const char* phase, double seconds) = 0;
  /// Global bytes of the input read so far, of `total`, after ingest round `round` (1-based).
  virtual void ingest(std::uint64_t round, std::uint64_t bytes_done, std::uint64_t bytes_total) = 0;
  /// K-means fit with k clusters: restart (0-based) of n_init, Lloyd iterations done in it, and
  /// the lowest inertia of the finished restarts (NaN before the first has finished).
  virtual void kmeans(int k, int restart, int n_init, int iteration, double best_inertia) = 0;
};

/// Installs (or with nullptr removes) the sink of this process.
void set_sink(Sink* sink) noexcept;

void phase_started(const char* phase);
void phase_done(const char* phase, double seconds);
void ingest(std::uint64_t round, std::uint64_t bytes_done, std::uint64_t bytes_total);
void kmeans(int k, int restart, int n_init, int iteration, double best_inertia);

}  // namespace rfmseg::progress
