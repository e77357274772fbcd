#!/usr/bin/env bash
# The production job (jobs/segment.sbatch, run outside Slurm with the mpirun launcher) loses a host
# in the middle of K-means, on hosts whose kernel is NOT tuned for fast failure (Linux's default
# net.ipv4.tcp_retries2 = 15, i.e. ~15 minutes of retransmissions) and with mpirun's default
# keepalive in the job (60 + 6 x 10 s, above the watchdog):
#
#   RFMSEG_COLLECTIVE_TIMEOUT=20: the ranks left on rfmseg-h1 report the stuck collective and
#   MPI_Abort. mpirun's kill order to the lost daemon sits in a TCP send queue for ~15 minutes, so
#   mpirun alone would keep the job running that long (and segfault when it is finally killed).
#   jobs/launch.sh sees the watchdog's line, gives mpirun RFMSEG_ABORT_GRACE (10 s) to end, then
#   kills it and what it started on this host, and returns the watchdog's status 3.
#
# Checks: the job ends within --collective-timeout + 30 s of the cut with exit status 3; its last
# line is the FAILED (status 3) summary carrying the watchdog's message, which names the phase
# kmeans; `latest` and the previous result are untouched, no result under the new name; no rfmseg
# rank and no mpirun/orted of the job is left running on either host.
# usage: cut_link_job.sh RFMSEG RFMSEG_GEN MPIEXEC MPIEXEC_PREFLAGS PROJECT_SOURCE_DIR
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

timeout_s=20
bound=$((timeout_s + 30))
for ns in rfmseg-h1 rfmseg-h2; do
  retries=$("$HOSTS_SH" exec "$ns" cat /proc/sys/net/ipv4/tcp_retries2)
  if [[ $retries -lt 15 ]]; then
    fail "$ns has net.ipv4.tcp_retries2 = $retries: this test needs the untuned default (15)"
    finish
  fi
done
pass "both hosts run with Linux's default net.ipv4.tcp_retries2 (15)"

lines=100000
step "generate $lines lines"
generate "$lines" "$WORK/tx.csv"

# An earlier night that `latest` points at (a stand-in: RFMSEG_PREVIOUS=none, the job must only
# leave it alone).
out=$WORK/results
mkdir -p "$out"
echo "an earlier result" > "$out/segments-2030-01-01.h5"
ln -s segments-2030-01-01.h5 "$out/latest"
before=$(sha256sum "$out/segments-2030-01-01.h5")

# The job runs inside rfmseg-h1 (like the batch shell on a job's first node); mpirun starts its
# daemon on rfmseg-h2. K-means runs for minutes when nothing goes wrong.
step "start jobs/segment.sbatch (mpirun, 2 hosts x 2 ranks, --collective-timeout $timeout_s)"
# shellcheck disable=SC2054  # the commas belong to --host
mpirun_args=(--host rfmseg-h1:2,rfmseg-h2:2 --mca plm_rsh_agent "$RSH" --mca btl self,tcp
             --mca btl_tcp_if_include "$SUBNET" --mca oob_tcp_if_include "$SUBNET" --mca mpi_yield_when_idle 1
             "${MPI_PREFLAGS[@]}")
timeout -k 10 300 "$HOSTS_SH" exec rfmseg-h1 env \
  RFMSEG_HOME="$SRC" RFMSEG_BIN="$(dirname "$RFMSEG")" RFMSEG_LAUNCHER=mpirun RFMSEG_NTASKS=4 \
  RFMSEG_MPIRUN_ARGS="${mpirun_args[*]}" RFMSEG_INPUT="$WORK/tx.csv" RFMSEG_OUTDIR="$out" \
  RFMSEG_CONFIG=none RFMSEG_DATE=2030-01-02 RFMSEG_COLLECTIVE_TIMEOUT=$timeout_s RFMSEG_PREVIOUS=none \
  RFMSEG_ARGS="--k 8 --n-init 1000 --max-iter 300 --tol 0 --progress" \
  bash "$SRC/jobs/segment.sbatch" > "$WORK/job.out" 2> "$WORK/job.err" 9>&- &
job=$!   # timeout(1)'s pid

deadline=$((SECONDS + 90))
until grep -q "rfmseg: progress .* kmeans k = " "$WORK/job.err"; do
  if ! kill -0 "$job" 2>/dev/null || ((SECONDS > deadline)); then
    cat "$WORK/job.out" "$WORK/job.err" >&2
    fail "the job ended or did not reach K-means within 90 s, before the cut"
    finish
  fi
  sleep 0.2
done
sleep 2
if ! kill -0 "$job" 2>/dev/null; then
  cat "$WORK/job.out" "$WORK/job.err" >&2
  fail "the job ended before the cut"
  finish
fi

step "cut rfmseg-h2's cable"
"$HOSTS_SH" link rfmseg-h2 down
t_cut=$(date +%s.%N)
past() { awk -v a="$t_cut" -v b="$(date +%s.%N)" -v n="$1" 'BEGIN { exit !(b - a > n) }'; }

ended=0
while ! past "$bound"; do
  if ! kill -0 "$job" 2>/dev/null; then ended=1; break; fi
  sleep 0.1
done
status=0
if ((ended)); then
  wait "$job" || status=$?
  echo "cut-to-exit: $(elapsed "$t_cut") s (exit status $status)"
else
  fail "the job still runs $bound s after the cut"
  kill -TERM "$job" 2>/dev/null || true
  wait "$job" || status=$?
fi
echo "--- job stdout:"; sed 's/^/    /' "$WORK/job.out"
echo "--- job stderr:"; sed 's/^/    /' "$WORK/job.err"

if ((ended)); then
  if ((status == 3)); then
    pass "exit status 3 within $bound s of the cut"
  else
    fail "exit status $status, expected the watchdog's 3"
  fi
fi
summary=$(tail -n 1 "$WORK/job.out")
re="^rfmseg-segment: FAILED \(status 3\) job none: .*\[rank [0-9]+\] rfmseg: fatal: .+ in phase 'kmeans' waited .*--collective-timeout $timeout_s s"
if [[ $summary =~ $re ]]; then
  pass "summary: $summary"
else
  fail "the last line is not the FAILED (status 3) summary with the watchdog's message in phase kmeans: $summary"
fi
if grep -q "launch: mpirun still runs .* after a rank's watchdog abort" "$WORK/job.err"; then
  pass "the launcher ended mpirun after the watchdog's abort"
else
  echo "note: mpirun ended by itself (the launcher's guard was not needed)"
fi

if [[ $(readlink "$out/latest") == segments-2030-01-01.h5 && $(sha256sum "$out/segments-2030-01-01.h5") == "$before" ]]; then
  pass "latest and the earlier result untouched"
else
  fail "latest ($(readlink "$out/latest")) or the earlier result changed"
fi
# (The lock file segments-2030-01-02.h5.lock may stay: flock(2) ends with its holder, and the next
# run takes it over.)
if compgen -G "$out/segments-2030-01-02.h5" >/dev/null || compgen -G "$out/segments-2030-01-02.h5.tmp-*" >/dev/null; then
  fail "a (partial) result of the failed night exists: $(ls "$out")"
else
  pass "no result of the failed night"
fi

# Nothing of the job keeps running: rfmseg ranks and Open MPI's mpirun/orted, on either host.
left_in() {  # $1: namespace
  local pid out=""
  for pid in $(ip netns pids "$1" 2>/dev/null); do
    case $(cat "/proc/$pid/comm" 2>/dev/null) in rfmseg|orted|mpirun|prted) out+="$pid($(cat "/proc/$pid/comm")) " ;; esac
  done
  echo "$out"
}
left="$(left_in rfmseg-h1)$(left_in rfmseg-h2)"
while [[ -n $left ]] && ! past "$bound"; do
  sleep 0.2
  left="$(left_in rfmseg-h1)$(left_in rfmseg-h2)"
done
if [[ -z $left ]]; then
  pass "no rfmseg, mpirun or orted left on either host $(elapsed "$t_cut") s after the cut"
else
  fail "still running $bound s after the cut: $left"
  ps -o pid,ppid,etimes,args -p "${left//[!0-9 ]/}" 2>/dev/null || true
fi
finish
