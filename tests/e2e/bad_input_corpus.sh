# shellcheck shell=bash
# e2e.bad_input_corpus: every case of tests/corpus/cases.ini (empty, header-only, BOM, Latin-1,
# CRLF, quoted line breaks, 1 MiB lines, bad fields, dates and numbers, money limits, few or
# identical customers, unusable input and output paths, bad options) under 1 and 3 ranks: exact
# counters and R/F/M, or exit 1 with one message from rank 0 and no output touched; both rank
# counts agree. Cases marked known_bug are reported as XFAIL. The logic is in
# bad_input_corpus.py (run it by hand with --case NAME to try one case).
#
#   bash bad_input_corpus.sh RFMSEG RFMSEG_GEN MPIEXEC "MPIEXEC_PREFLAGS" PROJECT_SOURCE_DIR

# shellcheck source=tests/e2e/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

step "bad-input corpus: $SRC/tests/corpus/cases.ini"
# --preflags=...: the flags begin with "--", which must not read as options of the driver.
if "$PY" "$SRC/tests/e2e/bad_input_corpus.py" --rfmseg "$RFMSEG" --mpiexec "$MPIEXEC" \
     --preflags="${MPI_PREFLAGS[*]}" --corpus "$SRC/tests/corpus" --work "$WORK"; then
  pass "bad-input corpus"
else
  fail "bad-input corpus: see the FAIL lines above"
fi

finish
