# Shared set-up of the end-to-end tests; sourced by tests/e2e/*.sh, not run directly.
#
# Every test script is called by CTest as
#   bash SCRIPT.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR
# and exits 0 (pass), 1 (fail) or 77 (skipped: a prerequisite is missing).

set -euo pipefail

if [[ $# -lt 5 ]]; then
  echo "usage: $0 RFMSEG RFMSEG_GEN MPIEXEC MPIEXEC_PREFLAGS PROJECT_SOURCE_DIR" >&2
  exit 2
fi
RFMSEG=$1
RFMSEG_GEN=$2
MPIEXEC=$3
# CMake may hand over a ;-list; an empty string means no flags.
read -r -a MPI_PREFLAGS <<< "${4//;/ }"
SRC=$5
REFDIR=$SRC/scripts/reference
PY=/usr/bin/python3

# Open MPI refuses to start as root unless told it is fine (containers, CI).
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# The tests use up to 4 ranks, also on smaller machines (Open MPI; ignored by others).
export OMPI_MCA_rmaps_base_oversubscribe=${OMPI_MCA_rmaps_base_oversubscribe:-1}

for exe in "$RFMSEG" "$RFMSEG_GEN" "$MPIEXEC"; do
  if [[ ! -x $exe ]]; then
    echo "FAIL: $exe is not an executable" >&2
    exit 1
  fi
done
if ! "$PY" -c 'import numpy, pandas, h5py' 2>/dev/null; then
  echo "SKIP: $PY lacks numpy/pandas/h5py (apt-get install python3-pandas python3-h5py;" \
       "scripts/setup.sh does this)" >&2
  exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rfmseg-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

FAILURES=0
T0=$SECONDS

# mpi N PROGRAM ARGS...: PROGRAM under N ranks, CMake's flag order.
mpi() {
  local n=$1
  shift
  "$MPIEXEC" -n "$n" "${MPI_PREFLAGS[@]}" "$@"
}

fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

pass() {
  echo "ok: $*"
}

# step NAME: a timestamped progress line.
step() {
  echo "--- [$((SECONDS - T0))s] $*"
}

# finish: the script's exit status.
finish() {
  if [[ $FAILURES -ne 0 ]]; then
    echo "$FAILURES check(s) failed ($((SECONDS - T0)) s)" >&2
    exit 1
  fi
  echo "all checks passed ($((SECONDS - T0)) s)"
  exit 0
}

# reference NAME ARGS...: rfm_reference.py on ARGS into $WORK/NAME.ref.csv and .ref.json.
reference() {
  local name=$1
  shift
  if ! "$PY" "$REFDIR/rfm_reference.py" "$@" --out-csv "$WORK/$name.ref.csv" \
       --counters-json "$WORK/$name.ref.json" 2> "$WORK/$name.ref.err"; then
    cat "$WORK/$name.ref.err" >&2
    fail "$name: rfm_reference.py failed"
    return 1
  fi
}

# check_rfm NAME RESULT.h5: RESULT equals the reference of NAME (table bit for bit, counters).
check_rfm() {
  local name=$1 result=$2 out
  if out=$("$PY" "$REFDIR/compare_results.py" rfm "$result" "$WORK/$name.ref.csv" \
           --counters "$WORK/$name.ref.json" 2>&1); then
    pass "$(basename "$result"): $out"
  else
    echo "$out" >&2
    fail "$name: rfmseg result differs from rfm_reference.py"
  fi
}

# run_rfmseg NAME N ARGS...: rfmseg under N ranks into $WORK/NAME.npN.h5; output in .log.
run_rfmseg() {
  local name=$1 n=$2
  shift 2
  if ! mpi "$n" "$RFMSEG" "$@" --output "$WORK/$name.np$n.h5" > "$WORK/$name.np$n.log" 2>&1; then
    cat "$WORK/$name.np$n.log" >&2
    fail "$name: rfmseg under $n ranks failed"
    return 1
  fi
}
