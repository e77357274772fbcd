#!/usr/bin/env bash
# A private Slurm cluster on localhost (Debian's slurm-wlm + munge; one node, or several emulated
# on this host), for the tests and for trying the job scripts in jobs/ without a real cluster.
#
#   scripts/slurm-local.sh start [DIR]     install what is missing, write a config into DIR (default:
#                                          a new temporary directory), start munged, slurmctld and
#                                          slurmd, wait until the node is idle, then print on stdout
#                                            export SLURM_CONF=DIR/slurm.conf
#                                            export SLURM_LOCAL_DIR=DIR
#                                          (use: eval "$(scripts/slurm-local.sh start)")
#   scripts/slurm-local.sh stop [--purge] [DIR]
#                                          cancel the cluster's jobs, stop its daemons (only those,
#                                          by pid) and wait until they are gone; --purge also
#                                          removes DIR (logs included)
#   scripts/slurm-local.sh status [DIR]    daemons, pids and sinfo; exit 0 when all of them run
#   scripts/slurm-local.sh install         only install the packages (exit 1 when impossible)
#
# DIR defaults to $SLURM_LOCAL_DIR, else the directory of $SLURM_CONF when that is one of ours.
# Environment: SLURM_LOCAL_CPUS (CPUs each node declares, default 4: more than the machine has is
# fine, config_overrides is set), SLURM_LOCAL_NODES (default 1; N > 1 runs N slurmd on this host as
# nodes n1..nN, each with its own port, to try multi-node jobs: there, mpirun needs
# "--mca btl self,tcp" and srun --mpi=pmix does not start MPI), SLURM_LOCAL_PORT (slurmctld's
# port; the slurmd ports follow it; default: free ports picked at random in 20000-39999),
# SLURM_LOCAL_NETNS (network namespaces, e.g. "rfmseg-h1 rfmseg-h2" from scripts/netns-hosts.sh:
# one node per namespace, named like it, at its eth0 address, its slurmd running inside it;
# slurmctld runs inside the first. Ranks of different nodes then really talk over the namespaces'
# links, which a test can cut. Clients must run inside one of them too:
# `nsenter --net=/run/netns/rfmseg-h1 sbatch ...` (nsenter, not `ip netns exec`, which remounts
# /sys, where slurmd looks for its cgroup file system); stop and status do that themselves. Needs root.)
#
# Nothing outside DIR is written (besides package installation): own munge key and socket, own
# ports, state, spool, pid and log files. proctrack/linuxproc, task/none, no accounting, no
# cgroups, no systemd. Daemons run as the calling user (root in CI and containers).
set -euo pipefail

SLURM_LOCAL_PACKAGES=(slurmctld slurmd slurm-client munge)

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

# Pid files of the cluster's daemons, in the order they are stopped: slurmd (one per node) before
# slurmctld before munged, since each needs the next while shutting down.
pid_files() {  # $1: DIR
  local f
  for f in "$1"/run/slurmd-*.pid; do [[ -e $f ]] && echo "$f"; done
  echo "$1/run/slurmctld.pid"
  echo "$1/munge/munged.pid"
}
pid_file() {  # $1: daemon (munged, slurmctld), $2: DIR
  case $1 in
    munged) echo "$2/munge/munged.pid" ;;
    *) echo "$2/run/$1.pid" ;;
  esac
}

# Namespaces of the cluster in DIR (SLURM_LOCAL_NETNS at its start), one per line; none: nothing.
cluster_netns() { [[ -s $1/netns ]] && cat "$1/netns"; return 0; }
# Runs a client command where slurmctld can be reached: inside the first namespace, if any.
client() {  # $1: DIR, rest: command
  local dir=$1 ns; shift
  ns=$(cluster_netns "$dir" | head -n 1)
  if [[ -n $ns ]]; then nsenter --net="/run/netns/$ns" "$@"; else "$@"; fi
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
  mkdir -p "$dir"/{run,log,state,spool,tmp}
  mkdir -p "$dir/munge" "$dir/munge-key"
  chmod 755 "$dir/munge"; chmod 700 "$dir/munge-key"

  local sock=$dir/munge/munge.socket.2
  ((${#sock} < 100)) || die "path too long for a unix socket: $sock (use a shorter DIR)"

  local user host cpus port nnodes i
  user=$(id -un)
  host=$(hostname -s 2>/dev/null || echo localhost)
  [[ $host =~ ^[A-Za-z0-9][A-Za-z0-9-]*$ ]] || host=localhost
  cpus=${SLURM_LOCAL_CPUS:-4}
  nnodes=${SLURM_LOCAL_NODES:-1}
  [[ $cpus =~ ^[1-9][0-9]*$ ]] || die "SLURM_LOCAL_CPUS must be a positive number"
  [[ $nnodes =~ ^[1-9][0-9]?$ ]] || die "SLURM_LOCAL_NODES must be 1-99"
  # Node names: this host's name for a single node, n1..nN for several on this host.
  local nodes=() netns=() addrs=() ctl_addr=127.0.0.1 ns
  read -r -a netns <<<"${SLURM_LOCAL_NETNS:-}"
  if ((${#netns[@]})); then
    [[ $(id -u) -eq 0 ]] || die "SLURM_LOCAL_NETNS needs root (nsenter)"
    for ns in "${netns[@]}"; do
      [[ -e /run/netns/$ns ]] || die "no network namespace $ns (scripts/netns-hosts.sh up N)"
      addrs+=("$(ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')")
      [[ -n ${addrs[-1]} ]] || die "namespace $ns has no IPv4 address on eth0"
    done
    nodes=("${netns[@]}")
    nnodes=${#nodes[@]}
    ctl_addr=${addrs[0]}
  elif ((nnodes == 1)); then nodes=("$host"); else for ((i = 1; i <= nnodes; i++)); do nodes+=("n$i"); done; fi
  # Ports: slurmctld's, then one per slurmd.
  if [[ -n ${SLURM_LOCAL_PORT:-} ]]; then
    port=$SLURM_LOCAL_PORT
  else
    local tries=0 busy
    while :; do
      port=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
      busy=0
      for ((i = 0; i <= nnodes; i++)); do port_in_use $((port + i)) && busy=1; done
      ((busy)) || break
      ((++tries < 50)) || die "no free ports found"
    done
  fi

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
SlurmctldHost=$host($ctl_addr)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
PlugStackConfig=$dir/plugstack.conf
# Per node, inside DIR: srun --mpi=pmix puts its spmix_appdir_<uid>_<job>.<step> there, and job ids
# restart at 1 in every new cluster (and two nodes on one host must not share it).
TmpFS=$dir/tmp/%n
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
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=600
EOF
  for ((i = 0; i < nnodes; i++)); do
    echo "NodeName=${nodes[i]} NodeAddr=${addrs[i]:-127.0.0.1} NodeHostname=$host Port=$((port + 1 + i)) CPUs=$cpus State=UNKNOWN"
  done >>"$dir/slurm.conf"
  printf '%s\n' "${netns[@]}" | sed '/^$/d' >"$dir/netns"
  echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP" >>"$dir/slurm.conf"
  cat >"$dir/cluster.env" <<EOF
SLURM_LOCAL_NODES=${nodes[*]}
SLURM_LOCAL_CPUS=$cpus
SLURM_LOCAL_PORTS=$port-$((port + nnodes))
EOF
  export SLURM_CONF=$dir/slurm.conf

  munged --socket="$sock" --key-file="$dir/munge-key/munge.key" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    </dev/null >>"$dir/log/munged.out" 2>&1 || { tail -n 5 "$dir/log/munged.log" >&2; die "munged did not start"; }
  wait_for 10 munge -S "$sock" -n || die "munged does not answer on $sock (see $dir/log/munged.log)"

  local in_ns=()
  ((${#netns[@]})) && in_ns=(nsenter --net="/run/netns/${netns[0]}")
  "${in_ns[@]}" slurmctld -f "$dir/slurm.conf" </dev/null >>"$dir/log/slurmctld.out" 2>&1 \
    || { tail -n 5 "$dir/log/slurmctld.log" >&2 2>/dev/null; die "slurmctld did not start"; }
  local node
  for ((i = 0; i < nnodes; i++)); do
    node=${nodes[i]}
    in_ns=()
    ((${#netns[@]})) && in_ns=(nsenter --net="/run/netns/${netns[i]}")
    mkdir -p "$dir/tmp/$node" && chmod 1777 "$dir/tmp/$node"
    mkdir -p "$dir/spool/slurmd-$node"
    "${in_ns[@]}" slurmd -f "$dir/slurm.conf" -N "$node" </dev/null >>"$dir/log/slurmd-$node.out" 2>&1 || {
      tail -n 5 "$dir/log/slurmd-$node.log" >&2 2>/dev/null
      cmd_stop "$dir" >/dev/null 2>&1 || true
      die "slurmd ($node) did not start"
    }
  done

  nodes_idle() { [[ $(client "$dir" sinfo -h -N -o %T 2>/dev/null | grep -c '^idle') -eq $nnodes ]]; }
  if ! wait_for 30 nodes_idle; then
    log "the nodes did not become idle within 30 s: $(client "$dir" sinfo -h -N -o '%N %T %E' 2>&1 | head -n 5)"
    tail -n 5 "$dir"/log/*.log >&2 2>/dev/null || true
    cmd_stop "$dir" >/dev/null 2>&1 || true
    exit 1
  fi
  log "cluster up in $((SECONDS - t0)) s: node(s) ${nodes[*]} ($cpus CPUs each), ports $port-$((port + nnodes)), dir $dir"
  printf 'export SLURM_CONF=%q\nexport SLURM_LOCAL_DIR=%q\n' "$dir/slurm.conf" "$dir"
}

# --- stop -----------------------------------------------------------------------------------------
cmd_stop() {
  # Finish even when whoever reads our messages has gone away.
  trap '' PIPE
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
  if our_pid "$(pid_file slurmctld "$dir")" "$dir" >/dev/null; then
    local jobs=()
    mapfile -t jobs < <(client "$dir" squeue -h -o %i 2>/dev/null)
    if ((${#jobs[@]})); then
      client "$dir" scancel --full --quiet "${jobs[@]}" 2>/dev/null || true
      local ns1
      ns1=$(cluster_netns "$dir" | head -n 1)
      # shellcheck disable=SC2016  # $1 belongs to the inner shell
      wait_for 15 bash -c '[[ -z $(${1:+nsenter --net=/run/netns/"$1"} squeue -h -t PD,R,CG,CF,S -o %i 2>/dev/null) ]]' sh "$ns1" \
        || log "jobs still listed after 15 s"
    fi
  fi
  # Step daemons of this cluster log into our slurmd logs: find them by that open file.
  local stepds=() p fd
  for p in $(grep -lsx slurmstepd /proc/[0-9]*/comm); do
    p=${p%/comm}
    for fd in "$p"/fd/*; do
      if [[ $(readlink "$fd" 2>/dev/null) == "$dir/"* ]]; then stepds+=("${p#/proc/}"); break; fi
    done
  done

  local pids=() file pid
  for file in $(pid_files "$dir"); do
    if pid=$(our_pid "$file" "$dir"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      local deadline=$((SECONDS + 15))
      while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
      if alive "$pid"; then
        log "$(basename "$file" .pid) ($pid) still alive after 15 s: SIGKILL"
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
  local dir rc=0 file name pid
  dir=$(resolve_dir "${1:-}")
  for file in $(pid_files "$dir" | tac); do
    name=$(basename "$file" .pid)
    if pid=$(our_pid "$file" "$dir"); then
      printf '%-14s running (pid %s)\n' "$name" "$pid"
    else
      printf '%-14s stopped\n' "$name"; rc=3
    fi
  done
  if ! compgen -G "$dir/run/slurmd-*.pid" >/dev/null; then
    printf '%-14s stopped\n' slurmd; rc=3
  fi
  echo "dir: $dir"
  echo "export SLURM_CONF=$dir/slurm.conf"
  if ((rc == 0)); then
    SLURM_CONF=$dir/slurm.conf client "$dir" sinfo -N -o '%P %a %N %T %C' 2>&1 || rc=3
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
