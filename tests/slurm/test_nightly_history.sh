#!/usr/bin/env bash
# jobs/segment.sbatch night after night on a real (private, single-node) Slurm cluster:
#   nights 1-3  consecutive nights of one shop (rfmseg-gen --night N --night-days 7), one sbatch
#               each, waited for: COMPLETED; night 1 without a previous result, nights 2 and 3
#               with --previous = the night before (`latest`, RFMSEG_PREVIOUS=auto): their
#               /migration previous_file names it; history.csv has 3 rows in date order with the
#               results' snapshot dates, row 1 without migration fields, rows 2-3's stayed / new /
#               gone / ari / changed shares / PSI / cluster and segment sizes equal to the results
#               (h5py); `latest` -> night 3
#   night 3 again  the same date rerun: previous = night 2 (the newest before it), its row
#               replaced, not added (3 rows, the same bytes: the run is deterministic)
#   night 4     an input without one usable line: FAILED (status 1); history.csv byte-identical,
#               `latest` unchanged, no temporary file left; RFMSEG_PREVIOUS naming a missing file:
#               FAILED (status 1) before rfmseg runs, nothing changed
#   plot        scripts/plot_history.py draws the history into a non-empty PNG (skipped without
#               matplotlib)
# usage: test_nightly_history.sh REPO BINDIR
# Six jobs of ~10 s each on a loaded machine: more time than the default budget.
export SLURM_TEST_BUDGET=${SLURM_TEST_BUDGET:-330} SLURM_TEST_TIMEOUT=${SLURM_TEST_TIMEOUT:-420}
source "$(dirname "$0")/lib.sh"

job=$REPO/jobs/segment.sbatch
out=$WORK/results
PY=/usr/bin/python3
for n in 1 2 3; do
  timeout 120 mpirun -np 2 "$BIN/rfmseg-gen" --output "$WORK/night$n.csv" --lines 20000 --seed 7 \
    --night $n --night-days 7 >/dev/null
done
say "generated nights 1-3 ($(wc -l <"$WORK/night3.csv") lines on night 3)"
{ head -n 1 "$WORK/night1.csv"; printf 'no,usable,line\nnor,this,one\n'; } >"$WORK/unusable.csv"
common=ALL,RFMSEG_BIN=$BIN,RFMSEG_OUTDIR=$out
summary_of() { tail -n 1 "$WORK/rfmseg-segment-$1.out"; }

# --- nights 1-3 -----------------------------------------------------------------------------------
for n in 1 2 3; do
  submit_and_poll 120 --ntasks=2 --chdir="$WORK" \
    --export="$common,RFMSEG_INPUT=$WORK/night$n.csv,RFMSEG_DATE=2030-01-0$n" "$job"
  check "night $n ends COMPLETED, exit 0:0" test "$JOB_STATE:$JOB_EXIT" = COMPLETED:0:0
  summary=$(summary_of "$JOB_ID")
  say "summary: $summary"
  if ((n == 1)); then
    check "night 1: no previous result (auto, no latest yet)" grep -q "; previous none (auto); history.csv row .*; latest -> segments-2030-01-01.h5$" <<<"$summary"
  else
    check "night $n: previous = latest = night $((n - 1))" \
      grep -q "; previous segments-2030-01-0$((n - 1)).h5 (auto: latest); history.csv row .*; latest -> segments-2030-01-0$n.h5$" <<<"$summary"
  fi
  check "night $n: the log names the previous result before the run" grep -q "^rfmseg-segment: previous " "$WORK/rfmseg-segment-$JOB_ID.out"
done
check "latest -> night 3" test "$(readlink "$out/latest")" = segments-2030-01-03.h5
check "only the results, latest and history.csv in the output directory" \
  dir_has_only "$out" segments-2030-01-01.h5 segments-2030-01-02.h5 segments-2030-01-03.h5 latest history.csv

check_history() {  # $1: what; the history against the three results (h5py, pandas)
  check "$1" "$PY" - "$out" <<'PY'
import sys, h5py, numpy as np, pandas as pd
out = sys.argv[1]
h = pd.read_csv(f"{out}/history.csv", float_precision="round_trip")  # doubles bit for bit
errors = []
def expect(what, ok):
    if not ok:
        errors.append(what)
expect(f"3 rows, not {len(h)}", len(h) == 3)
expect("results in order", list(h["result"]) == [f"segments-2030-01-0{n}.h5" for n in (1, 2, 3)])
migration_columns = ["previous_snapshot", "stayed", "new", "gone", "changed_cluster_share",
                     "changed_segment_share", "ari", "psi_recency", "psi_frequency", "psi_monetary"]
for i, row in h.iterrows():
    n = i + 1
    with h5py.File(f"{out}/segments-2030-01-0{n}.h5", "r") as f:
        run = f["run"].attrs
        expect(f"row {n}: date", row["date"] == run["snapshot_date"].decode() if isinstance(run["snapshot_date"], bytes) else row["date"] == str(run["snapshot_date"]))
        expect(f"row {n}: customers", row["customers"] == run["customers"])
        expect(f"row {n}: k", row["k"] == f["model/k"][()])
        expect(f"row {n}: inertia", row["inertia"] == f["model/inertia"][()])
        expect(f"row {n}: silhouette", row["silhouette"] == f["model/silhouette"][()])
        sizes = ";".join(f"{i}:{s}" for i, s in zip(f["model/cluster_id"][...], f["model/cluster_size"][...]))
        expect(f"row {n}: cluster_sizes {row['cluster_sizes']} != {sizes}", row["cluster_sizes"] == sizes)
        names = f["segments/name"].asstr()[...]
        for name, count in zip(names, f["segments/count"][...]):
            expect(f"row {n}: segment {name}", row["segment_" + name.replace(" ", "_")] == count)
        if n == 1:
            expect("night 1 has no /migration", "migration" not in f)
            expect("row 1: migration fields empty", all(pd.isna(row[c]) for c in migration_columns))
            continue
        m = f["migration"].attrs
        prev = m["previous_file"]
        prev = prev.decode() if isinstance(prev, bytes) else str(prev)
        expect(f"night {n}: previous_file {prev}", prev == f"{out}/segments-2030-01-0{n - 1}.h5")
        for a in ("stayed", "new", "gone"):
            expect(f"row {n}: {a} {row[a]} != {m[a]}", row[a] == m[a])
        expect(f"row {n}: ari {row['ari']!r} != {m['ari']!r}", row["ari"] == m["ari"])
        expect(f"row {n}: changed_cluster_share", row["changed_cluster_share"] == m["changed_cluster"] / m["stayed"])
        expect(f"row {n}: changed_segment_share", row["changed_segment_share"] == m["changed_segment"] / m["stayed"])
        psi = f["drift/psi"][...]
        expect(f"row {n}: psi", [row["psi_recency"], row["psi_frequency"], row["psi_monetary"]] == list(psi))
        prev_snapshot = h5py.File(prev, "r")["run"].attrs["snapshot_date"]
        prev_snapshot = prev_snapshot.decode() if isinstance(prev_snapshot, bytes) else str(prev_snapshot)
        expect(f"row {n}: previous_snapshot", row["previous_snapshot"] == prev_snapshot)
expect("dates ascending and distinct", list(h["date"]) == sorted(set(h["date"])))
for e in errors:
    print("history.csv:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}
check_history "history.csv: 3 rows = the results' snapshot, model, /migration, /drift, sizes (h5py)"
say "history: $(cut -d, -f1-4,8-10,13 "$out/history.csv" | tr '\n' ' ')"
history_sum=$(md5sum <"$out/history.csv")

# --- night 3 again: its row replaced ---------------------------------------------------------------
submit_and_poll 120 --ntasks=2 --chdir="$WORK" \
  --export="$common,RFMSEG_INPUT=$WORK/night3.csv,RFMSEG_DATE=2030-01-03" "$job"
check "night 3 rerun ends COMPLETED" test "$JOB_STATE:$JOB_EXIT" = COMPLETED:0:0
check "night 3 rerun: previous = night 2 (latest is tonight's own result)" \
  grep -q "; previous segments-2030-01-02.h5 (auto: newest result before 2030-01-03);" <<<"$(summary_of "$JOB_ID")"
check "night 3 rerun: its row replaced, history byte-identical" test "$(md5sum <"$out/history.csv")" = "$history_sum"
check_history "history.csv after the rerun: still the 3 rows of the results"

# --- night 4: fails; nothing changes --------------------------------------------------------------
result3_sum=$(md5sum <"$out/segments-2030-01-03.h5")
submit_and_poll 120 --ntasks=2 --chdir="$WORK" \
  --export="$common,RFMSEG_INPUT=$WORK/unusable.csv,RFMSEG_DATE=2030-01-04" "$job"
check "night 4 (no usable line) ends FAILED with rfmseg's status 1" test "$JOB_STATE:$JOB_EXIT" = FAILED:1:0
check "night 4: the summary says FAILED, previous and latest" \
  grep -q "^rfmseg-segment: FAILED (status 1) job $JOB_ID: .*previous segments-2030-01-03.h5 (auto: latest); latest still -> segments-2030-01-03.h5" <<<"$(summary_of "$JOB_ID")"
check "night 4: history.csv byte-identical" test "$(md5sum <"$out/history.csv")" = "$history_sum"
check "night 4: latest still -> night 3" test "$(readlink "$out/latest")" = segments-2030-01-03.h5
check "night 4: night 3's result unchanged" test "$(md5sum <"$out/segments-2030-01-03.h5")" = "$result3_sum"
check "night 4: no result, no temporary history or link" \
  dir_has_only "$out" segments-2030-01-01.h5 segments-2030-01-02.h5 segments-2030-01-03.h5 latest history.csv

submit_and_poll 60 --ntasks=2 --chdir="$WORK" \
  --export="$common,RFMSEG_INPUT=$WORK/night3.csv,RFMSEG_DATE=2030-01-04,RFMSEG_PREVIOUS=$WORK/missing.h5" "$job"
check "RFMSEG_PREVIOUS naming a missing file: FAILED with status 1" test "$JOB_STATE:$JOB_EXIT" = FAILED:1:0
check "... the summary names it" \
  grep -q "^rfmseg-segment: FAILED (status 1) job $JOB_ID: RFMSEG_PREVIOUS '$WORK/missing.h5' is not a file .*nothing was changed; latest still -> segments-2030-01-03.h5" <<<"$(summary_of "$JOB_ID")"
check "... history.csv byte-identical, latest unchanged" \
  test "$(md5sum <"$out/history.csv") $(readlink "$out/latest")" = "$history_sum segments-2030-01-03.h5"
check "... no result for 2030-01-04" \
  dir_has_only "$out" segments-2030-01-01.h5 segments-2030-01-02.h5 segments-2030-01-03.h5 latest history.csv

# --- the plot ---------------------------------------------------------------------------------------
if "$PY" -c 'import matplotlib, pandas, h5py' 2>/dev/null; then
  check "plot_history.py draws the history" \
    env RFMSEG_NO_INSTALL=1 timeout 120 "$PY" "$REPO/scripts/plot_history.py" "$out/history.csv" --out "$WORK/history.png"
  check "... a non-empty PNG" test -s "$WORK/history.png" -a "$(head -c 4 "$WORK/history.png" | tail -c 3)" = PNG
else
  say "SKIP (check): matplotlib, pandas or h5py missing in $PY: the plot is not drawn"
fi
finish
