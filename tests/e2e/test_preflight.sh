#!/usr/bin/env bash
# `titan-host check STRATEGY.lua --online` against the loopback fakes of Kraken and the AI
# providers and a real SQLite file: each check's ok/FAIL/skip line, the exit code, and no
# secret in any output.
. "$(dirname "$0")/lib.sh"

SECRET_NAMES=(KRAKEN_API_KEY SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY)
for name in "${SECRET_NAMES[@]}"; do
  export "$name=p/$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(24)).decode())')+x"
done
KRAKEN_SECRET=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(64)).decode())')
export KRAKEN_SECRET
SUPA=$SUPABASE_KEY; unset SUPABASE_KEY SUPABASE_URL     # SQLite store here
unset TITAN_FAKE_NOW_MS SYSTEM_MODE TITAN_HALT

KPORT=$(t_free_port)
DATA_ARGS=()
[ -d "$ROOT/../shared/data/kraken" ] || DATA_ARGS=(--data "$ROOT/tests/fixtures/kraken")
python3 "$ROOT/tests/fakes/kraken_fake.py" --port "$KPORT" "${DATA_ARGS[@]}" 2>"$T_TMP/kfake.err" & T_PIDS+=($!)
APORT=$(t_free_port)
FAKE_OPENAI_KEY=$OPENAI_API_KEY FAKE_GROQ_KEY=$GROQ_API_KEY FAKE_GEMINI_KEY=$GEMINI_API_KEY \
  python3 "$ROOT/tests/fakes/ai_fake.py" "$APORT" 2>"$T_TMP/afake.err" & T_PIDS+=($!)
t_check "kraken fake up" t_wait_port "$KPORT"
t_check "ai fake up" t_wait_port "$APORT"
export KRAKEN_API_URL=http://127.0.0.1:$KPORT
export OPENAI_BASE_URL=http://127.0.0.1:$APORT/v1
export GROQ_BASE_URL=http://127.0.0.1:$APORT/openai/v1
export GEMINI_BASE_URL=http://127.0.0.1:$APORT/v1beta
export TITAN_DB=$T_TMP/titan.db TITAN_BLACKBOX=$T_TMP/blackbox.log
STRATEGY=$ROOT/strategies/default.lua
OUTS=()
preflight() { t_run check "$STRATEGY" --online; OUTS+=("$T_OUT" "$T_ERR"); }
kcontrol() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/__control", data=sys.argv[2].encode(), headers={"Content-Type": "application/json"})).read()' "$KRAKEN_API_URL" "$1"; }

# LIVE with everything right: every check ok, exit 0.
SYSTEM_MODE=LIVE preflight
t_rc "LIVE, all good" 0
for check in kraken.time kraken.pair kraken.keys store halt ai.openai ai.groq ai.gemini; do
  t_check "LIVE, all good: $check ok" grep -qE "^ok +$check " "$T_OUT"
done
t_grep "LIVE, all good: verdict" "preflight passed" "$T_OUT"

# PAPER without keys: the keys and AI lines are skipped, still exit 0.
env -u KRAKEN_API_KEY -u KRAKEN_SECRET -u OPENAI_API_KEY -u GROQ_API_KEY -u GEMINI_API_KEY \
  "$TITAN_BIN" check "$STRATEGY" --online >"$T_TMP/paper.out" 2>"$T_TMP/paper.err"
t_check "PAPER without keys: exit 0" test $? = 0
t_check "PAPER without keys: kraken.keys skipped" grep -qE '^skip +kraken.keys' "$T_TMP/paper.out"
t_check "PAPER without keys: ai skipped" grep -qE '^skip +ai.openai' "$T_TMP/paper.out"
OUTS+=("$T_TMP/paper.out" "$T_TMP/paper.err")

# LIVE without Kraken keys: a LIVE requirement fails.
env -u KRAKEN_API_KEY -u KRAKEN_SECRET SYSTEM_MODE=LIVE "$TITAN_BIN" check "$STRATEGY" --online \
  >"$T_TMP/nokeys.out" 2>"$T_TMP/nokeys.err"
t_check "LIVE without keys: exit 1" test $? = 1
t_check "LIVE without keys: FAIL kraken.keys" grep -qE '^FAIL +kraken.keys' "$T_TMP/nokeys.out"
t_grep "LIVE without keys: verdict" "preflight FAILED" "$T_TMP/nokeys.out"

# A key without the Query Funds permission: named.
kcontrol '{"method": "Balance", "kind": "error", "error": "EGeneral:Permission denied"}'
SYSTEM_MODE=LIVE preflight
t_rc "permission denied: exit 1" 1
t_check "permission denied: names the permission" grep -qE "^FAIL +kraken.keys +Balance failed \(permission 'Query Funds'" "$T_OUT"
t_grep "permission denied: hints at the IP allow-list" "allow-list" "$T_OUT"

# A wrong AI key: refused by the provider.
OPENAI_API_KEY=p/wrong+key SYSTEM_MODE=LIVE preflight
t_rc "wrong OpenAI key: exit 1" 1
t_check "wrong OpenAI key: FAIL ai.openai" grep -qE '^FAIL +ai.openai +key refused \(HTTP 401\)' "$T_OUT"
t_check "wrong OpenAI key: groq still ok" grep -qE '^ok +ai.groq' "$T_OUT"

# A clock far from Kraken's.
TITAN_FAKE_NOW_MS=$(( ($(date +%s) - 120) * 1000 )) SYSTEM_MODE=LIVE preflight
t_rc "clock skew: exit 1" 1
t_check "clock skew: FAIL kraken.time" grep -qE '^FAIL +kraken.time +clock skew 1[12][0-9]\.[0-9] s' "$T_OUT"

# Kraken unreachable.
KRAKEN_API_URL=http://127.0.0.1:$(t_free_port) SYSTEM_MODE=LIVE preflight
t_rc "Kraken unreachable: exit 1" 1
t_check "Kraken unreachable: FAIL kraken.time" grep -qE '^FAIL +kraken.time +Kraken unreachable' "$T_OUT"

# A store that cannot open.
TITAN_DB=$T_TMP/missing/dir/titan.db SYSTEM_MODE=LIVE preflight
t_rc "store missing folder: exit 1" 1
t_check "store missing folder: FAIL store naming the path" grep -qE "^FAIL +store .*missing/dir" "$T_OUT"

# LIVE inside GitHub Actions with SQLite: refused.
GITHUB_ACTIONS=true SYSTEM_MODE=LIVE preflight
t_rc "LIVE in Actions on SQLite: exit 1" 1
t_check "LIVE in Actions on SQLite: FAIL store" grep -qE '^FAIL +store +LIVE inside GitHub Actions needs Supabase' "$T_OUT"

# The halt flag is reported, not a failure.
"$TITAN_BIN" halt on >/dev/null 2>&1
SYSTEM_MODE=LIVE preflight
t_rc "halted: still exit 0" 0
t_check "halted: warn line" grep -qE '^warn +halt +ON' "$T_OUT"
"$TITAN_BIN" halt off >/dev/null 2>&1

# Read calls only: the preflight never placed an order.
orders=$(python3 -c 'import json, sys, urllib.request; print(len(json.load(urllib.request.urlopen(sys.argv[1] + "/__orders"))["orders"]))' "$KRAKEN_API_URL")
t_check "no order placed by the preflight ($orders)" test "$orders" = 0

export SUPABASE_KEY=$SUPA
for name in "${SECRET_NAMES[@]}" KRAKEN_SECRET; do
  t_nogrep "no $name in any output" "${!name}" "${OUTS[@]}" "$TITAN_BLACKBOX" "$T_TMP/nokeys.out" "$T_TMP/nokeys.err"
done
t_finish
