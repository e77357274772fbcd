# shellcheck shell=bash
# e2e.summary: `rfmseg summary` (the nightly history's row) against h5py.
#  - night 1 (no previous) and night 2 (--previous night 1) of one shop (rfmseg-gen --night);
#    `summary --csv` of both, read back with pandas (round-trip doubles) = the files' values:
#    snapshot date, customers, k, inertia, silhouette, /migration stayed/new/gone/ari and the
#    changed shares, /drift/psi, cluster sizes by stable id, segment counts; night 1's migration
#    fields are empty; the same under 1 and 3 ranks of the summary's launcher (rank 0 prints once);
#  - --no-header, the default 'column = value' form, a file name with a comma (quoted);
#  - exit 1 with a message naming the file for a missing file, a non-HDF5 file and an HDF5 file
#    that is not a result, with nothing on stdout; an unknown option exits 1, --help 0.
#
#   bash summary.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

# shellcheck source=tests/e2e/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$WORK"

step "two nights"
for n in 1 2; do "$RFMSEG_GEN" --output "night$n.csv" --lines 20000 --seed 3 --night "$n" --night-days 7 > /dev/null; done
mpi 2 "$RFMSEG" -i night1.csv --k 4 --seed 5 -q -o night1.h5
mpi 2 "$RFMSEG" -i night2.csv --k 4 --seed 5 -q --previous night1.h5 -o "night,2.h5"

step "summary --csv = the files (h5py)"
if "$RFMSEG" summary --csv night1.h5 "night,2.h5" > summary.csv 2> summary.err && [[ ! -s summary.err ]]; then
  pass "summary --csv of two results"
else
  cat summary.err >&2
  fail "summary --csv of two results"
fi
if out=$("$PY" - summary.csv <<'PY' 2>&1
import sys, h5py, pandas as pd
h = pd.read_csv(sys.argv[1], float_precision="round_trip")
errors = []
def expect(what, ok):
    if not ok:
        errors.append(what)
def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)
expect(f"rows {list(h['result'])}", list(h["result"]) == ["night1.h5", "night,2.h5"])
for _, row in h.iterrows():
    with h5py.File(row["result"], "r") as f:
        expect("date", row["date"] == text(f["run"].attrs["snapshot_date"]))
        expect("customers", row["customers"] == f["run"].attrs["customers"])
        for name in ("k", "inertia", "silhouette"):
            expect(name, row[name] == f["model/" + name][()])
        sizes = ";".join(f"{i}:{s}" for i, s in zip(f["model/cluster_id"][...], f["model/cluster_size"][...]))
        expect("cluster_sizes", row["cluster_sizes"] == sizes)
        labels = ";".join(f"{i}:{s}" for i, s in zip(f["model/cluster_id"][...], f["model/cluster_label"].asstr()[...]))
        expect("cluster_labels", row["cluster_labels"] == labels)
        for name, count in zip(f["segments/name"].asstr()[...], f["segments/count"][...]):
            expect("segment " + name, row["segment_" + name.replace(" ", "_")] == count)
        fields = ["previous_snapshot", "stayed", "new", "gone", "changed_cluster_share", "changed_segment_share",
                  "ari", "psi_recency", "psi_frequency", "psi_monetary"]
        if "migration" not in f:
            expect("no migration: empty fields", all(pd.isna(row[c]) for c in fields))
            continue
        m = f["migration"].attrs
        expect("previous_snapshot", row["previous_snapshot"] == text(m["previous_snapshot"]))
        for name in ("stayed", "new", "gone", "ari"):
            expect(name, row[name] == m[name])
        expect("changed_cluster_share", row["changed_cluster_share"] == m["changed_cluster"] / m["stayed"])
        expect("changed_segment_share", row["changed_segment_share"] == m["changed_segment"] / m["stayed"])
        expect("psi", [row["psi_recency"], row["psi_frequency"], row["psi_monetary"]] == list(f["drift/psi"][...]))
print("; ".join(errors) if errors else f"{len(h)} rows, {len(h.columns)} columns")
sys.exit(1 if errors else 0)
PY
); then pass "summary = h5py: $out"; else fail "summary differs from h5py: $out"; fi

mpi 3 "$RFMSEG" summary --csv night1.h5 "night,2.h5" > summary-np3.csv 2>/dev/null
if cmp -s summary.csv summary-np3.csv; then pass "the same under 3 ranks (printed once)"; else fail "3 ranks print something else"; fi
"$RFMSEG" summary --csv --no-header "night,2.h5" > row.csv
if [[ $(wc -l < row.csv) -eq 1 ]] && cmp -s row.csv <(sed -n 3p summary.csv); then pass "--no-header: the row only"; else fail "--no-header"; fi
"$RFMSEG" summary "night,2.h5" > plain.txt
if grep -qx 'night,2.h5' plain.txt && grep -qx "  stayed = $("$PY" -c 'import h5py; print(h5py.File("night,2.h5")["migration"].attrs["stayed"])')" plain.txt; then
  pass "default form: name, then 'column = value' lines"
else
  cat plain.txt >&2
  fail "default form"
fi

step "refusals"
printf 'not,hdf5\n' > text.h5
"$PY" -c 'import h5py; h5py.File("other.h5", "w").create_dataset("x", data=[1])'
for bad in missing.h5 text.h5 other.h5; do
  rc=0
  "$RFMSEG" summary --csv night1.h5 "$bad" > bad.out 2> bad.err || rc=$?
  if [[ $rc -eq 1 && ! -s bad.out ]] && grep -q "^rfmseg summary: $bad: " bad.err; then
    pass "$bad: exit 1, named, nothing on stdout ($(head -n 1 bad.err))"
  else
    cat bad.out bad.err >&2
    fail "$bad: exit $rc"
  fi
done
rc=0; "$RFMSEG" summary --bogus night1.h5 > /dev/null 2>&1 || rc=$?
if [[ $rc -eq 1 ]]; then pass "unknown option: exit 1"; else fail "unknown option: exit $rc"; fi
if "$RFMSEG" summary --help | grep -q '^usage: rfmseg summary'; then pass "--help: exit 0"; else fail "--help"; fi
finish
