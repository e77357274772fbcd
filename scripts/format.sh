#!/usr/bin/env bash
# The house style (.clang-format) over every C++ file git tracks.
#
#   scripts/format.sh           reformat in place
#   scripts/format.sh --check   list the files that differ and exit 1 (the test format.check)
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" >/dev/null || { echo "format.sh: $clang_format not found (Debian: apt-get install clang-format)" >&2; exit 77; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cc')
if [[ ${1:-} == --check ]]; then
  bad=()
  for f in "${files[@]}"; do
    "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    printf 'not in the house style (scripts/format.sh fixes it): %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files in the house style ($("$clang_format" --version | head -1))"
else
  "$clang_format" -i "${files[@]}"
fi
