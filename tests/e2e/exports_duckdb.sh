# shellcheck shell=bash
# e2e.exports_duckdb: the --export files read with DuckDB (npm @duckdb/node-api, installed on
# first use into NPM_PREFIX under the build tree) equal the HDF5 datasets, under 1 and 3 ranks:
# generated data with a --k-range sweep, and ids with commas and quotes (RFC 4180). Skipped
# (exit 77) when npm is not installed; a failed npm install is a failure.
#
#   bash exports_duckdb.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR NPM_PREFIX

# shellcheck source=tests/e2e/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NPM_PREFIX=${6:?NPM_PREFIX (a directory under the build tree) is the 6th argument}
CHECK=$SRC/tests/e2e/exports_check.py
if ! command -v npm > /dev/null || ! command -v node > /dev/null; then
  echo "SKIP: npm/node are not installed (DuckDB is read through npm @duckdb/node-api)" >&2
  exit 77
fi

step "npm @duckdb/node-api into $NPM_PREFIX"
if [[ ! -d $NPM_PREFIX/node_modules/@duckdb/node-api ]]; then
  mkdir -p "$NPM_PREFIX"
  if ! npm install --no-audit --no-fund --prefix "$NPM_PREFIX" @duckdb/node-api > "$WORK/npm.log" 2>&1; then
    cat "$WORK/npm.log" >&2
    fail "npm install @duckdb/node-api failed"
    finish
  fi
fi

# check_duckdb DIR RESULT: DuckDB's reading of the exports in DIR equals RESULT's datasets.
check_duckdb() {
  local out json=$WORK/$(basename "$1").duckdb.json
  if ! out=$(node "$SRC/tests/e2e/exports_duckdb.cjs" "$NPM_PREFIX" "$1" "$json" 2>&1); then
    echo "$out" >&2
    fail "$(basename "$1"): DuckDB cannot read the exports"
    return
  fi
  echo "  $out"
  if out=$("$PY" "$CHECK" duckdb "$json" "$2" 2>&1); then
    pass "$(basename "$1"): $out"
  else
    echo "$out" >&2
    fail "$(basename "$1"): exports read with DuckDB differ from $(basename "$2")"
  fi
}

step "generated data with a sweep; ids with commas and quotes"
"$RFMSEG_GEN" --output "$WORK/gen.csv" --lines 20000 --customers 2000 > /dev/null
"$PY" "$CHECK" make-input "$WORK/quoted.csv" "$WORK/quoted_ids.txt"
for n in 1 3; do
  run_rfmseg gen "$n" --input "$WORK/gen.csv" --k-range 2..4 --n-init 2 --quiet --export "$WORK/gen.ex$n" &&
    check_duckdb "$WORK/gen.ex$n" "$WORK/gen.np$n.h5"
  run_rfmseg quoted "$n" --input "$WORK/quoted.csv" --n-init 2 --quiet --export "$WORK/quoted.ex$n" \
    --export-compress none && check_duckdb "$WORK/quoted.ex$n" "$WORK/quoted.np$n.h5"
done

finish
