#!/usr/bin/env bash
# The fault matrix (README "Fault matrix", #13 part E): tests/faults/fault_matrix.py runs every cell
# for real against the loopback fakes (Kraken, AI providers, SQLite, PostgREST in front of a real
# PostgreSQL), checks the money-safety invariants in each, and compares the tables it generates with
# the README's. A broken invariant or a README that no longer says what the code does fails here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

pg_python   # the PostgREST fake needs psycopg2; the generator itself is stdlib only
out=$T_TMP/matrix.err
TITAN_BIN=$TITAN_BIN "$PY" "$ROOT/tests/faults/fault_matrix.py" --check "$ROOT/README.md" 2>"$out"
rc=$?
# the failures (and the README diff that follows one), then the counts
grep -vE '^fault_matrix: [0-9]+ passed' "$out" | sed 's/^FAIL /FAIL test_fault_matrix: /' >&2
line=$(grep -E '^fault_matrix: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
if [ -n "$line" ]; then
  p=${line#fault_matrix: }; p=${p%% passed*}
  f=${line##*passed, }; f=${f%% failed}
  T_PASSED=$((T_PASSED + p)); T_FAILED=$((T_FAILED + f))
  [ "$rc" != 0 ] && [ "$f" = 0 ] && t_fail "fault_matrix.py exited $rc"
else
  t_fail "fault_matrix.py printed no result (exit $rc)"; tail -20 "$out" >&2
fi
t_finish
