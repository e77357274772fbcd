# e2e.cli_errors: bad invocations and bad input end with exit status 1 and one clear message on
# stderr (from one rank only); a failed run leaves no file under the output name and does not
# touch an existing result; --help works.
#
#   bash cli_errors.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RANKS=2
OUT=$WORK/out/result.h5
mkdir -p "$WORK/out"

# no_leftovers WHAT: nothing at all may exist in the output directory.
no_leftovers() {
  local left
  left=$(ls -A "$WORK/out")
  if [[ -n $left ]]; then
    fail "$1: the output directory is not empty after a failed run: $left"
  fi
}

# expect_error NAME REGEX ARGS...: rfmseg ARGS under $RANKS ranks exits 1 and stderr holds
# exactly one "rfmseg: error:" line, which matches REGEX (extended grep).
expect_error() {
  local name=$1 regex=$2 rc=0 count line
  shift 2
  mpi "$RANKS" "$RFMSEG" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || rc=$?
  count=$(grep -c 'rfmseg: error:' "$WORK/$name.err" || true)
  line=$(grep -m1 'rfmseg: error:' "$WORK/$name.err" || true)
  if [[ $rc -ne 1 ]]; then
    cat "$WORK/$name.err" >&2
    fail "$name: exit status $rc, expected 1"
  elif [[ $count -ne 1 ]]; then
    cat "$WORK/$name.err" >&2
    fail "$name: $count 'rfmseg: error:' lines on stderr, expected exactly 1"
  elif ! grep -Eq -- "$regex" <<< "$line"; then
    fail "$name: message [$line] does not match /$regex/"
  else
    pass "$name: exit 1, once: $line"
  fi
  if grep -q 'Traceback\|terminate called\|Segmentation\|what():' "$WORK/$name.err"; then
    fail "$name: stderr shows a crash: $(head -5 "$WORK/$name.err")"
  fi
}

HEADER='InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country'
# A month-first file whose line 1501 says 13/5/2011: read by the last of the ranks, not rank 0.
"$PY" - "$WORK/month_first.csv" "$HEADER" <<'EOF'
import sys
lines = [sys.argv[2] + "\n"] + [
    "%d,A,x,%d,12/%d/2010 8:26,%d.%02d,%d,UK\n"
    % (536365 + i // 3, 1 + i % 7, 1 + (i * 7) % 28, i % 13, i % 97, 12346 + (i * 31) % 97)
    for i in range(2000)]
lines[1500] = "538000,A,x,1,13/5/2011 8:26,1.00,12347,UK\n"
open(sys.argv[1], "w").write("".join(lines))
EOF
head -n 1000 "$WORK/month_first.csv" > "$WORK/good.csv"
printf 'InvoiceNo,Quantity,InvoiceDate,UnitPrice,Country\n536365,6,12/1/2010 8:26,2.55,UK\n' \
  > "$WORK/no_customer.csv"

step "bad invocations"
expect_error missing_input "does not exist.*missing\.csv|missing\.csv.*does not exist" \
  --input "$WORK/missing.csv" --output "$OUT"
no_leftovers missing_input
expect_error unknown_option "--no-such-option" \
  --input "$WORK/good.csv" --output "$OUT" --no-such-option
no_leftovers unknown_option
expect_error bad_frequency "--frequency.*weekly" \
  --input "$WORK/good.csv" --output "$OUT" --frequency weekly
no_leftovers bad_frequency
expect_error no_customer_column "no_customer\.csv.*customer" \
  --input "$WORK/no_customer.csv" --output "$OUT"
no_leftovers no_customer_column
expect_error month_order "month_first\.csv:1501:.*13/5/2011.*--day-first" \
  --input "$WORK/month_first.csv" --output "$OUT"
no_leftovers month_order
expect_error no_output_dir "output directory.*no/such/dir.*does not exist" \
  --input "$WORK/good.csv" --output "$WORK/no/such/dir/result.h5"
no_leftovers no_output_dir
[[ ! -e $WORK/no ]] || fail "no_output_dir: $WORK/no was created"
mkdir "$WORK/out/result.h5"
expect_error output_is_directory "output.*result\.h5.*is a directory" \
  --input "$WORK/good.csv" --output "$OUT"
rm -rf "$WORK/out/result.h5"
no_leftovers output_is_directory

# A column index beyond the fields of a --no-header file, and an index that does not fit an int:
# configuration errors (exit 1, the option named), not a crash or an internal error.
printf 'A,20200101,1.5\nB,20200102,2.5\n' > "$WORK/no_header.csv"
expect_error col_beyond_fields "--col-amount" \
  --input "$WORK/no_header.csv" --no-header --format amount --col-amount 4 --output "$OUT"
no_leftovers col_beyond_fields
expect_error col_index_huge "--col-customer" \
  --input "$WORK/good.csv" --col-customer 99999999999 --output "$OUT"
no_leftovers col_index_huge

# Words that belong to no option: a stray word, and a glob the shell expanded for --input.
expect_error extra_word "unexpected word on the command line: 'garbage'.*quote a glob" \
  --input "$WORK/good.csv" garbage --output "$OUT"
no_leftovers extra_word
cp "$WORK/good.csv" "$WORK/good2.csv"
expect_error unquoted_glob "unexpected word on the command line: '$WORK/good2\.csv'.*repeat --input" \
  --input "$WORK"/good*.csv --output "$OUT"
no_leftovers unquoted_glob
rm "$WORK/good2.csv"
expect_error config_directory "config file '$WORK' is a directory" \
  --input "$WORK/good.csv" --config "$WORK" --output "$OUT"
no_leftovers config_directory
expect_error config_device "config file '/dev/zero' is not a regular file" \
  --input "$WORK/good.csv" --config /dev/zero --output "$OUT"
no_leftovers config_device

step "jobs/segment.sbatch: stray words in RFMSEG_ARGS fail the job (no Slurm: mpirun)"
# The job hands RFMSEG_ARGS to rfmseg word by word (not globbed): rfmseg refuses the stray word,
# the job exits with its status 1, and neither a result nor `latest` appears.
rc=0
env RFMSEG_HOME="$SRC" RFMSEG_BIN="$(dirname "$RFMSEG")" RFMSEG_LAUNCHER=mpirun RFMSEG_NTASKS=$RANKS \
    RFMSEG_MPIRUN_ARGS="${MPI_PREFLAGS[*]}" RFMSEG_CONFIG=none RFMSEG_INPUT="$WORK/good.csv" \
    RFMSEG_OUTDIR="$WORK/job" RFMSEG_DATE=2030-01-01 RFMSEG_ARGS="--k 1 stray *.csv" \
    bash "$SRC/jobs/segment.sbatch" > "$WORK/job.out" 2> "$WORK/job.err" || rc=$?
if [[ $rc -eq 1 ]] && grep -q "rfmseg: error: .*unexpected words on the command line: 'stray', '\*\.csv'" "$WORK/job.err" &&
   grep -q 'FAILED (status 1)' "$WORK/job.err"; then
  pass "job with RFMSEG_ARGS='--k 1 stray *.csv': exit 1, $(grep -m1 'rfmseg: error:' "$WORK/job.err" | cut -c1-90)..."
else
  cat "$WORK/job.out" "$WORK/job.err" >&2
  fail "job with stray words in RFMSEG_ARGS: exit $rc, expected 1 with rfmseg's message"
fi
left=$(ls -A "$WORK/job" 2>/dev/null || true)
[[ -z $left ]] || fail "the failed job left $left in its output directory"

step "a failed run keeps an existing result"
if mpi "$RANKS" "$RFMSEG" --input "$WORK/good.csv" --output "$OUT" > "$WORK/good.log" 2>&1 &&
   [[ -s $OUT ]]; then
  pass "good run writes $OUT"
  sum_before=$(cksum < "$OUT")
  expect_error month_order_over_result "month_first\.csv:1501:" \
    --input "$WORK/month_first.csv" --output "$OUT"
  expect_error missing_input_over_result "missing\.csv" \
    --input "$WORK/missing.csv" --output "$OUT"
  if [[ $(cksum < "$OUT") == "$sum_before" ]]; then
    pass "the existing result is unchanged"
  else
    fail "a failed run changed the existing result $OUT"
  fi
  left=$(ls -A "$WORK/out")
  [[ $left == result.h5 ]] || fail "leftovers next to the result after failed runs: $left"
else
  cat "$WORK/good.log" >&2
  fail "the good run failed"
fi

step "--help"
rc=0
"$RFMSEG" --help > "$WORK/help.out" 2> "$WORK/help.err" || rc=$?
if [[ $rc -eq 0 && -s $WORK/help.out ]] && grep -q -- '--input' "$WORK/help.out"; then
  pass "--help: exit 0, $(wc -l < "$WORK/help.out") lines"
else
  fail "--help: exit $rc, $(wc -c < "$WORK/help.out") bytes on stdout"
fi
for status in "0  success" "1  bad input or configuration" "2  internal error" \
              "3  a rank or host stopped responding" "4  stopped by a signal"; do
  grep -qF -- "$status" "$WORK/help.out" || fail "--help does not document exit status '$status'"
done
rc=0
mpi "$RANKS" "$RFMSEG" --help > "$WORK/help2.out" 2> "$WORK/help2.err" || rc=$?
if [[ $rc -eq 0 ]] && cmp -s "$WORK/help.out" "$WORK/help2.out"; then
  pass "--help under $RANKS ranks: exit 0, printed once"
else
  fail "--help under $RANKS ranks: exit $rc, output differs from the single-process one"
fi

finish
