#!/usr/bin/env bash
# The full job on 2 hosts x 2 ranks (network namespaces joined by a bridge, Open MPI over TCP)
# gives the same result file, bit for bit, as one rank on one host:
#   - the 4 ranks really sit on rfmseg-h1 and rfmseg-h2 (2 each),
#   - the run's traffic really crossed rfmseg-h2's cable (the switch port's byte counters),
#   - elbow sweep k = 1..6 with restarts: every dataset of the two results bit-identical.
# usage: two_hosts.sh RFMSEG RFMSEG_GEN MPIEXEC MPIEXEC_PREFLAGS PROJECT_SOURCE_DIR
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

if ! "$PY" -c 'import numpy, h5py' 2>/dev/null; then
  skip "$PY lacks numpy/h5py (apt-get install python3-h5py; scripts/setup.sh does this)"
fi

lines=100000
args=(--input "$WORK/tx.csv" --k-range 1..6 --k-select elbow --n-init 4 --seed 11 --collective-timeout 60)

step "generate $lines lines"
generate "$lines" "$WORK/tx.csv"

step "reference: 1 rank on this machine"
if ! mpi_local 120 1 "$RFMSEG" "${args[@]}" --output "$WORK/one.h5" > "$WORK/one.log" 2>&1; then
  cat "$WORK/one.log" >&2
  fail "rfmseg on 1 rank failed"
  finish
fi

step "placement: 4 ranks across the hosts"
# Each rank prints the host name it sees (netns-rsh gives each host its own) and its address.
# shellcheck disable=SC2016  # expanded by each rank's shell
if placement=$(mh_mpirun 60 4 sh -c 'echo "$(hostname) $(ip -4 -o addr show dev eth0 | awk "{ print \$4 }")"' 2>&1); then
  counts=$(sort <<<"$placement" | uniq -c | awk '{ printf "%s %s x%s; ", $2, $3, $1 }')
  if [[ $counts == "rfmseg-h1 10.213.0.1/24 x2; rfmseg-h2 10.213.0.2/24 x2; " ]]; then
    pass "ranks: $counts"
  else
    fail "expected 2 ranks on each host, got: $counts"
  fi
else
  echo "$placement" >&2
  fail "mpirun across the hosts failed (see above)"
  finish
fi

step "the job: 2 hosts x 2 ranks"
bytes_before=$("$HOSTS_SH" bytes rfmseg-h2)
t=$(date +%s.%N)
if mh_mpirun 180 4 "$RFMSEG" "${args[@]}" --output "$WORK/two.h5" > "$WORK/two.log" 2>&1; then
  pass "rfmseg on 2 hosts x 2 ranks finished in $(elapsed "$t") s"
else
  status=$?
  cat "$WORK/two.log" >&2
  fail "rfmseg on 2 hosts x 2 ranks failed (status $status)"
  finish
fi
crossed=$(($("$HOSTS_SH" bytes rfmseg-h2) - bytes_before))
# Half of the transactions belong to ranks 2 and 3 on rfmseg-h2 and are shuffled there, among
# other things: several MB. A run that stayed on one host would move almost nothing.
if ((crossed > 1000000)); then
  pass "$crossed bytes crossed rfmseg-h2's cable during the run"
else
  fail "only $crossed bytes crossed rfmseg-h2's cable: the ranks did not talk across the hosts"
fi

step "compare"
if out=$("$PY" "$SRC/scripts/reference/compare_results.py" same "$WORK/one.h5" "$WORK/two.h5" 2>&1); then
  pass "1 rank vs 2 hosts x 2 ranks: $out"
else
  echo "$out" >&2
  fail "the result on 2 hosts differs from the result on 1 rank"
fi
# shellcheck disable=SC2016
ranks=$("$PY" -c 'import h5py, sys; print(int(h5py.File(sys.argv[1], "r")["run"].attrs["ranks"]))' "$WORK/two.h5" 2>&1) || true
if [[ $ranks == 4 ]]; then
  pass "/run ranks = 4"
else
  fail "/run ranks is '$ranks', expected 4"
fi
finish
