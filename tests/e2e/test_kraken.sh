#!/usr/bin/env bash
# titan.kraken end to end against the loopback fake Kraken (tests/fakes/kraken_fake.py, which
# verifies every API-Sign and nonce itself): the Lua spec tests/lua/net/kraken_spec.lua (error
# mapping, nonce retry rule, AddOrder never retried, OHLC, pair keys, warnings, broken answers,
# timeouts), credential and nonce cases in separate processes (kraken_creds_spec.lua), then what
# the runs left behind: kraken.call events in the blackbox and no secret or signature anywhere.
. "$(dirname "$0")/lib.sh"

FAKE=$ROOT/tests/fakes/kraken_fake.py

# Six distinct random secrets with '/' and '+'; KRAKEN_SECRET is a real 64-byte base64 key.
SECRET_NAMES=(KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY)
for name in "${SECRET_NAMES[@]}"; do
  value=$(python3 -c 'import base64, os; print("k/" + base64.b64encode(os.urandom(24)).decode() + "+/" + os.urandom(4).hex())')
  export "$name=$value"
done
KRAKEN_SECRET=$(python3 -c 'import base64, os
while True:
    s = base64.b64encode(os.urandom(64)).decode()
    if "/" in s and "+" in s: print(s); break')
export KRAKEN_SECRET
unset TITAN_FAKE_NOW_MS

PORT=$(t_free_port)
DATA_ARGS=()
if [ "${KRAKEN_FAKE_FIXTURES_ONLY:-}" = 1 ] || [ ! -d "$ROOT/../shared/data/kraken" ]; then
  echo "note: ../shared/data/kraken absent (or KRAKEN_FAKE_FIXTURES_ONLY=1): serving tests/fixtures/kraken" >&2
  DATA_ARGS=(--data "$ROOT/tests/fixtures/kraken")
fi
python3 "$FAKE" --port "$PORT" "${DATA_ARGS[@]}" 2>"$T_TMP/fake.err" & T_PIDS+=($!)
t_check "fake kraken up" t_wait_port "$PORT"
URL=http://127.0.0.1:$PORT
export KRAKEN_API_URL=$URL
export TITAN_BLACKBOX=$T_TMP/blackbox.log
export TITAN_LOG_LEVEL=warn
# the specs place and cancel orders through titan.kraken.private (refused from Lua by default)
export TITAN_KRAKEN_LUA_WRITES=1

mkdir -p "$T_TMP/lua"
cp "$ROOT/tests/lua/spec.lua" "$ROOT/tests/lua/net/kraken_spec.lua" "$ROOT/tests/lua/net/kraken_creds_spec.lua" "$T_TMP/lua/"

# run_spec NAME OUT ERR -- ARGS...: runs a spec, keeps its output, folds its counts into ours.
run_spec() {
  local name=$1 out=$2 err=$3; shift 3
  "$TITAN_BIN" script "$@" >"$out" 2>"$err"
  local rc=$?
  grep -E '^(FAIL|  )' "$out" | sed 's/^/    /' >&2
  local line; line=$(grep -E '[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
  if [ -n "$line" ]; then
    local p f
    p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\2/')
    T_PASSED=$((T_PASSED + p)); T_FAILED=$((T_FAILED + f))
    [ "$rc" != 0 ] && [ "$f" = 0 ] && t_fail "$name exited $rc"
  else
    t_fail "$name printed no result (exit $rc)"; tail -20 "$err" >&2
  fi
}

OUTS=()
run_spec kraken_spec "$T_TMP/spec.out" "$T_TMP/spec.err" "$T_TMP/lua/kraken_spec.lua" "$URL"
OUTS+=("$T_TMP/spec.out" "$T_TMP/spec.err")

# Without TITAN_KRAKEN_LUA_WRITES=1, Lua cannot place an order: raises, nothing is sent.
cat >"$T_TMP/lua/no_writes.lua" <<'EOF'
local ok, err = pcall(titan.kraken.private, "AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.001"})
assert(not ok and tostring(err):find("returns intents", 1, true), "AddOrder was not refused: " .. tostring(err))
assert(titan.kraken.balance(), "reads still work")
print("refused")
EOF
addorders() { python3 -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))["counts"].get("AddOrder", 0))' "$URL/__calls"; }
before=$(addorders)
env -u TITAN_KRAKEN_LUA_WRITES "$TITAN_BIN" script "$T_TMP/lua/no_writes.lua" >"$T_TMP/no_writes.out" 2>"$T_TMP/no_writes.err"
rc=$?
OUTS+=("$T_TMP/no_writes.out" "$T_TMP/no_writes.err")
t_check "AddOrder from Lua refused by default: script exit $rc" test "$rc" = 0
t_grep "AddOrder from Lua refused by default" "refused" "$T_TMP/no_writes.out"
after=$(addorders)
t_check "no AddOrder reached the fake ($before -> $after)" test "$before" = "$after"

# Credentials, one process per case (the signer is set up once per run).
creds_case() {
  local name=$1 code=$2 calls=$3; shift 3
  env "$@" "$TITAN_BIN" script "$T_TMP/lua/kraken_creds_spec.lua" "$URL" "$code" "$calls" \
    >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
  local rc=$?
  OUTS+=("$T_TMP/$name.out" "$T_TMP/$name.err")
  if grep -qE '^kraken_creds_spec: [0-9]+ passed, 0 failed$' "$T_TMP/$name.out" && [ "$rc" = 0 ]; then t_pass
  else t_fail "credentials case $name (want $code)"; sed 's/^/    /' "$T_TMP/$name.out" "$T_TMP/$name.err" | tail -20 >&2; fi
}
creds_case no_credentials kraken.no_credentials 0 -u KRAKEN_API_KEY -u KRAKEN_SECRET
creds_case no_secret kraken.no_credentials 0 -u KRAKEN_SECRET
creds_case no_key kraken.no_credentials 0 -u KRAKEN_API_KEY
creds_case bad_base64 kraken.invalid_secret 0 "KRAKEN_SECRET=not base64 at all!"
OTHER_SECRET=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(64)).decode())')
creds_case wrong_secret kraken.invalid_signature 1 "KRAKEN_SECRET=$OTHER_SECRET"
creds_case wrong_key kraken.invalid_key 1 "KRAKEN_API_KEY=not-the-key"
# A pinned clock far in the past does not move nonces (they follow the real clock): works.
creds_case pinned_clock_ok kraken.none 0 TITAN_FAKE_NOW_MS=1000000000000
# Another client used the key with nonces far ahead (or our clock is behind): the fake rejects
# the nonce, the read is retried exactly once (last + 1 is still behind) and fails.
python3 -c 'import sys, time, urllib.request
body = ("{\"last_nonce\": %d}" % (int(time.time() * 1000) + 3600 * 1000)).encode()
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/__control", data=body))' "$URL"
creds_case nonce_behind kraken.invalid_nonce 2


# The blackbox: every call logged, with outcome codes; never a header, key or signature.
BB=$TITAN_BLACKBOX
t_check "blackbox written" test -s "$BB"
t_grep "kraken.call logged" '"ev":"kraken.call"' "$BB"
t_grep "AddOrder logged" '"method":"AddOrder","private":true' "$BB"
t_grep "error code logged" '"code":"kraken.insufficient_funds"' "$BB"
t_grep "in-doubt logged" '"sent":true' "$BB"
t_grep "no_credentials logged" '"code":"kraken.no_credentials"' "$BB"
t_nogrep "no API-Sign header in the blackbox" "API-Sign" "$BB"
t_nogrep "no API-Key header in the blackbox" "API-Key" "$BB"
t_check "every blackbox line is JSON" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)
' "$BB"

# The wall-clock budget bounds Kraken calls made from Lua: a stalled Ticker that asks for 8 s
# ends at the 1 s budget and the script stops there.
fake_control() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], sys.argv[2].encode())' "$URL/__control" "$1" >/dev/null; }
fake_control '{"reset": true}'
fake_control '{"method": "Ticker", "kind": "stall", "seconds": 8, "times": -1}'
printf 'print(titan.kraken.ticker("XBTUSD", { timeout_ms = 8000 }))\nprint("ESCAPED")\n' >"$T_TMP/wall.lua"
start=$(date +%s%N)
TITAN_LUA_WALL_S=1 timeout 30 "$TITAN_BIN" script "$T_TMP/wall.lua" >"$T_TMP/wall.out" 2>&1; rc=$?
took=$((($(date +%s%N) - start) / 1000000))
OUTS+=("$T_TMP/wall.out")
t_check "a stalled Kraken call stops at the wall-clock budget (exit $rc, ${took} ms)" test "$rc" = 1 -a "$took" -lt 3000
t_grep "stalled Kraken call: time budget named" "time budget exceeded" "$T_TMP/wall.out"
t_nogrep "stalled Kraken call: nothing ran after it" "ESCAPED" "$T_TMP/wall.out"
fake_control '{"reset": true}'

# Every signature the fake received (kept across its resets): in none of our outputs.
python3 -c '
import json, sys, urllib.request
for s in json.load(urllib.request.urlopen(sys.argv[1]))["signatures"]:
    print(s)
' "$URL/__signatures" >"$T_TMP/signs.txt"
t_check "the fake saw signed calls" test -s "$T_TMP/signs.txt"
leaked=0
while read -r sig; do
  grep -qF -- "$sig" "$BB" "${OUTS[@]}" && leaked=1
done <"$T_TMP/signs.txt"
t_check "no signature in blackbox/stdout/stderr" test "$leaked" = 0

# No secret value anywhere: blackbox, stdout, stderr.
for name in "${SECRET_NAMES[@]}"; do
  t_nogrep "$name not leaked" "${!name}" "$BB" "${OUTS[@]}"
done
t_nogrep "other secret not leaked" "$OTHER_SECRET" "$BB" "${OUTS[@]}"
t_check "fake had no internal error" bash -c "! grep -q 'failed:' '$T_TMP/fake.err'"
t_finish
