#!/usr/bin/env bash
# Side-by-side benchmark: the pandas + scikit-learn pipeline (scripts/reference/python_pipeline.py)
# against rfmseg under `mpirun -np 1` and `-np 2`, on one generated Online-Retail-style file.
#
# Both sides do the same job: read, clean (rfmseg's default rules), RFM, Box-Cox on R and F, cube
# root on M, standard scaling, an elbow sweep k = 1..10 with 10 k-means++ restarts per k, the
# k = 3 model as the final one, and silhouette (10 000-customer sample) / Calinski-Harabasz /
# Davies-Bouldin for every k. rfmseg always computes those metrics; the Python side computes them
# in a separate phase, so the report gives its total with and without them. The Python side
# takes its final k = 3 model from the sweep, as rfmseg does (a refit with the same seed gives the
# same model; --python-refit adds it back as a phase, as the issue's notebook does).
#
# Runs alternate (python, np 1, np 2, python, ...) so that a change in machine load hits all three
# alike; each is repeated --repeat times and the report takes medians. Peak RSS is /usr/bin/time's
# maximum resident set size, summed over ranks. Agreement: ARI of the final labels matched by
# customer id, inertia of both, largest feature difference; np 1 and np 2 must be bit-identical.
# The report is a markdown file (default docs/benchmark-vs-python.md; BUILD/bench-vs-python/ for
# --quick) and is also printed. A benchmark, not a test: it asserts nothing about speed.
#
#   scripts/bench_vs_python.sh [--lines N] [--repeat R] [--quick] [--build DIR] [--out FILE.md]
#                              [--work DIR] [--seed S] [--python-refit]
#
#   --lines N       generated data lines (default 10000000: ~860 MB, 500 000 customers)
#   --repeat R      runs of each of the three (default 5)
#   --quick         smoke run: 200 000 lines, 2 repeats, report under the work directory
#   --build DIR     rfmseg build directory (default build; built by scripts/setup.sh if missing)
#   --out FILE      markdown report
#   --work DIR      data, per-run results and logs (default BUILD/bench-vs-python)
#   --seed S        rfmseg-gen seed (default 7, as scripts/bench.sh)
#   --python-refit  the Python side fits the final k = 3 model again after the sweep
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
repo=$(pwd)

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; }

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
[[ -n $work ]] || work=$build/bench-vs-python
if [[ -z $out ]]; then
  if ((quick)); then out=$work/benchmark-vs-python-quick.md; else out=docs/benchmark-vs-python.md; fi
fi
# the exact command, for the report
command_line="scripts/bench_vs_python.sh"
((quick)) && command_line+=" --quick"
((lines_set || quick == 0)) && command_line+=" --lines $lines"
((repeat_set || quick == 0)) && command_line+=" --repeat $repeat"
((refit)) && command_line+=" --python-refit"
[[ $seed == 7 ]] || command_line+=" --seed $seed"
[[ $build == build ]] || command_line+=" --build $build"

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
runs=$work/runs-$lines
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
py_args=(--k-range 1..10 --k 3 --n-init 10 --max-iter 300 --tol 1e-4 --seed 42 --metrics --silhouette-sample 10000)
((refit)) || py_args+=(--reuse-sweep)

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

for ((r = 1; r <= repeat; r++)); do
  for what in python np1 np2; do
    dir=$runs/$r-$what
    mkdir -p "$dir"
    rfmseg_log "run $r/$repeat: $what"
    case $what in
      python) run_python "$dir" ;;
      np1) run_rfmseg "$dir" 1 ;;
      np2) run_rfmseg "$dir" 2 ;;
    esac
  done
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$runs/machine.txt"

"$RFMSEG_PYTHON" scripts/bench_vs_python_report.py --runs "$runs" --lines "$lines" --repeat "$repeat" \
  --command "$command_line" --rfmseg-args="${rfm_args[*]}" --python-args="${py_args[*]}" \
  --rfmseg "$build/src/rfmseg" --out "$out"
rfmseg_log "report: $out"
