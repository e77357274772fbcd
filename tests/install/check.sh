#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then as a user of a cluster would: `module load rfmseg`
# with Lmod, the installed rfmseg on PATH, its man page on MANPATH, the module's variables; the
# installed executables on small data (bit-identical to the build tree's result, `rfmseg verify`
# passes); the installed job script (share/rfmseg/jobs/segment.sbatch, without Slurm, module not
# loaded) finds the installed bin/ by itself.
# usage: see lib.sh
source "$(dirname "$0")/lib.sh"

LMOD_INIT=/usr/share/lmod/lmod/init/bash
if [[ ! -r $LMOD_INIT ]]; then
  echo "SKIP: no Lmod ($LMOD_INIT; Debian: apt-get install lmod, scripts/test.sh does this)" >&2
  exit 77
fi

build_tree_reference

prefix=$WORK/prefix
step "cmake --install $BUILD --prefix $prefix"
if ! cmake --install "$BUILD" --prefix "$prefix" > "$WORK/install.log" 2>&1; then
  cat "$WORK/install.log" >&2
  fail "cmake --install failed"
  finish
fi
expected=(bin/rfmseg bin/rfmseg-gen share/rfmseg/jobs/segment.sbatch share/rfmseg/jobs/launch.sh
          share/rfmseg/jobs/scaling.sbatch share/rfmseg/configs/demo.ini share/rfmseg/configs/nightly.ini
          share/rfmseg/scripts/reference/compare_results.py "share/modulefiles/rfmseg/$VERSION.lua")
[[ $MAN_PAGES == ON ]] && expected+=(share/man/man1/rfmseg.1 share/man/man1/rfmseg-gen.1)
missing=()
for f in "${expected[@]}"; do [[ -e $prefix/$f ]] || missing+=("$f"); done
if ((${#missing[@]} == 0)); then pass "installed: ${expected[*]}"; else fail "not installed: ${missing[*]}"; fi
for f in bin/rfmseg bin/rfmseg-gen share/rfmseg/jobs/segment.sbatch; do
  [[ -x $prefix/$f ]] || fail "$f is not executable"
done

step "module load rfmseg (Lmod)"
# Lmod's scripts are not written for set -u.
set +u
# shellcheck disable=SC1090
source "$LMOD_INIT"
export MODULEPATH=""
module use "$prefix/share/modulefiles"
if module load rfmseg; then pass "module load rfmseg: $(module -t list 2>&1 | tr '\n' ' ')"; else fail "module load rfmseg failed"; fi
set -u
[[ $(command -v rfmseg) == "$prefix/bin/rfmseg" ]] && pass "which rfmseg: $prefix/bin/rfmseg" \
  || fail "which rfmseg: '$(command -v rfmseg)', not $prefix/bin/rfmseg"
[[ $(command -v rfmseg-gen) == "$prefix/bin/rfmseg-gen" ]] || fail "which rfmseg-gen: '$(command -v rfmseg-gen)'"
if [[ ${RFMSEG_ROOT:-} == "$prefix" && ${RFMSEG_VERSION:-} == "$VERSION" && -n ${RFMSEG_MPI:-} ]]; then
  pass "RFMSEG_ROOT=$RFMSEG_ROOT RFMSEG_VERSION=$RFMSEG_VERSION RFMSEG_MPI=$RFMSEG_MPI"
else
  fail "module variables: RFMSEG_ROOT='${RFMSEG_ROOT:-}' RFMSEG_VERSION='${RFMSEG_VERSION:-}' RFMSEG_MPI='${RFMSEG_MPI:-}'"
fi
if [[ $MAN_PAGES == ON ]]; then
  page=$prefix/share/man/man1/rfmseg.1
  if command -v man > /dev/null; then
    found=$(man -w rfmseg 2>/dev/null || true)
    [[ $found == "$page" ]] && pass "man -w rfmseg: $found" || fail "man -w rfmseg: '$found', not $page (MANPATH=${MANPATH:-})"
  fi
  grep -qF -- '\-\-input' "$page" && grep -q '^\.TH RFMSEG' "$page" && pass "rfmseg.1 documents --input" \
    || fail "rfmseg.1 is not the help2man page of rfmseg --help"
fi
version_build=$(mpi 1 "$RFMSEG" --version 2>&1)
version_installed=$(mpi 1 rfmseg --version 2>&1)
if [[ $version_installed == "$version_build" && $version_installed == "rfmseg $VERSION ("* ]] \
   && grep -q '^  HDF5: ' <<< "$version_installed"; then
  pass "rfmseg --version: $(head -n 1 <<< "$version_installed"), $(grep -c . <<< "$version_installed") lines"
else
  echo "$version_installed" >&2
  fail "the installed rfmseg --version differs from the build tree's"
fi

check_installed_run module "$(command -v rfmseg)" "$(command -v rfmseg-gen)" "$RFMSEG_ROOT/share/rfmseg/configs/demo.ini"

step "installed job script, module unloaded, no Slurm"
set +u
module unload rfmseg
set -u
[[ -z ${RFMSEG_ROOT:-} ]] || fail "module unload left RFMSEG_ROOT=$RFMSEG_ROOT"
mkdir -p "$WORK/submit"
if (cd "$WORK/submit" && env -u RFMSEG_BIN -u RFMSEG_HOME RFMSEG_NTASKS=$RANKS RFMSEG_LAUNCHER=mpirun \
      RFMSEG_MPIRUN_ARGS="${MPI_PREFLAGS[*]}" RFMSEG_INPUT="$WORK/data.csv" RFMSEG_DATE=2024-01-31 \
      RFMSEG_CONFIG="$prefix/share/rfmseg/configs/demo.ini" bash "$prefix/share/rfmseg/jobs/segment.sbatch") \
      > "$WORK/job.log" 2>&1; then
  pass "segment.sbatch: $(tail -n 1 "$WORK/job.log")"
  # Results land in the submit directory's results/ (share/ is not written to).
  check_result job "$prefix/bin/rfmseg" "$WORK/submit/results/segments-2024-01-31.h5"
else
  cat "$WORK/job.log" >&2
  fail "the installed segment.sbatch failed"
fi
[[ -e $prefix/share/rfmseg/results ]] && fail "the job wrote into $prefix/share/rfmseg"

finish
