#!/usr/bin/env bash
# Signals end in a clean, resumable stop (issue 16), with real signals mid-K-means:
#  - SIGTERM, SIGINT and SIGUSR1, to one rank or to mpirun (which forwards SIGUSR1; SIGTERM and
#    SIGINT go through the job scripts' launcher, jobs/launch.sh, since Open MPI's mpirun kills its
#    ranks one second after either), under 1 and 3 ranks: exit status 4, one message naming the
#    signal, the K-means position and the resume command, no result and no temporary file, the
#    status file "stopped"; --resume gives a result bit-identical to an uninterrupted run;
#  - a second signal during the stop ends the job at once, and the last checkpoint still resumes;
#  - --progress lines and --status-file: content, order, final state.
source "$(dirname "$0")/common.sh"

step "generate 600k lines"
"$RFMSEG_GEN" --output "$WORK/t.csv" --lines 600000 --seed 7 > /dev/null
# 60 restarts to convergence (tol 0) per k: the K-means phase lasts seconds even with the kd-tree
# step, so that a signal sent once k >= 3 shows up lands inside it, not after it.
ARGS=(--input "$WORK/t.csv" --k-range 1..10 --n-init 60 --tol 0 --quiet)

same() {  # same A B WHAT
  local out
  if out=$("$PY" "$REFDIR/compare_results.py" same "$1" "$2" 2>&1); then pass "$3: $out"; else echo "$out" >&2; fail "$3"; fi
}

step "uninterrupted reference (3 ranks) with --progress and --status-file"
run_rfmseg ref 3 "${ARGS[@]}" --progress --status-file "$WORK/ref.status.json"
log=$WORK/ref.np3.log
if grep -q $'\r' "$log"; then fail "progress output holds a carriage return"; else pass "no carriage-return bars"; fi
phases=$(sed -n 's/^rfmseg: progress \[ *[0-9.]* s\] phase \([a-z_]*\) \(started\|done in [0-9.]* s\)$/\1 \2/p' "$log" |
  sed 's/ done in .*/ done/' | tr '\n' ',')
want="ingest started,ingest done,rfm started,rfm done,sort started,sort done,transform started,transform done,"
want+="scale started,scale done,kmeans started,kmeans done,evaluate started,evaluate done,segment started,segment done,"
want+="output started,output done,"
[[ $phases == "$want" ]] && pass "every phase starts and ends, in order" || fail "phase events: $phases (want $want)"
grep -Eq '^rfmseg: progress \[ *[0-9.]+ s\] ingest round [0-9]+: [0-9.]+ MB of [0-9.]+ MB \([0-9.]+ %\), [0-9.]+ MB/s, ETA [0-9.]+ (s|min|h)$' "$log" \
  && pass "ingest line: $(grep -m1 'ingest round' "$log")" || fail "no ingest progress line with bytes, rate and ETA"
grep -q 'ingest round [0-9]*: \([0-9.]*\) MB of \1 MB (100.0 %)' "$log" && pass "ingest reaches 100 %" || fail "ingest never reached 100 %"
grep -Eq '^rfmseg: progress \[ *[0-9.]+ s\] kmeans k = [0-9]+, restart [0-9]+/60, iteration [0-9]+, best inertia ([0-9.e+]+|-)$' "$log" \
  && pass "k-means lines: $(grep -c 'kmeans k =' "$log")" || fail "no k-means progress line"
awk '/kmeans k = /{ if (seen_done) bad = 1 } /phase kmeans started/{ s = 1 } /phase kmeans done/{ seen_done = 1 }
     /kmeans k = /{ if (!s) bad = 1 } END { exit bad }' "$log" && pass "k-means lines inside the k-means phase" \
  || fail "k-means lines outside the k-means phase"
[[ $(tail -n 1 "$log") == *"finished: done (exit status 0)" ]] && pass "last progress line: finished" \
  || fail "last line: $(tail -n 1 "$log")"
if "$PY" - "$WORK/ref.status.json" <<'PY'; then pass "final status file: done, exit 0"; else fail "final status file: $(cat "$WORK/ref.status.json")"; fi
import json, sys
s = json.load(open(sys.argv[1]))
assert s["state"] == "done" and s["exit_status"] == 0 and s["phase_fraction"] == 1.0, s
assert s["phase"] == "output" and s["last_event"].startswith("finished: done"), s
for key in ("phase_eta_seconds", "elapsed_seconds", "updated", "pid"):
    assert key in s, key
PY
ls "$WORK"/ref.status.json.tmp-* > /dev/null 2>&1 && fail "status file temporaries left" || true

# wait_kmeans STATUS LAUNCHER: until the status file shows K-means at k >= 3 (or the job ended).
wait_kmeans() {
  local i
  for ((i = 0; i < 1800; i++)); do
    grep -q '"last_event": "kmeans k = \([3-9]\|10\),' "$1" 2> /dev/null && return 0
    kill -0 "$2" 2> /dev/null || return 1
    sleep 0.1
  done
  return 1
}

# stop_case NAME N SIGNAL TARGET: runs the job under N ranks with --checkpoint, and once the
# status file shows K-means sends SIGNAL to TARGET: "mpirun", "launcher" (jobs/launch.sh's launch,
# which forwards it) or "rank R". Then checks the stop and resumes.
stop_case() {
  local name=$1 n=$2 signal=$3 target=$4 ck=$WORK/$1.ck out=$WORK/$1.h5 status=$WORK/$1.status.json
  step "$name: SIG$signal to $target under $n rank(s) mid-K-means"
  if [[ $target == launcher ]]; then
    # Job control on: a background job of a script would otherwise start with SIGINT ignored,
    # which a shell cannot trap (a batch job's shell does not have that handicap).
    set -m
    RFMSEG_LAUNCHER=mpirun RFMSEG_MPIRUN_ARGS="${MPI_PREFLAGS[*]}" \
      bash -c 'source "$1/jobs/launch.sh"; launch_choose "$2" && shift 2 && launch "$@"' _ "$SRC" "$RFMSEG" \
      "$n" "$RFMSEG" "${ARGS[@]}" --output "$out" --checkpoint "$ck" --status-file "$status" > "$WORK/$name.log" 2>&1 &
    set +m
  else  # mpirun itself, not a function's subshell: its children are the ranks
    "$MPIEXEC" -n "$n" "${MPI_PREFLAGS[@]}" "$RFMSEG" "${ARGS[@]}" --output "$out" --checkpoint "$ck" \
      --status-file "$status" > "$WORK/$name.log" 2>&1 &
  fi
  local launcher=$! victim=$! rc=0
  if ! wait_kmeans "$status" "$launcher"; then
    fail "$name: the job never reached K-means k >= 3: $(cat "$WORK/$name.log")"
    kill -KILL "$launcher" 2> /dev/null; wait "$launcher" 2> /dev/null
    return
  fi
  if [[ $target == rank* ]]; then
    local mpirun_pid=$launcher
    victim=$(pgrep -P "$mpirun_pid" | sed -n "$((${target#rank } + 1))p")
  fi
  local t0 t1
  t0=$(date +%s.%N)
  kill "-$signal" "$victim"
  wait "$launcher" || rc=$?
  t1=$(date +%s.%N)
  local latency
  latency=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  [[ $rc -eq 4 ]] && pass "$name: exit status 4, ${latency}s from the signal to the end of the job" \
    || fail "$name: exit status $rc (want 4): $(cat "$WORK/$name.log")"
  awk -v l="$latency" 'BEGIN { exit !(l <= 30) }' || fail "$name: the stop took ${latency}s (bound 30 s)"
  local stops
  stops=$(grep -c "^rfmseg: stopped by " "$WORK/$name.log")
  [[ $stops -eq 1 ]] && pass "$name: one message: $(grep '^rfmseg: stopped by ' "$WORK/$name.log")" \
    || fail "$name: $stops stop messages: $(cat "$WORK/$name.log")"
  local want=SIG$signal
  [[ $target == launcher ]] && want=SIGUSR1  # the launcher forwards every stop signal as SIGUSR1
  grep -Eq "^rfmseg: stopped by $want at k-means k = [0-9]+, restart [0-9]+/60, iteration [0-9]+ \(exit status 4\)$" "$WORK/$name.log" \
    || fail "$name: the message does not name $want and the K-means position"
  grep -q "^rfmseg: resume with the same launcher and: .*--checkpoint .*--resume$" "$WORK/$name.log" \
    || fail "$name: no resume command"
  [[ ! -e $out ]] || fail "$name: a result was written"
  ! ls "$out".tmp-* > /dev/null 2>&1 || fail "$name: temporary result left: $(ls "$out".tmp-*)"
  "$PY" -c 'import json, sys; s = json.load(open(sys.argv[1])); assert s["state"] == "stopped" and s["exit_status"] == 4, s' \
    "$status" 2> /dev/null || fail "$name: status file: $(cat "$status")"
  # Resume with the command the message printed, under the same rank count.
  if mpi "$n" "$RFMSEG" "${ARGS[@]}" --output "$out" --checkpoint "$ck" --resume > "$WORK/$name.resume.log" 2>&1; then
    same "$WORK/ref.np3.h5" "$out" "$name: resumed result equals the uninterrupted one"
    grep -q "resuming: k-means k=" "$WORK/$name.resume.log" || fail "$name: the resumed run did not continue a fit"
    ! compgen -G "$ck/*.h5" > /dev/null || fail "$name: checkpoints left after success: $(ls "$ck")"
  else
    fail "$name: --resume failed: $(cat "$WORK/$name.resume.log")"
  fi
}

stop_case term-rank-np1 1 TERM "rank 0"
stop_case int-rank-np1 1 INT "rank 0"
stop_case usr1-mpirun-np1 1 USR1 mpirun
stop_case term-launcher-np1 1 TERM launcher
stop_case term-rank-np3 3 TERM "rank 2"
stop_case int-rank-np3 3 INT "rank 1"
stop_case usr1-rank-np3 3 USR1 "rank 0"
stop_case usr1-mpirun-np3 3 USR1 mpirun
stop_case term-launcher-np3 3 TERM launcher
stop_case int-launcher-np3 3 INT launcher

# The stop is pending while rank 2 is frozen (the others wait for it at the safe point); a second
# signal to rank 1 a second after the first ends the job at once. (Within 0.5 s it would count as
# the same request delivered twice.)
step "a second signal during the stop ends the job at once"
"$MPIEXEC" -n 3 "${MPI_PREFLAGS[@]}" "$RFMSEG" "${ARGS[@]}" --output "$WORK/twice.h5" --checkpoint "$WORK/twice.ck" --checkpoint-every 1 \
  --status-file "$WORK/twice.status.json" > "$WORK/twice.log" 2>&1 &
launcher=$!
if wait_kmeans "$WORK/twice.status.json" "$launcher"; then
  victim=$(pgrep -P "$launcher" | sed -n 2p)
  frozen=$(pgrep -P "$launcher" | sed -n 3p)
  kill -STOP "$frozen"
  kill -TERM "$victim"
  sleep 1.5
  t0=$SECONDS
  kill -INT "$victim"
  sleep 1
  kill -CONT "$frozen" 2> /dev/null || true
  rc=0; wait "$launcher" || rc=$?
  ((SECONDS - t0 <= 30)) || fail "two signals: the job took $((SECONDS - t0)) s to end"
  [[ $rc -ne 0 && $rc -ne 4 ]] && pass "two signals: exit status $rc (not the clean 4)" || fail "two signals: exit status $rc"
  grep -q "second signal during the stop: ending at once" "$WORK/twice.log" && pass "second signal named" \
    || fail "no message of the second signal: $(cat "$WORK/twice.log")"
  [[ ! -e $WORK/twice.h5 ]] || fail "a result was written after two signals"
  if mpi 3 "$RFMSEG" "${ARGS[@]}" --output "$WORK/twice.h5" --checkpoint "$WORK/twice.ck" --resume > "$WORK/twice.resume.log" 2>&1; then
    same "$WORK/ref.np3.h5" "$WORK/twice.h5" "resumed after two signals equals the uninterrupted one"
  else
    fail "resume after two signals failed: $(cat "$WORK/twice.resume.log")"
  fi
else
  fail "the second-signal job never reached K-means"
  kill -KILL "$launcher" 2> /dev/null; wait "$launcher" 2> /dev/null
fi

finish
