#!/usr/bin/env bash
# `rfmseg score`: a model trained under 3 ranks scores its own input under 1 and 4 ranks with
# /customers bit-identical to the training result; a different input is placed by the frozen
# parameters (each cluster the nearest model centroid, recomputed in numpy); scored files pass
# verify; a missing, foreign or damaged model, an output over the model and options the model
# fixes are refused with exit status 1 and one message.
source "$(dirname "$0")/common.sh"
CHECK=$SRC/tests/e2e/score_check.py

step "generate two shops (40k and 20k lines)"
"$RFMSEG_GEN" --output "$WORK/t.csv" --lines 40000 --seed 11 > /dev/null
"$RFMSEG_GEN" --output "$WORK/new.csv" --lines 20000 --seed 12 > /dev/null

step "train under 3 ranks (Box-Cox on all three features, an elbow sweep)"
mpi 3 "$RFMSEG" --input "$WORK/t.csv" --output "$WORK/model.h5" --transform-monetary boxcox \
  --k-range 2..6 --k-select elbow --n-init 3 --quiet || fail "training run failed"

step "score the training input under 1 and 4 ranks: /customers bit-identical to training"
for n in 1 4; do
  if mpi "$n" "$RFMSEG" score --model "$WORK/model.h5" --input "$WORK/t.csv" --output "$WORK/self.np$n.h5" \
       > "$WORK/self.np$n.out" 2>&1; then
    "$PY" "$CHECK" same-customers "$WORK/model.h5" "$WORK/self.np$n.h5" \
      && pass "np$n: /customers bit-identical to the training result, /model frozen, /run mode = score" \
      || fail "np$n: scoring the training input differs from training"
    grep -q "scored with model $WORK/model.h5" "$WORK/self.np$n.out" && pass "np$n: the report names the model" \
      || fail "np$n: the report does not name the model: $(cat "$WORK/self.np$n.out")"
  else
    fail "np$n: score failed: $(cat "$WORK/self.np$n.out")"
  fi
done
"$PY" "$REFDIR/compare_results.py" same "$WORK/self.np1.h5" "$WORK/self.np4.h5" > /dev/null \
  && pass "scored under 1 and 4 ranks: bit-identical" || fail "scored files differ between 1 and 4 ranks"
out=$("$RFMSEG" verify "$WORK/self.np1.h5" "$WORK/self.np4.h5") && ! grep -q "note:" <<< "$out" \
  && pass "scored files verify, everything described: $(head -1 <<< "$out")" || fail "verify of scored files: $out"

step "score a different input under 2 ranks: the frozen model, recomputed independently"
if mpi 2 "$RFMSEG" score --model "$WORK/model.h5" --input "$WORK/new.csv" --output "$WORK/new.h5" --quiet; then
  "$PY" "$CHECK" independent "$WORK/model.h5" "$WORK/new.h5" \
    && pass "new input: nearest model centroids, scores, segments and flags from the frozen parameters" \
    || fail "new input: not placed by the model's parameters"
  out=$("$RFMSEG" verify "$WORK/new.h5") && pass "new input: $out" || fail "new input: verify: $out"
  # The check has teeth: against another model (different k and seed) the same file fails it.
  mpi 1 "$RFMSEG" --input "$WORK/t.csv" --output "$WORK/other.h5" --k 3 --seed 7 --n-init 2 --quiet
  ! "$PY" "$CHECK" independent "$WORK/other.h5" "$WORK/new.h5" > /dev/null 2>&1 \
    && pass "the independent check rejects a file scored by another model" \
    || fail "the independent check accepts a file scored by another model"
  # A scored file is a model too: scoring again with it gives the same customers.
  mpi 3 "$RFMSEG" score --model "$WORK/new.h5" --input "$WORK/new.csv" --output "$WORK/again.h5" --quiet \
    && "$PY" "$CHECK" same-customers "$WORK/new.h5" "$WORK/again.h5" \
    && pass "a scored file scores its own input again bit for bit" || fail "scoring with a scored file"
else
  fail "scoring a new input failed"
fi

step "the model's layout and cleaning options are replayed; the command line overrides them"
cancellations() {
  "$PY" -c "import h5py, sys
v = h5py.File(sys.argv[1], 'r')['run'].attrs['cancellations']
print(v.decode() if isinstance(v, bytes) else v)" "$1"
}
mpi 1 "$RFMSEG" --input "$WORK/t.csv" --output "$WORK/net.h5" --cancellations net --k 3 --n-init 1 --quiet
if mpi 2 "$RFMSEG" score --model "$WORK/net.h5" --input "$WORK/t.csv" --output "$WORK/net_self.h5" --quiet &&
   [[ $(cancellations "$WORK/net_self.h5") == net ]] &&
   "$PY" "$CHECK" same-customers "$WORK/net.h5" "$WORK/net_self.h5"; then
  pass "a --cancellations net model scores with net (replayed), its own input bit for bit"
else
  fail "the model's --cancellations net was not replayed"
fi
mpi 2 "$RFMSEG" score --model "$WORK/net.h5" --input "$WORK/t.csv" --output "$WORK/net_drop.h5" \
  --cancellations drop --quiet && [[ $(cancellations "$WORK/net_drop.h5") == drop ]] \
  && pass "--cancellations drop on the command line overrides the model's" || fail "override of --cancellations"

step "refusals: exit 1, one message, nothing written"
# refused NAME REGEX ARGS...: `rfmseg score ARGS` under 2 ranks exits 1 with REGEX once on stderr.
refused() {
  local name=$1 regex=$2 rc=0
  shift 2
  mpi 2 "$RFMSEG" score "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || rc=$?
  if [[ $rc -eq 1 ]] && [[ $(grep -cE -- "$regex" "$WORK/$name.err") -eq 1 ]]; then
    pass "$name: exit 1, $(grep -E -- "$regex" "$WORK/$name.err")"
  else
    fail "$name: exit status $rc, expected 1 and '$regex' once in: $(cat "$WORK/$name.err")"
  fi
}
refused missing_model "error: model file '$WORK/none.h5' cannot be opened" \
  --model "$WORK/none.h5" --input "$WORK/t.csv" --output "$WORK/r1.h5"
refused csv_model "error: model file '$WORK/t.csv' is not an rfmseg result" \
  --model "$WORK/t.csv" --input "$WORK/t.csv" --output "$WORK/r2.h5"
cp "$WORK/model.h5" "$WORK/damaged.h5"
"$PY" -c "import h5py
with h5py.File('$WORK/damaged.h5', 'r+') as f: f['model/transform/lambda'][1] += 0.5"
refused damaged_model "error: model file '$WORK/damaged.h5' is damaged \(.*model/transform/lambda" \
  --model "$WORK/damaged.h5" --input "$WORK/t.csv" --output "$WORK/r3.h5"
cp "$WORK/model.h5" "$WORK/older.h5"
"$PY" -c "import h5py
with h5py.File('$WORK/older.h5', 'r+') as f: del f['model/fit_index']"
refused older_model "error: model file '$WORK/older.h5' lacks /model/fit_index" \
  --model "$WORK/older.h5" --input "$WORK/t.csv" --output "$WORK/r4.h5"
sum_before=$(sha256sum < "$WORK/model.h5")
refused output_is_model "error: --output '$WORK/model.h5' is the model file" \
  --model "$WORK/model.h5" --input "$WORK/t.csv" --output "$WORK/model.h5"
ln -s "$WORK/model.h5" "$WORK/link.h5"
refused output_links_model "is the model file" \
  --model "$WORK/model.h5" --input "$WORK/t.csv" --output "$WORK/link.h5"
[[ $(sha256sum < "$WORK/model.h5") == "$sum_before" ]] && pass "the model file is unchanged" \
  || fail "the model file changed"
refused output_is_input "error: .*t.csv" --model "$WORK/model.h5" --input "$WORK/t.csv" --output "$WORK/t.csv"
refused frozen_option "error: (\[rank 0\] )?--k cannot be given to score: the model fixes it" \
  --model "$WORK/model.h5" --input "$WORK/t.csv" --output "$WORK/r5.h5" --k 3
refused no_model "error: (\[rank 0\] )?score needs --model" --input "$WORK/t.csv" --output "$WORK/r6.h5"
for n in 1 2 3 4 5 6; do
  [[ ! -e $WORK/r$n.h5 ]] || fail "r$n.h5 was written by a refused run"
done

step "--help documents score"
rc=0
"$RFMSEG" score --help > "$WORK/help.out" 2>&1 || rc=$?
[[ $rc -eq 0 ]] && grep -q "usage: mpirun -np N rfmseg score --model RESULT.h5" "$WORK/help.out" \
  && grep -q -- "--snapshot" "$WORK/help.out" && pass "rfmseg score --help" || fail "score --help: rc=$rc"
finish
