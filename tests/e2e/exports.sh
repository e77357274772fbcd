# shellcheck shell=bash
# e2e.exports: --export DIR and --pseudonymize-key FILE.
#  - exports under 1 and 3 ranks read back with pandas equal the HDF5 datasets (doubles bit for
#    bit); customers.csv.gz is one valid gzip (gzip -t) with the same rows for any rank count, and
#    --export-compress none gives the same bytes uncompressed;
#  - a failing run leaves no export and no temporary file, and an earlier export untouched; a
#    foreign file, a non-directory DIR and an input in DIR are refused (exit 1);
#  - pseudonymised runs (an input whose every id contains RAWID, some with commas and quotes, and
#    unusable lines that carry ids) hold no raw id in the result (h5dump and strings), exports,
#    rejects file, checkpoints or console; the ids are Python's hmac.new(key, id, sha256)
#    hexdigest(); results under 1 and 3 ranks are bit-identical; the same check finds RAWID in
#    the outputs of a run without the key (the grep can fail);
#  - a layout error quotes no "header" (it may be a data line) under the key;
#  - every bad key is refused with exit 1 and a reason: short, group-readable, other-readable,
#    missing, a directory.
# Helpers in exports_check.py.
#
#   bash exports.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

# shellcheck source=tests/e2e/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CHECK=$SRC/tests/e2e/exports_check.py

# check_pandas DIR RESULT: the exports in DIR equal RESULT's datasets.
check_pandas() {
  local out
  if out=$("$PY" "$CHECK" pandas "$1" "$2" 2>&1); then
    pass "$(basename "$1"): $out"
  else
    echo "$out" >&2
    fail "$(basename "$1"): exports read with pandas differ from $(basename "$2")"
  fi
}

# no_temporaries DIR WHAT: no "*.tmp-<pid>" file is left in DIR.
no_temporaries() {
  local left
  left=$(cd "$1" && ls -A | grep -F ".tmp-" || true)
  [[ -z $left ]] && pass "$2: no temporary file left" || fail "$2: temporary files left: $left"
}

step "generated data: exports under 1 and 3 ranks"
"$RFMSEG_GEN" --output "$WORK/gen.csv" --lines 30000 --customers 2500 --dirt 0.05 > /dev/null
ARGS=(--input "$WORK/gen.csv" --k-range 2..5 --k-select elbow --n-init 2 --quiet)
for n in 1 3; do
  run_rfmseg gen "$n" "${ARGS[@]}" --export "$WORK/ex.np$n" || continue
  check_pandas "$WORK/ex.np$n" "$WORK/gen.np$n.h5"
  if gzip -t "$WORK/ex.np$n/customers.csv.gz" 2>&1; then
    pass "gzip -t: customers.csv.gz under $n ranks is one valid gzip file"
  else
    fail "gzip -t rejects customers.csv.gz under $n ranks"
  fi
  no_temporaries "$WORK/ex.np$n" "export under $n ranks"
done
members=$("$PY" -c '
import sys, zlib
data, n = open(sys.argv[1], "rb").read(), 0
while data:
    d = zlib.decompressobj(31); d.decompress(data); data = d.unused_data; n += 1
print(n)' "$WORK/ex.np3/customers.csv.gz")
[[ $members == 3 ]] && pass "3 ranks wrote 3 gzip members" || fail "3 ranks wrote $members gzip members, expected 3"
if cmp -s <(zcat "$WORK/ex.np1/customers.csv.gz") <(zcat "$WORK/ex.np3/customers.csv.gz"); then
  pass "customers.csv.gz: the same rows under 1 and 3 ranks"
else
  fail "customers.csv.gz differs between 1 and 3 ranks once decompressed"
fi
for f in clusters.csv segments.csv selection.csv; do
  cmp -s "$WORK/ex.np1/$f" "$WORK/ex.np3/$f" && pass "$f: same bytes under 1 and 3 ranks" ||
    fail "$f differs between 1 and 3 ranks"
done
run_rfmseg plain 3 "${ARGS[@]}" --export "$WORK/ex.plain" --export-compress none
if cmp -s "$WORK/ex.plain/customers.csv" <(zcat "$WORK/ex.np1/customers.csv.gz"); then
  pass "--export-compress none: customers.csv = the gzip file's content"
else
  fail "--export-compress none: customers.csv differs from the gzip file's content"
fi

# Exports of other settings left in DIR by an earlier run go: the directory matches the result.
run_rfmseg restale 2 --input "$WORK/gen.csv" --n-init 2 --quiet --export "$WORK/ex.plain"
if [[ ! -e $WORK/ex.plain/selection.csv && -e $WORK/ex.plain/customers.csv.gz && ! -e $WORK/ex.plain/customers.csv ]]; then
  pass "a run without --k-range and with gzip removed the earlier selection.csv and customers.csv"
else
  fail "stale exports left: $(ls "$WORK/ex.plain" | tr '\n' ' ')"
fi
check_pandas "$WORK/ex.plain" "$WORK/restale.np2.h5"

step "atomic: a failing run leaves an earlier export untouched, and no temporary file"
cp -a "$WORK/ex.np1" "$WORK/ex.before"
# --k 1000 fails after ingest (more clusters than distinct customers), once the export is set up.
"$RFMSEG_GEN" --output "$WORK/few.csv" --lines 3000 --customers 300 > /dev/null
if mpi 2 "$RFMSEG" --input "$WORK/few.csv" --k 1000 --quiet --output "$WORK/fail.h5" --export "$WORK/ex.np1" \
     > "$WORK/fail.log" 2>&1; then
  fail "a run with --k 1000 on 300 customers succeeded"
else
  diff -r "$WORK/ex.before" "$WORK/ex.np1" > /dev/null && pass "failed run: the earlier export is untouched" ||
    fail "failed run changed the earlier export"
  no_temporaries "$WORK/ex.np1" "failed run"
  [[ ! -e $WORK/fail.h5 ]] || fail "failed run left a result"
fi

step "refusals"
# expect_refused NAME PATTERN ARGS...: rfmseg exits 1 with PATTERN in its message.
expect_refused() {
  local name=$1 pattern=$2 status=0
  shift 2
  mpi 2 "$RFMSEG" --quiet "$@" > "$WORK/refused.log" 2>&1 || status=$?
  if [[ $status -eq 1 ]] && grep -q -- "$pattern" "$WORK/refused.log"; then
    pass "$name: refused ($(grep -m1 -- "$pattern" "$WORK/refused.log" | cut -c1-150))"
  else
    cat "$WORK/refused.log" >&2
    fail "$name: exit $status, expected 1 with '$pattern'"
  fi
}
mkdir -p "$WORK/foreign"
echo "precious,data" > "$WORK/foreign/clusters.csv"
expect_refused "a foreign clusters.csv in DIR" "not an rfmseg export" --input "$WORK/gen.csv" \
  --output "$WORK/r1.h5" --export "$WORK/foreign"
[[ $(cat "$WORK/foreign/clusters.csv") == "precious,data" ]] || fail "the foreign clusters.csv was changed"
[[ ! -e $WORK/r1.h5 ]] || fail "a refused export left a result"
expect_refused "--export naming a file" "is not a directory" --input "$WORK/gen.csv" --output "$WORK/r2.h5" \
  --export "$WORK/gen.csv"
mkdir -p "$WORK/indir"
cp "$WORK/gen.csv" "$WORK/indir/customers.csv"
expect_refused "an input in DIR" "is the input" --input "$WORK/indir/customers.csv" --output "$WORK/r3.h5" \
  --export "$WORK/indir" --export-compress none
expect_refused "--export-compress zstd" "--export-compress must be gzip or none" --input "$WORK/gen.csv" \
  --output "$WORK/r4.h5" --export "$WORK/ex4" --export-compress zstd

step "pseudonymised runs under 1 and 3 ranks"
"$PY" "$CHECK" make-input "$WORK/raw.csv" "$WORK/raw_ids.txt"
head -c 48 /dev/urandom > "$WORK/key"
chmod 600 "$WORK/key"
PARGS=(--input "$WORK/raw.csv" --k 4 --n-init 2 --pseudonymize-key "$WORK/key")
for n in 1 3; do
  run_rfmseg pseudo "$n" "${PARGS[@]}" --export "$WORK/pex.np$n" --rejects "$WORK/pseudo.np$n.rejects.csv" ||
    continue
  check_pandas "$WORK/pex.np$n" "$WORK/pseudo.np$n.h5"
  if out=$("$PY" "$CHECK" tokens "$WORK/pseudo.np$n.h5" "$WORK/key" "$WORK/raw_ids.txt" 2>&1); then
    pass "$n ranks: $out"
  else
    echo "$out" >&2
    fail "$n ranks: customer ids are not Python's HMAC-SHA256 of the raw ids"
  fi
done
if out=$("$PY" "$REFDIR/compare_results.py" same "$WORK/pseudo.np1.h5" "$WORK/pseudo.np3.h5" 2>&1); then
  pass "pseudonymised results under 1 and 3 ranks: $out"
else
  echo "$out" >&2
  fail "pseudonymised results under 1 and 3 ranks are not bit-identical"
fi
# A checkpoint directory that stays: the run fails after the customer table was saved.
head -400 "$WORK/raw.csv" > "$WORK/raw_small.csv"
mpi 2 "$RFMSEG" --input "$WORK/raw_small.csv" --max-bad-fraction 1 --k 1000 --pseudonymize-key "$WORK/key" \
  --checkpoint "$WORK/pck" --output "$WORK/pck.h5" > "$WORK/pck.log" 2>&1 || true
mpi 2 "$RFMSEG" --input "$WORK/raw_small.csv" --max-bad-fraction 1 --k 1000 \
  --checkpoint "$WORK/rck" --output "$WORK/rck.h5" > "$WORK/rck.log" 2>&1 || true
run_rfmseg raw 2 --input "$WORK/raw.csv" --k 4 --n-init 2 --export "$WORK/rex.np2" --rejects "$WORK/raw.np2.rejects.csv"

# raw_ids_in LABEL FILES...: how many of FILES show "RAWID" in their bytes, decompressed, h5dump and
# strings output; prints the offenders.
raw_ids_in() {
  local f found=0 hits
  shift
  for f in "$@"; do
    [[ -f $f ]] || continue
    # grep -c reads everything: no early exit that would make pipefail hide a match.
    hits=$({ cat "$f"
             if [[ $f == *.gz ]]; then zcat "$f"; fi
             if [[ $f == *.h5 ]]; then h5dump "$f"; strings -a "$f"; fi; } 2>/dev/null | grep -ac RAWID || true)
    if [[ ${hits:-0} -gt 0 ]]; then
      echo "  raw id in $f ($hits lines)" >&2
      found=$((found + 1))
    fi
  done
  echo "$found"
}
pseudo_files=("$WORK"/pseudo.np*.h5 "$WORK"/pseudo.np*.log "$WORK"/pseudo.np*.rejects.csv "$WORK"/pex.np*/*
              "$WORK"/pck/* "$WORK/pck.log")
raw_files=("$WORK"/raw.np2.h5 "$WORK"/raw.np2.log "$WORK"/raw.np2.rejects.csv "$WORK"/rex.np2/*
           "$WORK"/rck/* "$WORK/rck.log")
[[ -n $(ls -A "$WORK/pck" 2>/dev/null) ]] || fail "the failed pseudonymised run left no checkpoint to check"
found=$(raw_ids_in pseudo "${pseudo_files[@]}")
[[ $found == 0 ]] && pass "no raw id in ${#pseudo_files[@]} outputs of pseudonymised runs (result, exports, rejects, checkpoint, console)" ||
  fail "raw ids in $found outputs of pseudonymised runs"
found=$(raw_ids_in raw "${raw_files[@]}" 2>/dev/null)
[[ $found -ge 5 ]] && pass "control: the same grep finds raw ids in $found outputs of a run without the key" ||
  fail "control: the grep found raw ids in only $found outputs of a run without the key"
grep -q "bad_date: (text withheld: --pseudonymize-key)" "$WORK/pseudo.np3.log" &&
  pass "console: bad-line examples give line and reason, text withheld" ||
  fail "console: no withheld bad-line example"
rows=$("$PY" -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1]))); print(len(r)-1, sum(x[3]!="" for x in r[1:]))' \
  "$WORK/pseudo.np3.rejects.csv")
[[ $rows == "90 0" ]] && pass "rejects file: 90 rows, file/line/reason only" ||
  fail "rejects file under pseudonymisation: rows, non-empty texts = $rows (expected 90 0)"

# A file without a header read as if it had one: the layout error must not quote that "header"
# (a data line with a raw id).
tail -n +2 "$WORK/raw.csv" > "$WORK/noheader.csv"
for key in with without; do
  extra=()
  [[ $key == with ]] && extra=(--pseudonymize-key "$WORK/key")
  status=0
  mpi 2 "$RFMSEG" --input "$WORK/noheader.csv" --output "$WORK/noheader.h5" "${extra[@]}" \
    > "$WORK/noheader.$key.log" 2>&1 || status=$?
  [[ $status == 1 ]] || fail "headerless input read with a header ($key key): exit $status, expected 1"
done
if ! grep -aq RAWID "$WORK/noheader.with.log" && grep -aq RAWID "$WORK/noheader.without.log"; then
  pass "layout error of a headerless input: the data line quoted without the key, withheld with it"
else
  cat "$WORK/noheader.with.log" >&2
  fail "layout error of a headerless input under the key quotes a raw id (or the control does not)"
fi

step "bad keys"
head -c 31 /dev/urandom > "$WORK/key.short"
chmod 600 "$WORK/key.short"
head -c 32 /dev/urandom > "$WORK/key.group"
chmod 640 "$WORK/key.group"
head -c 32 /dev/urandom > "$WORK/key.other"
chmod 604 "$WORK/key.other"
mkdir -p "$WORK/key.dir"
chmod 700 "$WORK/key.dir"
KEYARGS=(--input "$WORK/raw.csv" --output "$WORK/badkey.h5")
expect_refused "31-byte key" "fewer than the 32" "${KEYARGS[@]}" --pseudonymize-key "$WORK/key.short"
expect_refused "group-readable key" "readable by its group" "${KEYARGS[@]}" --pseudonymize-key "$WORK/key.group"
expect_refused "other-readable key" "readable by others" "${KEYARGS[@]}" --pseudonymize-key "$WORK/key.other"
expect_refused "missing key" "No such file" "${KEYARGS[@]}" --pseudonymize-key "$WORK/key.missing"
expect_refused "key is a directory" "is a directory" "${KEYARGS[@]}" --pseudonymize-key "$WORK/key.dir"
[[ ! -e $WORK/badkey.h5 ]] || fail "a refused key left a result"

finish
