#include "rfmseg/parallel/stop.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace rfmseg::stop {

namespace {

std::atomic<int> first_signal{0};
std::atomic<std::int64_t> first_signal_ns{0};
// A signal within this time of the first is the same request arriving by a second route (a
// terminal's Ctrl-C reaches mpirun and the ranks; Slurm's SIGTERM reaches the batch shell, which
// forwards it, and the ranks): only a later one means "now".
constexpr std::int64_t duplicate_window_ns = 500'000'000;

std::int64_t monotonic_ns() noexcept {  // clock_gettime is async-signal-safe
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}
std::atomic<bool> checkpointing{false};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

void write_text(const char* text) noexcept {
  const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

// Async-signal-safe: one atomic exchange, and on the second signal write(2), signal(2), raise(3).
extern "C" void on_signal(int signal) {
  const std::int64_t now = monotonic_ns();
  std::int64_t first = 0;
  if (first_signal_ns.compare_exchange_strong(first, now)) {  // `first` receives the time of an earlier one
    first_signal.store(signal);
    return;
  }
  if (now - first < duplicate_window_ns) return;
  write_text("rfmseg: second signal during the stop: ending at once (the last complete checkpoint still resumes)\n");
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

}  // namespace

void install_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // MPI and HDF5 calls are not interrupted: the stop waits for a safe point
  for (int signal : {SIGTERM, SIGINT, SIGUSR1}) ::sigaction(signal, &action, nullptr);
}

void clear() noexcept {
  first_signal.store(0);
  first_signal_ns.store(0);
}

int pending() noexcept { return first_signal.load(std::memory_order_relaxed); }

std::string signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    default: return "signal " + std::to_string(signal);
  }
}

void set_checkpointing(bool enabled) noexcept { checkpointing.store(enabled); }

void agreed(int agreed_signal, const std::string& where, const std::function<void()>& before_stop) {
  if (agreed_signal == 0) return;
  if (before_stop) before_stop();
  throw Stopped(agreed_signal, where, checkpointing.load());
}

void at_safe_point(const mpi::Comm& comm, const std::string& where, const std::function<void()>& before_stop) {
  // max: the signal with the highest number wins when ranks got different ones (all ranks agree).
  agreed(mpi::allreduce(comm, pending(), mpi::Op::max), where, before_stop);
}

}  // namespace rfmseg::stop
