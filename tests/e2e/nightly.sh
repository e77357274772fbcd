# shellcheck shell=bash
# e2e.nightly: --previous (stable ids, migration, drift, warm start) over nights in a row.
#  - night 1 under 3 ranks; night 2 (a week later, some customers gone, new ones) with --previous
#    under 1, 2, 3 and 4 ranks: bit-identical results, also from a night 1 written under 1 rank;
#  - /migration, /drift, /customers/previous_* and the cluster ids equal an independent pandas /
#    scipy / scikit-learn computation (nightly_check.py), `rfmseg verify` passes;
#  - --export writes migration_clusters.csv / migration_segments.csv equal to /migration;
#  - the warm start alone (--n-init 0): its centroids equal numpy's group means of tonight's
#    features grouped by the previous model, bit-identical for 1 and 4 ranks of either night;
#  - rfmseg-gen --night 1, 2 with --truth: the churned customers that came back change cluster and
#    segment far more often than those that stayed churned;
#  - night 3 with --k-select elbow (k may differ from the previous k) checks the same way;
#  - a result written by rfmseg 0.1 (tests/fixtures) is accepted as the previous result;
#  - mismatched or unusable previous results are refused with exit 1, a message naming the
#    mismatch and no result: other transforms, scaler, k, pseudonymization, a damaged file, a
#    missing file, a newer snapshot, --previous = --output.
#
#   bash nightly.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

# shellcheck source=tests/e2e/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CHECK=$SRC/tests/e2e/nightly_check.py
cd "$WORK"

same() {  # same A B WHAT
  if "$PY" "$REFDIR/compare_results.py" same "$1" "$2" > cmp.log 2>&1; then
    pass "$3"
  else
    cat cmp.log >&2
    fail "$3: $1 and $2 differ"
  fi
}

check_migration() {  # check_migration PREVIOUS CURRENT WHAT
  local out
  if out=$("$PY" "$CHECK" migration "$1" "$2" 2>&1); then
    pass "$3: $out"
  else
    echo "$out" >&2
    fail "$3: differs from the pandas computation"
  fi
  if "$RFMSEG" verify "$2" > verify.log 2>&1 && ! grep -q "not part of the result format" verify.log; then
    pass "$3: rfmseg verify"
  else
    cat verify.log >&2
    fail "$3: rfmseg verify"
  fi
}

refused() {  # refused WHAT PATTERN ARGS...: exit 1, the message, no result
  local what=$1 pattern=$2
  shift 2
  rm -f refused.h5
  local rc=0
  mpi 2 "$RFMSEG" "$@" -o refused.h5 > refused.log 2>&1 || rc=$?
  if [[ $rc -eq 1 ]] && grep -q -- "$pattern" refused.log && [[ ! -e refused.h5 ]]; then
    pass "refused: $what"
  else
    cat refused.log >&2
    fail "refused: $what (exit $rc, want 1 with '$pattern' and no result)"
  fi
}

step "data"
"$RFMSEG_GEN" --output all.csv --lines 60000 --customers 3000 --seed 5 > /dev/null
# Night 2 and 3 lose the customers whose id ends in 7 (gone) — the rest is the same shop later.
awk -F, 'NR == 1 || $7 !~ /7$/' all.csv > later.csv
COMMON=(--k 4 --n-init 3 --seed 11 -q)

step "night 1 (3 ranks, and 1 rank)"
mpi 3 "$RFMSEG" -i all.csv --snapshot 2011-10-01 "${COMMON[@]}" -o night1.h5
mpi 1 "$RFMSEG" -i all.csv --snapshot 2011-10-01 "${COMMON[@]}" -o night1-np1.h5
same night1.h5 night1-np1.h5 "night 1 under 3 and 1 ranks"

step "night 2 with --previous under 1-4 ranks"
for np in 1 2 3 4; do
  mpi "$np" "$RFMSEG" -i later.csv --snapshot 2011-10-08 "${COMMON[@]}" --previous night1.h5 -o "night2-np$np.h5"
done
for np in 2 3 4; do same night2-np1.h5 "night2-np$np.h5" "night 2 under 1 and $np ranks"; done
mpi 2 "$RFMSEG" -i later.csv --snapshot 2011-10-08 "${COMMON[@]}" --previous night1-np1.h5 -o night2-from-np1.h5
same night2-np1.h5 night2-from-np1.h5 "night 2 from a night 1 written under 1 rank"
check_migration night1.h5 night2-np3.h5 "night 2"
"$PY" - night2-np3.h5 <<'PY' && pass "night 2: gone and new customers present" || fail "night 2: no gone or new customers"
import h5py, sys
a = h5py.File(sys.argv[1])["migration"].attrs
sys.exit(0 if a["gone"] > 0 and a["new"] > 0 and a["stayed"] > 0 else 1)
PY

step "exports of the migration tables"
mpi 2 "$RFMSEG" -i later.csv --snapshot 2011-10-08 "${COMMON[@]}" --previous night1.h5 -o night2-export.h5 --export ex
same night2-np1.h5 night2-export.h5 "night 2 with --export"
if out=$("$PY" "$CHECK" exports ex night2-export.h5 2>&1); then pass "$out"; else echo "$out" >&2; fail "exports"; fi

step "warm start alone (--n-init 0) under 1 and 4 ranks, previous from 3 and 1 ranks"
mpi 1 "$RFMSEG" -i later.csv --snapshot 2011-10-08 --k 4 --n-init 0 --seed 11 -q --previous night1.h5 -o warm-np1.h5
mpi 4 "$RFMSEG" -i later.csv --snapshot 2011-10-08 --k 4 --n-init 0 --seed 11 -q --previous night1-np1.h5 -o warm-np4.h5
same warm-np1.h5 warm-np4.h5 "warm start under 1 and 4 ranks"
if out=$("$PY" "$CHECK" warm night1.h5 warm-np1.h5 2>&1); then pass "$out"; else echo "$out" >&2; fail "warm start"; fi
check_migration night1.h5 warm-np4.h5 "warm start night"
refused "--n-init 0 without --previous" "0 only with --previous" -i later.csv --k 4 --n-init 0

step "night 3: --k-select elbow"
for np in 1 3; do
  mpi "$np" "$RFMSEG" -i later.csv --snapshot 2011-11-01 --k-range 2..7 --k-select elbow --n-init 2 --seed 11 -q \
    --previous night2-np1.h5 -o "night3-np$np.h5"
done
same night3-np1.h5 night3-np3.h5 "night 3 under 1 and 3 ranks"
check_migration night2-np1.h5 night3-np3.h5 "night 3"

step "the generator's consecutive nights: known movements"
for n in 1 2; do
  "$RFMSEG_GEN" --output "shop$n.csv" --lines 60000 --customers 3000 --seed 5 --night "$n" --night-days 60 \
    --truth "truth$n.csv" > /dev/null
done
mpi 2 "$RFMSEG" -i shop1.csv "${COMMON[@]}" -o shop1.h5
for np in 1 3; do mpi "$np" "$RFMSEG" -i shop2.csv "${COMMON[@]}" --previous shop1.h5 -o "shop2-np$np.h5"; done
same shop2-np1.h5 shop2-np3.h5 "shop night 2 under 1 and 3 ranks"
check_migration shop1.h5 shop2-np3.h5 "shop night 2"
if out=$("$PY" "$CHECK" moves truth2.csv shop2-np3.h5 2>&1); then pass "$out"; else echo "$out" >&2; fail "moves"; fi

step "a result of rfmseg 0.1 (no /model/fit_index, no /model/cluster_id) as the previous result"
if mpi 2 "$RFMSEG" -i "$SRC/tests/corpus/inputs/good.csv" --k 2 -q --previous "$SRC/tests/fixtures/result-0.1.h5" \
  -o from-0.1.h5 > from-0.1.log 2>&1 && "$PY" - from-0.1.h5 <<'PY'; then
import h5py, sys
with h5py.File(sys.argv[1]) as f:
    ids = list(f["migration/previous_cluster_id"][()])
    sys.exit(0 if ids == [0, 1] and f["migration"].attrs["stayed"] > 0 else 1)
PY
  pass "--previous of rfmseg 0.1: accepted, its clusters' ids are their rows"
else
  cat from-0.1.log >&2
  fail "--previous of rfmseg 0.1"
fi

step "refusals"
refused "other transform" "not comparable" -i later.csv --snapshot 2011-10-08 "${COMMON[@]}" \
  --transform-monetary log1p --previous night1.h5
refused "other scaler" "not comparable" -i later.csv --snapshot 2011-10-08 "${COMMON[@]}" --scaler minmax \
  --previous night1.h5
refused "other k" "has k = 4 clusters" -i later.csv --snapshot 2011-10-08 --k 5 --previous night1.h5
refused "missing file" "cannot be used" -i later.csv "${COMMON[@]}" --previous nowhere.h5
refused "newer snapshot" "after tonight's snapshot" -i later.csv --snapshot 2011-09-01 "${COMMON[@]}" \
  --previous night1.h5
head -c 32768 /dev/urandom > key.bin && chmod 600 key.bin
refused "other pseudonymization" "same --pseudonymize-key" -i later.csv --snapshot 2011-10-08 "${COMMON[@]}" \
  --pseudonymize-key key.bin --previous night1.h5
cp night1.h5 damaged.h5
"$PY" - damaged.h5 <<'PY'
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    d = f["customers/cluster"]
    d[0] = (d[0] + 1) % 4
PY
refused "damaged file" "cannot be used" -i later.csv --snapshot 2011-10-08 "${COMMON[@]}" --previous damaged.h5
cp night1.h5 same.h5
before=$(sha256sum same.h5)
rc=0
mpi 2 "$RFMSEG" -i later.csv --snapshot 2011-10-08 "${COMMON[@]}" --previous same.h5 -o same.h5 > same.log 2>&1 || rc=$?
if [[ $rc -eq 1 && $(sha256sum same.h5) == "$before" ]]; then
  pass "refused: --previous = --output (file unchanged)"
else
  cat same.log >&2
  fail "--previous = --output: exit $rc, file changed or not refused"
fi
if grep -q "input" same.log; then
  pass "--previous = --output: the message says why ($(grep -m1 error same.log | cut -c1-120))"
else
  fail "--previous = --output: no reason given"
fi

finish
