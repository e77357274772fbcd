#pragma once
// What a person and a monitor see of a long run (rank 0 only):
//   --progress          one line per event on stderr, never a carriage-return bar: each phase's
//                       start and end with its wall time; ingest bytes done / total, rate, ETA;
//                       K-means k, restart i/n, iteration and best inertia every few seconds;
//   --status-file PATH  a small JSON object (state, phase, fraction of the phase done, ETA, last
//                       event, elapsed time, exit status at the end), replaced atomically
//                       (written under a temporary name and renamed), so `watch cat PATH` or a
//                       dashboard never reads half a file.

#include <cstdint>
#include <string>

#include "rfmseg/core/config.hpp"
#include "rfmseg/core/progress.hpp"

namespace rfmseg {

class ProgressReporter final : public progress::Sink {
 public:
  /// Installs itself as this process's progress sink (create it on rank 0 only).
  ProgressReporter(const RunConfig& config, double interval_seconds = 2.0);
  ~ProgressReporter() override;
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  void phase_started(const char* phase) override;
  void phase_done(const char* phase, double seconds) override;
  void ingest(std::uint64_t round, std::uint64_t bytes_done, std::uint64_t bytes_total) override;
  void kmeans(int k, int restart, int n_init, int iteration, double best_inertia) override;

  /// The run ended with `exit_status` (0 done, 4 stopped, else failed): last line and final status.
  void finish(int exit_status, const std::string& message);

 private:
  void event(const std::string& text, bool print);
  void write_status(bool force);
  [[nodiscard]] double now() const;

  bool _lines;
  std::string _status_file;
  double _interval;
  int _k_min, _k_max, _max_iter;
  double _start;
  double _phase_start;
  double _last_line = -1e300;    ///< when the last throttled line was printed
  double _last_status = -1e300;  ///< when the status file was last written
  std::string _phase = "startup";
  std::string _last_event;
  double _fraction = -1;  ///< of the current phase; < 0 = unknown
  double _eta = -1;       ///< seconds left in the current phase; < 0 = unknown
  std::string _state = "running";
  int _exit_status = -1;  ///< < 0 while running
  bool _status_warned = false;
};

}  // namespace rfmseg
