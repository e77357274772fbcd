#!/usr/bin/env bash
# A lost node under srun (issue 16): a private Slurm cluster whose two nodes are the test hosts
# (scripts/slurm-local.sh with SLURM_LOCAL_NETNS: slurmd of node rfmseg-h1 inside namespace
# rfmseg-h1, of rfmseg-h2 inside rfmseg-h2, slurmctld inside rfmseg-h1), jobs/segment.sbatch on
# 2 nodes x 2 tasks launched by `srun --mpi=pmix` (the job's default launcher, its probe included),
# ranks over TCP on the test subnet. Once the job is in K-means, rfmseg-h2's cable is cut.
#
# Checks: the batch script ends within --collective-timeout (20 s) + 30 s of the cut with exit code
# 3:0, and no rfmseg rank is left running on either host by then; the job's state is FAILED once
# slurmctld has declared the lost node DOWN (COMPLETING until then: SlurmdTimeout, 60 s here); its
# last line is the FAILED (status 3) summary carrying the watchdog's message naming the phase
# kmeans; `latest` and the earlier result are untouched, no result of the failed night.
# usage: srun_cut_link.sh RFMSEG RFMSEG_GEN MPIEXEC MPIEXEC_PREFLAGS PROJECT_SOURCE_DIR
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

SLURM_LOCAL=$SRC/scripts/slurm-local.sh
if ! "$SLURM_LOCAL" install >/dev/null 2>&1; then
  skip "the Slurm packages (slurmctld slurmd slurm-client munge) are not installed and cannot be installed here"
fi
timeout_s=20
bound=$((timeout_s + 30))

# The cluster goes before the hosts do (lib.sh's cleanup removes the namespaces).
cluster=$(mktemp -d /tmp/rfmseg-slurm-mh.XXXXXX)
# shellcheck disable=SC2317  # called through the EXIT trap
stop_cluster() {
  "$SLURM_LOCAL" stop --purge "$cluster" >/dev/null 2>&1 || rm -rf "$cluster"
}
# shellcheck disable=SC2317  # called through the trap
cleanup_all() {
  local s=$?
  stop_cluster
  (exit "$s")   # lib.sh's cleanup takes the status from $?
  cleanup
}
trap cleanup_all EXIT

step "start a Slurm cluster with one node in each host"
if ! env_lines=$(SLURM_LOCAL_NETNS="rfmseg-h1 rfmseg-h2" SLURM_LOCAL_CPUS=2 timeout 60 "$SLURM_LOCAL" start "$cluster" 9>&-); then
  tail -n 20 "$cluster"/log/*.log >&2 2>/dev/null || true
  fail "the cluster did not start"
  finish
fi
eval "$env_lines"
in_h1() { nsenter --net=/run/netns/rfmseg-h1 "$@"; }
pass "nodes: $(in_h1 sinfo -h -N -o '%N@%o %T' | tr '\n' ' ')"

lines=100000
step "generate $lines lines"
generate "$lines" "$WORK/tx.csv"
out=$WORK/results
mkdir -p "$out"
echo "an earlier result" > "$out/segments-2030-01-01.h5"
ln -s segments-2030-01-01.h5 "$out/latest"
before=$(sha256sum "$out/segments-2030-01-01.h5")

step "submit jobs/segment.sbatch: 2 nodes x 2 tasks, --collective-timeout $timeout_s"
# Ranks over TCP on the test subnet only (no shared memory: every rank pair talks through a cable),
# yielding their core while they wait (4 ranks share 2 cores).
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=$SUBNET OMPI_MCA_oob_tcp_if_include=$SUBNET \
  OMPI_MCA_mpi_yield_when_idle=1 RFMSEG_PROBE_TIMEOUT=30
job_id=$(cd "$WORK" && in_h1 timeout 30 sbatch --parsable --nodes=2 --ntasks-per-node=2 --chdir="$WORK" \
  --export="ALL,RFMSEG_HOME=$SRC,RFMSEG_BIN=$(dirname "$RFMSEG"),RFMSEG_INPUT=$WORK/tx.csv,RFMSEG_OUTDIR=$out,RFMSEG_CONFIG=none,RFMSEG_DATE=2030-01-02,RFMSEG_COLLECTIVE_TIMEOUT=$timeout_s,RFMSEG_PREVIOUS=none,RFMSEG_ARGS=--k 8 --n-init 1000 --max-iter 300 --tol 0 --progress" \
  "$SRC/jobs/segment.sbatch" 9>&-) || job_id=""
job_id=${job_id%%;*}
[[ -n $job_id ]] || { fail "sbatch failed"; finish; }
log=$WORK/rfmseg-segment-$job_id.out
err=$WORK/rfmseg-segment-$job_id.err
field() { in_h1 timeout 20 scontrol -o show job "$job_id" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

deadline=$((SECONDS + 120))
until grep -q "rfmseg: progress .* kmeans k = " "$err" 2>/dev/null; do
  state=$(field JobState)
  if [[ $state != PENDING && $state != RUNNING ]] || ((SECONDS > deadline)); then
    cat "$log" "$err" >&2 2>/dev/null
    fail "the job ($state) did not reach K-means within 120 s"
    finish
  fi
  sleep 0.2
done
if ! grep -q "via srun --mpi=pmix" "$log"; then
  cat "$log" "$err" >&2
  fail "the job did not launch with srun --mpi=pmix"
  finish
fi
pass "$(grep -m1 ' ranks on ' "$log")"
ranks_on() {  # $1: namespace -> pids of rfmseg there
  local pid o=""
  for pid in $(ip netns pids "$1" 2>/dev/null); do
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == rfmseg ]] && o+="$pid "
  done
  echo "$o"
}
r1=$(ranks_on rfmseg-h1) r2=$(ranks_on rfmseg-h2)
if [[ $(wc -w <<<"$r1") -eq 2 && $(wc -w <<<"$r2") -eq 2 ]]; then
  pass "2 ranks in each host (rfmseg-h1: $r1; rfmseg-h2: $r2)"
else
  fail "expected 2 ranks in each host: rfmseg-h1: '$r1', rfmseg-h2: '$r2'"
fi
sleep 2

step "cut rfmseg-h2's cable"
"$HOSTS_SH" link rfmseg-h2 down
t_cut=$(date +%s.%N)
past() { awk -v a="$t_cut" -v b="$(date +%s.%N)" -v n="$1" 'BEGIN { exit !(b - a > n) }'; }
state=""
while ! past "$bound"; do
  state=$(field JobState)
  case $state in RUNNING|PENDING|"") ;; *) break ;; esac
  sleep 0.2
done
echo "cut-to-end: $(elapsed "$t_cut") s (state $state, ExitCode $(field ExitCode))"
echo "--- job log:"; sed 's/^/    /' "$log"
echo "--- job error log:"; sed 's/^/    /' "$err"
# The batch script has ended once the job leaves RUNNING: Slurm then holds it COMPLETING until the
# lost node's part is cleaned up, i.e. until slurmctld declares the node DOWN (SlurmdTimeout: 60 s
# here, 300 s by default); its state is then the job's own.
if [[ $state == COMPLETING || $state == FAILED ]]; then
  pass "the job script ended within $bound s of the cut ($state)"
else
  fail "the job is $state $bound s after the cut"
fi
if [[ $(field ExitCode) == 3:0 ]]; then pass "exit code 3:0"; else fail "exit code $(field ExitCode), expected 3:0"; fi
left="$(ranks_on rfmseg-h1)$(ranks_on rfmseg-h2)"
while [[ -n $left ]] && ! past "$bound"; do
  sleep 0.2
  left="$(ranks_on rfmseg-h1)$(ranks_on rfmseg-h2)"
done
if [[ -z $left ]]; then
  pass "no rank left on either host $(elapsed "$t_cut") s after the cut"
else
  fail "ranks still run $bound s after the cut: $left"
fi
deadline=$((SECONDS + 150))
while [[ $state == COMPLETING ]] && ((SECONDS < deadline)); do
  sleep 1
  state=$(field JobState)
done
echo "the job's final state: $state, $(elapsed "$t_cut") s after the cut; node rfmseg-h2: $(in_h1 sinfo -h -n rfmseg-h2 -N -o '%T %E')"
if [[ $state == FAILED ]]; then pass "the job ends FAILED"; else fail "the job ends $state, expected FAILED"; fi
summary=$(tail -n 1 "$log")
re="^rfmseg-segment: FAILED \(status 3\) job $job_id: .*\[rank [0-9]+\] rfmseg: fatal: .+ in phase 'kmeans' waited .*--collective-timeout $timeout_s s"
if [[ $summary =~ $re ]]; then
  pass "summary: $summary"
else
  fail "the last line is not the FAILED (status 3) summary with the watchdog's message in phase kmeans: $summary"
fi
if [[ $(readlink "$out/latest") == segments-2030-01-01.h5 && $(sha256sum "$out/segments-2030-01-01.h5") == "$before" ]]; then
  pass "latest and the earlier result untouched"
else
  fail "latest ($(readlink "$out/latest")) or the earlier result changed"
fi
if compgen -G "$out/segments-2030-01-02.h5" >/dev/null || compgen -G "$out/segments-2030-01-02.h5.tmp-*" >/dev/null; then
  fail "a (partial) result of the failed night exists: $(ls "$out")"
else
  pass "no result of the failed night"
fi
finish
