# e2e.rfm_matches_reference: rfmseg-gen -> rfmseg under several rank counts -> the exact RFM
# table of scripts/reference/rfm_reference.py, bit for bit, with the cleaning counters; the
# generator's own ground truth; 1 vs 4 ranks bit-identical; K-means vs scikit-learn.
#
#   bash rfm_matches_reference.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# ---- main case: 200k generated lines (online-retail, US dates, dirt) plus a small hand-messy
# file of the same layout (bad numbers and dates, extra fields, quoted line breaks, latin-1)
step "generate"
mpi 2 "$RFMSEG_GEN" --output "$WORK/main.csv" --lines 200000 --seed 11 --dirt 0.05 \
  --groups "$WORK/main.truth.csv" > "$WORK/gen.log" 2>&1 || { cat "$WORK/gen.log" >&2; exit 1; }
"$PY" "$REFDIR/synth.py" --layout online-retail --date-style slash --lines 20000 \
  --customers 3000 --seed 5 --out "$WORK/messy.csv" 2> /dev/null

step "reference vs the generator's ground truth"
if reference gen_only --input "$WORK/main.csv"; then
  if "$PY" - "$WORK/gen_only.ref.csv" "$WORK/main.truth.csv" <<'EOF'
import csv, sys
ref = {r[0]: r for r in list(csv.reader(open(sys.argv[1], encoding="latin-1")))[1:]}
truth = [r for r in csv.DictReader(open(sys.argv[2], encoding="latin-1")) if r["in_table"] == "1"]
bad = [r["customer_id"] for r in truth
       if r["customer_id"] not in ref
       or (int(ref[r["customer_id"]][1]), int(ref[r["customer_id"]][2]), float(ref[r["customer_id"]][3]))
       != (int(r["recency"]), int(r["frequency"]), float(r["monetary"]))]
if bad or len(truth) != len(ref):
    print("truth: %d customers, reference %d, %d differ, e.g. %r"
          % (len(truth), len(ref), len(bad), bad[:5]))
    sys.exit(1)
print("%d customers equal to the generator's truth" % len(ref))
EOF
  then pass "rfm_reference.py agrees with rfmseg-gen --groups"
  else fail "rfm_reference.py disagrees with rfmseg-gen --groups (generator or reference bug)"
  fi
fi

step "reference on both files"
reference main --input "$WORK/main.csv" --input "$WORK/messy.csv" || true
for n in 1 4; do
  step "rfmseg -n $n"
  run_rfmseg main "$n" --input "$WORK/main.csv" --input "$WORK/messy.csv" || continue
  check_rfm main "$WORK/main.np$n.h5"
done
if [[ -f $WORK/main.np1.h5 && -f $WORK/main.np4.h5 ]]; then
  if out=$("$PY" "$REFDIR/compare_results.py" same "$WORK/main.np1.h5" "$WORK/main.np4.h5" 2>&1); then
    pass "1 vs 4 ranks: $out"
  else
    echo "$out" >&2
    fail "results under 1 and 4 ranks are not bit-identical"
  fi
fi

# The segmentation of the same run, re-done by scikit-learn from rfmseg's initial centroids.
if [[ -f $WORK/main.np4.h5 ]]; then
  step "K-means of the 4-rank result vs scikit-learn"
  if out=$("$PY" "$REFDIR/compare_results.py" kmeans "$WORK/main.np4.h5" 2>&1); then
    pass "kmeans: $(grep -E '^ARI|^KMEANS' <<< "$out" | tr '\n' ' ')"
  else
    echo "$out" >&2
    fail "K-means result differs from scikit-learn's Lloyd from the same start"
  fi
fi

# ---- --window DAYS: rolling RFM over the lines with snapshot - day <= DAYS; older lines are
# outside_window (counted, in --rejects, not unparseable). Without --snapshot the snapshot comes from
# the data (a first pass); with it, from the option. Same table and counters as the reference,
# bit-identical for 1 and 3 ranks, every outside_window line in the rejects file, and the RFM of
# pandas on the lines inside the window.
for case in "window90|--window 90" "window30_snap|--window 30 --snapshot 2011-09-15"; do
  name=${case%%|*}
  read -r -a opts <<< "${case#*|}"
  step "$name: rfmseg ${opts[*]}"
  reference "$name" --input "$WORK/main.csv" "${opts[@]}" || continue
  for n in 1 3; do
    run_rfmseg "$name" "$n" --input "$WORK/main.csv" "${opts[@]}" --rejects "$WORK/$name.np$n.rejects.csv" ||
      continue
    check_rfm "$name" "$WORK/$name.np$n.h5"
    if out=$("$PY" "$SRC/tests/e2e/rejects_check.py" check "$WORK/$name.np$n.rejects.csv" "$WORK/$name.np$n.h5" 2>&1)
    then pass "$name np$n: rejects rows per reason = /run count_<reason> (outside_window included)"
    else echo "$out" >&2; fail "$name np$n: rejects file vs counters"
    fi
  done
  if [[ -f $WORK/$name.np1.h5 && -f $WORK/$name.np3.h5 ]]; then
    "$PY" "$REFDIR/compare_results.py" same "$WORK/$name.np1.h5" "$WORK/$name.np3.h5" > /dev/null 2>&1 &&
      cmp -s "$WORK/$name.np1.rejects.csv" "$WORK/$name.np3.rejects.csv" &&
      pass "$name: 1 vs 3 ranks bit-identical (result and rejects)" || fail "$name: 1 and 3 ranks differ"
  fi
  [[ -f $WORK/$name.np3.h5 ]] || continue
  if out=$("$PY" "$SRC/tests/e2e/window_check.py" "$WORK/$name.np3.h5" "$WORK/$name.ref.json" \
           "$WORK/main.csv" "$WORK/$name.np3.rejects.csv" 2>&1); then
    pass "$name: $out"
  else
    echo "$out" >&2
    fail "$name: rfmseg's window RFM differs from pandas on the filtered lines"
  fi
done

# ---- variants under 3 ranks (uneven byte ranges): layouts, date styles, options
# variant NAME "GENERATOR OPTIONS" "RFMSEG/REFERENCE OPTIONS"
variant() {
  local name=$1 gen_opts=$2 run_opts=$3
  local -a g r
  read -r -a g <<< "$gen_opts"
  read -r -a r <<< "$run_opts"
  step "variant $name: rfmseg-gen $gen_opts | rfmseg $run_opts"
  if ! "$RFMSEG_GEN" --output "$WORK/$name.csv" --lines 40000 --seed 3 --dirt 0.1 "${g[@]}" \
       > "$WORK/$name.gen.log" 2>&1; then
    cat "$WORK/$name.gen.log" >&2
    fail "$name: rfmseg-gen failed"
    return 0
  fi
  reference "$name" --input "$WORK/$name.csv" "${r[@]}" || return 0
  run_rfmseg "$name" 3 --input "$WORK/$name.csv" "${r[@]}" || return 0
  check_rfm "$name" "$WORK/$name.np3.h5"
}

variant orii      "--format online-retail-ii"                        ""
variant amount    "--format amount"                                  ""
variant amount_drop "--format amount"                                "--duplicates drop"
variant amount_ymd "--format amount --date-style ymd --id-style padded" "--frequency days"
variant eu        "--date-style eu"                                  "--day-first"
variant us2_net   "--date-style us2"                                 "--cancellations net"
variant crlf      "--crlf"                                           ""
variant iso_crlf  "--date-style iso --crlf --format online-retail-ii" "--frequency lines"

# two layouts in one run: per-file layout detection, customers spanning files
step "mixed layouts"
if [[ -f $WORK/orii.csv && -f $WORK/crlf.csv ]]; then
  reference mixed --input "$WORK/orii.csv" --input "$WORK/crlf.csv" &&
    run_rfmseg mixed 3 --input "$WORK/orii.csv" --input "$WORK/crlf.csv" &&
    check_rfm mixed "$WORK/mixed.np3.h5"
fi

finish
