#!/usr/bin/env bash
# Runs the scaling study (jobs/scaling.sbatch) through Slurm on this machine and waits for it:
# on the cluster $SLURM_CONF names when one answers, else on a private single-node cluster
# (scripts/slurm-local.sh) started for the run and stopped after it.
#
#   scripts/scaling_run.sh [--ranks "1 2 4"] [--strong-lines N] [--weak-lines N] [--repeats N]
#                          [--modes "strong weak"] [--dir DIR] [--deadline SECONDS]
#
# Defaults: ranks 1 2 4, 2000000 strong lines, 500000 lines per rank, 3 repeats, both modes,
# DIR build/scaling (CSV appended to, PNGs redrawn), deadline 3600 s. Executables from
# $RFMSEG_BIN or build/src (scripts/setup.sh builds them).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
ranks="1 2 4" strong=2000000 weak=500000 repeats=3 modes="strong weak" dir=$repo/build/scaling deadline=3600
while (($#)); do
  case $1 in
    --ranks) ranks=$2; shift 2 ;;
    --strong-lines) strong=$2; shift 2 ;;
    --weak-lines) weak=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --deadline) deadline=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scaling_run: unknown argument $1" >&2; exit 2 ;;
  esac
done
bin=${RFMSEG_BIN:-$repo/build/src}
[[ -x $bin/rfmseg && -x $bin/rfmseg-gen ]] || { echo "scaling_run: no rfmseg/rfmseg-gen in $bin (run scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
max=0
for r in $ranks; do ((r > max)) && max=$r; done

cluster=""
cleanup() { [[ -n $cluster ]] && "$repo/scripts/slurm-local.sh" stop --purge "$cluster" || true; }
trap cleanup EXIT
if [[ -n ${SLURM_CONF:-} ]] && timeout 10 scontrol ping 2>/dev/null | grep -q UP; then
  echo "scaling_run: using the cluster of $SLURM_CONF" >&2
else
  cluster=$(mktemp -d /tmp/rfmseg-slurm.XXXXXX)
  eval "$(SLURM_LOCAL_CPUS=$((max > 4 ? max : 4)) "$repo/scripts/slurm-local.sh" start "$cluster")"
fi

id=$(sbatch --parsable --nodes=1 --ntasks-per-node="$max" --chdir="$dir" \
  --export="ALL,RFMSEG_BIN=$bin,SCALING_DIR=$dir,SCALING_RANKS=$ranks,SCALING_MODES=$modes,SCALING_STRONG_LINES=$strong,SCALING_WEAK_LINES=$weak,SCALING_REPEATS=$repeats" \
  "$repo/jobs/scaling.sbatch")
id=${id%%;*}
echo "scaling_run: job $id, log $dir/rfmseg-scaling-$id.out" >&2
end=$((SECONDS + deadline))
state=""
while :; do
  state=$(scontrol -o show job "$id" 2>/dev/null | tr ' ' '\n' | sed -n 's/^JobState=//p')
  case $state in
    COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE) break ;;
  esac
  if ((SECONDS >= end)); then
    echo "scaling_run: job $id not done after $deadline s: cancelling" >&2
    scancel "$id" || true
    exit 1
  fi
  sleep 1
done
cat "$dir/rfmseg-scaling-$id.out"
[[ $state == COMPLETED ]] || { cat "$dir/rfmseg-scaling-$id.err" >&2; echo "scaling_run: job $id $state" >&2; exit 1; }
