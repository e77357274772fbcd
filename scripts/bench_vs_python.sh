#!/usr/bin/env bash
# Side-by-side benchmark: the pandas + scikit-learn pipeline (scripts/reference/python_pipeline.py)
# against rfmseg under `mpirun -np 1` and `-np 2`, on one generated Online-Retail-style file, plus
# a third column: DuckDB's RFM aggregation of the same file (2 threads) against rfmseg's whole job
# with one k = 3 fit at `-np 2`.
#
# Both sides do the same job: read, clean (rfmseg's default rules), RFM, Box-Cox on R and F, cube
# root on M, standard scaling, an elbow sweep k = 1..10 with 10 k-means++ restarts per k, the
# k = 3 model as the final one, and, in --mode metrics (default), silhouette (10 000-customer
# sample) / Calinski-Harabasz / Davies-Bouldin for every k. rfmseg computes those metrics in its
# k-means phase; the Python side computes them in a separate phase, so the report gives its total
# with and without them. --mode sse is the seed tutorial's work only: the sweep gives the SSE per k
# and nothing else (rfmseg --sweep-metrics sse, which still computes the three metrics of the
# final model; the Python side skips its metrics phase). The Python side takes its final k = 3
# model from the sweep, as rfmseg does (a refit with the same seed gives the same model;
# --python-refit adds it back as a phase, as the issue's notebook does).
#
# DuckDB column: `read_csv` + `GROUP BY` customer through npm's @duckdb/node-api (installed by this
# script into WORK/duckdb-node with npm; skipped, with a note in the report, if node or npm is
# missing or --no-duckdb is given), 2 threads, timed inside node around the query; compared with
# `mpirun -np 2 rfmseg --k 3 --n-init 1` (no sweep), whose in-program time is the total of its
# console `time:` line. The report prints the query and says which cleaning it does.
#
# Runs alternate (python, np 1, np 2, duckdb, np 2 k = 3, python, ...) so that a change in machine
# load hits all alike; each is repeated --repeat times and the report takes medians. Peak RSS is
# /usr/bin/time's maximum resident set size, summed over ranks. Agreement: ARI of the final labels
# matched by customer id, inertia of both, largest feature difference; np 1 and np 2 must be
# bit-identical; DuckDB's customer count and frequency sum against rfmseg's.
# The report is a markdown file (default docs/benchmark-vs-python.md, docs/benchmark-vs-python-
# sse.md for --mode sse; under BUILD/bench-vs-python/ for --quick) and is also printed. A
# benchmark, not a test: it asserts nothing about speed.
#
#   scripts/bench_vs_python.sh [--mode metrics|sse] [--lines N] [--repeat R] [--quick]
#                              [--build DIR] [--out FILE.md] [--work DIR] [--seed S]
#                              [--python-refit] [--no-duckdb]
#
#   --mode M        metrics (default): per-k silhouette / CH / DB on both sides;
#                   sse: SSE per k only (rfmseg --sweep-metrics sse, no Python metrics phase)
#   --lines N       generated data lines (default 10000000: ~860 MB, 500 000 customers)
#   --repeat R      runs of each (default 5)
#   --quick         smoke run: 200 000 lines, 2 repeats, report under the work directory
#   --build DIR     rfmseg build directory (default build; built by scripts/setup.sh if missing)
#   --out FILE      markdown report
#   --work DIR      data, per-run results, logs, DuckDB install (default BUILD/bench-vs-python)
#   --seed S        rfmseg-gen seed (default 7, as scripts/bench.sh)
#   --python-refit  the Python side fits the final k = 3 model again after the sweep
#   --no-duckdb     leave out the DuckDB column and its rfmseg k = 3 runs
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
repo=$(pwd)

usage() { sed -n '2,47p' "$0" | sed 's/^# \{0,1\}//'; }

lines=10000000
repeat=5
lines_set=0
repeat_set=0
quick=0
build=build
out=""
work=""
seed=7
refit=0
mode=metrics
duckdb=1
while (($#)); do
  case "$1" in
    --lines) lines=$2; lines_set=1; shift 2 ;;
    --repeat) repeat=$2; repeat_set=1; shift 2 ;;
    --quick) quick=1; shift ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --python-refit) refit=1; shift ;;
    --mode) mode=$2; shift 2 ;;
    --mode=*) mode=${1#--mode=}; shift ;;
    --no-duckdb) duckdb=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) rfmseg_log "unknown argument: $1 (see --help)"; exit 1 ;;
  esac
done
if ((quick)); then
  ((lines_set)) || lines=200000
  ((repeat_set)) || repeat=2
fi
[[ $lines =~ ^[1-9][0-9]*$ ]] || { rfmseg_log "error: --lines must be a positive integer, got '$lines'"; exit 1; }
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { rfmseg_log "error: --repeat must be a positive integer, got '$repeat'"; exit 1; }
[[ $mode == metrics || $mode == sse ]] || { rfmseg_log "error: --mode must be metrics or sse, got '$mode'"; exit 1; }
[[ -n $work ]] || work=$build/bench-vs-python
suffix=""
[[ $mode == metrics ]] || suffix=-$mode
if [[ -z $out ]]; then
  if ((quick)); then out=$work/benchmark-vs-python$suffix-quick.md; else out=docs/benchmark-vs-python$suffix.md; fi
fi
# the exact command, for the report
command_line="scripts/bench_vs_python.sh"
[[ $mode == metrics ]] || command_line+=" --mode $mode"
((quick)) && command_line+=" --quick"
((lines_set || quick == 0)) && command_line+=" --lines $lines"
((repeat_set || quick == 0)) && command_line+=" --repeat $repeat"
((refit)) && command_line+=" --python-refit"
[[ $seed == 7 ]] || command_line+=" --seed $seed"
[[ $build == build ]] || command_line+=" --build $build"
((duckdb)) || command_line+=" --no-duckdb"

rfmseg_install_packages "${RFMSEG_BUILD_PACKAGES[@]}" time python3-numpy python3-pandas python3-sklearn \
  python3-scipy python3-h5py
if [[ ! -x $build/src/rfmseg || ! -x $build/src/rfmseg-gen ]]; then
  [[ $build == build ]] || { rfmseg_log "error: $build/src/rfmseg or rfmseg-gen missing: build it first"; exit 1; }
  scripts/setup.sh
fi
rfmseg=$(cd "$build/src" && pwd)/rfmseg
py=("$RFMSEG_PYTHON" "$repo/scripts/reference/python_pipeline.py")

mkdir -p "$work" "$(dirname "$out")"
work=$(cd "$work" && pwd)
data=$work/retail-$lines-s$seed.csv
if [[ ! -s $data ]]; then
  rfmseg_log "generating $data ($lines lines)"
  mpirun -np 2 "$build/src/rfmseg-gen" --output "$data.tmp" --lines "$lines" --seed "$seed" >/dev/null
  mv "$data.tmp" "$data"
fi
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" -v n="$(nproc)" 'BEGIN {exit !(l > 0.5 * n)}'; then
  rfmseg_log "warning: load average $load on $(nproc) cores: other work is running, the times will be noisy"
fi
runs=$work/runs-$lines$suffix
rm -rf "$runs"
mkdir -p "$runs"
# machine facts at the start (the load average says how quiet the machine was)
{
  echo "nproc=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "memory=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "mpirun=$(mpirun --version 2>/dev/null | head -1)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "data_bytes=$(stat -c %s "$data")"
} >"$runs/machine.txt"

rfm_args=(--k-range 1..10 --k-select none --k 3 --n-init 10 --max-iter 300 --tol 1e-4 --seed 42 --quiet)
py_args=(--k-range 1..10 --k 3 --n-init 10 --max-iter 300 --tol 1e-4 --seed 42)
if [[ $mode == sse ]]; then
  rfm_args+=(--sweep-metrics sse)
  [[ $("$rfmseg" --help 2>&1) == *--sweep-metrics* ]] ||
    { rfmseg_log "error: $rfmseg has no --sweep-metrics (needed by --mode sse): rebuild it"; exit 1; }
else
  py_args+=(--metrics --silhouette-sample 10000)
fi
((refit)) || py_args+=(--reuse-sweep)
# the single fit compared with DuckDB: whole job, console report kept for its `time:` line
rfm_k3_args=(--k 3 --n-init 1 --max-iter 300 --tol 1e-4 --seed 42)

# DuckDB through npm's @duckdb/node-api, installed once into $work/duckdb-node
duckdb_dir=$work/duckdb-node
duckdb_note=""
if ((duckdb)); then
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    duckdb=0
    duckdb_note="node or npm is not installed on this machine (install nodejs and npm, then rerun)"
  elif [[ ! -f $duckdb_dir/node_modules/@duckdb/node-api/package.json ]]; then
    rfmseg_log "installing @duckdb/node-api into $duckdb_dir (npm)"
    mkdir -p "$duckdb_dir"
    if ! npm install --prefix "$duckdb_dir" --no-audit --no-fund --loglevel=error @duckdb/node-api >"$duckdb_dir/npm.log" 2>&1; then
      duckdb=0
      duckdb_note="npm install @duckdb/node-api failed (see $duckdb_dir/npm.log)"
    fi
  fi
else
  duckdb_note="left out by --no-duckdb"
fi
[[ -z $duckdb_note ]] || rfmseg_log "DuckDB: $duckdb_note"
if ((duckdb)); then
  # The query: DATA is replaced by the file's path. Cleaning as far as plain SQL says it: rows
  # without a customer id, cancellations (invoice starting with C or quantity < 0), zero quantity
  # and price <= 0 are dropped; ids are trimmed and 17850.0 -> 17850. Exact duplicate lines are
  # NOT dropped (that is a DISTINCT over whole rows), and a malformed line makes read_csv fail
  # instead of being counted. The report prints this text.
  cat >"$duckdb_dir/rfm.sql" <<'SQL'
CREATE TEMP TABLE rfm AS
WITH kept AS (
  SELECT regexp_replace(trim(CustomerID), '^([0-9]+)\.0+$', '\1') AS customer,
         trim(InvoiceNo) AS invoice,
         CAST(strptime(InvoiceDate, '%m/%d/%Y %H:%M') AS DATE) AS day,
         Quantity * UnitPrice AS amount
  FROM read_csv('DATA', header = true, encoding = 'latin-1',
                columns = {'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR',
                           'Description': 'VARCHAR', 'Quantity': 'BIGINT',
                           'InvoiceDate': 'VARCHAR', 'UnitPrice': 'DOUBLE',
                           'CustomerID': 'VARCHAR', 'Country': 'VARCHAR'})
  WHERE CustomerID IS NOT NULL AND trim(CustomerID) <> ''
    AND NOT starts_with(trim(InvoiceNo), 'C') AND Quantity > 0 AND UnitPrice > 0
), snap AS (SELECT max(day) + 1 AS snapshot FROM kept)
SELECT customer,
       date_diff('day', max(day), any_value(snapshot)) AS recency,
       count(DISTINCT invoice) AS frequency,
       sum(amount) AS monetary
FROM kept, snap
GROUP BY customer
SQL
  # node ... rfm.mjs DATA THREADS OUT.json: opens an in-memory database with THREADS threads, times
  # the query (CREATE TEMP TABLE: read, filter, aggregate, materialise), then reads back totals
  # for the agreement check (untimed)
  cat >"$duckdb_dir/rfm.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, writeFileSync } from 'node:fs';
const [input, threads, out] = process.argv.slice(2);
const here = (p) => new URL(p, import.meta.url);
const sql = readFileSync(here('./rfm.sql'), 'utf8').replace("'DATA'", "'" + input.replaceAll("'", "''") + "'");
const t0 = performance.now();
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const connection = await instance.connect();
const t1 = performance.now();
await connection.run(sql);
const t2 = performance.now();
const reader = await connection.runAndReadAll(
  "SELECT count(*)::BIGINT, sum(frequency)::BIGINT, sum(recency)::BIGINT, sum(monetary)::DOUBLE, " +
  "version(), current_setting('threads')::BIGINT FROM rfm");
const [n, f, r, m, version, th] = reader.getRows()[0];
const result = {
  seconds: (t2 - t1) / 1000, open_seconds: (t1 - t0) / 1000, customers: Number(n),
  frequency_sum: Number(f), recency_sum: Number(r), monetary_sum: Number(m),
  duckdb_version: String(version), threads: Number(th),
  node_api_version: JSON.parse(readFileSync(here('./node_modules/@duckdb/node-api/package.json'), 'utf8')).version,
  node_version: process.version,
};
const text = JSON.stringify(result);
if (out) writeFileSync(out, text + '\n');
console.log(text);
JS
fi

run_python() {  # DIR
  local dir=$1
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" "${py[@]}" --input "$data" "${py_args[@]}" \
    --output "$dir/customers.csv" --agreement-npz "$dir/agreement.npz" --timings-json "$dir/python.json" >"$dir/stdout.txt"
}
run_rfmseg() {  # DIR RANKS
  local dir=$1 np=$2
  # /usr/bin/time around every rank: rss.<rank> gets that rank's peak RSS in KiB
  # shellcheck disable=SC2016  # $0 and the rank expand in the inner shell, per rank
  /usr/bin/time -f '%e' -o "$dir/time.txt" mpirun -np "$np" \
    bash -c 'exec /usr/bin/time -f %M -o "$0/rss.$OMPI_COMM_WORLD_RANK" "$@"' "$dir" \
    "$rfmseg" --input "$data" --output "$dir/result.h5" "${rfm_args[@]}" >"$dir/stdout.txt"
}

run_duckdb() {  # DIR
  local dir=$1
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" node "$duckdb_dir/rfm.mjs" "$data" 2 "$dir/duckdb.json" >"$dir/stdout.txt"
}
run_rfmseg_k3() {  # DIR: the whole job, one k = 3 fit, 2 ranks, console report (its time: line)
  local dir=$1
  # shellcheck disable=SC2016
  /usr/bin/time -f '%e' -o "$dir/time.txt" mpirun -np 2 \
    bash -c 'exec /usr/bin/time -f %M -o "$0/rss.$OMPI_COMM_WORLD_RANK" "$@"' "$dir" \
    "$rfmseg" --input "$data" --output "$dir/result.h5" "${rfm_k3_args[@]}" >"$dir/stdout.txt"
}

kinds=(python np1 np2)
((duckdb)) && kinds+=(duckdb np2k3)
for ((r = 1; r <= repeat; r++)); do
  for what in "${kinds[@]}"; do
    dir=$runs/$r-$what
    mkdir -p "$dir"
    rfmseg_log "run $r/$repeat: $what"
    case $what in
      python) run_python "$dir" ;;
      np1) run_rfmseg "$dir" 1 ;;
      np2) run_rfmseg "$dir" 2 ;;
      duckdb) run_duckdb "$dir" ;;
      np2k3) run_rfmseg_k3 "$dir" ;;
    esac
  done
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$runs/machine.txt"

"$RFMSEG_PYTHON" scripts/bench_vs_python_report.py --runs "$runs" --lines "$lines" --repeat "$repeat" \
  --command "$command_line" --rfmseg-args="${rfm_args[*]}" --python-args="${py_args[*]}" \
  --rfmseg "$build/src/rfmseg" --out "$out" --mode "$mode" --rfmseg-k3-args="${rfm_k3_args[*]}" \
  --duckdb-sql "$duckdb_dir/rfm.sql" --duckdb-note "$duckdb_note"
rfmseg_log "report: $out"
