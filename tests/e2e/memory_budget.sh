# e2e.memory_budget: --max-memory-per-rank. A 40 MB input (about 2.5x the budget) completes under
# a 16 MiB budget per rank on 1 and 3 ranks, in more (smaller) rounds, with a result bit-identical
# to an unlimited run and the same cleaning counters; a budget the data cannot fit in ends with
# exit status 1 and one clear message on every rank count, and leaves no result file.
#
#   bash memory_budget.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

step "generate ~40 MB"
mpi 2 "$RFMSEG_GEN" --output "$WORK/big.csv" --lines 470000 --seed 21 --dirt 0.05 > "$WORK/gen.log" 2>&1 ||
  { cat "$WORK/gen.log" >&2; exit 1; }
echo "input: $(stat -c %s "$WORK/big.csv") bytes"

# same_run A.h5 B.h5 UNLIMITED_SAME_RANKS.h5: A and B datasets bit-identical, and the same
# counters, customers and snapshot in /run; B needed more shuffle rounds than the unlimited run
# under the same rank count (the budget shaped the rounds).
same_run() {
  local a=$1 b=$2 c=$3 out
  if out=$("$PY" "$REFDIR/compare_results.py" same "$a" "$b" 2>&1); then
    pass "$(basename "$b"): $out"
  else
    echo "$out" >&2
    fail "$(basename "$b") differs from $(basename "$a")"
  fi
  if out=$("$PY" - "$a" "$b" "$c" <<'PY'
import sys, h5py
a, b, c = (dict(h5py.File(p, "r")["run"].attrs) for p in sys.argv[1:4])
keys = [k for k in a if k.startswith("count_")] + ["customers", "snapshot_date"]
diff = [k for k in keys if a[k] != b.get(k)]
if diff:
    print("differ: " + ", ".join("%s %s != %s" % (k, a[k], b.get(k)) for k in diff))
    sys.exit(1)
if int(b["shuffle_rounds"]) <= int(c["shuffle_rounds"]):
    print("the budget run had %d rounds, the unlimited one %d" % (b["shuffle_rounds"], c["shuffle_rounds"]))
    sys.exit(1)
print("%d counters equal; rounds %d unlimited -> %d under the budget" % (len(keys), c["shuffle_rounds"], b["shuffle_rounds"]))
PY
  ); then
    pass "$(basename "$b"): $out"
  else
    fail "$(basename "$b"): $out"
  fi
}

for n in 1 3; do
  step "unlimited and 16 MiB per rank, $n rank(s)"
  run_rfmseg unlimited "$n" --input "$WORK/big.csv" --max-memory-per-rank 0 || continue
  run_rfmseg budget16 "$n" --input "$WORK/big.csv" --max-memory-per-rank 16M || continue
  [[ -f $WORK/unlimited.np1.h5 ]] || continue
  same_run "$WORK/unlimited.np1.h5" "$WORK/budget16.np$n.h5" "$WORK/unlimited.np$n.h5"
done

for n in 1 3; do
  step "4 MiB per rank, $n rank(s): cannot fit"
  rc=0
  mpi "$n" "$RFMSEG" --input "$WORK/big.csv" --max-memory-per-rank 4M --output "$WORK/small.h5" \
    > "$WORK/small.out" 2> "$WORK/small.err" || rc=$?
  count=$(grep -c 'rfmseg: error:' "$WORK/small.err" || true)
  line=$(grep -m1 'rfmseg: error:' "$WORK/small.err" || true)
  if [[ $rc -ne 1 || $count -ne 1 ]]; then
    cat "$WORK/small.err" >&2
    fail "4M under $n: exit $rc and $count error lines, expected exit 1 and one line"
  elif ! grep -Eq 'needs ~[0-9.]+ [KMG]iB of memory per rank, more than the budget of 4\.0 MiB .*use more ranks or raise --max-memory-per-rank' <<< "$line"; then
    fail "4M under $n: unexpected message [$line]"
  else
    pass "4M under $n: $line"
  fi
  if [[ -e $WORK/small.h5 ]] || compgen -G "$WORK/small.h5.tmp-*" > /dev/null; then
    fail "4M under $n: a result file was left behind"
  fi
done

finish
