/* MPI_Allreduce latency by message size, for scripts/cost_model.py (one input of the scaling
 * model: rfmseg's K-means does one allreduce of its cluster sums per Lloyd iteration).
 *
 *   mpicc -O2 -o allreduce_latency allreduce_latency.c
 *   mpirun -np 2 ./allreduce_latency [iterations]     -> one JSON object on stdout (rank 0)
 *
 * For each size (8 B .. 64 KiB of int64 sums, MPI_SUM) it times `iterations` back-to-back
 * allreduces after a warm-up, between two barriers, and reports the slowest rank's mean time per
 * call and the median of 5 such batches (a shared machine has outliers). Built and run by
 * scripts/reference/measure_costs.sh; not part of rfmseg. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
  if (iterations < 1) iterations = 1;
  enum { batches = 5, max_count = 8192 };
  static const int counts[] = {1, 8, 32, 128, 512, 2048, max_count};
  int64_t* in = malloc(sizeof(int64_t) * max_count);
  int64_t* out = malloc(sizeof(int64_t) * max_count);
  if (!in || !out) MPI_Abort(MPI_COMM_WORLD, 2);
  for (int i = 0; i < max_count; ++i) in[i] = rank + i;
  if (rank == 0) printf("{\"ranks\": %d, \"iterations\": %ld, \"seconds_per_call\": {", size, iterations);
  for (size_t c = 0; c < sizeof counts / sizeof counts[0]; ++c) {
    const int count = counts[c];
    double batch[batches];
    for (int i = 0; i < 100; ++i) MPI_Allreduce(in, out, count, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    for (int b = 0; b < batches; ++b) {
      MPI_Barrier(MPI_COMM_WORLD);
      const double t0 = MPI_Wtime();
      for (long i = 0; i < iterations; ++i)
        MPI_Allreduce(in, out, count, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
      double mine = (MPI_Wtime() - t0) / (double)iterations, slowest = 0;
      MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      batch[b] = slowest;
    }
    qsort(batch, batches, sizeof batch[0], compare_double);
    if (rank == 0) printf("%s\"%zu\": %.9g", c ? ", " : "", (size_t)count * sizeof(int64_t), batch[batches / 2]);
  }
  if (rank == 0) printf("}}\n");
  free(in);
  free(out);
  MPI_Finalize();
  return 0;
}
