# shellcheck shell=bash disable=SC2034  # LAUNCHER is read by the scripts that source this file
# Sourced by the job scripts in jobs/: how to start an MPI program inside a Slurm allocation.
# Not executable on its own.
#
#   launch_modules          `module load $RFMSEG_MODULES` when that is set (cron and scrontab jobs
#                           start without the login shell's modules)
#   launch_bin_dir HOME     the directory of the rfmseg executables for the job scripts in HOME/jobs
#   launch_data_home HOME   where data/ and results/ default to
#   launch_choose EXE       pick the launcher once per job (sets LAUNCHER, printable)
#   launch N CMD [ARGS...]  run CMD on N ranks with it (filling whole nodes first)
#
# Environment:
#   RFMSEG_MODULES      environment modules to load first, e.g. "gcc/12 openmpi/4.1 hdf5/1.12-mpi"
#   RFMSEG_LAUNCHER     auto | srun | mpirun                           [auto]
#                       auto: srun --mpi=$RFMSEG_SRUN_MPI when a probe (EXE --version on all
#                       tasks of the allocation) shows srun can start MPI, else mpirun
#   RFMSEG_SRUN_MPI     srun's MPI plugin [pmix when `srun --mpi=list` has it, else pmi2]
#   RFMSEG_PROBE_TIMEOUT  seconds the probe may take before srun counts as not working [60]
#                       (a broken PMI set-up can hang in MPI_Init rather than fail)
#   RFMSEG_MPIRUN_ARGS  extra mpirun options (e.g. "--mca btl self,tcp")
#   RFMSEG_ABORT_GRACE  seconds the launcher may still run after a rank reported rfmseg's watchdog
#                       abort (--collective-timeout) before `launch` kills it and returns 3      [10]
#
# After `launch`: LAUNCH_ABORT holds the first watchdog line a rank printed ("[rank R] rfmseg:
# fatal: MPI_Allreduce in phase 'kmeans' waited ..."), or nothing; LAUNCH_FAILED the first line in
# which srun said it could not launch the step ("srun: error: Task launch for StepId=... failed on
# node ...", "... aborted before step completely launched"), or nothing. srun may exit 0 after such a
# failure (seen when a requeued job starts while its previous run's step is still being torn down):
# the caller must not take that 0 for its program's.

# Open MPI refuses to run as root without these (containers, CI); harmless otherwise.
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# More tasks on this node than it has cores (small test machines; never on a sized allocation):
# ranks waiting inside MPI must yield their core instead of spinning, or every collective waits
# for the scheduler. mpirun notices oversubscription itself; ranks started by srun do not.
_launch_tasks_here=${SLURM_TASKS_PER_NODE:-}
_launch_tasks_here=${_launch_tasks_here%%[(,]*}
if [[ $_launch_tasks_here =~ ^[0-9]+$ && -z ${OMPI_MCA_mpi_yield_when_idle:-} ]] \
  && ((_launch_tasks_here > $(nproc 2>/dev/null || echo 1024))); then
  export OMPI_MCA_mpi_yield_when_idle=1
fi

launch_modules() {
  [[ -n ${RFMSEG_MODULES:-} ]] || return 0
  if ! type module >/dev/null 2>&1; then
    local init
    for init in /etc/profile.d/lmod.sh /etc/profile.d/modules.sh /usr/share/lmod/lmod/init/bash \
                /usr/share/modules/init/bash; do
      # shellcheck disable=SC1090
      [[ -r $init ]] && source "$init" && break
    done
  fi
  type module >/dev/null 2>&1 || { echo "RFMSEG_MODULES is set but there is no module command" >&2; return 1; }
  # shellcheck disable=SC2086  # a list of modules
  module load $RFMSEG_MODULES
}

# HOME is the repository, or <prefix>/share/rfmseg of an installation (`cmake --install`, the .deb,
# Spack). The executables: RFMSEG_BIN, else the repository's build/src, else <prefix>/bin of the
# installation these scripts belong to, else $RFMSEG_ROOT/bin (set by the rfmseg module), else the
# rfmseg on PATH. (When none has one, the repository's build/src: the caller's check names it.)
launch_installed() { [[ ! -f $1/CMakeLists.txt && $1 -ef $1/../../share/rfmseg ]]; }
launch_bin_dir() {
  local found
  if [[ -n ${RFMSEG_BIN:-} ]]; then echo "$RFMSEG_BIN"; return; fi
  if [[ -x $1/build/src/rfmseg ]]; then echo "$1/build/src"; return; fi
  if launch_installed "$1" && [[ -x $1/../../bin/rfmseg ]]; then (cd "$1/../../bin" && pwd); return; fi
  if [[ -n ${RFMSEG_ROOT:-} && -x $RFMSEG_ROOT/bin/rfmseg ]]; then echo "$RFMSEG_ROOT/bin"; return; fi
  if found=$(command -v rfmseg 2>/dev/null); then dirname "$found"; return; fi
  echo "$1/build/src"
}
# data/ and results/ live in the repository; an installation's share/ is read-only: there they are
# in the directory the job was submitted from.
launch_data_home() {
  if launch_installed "$1"; then echo "${SLURM_SUBMIT_DIR:-$PWD}"; else echo "$1"; fi
}

LAUNCHER=""
_launch_kind=""
_launch_plugin=""

_launch_srun_plugin() {
  if [[ -n ${RFMSEG_SRUN_MPI:-} ]]; then echo "$RFMSEG_SRUN_MPI"; return; fi
  if grep -qw pmix <<<"$(srun --mpi=list 2>&1)"; then echo pmix; else echo pmi2; fi
}

# srun starts MPI when all tasks join one MPI job: `EXE --version` then prints its report once
# (rank 0 only; one "rfmseg X.Y.Z" line); tasks that came up as singletons would print one each, a
# wrong plugin fails (or hangs in) MPI_Init.
_launch_srun_works() {  # $1: plugin, $2: executable
  local out
  out=$(timeout -k 10 "${RFMSEG_PROBE_TIMEOUT:-60}" srun --mpi="$1" --kill-on-bad-exit=1 "$2" --version 2>/dev/null) \
    || return 1
  [[ $(grep -c '^rfmseg ' <<<"$out") -eq 1 ]]
}

launch_choose() {  # $1: an MPI executable that understands --version
  local want=${RFMSEG_LAUNCHER:-auto}
  case $want in auto|srun|mpirun) ;; *) echo "RFMSEG_LAUNCHER must be auto, srun or mpirun, not '$want'" >&2; return 1 ;; esac
  if [[ $want != mpirun && -n ${SLURM_JOB_ID:-} ]] && command -v srun >/dev/null; then
    _launch_plugin=$(_launch_srun_plugin)
    if [[ $want == srun ]] || _launch_srun_works "$_launch_plugin" "$1"; then
      _launch_kind=srun
      LAUNCHER="srun --mpi=$_launch_plugin"
      return 0
    fi
    echo "srun --mpi=$_launch_plugin cannot start MPI here: falling back to mpirun" >&2
  fi
  command -v mpirun >/dev/null || { echo "neither srun nor mpirun can start MPI programs" >&2; return 1; }
  _launch_kind=mpirun
  LAUNCHER="mpirun${RFMSEG_MPIRUN_ARGS:+ $RFMSEG_MPIRUN_ARGS}"
}

# Nodes a run of N ranks uses when whole nodes are filled first.
launch_nodes() {  # $1: ranks
  local nodes=${SLURM_JOB_NUM_NODES:-1} total=${SLURM_NTASKS:-$1} per
  per=$(((total + nodes - 1) / nodes))
  ((per > 0)) || per=1
  local need=$((($1 + per - 1) / per))
  ((need < nodes)) && echo "$need" || echo "$nodes"
}

# Stop signals: SIGTERM, SIGINT or SIGUSR1 to the shell running `launch` (Slurm's
# --signal=B:USR1@margin, scancel --batch, an operator) are passed on to the launcher as SIGUSR1,
# which both srun and mpirun forward to every rank; rfmseg then stops cleanly with status 4
# (resumable). SIGUSR1 because Open MPI's mpirun kills its ranks one second after a SIGTERM or
# SIGINT of its own. A second signal is passed on too (rfmseg then ends at once).
_launch_child=""
_launch_trapped=0
_launch_forward() {  # $1: the signal received
  _launch_trapped=1
  [[ -n $_launch_child ]] || return 0
  echo "launch: SIG$1 received: asking rfmseg to stop (SIGUSR1 to $_launch_kind)" >&2
  kill -USR1 "$_launch_child" 2>/dev/null || true
}

# A lost host and the watchdog. A rank that waited longer than --collective-timeout prints one
# line and calls MPI_Abort; the launcher should then end the job within a second or two. mpirun
# cannot when a host is unreachable: its kill order to that host's daemon waits in a TCP send queue
# until the kernel gives up retransmitting (net.ipv4.tcp_retries2: ~15 minutes by default), and it
# ignores SIGTERM meanwhile. So the launcher's stderr passes through a filter that notes the first
# watchdog line, and a guard ends the launcher (and whatever it started on this host) when it is
# still running RFMSEG_ABORT_GRACE seconds later; `launch` then returns the watchdog's status 3.
_launch_watchdog_re="^\[rank [0-9]+\] rfmseg: fatal: .* in phase '[^']*' waited .*--collective-timeout "
_launch_failed_re="^srun: error: (Task launch for .* failed|.*aborted before step completely launched|Application launch failed|task [0-9]+ launch failed|timeout waiting for task launch|Unable to create step)"
_launch_filter() {  # $1: file for the first watchdog line. stdin -> stderr, line by line.
  trap '' TERM INT USR1 HUP   # the job's signals are for rfmseg; the filter must outlive it
  echo "$BASHPID" >"$1.pid"    # (a child of the launcher: the guard must spare it)
  local line seen=0 failed=0
  while IFS= read -r line || [[ -n $line ]]; do
    printf '%s\n' "$line" >&2
    if ((!seen)) && [[ $line =~ $_launch_watchdog_re ]]; then
      printf '%s\n' "$line" >"$1.tmp" && mv -f "$1.tmp" "$1"
      seen=1
    fi
    if ((!failed)) && [[ $line =~ $_launch_failed_re ]]; then
      printf '%s\n' "$line" >"$1.launch"
      failed=1
    fi
  done
}
# The process $1 and all its descendants (children first read from /proc, before any is killed).
_launch_tree() {
  local pid kids
  for pid in "$@"; do
    echo "$pid"
    kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+$' || true)
    # shellcheck disable=SC2086  # a list of pids
    [[ -n $kids ]] && _launch_tree $kids
  done
}
_launch_guard() {  # $1: launcher pid, $2: watchdog-line file, $3: grace seconds
  trap '' INT USR1   # (Ctrl-C and scancel --signal=USR1 reach every process of the job)
  local pid=$1 file=$2 grace=$3 waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [[ -s $file ]]; then
      # Ticks of 0.2 s: the launcher normally ends within a second of the abort.
      while kill -0 "$pid" 2>/dev/null && ((waited < grace * 5)); do sleep 0.2; waited=$((waited + 1)); done
      kill -0 "$pid" 2>/dev/null || return 0
      local -a tree
      mapfile -t tree < <(_launch_tree "$pid" | grep -vxF "$(cat "$file.pid" 2>/dev/null || echo none)")
      echo "launch: $_launch_kind still runs ${grace} s after a rank's watchdog abort (a host is unreachable):" \
           "killing it and its processes here (${#tree[@]}: ${tree[*]}); exit status 3" >&2
      : >"$file.killed"
      kill -KILL "${tree[@]}" 2>/dev/null || true
      return 0
    fi
    sleep 0.5
  done
}

LAUNCH_ABORT=""
LAUNCH_FAILED=""
launch() {  # $1: ranks, rest: command. Returns the command's exit status.
  local n=$1; shift
  local grace=${RFMSEG_ABORT_GRACE:-10}
  [[ $grace =~ ^[0-9]+$ ]] || { echo "RFMSEG_ABORT_GRACE must be a whole number of seconds, not '$grace'" >&2; return 1; }
  local watch
  watch=$(mktemp -d "${TMPDIR:-/tmp}/rfmseg-launch.XXXXXX") || return 1
  LAUNCH_ABORT="" LAUNCH_FAILED=""
  trap '_launch_forward TERM' TERM
  trap '_launch_forward INT' INT
  trap '_launch_forward USR1' USR1
  if [[ $_launch_kind == srun ]]; then
    srun --mpi="$_launch_plugin" --kill-on-bad-exit=1 --ntasks="$n" --nodes="$(launch_nodes "$n")" "$@" \
      2> >(_launch_filter "$watch/abort") &
  else
    # shellcheck disable=SC2086  # the extra options are meant to be split
    mpirun -np "$n" ${RFMSEG_MPIRUN_ARGS:-} "$@" 2> >(_launch_filter "$watch/abort") &
  fi
  _launch_child=$!
  _launch_guard "$_launch_child" "$watch/abort" "$grace" &
  local guard=$!
  # `wait` returns early (status > 128) when a trapped signal arrives: wait again until the
  # launcher itself has ended (127: its status was already collected).
  local status=0 got
  while :; do
    _launch_trapped=0
    wait "$_launch_child"; got=$?
    ((got == 127)) && break
    status=$got
    ((_launch_trapped && got > 128)) && continue
    break
  done
  kill "$guard" 2>/dev/null
  wait "$guard" 2>/dev/null
  [[ -s $watch/abort ]] && LAUNCH_ABORT=$(<"$watch/abort")
  # The filter ends once the launcher's stderr is closed (by the launcher and whatever it left).
  local t filter
  filter=$(cat "$watch/abort.pid" 2>/dev/null)
  for ((t = 0; t < 20; t++)); do
    if [[ -z $filter ]] || ! kill -0 "$filter" 2>/dev/null; then break; fi
    sleep 0.1
  done
  [[ -s $watch/abort.launch ]] && LAUNCH_FAILED=$(<"$watch/abort.launch")
  # Killed by the guard: the job ended because of the watchdog, whose status it reports.
  [[ -e $watch/abort.killed ]] && status=3
  rm -rf "$watch"
  _launch_child=""
  trap - TERM INT USR1
  return "$status"
}
