#!/usr/bin/env bash
# jobs/segment.sbatch rides through a time limit or a preemption (issue 16), on a real (private,
# single-node) Slurm cluster:
#   a running job gets `scancel --batch --signal=USR1` (what --signal=B:USR1@margin sends before
#   the time limit) mid-K-means -> the batch shell passes it on, rfmseg checkpoints and exits 4,
#   the job requeues itself (REQUEUED summary), the requeued run resumes (--resume) and completes
#   (OK summary, COMPLETED, exit 0:0, Restarts=1), `latest` moves exactly once (old -> new), the
#   result is bit-identical to an uninterrupted run, and no checkpoint is left.
# Slurm holds a requeued job for cred_expire + 1 s (121 s by default) before it may start again;
# the test moves its start to now (scontrol update StartTime=now), as an operator may.
# usage: test_requeue_job.sh REPO BINDIR
export SLURM_TEST_BUDGET=${SLURM_TEST_BUDGET:-330} SLURM_TEST_TIMEOUT=${SLURM_TEST_TIMEOUT:-420}
source "$(dirname "$0")/lib.sh"

job=$REPO/jobs/segment.sbatch
out=$WORK/results
lines=600000
timeout 120 mpirun -np 2 "$BIN/rfmseg-gen" --output "$WORK/tx.csv" --lines $lines --seed 11 >/dev/null
say "generated $WORK/tx.csv ($lines lines)"
# 60 restarts to convergence (tol 0) per k: K-means lasts seconds even with the kd-tree step, so the
# signal sent once k >= 3 shows up lands inside it.
model=(--k-range 1..10 --n-init 60 --tol 0)

# The uninterrupted run to compare with (the job's options: no config file, the same model).
timeout 120 mpirun -np 2 "$BIN/rfmseg" --input "$WORK/tx.csv" --output "$WORK/reference.h5" "${model[@]}" --quiet \
  >"$WORK/reference.log" 2>&1
check "uninterrupted reference run succeeds" test -s "$WORK/reference.h5"

# An older night that `latest` points at before the job.
mkdir -p "$out"
cp "$WORK/reference.h5" "$out/segments-2030-01-01.h5"
ln -s segments-2030-01-01.h5 "$out/latest"

status=$WORK/status.json
JOB_ID=$(timeout 30 sbatch --parsable --ntasks=2 --chdir="$WORK" \
  --export="ALL,RFMSEG_BIN=$BIN,RFMSEG_OUTDIR=$out,RFMSEG_INPUT=$WORK/tx.csv,RFMSEG_DATE=2030-01-02,RFMSEG_CONFIG=none,RFMSEG_PREVIOUS=none,RFMSEG_ARGS=${model[*]},RFMSEG_STATUS_FILE=$status,RFMSEG_MAX_REQUEUES=2" \
  "$job") || JOB_ID=""
JOB_ID=${JOB_ID%%;*}
check "job submitted" test -n "$JOB_ID"

# Wait (on the status file, not a guess) until the job is in K-means at k >= 3, then signal the
# batch shell as Slurm does --signal=B:USR1@margin. Meanwhile and until the end, record every
# value `latest` takes.
signalled=0 hurried=0
links=("$(readlink "$out/latest")")
deadline=$((SECONDS + 270))
state=""
while ((SECONDS < deadline)); do
  link=$(readlink "$out/latest" 2>/dev/null || echo none)
  [[ $link == "${links[-1]}" ]] || links+=("$link")
  state=$(job_field "$JOB_ID" JobState)
  if ((!signalled)) && grep -q '"last_event": "kmeans k = \([3-9]\|10\),' "$status" 2>/dev/null; then
    say "status file: $(sed -n 's/^ *"last_event": //p' "$status"); scancel --batch --signal=USR1 $JOB_ID"
    timeout 20 scancel --batch --signal=USR1 "$JOB_ID"
    signalled=1
  fi
  # Hurry the requeued job only once the stopped run is gone: Slurm's hold exists to let its steps
  # end, and a run started over a step still being torn down fails to launch its own.
  if ((signalled && !hurried)) && [[ $state == PENDING && $(job_field "$JOB_ID" Restarts) == 1 ]] \
     && ! pgrep -f "slurmstepd: \[$JOB_ID\." >/dev/null; then
    say "requeued: pending until $(job_field "$JOB_ID" StartTime); scontrol update JobId=$JOB_ID StartTime=now"
    timeout 20 scontrol update JobId="$JOB_ID" StartTime=now || say "scontrol update StartTime=now failed"
    hurried=1
  fi
  case $state in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE) break ;; esac
  sleep 0.2
done
link=$(readlink "$out/latest" 2>/dev/null || echo none)
[[ $link == "${links[-1]}" ]] || links+=("$link")
say "job $JOB_ID: $state, ExitCode $(job_field "$JOB_ID" ExitCode), Restarts $(job_field "$JOB_ID" Restarts) ($(job_times "$JOB_ID"))"
[[ $state == COMPLETED ]] || timeout 20 scancel "$JOB_ID" 2>/dev/null || true

log=$WORK/rfmseg-segment-$JOB_ID.out
err=$WORK/rfmseg-segment-$JOB_ID.err
check "the signal was sent mid-K-means" test "$signalled" -eq 1
check "job COMPLETED" test "$state" = COMPLETED
check "exit code 0:0" test "$(job_field "$JOB_ID" ExitCode)" = 0:0
check "requeued once (Restarts=1)" test "$(job_field "$JOB_ID" Restarts)" = 1
say "summaries: $(grep -E '^rfmseg-segment: (OK|FAILED|REQUEUED|STOPPED)' "$log" | tr '\n' '|')"
check "rfmseg stopped by SIGUSR1 in K-means, once" test "$(grep -c '^rfmseg: stopped by SIGUSR1 at k-means k = ' "$err")" -eq 1
check "the stopped run's summary: REQUEUED (status 4), requeue 1 of 2" \
  grep -q "^rfmseg-segment: REQUEUED (status 4) job $JOB_ID: stopped by SIGUSR1 at k-means k = .*requeue 1 of 2; latest still -> segments-2030-01-01.h5" "$log"
check "the requeued run resumed a K-means fit" grep -q "^rfmseg: resuming: k-means k=" "$err"
check "the last line of the log is the OK summary" \
  grep -q "^rfmseg-segment: OK job $JOB_ID: $lines lines, .* latest -> segments-2030-01-02.h5" <<<"$(tail -n 1 "$log")"
check "latest moved once: ${links[*]}" test "${links[*]}" = "segments-2030-01-01.h5 segments-2030-01-02.h5"
if /usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null; then
  check "the result equals the uninterrupted run, bit for bit" \
    /usr/bin/python3 "$REPO/scripts/reference/compare_results.py" same "$WORK/reference.h5" "$out/segments-2030-01-02.h5"
else
  say "h5py missing: comparing /customers/cluster with h5dump instead"
  check "the clusters equal the uninterrupted run's" \
    test "$(h5dump -d /customers/cluster "$WORK/reference.h5" | tail -n +5)" = "$(h5dump -d /customers/cluster "$out/segments-2030-01-02.h5" | tail -n +5)"
fi
check "no checkpoint, temporary or partial file left" dir_has_only "$out" segments-2030-01-01.h5 segments-2030-01-02.h5 latest history.csv
finish
