#include "rfmseg/core/progress.hpp"

namespace rfmseg::progress {

namespace {
Sink* current = nullptr;
}  // namespace

void set_sink(Sink* sink) noexcept { current = sink; }

void phase_started(const char* phase) {
  if (current != nullptr) current->phase_started(phase);
}
void phase_done(const char* phase, double seconds) {
  if (current != nullptr) current->phase_done(phase, seconds);
}
void ingest(std::uint64_t round, std::uint64_t bytes_done, std::uint64_t bytes_total) {
  if (current != nullptr) current->ingest(round, bytes_done, bytes_total);
}
void kmeans(int k, int restart, int n_init, int iteration, double best_inertia) {
  if (current != nullptr) current->kmeans(k, restart, n_init, iteration, best_inertia);
}

}  // namespace rfmseg::progress
