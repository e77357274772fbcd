# e2e.reference_fixtures: rfmseg on every hand-made fixture of scripts/reference/fixtures/, with
# the options of each case of scripts/reference/selftest.py, equals rfm_reference.py exactly
# (table bit for bit, counters, snapshot); the fatal cases fail with exit 1 and their message.
#
#   bash reference_fixtures.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RANKS=2
# Cases with quoted line breaks, unclosed quotes and tiny records also run under more ranks
# than the file has lines per rank, so byte ranges start inside records.
MORE_RANKS_CASES=" online_retail quirks cdnow_whitespace "
# The fixtures are unparseable in large part on purpose (every kind of bad line): rfmseg's limit on
# them (--max-bad-fraction, default 0.05; tests/corpus) is lifted here.
LIFT=(--max-bad-fraction 1)
# Reference options rfmseg does not have (rfmseg looks for duplicates across all inputs).
REFERENCE_ONLY='--duplicate-scope file|--quote|--examples'

step "selftest --quick --dump (the case list and the hand-computed expectations)"
if ! "$PY" "$REFDIR/selftest.py" --quick --dump "$WORK/cases" > "$WORK/selftest.log" 2>&1; then
  tail -20 "$WORK/selftest.log" >&2
  fail "scripts/reference/selftest.py --quick fails: fix the reference first"
  finish
fi
pass "$(tail -1 "$WORK/selftest.log")"

cd "$REFDIR"  # the dumped arguments name fixtures/... relative to it
ncases=0
for args_file in "$WORK"/cases/*.args; do
  name=$(basename "$args_file" .args)
  read -r -a args < "$args_file"
  if grep -Eq -- "$REFERENCE_ONLY" "$args_file"; then
    echo "skip: $name: reference-only option ($(cat "$args_file"))"
    continue
  fi
  ncases=$((ncases + 1))
  step "$name: ${args[*]}"
  if [[ -f $WORK/cases/$name.error ]]; then
    needle=$(cat "$WORK/cases/$name.error")
    rc=0
    mpi "$RANKS" "$RFMSEG" "${args[@]}" "${LIFT[@]}" --output "$WORK/$name.h5" > "$WORK/$name.log" 2>&1 || rc=$?
    count=$(grep -c 'rfmseg: error:' "$WORK/$name.log" || true)
    if [[ $rc -eq 1 && $count -eq 1 ]] && grep 'rfmseg: error:' "$WORK/$name.log" | grep -qF -- "$needle"; then
      pass "$name: exit 1, message names '$needle'"
    else
      cat "$WORK/$name.log" >&2
      fail "$name: expected exit 1 and one error message containing '$needle' (exit $rc)"
    fi
    [[ ! -e $WORK/$name.h5 ]] || fail "$name: a failed run left $WORK/$name.h5"
    continue
  fi
  reference "$name" "${args[@]}" || continue
  if ! cmp -s "$WORK/$name.ref.csv" "$WORK/cases/$name.csv"; then
    fail "$name: rfm_reference.py output differs from selftest.py's hand-computed table"
  fi
  ranks=("$RANKS")
  [[ $MORE_RANKS_CASES == *" $name "* ]] && ranks+=(4)
  for n in "${ranks[@]}"; do
    # --k 1: the fixtures have a handful of customers; only the RFM table is checked here.
    run_rfmseg "$name" "$n" "${args[@]}" "${LIFT[@]}" --k 1 || continue
    check_rfm "$name" "$WORK/$name.np$n.h5"
  done
done
[[ $ncases -ge 10 ]] || fail "only $ncases fixture cases found in the selftest dump"

finish
