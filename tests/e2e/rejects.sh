# shellcheck shell=bash
# e2e.rejects: --rejects FILE under 1, 2 and 3 ranks, on a dirty generated file (every reader
# fate, quoted line breaks, quotes, NUL/CR/Latin-1 bytes, 1.5 MiB lines, stray quotes; small
# rounds and a memory budget that makes the ranks spill) and on the bad-input corpus files:
# the file is byte-identical for every rank count; read back with Python's csv and pandas, its
# rows per reason equal /run count_<fate> and each row's text is the bytes of its physical
# line(s) of the input. A failing run leaves no rejects file, no temporary file and an old one
# untouched; a clean input gives the header alone; the output, an input or a FIFO as FILE is
# refused. Helpers in rejects_check.py.
#
#   bash rejects.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

# shellcheck source=tests/e2e/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CHECK=$SRC/tests/e2e/rejects_check.py
INPUTS=$SRC/tests/corpus/inputs

# run_rejects NAME N ARGS...: rfmseg under N ranks with --rejects $WORK/NAME.npN.csv.
run_rejects() {
  local name=$1 n=$2
  shift 2
  run_rfmseg "$name" "$n" "$@" --rejects "$WORK/$name.np$n.csv"
}

# check_rejects NAME: the rejects files of 1, 2 and 3 ranks are the same bytes, each checked
# against the input and the counters of its result; no temporary file is left.
check_rejects() {
  local name=$1 out left
  left=$(cd "$WORK" && ls -A | grep -F ".tmp-" || true)
  [[ -z $left ]] || fail "$name: temporary files left after success: $left"
  for n in 2 3; do
    if cmp -s "$WORK/$name.np1.csv" "$WORK/$name.np$n.csv"; then
      pass "$name: rejects file under $n ranks = under 1 rank ($(stat -c %s "$WORK/$name.np1.csv") bytes)"
    else
      fail "$name: rejects file under $n ranks differs from 1 rank"
    fi
  done
  for n in 1 3; do
    if out=$("$PY" "$CHECK" check "$WORK/$name.np$n.csv" "$WORK/$name.np$n.h5" 2>&1); then
      pass "$name under $n ranks: $out"
    else
      echo "$out" >&2
      fail "$name under $n ranks: the rejects file does not match the input and the counters"
    fi
  done
}

step "dirty generated file"
"$RFMSEG_GEN" --output "$WORK/gen.csv" --lines 30000 --customers 2000 --dirt 0.3 > /dev/null
"$PY" "$CHECK" dirty "$WORK/gen.csv" "$WORK/dirty.csv"
for n in 1 2 3; do
  run_rejects dirty "$n" --input "$WORK/dirty.csv" --k 3 --n-init 1 --chunk-size 1 --max-memory-per-rank 24M
done
check_rejects dirty
if grep -q "rejects: .* unusable line(s) in $WORK/dirty.np1.csv" "$WORK/dirty.np1.log"; then
  pass "console names the rejects file"
else
  fail "console report does not name the rejects file"
fi

step "bad-input corpus files together"
corpus=()
for f in "$INPUTS"/*.csv; do
  case $(basename "$f") in
    date_order.csv | missing_price.csv | renamed_header.csv | bom_no_header.csv) ;;  # fatal alone
    escape_header.csv | semicolon_decimal_comma.csv | mixed_delimiters.csv | dmy_dates.csv) ;;  # fatal alone
    no_customer_ids.csv) ;;
    *) corpus+=(--input "$f") ;;
  esac
done
for n in 1 2 3; do
  run_rejects corpus "$n" "${corpus[@]}" --k 1 --n-init 1 --max-bad-fraction 1
done
check_rejects corpus

step "clean input: the header alone"
"$RFMSEG_GEN" --output "$WORK/clean.csv" --lines 3000 --dirt 0 > /dev/null
run_rejects clean 2 --input "$WORK/clean.csv" --k 2 --n-init 1
if [[ $(cat "$WORK/clean.np2.csv") == "file,line,reason,text" ]]; then
  pass "clean input: rejects file holds the header only"
else
  fail "clean input: rejects file is not the header alone: $(head -c 200 "$WORK/clean.np2.csv")"
fi

step "a failing run leaves nothing, and an old rejects file untouched"
mkdir -p "$WORK/fail"
printf 'file,line,reason,text\nold rejects\n' > "$WORK/fail/old.csv"
for n in 1 3; do
  for target in new.csv old.csv; do
    rc=0
    # More clusters than customers (5): fails after the ingest wrote the temporary file.
    mpi "$n" "$RFMSEG" --input "$INPUTS/field_count.csv" --output "$WORK/fail/r.h5" --k 6 --n-init 1 \
      --rejects "$WORK/fail/$target" > "$WORK/fail.log" 2>&1 || rc=$?
    left=$(cd "$WORK/fail" && ls -A | grep -v '^old.csv$' || true)
    if [[ $rc -eq 0 ]]; then
      fail "--k 6 on 5 customers under $n ranks succeeded"
    elif [[ -n $left ]]; then
      fail "failed run under $n ranks (--rejects $target) left: $left"
    elif [[ $(cat "$WORK/fail/old.csv") != $'file,line,reason,text\nold rejects' ]]; then
      fail "failed run under $n ranks changed the old rejects file"
    else
      pass "failed run under $n ranks (exit $rc, --rejects $target): no rejects or temporary file, old file untouched"
    fi
  done
done

step "refused paths"
refused() {
  local what=$1 rc=0
  shift
  mpi 2 "$RFMSEG" --input "$WORK/clean.csv" --k 2 --n-init 1 "$@" > "$WORK/refused.log" 2>&1 || rc=$?
  if [[ $rc -eq 1 ]] && grep -q "rfmseg: error: .*--rejects" "$WORK/refused.log"; then
    pass "$what: exit 1: $(grep -m1 'rfmseg: error:' "$WORK/refused.log")"
  else
    cat "$WORK/refused.log" >&2
    fail "$what: exit $rc, expected 1 with a message about --rejects"
  fi
}
cp "$WORK/clean.csv" "$WORK/clean.copy"
refused "rejects = output" --output "$WORK/same.h5" --rejects "$WORK/./same.h5"
refused "rejects = input" --output "$WORK/r.h5" --rejects "$WORK/../$(basename "$WORK")/clean.csv"
cmp -s "$WORK/clean.csv" "$WORK/clean.copy" || fail "the input named as --rejects was changed"
mkfifo "$WORK/fifo"
refused "rejects = FIFO" --output "$WORK/r.h5" --rejects "$WORK/fifo"
[[ -p $WORK/fifo ]] || fail "the FIFO named as --rejects is no longer a FIFO"

finish
