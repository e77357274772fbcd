#!/usr/bin/env bash
# jobs/scaling.sbatch at small size on a real (private, single-node) Slurm cluster: 1 and 2 ranks,
# strong and weak scaling, 2 runs per point -> COMPLETED, a CSV with one row per run and the
# measured phases, and the two PNGs of scripts/plot_scaling.py.
# usage: test_scaling_job.sh REPO BINDIR
source "$(dirname "$0")/lib.sh"

dir=$WORK/scaling
submit_and_poll 180 --ntasks=2 --chdir="$WORK" \
  --export="ALL,RFMSEG_BIN=$BIN,SCALING_DIR=$dir,SCALING_RANKS=1 2,SCALING_STRONG_LINES=40000,SCALING_WEAK_LINES=20000,SCALING_REPEATS=2" \
  "$REPO/jobs/scaling.sbatch"
check "scaling job ends COMPLETED" test "$JOB_STATE" = COMPLETED
check "exit code 0:0" test "$JOB_EXIT" = 0:0
log=$WORK/rfmseg-scaling-$JOB_ID.out
check "job log ends with the OK summary" grep -q "^rfmseg-scaling: OK job $JOB_ID" <(tail -n 1 "$log")
if [[ $JOB_STATE != COMPLETED ]]; then
  cat "$log" "$WORK/rfmseg-scaling-$JOB_ID.err" 2>/dev/null | tail -n 30
fi

csv=$dir/scaling.csv
check "CSV written" test -s "$csv"
# One row per run: 2 modes x 2 rank counts x 2 repeats, all successful, every phase measured.
check_csv() {
  awk -F, -v job="$JOB_ID" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["job_id"] == job {
      rows++
      if ($col["status"] != 0) bad = bad " status"
      for (name in col)
        if (name ~ /^time_(ingest|rfm|sort|output|total)$/ && $col[name] == "") bad = bad " " name
      if ($col["count_lines"] != ($col["mode"] == "strong" ? 40000 : 20000 * $col["ranks"])) bad = bad " lines"
      if ($col["bytes_shuffled"] == "" || $col["customers"] == "") bad = bad " counters"
      seen[$col["mode"] "/" $col["ranks"]]++
    }
    END {
      if (rows != 8) { print "rows: " rows; exit 1 }
      if (seen["strong/1"] != 2 || seen["strong/2"] != 2 || seen["weak/1"] != 2 || seen["weak/2"] != 2) { print "points"; exit 1 }
      if (bad != "") { print "missing:" bad; exit 1 }
    }' "$csv"
}
check "CSV: 8 runs (strong and weak x 1, 2 ranks x 2), all measured" check_csv
head -n 3 "$csv" | cut -c1-200

is_png() {  # a non-trivial PNG
  [[ -s $1 && $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a && $(stat -c %s "$1") -gt 20000 ]]
}
check "scaling-strong.png drawn" is_png "$dir/scaling-strong.png"
check "scaling-weak.png drawn" is_png "$dir/scaling-weak.png"
check "generated inputs removed" test -z "$(ls -A "$dir/data")"
check "per-run results removed" test -z "$(ls -A "$dir/results")"
finish
