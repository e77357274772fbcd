// The stop on a signal (rfmseg/parallel/stop.hpp), with real signals (raise(3): delivered to the
// calling thread before it returns): a signal on any one rank stops every rank at the same safe
// point, with the same signal; K-means saves the iteration it stopped at, and a fit resumed from
// that state is bit-identical to an uninterrupted one, for any rank count.

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <optional>

#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/progress.hpp"
#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/model/scale.hpp"
#include "rfmseg/parallel/stop.hpp"

using namespace rfmseg;

namespace {

// Every test starts and ends with no signal recorded and the handlers installed.
struct Armed {
  Armed() {
    stop::install_handlers();
    stop::clear();
  }
  ~Armed() { stop::clear(); }
};

}  // namespace

TEST(Stop, a_signal_on_one_rank_stops_every_rank_at_the_same_point) {
  const auto comm = mpi::Comm::world();
  const Armed armed;
  EXPECT_NO_THROW(stop::at_safe_point(comm, "before the signal"));
  if (comm.rank() == comm.size() - 1) std::raise(SIGUSR1);
  int saved = 0;
  try {
    stop::at_safe_point(comm, "the safe point", [&] { ++saved; });
    ADD_FAILURE() << "no stop";
  } catch (const stop::Stopped& stopped) {
    EXPECT_EQ(stopped.signal(), SIGUSR1);
    EXPECT_EQ(stopped.where(), "the safe point");
    EXPECT_EQ(stopped.exit_code(), 4);
    EXPECT_STREQ(stopped.what(), "stopped by SIGUSR1 at the safe point");
  }
  EXPECT_EQ(saved, 1);  // before_stop ran once on every rank
}

TEST(Stop, ranks_with_different_signals_agree_on_one) {
  const auto comm = mpi::Comm::world();
  const Armed armed;
  std::raise(comm.rank() % 2 == 0 ? SIGINT : SIGTERM);
  // A second signal within 0.5 s is the same request: the process must still be here.
  std::raise(SIGUSR1);
  try {
    stop::at_safe_point(comm, "x");
    ADD_FAILURE() << "no stop";
  } catch (const stop::Stopped& stopped) {
    EXPECT_EQ(stopped.signal(), comm.size() == 1 ? SIGINT : SIGTERM);  // the highest number wins
  }
}

namespace {

struct Points {
  Features features;
  std::vector<std::uint64_t> keys;
};

// Three overlapping clouds, 1500 points: a few dozen Lloyd iterations per restart with tol = 0.
Points clouds() {
  Points p;
  const double centers[3][3] = {{0, 0, 0}, {1.5, 0.5, -1}, {-1, 1.5, 0.5}};
  for (std::uint64_t i = 0; i < 1500; ++i) {
    for (std::uint64_t d = 0; d < 3; ++d) {
      double s = 0;
      for (std::uint64_t t = 0; t < 4; ++t) s += unit_open(random_word(11, d * 4 + t, i));
      p.features.column[d].push_back(centers[i % 3][d] + (s - 2.0));
    }
    p.keys.push_back(hash_bytes("row" + std::to_string(i)));
  }
  return p;
}

// K-means state kept in memory (the HDF5 files of checkpoint.cpp are tested end to end).
class MemoryCheckpoints final : public KMeansCheckpoints {
 public:
  [[nodiscard]] int every() const override { return 1000; }  // only the stop saves
  void save_progress(const KMeansOptions&, const KMeansProgress& progress) override {
    saved = progress;
    ++saves;
  }
  [[nodiscard]] std::optional<KMeansProgress> load_progress(const KMeansOptions&) override {
    return resume ? saved : std::nullopt;
  }
  std::optional<KMeansProgress> saved;
  int saves = 0;
  bool resume = false;
};

// Raises SIGUSR1 on rank 0 when the fit reaches (restart, iteration): a real signal mid-fit.
class SignalAt final : public progress::Sink {
 public:
  SignalAt(bool armed, int restart, int iteration) : _armed(armed), _restart(restart), _iteration(iteration) {
    progress::set_sink(this);
  }
  ~SignalAt() override { progress::set_sink(nullptr); }
  void phase_started(const char*) override {}
  void phase_done(const char*, double) override {}
  void ingest(std::uint64_t, std::uint64_t, std::uint64_t) override {}
  void kmeans(int, int restart, int, int iteration, double) override {
    if (_armed && restart == _restart && iteration == _iteration) std::raise(SIGUSR1);
  }

 private:
  bool _armed;
  int _restart, _iteration;
};

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST(Stop, kmeans_stops_at_an_iteration_and_resumes_bit_identical) {
  const auto comm = mpi::Comm::world();
  const Armed armed;
  const Points all = clouds();
  const std::size_t n = all.keys.size();
  const auto p = static_cast<std::size_t>(comm.size()), r = static_cast<std::size_t>(comm.rank());
  const std::size_t first = r * n / p, last = (r + 1) * n / p;
  Features local;
  for (std::size_t d = 0; d < 3; ++d)
    local.column[d].assign(all.features.column[d].begin() + static_cast<std::ptrdiff_t>(first),
                           all.features.column[d].begin() + static_cast<std::ptrdiff_t>(last));
  const int exponent = snap_to_grid(comm, local);
  const std::vector<std::uint64_t> keys(all.keys.begin() + static_cast<std::ptrdiff_t>(first),
                                        all.keys.begin() + static_cast<std::ptrdiff_t>(last));
  const KMeansData data{local, keys, first, exponent};
  KMeansOptions options;
  options.k = 5;
  options.n_init = 3;
  options.tol = 0;

  std::vector<std::int32_t> reference_labels;
  const KMeansModel reference = fit_kmeans(comm, data, options, reference_labels);
  ASSERT_GT(reference.total_iterations, 3 * 3);

  MemoryCheckpoints checkpoints;
  options.checkpoints = &checkpoints;
  {
    const SignalAt signal(comm.rank() == 0, 1, 3);
    std::vector<std::int32_t> labels;
    try {
      (void)fit_kmeans(comm, data, options, labels);
      ADD_FAILURE() << "the fit was not stopped";
    } catch (const stop::Stopped& stopped) {
      EXPECT_EQ(stopped.signal(), SIGUSR1);
      // Raised after iteration 3's reduction: the ranks agree on it in iteration 4's.
      EXPECT_EQ(stopped.where(), "k-means k = 5, restart 2/3, iteration 4");
    }
  }
  stop::clear();
  ASSERT_TRUE(checkpoints.saved.has_value());
  EXPECT_EQ(checkpoints.saves, 1);
  EXPECT_EQ(checkpoints.saved->restart, 1);
  EXPECT_EQ(checkpoints.saved->iteration, 4);

  checkpoints.resume = true;
  std::vector<std::int32_t> labels;
  const KMeansModel resumed = fit_kmeans(comm, data, options, labels);
  EXPECT_TRUE(same_bits(reference.centroids, resumed.centroids));
  EXPECT_TRUE(same_bits({reference.inertia}, {resumed.inertia}));
  EXPECT_EQ(reference.n_iter, resumed.n_iter);
  EXPECT_EQ(reference.restart, resumed.restart);
  EXPECT_EQ(reference.total_iterations, resumed.total_iterations);
  EXPECT_EQ(reference.sizes, resumed.sizes);
  EXPECT_EQ(reference_labels, labels);
}
