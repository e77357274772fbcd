# gen.nights: rfmseg-gen --night writes consecutive nights of one shop. Night 1 is the output
# without --night; night N+1's file is night N's bytes followed by new lines (so its line set is a
# superset), the same under 1 and 3 ranks; --truth follows the documented rule (only loyal and
# churned customers move, loyal -> churned and churned -> loyal, about --move-share of each, from
# --move-night on); and rfmseg on two nights moves the moved customers' RFM the expected way
# (stopped loyal customers: Recency + night-days, Frequency and Monetary unchanged; customers
# that came back buy again).
#
#   bash gen_nights.sh RFMSEG_GEN RFMSEG MPIEXEC MPIEXEC_NUMPROC_FLAG "MPIEXEC_PREFLAGS"
set -u
GEN=$1 RFMSEG=$2 MPIEXEC=$3 NP_FLAG=$4
read -r -a PREFLAGS <<< "${5//;/ }"
PY=/usr/bin/python3
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=${OMPI_MCA_rmaps_base_oversubscribe:-1}
if ! "$PY" -c 'import numpy, pandas, h5py' 2>/dev/null; then
  echo "SKIP: $PY lacks numpy/pandas/h5py" >&2
  exit 77
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
mpi() { local n=$1; shift; "$MPIEXEC" "$NP_FLAG" "$n" "${PREFLAGS[@]}" "$@"; }

DAYS=60  # per night: long enough for most customers that came back to buy again
common=(--lines 20000 --customers 1000 --seed 9 --dirt 0.05 --night-days $DAYS)
gen() {  # gen NAME NIGHT [more options]
  local name=$1 night=$2
  shift 2
  "$GEN" --output "$WORK/$name.csv" "${common[@]}" --night "$night" --truth "$WORK/$name.truth.csv" "$@" \
    > "$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log" >&2; fail "rfmseg-gen --night $night failed"; }
}
gen n1 1
gen n2 2
gen n3 3
"$GEN" --output "$WORK/plain.csv" --lines 20000 --customers 1000 --seed 9 --dirt 0.05 > /dev/null ||
  fail "rfmseg-gen without --night failed"
cmp -s "$WORK/plain.csv" "$WORK/n1.csv" && pass "night 1 = the output without --night" ||
  fail "night 1 differs from the output without --night"
for pair in "n1 n2" "n2 n3"; do
  read -r a b <<< "$pair"
  size=$(stat -c %s "$WORK/$a.csv")
  if [[ $(stat -c %s "$WORK/$b.csv") -gt $size ]] && cmp -s -n "$size" "$WORK/$a.csv" "$WORK/$b.csv"; then
    pass "$b = $a's bytes + more lines"
  else
    fail "$b does not start with $a's bytes"
  fi
done
if mpi 3 "$GEN" --output "$WORK/n2p3.csv" "${common[@]}" --night 2 --truth "$WORK/n2p3.truth.csv" \
     --chunk-lines 97 > "$WORK/n2p3.log" 2>&1; then
  cmp -s "$WORK/n2.csv" "$WORK/n2p3.csv" && cmp -s "$WORK/n2.truth.csv" "$WORK/n2p3.truth.csv" &&
    pass "night 2 under 3 ranks: same bytes and truth" || fail "night 2 under 3 ranks differs"
else
  cat "$WORK/n2p3.log" >&2
  fail "rfmseg-gen --night 2 under 3 ranks failed"
fi

# The line sets, the truth file and the lines of the new days, independently of the generator.
if ! "$PY" - "$WORK" "$DAYS" <<'EOF'
import sys
import pandas as pd
work, days = sys.argv[1], int(sys.argv[2])
problems = []
read = lambda n: pd.read_csv(f"{work}/{n}.csv", dtype=str, keep_default_na=False, encoding="latin-1")
n1, n2 = read("n1"), read("n2")
rows = lambda df: set(map(tuple, df.itertuples(index=False)))
if not rows(n1) <= rows(n2):
    problems.append("night 2's lines are not a superset of night 1's")
t2, t3 = (pd.read_csv(f"{work}/{n}.truth.csv", dtype=str) for n in ("n2", "n3"))
if list(t3.columns) != ["customer_id", "group", "night_1", "night_2", "night_3"] or len(t3) != 1000:
    problems.append(f"truth columns {list(t3.columns)}, {len(t3)} rows")
if not (t3[["customer_id", "group", "night_1", "night_2"]].values == t2.values).all():
    problems.append("night 3's truth does not extend night 2's")
if not (t3.night_1 == t3.group).all():
    problems.append("night 1 behaviour is not the group")
moved = t3[t3.night_2 != t3.night_1]
kinds = set(zip(moved.night_1, moved.night_2))
if not kinds <= {("loyal", "churned"), ("churned", "loyal")}:
    problems.append(f"unexpected movements {kinds}")
if not (t3.night_3 == t3.night_2).all():
    problems.append("behaviours changed again on night 3")
for g in ("loyal", "churned"):
    n, m = (t3.group == g).sum(), (moved.group == g).sum()
    sd = (n * 0.25 * 0.75) ** 0.5
    if abs(m - 0.25 * n) > 5 * sd + 1:
        problems.append(f"{m} of {n} {g} customers moved, expected about 25 %")
# Lines of night 2's new days: never a stopped loyal customer, purchases of ones that came back.
new = n2.iloc[len(n1):]
if not (n1.values == n2.iloc[:len(n1)].values).all():
    problems.append("night 2 does not start with night 1's lines")
ids = set(new.CustomerID.str.replace(".0", "", regex=False))
stopped = set(moved[moved.group == "loyal"].customer_id)
back = set(moved[moved.group == "churned"].customer_id)
if ids & stopped:
    problems.append(f"stopped loyal customers buy on night 2: {sorted(ids & stopped)[:5]}")
stayed_churned = set(t3[(t3.group == "churned") & (t3.night_2 == "churned")].customer_id)
if ids & stayed_churned:
    problems.append("churned customers that did not move buy on night 2")
if len(ids & back) < 0.3 * len(back):
    problems.append(f"only {len(ids & back)} of {len(back)} customers that came back buy on night 2")
print(f"{len(n1)} + {len(new)} lines; moved: {len(stopped)} loyal stopped, {len(back)} churned came back, "
      f"{len(ids & back)} of them bought")
if problems:
    print("\n".join(problems))
    sys.exit(1)
EOF
then fail "night 2 lines or truth file"
else pass "line sets, truth file and the new days' customers"
fi

# rfmseg on nights 1 and 2 (each as of the day after its last day): the movers' RFM.
snap1=$("$PY" -c "import datetime; print(datetime.date(2010,12,1) + datetime.timedelta(days=373))")
snap2=$("$PY" -c "import datetime; print(datetime.date(2010,12,1) + datetime.timedelta(days=373 + $DAYS))")
ok=1
for n in 1 2; do
  snap=$snap1
  [[ $n == 2 ]] && snap=$snap2
  mpi 2 "$RFMSEG" --input "$WORK/n$n.csv" --output "$WORK/n$n.h5" --snapshot "$snap" --k 3 --n-init 2 \
    --quiet > "$WORK/rfm$n.log" 2>&1 || { cat "$WORK/rfm$n.log" >&2; fail "rfmseg on night $n failed"; ok=0; }
done
if [[ $ok == 1 ]]; then
  if "$PY" - "$WORK" "$DAYS" <<'EOF'
import sys
import h5py
import pandas as pd
work, days = sys.argv[1], int(sys.argv[2])
def table(n):
    with h5py.File(f"{work}/n{n}.h5", "r") as f:
        c = f["customers"]
        return pd.DataFrame({"recency": c["recency"][:], "frequency": c["frequency"][:],
                             "monetary": c["monetary"][:]},
                            index=[x.decode("latin-1") for x in c["customer_id"][:]])
r1, r2 = table(1), table(2)
truth = pd.read_csv(f"{work}/n2.truth.csv", dtype=str).set_index("customer_id")
common = r1.index.intersection(r2.index)
stopped = [c for c in common if truth.group[c] == "loyal" and truth.night_2[c] == "churned"]
back = [c for c in common if truth.group[c] == "churned" and truth.night_2[c] == "loyal"]
problems = []
a, b = r1.loc[stopped], r2.loc[stopped]
if not ((b.recency == a.recency + days).all() and (b.frequency == a.frequency).all()
        and (b.monetary == a.monetary).all()):
    problems.append("a stopped loyal customer's RFM changed other than by Recency + night days")
a, b = r1.loc[back], r2.loc[back]
bought = (b.recency < a.recency + days)
if not ((b.recency <= a.recency + days).all() and (b.frequency[bought] > a.frequency[bought]).all()
        and (b.monetary[bought] > a.monetary[bought]).all() and bought.sum() >= 0.3 * len(back)):
    problems.append(f"customers that came back: {bought.sum()} of {len(back)} bought again")
if not (b.recency[bought] < days).all():
    problems.append("a customer that came back has its last purchase before night 2")
print(f"stopped {len(stopped)}: Recency +{days}, F and M unchanged; came back {len(back)}: "
      f"{int(bought.sum())} bought on night 2")
if problems or not stopped or not back:
    print("\n".join(problems) or "no movers in both tables")
    sys.exit(1)
EOF
  then pass "rfmseg: the moved customers' RFM moves as the rule says"
  else fail "rfmseg on two nights: the movers' RFM"
  fi
fi

# Options: a bad night is refused.
"$GEN" --output "$WORK/x.csv" --lines 10 --night 0 > /dev/null 2>&1 && fail "--night 0 accepted" || pass "--night 0 refused"
"$GEN" --output "$WORK/x.csv" --lines 10 --move-night 1 > /dev/null 2>&1 && fail "--move-night 1 accepted" ||
  pass "--move-night 1 refused"

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
