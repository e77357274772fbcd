#!/usr/bin/env bash
# jobs/segment.sbatch across nodes: two slurmd on this host emulate nodes n1 and n2 (2 CPUs each),
# the job takes 2 nodes x 2 tasks. Once with the default launcher (the probe finds that
# srun --mpi=pmix starts MPI across the nodes), once with mpirun inside the allocation; both
# results must equal a 1-rank run's outside Slurm.
# Emulation only: ranks of two "nodes" on one host cannot use Open MPI's shared-memory transport
# between them (MPI_Init hangs), so TCP is forced here; real nodes need nothing of the kind.
# usage: test_multinode_job.sh REPO BINDIR
export SLURM_LOCAL_NODES=2 SLURM_LOCAL_CPUS=2
source "$(dirname "$0")/lib.sh"

lines=20000
timeout 120 "$BIN/rfmseg-gen" --output "$WORK/tx.csv" --lines $lines --seed 11 >/dev/null
timeout 120 mpirun -np 1 "$BIN/rfmseg" --quiet --config "$REPO/configs/nightly.ini" \
  --input "$WORK/tx.csv" --output "$WORK/reference.h5" 2>/dev/null
say "reference result written by 1 rank outside Slurm"
check "two idle nodes" test "$(sinfo -h -N -o '%N %T' | tr '\n' ' ')" = "n1 idle n2 idle "

# (Commas cannot travel inside sbatch's --export list: this one comes from the environment.)
# The two nodes share this host's cores: ranks waiting in MPI must yield them, not spin
# (jobs/launch.sh does this by itself only when one node has more tasks than cores).
export OMPI_MCA_btl=self,tcp OMPI_MCA_mpi_yield_when_idle=1 RFMSEG_PROBE_TIMEOUT=30
common=ALL,RFMSEG_BIN=$BIN,RFMSEG_INPUT=$WORK/tx.csv
for launcher in auto mpirun; do
  out=$WORK/results-$launcher
  submit_and_poll 150 --nodes=2 --ntasks-per-node=2 --chdir="$WORK" \
    --export="$common,RFMSEG_OUTDIR=$out,RFMSEG_DATE=2030-02-01,RFMSEG_LAUNCHER=$launcher" \
    "$REPO/jobs/segment.sbatch"
  check "$launcher: 2-node job ends COMPLETED" test "$JOB_STATE" = COMPLETED
  check "$launcher: it ran on n1 and n2" test "$(job_field "$JOB_ID" NodeList)" = "n[1-2]"
  expected="srun --mpi=pmix"
  [[ $launcher == mpirun ]] && expected=mpirun
  summary=$(tail -n 1 "$WORK/rfmseg-segment-$JOB_ID.out")
  say "summary: $summary"
  check "$launcher: 4 ranks via $expected" grep -q "^rfmseg-segment: OK job $JOB_ID: $lines lines, .* 4 ranks via $expected," <<<"$summary"
  result=$out/segments-2030-02-01.h5
  check "$launcher: /run ranks = 4" test "$(h5_attr "$result" ranks)" = 4
  check "$launcher: customers table identical to the 1-rank run (h5diff)" \
    quiet h5diff "$WORK/reference.h5" "$result" /customers /customers
done
finish
