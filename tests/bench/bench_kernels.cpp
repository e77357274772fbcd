// Micro-benchmarks of the hot loops (Google Benchmark). Not part of the test run:
//   cmake --preset release -DRFMSEG_BUILD_BENCHMARKS=ON && cmake --build build --target bench_kernels
//   build/tests/bench/bench_kernels

#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "rfmseg/csv.hpp"
#include "rfmseg/date.hpp"
#include "rfmseg/hash.hpp"
#include "rfmseg/kmeans.hpp"
#include "rfmseg/number.hpp"

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
  const detail::GridPoints grid(f, 36);
  std::vector<double> centroids;
  for (int j = 0; j < k; ++j)
    for (std::size_t d = 0; d < feature_count; ++d) centroids.push_back(f.column[d][static_cast<std::size_t>(j) * 7]);
  std::vector<std::int32_t> labels(n, -1);
  for (auto _ : state) {
    auto sums = detail::assign_and_accumulate(f, grid, centroids, k, labels);
    benchmark::DoNotOptimize(sums.counts.data());
  }
  state.counters["points/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["distances/s"] =
      benchmark::Counter(static_cast<double>(n) * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(lloyd_step)->Args({1 << 20, 3})->Args({1 << 20, 4})->Args({1 << 20, 8})->Args({1 << 20, 10})->Unit(benchmark::kMillisecond);

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

BENCHMARK_MAIN();
