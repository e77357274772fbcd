# shellcheck shell=bash disable=SC2034  # TEST_ARGS, PY, ... are for the scripts that source this
# Shared set-up of the multi-host tests; sourced by tests/multihost/*.sh, not run directly.
#
# Every test script is called by CTest as
#   bash SCRIPT.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR [ARGS...]
# and exits 0 (pass), 1 (fail) or 77 (skipped: not root, or no network namespaces here).
#
# Sourcing this file takes the machine-wide lock of the test hosts (one multi-host test at a time,
# also across build directories), brings up two hosts rfmseg-h1 and rfmseg-h2 with
# scripts/netns-hosts.sh, and brings them down again when the script exits, however it exits
# (killing whatever is left running inside them).
set -euo pipefail

if [[ $# -lt 5 ]]; then
  echo "usage: $0 RFMSEG RFMSEG_GEN MPIEXEC MPIEXEC_PREFLAGS PROJECT_SOURCE_DIR [ARGS...]" >&2
  exit 2
fi
RFMSEG=$1
RFMSEG_GEN=$2
MPIEXEC=$3
read -r -a MPI_PREFLAGS <<< "${4//;/ }"   # CMake may hand over a ;-list
SRC=$5
shift 5
TEST_ARGS=("$@")
HOSTS_SH=$SRC/scripts/netns-hosts.sh
RSH=$SRC/scripts/netns-rsh
PY=/usr/bin/python3
SUBNET=10.213.0.0/24   # scripts/netns-hosts.sh's range
LOCK=/run/lock/rfmseg-netns.lock
T0=$(date +%s.%N)
FAILURES=0

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo "--- [$(elapsed "$T0")s] $*"; }
pass() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}
skip() {
  echo "SKIP: $*" >&2
  exit 77
}
finish() {
  if ((FAILURES != 0)); then
    echo "$FAILURES check(s) failed ($(elapsed "$T0") s)" >&2
    exit 1
  fi
  echo "all checks passed ($(elapsed "$T0") s)"
  exit 0
}

for exe in "$RFMSEG" "$RFMSEG_GEN" "$MPIEXEC" "$HOSTS_SH" "$RSH"; do
  [[ -x $exe ]] || { echo "FAIL: $exe is not an executable" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || skip "the multi-host tests need root (network namespaces)"
# iproute2 is not in a minimal Debian (CI's fresh image): install it like the other test packages.
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/common.sh
source "$SRC/scripts/common.sh"
if ! command -v ip >/dev/null && ! rfmseg_install_packages iproute2; then
  skip "no 'ip' command, and iproute2 cannot be installed"
fi
if ! reason=$("$HOSTS_SH" check); then
  skip "the multi-host tests need network namespaces: $reason"
fi

# (scripts/common.sh has set OMPI_ALLOW_RUN_AS_ROOT* and rmaps_base_oversubscribe.)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rfmseg-multihost.XXXXXX")
# Open MPI's session directories (one per host name, on the shared file system) stay in here.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

# One user of the test hosts at a time: they have fixed names and a fixed subnet. CTest runs these
# tests RUN_SERIAL; the lock also keeps two build directories apart.
mkdir -p "$(dirname "$LOCK")"
exec 9>"$LOCK"
if ! flock -w 120 9; then
  echo "FAIL: another multi-host test has held $LOCK for 120 s" >&2
  exit 1
fi

cleanup() {
  local status=$?
  trap - EXIT
  if ! "$HOSTS_SH" down; then
    echo "FAIL: scripts/netns-hosts.sh down failed" >&2
    status=1
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# Holding the lock, anything still up was left by a test that was killed (CTest's timeout sends
# SIGKILL, which no trap sees): remove it.
if "$HOSTS_SH" status >/dev/null; then
  echo "test hosts left over by an earlier run: removing them"
  "$HOSTS_SH" down
fi
"$HOSTS_SH" up 2

# Open MPI across rfmseg-h1 and rfmseg-h2, 2 slots each. mpirun runs inside rfmseg-h1 (like on the
# first node of an allocation) and starts its daemon on rfmseg-h2 through scripts/netns-rsh.
# Ranks talk TCP only (self,tcp: no shared memory, so ranks on one host also use TCP) and only on
# the test subnet, as do mpirun and its daemons (oob). The hosts share this machine's 2 cores:
# ranks waiting in MPI must yield, or every collective waits for the scheduler (mpirun does not
# know the "hosts" are oversubscribed).
# shellcheck disable=SC2054  # the commas belong to --host
MH_MPI=(--host rfmseg-h1:2,rfmseg-h2:2 --mca plm_rsh_agent "$RSH"
        --mca btl self,tcp --mca btl_tcp_if_include "$SUBNET" --mca oob_tcp_if_include "$SUBNET"
        --mca mpi_yield_when_idle 1)

# mh_command SECONDS N PROGRAM ARGS...: sets MH_COMMAND to the command line that runs PROGRAM on
# N ranks across the two hosts, killed after SECONDS (mpirun ignores SIGTERM while it waits for a
# lost daemon: KILL 10 s later). timeout(1) is its first word, so `"${MH_COMMAND[@]}" &` leaves
# timeout's pid in $!, and a TERM sent there reaches mpirun (and arms the KILL).
mh_command() {
  local limit=$1 n=$2
  shift 2
  MH_COMMAND=(timeout -k 10 "$limit" "$HOSTS_SH" exec rfmseg-h1
              "$MPIEXEC" -n "$n" "${MPI_PREFLAGS[@]}" "${MH_MPI[@]}" "$@")
}

# mh_mpirun SECONDS N PROGRAM ARGS...: run that command.
# (9>&-: the lock stays with this script, not with daemons that might outlive it)
mh_mpirun() {
  mh_command "$@"
  "${MH_COMMAND[@]}" 9>&-
}

# mpi_local SECONDS N PROGRAM ARGS...: PROGRAM on N ranks on this machine (no namespaces).
mpi_local() {
  local limit=$1 n=$2
  shift 2
  timeout -k 10 "$limit" "$MPIEXEC" -n "$n" "${MPI_PREFLAGS[@]}" "$@" 9>&-
}

# generate LINES FILE: a generated transaction log (2 local ranks).
generate() {
  if ! mpi_local 60 2 "$RFMSEG_GEN" --output "$2" --lines "$1" --seed 17 > "$WORK/gen.log" 2>&1; then
    cat "$WORK/gen.log" >&2
    echo "FAIL: rfmseg-gen failed" >&2
    exit 1
  fi
}
