#!/usr/bin/env bash
# Faults mid-K-means under 3 ranks, and resuming from checkpoints:
#  - a checkpointed run equals an uninterrupted one and cleans up its checkpoints;
#  - SIGKILL to one rank: the job ends non-zero within seconds, no result under the final name;
#    --resume (under 3 ranks, and from a second kill under 2 ranks) gives a bit-identical result;
#  - a frozen rank (SIGSTOP): the others' watchdog ends the job after --collective-timeout with
#    the collective and phase named, exit status 3; resuming then matches too;
#  - checkpoints made for another input or other options are refused with a clear message.
source "$(dirname "$0")/common.sh"

step "generate 400k lines"
"$RFMSEG_GEN" --output "$WORK/t.csv" --lines 400000 --seed 5 > /dev/null
ARGS=(--input "$WORK/t.csv" --k-range 1..5 --n-init 40 --tol 0 --quiet)

step "uninterrupted reference (3 ranks)"
run_rfmseg ref 3 "${ARGS[@]}"
same() {  # same A B WHAT
  local out
  if out=$("$PY" "$REFDIR/compare_results.py" same "$1" "$2" 2>&1); then pass "$3: $out"; else echo "$out" >&2; fail "$3"; fi
}

step "checkpointed run, not interrupted"
run_rfmseg ckpt 3 "${ARGS[@]}" --checkpoint "$WORK/ck0" --checkpoint-every 2
same "$WORK/ref.np3.h5" "$WORK/ckpt.np3.h5" "checkpointed run equals the reference"
[[ -z $(ls -A "$WORK/ck0") ]] && pass "checkpoints removed after success" || fail "checkpoints left: $(ls "$WORK/ck0")"

# interrupt NAME N SIGNAL CKDIR [extra args]: starts the job under N ranks, waits until K-means
# for k=3 has saved a checkpoint, sends SIGNAL to one rank; sets RC and ELAPSED (signal to exit).
interrupt() {
  local name=$1 n=$2 signal=$3 dir=$4
  shift 4
  rm -f "$WORK/$name.h5"
  "$MPIEXEC" -n "$n" "${MPI_PREFLAGS[@]}" "$RFMSEG" "${ARGS[@]}" --output "$WORK/$name.h5" \
    --checkpoint "$dir" --checkpoint-every 2 "$@" > "$WORK/$name.log" 2>&1 &
  local launcher=$! i victim
  for ((i = 0; i < 1200; i++)); do
    [[ -e $dir/fit-k3.h5 ]] && break
    kill -0 "$launcher" 2> /dev/null || break
    sleep 0.1
  done
  victim=$(pgrep -P "$launcher" | sed -n 2p)  # the launcher's children are the ranks
  if [[ ! -e $dir/fit-k3.h5 || -z $victim ]]; then
    fail "$name: the job never reached K-means k=3 (or ended first)"
    wait "$launcher" || true
    return 1
  fi
  kill "-$signal" "$victim"
  local t0=$SECONDS
  RC=0
  wait "$launcher" || RC=$?
  ELAPSED=$((SECONDS - t0))
}

step "SIGKILL one of 3 ranks mid-K-means"
interrupt killed 3 KILL "$WORK/ck1"
[[ $RC -ne 0 ]] && pass "killed job exited $RC after ${ELAPSED}s" || fail "killed job exited 0"
((ELAPSED <= 30)) || fail "killed job took ${ELAPSED}s to end"
[[ ! -e $WORK/killed.h5 ]] && pass "no result under the final name" || fail "killed job left $WORK/killed.h5"
ls "$WORK/ck1"/customers.h5 "$WORK/ck1"/fit-k3.h5 > /dev/null && pass "checkpoints present: $(ls "$WORK/ck1" | tr '\n' ' ')"

step "resume under 3 ranks"
run_rfmseg resumed 3 "${ARGS[@]}" --checkpoint "$WORK/ck1" --resume
same "$WORK/ref.np3.h5" "$WORK/resumed.np3.h5" "resumed run (3 ranks) equals the reference"
grep -q "resuming: k-means k=3 at restart" "$WORK/resumed.np3.log" && pass "resumed mid-fit: $(grep -c resuming "$WORK/resumed.np3.log") resume notes" \
  || fail "the resumed run did not continue the k=3 fit: $(cat "$WORK/resumed.np3.log")"
"$RFMSEG" verify "$WORK/resumed.np3.h5" > /dev/null && pass "resumed result verifies" || fail "resumed result does not verify"

step "SIGKILL again, resume under 2 ranks"
interrupt killed2 3 KILL "$WORK/ck2"
[[ $RC -ne 0 && ! -e $WORK/killed2.h5 ]] || fail "second kill: rc=$RC"
run_rfmseg resumed 2 "${ARGS[@]}" --checkpoint "$WORK/ck2" --resume
same "$WORK/ref.np3.h5" "$WORK/resumed.np2.h5" "resumed under 2 ranks from a 3-rank checkpoint equals the reference"

step "a frozen rank (SIGSTOP): the watchdog ends the job"
interrupt frozen 3 STOP "$WORK/ck3" --collective-timeout 3
if [[ $RC -eq 3 ]] && ((ELAPSED <= 33)); then pass "frozen rank: exit 3 after ${ELAPSED}s"; else fail "frozen rank: rc=$RC after ${ELAPSED}s"; fi
grep -q "rfmseg: fatal: MPI_[A-Za-z(0-9 )]* in phase 'kmeans' waited" "$WORK/frozen.log" \
  && pass "message: $(grep -m1 "in phase" "$WORK/frozen.log")" || fail "no watchdog message: $(cat "$WORK/frozen.log")"
[[ ! -e $WORK/frozen.h5 ]] || fail "frozen job left a result under the final name"
pkill -KILL -f "$WORK/frozen.h5" 2> /dev/null || true  # nothing must be left; belt and braces
run_rfmseg refrozen 3 "${ARGS[@]}" --checkpoint "$WORK/ck3" --resume
same "$WORK/ref.np3.h5" "$WORK/refrozen.np3.h5" "resumed after the watchdog equals the reference"

step "checkpoints for other input or options are refused"
interrupt stale 3 KILL "$WORK/ck4" || true
rc=0
mpi 3 "$RFMSEG" "${ARGS[@]}" --seed 7 --output "$WORK/other.h5" --checkpoint "$WORK/ck4" --resume > "$WORK/other.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] && grep -q "was made for other input files or options" "$WORK/other.log" \
  && pass "other options: exit 1, $(grep -m1 error "$WORK/other.log")" || fail "other options: rc=$rc $(cat "$WORK/other.log")"
touch "$WORK/t.csv"
rc=0
mpi 3 "$RFMSEG" "${ARGS[@]}" --output "$WORK/other.h5" --checkpoint "$WORK/ck4" --resume > "$WORK/other.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] && grep -q "was made for other input files or options" "$WORK/other.log" \
  && pass "modified input: exit 1" || fail "modified input: rc=$rc $(cat "$WORK/other.log")"

step "--resume with nothing to resume starts from the input"
run_rfmseg fresh 3 "${ARGS[@]}" --checkpoint "$WORK/ck5" --resume
same "$WORK/ref.np3.h5" "$WORK/fresh.np3.h5" "resume without checkpoints equals the reference"
finish
