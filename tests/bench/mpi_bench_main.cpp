// main() of the micro-benchmarks: MPI initialised around Google Benchmark (some benchmarks run a
// stage or a k-means++ race on one rank, MPI_COMM_SELF).

#include <benchmark/benchmark.h>

#include "rfmseg/parallel/mpi.hpp"

int main(int argc, char** argv) {
  rfmseg::mpi::Environment environment(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
