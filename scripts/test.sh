#!/usr/bin/env bash
# Builds rfmseg with its tests and runs the whole suite (unit tests, MPI tests under 1-4 ranks,
# end-to-end tests against the Python reference). README's second command; .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

rfmseg_install_packages "${RFMSEG_BUILD_PACKAGES[@]}" "${RFMSEG_TEST_PACKAGES[@]}"
preset=release
[[ ${CI:-} == true ]] && preset=ci
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" "$@"
