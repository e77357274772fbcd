#!/usr/bin/env bash
# A host drops off the network in the middle of K-means: the job must end, fast and loud.
#
# The job runs on 2 hosts x 2 ranks (tests/multihost/lib.sh); once it is in K-means (one
# allreduce per Lloyd iteration, a long run of restarts), rfmseg-h2's cable is cut at the switch.
# Without help, Open MPI 4.1 waits for ever: the ranks sit in MPI_Allreduce on sockets that never
# see data or an error, and mpirun, asked to stop, waits for the lost host's daemon.
#
#   MODE watchdog   rfmseg --collective-timeout 5: the ranks left on rfmseg-h1 report the stuck
#                   collective and the phase, and MPI_Abort the job (exit status 3); the ranks cut
#                   off on rfmseg-h2 time out too and exit on their own. mpirun's kill order to
#                   the lost daemon then sits unacknowledged in a TCP send queue, where keepalive
#                   no longer applies: mpirun ends only when TCP gives up retransmitting it
#                   (net.ipv4.tcp_retries2; Linux's default 15 means about 15 minutes). rfmseg-h1
#                   is set to 5 (about 13 s), as a node tuned for fast failure would be.
#   MODE keepalive  no watchdog (--collective-timeout 0), Linux's TCP defaults: Open MPI's oob
#                   keepalive (oob_tcp_keepalive_*, here scaled down) finds the idle connection to
#                   the lost daemon dead and mpirun ends the job ("ORTE has lost communication
#                   with a remote daemon"). It only works while nothing is queued on that
#                   connection, i.e. before any rank aborts (after an abort, jobs/launch.sh ends
#                   mpirun itself: multihost.cut_link_job_untuned).
#
# Either way: non-zero exit within (the mechanism's bound) + 30 s of the cut, the message on
# stderr, no result under the final name, and no rank left running on the cut-off host. The
# cut-to-exit time is printed.
# usage: cut_link.sh RFMSEG RFMSEG_GEN MPIEXEC MPIEXEC_PREFLAGS PROJECT_SOURCE_DIR watchdog|keepalive
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

mode=${TEST_ARGS[0]:-}
case $mode in
  watchdog)
    timeout_s=5
    rfmseg_opts=(--collective-timeout "$timeout_s")
    mpi_opts=()
    # TCP gives up on unacknowledged data after 5 retransmissions (200 ms doubling: ~13 s).
    # (/proc/sys/net is the namespace's own: the machine's setting stays as it is)
    "$HOSTS_SH" exec rfmseg-h1 sh -c 'echo 5 > /proc/sys/net/ipv4/tcp_retries2'
    expect_re="^\[rank [0-9]+\] rfmseg: fatal: .* in phase '[a-z_]+' .*--collective-timeout $timeout_s"
    bound=$((timeout_s + 30)) ;;
  keepalive)
    rfmseg_opts=(--collective-timeout 0)
    # mpirun's connection to each daemon: first probe after 10 s without traffic, then every 2 s,
    # lost after 3 unanswered probes: the lost daemon is noticed 6 to 16 s after the cut.
    mpi_opts=(--mca oob_tcp_keepalive_time 10 --mca oob_tcp_keepalive_intvl 2 --mca oob_tcp_keepalive_probes 3)
    expect_re="ORTE has lost communication with a remote daemon"
    bound=$((16 + 30)) ;;
  *) echo "usage: $0 ... watchdog|keepalive" >&2; exit 2 ;;
esac

lines=100000
step "generate $lines lines"
generate "$lines" "$WORK/tx.csv"

# K-means that runs for minutes when nothing goes wrong (1000 restarts of up to 300 iterations,
# one allreduce each), so the cut always lands in it; the job itself ends at the cut + seconds.
result=$WORK/cut.h5
step "start the job on 2 hosts x 2 ranks (mode $mode)"
mh_command 300 4 "${mpi_opts[@]}" "$RFMSEG" --input "$WORK/tx.csv" --output "$result" \
  --k 8 --n-init 1000 --max-iter 300 --tol 0 --progress "${rfmseg_opts[@]}"
"${MH_COMMAND[@]}" > "$WORK/job.out" 2> "$WORK/job.err" 9>&- &
job=$!   # timeout(1)'s pid

# In K-means: the ingest is over (rank 0 reports each round with --progress), the short rfm,
# sort, transform and scale phases take well under a second on this input; 3 s more is K-means.
deadline=$((SECONDS + 90))
until grep -q "rfmseg: progress .* ingest round" "$WORK/job.err"; do
  if ! kill -0 "$job" 2>/dev/null || ((SECONDS > deadline)); then
    cat "$WORK/job.out" "$WORK/job.err" >&2
    fail "the job ended or did not get through its ingest within 90 s, before the cut"
    finish
  fi
  sleep 0.2
done
sleep 3
if ! kill -0 "$job" 2>/dev/null; then
  cat "$WORK/job.out" "$WORK/job.err" >&2
  fail "the job ended before the cut"
  finish
fi

step "cut rfmseg-h2's cable"
"$HOSTS_SH" link rfmseg-h2 down
t_cut=$(date +%s.%N)

# Wait for the end, at most `bound` seconds.
ended=0
while ((ended == 0)); do
  if ! kill -0 "$job" 2>/dev/null; then ended=1; break; fi
  if awk -v a="$t_cut" -v b="$(date +%s.%N)" -v n="$bound" 'BEGIN { exit !(b - a > n) }'; then break; fi
  sleep 0.1
done
status=0
if ((ended)); then
  wait "$job" || status=$?
  cut_to_exit=$(elapsed "$t_cut")
  echo "cut-to-exit: $cut_to_exit s (mode $mode, exit status $status)"
  step "job ended"
else
  fail "the job still runs $bound s after the cut: it hangs (mode $mode)"
  kill -TERM "$job" 2>/dev/null || true   # timeout(1) passes it on to mpirun, and KILLs 10 s later
  wait "$job" || status=$?
fi

echo "--- job stderr:"
sed 's/^/    /' "$WORK/job.err"

if ((ended)); then
  if ((status != 0)); then
    pass "non-zero exit status $status after the cut"
  else
    fail "the job exited 0 although a host was cut off"
  fi
  if ((status == 124 || status == 137)); then
    fail "the job was ended by the test's own timeout (status $status), not by itself"
  fi
  if [[ $mode == watchdog ]] && ((status != 3)); then
    fail "exit status $status, expected the watchdog's 3"
  fi
fi

if match=$(grep -E -m1 -- "$expect_re" "$WORK/job.err"); then
  pass "stderr: $match"
  if [[ $mode == watchdog ]]; then
    phase=$(grep -Eo "in phase '[a-z_]+'" <<<"$match" | sed -E "s/in phase '(.*)'/\1/")
    if [[ $phase == kmeans ]]; then
      pass "the cut landed in K-means"
    else
      fail "the watchdog reports phase '$phase': the cut did not land in K-means (make K-means longer)"
    fi
  fi
else
  fail "stderr lacks the expected message (/$expect_re/)"
fi

if [[ -e $result ]]; then
  fail "a result exists under the final name $result"
else
  pass "no result under the final name"
fi

# Nothing of the job may keep running on the cut-off host either (on a real cluster it would hold
# the node). watchdog: those ranks time out as well, their MPI_Abort cannot reach mpirun, and the
# watchdog's hard exit ends them. keepalive: their daemon loses mpirun and kills them.
ranks_left() {
  local pid out=""
  for pid in $(ip netns pids rfmseg-h2); do
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == rfmseg ]] && out+="$pid "
  done
  echo "$out"
}
left=$(ranks_left)
while [[ -n $left ]] && ! awk -v a="$t_cut" -v b="$(date +%s.%N)" -v n="$bound" 'BEGIN { exit !(b - a > n) }'; do
  sleep 0.2
  left=$(ranks_left)
done
if [[ -z $left ]]; then
  pass "no rank left on the cut-off host rfmseg-h2 $(elapsed "$t_cut") s after the cut"
else
  fail "ranks still run on the cut-off host rfmseg-h2 $bound s after the cut (pids $left)"
fi
finish
