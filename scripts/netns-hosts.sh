#!/usr/bin/env bash
# Test "hosts" on one machine: Linux network namespaces joined by a bridge, so that MPI ranks on
# different hosts really talk TCP through a link that a test can cut.
#
#   scripts/netns-hosts.sh up N           hosts rfmseg-h1..rfmseg-hN (N = 1..20)
#   scripts/netns-hosts.sh down           remove exactly what `up` created (idempotent)
#   scripts/netns-hosts.sh status         what is up: each host's address, link state, processes
#                                         (exit status 3 when nothing is up)
#   scripts/netns-hosts.sh link HOST down|up   cut (or mend) HOST's cable to the bridge
#   scripts/netns-hosts.sh exec HOST CMD [ARGS...]   run CMD inside HOST (argument vector kept)
#   scripts/netns-hosts.sh bytes HOST     bytes that crossed HOST's cable so far (both directions)
#   scripts/netns-hosts.sh check          exit 0 when this machine can create namespaces
#                                         (root, iproute2, veth and bridge devices), else say why
#
# The layout (all of it inside namespaces: the machine's own network is not touched):
#
#   namespace rfmseg-sw (the "switch"):  bridge br0, ports h1..hN (veth)
#   namespace rfmseg-hI (host I):        eth0 = the other end of hI, 10.213.0.I/24; lo up
#
# 10.213.0.0/24 belongs to this script; `up` refuses to start when the machine already has an
# address or a route inside it. Open MPI across the hosts (scripts/netns-rsh is the rsh agent;
# mpirun runs inside rfmseg-h1 like on the first node of an allocation):
#
#   scripts/netns-hosts.sh exec rfmseg-h1 mpirun --mca plm_rsh_agent "$PWD/scripts/netns-rsh" \
#     --host rfmseg-h1:2,rfmseg-h2:2 --mca btl self,tcp \
#     --mca btl_tcp_if_include 10.213.0.0/24 --mca oob_tcp_if_include 10.213.0.0/24 -np 4 ...
#
# (self,tcp: no shared memory, so even ranks on one host talk TCP. Add --mca mpi_yield_when_idle 1
# when the hosts together have more ranks than the machine has cores: mpirun cannot know.)
#
# `up` records every object in the state file (/run/rfmseg-netns/state) before creating it, so
# `down` also cleans up after an `up` that failed half-way. `down` first kills the processes
# still running inside the namespaces (an MPI daemon cut off from its mpirun can outlive the job);
# there are only ever processes the tests started there. Needs root.
set -eEuo pipefail   # -E: the ERR trap of `up` also fires inside the functions it calls

PREFIX=rfmseg
SWITCH=$PREFIX-sw
NET=10.213.0              # the /24 this script owns
CIDR=$NET.0/24
MAX_HOSTS=20
STATE_DIR=/run/$PREFIX-netns
STATE=$STATE_DIR/state

die() { printf 'netns-hosts: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'netns-hosts: %s\n' "$*" >&2; }

usage() {
  sed -n '5,14s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

# Why this machine cannot run the test hosts, or nothing.
why_not() {
  if [[ $(id -u) -ne 0 ]]; then echo "needs root (network namespaces)"; return; fi
  command -v ip >/dev/null || { echo "no 'ip' command (apt-get install iproute2)"; return; }
  command -v unshare >/dev/null || { echo "no 'unshare' command (util-linux)"; return; }
  # A throw-away namespace with a veth pair and a bridge: exactly what `up` needs. Containers
  # without CAP_SYS_ADMIN/CAP_NET_ADMIN fail here.
  local probe=$PREFIX-probe-$$ err
  if ! err=$(ip netns add "$probe" 2>&1); then
    echo "cannot create a network namespace: $err"; return
  fi
  if ! err=$({ ip -n "$probe" link add p0 type veth peer name p1 &&
               ip -n "$probe" link add b0 type bridge; } 2>&1); then
    ip netns delete "$probe" 2>/dev/null || true
    echo "cannot create veth/bridge devices in a namespace: $err"; return
  fi
  if ! err=$(ip netns exec "$probe" unshare --uts true 2>&1); then
    ip netns delete "$probe" 2>/dev/null || true
    echo "cannot run commands in a namespace: $err"; return
  fi
  ip netns delete "$probe"
}

require_root() { [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces)"; }

# Host names from the state file, in order.
hosts() { [[ -r $STATE ]] && sed -n 's/^host \([^ ]*\) .*/\1/p' "$STATE"; return 0; }

cmd_up() {
  local n=${1:-}
  if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > MAX_HOSTS)); then
    die "up needs a host count 1..$MAX_HOSTS, not '$n'"
  fi
  local reason
  reason=$(why_not)
  [[ -z $reason ]] || die "$reason"
  [[ ! -e $STATE ]] || die "test hosts are already up ($STATE): run '$0 down' first"
  # The range must be free here, or traffic meant for a test host could go elsewhere (and a
  # VPN or a site network using 10.213.0.0/24 would be shadowed inside the tests' reasoning).
  local used
  used=$({ ip -4 -o addr show to "$CIDR"; ip -4 route show table all root "$CIDR"; } 2>/dev/null)
  [[ -z $used ]] || die "$CIDR is already in use on this machine:"$'\n'"$used"
  local ns i
  for ns in "$SWITCH" $(seq -f "$PREFIX-h%g" 1 "$n"); do
    [[ ! -e /run/netns/$ns ]] || die "a network namespace $ns exists but is not recorded in $STATE (delete it: ip netns delete $ns)"
  done

  mkdir -p "$STATE_DIR"
  echo "# created by $0 up $n on $(date -Is); '$0 down' removes it" >"$STATE"
  # On any failure from here on, undo what is recorded so far.
  trap 'say "up failed: removing what was created"; cmd_down >/dev/null 2>&1 || true' ERR

  echo "ns $SWITCH" >>"$STATE"
  ip netns add "$SWITCH"
  ip -n "$SWITCH" link set lo up
  ip -n "$SWITCH" link add br0 type bridge
  ip -n "$SWITCH" link set br0 up
  for ((i = 1; i <= n; i++)); do
    ns=$PREFIX-h$i
    echo "host $ns $NET.$i" >>"$STATE"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # One cable: hI on the switch, eth0 in the host.
    ip -n "$SWITCH" link add "h$i" type veth peer name eth0 netns "$ns"
    ip -n "$SWITCH" link set "h$i" master br0
    ip -n "$SWITCH" link set "h$i" up
    ip -n "$ns" addr add "$NET.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  trap - ERR
  say "up: $n host(s) $PREFIX-h1..$PREFIX-h$n on $CIDR (bridge br0 in namespace $SWITCH; state $STATE)"
}

# Kill what still runs inside namespace $1 (TERM, then KILL after 2 s).
kill_inside() {
  local ns=$1 pids t
  [[ -e /run/netns/$ns ]] || return 0
  mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
  ((${#pids[@]})) || return 0
  local what="" pid
  for pid in "${pids[@]}"; do what+=" $pid $(cat "/proc/$pid/comm" 2>/dev/null)"; done
  say "down: stopping ${#pids[@]} process(es) still running in $ns:$what"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((t = 0; t < 20; t++)); do
    mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
    ((${#pids[@]})) || return 0
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

cmd_down() {
  if [[ ! -e $STATE ]]; then
    say "down: nothing is up"
    return 0
  fi
  require_root
  local -a spaces
  mapfile -t spaces < <(sed -n 's/^\(ns\|host\) \([^ ]*\).*/\2/p' "$STATE")
  local ns
  # Hosts first (their processes may hold the links), the switch last.
  for ((i = ${#spaces[@]} - 1; i >= 0; i--)); do
    ns=${spaces[i]}
    kill_inside "$ns"
    # Deleting a namespace destroys its devices: the veth pair and, with the switch, the bridge.
    if [[ -e /run/netns/$ns ]]; then
      ip netns delete "$ns" || die "cannot delete the network namespace $ns"
    fi
  done
  rm -f "$STATE"
  rmdir "$STATE_DIR" 2>/dev/null || true
  say "down: removed ${#spaces[@]} namespace(s)"
}

cmd_status() {
  if [[ ! -e $STATE ]]; then
    echo "down"
    return 3
  fi
  echo "up ($STATE), subnet $CIDR, switch $SWITCH"
  local ns addr i state
  while read -r ns addr; do
    i=${ns##*-h}
    if [[ ! -e /run/netns/$ns ]]; then
      echo "  $ns  $addr  MISSING"
      continue
    fi
    state=$(ip -n "$SWITCH" -o link show "h$i" 2>/dev/null | grep -o 'state [A-Z]*' || echo "state MISSING")
    echo "  $ns  $addr  link ${state#state }  processes $(ip netns pids "$ns" 2>/dev/null | wc -l)"
  done < <(sed -n 's/^host \([^ ]*\) \([^ ]*\)$/\1 \2/p' "$STATE")
}

# Cut or mend HOST's cable at the switch: the host keeps its address and its processes run on,
# but nothing reaches it any more (like a pulled cable or a dead switch port).
cmd_link() {
  local host=${1:-} how=${2:-}
  [[ $how == up || $how == down ]] || die "link needs HOST down|up"
  hosts | grep -qx -- "$host" || die "'$host' is not an up test host (status: $0 status)"
  ip -n "$SWITCH" link set "h${host##*-h}" "$how"
}

cmd_bytes() {
  local host=${1:-} port
  hosts | grep -qx -- "$host" || die "'$host' is not an up test host (status: $0 status)"
  # The switch's port counters: only traffic that really left or entered the host. (`ip netns
  # exec` mounts the namespace's own /sys.)
  port=/sys/class/net/h${host##*-h}/statistics
  # shellcheck disable=SC2016  # an awk program
  ip netns exec "$SWITCH" awk '{ n += $1 } END { print n }' "$port/rx_bytes" "$port/tx_bytes"
}

cmd_exec() {
  local host=${1:-}
  (($# >= 2)) || die "exec needs HOST CMD [ARGS...]"
  shift
  hosts | grep -qx -- "$host" || die "'$host' is not an up test host (status: $0 status)"
  # Same as scripts/netns-rsh, but the argument vector is passed on untouched.
  # shellcheck disable=SC2016  # $1 and $@ belong to the inner shell
  exec ip netns exec "$host" unshare --uts /bin/sh -c 'hostname "$1" && shift && exec "$@"' sh "$host" "$@"
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  link) shift; require_root; cmd_link "$@" ;;
  exec) shift; require_root; cmd_exec "$@" ;;
  bytes) shift; require_root; cmd_bytes "$@" ;;
  check)
    reason=$(why_not)
    if [[ -n $reason ]]; then echo "$reason"; exit 1; fi
    ;;
  *) usage ;;
esac
