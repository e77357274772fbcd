# shellcheck shell=bash disable=SC2034
# Sourced by tests/slurm/test_*.sh (not run on its own). Each test runs against its own private
# Slurm cluster (scripts/slurm-local.sh):
#
#   source "$(dirname "$0")/lib.sh"     with the test's arguments: REPO BINDIR
#   ... the test body, run with SLURM_CONF set, inside the work directory $WORK ...
#
# Sourcing it in the outer invocation installs the Slurm packages when missing (exit 77, skipped,
# when that is impossible), starts the cluster, runs the same script again as the body under
# `timeout`, then always stops the cluster, checks that none of its processes is left, and exits
# with the body's status. So a hanging job or a failed check never leaves daemons behind.
set -euo pipefail

REPO=$(cd "${1:?usage: $0 REPO BINDIR}" && pwd)
BIN=$(cd "${2:?usage: $0 REPO BINDIR}" && pwd)
TEST_NAME=$(basename "$0" .sh)
SLURM_LOCAL=$REPO/scripts/slurm-local.sh
BODY_BUDGET=${SLURM_TEST_BUDGET:-210}   # seconds for the body at most
TEST_TIMEOUT=${SLURM_TEST_TIMEOUT:-300}  # CTest's TIMEOUT: install + start + body + stop stay below it

# Messages carry the seconds since the test began (the body inherits the start time).
export SLURM_TEST_T0=${SLURM_TEST_T0:-$(date +%s.%N)}
say() { printf '[%s %ss] %s\n' "$TEST_NAME" "$(awk -v a="$SLURM_TEST_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" "$*"; }

if [[ -z ${SLURM_TEST_BODY:-} ]]; then
  if ! "$SLURM_LOCAL" install; then
    say "SKIP: the Slurm packages (slurmctld slurmd slurm-client munge) are not installed and cannot be installed here"
    exit 77
  fi
  WORK=$PWD/$TEST_NAME
  rm -rf "$WORK"; mkdir -p "$WORK"
  # Short path: the munge socket lives in it (unix socket paths are limited to ~100 bytes).
  cluster=$(mktemp -d /tmp/rfmseg-slurm-test.XXXXXX)
  t0=$(date +%s.%N)
  if ! env_lines=$(timeout 45 "$SLURM_LOCAL" start "$cluster"); then
    say "FAIL: the local cluster did not start"
    tail -n 20 "$cluster"/log/*.log 2>/dev/null || true
    "$SLURM_LOCAL" stop --purge "$cluster" >/dev/null 2>&1 || rm -rf "$cluster"
    exit 1
  fi
  eval "$env_lines"
  say "cluster up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s ($cluster)"

  # What is left of CTest's TIMEOUT after the installation and the start, less time for the stop.
  budget=$((TEST_TIMEOUT - SECONDS - 30))
  ((budget < BODY_BUDGET)) && BODY_BUDGET=$budget
  rc=0
  SLURM_TEST_BODY=1 WORK=$WORK timeout -k 10 "$BODY_BUDGET" bash "$0" "$@" || rc=$?
  ((rc == 124)) && say "FAIL: the test body ran out of its ${BODY_BUDGET} s"
  if ((rc != 0)); then
    cp -r "$cluster/log" "$WORK/cluster-log" 2>/dev/null || true
    say "cluster logs kept in $WORK/cluster-log"
  fi
  say "stopping the cluster"
  if ! "$SLURM_LOCAL" stop --purge "$cluster"; then
    say "FAIL: stopping the cluster failed"; rc=1
  fi
  # Nothing of the cluster may outlive the test.
  left=()
  for p in $(grep -lsaF -- "$cluster" /proc/[0-9]*/cmdline); do
    p=${p%/cmdline}; p=${p#/proc/}
    # (grep itself matched its own command line; it is gone by now)
    [[ -e /proc/$p && $p != "$$" ]] && left+=("$p")
  done
  if ((${#left[@]})); then
    say "FAIL: processes of the cluster still running: ${left[*]}"; rc=1
  fi
  [[ ! -e $cluster ]] || { say "FAIL: $cluster not removed"; rc=1; }
  say "done (exit $rc)"
  exit "$rc"
fi

# --- the body -------------------------------------------------------------------------------------
cd "$WORK"
export TMPDIR=$WORK/tmp   # Open MPI's session directories: apart from other runs on this machine
mkdir -p "$TMPDIR"
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1   # generating data with more ranks than cores

failures=0
check() {  # check "what" command...  — records a failure instead of stopping at the first one
  local what=$1; shift
  if "$@"; then say "ok: $what"; else say "FAIL: $what"; failures=$((failures + 1)); fi
}
quiet() { "$@" >/dev/null 2>&1; }
# True when directory $1 holds nothing but the names given after it (hidden files included).
dir_has_only() {  # $1: directory, rest: names
  local dir=$1 f; shift
  for f in "$dir"/* "$dir"/.[!.]*; do
    [[ -e $f || -L $f ]] || continue
    [[ " $* " == *" ${f##*/} "* ]] || return 1
  done
}
finish() {
  if ((failures)); then say "$failures check(s) failed"; exit 1; fi
  say "all checks passed"
}

# A job's field from `scontrol -o show job` (JobState, ExitCode, StdOut, ...).
job_field() {  # $1: job id, $2: field
  timeout 20 scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# Slurm's own times of a job: "submit HH:MM:SS start HH:MM:SS end HH:MM:SS".
job_times() {
  local line
  line=$(timeout 20 scontrol -o show job "$1" 2>/dev/null) || return 0
  for f in SubmitTime StartTime EndTime; do
    printf '%s %s ' "${f%Time}" "$(tr ' ' '\n' <<<"$line" | sed -n "s/^$f=.*T//p")"
  done | tr '[:upper:]' '[:lower:]' | sed 's/ $//'
}

# Polls the job until it ends or the deadline passes (then cancels it); prints the final state.
# sbatch --wait alone is not enough: it hangs forever when the node goes down with the job pending.
wait_job() {  # $1: job id, $2: seconds
  local id=$1 deadline=$((SECONDS + $2)) state
  while :; do
    state=$(job_field "$id" JobState)
    case $state in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)
        echo "$state"; return 0 ;;
    esac
    if ((SECONDS >= deadline)); then
      say "job $id still ${state:-unknown} after $2 s: cancelling" >&2
      timeout 20 scancel "$id" 2>/dev/null || true
      echo "${state:-UNKNOWN}-TIMEOUT"
      return 1
    fi
    sleep 0.25
  done
}

# sbatch --wait in the background, the job polled with a deadline; sets JOB_ID, JOB_STATE,
# JOB_EXIT (scontrol's ExitCode), SBATCH_STATUS (sbatch --wait's own exit status), JOB_SECONDS.
submit_and_wait() {  # $1: deadline seconds, rest: sbatch arguments
  local deadline=$1; shift
  local out=$WORK/sbatch.$RANDOM.out t0 pid
  t0=$(date +%s.%N)
  timeout $((deadline + 60)) sbatch --wait "$@" >"$out" 2>&1 &
  pid=$!
  JOB_ID=""
  for _ in $(seq 200); do
    JOB_ID=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' "$out")
    [[ -n $JOB_ID ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z $JOB_ID ]]; then
    say "sbatch did not submit: $(cat "$out")"
    wait "$pid" || true
    JOB_STATE=NOT_SUBMITTED JOB_EXIT="" SBATCH_STATUS=-1 JOB_SECONDS=0
    return 0
  fi
  JOB_STATE=$(wait_job "$JOB_ID" "$deadline") || true
  JOB_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  JOB_EXIT=$(job_field "$JOB_ID" ExitCode)
  # sbatch --wait polls after 2 s, 8 s, then every 32 s: give it that long to notice.
  SBATCH_STATUS=0
  wait "$pid" || SBATCH_STATUS=$?
  say "job $JOB_ID: $JOB_STATE, ExitCode $JOB_EXIT, sbatch --wait exit $SBATCH_STATUS, ${JOB_SECONDS} s from submission to end ($(job_times "$JOB_ID"))"
}

# Submit without --wait and poll; sets JOB_ID, JOB_STATE, JOB_EXIT, JOB_SECONDS.
submit_and_poll() {  # $1: deadline seconds, rest: sbatch arguments
  local deadline=$1 t0; shift
  t0=$(date +%s.%N)
  JOB_ID=$(timeout 30 sbatch --parsable "$@") || { JOB_ID=""; JOB_STATE=NOT_SUBMITTED; JOB_EXIT=""; return 0; }
  JOB_ID=${JOB_ID%%;*}
  JOB_STATE=$(wait_job "$JOB_ID" "$deadline") || true
  JOB_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  JOB_EXIT=$(job_field "$JOB_ID" ExitCode)
  say "job $JOB_ID: $JOB_STATE, ExitCode $JOB_EXIT, ${JOB_SECONDS} s from submission to end ($(job_times "$JOB_ID"))"
}

# One /run attribute of an HDF5 result (scalar), via h5dump.
h5_attr() {  # $1: file, $2: attribute name
  h5dump -a "/run/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | head -n 1 | tr -d '"'
}
# Number of rows of a 1-d dataset.
h5_rows() {  # $1: file, $2: dataset
  h5dump -H -d "$2" "$1" 2>/dev/null | sed -n 's/.*DATASPACE *SIMPLE { ( \([0-9]*\).*/\1/p' | head -n 1
}
