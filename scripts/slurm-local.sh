#!/usr/bin/env bash
# A private single-node Slurm cluster on localhost (Debian's slurm-wlm + munge), for the tests and
# for trying the job scripts in jobs/ without a real cluster.
#
#   scripts/slurm-local.sh start [DIR]     install what is missing, write a config into DIR (default:
#                                          a new temporary directory), start munged, slurmctld and
#                                          slurmd, wait until the node is idle, then print on stdout
#                                            export SLURM_CONF=DIR/slurm.conf
#                                            export SLURM_LOCAL_DIR=DIR
#                                          (use: eval "$(scripts/slurm-local.sh start)")
#   scripts/slurm-local.sh stop [--purge] [DIR]
#                                          cancel the cluster's jobs, stop its three daemons (only
#                                          those, by pid) and wait until they are gone; --purge also
#                                          removes DIR (logs included)
#   scripts/slurm-local.sh status [DIR]    daemons, pids and sinfo; exit 0 when all three run
#   scripts/slurm-local.sh install         only install the packages (exit 1 when impossible)
#
# DIR defaults to $SLURM_LOCAL_DIR, else the directory of $SLURM_CONF when that is one of ours.
# Environment: SLURM_LOCAL_CPUS (CPUs the node declares, default 4: more than the machine has is
# fine, config_overrides is set), SLURM_LOCAL_PORT (slurmctld port; slurmd uses the next one;
# default: a free pair picked at random in 20000-39999).
#
# Nothing outside DIR is written (besides package installation): own munge key and socket, own
# ports, state, spool, pid and log files. proctrack/linuxproc, task/none, no accounting, no
# cgroups, no systemd. Daemons run as the calling user (root in CI and containers).
set -euo pipefail

SLURM_LOCAL_PACKAGES=(slurmctld slurmd slurm-client munge)
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'slurm-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- packages -------------------------------------------------------------------------------------
install_packages() {
  local missing=() pkg
  for pkg in "${SLURM_LOCAL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || { log "missing ${missing[*]} and no apt-get"; return 1; }
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo -n true 2>/dev/null || { log "missing ${missing[*]}; not root and no password-less sudo"; return 1; }
    sudo=(sudo -n)
  fi
  log "installing ${missing[*]}"
  # Where the packages start the system's own munge/slurm services, those are left alone: this
  # cluster uses its own key, socket, ports and directories, so they do not collide.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || true
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || { log "apt-get install ${missing[*]} failed"; return 1; }
}

# --- helpers --------------------------------------------------------------------------------------
resolve_dir() {  # $1: explicit DIR or empty
  local dir=${1:-${SLURM_LOCAL_DIR:-}}
  if [[ -z $dir && -n ${SLURM_CONF:-} ]]; then
    dir=$(dirname "$SLURM_CONF")
  fi
  [[ -n $dir ]] || die "no cluster directory given (argument, \$SLURM_LOCAL_DIR or \$SLURM_CONF)"
  [[ -f $dir/.slurm-local ]] || die "$dir is not a directory made by slurm-local.sh"
  (cd "$dir" && pwd)
}

# A process is alive while one of its threads is not a zombie (the main thread of a stopping daemon
# can exit before the others; an exited but unreaped process keeps one zombie task).
alive() {
  local pid=$1 t state
  [[ -d /proc/$pid/task ]] || return 1
  for t in /proc/"$pid"/task/*; do
    state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "$t/stat" 2>/dev/null) || continue
    [[ -n $state && $state != Z && $state != X ]] && return 0
  done
  return 1
}

# The pid in a pid file, if that process is alive and is ours: its command line names our DIR.
our_pid() {  # $1: pid file, $2: DIR
  local pid
  [[ -s $1 ]] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [[ -n $pid ]] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2/" || return 1
  echo "$pid"
}

port_in_use() {
  if command -v ss >/dev/null; then
    [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]] && return 0
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for() {  # $1: seconds, $2...: command that succeeds when ready
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

daemon_names=(slurmd slurmctld munged)
pid_file() {  # $1: daemon, $2: DIR
  case $1 in
    munged) echo "$2/munge/munged.pid" ;;
    *) echo "$2/run/$1.pid" ;;
  esac
}

# --- start ----------------------------------------------------------------------------------------
cmd_start() {
  local dir=${1:-}
  install_packages || die "Slurm packages (${SLURM_LOCAL_PACKAGES[*]}) are not installed and cannot be installed"
  local t0=$SECONDS
  if [[ -z $dir ]]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/rfmseg-slurm.XXXXXX")
  else
    mkdir -p "$dir"
    [[ -z $(ls -A "$dir") || -f $dir/.slurm-local ]] || die "$dir exists and is not empty"
    [[ -f $dir/.slurm-local ]] && our_pid "$(pid_file slurmctld "$dir")" "$dir" >/dev/null \
      && die "a cluster already runs in $dir (stop it first)"
  fi
  dir=$(cd "$dir" && pwd)
  # munged refuses a socket below a directory that is not searchable by all.
  chmod 755 "$dir"
  touch "$dir/.slurm-local"
  mkdir -p "$dir"/{run,log,state,spool}
  mkdir -p -m 755 "$dir/munge"
  mkdir -p -m 700 "$dir/munge-key"
  chmod 755 "$dir/munge"; chmod 700 "$dir/munge-key"

  local sock=$dir/munge/munge.socket.2
  ((${#sock} < 100)) || die "path too long for a unix socket: $sock (use a shorter DIR)"

  local user host cpus port sport
  user=$(id -un)
  host=$(hostname -s 2>/dev/null || echo localhost)
  [[ $host =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ ]] || host=localhost
  cpus=${SLURM_LOCAL_CPUS:-4}
  if [[ -n ${SLURM_LOCAL_PORT:-} ]]; then
    port=$SLURM_LOCAL_PORT
  else
    local tries=0
    while :; do
      port=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
      port_in_use "$port" || port_in_use $((port + 1)) || break
      ((++tries < 50)) || die "no free port pair found"
    done
  fi
  sport=$((port + 1))

  # Key: 1 KiB of randomness, 400 in a 700 directory.
  if [[ ! -s $dir/munge-key/munge.key ]]; then
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile="$dir/munge-key/munge.key" >/dev/null 2>&1 \
        || head -c 1024 /dev/urandom >"$dir/munge-key/munge.key"
    else
      head -c 1024 /dev/urandom >"$dir/munge-key/munge.key"
    fi
  fi
  chmod 400 "$dir/munge-key/munge.key"

  : >"$dir/plugstack.conf"
  cat >"$dir/slurm.conf" <<EOF
# Generated by scripts/slurm-local.sh: a private single-node cluster in $dir.
ClusterName=rfmseg-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$port
SlurmdPort=$sport
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
ScronParameters=enable
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$dir/cluster.env" <<EOF
SLURM_LOCAL_NODE=$host
SLURM_LOCAL_CPUS=$cpus
SLURM_LOCAL_PORTS=$port,$sport
EOF
  export SLURM_CONF=$dir/slurm.conf

  munged --socket="$sock" --key-file="$dir/munge-key/munge.key" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    </dev/null >>"$dir/log/munged.out" 2>&1 || { tail -n 5 "$dir/log/munged.log" >&2; die "munged did not start"; }
  wait_for 10 munge -S "$sock" -n || die "munged does not answer on $sock (see $dir/log/munged.log)"

  slurmctld -f "$dir/slurm.conf" </dev/null >>"$dir/log/slurmctld.out" 2>&1 \
    || { tail -n 5 "$dir/log/slurmctld.log" >&2 2>/dev/null; die "slurmctld did not start"; }
  slurmd -f "$dir/slurm.conf" -N "$host" </dev/null >>"$dir/log/slurmd.out" 2>&1 \
    || { tail -n 5 "$dir/log/slurmd.log" >&2 2>/dev/null; die "slurmd did not start"; }

  node_idle() { [[ $(sinfo -h -n "$host" -o %T 2>/dev/null) == idle* ]]; }
  if ! wait_for 30 node_idle; then
    log "node did not become idle within 30 s: $(sinfo -h -o '%N %T %E' 2>&1 | head -n 3)"
    tail -n 5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 2>/dev/null || true
    cmd_stop "$dir" >/dev/null 2>&1 || true
    exit 1
  fi
  log "cluster up in $((SECONDS - t0)) s: node $host ($cpus CPUs), ports $port/$sport, dir $dir"
  printf 'export SLURM_CONF=%q\nexport SLURM_LOCAL_DIR=%q\n' "$dir/slurm.conf" "$dir"
}

# --- stop -----------------------------------------------------------------------------------------
cmd_stop() {
  local purge=0 arg dir_arg=""
  for arg in "$@"; do
    case $arg in
      --purge) purge=1 ;;
      *) dir_arg=$arg ;;
    esac
  done
  local dir
  dir=$(resolve_dir "$dir_arg")
  export SLURM_CONF=$dir/slurm.conf

  # Jobs first, while the controller still runs, so that no slurmstepd or job outlives the cluster.
  local ctld
  if ctld=$(our_pid "$(pid_file slurmctld "$dir")" "$dir"); then
    if [[ -n $(squeue -h -o %i 2>/dev/null) ]]; then
      scancel --full --quiet $(squeue -h -o %i 2>/dev/null) 2>/dev/null || true
      wait_for 15 bash -c '[[ -z $(squeue -h -t PD,R,CG,CF,S -o %i 2>/dev/null) ]]' || log "jobs still listed after 15 s"
    fi
  fi
  # Step daemons of this cluster log into our slurmd log: find them by that open file.
  local stepds=() p
  for p in /proc/[0-9]*; do
    [[ $(cat "$p/comm" 2>/dev/null) == slurmstepd ]] || continue
    if ls -l "$p/fd" 2>/dev/null | grep -qF -- "$dir/"; then stepds+=("${p#/proc/}"); fi
  done

  local pids=() name pid
  for name in "${daemon_names[@]}"; do
    if pid=$(our_pid "$(pid_file "$name" "$dir")" "$dir"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      # slurmd before slurmctld before munged: each needs the next while shutting down.
      local deadline=$((SECONDS + 15))
      while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
      if alive "$pid"; then
        log "$name ($pid) still alive after 15 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  done
  for pid in "${stepds[@]}"; do
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 10))
  for pid in "${pids[@]}" "${stepds[@]}"; do
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    alive "$pid" && die "process $pid is still alive"
  done
  rm -f "$dir"/run/*.pid "$dir/munge/munged.pid"
  if ((purge)); then
    rm -rf -- "$dir"
    log "stopped and removed $dir"
  else
    log "stopped (${#pids[@]} daemons); logs in $dir/log"
  fi
}

# --- status ---------------------------------------------------------------------------------------
cmd_status() {
  local dir rc=0 name pid
  dir=$(resolve_dir "${1:-}")
  for name in munged slurmctld slurmd; do
    if pid=$(our_pid "$(pid_file "$name" "$dir")" "$dir"); then
      printf '%-10s running (pid %s)\n' "$name" "$pid"
    else
      printf '%-10s stopped\n' "$name"; rc=3
    fi
  done
  echo "dir: $dir"
  echo "export SLURM_CONF=$dir/slurm.conf"
  if ((rc == 0)); then
    SLURM_CONF=$dir/slurm.conf sinfo -o '%P %a %D %T %C %N' 2>&1 || rc=3
  fi
  return "$rc"
}

case ${1:-} in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  install) install_packages ;;
  -h|--help|help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
