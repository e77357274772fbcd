// Micro-benchmarks of the hot loops (Google Benchmark). Not part of the test run:
//   cmake --preset release -DRFMSEG_BUILD_BENCHMARKS=ON && cmake --build build --target bench_kernels
//   build/tests/bench/bench_kernels

#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <variant>
#include <vector>

#include "model/kmeans/kernels.hpp"
#include "rfmseg/core/csv.hpp"
#include "rfmseg/core/date.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/number.hpp"
#include "rfmseg/model/kmeans/init.hpp"
#include "rfmseg/model/kmeans/kdtree.hpp"
#include "rfmseg/model/kmeans/steps.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace {

using namespace rfmseg;

Features random_features(std::size_t n) {
  Features f;
  f.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t d = 0; d < feature_count; ++d)
      f.column[d][i] = std::ldexp(std::nearbyint(std::ldexp(4 * unit_open(random_word(1, d, i)) - 2, 36)), -36);
  return f;
}

// Assign + accumulate of one Lloyd step: points per second is the figure of merit.
void lloyd_step(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int k = static_cast<int>(state.range(1));
  const Features f = random_features(n);
  const kmeans::GridPoints grid(f, 36);
  std::vector<double> centroids;
  for (int j = 0; j < k; ++j)
    for (std::size_t d = 0; d < feature_count; ++d) centroids.push_back(f.column[d][static_cast<std::size_t>(j) * 7]);
  std::vector<std::int32_t> labels(n, -1);
  kmeans::LloydStep lloyd(f, grid);
  for (auto _ : state) {
    auto sums = lloyd.step(centroids, labels);
    benchmark::DoNotOptimize(sums.counts.data());
  }
  state.counters["points/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["distances/s"] =
      benchmark::Counter(static_cast<double>(n) * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(lloyd_step)
    ->Args({1 << 20, 3})
    ->Args({1 << 20, 4})
    ->Args({1 << 20, 8})
    ->Args({1 << 20, 10})
    ->Unit(benchmark::kMillisecond);

// Clustered points (8 clouds): where K-means runs many iterations and bounds pay off.
Features clustered_features(std::size_t n) {
  Features f;
  f.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t d = 0; d < feature_count; ++d) {
      double s = 0;
      for (std::uint64_t t = 0; t < 4; ++t) s += unit_open(random_word(5, d * 4 + t, i));
      const double center = static_cast<double>((i * (d + 3)) % 8) - 3.5;
      f.column[d][i] = std::ldexp(std::nearbyint(std::ldexp(center + (s - 2.0), 36)), -36);
    }
  return f;
}

// 20 Lloyd iterations (assign, accumulate, move the centroids) with plain Lloyd (arg 2 = 0),
// Hamerly's bounds (1) or filtering over the kd-tree (2; the tree is built once, outside the
// timing, as a sweep does), one core, no MPI. Reports points x iterations per second and the
// fraction of point-centroid distances not computed.
void kmeans_iterations(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int k = static_cast<int>(state.range(1));
  const int algorithm = static_cast<int>(state.range(2));
  constexpr int iterations = 20;
  const Features f = clustered_features(n);
  const kmeans::GridPoints grid(f, 36);
  const kmeans::PointTree tree(f, grid);
  std::uint64_t evaluations = 0, plain = 0;
  for (auto _ : state) {
    std::vector<double> centroids;
    for (int j = 0; j < k; ++j)
      for (std::size_t d = 0; d < feature_count; ++d)
        centroids.push_back(f.column[d][static_cast<std::size_t>(j) * 7919]);
    std::vector<std::int32_t> labels(n, -1);
    kmeans::AnyStep stepper = algorithm == 2   ? kmeans::AnyStep(kmeans::FilterStep(tree))
                              : algorithm == 1 ? kmeans::AnyStep(kmeans::HamerlyStep(f, grid))
                                               : kmeans::AnyStep(kmeans::LloydStep(f, grid));
    for (int it = 0; it < iterations; ++it) {
      auto step = std::visit([&](auto& policy) { return policy.step(centroids, labels); }, stepper);
      evaluations += step.distance_evaluations;
      plain += n * static_cast<std::uint64_t>(k);
      for (std::size_t j = 0; j < static_cast<std::size_t>(k); ++j) {
        if (step.counts[j] == 0) continue;
        for (std::size_t d = 0; d < feature_count; ++d)
          centroids[j * feature_count + d] = std::ldexp(
              static_cast<double>(step.sums[j * feature_count + d]) / static_cast<double>(step.counts[j]), -36);
      }
    }
    benchmark::DoNotOptimize(centroids.data());
  }
  state.counters["point-iterations/s"] =
      benchmark::Counter(static_cast<double>(n) * iterations, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["distances/s"] = benchmark::Counter(static_cast<double>(evaluations), benchmark::Counter::kIsRate);
  state.counters["skipped"] = 1.0 - static_cast<double>(evaluations) / static_cast<double>(plain);
}
BENCHMARK(kmeans_iterations)
    ->ArgsProduct({{1 << 19}, {3, 4, 8, 10}, {0, 1, 2}})
    ->ArgNames({"n", "k", "lloyd0_hamerly1_kdtree2"})
    ->Unit(benchmark::kMillisecond);

// Building the kd-tree of n points (once per run in rfmseg).
void kdtree_build(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Features f = clustered_features(n);
  const kmeans::GridPoints grid(f, 36);
  for (auto _ : state) {
    const kmeans::PointTree tree(f, grid);
    benchmark::DoNotOptimize(tree.nodes().data());
  }
  state.counters["points/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(kdtree_build)->Arg(1 << 19)->ArgName("n")->Unit(benchmark::kMillisecond);

// k-means++ (the exponential race, one rank): k steps over n points.
void kmeans_plus_plus(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int k = static_cast<int>(state.range(1));
  const Features f = clustered_features(n);
  std::vector<std::uint64_t> keys(n);
  for (std::size_t i = 0; i < n; ++i) keys[i] = random_word(9, 0, i);
  const mpi::Comm self(MPI_COMM_SELF);
  const KMeansData data{f, keys, 0, 36};
  int restart = 0;
  for (auto _ : state) {
    const kmeans::Centroids c = kmeans::KMeansPlusPlus{}.initialize(kmeans::Context{self, data, k, 42, restart++});
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["point-steps/s"] =
      benchmark::Counter(static_cast<double>(n) * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(kmeans_plus_plus)->ArgsProduct({{1 << 19}, {3, 10}})->ArgNames({"n", "k"})->Unit(benchmark::kMillisecond);

// The tile kernels alone, each compilation called directly (nearest2 0 = nearest_in_tile, 1 =
// nearest2_in_tile; avx2 0 = portable SSE2, 1 = AVX2): what the runtime dispatch gains.
void tile_kernels(benchmark::State& state) {
  namespace kd = kmeans::detail;
  const int k = static_cast<int>(state.range(0));
  const bool second = state.range(1) != 0, avx2 = state.range(2) != 0;
  if (avx2 && !kd::avx2_kernels_usable()) {
    state.SkipWithError("no AVX2 on this CPU");
    return;
  }
  constexpr std::size_t n = 1 << 16;  // 1.5 MB of points: in cache, the arithmetic is timed
  const Features f = random_features(n);
  std::vector<double> centroids;
  for (int j = 0; j < k; ++j)
    for (std::size_t d = 0; d < feature_count; ++d) centroids.push_back(f.column[d][static_cast<std::size_t>(j) * 7]);
  std::vector<double> best_d(kd::tile), second_d(kd::tile), best(kd::tile);
  const auto nearest = avx2 ? &kd::nearest_in_tile_avx2 : &kd::nearest_in_tile_portable;
  const auto nearest2 = avx2 ? &kd::nearest2_in_tile_avx2 : &kd::nearest2_in_tile_portable;
  const auto kk = static_cast<std::size_t>(k);
  for (auto _ : state) {
    for (std::size_t start = 0; start < n; start += kd::tile) {
      const double *x0 = f.column[0].data() + start, *x1 = f.column[1].data() + start, *x2 = f.column[2].data() + start;
      if (second)
        nearest2(x0, x1, x2, kd::tile, centroids.data(), kk, best_d.data(), second_d.data(), best.data());
      else
        nearest(x0, x1, x2, kd::tile, centroids.data(), kk, best_d.data(), best.data());
      benchmark::DoNotOptimize(best.data());
      benchmark::ClobberMemory();
    }
  }
  state.counters["points/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(tile_kernels)
    ->ArgsProduct({{3, 4, 8, 10}, {0, 1}, {0, 1}})
    ->ArgNames({"k", "nearest2", "avx2"})
    ->Unit(benchmark::kMicrosecond);

const std::string record =
    "536365,85123A,\"WHITE HANGING HEART, \"\"T-LIGHT\"\" HOLDER\",6,12/1/2010 8:26,2.55,17850,United Kingdom";

void field_splitter(benchmark::State& state) {
  csv::FieldSplitter splitter;
  std::vector<std::string_view> fields;
  for (auto _ : state) {
    benchmark::DoNotOptimize(splitter.split(record, fields));
    benchmark::DoNotOptimize(fields.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * record.size()));
}
BENCHMARK(field_splitter);

void record_scanner(benchmark::State& state) {
  std::string block;
  while (block.size() < (1 << 20)) block += record + "\n";
  for (auto _ : state) {
    std::size_t pos = 0, records = 0;
    while (pos < block.size()) {
      pos = csv::find_record_end(block, pos, '"');
      ++records;
    }
    benchmark::DoNotOptimize(records);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * block.size()));
}
BENCHMARK(record_scanner);

void date_parser(benchmark::State& state) {
  const DateParser parser;
  const std::vector<std::string> dates{"12/1/2010 8:26", "2010-12-01 08:26:00", "14-Jan-15", "19970101"};
  std::size_t i = 0;
  for (auto _ : state) {
    std::int32_t day = 0;
    benchmark::DoNotOptimize(parser.parse(dates[i++ & 3], day));
    benchmark::DoNotOptimize(day);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(date_parser);

void money_parser(benchmark::State& state) {
  const std::vector<std::string> prices{"2.55", "11062.06", "0.001", "-27.50"};
  std::size_t i = 0;
  for (auto _ : state) {
    std::int64_t micros = 0;
    benchmark::DoNotOptimize(parse_micros(prices[i++ & 3], micros));
    benchmark::DoNotOptimize(micros);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(money_parser);

}  // namespace

// main(): mpi_bench_main.cpp (MPI around Google Benchmark).
