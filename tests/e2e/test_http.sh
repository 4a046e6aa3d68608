#!/usr/bin/env bash
# titan.http and titan.secret end to end: a loopback fake (plain and HTTPS with a self-signed
# certificate made here), the Lua spec tests/lua/net/http_spec.lua, then what the run left
# behind: blackbox lines per request without query secrets, and no secret value in any output.
. "$(dirname "$0")/lib.sh"

FAKE=$ROOT/tests/fakes/http_server.py
# Six distinct random secrets with '/' and '+' (the characters JSON and URLs like to mangle).
for name in KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY; do
  value=$(python3 -c 'import base64, os; print("s/" + base64.b64encode(os.urandom(24)).decode() + "+/" + os.urandom(4).hex())')
  export "$name=$value"
done
SECRET_NAMES=(KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY)

# A self-signed certificate for 127.0.0.1: the client must refuse it (verification is always on).
if ! openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
     -addext "subjectAltName=IP:127.0.0.1" -keyout "$T_TMP/key.pem" -out "$T_TMP/cert.pem" >/dev/null 2>&1; then
  t_fail "openssl req -x509 could not make a test certificate"
  t_finish; exit
fi

PORT=$(t_free_port)
python3 "$FAKE" "$PORT" 2>"$T_TMP/fake.err" & T_PIDS+=($!)
TLS_PORT=$(t_free_port)
python3 "$FAKE" "$TLS_PORT" --tls "$T_TMP/cert.pem" "$T_TMP/key.pem" 2>"$T_TMP/fake_tls.err" & T_PIDS+=($!)
CLOSED_PORT=$(t_free_port)    # nothing listens there
t_check "fake http server up" t_wait_port "$PORT"
t_check "fake https server up" t_wait_port "$TLS_PORT"

# DNS: an unresolvable name must fail fast; where lookups hang, the spec skips that one check.
DNS=yes
timeout 5 getent hosts nonexistent.invalid >/dev/null 2>&1
if [ $? = 124 ]; then
  DNS=no
  echo "SKIP http.dns check: DNS lookups hang in this sandbox" >&2
fi

export TITAN_BLACKBOX=$T_TMP/blackbox.log
# each AI key may only go to its provider's origin: here, the loopback echo server
export OPENAI_BASE_URL=http://127.0.0.1:$PORT GROQ_BASE_URL=http://127.0.0.1:$PORT GEMINI_BASE_URL=http://127.0.0.1:$PORT
OUTS=()

# t_spec_files FILE ARGS...: t_spec, but stdout/stderr kept on disk for the secret checks.
t_spec_files() {
  local out=$T_TMP/spec.out.$RANDOM err=$T_TMP/spec.err.$RANDOM
  "$TITAN_BIN" script "$@" >"$out" 2>"$err"; local rc=$?
  [ "$rc" != 0 ] && tail -40 "$err" | grep -v "^20[0-9][0-9]-" >&2
  OUTS+=("$out" "$err")
  grep -v ' passed, .* failed$' "$out" | grep -E '^(FAIL|  |SKIP)' | sed 's/^/    /' >&2
  local line; line=$(grep -E '[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
  if [ -n "$line" ]; then
    local p f; p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\2/')
    T_PASSED=$((T_PASSED + p)); T_FAILED=$((T_FAILED + f))
    [ "$rc" != 0 ] && [ "$f" = 0 ] && t_fail "$1 exited $rc"
  else
    t_fail "$1 printed no result (exit $rc)"; tail -20 "$err" >&2
  fi
}

mkdir -p "$T_TMP/lua"
cp "$ROOT/tests/lua/spec.lua" "$ROOT/tests/lua/net/http_spec.lua" "$T_TMP/lua/"
t_spec_files "$T_TMP/lua/http_spec.lua" "http://127.0.0.1:$PORT" "https://127.0.0.1:$TLS_PORT" "$CLOSED_PORT" "$DNS"

# ---- blackbox: one http.request line per request, no query secrets, no headers ----------------
BB=$T_TMP/bb_only.log
cat >"$T_TMP/lua/bb.lua" <<EOF
local http = titan.http
local base = "http://127.0.0.1:$PORT"
assert(http.request{ url = base .. "/echo?x=1&api_key=QSECRET1&sig=QSECRET2&token=QSECRET3&Signature=QSECRET4&foo=bar&apikey=QSECRET5&key=QSECRET6&secret=QSECRET7",
                     headers = { ["X-Probe"] = "HEADERVALUE77", Authorization = { "Bearer ", titan.secret("OPENAI_API_KEY") } } })
local r500 = assert(http.request{ url = base .. "/status/500", method = "POST", body = "BODYVALUE88" })
assert(r500.status == 500)
local res, err = http.request{ url = "http://127.0.0.1:$CLOSED_PORT/x" }
assert(res == nil and err.code == "http.connect")
local results = http.batch{ { url = "http://user:PASSWORD99@127.0.0.1:$PORT/echo" }, { url = base .. "/flaky/bb?fail=1", retries = 1 } }
assert(results[1][1].status == 200 and results[2][1].attempts == 2)
print("bb done")
EOF
TITAN_BLACKBOX=$BB.all t_run script "$T_TMP/lua/bb.lua"
OUTS+=("$T_OUT" "$T_ERR" "$BB.all")
t_rc "blackbox script" 0
grep -F '"ev":"http.request"' "$BB.all" >"$BB"
n=$(wc -l <"$BB")
if [ "$n" = 5 ]; then t_pass; else t_fail "blackbox: want 5 http.request lines for 5 requests, got $n"; cat "$BB" >&2; fi
t_grep "query api_key removed" 'api_key=[removed]' "$BB"
t_grep "query sig removed" 'sig=[removed]' "$BB"
t_grep "query token removed" 'token=[removed]' "$BB"
t_grep "query Signature removed" 'Signature=[removed]' "$BB"
t_grep "query apikey removed" 'apikey=[removed]' "$BB"
t_grep "query key removed" '&key=[removed]' "$BB"
t_grep "query secret removed" 'secret=[removed]' "$BB"
t_grep "other query values kept" 'x=1&' "$BB"
t_grep "other query values kept (foo)" 'foo=bar' "$BB"
for i in 1 2 3 4 5 6 7; do t_nogrep "query secret QSECRET$i not logged" "QSECRET$i" "$BB.all" "$T_OUT" "$T_ERR"; done
t_nogrep "userinfo password not logged" "PASSWORD99" "$BB.all" "$T_OUT" "$T_ERR"
t_nogrep "header values never logged" "HEADERVALUE77" "$BB.all" "$T_OUT" "$T_ERR"
t_nogrep "bodies never logged" "BODYVALUE88" "$BB.all" "$T_OUT" "$T_ERR"
t_grep "method logged" '"method":"POST"' "$BB"
t_grep "status logged" '"status":500' "$BB"
t_grep "bytes logged" '"bytes":10' "$BB"
t_grep "elapsed logged" '"elapsed_ms":' "$BB"
t_grep "attempts logged" '"attempts":2' "$BB"
t_grep "error code logged" '"error":"http.connect"' "$BB"
t_grep "sent flag logged" '"sent":false' "$BB"
t_grep "retry logged" '"ev":"http.retry"' "$BB.all"
t_grep "request echoed on stderr" 'http.request {"method":"GET"' "$T_ERR"

# ---- titan.secret of an unset variable ----------------------------------------------------
cat >"$T_TMP/lua/unset.lua" <<'EOF'
local h, err = titan.secret("GEMINI_API_KEY")
assert(h == nil, "handle for an unset secret")
assert(err.code == "secret.unset", err.code)
assert(err.message:find("GEMINI_API_KEY", 1, true))
assert(titan.secret("GROQ_API_KEY"), "other secrets still available")
print("unset ok")
EOF
T_OUT=$T_TMP/unset.out; T_ERR=$T_TMP/unset.err
env -u GEMINI_API_KEY "$TITAN_BIN" script "$T_TMP/lua/unset.lua" >"$T_OUT" 2>"$T_ERR" </dev/null; T_RC=$?
OUTS+=("$T_OUT" "$T_ERR")
t_rc "secret.unset script" 0
t_grep "secret.unset" "unset ok" "$T_OUT"
GEMINI_API_KEY= "$TITAN_BIN" script "$T_TMP/lua/unset.lua" >"$T_OUT.2" 2>&1; T_RC=$?
t_rc "an empty secret counts as unset" 0

# ---- the wall-clock budget bounds requests made from Lua -----------------------------------
# A request may ask for 8 s, but the call has 1 s left: it ends at the budget and the script
# stops there; requests in a loop driven by C (table.sort's comparator) are stopped too.
cat >"$T_TMP/lua/wall.lua" <<EOF
local res, err = titan.http.request({ url = "http://127.0.0.1:$PORT/delay/8000", timeout_ms = 8000 })
print("request ended", res and res.status, err and err.code)
print("ESCAPED")
EOF
cat >"$T_TMP/lua/wall_sort.lua" <<EOF
local t = {}
for i = 1, 6 do t[i] = { url = "http://127.0.0.1:$PORT/delay/3000", timeout_ms = 3000 } end
table.sort(t, function(a, b) return titan.http.request(a) ~= nil end)
print("ESCAPED")
EOF
for script in wall wall_sort; do
  start=$(date +%s%N)
  TITAN_LUA_WALL_S=1 timeout 30 "$TITAN_BIN" script "$T_TMP/lua/$script.lua" >"$T_TMP/$script.out" 2>&1; rc=$?
  took=$((($(date +%s%N) - start) / 1000000))
  OUTS+=("$T_TMP/$script.out")
  t_check "$script: a request past the wall-clock budget stops the script (exit $rc)" test "$rc" = 1
  t_check "$script: within the budget, not the request's timeout (${took} ms)" test "$took" -lt 3000
  t_grep "$script: time budget named" "time budget exceeded" "$T_TMP/$script.out"
  t_nogrep "$script: nothing ran after it" "ESCAPED" "$T_TMP/$script.out"
done

# ---- C-side memory counts against TITAN_LUA_MEM_MB ------------------------------------------
# 16 requests allowed 512 MiB each, to a server streaming 200 MB to each (chunked, no length):
# the response buffers share what is left of the 64 MiB budget and fail with http.memory_budget
# instead of growing to gigabytes. Outside the sanitizers, a 2 GiB address-space limit keeps a
# broken build from taking the machine's memory; the peak RSS is measured either way.
cat >"$T_TMP/lua/mem.lua" <<EOF
local function codes(results)
  local out = {}
  for i, r in ipairs(results) do out[i] = r[1] and ("ok:" .. #r[1].body) or r[2].code end
  return table.concat(out, " ")
end
local big = {}
for i = 1, 16 do
  big[i] = { url = "http://127.0.0.1:$PORT/bytes/200000000?chunked=1", max_body = 512 * 1024 * 1024, timeout_ms = 60000 }
end
print("big batch: " .. codes(titan.http.batch(big)))
local res, err = titan.http.request{ url = "http://127.0.0.1:$PORT/bytes/200000000", max_body = 512 * 1024 * 1024,
                                     timeout_ms = 60000 }
print("big request: " .. (res and "ok" or err.code) .. " | " .. (err and err.message or ""))
local small = {}
for i = 1, 16 do small[i] = { url = "http://127.0.0.1:$PORT/bytes/1000000?chunked=1", timeout_ms = 60000 } end
print("small batch: " .. codes(titan.http.batch(small)))
EOF
cat >"$T_TMP/peak_rss.py" <<'EOF'
import os, resource, subprocess, sys
def limit():
    if not sys.argv[3]:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
p = subprocess.run([sys.argv[1], "script", sys.argv[2]], env=dict(os.environ, TITAN_LUA_MEM_MB="64"),
                   preexec_fn=limit, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
sys.stdout.write(p.stdout.decode(errors="replace"))
print("exit=%d peak_rss_mb=%d" % (p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024))
EOF
python3 "$T_TMP/peak_rss.py" "$TITAN_BIN" "$T_TMP/lua/mem.lua" "${SANITIZER:-}" >"$T_TMP/mem.out" 2>&1
OUTS+=("$T_TMP/mem.out")
t_grep "16 x 512 MiB under TITAN_LUA_MEM_MB=64: the script ends normally" "exit=0" "$T_TMP/mem.out"
t_grep "16 x 512 MiB: every response refused with http.memory_budget" \
  "big batch: $(printf 'http.memory_budget %.0s' $(seq 15))http.memory_budget" "$T_TMP/mem.out"
t_grep "one 200 MB response: http.memory_budget" "big request: http.memory_budget" "$T_TMP/mem.out"
t_grep "the message names the budget" "TITAN_LUA_MEM_MB" "$T_TMP/mem.out"
t_grep "16 x 1 MB fit in the budget" "small batch: $(printf 'ok:1000000 %.0s' $(seq 15))ok:1000000" "$T_TMP/mem.out"
peak=$(sed -n 's/.*peak_rss_mb=\([0-9]*\).*/\1/p' "$T_TMP/mem.out")
limit_mb=$([ -n "${SANITIZER:-}" ] && echo 1500 || echo 400)
t_check "peak RSS ${peak:-?} MB stays under $limit_mb MB" test "${peak:-99999}" -lt "$limit_mb"

# ---- no secret value anywhere the run wrote ------------------------------------------------
t_check "the spec run wrote a blackbox" grep -q http.request "$TITAN_BLACKBOX"
for name in "${SECRET_NAMES[@]}"; do
  value=${!name}
  escaped=${value//\//\\/}
  t_nogrep "$name not in blackbox/stdout/stderr" "$value" "$TITAN_BLACKBOX" "${OUTS[@]}"
  t_nogrep "$name (JSON-escaped) not in blackbox/stdout/stderr" "$escaped" "$TITAN_BLACKBOX" "${OUTS[@]}"
  t_nogrep "$name tail not in outputs" "${value: -12}" "$TITAN_BLACKBOX" "${OUTS[@]}"
done

t_finish
