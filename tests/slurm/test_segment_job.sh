#!/usr/bin/env bash
# jobs/segment.sbatch on a real (private, single-node) Slurm cluster:
#   night 1  sbatch --wait, 2 tasks, a generated file      -> COMPLETED, exit 0, valid HDF5 result,
#                                                             `latest` -> night 1, launched by srun
#   night 2  a bad input                                   -> FAILED with rfmseg's status 1, the
#                                                             error in the job's error log, `latest`
#                                                             and night 1's file untouched
#   night 3  submitted the way the README's cron line does  -> COMPLETED; `latest` -> night 3,
#            it (minimal environment, plain sbatch), with     night 1 kept; the launcher probe
#            srun's pmi2 plugin (which cannot start Debian's  sees srun fail and falls back to
#            Open MPI)                                        mpirun
# usage: test_segment_job.sh REPO BINDIR
source "$(dirname "$0")/lib.sh"

job=$REPO/jobs/segment.sbatch
out=$WORK/results
lines=20000
timeout 120 mpirun -np 2 "$BIN/rfmseg-gen" --output "$WORK/tx.csv" --lines $lines --seed 7 >/dev/null
say "generated $WORK/tx.csv ($lines lines)"
printf 'this,is\nnot,a transaction log\n' >"$WORK/bad.csv"
common=ALL,RFMSEG_BIN=$BIN,RFMSEG_OUTDIR=$out

# --- night 1 --------------------------------------------------------------------------------------
submit_and_wait 120 --ntasks=2 --chdir="$WORK" \
  --export="$common,RFMSEG_INPUT=$WORK/tx.csv,RFMSEG_DATE=2030-01-01" "$job"
night1=$JOB_ID
check "night 1 ends COMPLETED" test "$JOB_STATE" = COMPLETED
check "night 1 exit code 0:0" test "$JOB_EXIT" = 0:0
check "sbatch --wait exits 0 for night 1" test "$SBATCH_STATUS" -eq 0
check "night 1 wrote its logs with the job id" test -s "$WORK/rfmseg-segment-$night1.out" -a -e "$WORK/rfmseg-segment-$night1.err"
result1=$out/segments-2030-01-01.h5
check "dated result exists" test -s "$result1"
check "result is HDF5 that h5ls reads" quiet h5ls -r "$result1"
check "/run ranks = 2" test "$(h5_attr "$result1" ranks)" = 2
check "/run count_lines = $lines" test "$(h5_attr "$result1" count_lines)" = $lines
customers=$(h5_attr "$result1" customers)
check "/customers/customer_id has /run customers ($customers) rows" \
  test -n "$customers" -a "$(h5_rows "$result1" /customers/customer_id)" = "$customers"
check "latest is a symlink to segments-2030-01-01.h5" test "$(readlink "$out/latest")" = segments-2030-01-01.h5
check "latest opens" quiet h5ls "$out/latest"
check "no temporary link or history file left" dir_has_only "$out" segments-2030-01-01.h5 latest history.csv
summary=$(tail -n 1 "$WORK/rfmseg-segment-$night1.out")
say "summary: $summary"
check "one-line summary ends the job log" grep -q "^rfmseg-segment: OK job $night1: $lines lines, $customers customers, 2 ranks via srun --mpi=pmix" <<<"$summary"
sum1=$(md5sum <"$result1")

# --- night 2: bad input ---------------------------------------------------------------------------
submit_and_wait 120 --ntasks=2 --chdir="$WORK" \
  --export="$common,RFMSEG_INPUT=$WORK/bad.csv,RFMSEG_DATE=2030-01-02" "$job"
night2=$JOB_ID
check "night 2 ends FAILED" test "$JOB_STATE" = FAILED
check "night 2 exit code is rfmseg's 1 (1:0)" test "$JOB_EXIT" = 1:0
check "sbatch --wait exits 1 for night 2" test "$SBATCH_STATUS" -eq 1
err=$WORK/rfmseg-segment-$night2.err
check "the error log names the bad input" grep -q "rfmseg: error: .*bad.csv" "$err"
check "the error log has the FAILED summary" grep -q "^rfmseg-segment: FAILED (status 1) job $night2" "$err"
say "error log: $(grep -m1 'rfmseg: error' "$err")"
check "latest still -> night 1" test "$(readlink "$out/latest")" = segments-2030-01-01.h5
check "night 1's result unchanged" test "$(md5sum <"$result1")" = "$sum1"
check "no result and no partial file for night 2" dir_has_only "$out" segments-2030-01-01.h5 latest history.csv

# --- night 3: the README's cron line; srun with pmi2 cannot start MPI -> mpirun ---------------------
# What cron runs: /bin/sh, PATH=/usr/bin:/bin, no other variables (SLURM_CONF only because this
# cluster's configuration is not in /etc/slurm).
cron_cmd="cd $WORK && sbatch --parsable --nodes=1 --ntasks-per-node=2 --dependency=singleton --export=ALL,RFMSEG_BIN=$BIN,RFMSEG_OUTDIR=$out,RFMSEG_INPUT=$WORK/tx.csv,RFMSEG_DATE=2030-01-03,RFMSEG_SRUN_MPI=pmi2 $job"
night3=$(env -i HOME="$WORK" PATH=/usr/bin:/bin SHELL=/bin/sh SLURM_CONF="$SLURM_CONF" /bin/sh -c "$cron_cmd") || night3=""
check "cron-style submission accepted" test -n "$night3"
state=$(wait_job "$night3" 120) || true
say "job $night3: $state ($(job_times "$night3"))"
check "night 3 ends COMPLETED" test "$state" = COMPLETED
check "night 3: the probe saw srun --mpi=pmi2 fail" grep -q "srun --mpi=pmi2 cannot start MPI here: falling back to mpirun" "$WORK/rfmseg-segment-$night3.err"
check "night 3 ran with mpirun" grep -q "^rfmseg-segment: OK job $night3: .* via mpirun" "$WORK/rfmseg-segment-$night3.out"
check "latest -> night 3" test "$(readlink "$out/latest")" = segments-2030-01-03.h5
check "night 1's result kept" test "$(md5sum <"$result1")" = "$sum1"
check "night 3's result: 2 ranks" test "$(h5_attr "$out/segments-2030-01-03.h5" ranks)" = 2
check "same customers on both nights" test "$(h5_attr "$out/segments-2030-01-03.h5" customers)" = "$customers"
finish
