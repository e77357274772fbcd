#!/usr/bin/env bash
# Compressed inputs (issue 14 item 1): every way of compressing the same generated export must give
# the result of the plain file, bit for bit, and the same --rejects rows (line numbers included),
# under 1-4 ranks:
#  - gzip (one stream, decoded by one rank and handed out in rounds), pigz --independent (one
#    member too), concatenated gzip members, BGZF members (split over ranks at member boundaries,
#    one of them exactly at a quoted newline of a hand-made file), zstd (one frame) and zstd frames
#    (split at frame boundaries);
#  - .gz, .zst and plain files mixed in one glob;
#  - within the memory budget (--max-memory-per-rank 16M, as e2e.memory_budget);
#  - a corrupt and a truncated archive: exit 1, one error naming the file and the offset, no result.
source "$(dirname "$0")/common.sh"

for tool in gzip zstd pigz; do
  if ! command -v "$tool" > /dev/null; then
    echo "SKIP: $tool is missing (apt-get install $tool; scripts/setup.sh does this)" >&2
    exit 77
  fi
done
ARGS=(--k 3 --n-init 1 --quiet --chunk-size 1)
BGZF=("$PY" "$SRC/tests/e2e/bgzf.py")

# same NAME: the result and rejects of NAME equal the plain run's (rejects without the file column).
same() {
  local name=$1 out
  if out=$("$PY" "$REFDIR/compare_results.py" same "$WORK/plain.np1.h5" "$WORK/$name.h5" 2>&1); then
    if cmp -s <(sed 's/^"[^"]*",//' "$WORK/plain.np1.rejects.csv") <(sed 's/^"[^"]*",//' "$WORK/$name.rejects.csv"); then
      pass "$name: $out; rejects identical ($(($(wc -l < "$WORK/$name.rejects.csv") - 1)) rows)"
    else
      diff <(sed 's/^"[^"]*",//' "$WORK/plain.np1.rejects.csv") <(sed 's/^"[^"]*",//' "$WORK/$name.rejects.csv") | head -5 >&2
      fail "$name: the rejects differ from the plain run's"
    fi
  else
    echo "$out" >&2
    fail "$name: the result differs from the plain run's"
  fi
}

# run NAME N INPUT... : rfmseg under N ranks on the inputs, with --rejects; compared with plain.
run() {
  local name=$1 n=$2
  shift 2
  local inputs=()
  for f in "$@"; do inputs+=(--input "$f"); done
  run_rfmseg "$name" "$n" "${inputs[@]}" "${ARGS[@]}" --rejects "$WORK/$name.np$n.rejects.csv" || return 0
  [[ $name == plain && $n == 1 ]] || same "$name.np$n"
}

step "generate 150k lines plus a hand-made file with quoted newlines"
"$RFMSEG_GEN" --output "$WORK/gen.csv" --lines 150000 --seed 11 > /dev/null
# The hand-made file: quoted descriptions with newlines and doubled quotes, some unusable lines.
{
  echo 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country'
  for i in $(seq 1 400); do
    case $((i % 4)) in
      0) desc='"two
lines, ""quoted"""' ;;
      1) desc='"a,b"' ;;
      *) desc=plain ;;
    esac
    id=$((17000 + i % 37)); [[ $((i % 29)) -eq 0 ]] && id=
    printf '%s,%s,%s,%s,12/%d/2010 9:%02d,1.25,%s,United Kingdom\n' $((600000 + i / 3)) "S$i" "$desc" $((1 + i % 5)) $((1 + i % 28)) $((i % 60)) "$id"
  done
} > "$WORK/quoted.csv"
cat "$WORK/gen.csv" > "$WORK/f.csv"
tail -n +2 "$WORK/quoted.csv" >> "$WORK/f.csv"
SIZE=$(stat -c %s "$WORK/f.csv")
# Offsets of the first quoted newlines of the hand-made part: member boundaries go right there.
QUOTED_NL=$("$PY" - "$WORK/f.csv" "$(stat -c %s "$WORK/gen.csv")" << 'EOF'
import sys
data, start = open(sys.argv[1], "rb").read(), int(sys.argv[2])
inside, cuts = False, []
for i in range(start, len(data)):
    if data[i] == 0x22:
        inside = not inside
    elif data[i] == 0x0A and inside:
        cuts += [i, i + 1]  # the member ends just before the quoted newline, or just after it
    if len(cuts) >= 6:
        break
print(",".join(map(str, cuts)))
EOF
)
[[ -n $QUOTED_NL ]] || fail "no quoted newline in the hand-made part"

step "compress: gzip, pigz --independent, gzip members, BGZF, zstd, zstd frames"
gzip -c "$WORK/f.csv" > "$WORK/stream.csv.gz"
pigz --independent -c "$WORK/f.csv" > "$WORK/pigz.csv.gz"
split -b $((SIZE / 5 + 1)) "$WORK/f.csv" "$WORK/part."  # byte cuts: records run across members
for p in "$WORK"/part.*; do gzip -c "$p"; done > "$WORK/members.csv.gz"
for p in "$WORK"/part.*; do zstd -q -c "$p"; done > "$WORK/frames.csv.zst"
"${BGZF[@]}" "$WORK/f.csv" "$WORK/bgzf.csv.gz" --block 60000 --cuts "5,$QUOTED_NL"
zstd -q -c "$WORK/f.csv" > "$WORK/frame.csv.zst"
for f in stream.csv.gz pigz.csv.gz members.csv.gz bgzf.csv.gz frame.csv.zst frames.csv.zst; do
  case $f in *.zst) cat=(zstd -dc) ;; *) cat=(gzip -dc) ;; esac
  "${cat[@]}" "$WORK/$f" | cmp -s - "$WORK/f.csv" || fail "$f does not decompress to the input"
done

step "plain reference (1 rank)"
run plain 1 "$WORK/f.csv"
[[ -s $WORK/plain.np1.rejects.csv ]] || fail "the plain run rejected nothing: the rejects check would be empty"

for n in 1 2 3 4; do
  step "$n rank(s): one stream, BGZF members, zstd frames"
  run stream "$n" "$WORK/stream.csv.gz"
  run bgzf "$n" "$WORK/bgzf.csv.gz"
  run frames "$n" "$WORK/frames.csv.zst"
done
for n in 1 3; do
  step "$n rank(s): pigz --independent, gzip members, one zstd frame"
  run pigz "$n" "$WORK/pigz.csv.gz"
  run members "$n" "$WORK/members.csv.gz"
  run frame "$n" "$WORK/frame.csv.zst"
done

step "mixed: the same lines as plain, .gz and .zst files in one glob"
mkdir -p "$WORK/plain" "$WORK/mixed"
head -n 1 "$WORK/f.csv" > "$WORK/header"
tail -n +2 "$WORK/gen.csv" | split -l 40000 - "$WORK/rows."
i=0
for p in "$WORK"/rows.*; do
  i=$((i + 1))
  cat "$WORK/header" "$p" > "$WORK/plain/p$i.csv"
  case $((i % 3)) in
    0) cp "$WORK/plain/p$i.csv" "$WORK/mixed/p$i.csv" ;;
    1) gzip -c "$WORK/plain/p$i.csv" > "$WORK/mixed/p$i.csv.gz" ;;
    2) zstd -q -c "$WORK/plain/p$i.csv" > "$WORK/mixed/p$i.csv.zst" ;;
  esac
done
cp "$WORK/quoted.csv" "$WORK/plain/p9.csv"
"${BGZF[@]}" "$WORK/quoted.csv" "$WORK/mixed/p9.csv.gz" --cuts "$("$PY" -c "import sys; d=open(sys.argv[1],'rb').read(); i=d.index(b'\"two\n'); print(i+4)" "$WORK/quoted.csv")"
run_rfmseg mixplain 1 --input "$WORK/plain/*" "${ARGS[@]}" --rejects "$WORK/mixplain.np1.rejects.csv"
for n in 1 2 3 4; do
  run_rfmseg mixed "$n" --input "$WORK/mixed/*" "${ARGS[@]}" --rejects "$WORK/mixed.np$n.rejects.csv" || continue
  if out=$("$PY" "$REFDIR/compare_results.py" same "$WORK/mixplain.np1.h5" "$WORK/mixed.np$n.h5" 2>&1) &&
     cmp -s <(sed 's/^"[^"]*",//' "$WORK/mixplain.np1.rejects.csv") <(sed 's/^"[^"]*",//' "$WORK/mixed.np$n.rejects.csv"); then
    pass "mixed.np$n: $out; rejects identical"
  else
    echo "$out" >&2
    fail "mixed.np$n: differs from the plain files"
  fi
done

step "within the memory budget: 16M per rank under 3 ranks"
run_rfmseg budget 3 --input "$WORK/stream.csv.gz" "${ARGS[@]}" --max-memory-per-rank 16M \
  --rejects "$WORK/budget.np3.rejects.csv" && same budget.np3

step "a corrupt and a truncated archive: exit 1, one error naming the file and the offset"
GZ_SIZE=$(stat -c %s "$WORK/stream.csv.gz")
cp "$WORK/stream.csv.gz" "$WORK/corrupt.csv.gz"
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of="$WORK/corrupt.csv.gz" bs=1 seek=$((GZ_SIZE / 2)) conv=notrunc 2> /dev/null
head -c $((GZ_SIZE * 2 / 3)) "$WORK/stream.csv.gz" > "$WORK/truncated.csv.gz"
ZS_SIZE=$(stat -c %s "$WORK/frames.csv.zst")
head -c $((ZS_SIZE / 2)) "$WORK/frames.csv.zst" > "$WORK/truncated.csv.zst"
cp "$WORK/frames.csv.zst" "$WORK/corrupt.csv.zst"
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of="$WORK/corrupt.csv.zst" bs=1 seek=$((ZS_SIZE / 2)) conv=notrunc 2> /dev/null
for f in corrupt.csv.gz truncated.csv.gz corrupt.csv.zst truncated.csv.zst; do
  for n in 1 3; do
    rc=0
    mpi "$n" "$RFMSEG" --input "$WORK/$f" --output "$WORK/bad.h5" "${ARGS[@]}" > "$WORK/bad.log" 2>&1 || rc=$?
    errors=$(grep -c 'rfmseg: error:' "$WORK/bad.log" || true)
    line=$(grep 'rfmseg: error:' "$WORK/bad.log" | head -1)
    if [[ $rc -eq 1 && $errors -eq 1 && $line == *"$WORK/$f"* && $line =~ offset\ [0-9]+ ]]; then
      pass "$f np$n: exit 1, $line"
    else
      tail -5 "$WORK/bad.log" >&2
      fail "$f np$n: expected exit 1 and one error naming the file and an offset; got exit $rc, $errors error(s)"
    fi
    [[ ! -e $WORK/bad.h5 ]] || fail "$f np$n: the failed run left a result"
  done
done
grep -q 'is truncated' <(mpi 1 "$RFMSEG" --input "$WORK/truncated.csv.gz" --output "$WORK/bad.h5" "${ARGS[@]}" 2>&1) ||
  fail "a truncated .gz is not called truncated"

finish
