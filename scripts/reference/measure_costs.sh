#!/usr/bin/env bash
# Measures the inputs of scripts/cost_model.py on this machine and writes them to one JSON file:
#   - rfmseg's per-phase times, bytes read and shuffled, K-means iterations, customers (the /run
#     attributes of result files) for a run of the nightly job's model (k = 4, 10 restarts, no
#     sweep) on --lines lines under 1 rank (compute rates: nothing crosses a network) and 2 ranks
#     (the wire size of a shuffled line: half of the lines change rank);
#   - the same on a file 1/20 the size, for the fixed part of the memory and of the run time;
#   - peak RSS and CPU seconds (user + system) of every rank (/usr/bin/time) and the wall time
#     including mpirun's launch (cost_model.py uses CPU / wall to correct for a loaded machine);
#   - MPI_Allreduce latency by message size between 2 ranks on this node
#     (scripts/reference/allreduce_latency.c, compiled here with mpicc).
# A measurement, not a test. On a busy machine the rates are pessimistic: the JSON records the
# load average.
#
#   scripts/reference/measure_costs.sh [--lines N] [--build DIR] [--work DIR] [--out FILE.json]
#
#   --lines N     lines of the main measurement (default 2000000)
#   --build DIR   rfmseg build directory (default build; built by scripts/setup.sh if missing)
#   --work DIR    data and results (default BUILD/cost-model)
#   --out FILE    default WORK/costs.json
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

lines=2000000
build=build
work=""
out=""
while (($#)); do
  case "$1" in
    --lines) lines=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) rfmseg_log "unknown argument: $1 (see --help)"; exit 1 ;;
  esac
done
[[ $lines =~ ^[1-9][0-9]*$ && $lines -ge 20000 ]] || { rfmseg_log "error: --lines must be an integer >= 20000, got '$lines'"; exit 1; }
[[ -n $work ]] || work=$build/cost-model
[[ -n $out ]] || out=$work/costs.json

rfmseg_install_packages "${RFMSEG_BUILD_PACKAGES[@]}" time python3-h5py python3-numpy python3-matplotlib
if [[ ! -x $build/src/rfmseg || ! -x $build/src/rfmseg-gen ]]; then
  [[ $build == build ]] || { rfmseg_log "error: $build/src/rfmseg or rfmseg-gen missing: build it first"; exit 1; }
  scripts/setup.sh
fi
mkdir -p "$work"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

rfmseg_log "allreduce latency (2 ranks)"
mpicc -O2 -o "$work/allreduce_latency" scripts/reference/allreduce_latency.c
mpirun -np 2 "$work/allreduce_latency" 2000 >"$work/allreduce.json"

small=$((lines / 20))
for n in "$lines" "$small"; do
  data=$work/retail-$n.csv
  if [[ ! -s $data ]]; then
    rfmseg_log "generating $data"
    mpirun -np 2 "$build/src/rfmseg-gen" --output "$data.tmp" --lines "$n" --seed 7 >/dev/null
    mv "$data.tmp" "$data"
  fi
  for np in 1 2; do
    dir=$work/run-$n-np$np
    rm -rf "$dir"
    mkdir -p "$dir"
    rfmseg_log "rfmseg: $n lines, $np rank(s)"
    # shellcheck disable=SC2016  # $0 and the rank expand in the inner shell, per rank
    /usr/bin/time -f '%e' -o "$dir/wall.txt" mpirun -np "$np" \
      bash -c 'exec /usr/bin/time -f "%M %U %S %e" -o "$0/rank.$OMPI_COMM_WORLD_RANK" "$@"' "$dir" \
      "$build/src/rfmseg" --input "$data" --output "$dir/result.h5" --quiet
  done
done

"$RFMSEG_PYTHON" - "$work" "$lines" "$small" "$load_start" "$out" <<'PY'
import glob, json, os, sys
import h5py
work, lines, small, load_start, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]

def run(n, np_):
    d = os.path.join(work, "run-%d-np%d" % (n, np_))
    with h5py.File(os.path.join(d, "result.h5"), "r") as h:
        a = h["run"].attrs
        attrs = {k: (a[k].decode() if isinstance(a[k], bytes) else a[k].item())
                 for k in a if k not in ("configuration", "bad_line_examples", "input_files")}
    ranks = [open(p).read().split()[-4:] for p in sorted(glob.glob(os.path.join(d, "rank.*")))]
    return {"attrs": attrs, "rss_kib": [int(r[0]) for r in ranks],
            "cpu_s": [float(r[1]) + float(r[2]) for r in ranks],
            "rank_wall_s": [float(r[3]) for r in ranks],
            "wall": float(open(os.path.join(d, "wall.txt")).read().split()[-1]),
            "result_bytes": os.path.getsize(os.path.join(d, "result.h5"))}

costs = {
    "machine": {"nproc": os.cpu_count(), "loadavg_start": load_start,
                "loadavg_end": " ".join(open("/proc/loadavg").read().split()[:3]),
                "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                             if l.startswith("model name")), "?")},
    "runs": {"large_np1": run(lines, 1), "large_np2": run(lines, 2),
             "small_np1": run(small, 1), "small_np2": run(small, 2)},
    "allreduce": json.load(open(os.path.join(work, "allreduce.json"))),
}
with open(out, "w") as f:
    json.dump(costs, f, indent=1)
    f.write("\n")
print(out)
PY
