#!/usr/bin/env bash
# An input file that changes while rfmseg reads it, under 1 and 3 ranks (issue 12 item 6):
#  - truncated mid-run (a ~200 MB file cut to 1 MB once the first ingest round is done): exit 1
#    with one message naming the file and both sizes, no result. It used to loop for ever in
#    pread under 1 rank and end in the collective watchdog (exit 3) under 2;
#  - grown mid-run (lines appended once the first round is done): the appended bytes are ignored
#    with one warning from rank 0, and the result equals a run on the file as it was at the start.
# The change is made when rank 0 prints its "ingest round 1: ..." progress line (--progress); with --chunk-size 1
# the job is then dozens of rounds away from the end of its input, and a change that came after
# the last read is still found by the size check after the ingest.
source "$(dirname "$0")/common.sh"

step "generate ~200 MB (2.3 M lines) and a 50 MB prefix of it"
"$RFMSEG_GEN" --output "$WORK/big.csv" --lines 2300000 --seed 7 > /dev/null
head -c 50000000 "$WORK/big.csv" | head -n -1 > "$WORK/small.csv"  # whole lines only
BIG_SIZE=$(stat -c %s "$WORK/big.csv")
SMALL_SIZE=$(stat -c %s "$WORK/small.csv")
ARGS=(--k 2 --n-init 1 --chunk-size 1 --progress --collective-timeout 120)

# change_during_run NAME N FILE ACTION: runs rfmseg under N ranks on FILE, runs ACTION (a shell
# command) when the first ingest round is done; sets RC, and leaves stderr in $WORK/NAME.err.
change_during_run() {
  local name=$1 n=$2 file=$3 action=$4 line changed=0
  rm -f "$WORK/$name.h5"
  RC=0
  # timeout: a hang (the old endless pread loop) becomes a failure instead of blocking the suite.
  : > "$WORK/$name.err"
  while IFS= read -r line; do
    if [[ $line == "exit status "* ]]; then
      RC=${line#exit status }
      continue
    fi
    printf '%s\n' "$line" >> "$WORK/$name.err"
    if [[ $changed -eq 0 && $line == *"] ingest round 1: "* ]]; then
      eval "$action"
      changed=1
    fi
  done < <(status=0
           timeout 600 "$MPIEXEC" -n "$n" "${MPI_PREFLAGS[@]}" "$RFMSEG" --input "$file" --output "$WORK/$name.h5" \
             "${ARGS[@]}" 2>&1 > "$WORK/$name.out" || status=$?
           echo "exit status $status")
  [[ $changed -eq 1 ]] || fail "$name: the job never reported its first ingest round"
}

step "reference: the 50 MB file left alone (1 rank)"
cp "$WORK/small.csv" "$WORK/ref.csv"
run_rfmseg ref 1 --input "$WORK/ref.csv" --k 2 --n-init 1 --quiet

for n in 1 3; do
  step "truncated to 1000000 bytes while read, $n rank(s)"
  cp "$WORK/big.csv" "$WORK/cut.csv"
  change_during_run "cut.np$n" "$n" "$WORK/cut.csv" 'truncate -s 1000000 "$WORK/cut.csv"'
  want="input '$WORK/cut.csv' shrank from $BIG_SIZE to 1000000 bytes while being read"
  errors=$(grep -c 'rfmseg: error:' "$WORK/cut.np$n.err" || true)
  if [[ $RC -eq 1 && $errors -eq 1 ]] && grep 'rfmseg: error:' "$WORK/cut.np$n.err" | grep -qF -- "$want"; then
    pass "np$n: exit 1, $(grep 'rfmseg: error:' "$WORK/cut.np$n.err")"
  else
    tail -20 "$WORK/cut.np$n.err" >&2
    fail "np$n: expected exit 1 and one error containing [$want]; got exit $RC and $errors error line(s)"
  fi
  [[ ! -e $WORK/cut.np$n.h5 ]] || fail "np$n: the failed run left a result"

  step "grown by appended lines while read, $n rank(s)"
  cp "$WORK/small.csv" "$WORK/grow.csv"
  change_during_run "grow.np$n" "$n" "$WORK/grow.csv" \
    'head -c 3000000 "$WORK/big.csv" | tail -n +2 | head -n -1 >> "$WORK/grow.csv"'
  grown=$(stat -c %s "$WORK/grow.csv")
  want="rfmseg: warning: input '$WORK/grow.csv' grew from $SMALL_SIZE to $grown bytes while being read; the $((grown - SMALL_SIZE)) bytes appended were ignored"
  warnings=$(grep -cF -- "$want" "$WORK/grow.np$n.err" || true)
  if [[ $RC -eq 0 && $warnings -eq 1 ]]; then
    pass "np$n: exit 0, warned once: $want"
  else
    tail -20 "$WORK/grow.np$n.err" >&2
    fail "np$n: expected exit 0 and the warning once: [$want]; got exit $RC, $warnings time(s)"
  fi
  if [[ -e $WORK/grow.np$n.h5 ]]; then
    if out=$("$PY" "$REFDIR/compare_results.py" same "$WORK/ref.np1.h5" "$WORK/grow.np$n.h5" 2>&1); then
      pass "np$n: the result equals the run on the file as it was at the start: $out"
    else
      echo "$out" >&2
      fail "np$n: the appended lines changed the result"
    fi
  fi
done

finish
