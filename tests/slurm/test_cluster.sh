#!/usr/bin/env bash
# scripts/slurm-local.sh itself: the node declares 4 CPUs (more than this machine may have), a
# 4-task MPI step starts with srun --mpi=pmix, status reports the daemons; (the stop and the
# check that nothing is left run in lib.sh after this body).
# usage: test_cluster.sh REPO BINDIR
source "$(dirname "$0")/lib.sh"

check "status: all three daemons run" "$SLURM_LOCAL" status
check "node idle with 4 CPUs" test "$(sinfo -h -o '%T %c')" = "idle 4"
check "srun offers the pmix plugin" grep -qw pmix <(srun --mpi=list 2>&1)
# 4 ranks of one MPI job: rank 0 alone prints the version line.
out=$(timeout 60 srun --ntasks=4 --mpi=pmix "$BIN/rfmseg" --version 2>&1) || true
say "srun -n 4 --mpi=pmix rfmseg --version: $out"
check "srun --mpi=pmix starts one 4-rank MPI job" test "$(grep -c '^rfmseg ' <<<"$out")" -eq 1
submit_and_poll 60 --ntasks=1 --chdir="$WORK" --output=hello.out --wrap 'echo hello from $SLURM_JOB_ID'
check "a trivial batch job completes" test "$JOB_STATE" = COMPLETED
check "its output is there" grep -q "hello from $JOB_ID" "$WORK/hello.out"
finish
