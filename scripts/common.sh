# Sourced by the scripts: package installation and the environment MPI needs. Not executable.

# Debian packages the project needs to build and run.
RFMSEG_BUILD_PACKAGES=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
  libeigen3-dev libboost-program-options-dev googletest libgtest-dev zlib1g-dev libzstd-dev
  libssl-dev  # libcrypto: HMAC-SHA256 for --pseudonymize-key
  help2man)  # the man pages, from --help at build time
# Extra packages for the test suite (reference implementation, HDF5 checks).
RFMSEG_TEST_PACKAGES=(python3 python3-numpy python3-pandas python3-scipy python3-sklearn python3-h5py
  python3-matplotlib  # scripts/plot_history.py, plot_scaling.py (slurm.nightly_history draws the history)
  iproute2 util-linux clang libclang-rt-dev llvm
  zstd pigz  # tests/e2e/compressed_inputs: .zst and multi-member .gz made by the tools users have
  clang-format  # format.check: the house style (.clang-format)
  lmod man-db dpkg-dev file)  # tests/install: module load rfmseg, man -w, cpack -G DEB (dpkg-shlibdeps, file)
# e2e.exports_duckdb reads the CSV exports with DuckDB through npm (@duckdb/node-api, installed by
# the test into the build tree); scripts/test.sh installs Debian's npm only when no npm is on PATH
# (a NodeSource nodejs brings its own, and Debian's npm package conflicts with it).

# Debian's python3 (the one apt installs modules for), even when another python3 is first on PATH.
RFMSEG_PYTHON=/usr/bin/python3

rfmseg_log() { printf '%s\n' "$*" >&2; }

# Installs the named Debian packages that are missing; silent when nothing is missing.
rfmseg_install_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { rfmseg_log "error: missing packages (${missing[*]}) and no sudo to install them"; return 1; }
    sudo=(sudo)
  fi
  rfmseg_log "installing: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Open MPI refuses to run as root unless told; CI and containers run as root.
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Two cores on small machines: let Open MPI place more ranks than cores.
export OMPI_MCA_rmaps_base_oversubscribe=1
