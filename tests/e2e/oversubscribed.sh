# shellcheck shell=bash
# e2e.oversubscribed: more ranks on the host than CPUs, with Open MPI not told (a hostfile that
# claims more slots than the host has, as a Slurm allocation over hyper-threads can): Open MPI's
# collectives busy-wait, and a waiting rank takes the core from the rank it waits for (a sweep's
# K-means took 39 s instead of 0.7 s at 4 ranks on 2 cores here). rfmseg finds it before MPI_Init
# and sets OMPI_MCA_mpi_yield_when_idle=1.
#  - CPUs + 2 ranks on this host, hostfile slots = ranks, --bind-to none: /run mpi_yield_when_idle
#    is "yield set by rfmseg: R ranks on C CPUs", the console says "oversubscribed:", and the
#    result is bit-identical to one rank's;
#  - the user's own OMPI_MCA_mpi_yield_when_idle is kept ("as set by the user (1)");
#  - 1 rank: "not needed: 1 rank on C CPUs".
# Skipped (77) on hosts with more than 6 CPUs (CPUs + 2 ranks would be a heavy test there), and
# when the launcher is not Open MPI's.
#
#   bash oversubscribed.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

# shellcheck source=tests/e2e/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$WORK"

cpus=$(nproc)
if ((cpus > 6)); then
  echo "SKIP: $cpus CPUs (the test runs CPUs + 2 ranks)"
  exit 77
fi
if ! "$MPIEXEC" --version 2>&1 | grep -qiE "open ?mpi|openrte"; then
  echo "SKIP: $MPIEXEC is not Open MPI's mpirun"
  exit 77
fi
ranks=$((cpus + 2))
echo "localhost slots=$ranks" > hostfile
"$RFMSEG_GEN" --output tx.csv --lines 30000 --seed 4 > /dev/null

# ranks R [ENV...]: rfmseg under R ranks with the hostfile (Open MPI thinks there is a slot each).
ranks() {
  local n=$1 out=$2
  shift 2
  env "$@" "$MPIEXEC" --hostfile hostfile --bind-to none -n "$n" "$RFMSEG" -i tx.csv --k 3 --n-init 2 --force \
    -o "$out" > "$out.log" 2>&1
}
attribute() {
  "$PY" -c 'import h5py,sys; v = h5py.File(sys.argv[1])["run"].attrs["mpi_yield_when_idle"]
print(v.decode() if isinstance(v, bytes) else v)' "$1"
}

step "$ranks ranks on $cpus CPUs"
mpi 1 "$RFMSEG" -i tx.csv --k 3 --n-init 2 -q -o one.h5
if ranks "$ranks" many.h5; then pass "$ranks ranks ran"; else cat many.h5.log >&2; fail "$ranks ranks ran"; fi
got=$(attribute many.h5)
[[ $got == "yield set by rfmseg: $ranks ranks on $cpus CPUs" ]] && pass "/run mpi_yield_when_idle: $got" ||
  fail "/run mpi_yield_when_idle is '$got'"
grep -q "^oversubscribed: yield set by rfmseg: $ranks ranks on $cpus CPUs" many.h5.log && pass "console says so" ||
  fail "no 'oversubscribed:' line on the console"
[[ $(grep -c "^oversubscribed:" many.h5.log) == 1 ]] && pass "printed once (rank 0)" || fail "printed more than once"
if "$PY" "$SRC/scripts/reference/compare_results.py" same one.h5 many.h5 > cmp.txt; then
  pass "bit-identical to 1 rank"
else
  cat cmp.txt >&2
  fail "$ranks ranks differ from 1 rank"
fi

step "the user's setting is kept"
ranks "$ranks" user.h5 OMPI_MCA_mpi_yield_when_idle=1 || fail "run with the user's setting"
got=$(attribute user.h5)
[[ $got == "as set by the user (1): $ranks ranks on $cpus CPUs" ]] && pass "kept: $got" || fail "user's setting: '$got'"
! grep -q "^oversubscribed:" user.h5.log && pass "no console line when the user chose" || fail "console line printed"

step "1 rank"
got=$(attribute one.h5)
cpu_word=CPUs
((cpus == 1)) && cpu_word=CPU
[[ $got == "not needed: 1 rank on $cpus $cpu_word" ]] && pass "$got" || fail "1 rank: '$got'"
finish
