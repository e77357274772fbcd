#!/usr/bin/env bash
# Builds rfmseg with its tests and runs the whole suite: unit tests, MPI tests under 1-4 ranks,
# end-to-end tests against the Python reference, Slurm, multi-host and fuzzing (as root), and
# then the unit and MPI tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
# README's second command; .ci/run runs it.
#
#   scripts/test.sh [--no-sanitize] [ctest arguments...]
#
# CI=true selects the ci preset (warnings are errors). --no-sanitize skips the sanitized pass
# (it is a second, Debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

sanitize=1
if [[ ${1:-} == --no-sanitize ]]; then
  sanitize=0
  shift
fi

rfmseg_install_packages "${RFMSEG_BUILD_PACKAGES[@]}" "${RFMSEG_TEST_PACKAGES[@]}"
# e2e.exports_duckdb reads the CSV exports with DuckDB through npm: Debian's npm when none is on
# PATH (a NodeSource nodejs brings its own npm and conflicts with Debian's package).
command -v npm >/dev/null || rfmseg_install_packages npm
preset=release
[[ ${CI:-} == true ]] && preset=ci
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" "$@"

if ((sanitize)); then
  rfmseg_log "sanitized pass: unit and MPI tests under ASan + UBSan (build-sanitize/)"
  cmake --preset sanitize >/dev/null
  cmake --build --preset sanitize -j "$(nproc)" --target test_units test_mpi
  ctest --preset sanitize -L "unit|mpi" "$@"
fi
