#!/usr/bin/env bash
# The fakes against the official clients (issue 13): starts the Kraken, AI and PostgREST fakes (the
# last in front of a real PostgreSQL with the shipped schema) and drives them with ccxt, openai,
# groq-sdk, @google/genai and @supabase/postgrest-js from tests/conformance (tests/conformance/run.mjs),
# sending titan's own AI request bodies. Skips, saying why, when Node.js or the installed clients are
# missing (tools/install-deps test installs both; offline, it says so and this suite skips).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
CONF=${TITAN_CONFORMANCE_DIR:-$ROOT/tests/conformance}

# skip REASON: the suite passes with nothing checked, and says so on stdout (tests/run shows it).
skip() { echo "SKIP $T_NAME: $*"; t_finish; exit 0; }
command -v node >/dev/null 2>&1 || skip "Node.js not found: tools/install-deps test installs it (Debian's nodejs, npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 18 ] || skip "Node.js $(node --version 2>/dev/null) is older than 18, which the clients need"
if ! cmp -s "$CONF/package-lock.json" "$CONF/node_modules/.titan-lock"; then
  why="the clients are not installed (or not from the current package-lock.json): run tools/install-deps test"
  [ -s "$CONF/.install-failed" ] && why="$(head -c 400 "$CONF/.install-failed")"
  skip "$why"
fi

# The install step offline and this suite's skip: an unreachable registry (refused on a loopback
# port, empty npm cache) is said, recorded, not fatal, and the suite then skips with that reason.
if [ -z "${TITAN_CONFORMANCE_DIR:-}" ]; then
  copy=$T_TMP/conformance-copy
  mkdir -p "$copy" && cp "$CONF/package.json" "$CONF/package-lock.json" "$copy/"
  TITAN_CONFORMANCE_DIR=$copy npm_config_registry=http://127.0.0.1:9/ npm_config_cache=$T_TMP/npmcache \
    npm_config_fetch_retries=0 "$ROOT/tools/install-deps" conformance >"$T_TMP/offline.out" 2>&1
  t_check "offline install: not fatal" test $? = 0
  t_grep "offline install: says so" "the conformance suite will skip" "$T_TMP/offline.out"
  t_check "offline install: reason recorded" grep -q "registry unreachable" "$copy/.install-failed"
  t_check "offline install: nothing half-installed" test ! -e "$copy/node_modules"
  TITAN_CONFORMANCE_DIR=$copy bash "$0" >"$T_TMP/skip.out" 2>&1
  t_check "the suite then skips, not fails" test $? = 0
  t_grep "the skip gives the reason" "SKIP test_conformance: npm ci for tests/conformance failed" "$T_TMP/skip.out"
  t_grep "a skip counts nothing" "test_conformance: 0 passed, 0 failed" "$T_TMP/skip.out"
fi

pg_python   # for the PostgREST fake

# Keys of the right shapes, random: each fake accepts only its own (and the wrong-key checks prove it).
KRAKEN_API_KEY=conf-$(python3 -c 'import secrets; print(secrets.token_hex(16))')
KRAKEN_SECRET=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(64)).decode())')
OPENAI_API_KEY=sk-conf-$(python3 -c 'import secrets; print(secrets.token_hex(16))')
GROQ_API_KEY=gsk_conf$(python3 -c 'import secrets; print(secrets.token_hex(16))')
GEMINI_API_KEY=AIzaconf$(python3 -c 'import secrets; print(secrets.token_hex(16))')
SUPABASE_KEY=sb_secret_conf$(python3 -c 'import secrets; print(secrets.token_hex(16))')
export KRAKEN_API_KEY KRAKEN_SECRET OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY SUPABASE_KEY
unset OPENAI_MODEL GROQ_MODEL GEMINI_MODEL OPENAI_BASE_URL GROQ_BASE_URL GEMINI_BASE_URL SUPABASE_URL
export TITAN_BLACKBOX=$T_TMP/blackbox.log

# ---- a real PostgreSQL with the schema, and a function raising any SQLSTATE ----
pg_start
t_check "schema applied" psql_run -f "$ROOT/examples/supabase/schema.sql" -o /dev/null
t_check "conformance_raise created" psql_run -c "create function public.conformance_raise(code text) returns void
  language plpgsql as \$\$ begin raise exception 'raised %', code using errcode = code; end \$\$"

# ---- the fakes ----
K_PORT=$(t_free_port); AI_PORT=$(t_free_port); REST_PORT=$(t_free_port)
python3 "$ROOT/tests/fakes/kraken_fake.py" --port "$K_PORT" 2>"$T_TMP/kraken.err" & T_PIDS+=($!)
FAKE_OPENAI_KEY=$OPENAI_API_KEY FAKE_GROQ_KEY=$GROQ_API_KEY FAKE_GEMINI_KEY=$GEMINI_API_KEY \
  python3 "$ROOT/tests/fakes/ai_fake.py" "$AI_PORT" 2>"$T_TMP/ai.err" & T_PIDS+=($!)
FAKE_SUPABASE_KEYS=$SUPABASE_KEY "$PY" "$ROOT/tests/fakes/postgrest_fake.py" --port "$REST_PORT" \
  --pg-host "$PGHOST" --pg-port "$PGPORT" 2>"$T_TMP/postgrest.err" & T_PIDS+=($!)
for port in "$K_PORT" "$AI_PORT" "$REST_PORT"; do t_check "fake on $port up" t_wait_port "$port"; done

# titan's AI request bodies, built by lib/ai itself
requests=$("$TITAN_BIN" script "$CONF/titan_requests.lua" 2>"$T_TMP/requests.err")
t_check "titan printed its AI requests" python3 -c 'import json, sys; json.loads(sys.argv[1])["openai"]["messages"]' "$requests"

out=$T_TMP/conformance.out
KRAKEN_URL=http://127.0.0.1:$K_PORT AI_URL=http://127.0.0.1:$AI_PORT POSTGREST_URL=http://127.0.0.1:$REST_PORT \
  TITAN_AI_REQUESTS=$requests timeout 300 node "$CONF/run.mjs" >"$out" 2>&1
rc=$?
grep -v ' passed, .* failed$' "$out" | sed 's/^/    /' >&2
line=$(grep -E '^conformance: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
if [ -n "$line" ]; then
  p=$(sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\2/' <<<"$line")
  T_PASSED=$((T_PASSED + p)); T_FAILED=$((T_FAILED + f))
  [ "$rc" != 0 ] && [ "$f" = 0 ] && t_fail "run.mjs exited $rc"
else
  t_fail "run.mjs printed no result (exit $rc)"
fi
t_check "no fake had an internal error" bash -c "! grep -q 'failed: ' '$T_TMP/kraken.err'"
for name in KRAKEN_SECRET OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY SUPABASE_KEY; do
  t_nogrep "$name not printed by the clients or the fakes" "${!name}" "$out" "$T_TMP"/*.err
done
t_finish
