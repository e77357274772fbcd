#!/usr/bin/env bash
# jobs/segment.sbatch does not trust srun's status 0 when the step never ran rfmseg (issue 16):
# srun 22.05 prints "Task launch for StepId=... failed" and exits 0 when a requeued job starts over
# its previous run's step still being torn down (seen in slurm.requeue_job). Reproducing that race
# on demand is not possible, so the failure is injected (tests/slurm/fault/srun: the first N
# launches of rfmseg print srun's launch-failure lines and exit 0; the probe and everything else is
# the real srun on the real local cluster):
#   night 1  one failed launch   -> the job says so, launches again, COMPLETED, exit 0:0, OK
#                                   summary, latest -> night 1
#   night 2  every launch fails  -> FAILED (status 2) after RFMSEG_LAUNCH_ATTEMPTS (2) attempts,
#                                   the summary says the step did not run, latest still -> night 1,
#                                   no result of night 2
# usage: test_launch_retry.sh REPO BINDIR
source "$(dirname "$0")/lib.sh"

job=$REPO/jobs/segment.sbatch
out=$WORK/results
lines=20000
timeout 120 mpirun -np 2 "$BIN/rfmseg-gen" --output "$WORK/tx.csv" --lines $lines --seed 7 >/dev/null
say "generated $WORK/tx.csv ($lines lines)"
export RFMSEG_TEST_REAL_SRUN
RFMSEG_TEST_REAL_SRUN=$(command -v srun)
export PATH=$REPO/tests/slurm/fault:$PATH
common=ALL,RFMSEG_BIN=$BIN,RFMSEG_OUTDIR=$out,RFMSEG_INPUT=$WORK/tx.csv,RFMSEG_LAUNCHER=srun

# --- night 1: the first launch fails ----------------------------------------------------------------
submit_and_poll 120 --ntasks=2 --chdir="$WORK" \
  --export="$common,RFMSEG_DATE=2030-01-01,RFMSEG_TEST_SRUN_FAILS=1,RFMSEG_TEST_SRUN_COUNT=$WORK/count1" "$job"
night1=$JOB_ID
err=$WORK/rfmseg-segment-$night1.err
check "night 1: the injected launch failure happened" grep -q "^srun: error: Task launch for StepId=$night1.1 failed" "$err"
say "night 1: $(grep -m1 'did not run rfmseg' "$err")"
check "night 1: the job noticed and launched again" \
  grep -q "^rfmseg-segment: the step did not run rfmseg (srun: error: Task launch for .*): launching it again in 5 s (attempt 2 of 3)" "$err"
check "night 1: two launches" test "$(cat "$WORK/count1")" = 2
check "night 1 ends COMPLETED" test "$JOB_STATE" = COMPLETED
check "night 1 exit code 0:0" test "$JOB_EXIT" = 0:0
summary=$(tail -n 1 "$WORK/rfmseg-segment-$night1.out")
say "summary: $summary"
check "night 1: OK summary" grep -q "^rfmseg-segment: OK job $night1: $lines lines, .* latest -> segments-2030-01-01.h5" <<<"$summary"
check "latest -> night 1" test "$(readlink "$out/latest")" = segments-2030-01-01.h5
sum1=$(md5sum <"$out/segments-2030-01-01.h5")

# --- night 2: no launch works -----------------------------------------------------------------------
submit_and_poll 120 --ntasks=2 --chdir="$WORK" \
  --export="$common,RFMSEG_DATE=2030-01-02,RFMSEG_TEST_SRUN_FAILS=9,RFMSEG_TEST_SRUN_COUNT=$WORK/count2,RFMSEG_LAUNCH_ATTEMPTS=2" "$job"
night2=$JOB_ID
summary=$(tail -n 1 "$WORK/rfmseg-segment-$night2.out")
say "summary: $summary"
check "night 2 ends FAILED" test "$JOB_STATE" = FAILED
check "night 2 exit code 2:0" test "$JOB_EXIT" = 2:0
check "night 2: two launches" test "$(cat "$WORK/count2")" = 2
check "night 2: the summary says the step did not run" \
  grep -q "^rfmseg-segment: FAILED (status 2) job $night2: the step did not run rfmseg in 2 attempt(s) (srun: error: Task launch for .*) after [0-9.]*s; nothing was changed: resubmit; latest still -> segments-2030-01-01.h5" <<<"$summary"
check "latest still -> night 1" test "$(readlink "$out/latest")" = segments-2030-01-01.h5
check "night 1's result unchanged" test "$(md5sum <"$out/segments-2030-01-01.h5")" = "$sum1"
check "no result of night 2" dir_has_only "$out" segments-2030-01-01.h5 latest history.csv
finish
