# Helpers for PAPER suites with the AI fakes (sourced after lib.sh): five planted secrets (SUPABASE_KEY
# alone would make the store refuse to open), the AI and Kraken fakes up with the environment pointing
# at them, and the AI fake's control and request count.

# a_start_fakes: plants the secrets (SECRET_NAMES), starts both fakes (AI_PORT, K_PORT) and exports
# SYSTEM_MODE=PAPER and the endpoint overrides.
a_start_fakes() {
  SECRET_NAMES=(KRAKEN_API_KEY KRAKEN_SECRET OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY)
  local name value
  for name in "${SECRET_NAMES[@]}"; do
    value=$(python3 -c 'import base64, os; print("s/" + base64.b64encode(os.urandom(24)).decode() + "+/\"q" + os.urandom(4).hex())')
    export "$name=$value"
  done
  unset SUPABASE_URL SUPABASE_KEY TITAN_HALT OPENAI_MODEL GROQ_MODEL GEMINI_MODEL
  AI_PORT=$(t_free_port)
  FAKE_OPENAI_KEY=$OPENAI_API_KEY FAKE_GROQ_KEY=$GROQ_API_KEY FAKE_GEMINI_KEY=$GEMINI_API_KEY \
    python3 "$ROOT/tests/fakes/ai_fake.py" "$AI_PORT" 2>"$T_TMP/ai_fake.err" & T_PIDS+=($!)
  K_PORT=$(t_free_port)
  python3 "$ROOT/tests/fakes/kraken_fake.py" --port "$K_PORT" 2>"$T_TMP/kraken_fake.err" & T_PIDS+=($!)
  t_check "ai fake up" t_wait_port "$AI_PORT"
  t_check "kraken fake up" t_wait_port "$K_PORT"
  export SYSTEM_MODE=PAPER KRAKEN_API_URL=http://127.0.0.1:$K_PORT
  export OPENAI_BASE_URL=http://127.0.0.1:$AI_PORT/v1 GROQ_BASE_URL=http://127.0.0.1:$AI_PORT/openai/v1
  export GEMINI_BASE_URL=http://127.0.0.1:$AI_PORT/v1beta
}

# ai_control BODY PATH: POSTs BODY to the AI fake's _control or _reset
ai_control() {
  python3 -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[2], sys.argv[1].encode(), {"Content-Type": "application/json"}), timeout=5)' \
    "$1" "http://127.0.0.1:$AI_PORT/$2"
}
# ai_requests: how many requests the AI fake received
ai_requests() {
  python3 -c 'import json, sys, urllib.request as u; r = json.load(u.urlopen(sys.argv[1], timeout=5))["requests"]; print(sum(r.values()))' \
    "http://127.0.0.1:$AI_PORT/_stats"
}
