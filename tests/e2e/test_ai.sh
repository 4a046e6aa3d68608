#!/usr/bin/env bash
# lib.ai end to end against the loopback fake of OpenAI, Groq and Gemini (tests/fakes/ai_fake.py):
# the Lua spec tests/lua/net/ai_spec.lua (failures, concurrency, vote, retry, spend cap), then
# what the run left behind: the blackbox records prompt and answers, and no secret anywhere.
. "$(dirname "$0")/lib.sh"

FAKE=$ROOT/tests/fakes/ai_fake.py

# Six distinct random secrets with '/' and '+' (the characters JSON and URLs like to mangle).
SECRET_NAMES=(KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY)
for name in "${SECRET_NAMES[@]}"; do
  value=$(python3 -c 'import base64, os; print("s/" + base64.b64encode(os.urandom(24)).decode() + "+/" + os.urandom(4).hex())')
  export "$name=$value"
done

PORT=$(t_free_port)
FAKE_OPENAI_KEY=$OPENAI_API_KEY FAKE_GROQ_KEY=$GROQ_API_KEY FAKE_GEMINI_KEY=$GEMINI_API_KEY \
FAKE_OPENAI_MODEL=gpt-4o-mini FAKE_GROQ_MODEL=llama-3.3-70b-versatile FAKE_GEMINI_MODEL=gemini-2.5-flash \
  python3 "$FAKE" "$PORT" 2>"$T_TMP/fake.err" & T_PIDS+=($!)
# A second fake expecting other keys: proves the first one really compares them.
WRONG_PORT=$(t_free_port)
FAKE_OPENAI_KEY=not-the-key FAKE_GROQ_KEY=not-the-key FAKE_GEMINI_KEY=not-the-key \
  python3 "$FAKE" "$WRONG_PORT" 2>"$T_TMP/fake_wrong.err" & T_PIDS+=($!)
t_check "ai fake up" t_wait_port "$PORT"
t_check "wrong-key ai fake up" t_wait_port "$WRONG_PORT"

export OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1
export GROQ_BASE_URL=http://127.0.0.1:$PORT/openai/v1
export GEMINI_BASE_URL=http://127.0.0.1:$PORT/v1beta
unset OPENAI_MODEL GROQ_MODEL GEMINI_MODEL TITAN_AI_DAILY_USD TITAN_FAKE_NOW_MS
export TITAN_BLACKBOX=$T_TMP/blackbox.log

mkdir -p "$T_TMP/lua"
cp "$ROOT/tests/lua/spec.lua" "$ROOT/tests/lua/fake_ctx.lua" "$ROOT/tests/lua/net/ai_spec.lua" \
   "$ROOT/tests/lua/net/ai_strategy_spec.lua" "$ROOT/tests/lua/net/ai_env_spec.lua" "$T_TMP/lua/"
OUTS=()
# run_spec FILE ARGS...: like t_spec, but stdout/stderr kept on disk for the secret checks.
run_spec() {
  local out=$T_TMP/spec.out.$RANDOM err=$T_TMP/spec.err.$RANDOM
  "$TITAN_BIN" script "$@" >"$out" 2>"$err"; local rc=$?
  OUTS+=("$out" "$err")
  grep -E '^(FAIL|  |perf:|SKIP)' "$out" | sed 's/^/    /' >&2
  local line; line=$(grep -E '[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
  if [ -n "$line" ]; then
    local p f; p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\2/')
    T_PASSED=$((T_PASSED + p)); T_FAILED=$((T_FAILED + f))
    [ "$rc" != 0 ] && [ "$f" = 0 ] && t_fail "$1 exited $rc"
  else
    t_fail "$1 printed no result (exit $rc)"; tail -20 "$err" >&2
  fi
}
run_spec "$T_TMP/lua/ai_spec.lua" "http://127.0.0.1:$PORT" "http://127.0.0.1:$WRONG_PORT"
run_spec "$T_TMP/lua/ai_strategy_spec.lua" "http://127.0.0.1:$PORT"
# the key really is checked: the second fake (expecting other keys) refuses ours
cat >"$T_TMP/lua/wrong_key.lua" <<'LUA'
local ai = require "lib.ai"
local results = ai.ask_all("x", { state = {}, timeout_ms = 3000 })
for _, r in ipairs(results) do assert(r.abstain_reason == "auth", r.provider .. ": " .. tostring(r.abstain_reason)) end
print("wrong key refused: " .. #results)
LUA
T_OUT=$T_TMP/wrong.out; T_ERR=$T_TMP/wrong.err
OPENAI_BASE_URL=http://127.0.0.1:$WRONG_PORT/v1 GROQ_BASE_URL=http://127.0.0.1:$WRONG_PORT/openai/v1 \
GEMINI_BASE_URL=http://127.0.0.1:$WRONG_PORT/v1beta "$TITAN_BIN" script "$T_TMP/lua/wrong_key.lua" >"$T_OUT" 2>"$T_ERR" </dev/null
T_RC=$?; OUTS+=("$T_OUT" "$T_ERR")
t_rc "a wrong key is refused by the provider (auth abstention)" 0
t_grep "all three providers refused the wrong key" "wrong key refused: 3" "$T_OUT"
OPENAI_MODEL=gpt-4.1-mini GEMINI_MODEL=models/gemini-2.0-flash TITAN_AI_DAILY_USD=5 \
  run_spec "$T_TMP/lua/ai_env_spec.lua" "http://127.0.0.1:$PORT" models
TITAN_AI_DAILY_USD=lots run_spec "$T_TMP/lua/ai_env_spec.lua" "http://127.0.0.1:$PORT" bad_cap
TITAN_AI_DAILY_USD=0 run_spec "$T_TMP/lua/ai_env_spec.lua" "http://127.0.0.1:$PORT" zero_cap
GEMINI_API_KEY= run_spec "$T_TMP/lua/ai_env_spec.lua" "http://127.0.0.1:$PORT" no_gemini

# The blackbox: one prompt per ask, one answer per provider with the raw text, tokens and cost.
BB=$T_TMP/blackbox.log
t_check "blackbox written" test -s "$BB"
t_grep "prompt logged" '"ev":"ai.prompt"' "$BB"
t_grep "answers logged" '"ev":"ai.answer"' "$BB"
t_grep "raw answer logged" '"raw":"{\"id\": \"chatcmpl-fake\"' "$BB"
t_grep "tokens logged" '"tokens":{' "$BB"
t_grep "abstention reason logged" '"abstain_reason":"refusal"' "$BB"
t_grep "vote logged" '"ev":"ai.vote"' "$BB"
t_grep "spend cap logged" '"ev":"ai.spend_cap"' "$BB"
t_grep "bad cap logged" 'TITAN_AI_DAILY_USD=' "$BB"
prompts=$(grep -c '"ev":"ai.prompt"' "$BB"); answers=$(grep -c '"ev":"ai.answer"' "$BB")
t_check "three answers per prompt at most ($prompts prompts, $answers answers)" test "$answers" -le $((prompts * 3))
t_check "every blackbox line is JSON" python3 -c '
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    json.loads(line)
' "$BB"
t_check "raw answers are capped" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("ev") == "ai.answer" and len(e.get("raw", "").encode()) > 2000: sys.exit(1)
' "$BB"

# No secret value anywhere: blackbox, stdout, stderr (of the spec and of the fakes).
for name in "${SECRET_NAMES[@]}"; do
  t_nogrep "$name not leaked" "${!name}" "$BB" "${OUTS[@]}" "$T_TMP/fake.err" "$T_TMP/fake_wrong.err"
done
t_finish
