# gen.output: what the scripts, tests and benchmarks rely on from rfmseg-gen.
#
#   bash gen_output.sh RFMSEG_GEN MPIEXEC MPIEXEC_NUMPROC_FLAG "MPIEXEC_PREFLAGS"
set -u
GEN=$1 MPIEXEC=$2 NP_FLAG=$3
# The pre-flags arrive as one CMake list (e.g. "--oversubscribe;--allow-run-as-root").
read -r -a PREFLAGS <<< "${4//;/ }"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
mpi() { local n=$1; shift; "$MPIEXEC" "$NP_FLAG" "$n" "${PREFLAGS[@]}" "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- header and line count of a fixed invocation, one rank without mpiexec
"$GEN" --output "$WORK/a.csv" --lines 3000 --seed 7 --dirt 0.1 --groups "$WORK/a.groups.csv" > "$WORK/a.log" ||
  { cat "$WORK/a.log" >&2; fail "rfmseg-gen failed"; exit 1; }
header=$(head -n 1 "$WORK/a.csv")
[[ $header == "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country" ]] &&
  pass "online-retail header" || fail "header: '$header'"
lines=$(wc -l < "$WORK/a.csv")
[[ $lines == 3001 ]] && pass "3000 data lines and the header" || fail "$lines lines, expected 3001"
[[ $(tail -c 1 "$WORK/a.csv" | od -An -c | tr -d ' ') == '\n' ]] && pass "ends with a line end" ||
  fail "no line end at the end"
grep -q "^rfmseg-gen: 3000 lines, $(stat -c %s "$WORK/a.csv") bytes," "$WORK/a.log" &&
  pass "summary line names the lines and bytes" || fail "summary: $(head -n 1 "$WORK/a.log")"

# ---- fixed bytes for fixed options: a change here changes every benchmark and demo input. When
# the data model changes on purpose, update the checksums (and say so in the commit).
[[ $(sha "$WORK/a.csv") == 7f31bea451838ccfd233b5ec197b0f4f361ffdb117128e48a5c10c2e9baf434b ]] &&
  pass "online-retail bytes as before" || fail "online-retail output changed: $(sha "$WORK/a.csv")"
[[ $(sha "$WORK/a.groups.csv") == b53a346dac3a768e55aef625c89ca2a7274a8a109c61be0c989cfbd768b0a64a ]] &&
  pass "ground truth bytes as before" || fail "--groups output changed: $(sha "$WORK/a.groups.csv")"
"$GEN" --output "$WORK/b.csv" --lines 3000 --seed 7 --format amount --date-style ymd --id-style padded --crlf \
  > /dev/null || fail "amount layout failed"
[[ $(sha "$WORK/b.csv") == 919b27866976a8c752f1ec7f3bc257d45558422cbc119ba0ac6fe48afae05330 ]] &&
  pass "amount/ymd/padded/CRLF bytes as before" || fail "amount output changed: $(sha "$WORK/b.csv")"
[[ $(head -n 1 "$WORK/b.csv") == $'customer_id,trans_date,tran_amount\r' ]] && pass "amount header, CRLF" ||
  fail "amount header: '$(head -n 1 "$WORK/b.csv")'"
[[ $(grep -c $'\r$' "$WORK/b.csv") == 3001 ]] && pass "every line ends in CRLF" || fail "not every line ends in CRLF"

# ---- the same bytes under 3 ranks and with small work units (the documented property)
if mpi 3 "$GEN" --output "$WORK/a3.csv" --lines 3000 --seed 7 --dirt 0.1 --groups "$WORK/a3.groups.csv" \
     --chunk-lines 97 > "$WORK/a3.log" 2>&1; then
  cmp -s "$WORK/a.csv" "$WORK/a3.csv" && pass "3 ranks, --chunk-lines 97: same bytes" ||
    fail "3 ranks wrote other bytes than 1"
  cmp -s "$WORK/a.groups.csv" "$WORK/a3.groups.csv" && pass "3 ranks: same ground truth" ||
    fail "3 ranks wrote another ground truth"
else
  cat "$WORK/a3.log" >&2
  fail "rfmseg-gen under 3 ranks failed"
fi

# ---- the command line: --help names every option, errors exit 1 with one message
help=$("$GEN" --help) || fail "--help exit status"
for option in output lines customers seed dirt format date-style id-style start days crlf groups chunk-lines night night-days move-night move-share truth help; do
  grep -q -- "--$option " <<< "$help" || fail "--help does not document --$option"
done
pass "--help documents every option"
for args in "--lines 10" "--output $WORK/x.csv --lines 10 --bogus" "--output $WORK/x.csv --lines ten" \
            "--output $WORK/x.csv --lines 10 --format csv" "--output $WORK/x.csv --lines 10 --start 2011-02-30"; do
  # shellcheck disable=SC2086
  "$GEN" $args > "$WORK/err.out" 2> "$WORK/err.txt"
  status=$?
  if [[ $status == 1 && $(wc -l < "$WORK/err.txt") == 1 && ! -s $WORK/err.out && ! -e $WORK/x.csv ]]; then
    pass "refused ($(cat "$WORK/err.txt")): $args"
  else
    fail "'$args': status $status, stderr: $(cat "$WORK/err.txt")"
  fi
done
"$GEN" --output "$WORK/c.csv" --lines=50 --seed=7 --lines=3000 --dirt=0.1 --groups="$WORK/c.groups.csv" > /dev/null &&
  cmp -s "$WORK/a.csv" "$WORK/c.csv" && pass "--name=VALUE; a repeated option counts with its last value" ||
  fail "--name=VALUE or a repeated option read differently"

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
