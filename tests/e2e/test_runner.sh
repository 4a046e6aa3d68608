#!/usr/bin/env bash
# tests/run itself: a suite that dies before its result line (a bash error under set -u, a signal,
# an exit in a helper) is counted as failed with its reason, and the suites after it still run.
. "$(dirname "$0")/lib.sh"
tree=$T_TMP/tree
mkdir -p "$tree/tests/e2e" "$tree/tests/lua" "$tree/units"
cp "$ROOT/tests/run" "$tree/tests/run"
cp "$ROOT/tests/e2e/lib.sh" "$tree/tests/e2e/lib.sh"
suite() { printf '#!/usr/bin/env bash\n. "$(dirname "$0")/lib.sh"\n%s\n' "$2" >"$tree/tests/e2e/test_$1.sh"; }
suite a_unbound 't_pass; t_pass; echo "about to use $NOT_SET"; t_pass; t_finish'
suite b_good 't_pass; t_pass; t_pass; t_finish'
suite c_killed 't_pass; kill -KILL $$'
suite d_silent 'trap - EXIT; exit 0'
suite e_exit 't_pass; exit 3'
suite f_failed 't_pass; t_fail "a real failure"; t_finish'
suite g_skips 't_pass; echo "SKIP g_skips: real data absent" >&2; echo "note: using fixtures" >&2; echo "chatter" >&2; t_finish'
out=$(cd "$tree" && ONLY= UNIT_DIR="$tree/units" TITAN_BIN=/bin/false tests/run 2>&1); rc=$?
line() { grep -E "^e2e/test_$1 " <<<"$out"; }
t_check "runner exits non-zero" test "$rc" != 0
t_check "unbound variable: counted as failed, passes before it kept" grep -qE ' 2 passed, 1 failed' <<<"$(line a_unbound)"
t_check "unbound variable: the reason is shown" grep -q 'NOT_SET: unbound variable' <<<"$out"
t_check "unbound variable: 'died early' is said" grep -q 'died early (exit 1) before t_finish' <<<"$out"
t_check "the suite after a dead one still runs" grep -qE ' 3 passed, 0 failed' <<<"$(line b_good)"
t_check "a killed suite is failed" grep -qE ' 0 passed, 1 failed' <<<"$(line c_killed)"
t_check "a killed suite says it died by a signal" grep -q "suite died early: exit 137 (signal 9) and no 'N passed, N failed' line" <<<"$out"
t_check "a suite without a result line is failed" grep -qE ' 0 passed, 1 failed' <<<"$(line d_silent)"
t_check "a suite without a result line says so" grep -q 'suite printed no result line' <<<"$out"
t_check "an exit in the middle is failed with the passes kept" grep -qE ' 1 passed, 1 failed' <<<"$(line e_exit)"
t_check "an ordinary failure counts once" grep -qE ' 1 passed, 1 failed' <<<"$(line f_failed)"
t_check "a passing suite's SKIP lines are shown" grep -q '^    | SKIP g_skips: real data absent$' <<<"$out"
t_check "a passing suite's notes are shown" grep -q '^    | note: using fixtures$' <<<"$out"
t_check "a passing suite's other output is not" test "$(grep -c 'chatter' <<<"$out")" = 0
last=$(tail -n 1 <<<"$out")
t_check "the last line sums everything ($last)" test "$last" = "8 passed, 5 failed"
t_finish
