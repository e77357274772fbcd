#include "rfmseg/parallel/watchdog.hpp"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace rfmseg::watchdog {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// What the main thread is blocked in, and since when (0 = not in a collective).
std::atomic<const char*> current_what{nullptr};
std::atomic<std::int64_t> current_since{0};
std::atomic<const char*> current_phase{"startup"};

struct Thread {
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  std::thread thread;
};
Thread* running = nullptr;

[[noreturn]] void expire(const char* what, double waited, double timeout, int rank) {
  std::fprintf(stderr,
               "[rank %d] rfmseg: fatal: %s in phase '%s' waited %.1f s (--collective-timeout %g s): a rank or host "
               "stopped responding; aborting the job (exit status %d, safe to rerun)\n",
               rank, what, current_phase.load(), waited, timeout, timeout_exit_code);
  std::fflush(stderr);
  // MPI_Abort asks the runtime to kill every rank. It is called from this thread while the main
  // thread sits inside MPI: legal only as the last resort it is, so arm a hard exit in case the
  // runtime itself cannot get through (the lost host was also the path to mpirun).
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(10));
    _exit(timeout_exit_code);
  }).detach();
  MPI_Abort(MPI_COMM_WORLD, timeout_exit_code);
  _exit(timeout_exit_code);
}

}  // namespace

Guard::Guard(double timeout_seconds, int rank) {
  if (!(timeout_seconds > 0)) return;
  auto* state = new Thread;
  const auto period = std::chrono::duration<double>(std::min(1.0, timeout_seconds / 10));
  state->thread = std::thread([state, timeout_seconds, rank, period] {
    const auto limit_ns = static_cast<std::int64_t>(timeout_seconds * 1e9);
    std::unique_lock lock(state->mutex);
    while (!state->wake.wait_for(lock, period, [state] { return state->stop; })) {
      const std::int64_t since = current_since.load(std::memory_order_acquire);
      const char* what = current_what.load(std::memory_order_acquire);
      if (since == 0 || what == nullptr) continue;
      const std::int64_t waited = now_ns() - since;
      if (waited > limit_ns) expire(what, static_cast<double>(waited) * 1e-9, timeout_seconds, rank);
    }
  });
  running = state;
}

Guard::~Guard() {
  if (running == nullptr) return;
  {
    std::lock_guard lock(running->mutex);
    running->stop = true;
  }
  running->wake.notify_all();
  running->thread.join();
  delete running;
  running = nullptr;
}

Collective::Collective(const char* what) noexcept : _previous_what(current_what.load(std::memory_order_relaxed)) {
  current_since.store(0, std::memory_order_release);  // never a torn (new what, old since) pair
  current_what.store(what, std::memory_order_release);
  current_since.store(now_ns(), std::memory_order_release);
}

Collective::~Collective() {
  current_since.store(0, std::memory_order_release);
  current_what.store(_previous_what, std::memory_order_release);
  // The outer collective restarts its clock: its wait begins again once the inner one returned.
  current_since.store(_previous_what == nullptr ? 0 : now_ns(), std::memory_order_release);
}

void set_phase(const char* phase) noexcept { current_phase.store(phase, std::memory_order_release); }
const char* phase() noexcept { return current_phase.load(std::memory_order_acquire); }

}  // namespace rfmseg::watchdog
