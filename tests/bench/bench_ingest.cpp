// Micro-benchmarks of the ingest's inner loops (Google Benchmark). Not part of the test run:
//   cmake --preset release -DRFMSEG_BUILD_BENCHMARKS=ON && cmake --build build --target bench_ingest
//   build/tests/bench/bench_ingest
// Figures of merit: bytes/s of the record + field scanners (per core), dates/s of the date parser
// with and without the last-text cache, lines/s of combining parsed lines per customer/invoice/day,
// and bytes/s of the whole first stage (ingest + shuffle + rfm + sort) on one rank:
//   RFMSEG_BENCH_INPUT=retail.csv build/tests/bench/bench_ingest --benchmark_filter=customer_stage
// (rates are per CPU second of the benchmark thread, so a busy machine disturbs them little).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/core/csv.hpp"
#include "rfmseg/core/date.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/io/ingest.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace {

using namespace rfmseg;

// ~1 MiB of Online-Retail lines like rfmseg-gen's: 5-line invoices, a quoted description on
// every `quoted_every`-th line (0 = none).
std::string retail_block(int quoted_every) {
  std::string block;
  for (int i = 0; block.size() < (1u << 20); ++i) {
    const int invoice = 536365 + i / 5;
    std::string description = "WHITE HANGING HEART T-LIGHT HOLDER";
    if (quoted_every > 0 && i % quoted_every == 0) description = "\"SET OF 3, \"\"PANTRY\"\" DESIGN\"";
    block += std::to_string(invoice) + ",85123A," + description + "," + std::to_string(1 + i % 12) + ",12/" +
             std::to_string(1 + (i / 400) % 28) + "/2010 " + std::to_string(8 + (i / 50) % 10) + ":26,2.55," +
             std::to_string(12346 + (i / 5) % 4000) + ",United Kingdom\n";
  }
  return block;
}

// The fast path: every record of a block without quotes, its delimiters located (SSE2).
void plain_record_scanner(benchmark::State& state) {
  const std::string block = retail_block(0);
  std::vector<std::uint32_t> delimiters(256);
  for (auto _ : state) {
    std::size_t pos = 0, records = 0, fields = 0;
    while (pos < block.size()) {
      std::size_t count = 0, end = 0;
      const auto scan = csv::scan_plain_record(block, pos, ',', '"', delimiters.data(), delimiters.size(), count, end);
      if (scan != csv::PlainScan::plain) break;
      fields += count + 1;
      ++records;
      pos = end;
    }
    benchmark::DoNotOptimize(records);
    benchmark::DoNotOptimize(fields);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * block.size()));
}
BENCHMARK(plain_record_scanner);

// What the reader does per block: the fast path, and the exact path (find_record_end +
// FieldSplitter) for the records with quotes; `arg` = one quoted record in every arg (0 = none).
void record_and_field_scanner(benchmark::State& state) {
  const std::string block = retail_block(static_cast<int>(state.range(0)));
  std::vector<std::uint32_t> delimiters(256);
  csv::FieldSplitter splitter;
  std::vector<std::string_view> split;
  for (auto _ : state) {
    std::size_t pos = 0, fields = 0;
    while (pos < block.size()) {
      std::size_t count = 0, end = 0;
      if (csv::scan_plain_record(block, pos, ',', '"', delimiters.data(), delimiters.size(), count, end) ==
          csv::PlainScan::plain) {
        fields += count + 1;
        pos = end;
        continue;
      }
      end = csv::find_record_end(block, pos, '"');
      if (end == std::string_view::npos) break;
      splitter.split(csv::strip_line_end(std::string_view(block).substr(pos, end - pos)), split);
      fields += split.size();
      pos = end;
    }
    benchmark::DoNotOptimize(fields);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * block.size()));
}
BENCHMARK(record_and_field_scanner)->Arg(0)->Arg(20)->Arg(2);

// The former per-record path, for comparison: find_record_end + FieldSplitter on every record.
void exact_path_only(benchmark::State& state) {
  const std::string block = retail_block(0);
  csv::FieldSplitter splitter;
  std::vector<std::string_view> split;
  for (auto _ : state) {
    std::size_t pos = 0, fields = 0;
    while (pos < block.size()) {
      const std::size_t end = csv::find_record_end(block, pos, '"');
      if (end == std::string_view::npos) break;
      splitter.split(csv::strip_line_end(std::string_view(block).substr(pos, end - pos)), split);
      fields += split.size();
      pos = end;
    }
    benchmark::DoNotOptimize(fields);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * block.size()));
}
BENCHMARK(exact_path_only);

// The counting pass before the exscan of quote parity and line numbers.
void quote_and_newline_count(benchmark::State& state) {
  const std::string block = retail_block(20);
  for (auto _ : state) {
    std::uint64_t quotes = 0, newlines = 0;
    csv::count_two(block, '"', '\n', quotes, newlines);
    benchmark::DoNotOptimize(quotes);
    benchmark::DoNotOptimize(newlines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * block.size()));
}
BENCHMARK(quote_and_newline_count);

// Timestamps as a time-sorted export has them: each repeated `arg` times in a row (the lines of
// one invoice), 1 = every text differs from the previous one.
std::vector<std::string> timestamps(int repeat) {
  std::vector<std::string> texts;
  for (int i = 0; texts.size() < 4096; ++i)
    for (int r = 0; r < repeat && texts.size() < 4096; ++r)
      texts.push_back(std::to_string(1 + (i / 300) % 12) + "/" + std::to_string(1 + (i / 10) % 28) + "/2010 " +
                      std::to_string(7 + i % 13) + ":" + std::to_string(10 + i % 50));
  return texts;
}

void date_parser_uncached(benchmark::State& state) {
  const auto texts = timestamps(static_cast<int>(state.range(0)));
  const DateParser parser;
  std::size_t i = 0;
  for (auto _ : state) {
    std::int32_t day = 0;
    benchmark::DoNotOptimize(parser.parse(texts[i++ & 4095], day));
    benchmark::DoNotOptimize(day);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(date_parser_uncached)->Arg(1)->Arg(5);

void date_parser_cached(benchmark::State& state) {
  const auto texts = timestamps(static_cast<int>(state.range(0)));
  CachedDateParser parser;
  std::size_t i = 0;
  for (auto _ : state) {
    std::int32_t day = 0;
    benchmark::DoNotOptimize(parser.parse(texts[i++ & 4095], day));
    benchmark::DoNotOptimize(day);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(date_parser_cached)->Arg(1)->Arg(5)->Arg(50);

// Combining parsed lines into per-(customer, invoice, day) groups: `arg` lines per invoice.
void combine_lines(benchmark::State& state) {
  const auto per_invoice = static_cast<std::size_t>(state.range(0));
  std::vector<std::string> customers, invoices;
  for (std::size_t i = 0; i < 4096; ++i) {
    customers.push_back(std::to_string(12346 + (i * 7919) % 4000));
    invoices.push_back(std::to_string(536365 + i));
  }
  CombinedBatch batch;
  const std::size_t lines = 1 << 16;
  for (auto _ : state) {
    batch.clear();
    for (std::size_t l = 0; l < lines; ++l) {
      const std::size_t invoice = (l / per_invoice) & 4095;
      batch.add(customers[invoice], invoices[invoice], 14944, mix64(l), Fate::kept, 2550000);
    }
    benchmark::DoNotOptimize(batch.groups().data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines));
}
BENCHMARK(combine_lines)->Arg(1)->Arg(5);

// The whole customer stage on one rank: RFMSEG_BENCH_INPUT, else a generated ~40 MB file.
void customer_stage(benchmark::State& state) {
  std::string path;
  if (const char* input = std::getenv("RFMSEG_BENCH_INPUT")) {
    path = input;
  } else {
    path = "/tmp/rfmseg-bench-ingest.csv";
    std::ofstream out(path, std::ios::binary);
    out << "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";
    const std::string block = retail_block(20);
    for (int i = 0; i < 40; ++i) out << block;
  }
  const auto comm = mpi::Comm::world();
  RunConfig config;
  config.input.paths = {path};
  config.input.chunk_bytes = static_cast<std::uint64_t>(state.range(0)) << 20;
  config.quiet = true;
  std::uint64_t bytes = 0, customers = 0;
  double ingest = 0, rfm = 0;
  for (auto _ : state) {
    PhaseTimes times(comm);
    const CustomerStage stage = build_customer_table(comm, config, times);
    bytes = stage.bytes_read;
    customers = stage.total_customers;
    for (const auto& [name, seconds] : times.phases()) {
      if (name == "ingest") ingest += seconds;
      if (name == "rfm") rfm += seconds;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["customers"] = static_cast<double>(customers);
  state.counters["ingest_s"] = ingest / static_cast<double>(state.iterations());
  state.counters["rfm_s"] = rfm / static_cast<double>(state.iterations());
}
BENCHMARK(customer_stage)->Arg(64)->Arg(16)->Arg(4)->Unit(benchmark::kMillisecond);

}  // namespace

// main(): mpi_bench_main.cpp (MPI around Google Benchmark).
