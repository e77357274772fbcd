#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/targets/ (clang, ASan + UBSan; the packages are
# installed when missing) and fuzzes each one for a bounded time, starting from a copy of its seed
# corpus in tests/fuzz/corpus/<target>/. Fails when a target crashes, hangs, leaks or breaks one
# of its invariants, naming the saved input and the command that reproduces it.
#
#   scripts/fuzz.sh [--time SECONDS] [--jobs N] [--target NAME]... [--keep-corpus] [--build-only | --no-build]
#
#   --time SECONDS  fuzzing time per target (default 60); 0 only replays the seed corpus
#   --jobs N        fuzzing processes per target (libFuzzer -fork=N; default 1)
#   --target NAME   fuzz only this target (repeatable; default: all of targets.cmake)
#   --keep-corpus   go on from the corpus the last run left (default: start from the seeds)
#   --build-only    configure and build, do not fuzz;  --no-build: fuzz what is already built
#
# Everything is written below $RFMSEG_FUZZ_BUILD (default: build-fuzz/ in the repository): the
# build, work/<target>/{corpus,artifacts,log.txt}. The repository itself is never written to; to
# keep an interesting input, minimise it and copy it into tests/fuzz/corpus/<target>/ by hand
# (tests/fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

seconds=60 jobs=1 keep_corpus=false build=true fuzz=true
targets=()
while (($#)); do
  case "$1" in
    --time) seconds=${2:?--time needs a value}; shift ;;
    --jobs) jobs=${2:?--jobs needs a value}; shift ;;
    --target) targets+=("${2:?--target needs a value}"); shift ;;
    --keep-corpus) keep_corpus=true ;;
    --build-only) fuzz=false ;;
    --no-build) build=false ;;
    -h|--help) usage; exit 0 ;;
    *) rfmseg_log "fuzz.sh: unknown argument '$1' (see --help)"; exit 1 ;;
  esac
  shift
done
[[ $seconds =~ ^[0-9]+$ ]] || { rfmseg_log "fuzz.sh: --time wants whole seconds, not '$seconds'"; exit 1; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { rfmseg_log "fuzz.sh: --jobs wants a positive count, not '$jobs'"; exit 1; }

root=$PWD
out=${RFMSEG_FUZZ_BUILD:-$root/build-fuzz}

if $build; then
  # The same names are in RFMSEG_TEST_PACKAGES, so scripts/test.sh has them before it configures.
  # libclang-rt-dev holds libFuzzer and the sanitizer runtimes (only a recommendation of clang);
  # llvm holds llvm-symbolizer, which turns a crash's stack into file:line.
  rfmseg_install_packages cmake make clang libclang-rt-dev llvm
  warnings_as_errors=OFF
  [[ ${CI:-} == true ]] && warnings_as_errors=ON
  cmake -S tests/fuzz/targets -B "$out" -DCMAKE_CXX_COMPILER=clang++ \
    -DRFMSEG_WARNINGS_AS_ERRORS="$warnings_as_errors" >/dev/null
  cmake --build "$out" -j "$(nproc)"
fi
$fuzz || exit 0

if ((${#targets[@]} == 0)); then
  [[ -s $out/targets.txt ]] || { rfmseg_log "fuzz.sh: nothing built in $out (run without --no-build)"; exit 1; }
  mapfile -t targets < "$out/targets.txt"
fi

# UBSan reports abort already (-fno-sanitize-recover); with this they also show the call stack.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

failed=()
for target in "${targets[@]}"; do
  binary=$out/fuzz_$target
  seeds=$root/tests/fuzz/corpus/$target
  [[ -x $binary ]] || { rfmseg_log "fuzz.sh: no fuzz target '$target' in $out"; exit 1; }
  seed_count=$(find "$seeds" -maxdepth 1 -type f 2>/dev/null | wc -l)
  ((seed_count > 0)) || { rfmseg_log "fuzz.sh: no seed corpus in $seeds"; exit 1; }
  work=$out/work/$target
  corpus=$work/corpus artifacts=$work/artifacts log=$work/log.txt
  $keep_corpus || rm -rf "$corpus"
  rm -rf "$artifacts"   # an old crash must not be taken for this run's
  mkdir -p "$corpus" "$artifacts"
  # Fuzzing adds inputs to this copy, never to the seeds.
  for seed in "$seeds"/*; do
    [[ -e $corpus/${seed##*/} ]] || cp "$seed" "$corpus/"
  done

  args=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1)
  if ((seconds == 0)); then
    args+=(-runs=0)               # replay the corpus, no mutation
  else
    args+=(-max_total_time="$seconds")
    ((jobs > 1)) && args+=(-fork="$jobs")
  fi
  dict=$root/tests/fuzz/dict/$target.dict
  [[ -f $dict ]] && args+=(-dict="$dict")

  rc=0
  "$binary" "${args[@]}" "$corpus" > "$log" 2>&1 || rc=$?
  crashes=$(find "$artifacts" -type f | sort)
  if ((rc != 0)) || [[ -n $crashes ]]; then
    failed+=("$target")
    rfmseg_log "fuzz.sh: FAILED: fuzz_$target (exit status $rc); its report (full log: $log):"
    # The report without libFuzzer's progress lines and recommended dictionary.
    grep -v -E '^#[0-9]+\s|^"|^###### |NEW_FUNC' "$log" | tail -n 60 >&2 || true
    if [[ -n $crashes ]]; then
      while IFS= read -r crash; do
        rfmseg_log "fuzz.sh: input saved as $crash"
        rfmseg_log "fuzz.sh: reproduce with: $binary $crash"
      done <<< "$crashes"
    fi
    continue
  fi
  # "#N DONE cov: C ft: F corp: I/Sb lim: L exec/s: E rss: RMb"
  summary=$(grep -E '^#[0-9]+\s+DONE' "$log" | tail -n 1 || true)
  what="${seconds} s of fuzzing from $seed_count seeds"
  ((seconds == 0)) && what="replay of $seed_count seeds"
  rfmseg_log "fuzz_$target: $what: ${summary:-no final statistics (see $log)}"
done

if ((${#failed[@]})); then
  rfmseg_log "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
