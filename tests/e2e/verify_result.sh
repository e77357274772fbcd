#!/usr/bin/env bash
# `rfmseg verify`: an intact result passes under any rank count with the same checksums; every
# kind of damage (a changed value, a missing dataset, a truncated file, not HDF5 at all, a
# swapped pair of rows) is reported with the dataset it concerns and exit status 1.
source "$(dirname "$0")/common.sh"

step "generate 40k lines"
"$RFMSEG_GEN" --output "$WORK/t.csv" --lines 40000 --seed 11 > /dev/null

step "results under 1 and 3 ranks verify, with identical checksums"
run_rfmseg t 1 --input "$WORK/t.csv" --k-range 1..5 --k-select elbow --quiet
run_rfmseg t 3 --input "$WORK/t.csv" --k-range 1..5 --k-select elbow --quiet
for n in 1 3; do
  if out=$("$RFMSEG" verify "$WORK/t.np$n.h5"); then
    grep -q ": OK (" <<< "$out" && pass "np$n: $out" || fail "np$n: unexpected verdict: $out"
    # Everything the writer wrote is in the one result-format description (src/io/result_format.cpp).
    ! grep -q "note:" <<< "$out" && pass "np$n: every dataset and attribute is described" \
      || fail "np$n: the result has something docs/result-format.md does not describe: $out"
  else
    fail "np$n: verify failed on an intact result: $out"
  fi
done
# Under mpirun too (only rank 0 speaks, every rank exits 0).
out=$(mpi 2 "$RFMSEG" verify "$WORK/t.np3.h5") && [[ $(grep -c ": OK (" <<< "$out") -eq 1 ]] \
  && pass "verify under 2 ranks prints one verdict" || fail "verify under mpirun: $out"
"$PY" - "$WORK/t.np1.h5" "$WORK/t.np3.h5" <<'PY' && pass "checksums equal for 1 and 3 ranks" || fail "checksums differ between 1 and 3 ranks"
import sys, h5py
def sums(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, o.attrs["checksum"]) if isinstance(o, h5py.Dataset) else None)
    return out
a, b = sums(sys.argv[1]), sums(sys.argv[2])
assert a == b and len(a) > 40, (len(a), len(b))
assert all(v.startswith(b"rowsum64p:") for v in a.values())
PY

# damaged COPY_NAME PYTHON_SNIPPET EXPECTED_TEXT: damage a copy, expect exit 1 naming the damage.
damaged() {
  local name=$1 snippet=$2 expected=$3 out rc=0
  cp "$WORK/t.np3.h5" "$WORK/$name.h5"
  "$PY" -c "import h5py, numpy as np
f = h5py.File('$WORK/$name.h5', 'r+')
$snippet
f.close()"
  out=$("$RFMSEG" verify "$WORK/$name.h5") || rc=$?
  if [[ $rc -eq 1 ]] && grep -qF -- "$expected" <<< "$out"; then
    pass "$name: exit 1, '$expected'"
  else
    fail "$name: rc=$rc, expected '$expected' in: $out"
  fi
}
step "damaged copies fail"
damaged changed_value "d = f['customers/monetary']; d[7] = d[7] + 0.01" \
  "customers/monetary: checksum mismatch"
damaged swapped_rows "d = f['customers/recency']; a, b = d[3], d[4]
if a == b: d[4] = b + 1
else: d[3], d[4] = b, a" "customers/recency: checksum mismatch"
damaged missing_dataset "del f['model/centroids']" "missing dataset model/centroids"
# A dataset of the wrong type or shape, with a valid checksum of its own (rewritten by another tool).
damaged wrong_type "x = f['customers/recency'][...].astype('f8'); c = f['customers/recency'].attrs['checksum']
del f['customers/recency']; f['customers/recency'] = x" "customers/recency is not of type int32"
damaged wrong_shape "del f['model/cluster_size']; f['model/cluster_size'] = np.zeros(7, 'i8')" \
  "model/cluster_size does not have the shape [k]"
damaged missing_checksum "del f['customers/cluster'].attrs['checksum']" "customers/cluster: no checksum attribute"
damaged bad_cluster "d = f['customers/cluster']; d[0] = 99; d.attrs['checksum'] = np.bytes_(b'rowsum64:0000000000000000')" \
  "customers/cluster has a value outside 0..k-1"
# Issue 12.13: checksums are bound to the dataset's path, and attributes are covered too.
damaged swapped_datasets "f.move('customers/r_score', 'customers/tmp'); f.move('customers/f_score', 'customers/r_score')
f.move('customers/tmp', 'customers/f_score')" "customers/f_score: checksum mismatch"
damaged edited_run_counter "f['run'].attrs.modify('count_kept', f['run'].attrs['count_kept'] + 1)" \
  "run: attributes changed"
damaged edited_run_version "f['run'].attrs['version'] = '9.9.9'" "run: attributes changed"
damaged added_run_attribute "f['run'].attrs.create('customers_note', np.int64(1))" "run: attributes changed"
damaged edited_selection_rule "f['selection'].attrs.modify('chosen_k', 2 if f['selection'].attrs['chosen_k'] != 2 else 3)" \
  "selection: attributes changed"
damaged removed_seal "del f['run'].attrs['attributes_checksum']" "run: attributes without an attribute checksum"

step "a result of rfmseg 0.1 (rowsum64 checksums, no nonpositive_monetary) still verifies"
out=$("$RFMSEG" verify "$SRC/tests/fixtures/result-0.1.h5") && grep -q "note: checksums of rfmseg 0.1" <<< "$out" \
  && pass "0.1 result: $(head -1 <<< "$out")" || fail "0.1 result: $out"
cp "$SRC/tests/fixtures/result-0.1.h5" "$WORK/old.h5"
"$PY" -c "import h5py; d = h5py.File('$WORK/old.h5', 'r+')['customers/frequency']; d[0] = d[0] + 1"
rc=0; out=$("$RFMSEG" verify "$WORK/old.h5") || rc=$?
[[ $rc -eq 1 && $out == *"customers/frequency: checksum mismatch"* ]] && pass "damaged 0.1 result fails" \
  || fail "damaged 0.1 result: rc=$rc $out"

step "truncated and foreign files fail"
head -c 20000 "$WORK/t.np3.h5" > "$WORK/truncated.h5"
rc=0; out=$("$RFMSEG" verify "$WORK/truncated.h5") || rc=$?
[[ $rc -eq 1 && $out == *FAILED* ]] && pass "truncated file: $(tail -1 <<< "$out")" || fail "truncated file: rc=$rc $out"
rc=0; out=$("$RFMSEG" verify "$WORK/t.csv" "$WORK/t.np1.h5") || rc=$?
[[ $rc -eq 1 && $out == *"t.csv: FAILED"* && $out == *"t.np1.h5: OK"* ]] \
  && pass "a CSV fails, the good file next to it passes" || fail "mixed files: rc=$rc $out"
rc=0; "$RFMSEG" verify > /dev/null || rc=$?
[[ $rc -eq 1 ]] && pass "no file: usage, exit 1" || fail "verify without a file: rc=$rc"
finish
