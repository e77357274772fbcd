#!/usr/bin/env bash
# Benchmark of the whole job: generates Online-Retail-style files (1M and 10M lines by default),
# runs rfmseg under 1 and 2 ranks, and prints per-phase wall times, lines/s, MB/s, peak RSS per
# rank, bytes shuffled per line and K-means throughput (customer x cluster distance evaluations per
# second per rank). A benchmark, not a test: it asserts nothing.
#
#   scripts/bench.sh [--sizes "1000000 10000000"] [--ranks "1 2"] [--repeat 3] [-- extra rfmseg options]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

sizes="1000000 10000000"
ranks="1 2"
repeat=3
extra=()
while (($#)); do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) rfmseg_log "unknown argument: $1"; exit 1 ;;
  esac
done

rfmseg_install_packages "${RFMSEG_BUILD_PACKAGES[@]}" time python3-h5py
[[ -x build/src/rfmseg ]] || scripts/setup.sh
data=build/bench
mkdir -p "$data"

printf '%-9s %-5s %8s %8s %8s %8s %8s %8s %8s %9s %9s %10s %12s %s\n' lines ranks total ingest rfm sort transform kmeans output "Mlines/s" "MB/s" "shuf B/ln" "kmeans Gd/s" "peak RSS/rank (MB)"
for n in $sizes; do
  file=$data/retail-$n.csv
  [[ -s $file ]] || mpirun -np 2 build/src/rfmseg-gen --output "$file" --lines "$n" --seed 7 >/dev/null
  for p in $ranks; do
    best=""
    for ((r = 0; r < repeat; r++)); do
      out=$data/result-$n-$p.h5
      log=$data/rss-$n-$p.log
      rm -f "$log".*
      # One peak-RSS file per rank: the rank number is only known inside the launched process.
      # shellcheck disable=SC2016
      mpirun -np "$p" bash -c 'exec /usr/bin/time -f %M -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$log" \
        build/src/rfmseg --input "$file" --output "$out" --quiet "${extra[@]}"
      line=$("$RFMSEG_PYTHON" - "$out" "$n" "$log" "$p" <<'PY'
import sys, h5py, glob
path, n, log, p = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
run = h5py.File(path, "r")["run"].attrs
t = {k[5:]: float(run[k]) for k in run if k.startswith("time_")}
rss = [int(open(f).read().split()[-1]) / 1024 for f in sorted(glob.glob(log + ".*"))]
customers = int(run["customers"]); k = int(run["k"]); iters = int(run["kmeans_iterations_total"])
kmeans_rate = customers * k * iters / max(t["kmeans"], 1e-9) / p / 1e9
print(f'{t["total"]:.3f} {n:<9} {p:<5} {t["total"]:8.3f} {t["ingest"]:8.3f} {t["rfm"]:8.3f} {t["sort"]:8.3f} '
      f'{t["transform"]+t["scale"]:8.3f} {t["kmeans"]:8.3f} {t["output"]:8.3f} {n/t["total"]/1e6:9.2f} '
      f'{int(run["bytes_read"])/t["total"]/1e6:9.1f} {int(run["bytes_shuffled"])/n:10.1f} {kmeans_rate:12.3f} '
      + " ".join(f"{r:.0f}" for r in rss))
PY
)
      # keep the fastest repetition
      if [[ -z $best ]] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best=$line; fi
    done
    echo "${best#* }"
  done
done
