#!/usr/bin/env bash
# PAPER cycles with the AI fakes (issue 6, "End to end"): agreeing providers buy, disagreeing
# ones hold, all failing hold, the spend cap (kept in the strategy state between cycles) skips
# the AI calls, and no secret appears in the blackbox, stdout or stderr.
# Needs `titan-host run` (the cycle); until it exists this suite says SKIP and checks nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ai_lib.sh"

if ! "$TITAN_BIN" help run >/dev/null 2>&1; then
  echo "SKIP test_ai_cycle: 'titan-host run' is not built yet" >&2
  t_finish; exit
fi

# Five planted secrets (ai_lib.sh): SUPABASE_KEY without SUPABASE_URL is refused by the store (fail
# closed), so the sixth is covered by test_ai.sh, which plants all six.
a_start_fakes
export TITAN_DB=$T_TMP/titan.db TITAN_BLACKBOX=$T_TMP/blackbox.log
STRATEGY=$ROOT/tests/e2e/ai_cycle_strategy.lua
SLOT0=$(( ($(date +%s) / 900) * 900 * 1000 + 60000 ))
OUTS=()

fills() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from paper_fills").fetchone()[0])' "$TITAN_DB" 2>/dev/null || echo 0; }
# cycle N: one PAPER cycle in slot N (each its own slot, so none is "already executed")
cycle() { TITAN_FAKE_NOW_MS=$((SLOT0 + $1 * 900000)) t_run run "$STRATEGY"; OUTS+=("$T_OUT" "$T_ERR"); }

# 1. three providers agree -> the buy is placed (a paper fill)
ai_control '{}' _reset
before=$(fills)
cycle 0
t_rc "agreeing cycle exit" 0
t_check "agreeing providers: a paper fill" test "$(fills)" -gt "$before"
t_check "agreeing providers: 3 AI requests" test "$(ai_requests)" = 3
t_grep "vote buy logged" '"ev":"ai.vote"' "$TITAN_BLACKBOX"
# the cycle's decision record in the store carries the votes and the outcome (ctx.decision.ai)
decision=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select decision from execution_logs order by started_at desc limit 1").fetchone()[0])' "$TITAN_DB" 2>&1)
echo "$decision" >"$T_TMP/decision.json"
t_grep "decision record has the AI votes" '"votes":[' "$T_TMP/decision.json"
t_grep "decision record has the vote outcome" '"reason":"agreed"' "$T_TMP/decision.json"

# 2. disagreement -> hold (no fill)
ai_control '{}' _reset; ai_control '{"provider":"groq","action":"sell"}' _control
before=$(fills)
cycle 1
t_rc "disagreeing cycle exit" 0
t_check "disagreeing providers: no fill" test "$(fills)" = "$before"

# 3. every provider failing -> hold
ai_control '{}' _reset; ai_control '{"provider":"all","mode":"server_error"}' _control
before=$(fills)
cycle 2
t_rc "failing cycle exit" 0
t_check "all failing: no fill" test "$(fills)" = "$before"

# 4. spend cap (kept in the strategy state, in a fresh store): a tiny cap is passed by one
#    cycle's spend; the next cycle makes no AI request and runs technical-only
ai_control '{}' _reset
export TITAN_DB=$T_TMP/titan_cap.db
TITAN_AI_DAILY_USD=0.00005 cycle 3
t_check "cap: the first cycle asked" test "$(ai_requests)" = 3
before=$(fills)
TITAN_AI_DAILY_USD=0.00005 cycle 4
t_rc "capped cycle exit" 0
t_check "cap reached: no AI request" test "$(ai_requests)" = 3
t_check "cap reached: technical-only buy" test "$(fills)" -gt "$before"
t_grep "cap logged" '"ev":"ai.spend_cap"' "$TITAN_BLACKBOX"

for name in "${SECRET_NAMES[@]}"; do
  t_nogrep "$name not leaked" "${!name}" "$TITAN_BLACKBOX" "${OUTS[@]}" "$T_TMP/ai_fake.err" "$T_TMP/kraken_fake.err"
done
t_finish
