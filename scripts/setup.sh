#!/usr/bin/env bash
# Installs the Debian packages rfmseg needs (only the missing ones), configures and builds it
# (Release, in build/). With --demo it then generates a default dataset and runs the main job
# on it under `mpirun -np 2`, and prints where the result is.
#
#   scripts/setup.sh            install + build
#   scripts/setup.sh --demo     install + build + generate + run (README's first command)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

demo=0
for arg in "$@"; do
  case "$arg" in
    --demo) demo=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) rfmseg_log "unknown argument: $arg"; exit 1 ;;
  esac
done

rfmseg_install_packages "${RFMSEG_BUILD_PACKAGES[@]}"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
rfmseg_log "built: build/src/rfmseg, build/src/rfmseg-gen"

if ((demo)); then
  mkdir -p build/demo
  data=build/demo/transactions.csv
  if [[ ! -s $data ]]; then
    mpirun -np 2 build/src/rfmseg-gen --output "$data" --lines 1000000 --seed 42 --groups build/demo/groups.csv
  fi
  mpirun -np 2 build/src/rfmseg --config configs/demo.ini --input "$data" --output build/demo/result.h5
  echo
  echo "Result: $(pwd)/build/demo/result.h5  (h5ls -r build/demo/result.h5; or h5py / pandas)"
fi
