#!/usr/bin/env bash
# Secrets never leave the process: the eleven secret variables get random values with '/', '+'
# and '"' (in the shape their settings accept: a Telegram token, http(s) URLs for the webhooks);
# scripts written at test time hold those values literally and print them, log them,
# JSON-encode them, raise them and feed them to `check`. No value, no encoded spelling and no
# 12-character fragment of one may appear on stdout, stderr or in the blackbox.
source "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1
unset TITAN_HOME TITAN_LUA_CPU_S TITAN_LUA_MEM_MB TITAN_FAKE_NOW_MS TITAN_LOG_LEVEL
export TITAN_BLACKBOX=$T_TMP/blackbox.log
NAMES="KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY TELEGRAM_BOT_TOKEN
DISCORD_WEBHOOK_URL SLACK_WEBHOOK_URL TITAN_WEBHOOK_URL TITAN_WEBHOOK_SECRET"
export TELEGRAM_CHAT_ID=42          # configuration, not a secret (the token needs it)

# Distinct random values from printable characters without '\', ']' or "'" (so that they fit a
# Lua long bracket), each holding '/', '+' and '"'. Written as NAME=VALUE lines.
python3 - "$T_TMP/values" <<'EOF'
import secrets, sys
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+\"=-_.:!@#%&*?~,;<>()|^{}`$ "
names = ("KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY TELEGRAM_BOT_TOKEN "
         "DISCORD_WEBHOOK_URL SLACK_WEBHOOK_URL TITAN_WEBHOOK_URL TITAN_WEBHOOK_SECRET").split()
token = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
with open(sys.argv[1], "w") as f:
    seen = set()
    for n in names:
        while True:
            body = "".join(secrets.choice(alphabet) for _ in range(40))
            v = "s" + body[:10] + "/" + body[10:20] + "+" + body[20:30] + '"' + body[30:] + "z"
            if n == "TELEGRAM_BOT_TOKEN":    # the shape TELEGRAM_BOT_TOKEN must have (it goes in a URL path)
                v = "%d:%s" % (secrets.randbelow(10**9) + 10**8, "".join(secrets.choice(token) for _ in range(40)))
            elif n.endswith("_URL"):        # a URL, as its setting requires, with odd characters in it
                v = "https://" + v.replace(" ", "")
            if v not in seen and v.strip() == v:
                seen.add(v)
                break
        f.write("%s=%s\n" % (n, v))
EOF
while IFS= read -r line; do export "${line%%=*}=${line#*=}"; done <"$T_TMP/values"
for n in $NAMES; do t_check "$n is set" test -n "${!n}"; done

# Lua source defining S1..S11 as literals (long brackets hold '"' and '/' as they are).
python3 - "$T_TMP/values" >"$T_TMP/secrets_prelude.lua" <<'EOF'
import sys
for i, line in enumerate(open(sys.argv[1]).read().splitlines(), 1):
    name, value = line.split("=", 1)
    print("local S%d = [==[%s]==]  -- %s" % (i, value, name))
EOF
mkdir -p "$T_TMP/scripts"
write_script() { { cat "$T_TMP/secrets_prelude.lua"; cat; } >"$T_TMP/scripts/$1.lua"; }

# Each run's stdout/stderr is kept for the final leak scan.
mkdir -p "$T_TMP/kept"
n_runs=0
run_kept() {
  local want_rc=$1 name=$2; shift 2
  t_run "$@"
  n_runs=$((n_runs + 1))
  cp "$T_OUT" "$T_TMP/kept/out.$n_runs.$name"; cp "$T_ERR" "$T_TMP/kept/err.$n_runs.$name"
  t_rc "$name exit" "$want_rc"
  if grep -qF '[redacted]' "$T_OUT" "$T_ERR"; then t_pass; else t_fail "$name: no [redacted] in its output (did the secret reach it?)"; fi
}

write_script print <<'EOF'
print(S1)
print("key=" .. S2 .. ";next")
print(S3, S4)
print(string.format("%s|%q", S5, S6))
print(S1 .. S2 .. S3 .. S4 .. S5 .. S6)
print(table.concat({ S1, S2 }, ","), ("%s"):format(S3), ("x"):rep(2) .. S4)
print(os.getenv("KRAKEN_SECRET"), os.getenv("OPENAI_API_KEY"))
EOF
run_kept 0 print script "$T_TMP/scripts/print.lua"
t_grep "os.getenv of a secret is nil" "nil	nil" "$T_OUT"

write_script json <<'EOF'
local json = titan.json
print(json.encode({ k = S1, list = { S2, S3 }, [S4] = "as a key" }))
print(json.encode(S5))
print(json.encode({ body = json.encode({ token = S6 }) }))  -- JSON inside JSON
print(json.encode({ all = S1 .. S2 .. S3 .. S4 .. S5 .. S6 }))
EOF
run_kept 0 json script "$T_TMP/scripts/json.lua"
t_grep "cjson output is there" '{"' "$T_OUT"

write_script log <<'EOF'
local log = titan.log
log.info("secret.field", { value = S1, text = "before " .. S2 .. " after", list = { S3 } })
log.warn("event." .. S4)
log.error(S5, { [S6] = "key is a secret" })
log.info("json.body", { body = titan.json.encode({ key = S1, other = S2 }) })
log.debug("debug." .. S3, { v = S4 })
print("logged")
EOF
run_kept 0 log script "$T_TMP/scripts/log.lua"
TITAN_LOG_LEVEL=debug run_kept 0 log-debug script "$T_TMP/scripts/log.lua"
t_grep "debug echo happened" "debug.[redacted]" "$T_ERR"

write_script error_plain <<'EOF'
local function inner() error("failed with " .. S1 .. " and " .. S2) end
inner()
EOF
run_kept 1 error_plain script "$T_TMP/scripts/error_plain.lua"
t_grep "error still has file:line" "error_plain.lua:12: failed with [redacted] and [redacted]" "$T_ERR"
t_grep "error still has a traceback" "stack traceback:" "$T_ERR"

write_script error_object <<'EOF'
error(setmetatable({}, { __tostring = function() return "object " .. S3 end }))
EOF
run_kept 1 error_object script "$T_TMP/scripts/error_object.lua"

write_script error_nested <<'EOF'
local t = { [S4] = function() error({ S5 }) end }
local ok, err = pcall(t[S4])
print(ok, err[1])
local co = coroutine.create(function() error(S6, 0) end)
print(coroutine.resume(co))
local f = load("local k = [=[" .. S1 .. "]=] error('boom ' .. k)")
f()
EOF
run_kept 1 error_nested script "$T_TMP/scripts/error_nested.lua"

# the notification channels' secrets, the same ways
write_script channels <<'EOF'
print(S7, S8, S9, S10, S11)
print(titan.json.encode({ S7, S8, body = titan.json.encode({ S9, S10, S11 }) }))
titan.log.warn("channels", { token = S7, urls = { S8, S9, S10 }, key = S11 })
for _, n in ipairs({ "TELEGRAM_BOT_TOKEN", "DISCORD_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "TITAN_WEBHOOK_URL",
                     "TITAN_WEBHOOK_SECRET" }) do
  local h, err = titan.secret(n)
  print(n, os.getenv(n), h, err.code)
end
error("failed near " .. S8 .. " and " .. S11)
EOF
run_kept 1 channels script "$T_TMP/scripts/channels.lua"
t_check "the channel secrets: os.getenv nil and no handle, all five" test "$(grep -c $'\tnil\tnil\tsecret.host_only$' "$T_OUT")" = 5

# calling a missing field: Lua quotes the key in its message
printf 'local t = {}\nt[ [==[%s]==] ]()\n' "$SUPABASE_KEY" >"$T_TMP/scripts/field.lua"
run_kept 1 field script "$T_TMP/scripts/field.lua"
t_grep "Lua named the field" "attempt to call a nil value (field '[redacted]')" "$T_ERR"

write_script args <<'EOF'
print(...)
print(arg[1], arg[2])
EOF
run_kept 0 args script "$T_TMP/scripts/args.lua" "$KRAKEN_SECRET" "--key=$GEMINI_API_KEY"

# `check` echoes bad values in its problems
write_script strategy_bad <<'EOF'
return {
  name = S1, pair = 7, interval = S3,
  risk = { [S4] = 1, max_order_quote = S5 },
  on_cycle = S6,
}
EOF
run_kept 2 check_problems check "$T_TMP/scripts/strategy_bad.lua"
t_grep "check named the interval problem" "interval [redacted] is not one of" "$T_ERR"
t_grep "check named the risk key problem" "risk.[redacted] is not a known risk field" "$T_ERR"
write_script strategy_error <<'EOF'
error("cannot start: " .. S2)
EOF
run_kept 2 check_load_error check "$T_TMP/scripts/strategy_error.lua"

# a syntax error that quotes the offending token, in `script` and in `check`
printf 'return 1 [==[%s]==]\n' "$OPENAI_API_KEY" >"$T_TMP/scripts/syntax.lua"
run_kept 1 syntax script "$T_TMP/scripts/syntax.lua"
run_kept 2 check_syntax check "$T_TMP/scripts/syntax.lua"

# the blackbox got events, and every line is still JSON
t_check "blackbox written" test -s "$TITAN_BLACKBOX"
t_grep "blackbox has redactions" "[redacted]" "$TITAN_BLACKBOX"
python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    assert e["ts"].endswith("Z") and "lvl" in e and "ev" in e and "cycle" in e
print("JSON OK")' "$TITAN_BLACKBOX" >"$T_TMP/json.check" 2>&1
t_grep "redacted blackbox lines are valid JSON" "JSON OK" "$T_TMP/json.check"

# the leak scan: every value, its encoded spellings, and every 12-character fragment
python3 - "$T_TMP/values" "$TITAN_BLACKBOX" "$T_TMP"/kept/* >"$T_TMP/scan.out" 2>&1 <<'EOF'
import sys, urllib.parse
values = [l.split("=", 1)[1] for l in open(sys.argv[1]).read().splitlines()]
files = sys.argv[2:]
def esc(s, slash):
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    return out.replace("/", "\\/") if slash else out
leaks = 0
checked = 0
for path in files:
    text = open(path, encoding="utf-8", errors="replace").read()
    for i, v in enumerate(values, 1):
        forms = {"raw": v, "json": esc(v, True), "json-no-slash": esc(v, False),
                 "json-twice": esc(esc(v, True), True), "url": urllib.parse.quote(v, safe="")}
        for kind, form in forms.items():
            checked += 1
            if form in text:
                leaks += 1
                print("LEAK %s: S%d (%s) in %s" % (kind, i, kind, path))
        for start in range(len(v) - 11):
            frag = v[start:start + 12]
            checked += 1
            if frag in text:
                leaks += 1
                print("LEAK fragment %r of S%d in %s" % (frag, i, path))
                break
print("files=%d checks=%d leaks=%d" % (len(files), checked, leaks))
EOF
cat "$T_TMP/scan.out" | grep LEAK | head -20 >&2
t_check "scan covered every output ($n_runs runs)" grep -q "files=$((1 + 2 * n_runs)) " "$T_TMP/scan.out"
t_grep "no secret value, spelling or fragment in any output" "leaks=0" "$T_TMP/scan.out"
# and the classic grep, value by value
for n in $NAMES; do
  t_nogrep "$n not in outputs" "${!n}" "$TITAN_BLACKBOX" "$T_TMP"/kept/*
  escaped=$(printf '%s' "${!n}" | sed 's#/#\\/#g; s#"#\\"#g')
  t_nogrep "$n JSON-escaped (\\/) not in outputs" "$escaped" "$TITAN_BLACKBOX" "$T_TMP"/kept/*
done

# the sandbox spec under real secrets: os.getenv must hide each of them
t_spec "$ROOT/tests/lua/sandbox_spec.lua"

# other credentials a CI runner may export are hidden too; ordinary settings stay readable
cat >"$T_TMP/scripts/otherenv.lua" <<'EOF'
for _, name in ipairs({ "GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD",
                        "my_api_key", "DATABASE_URL", "SENTRY_DSN", "SESSION_COOKIE", "MYSQL_PWD", "CI_JOB_JWT",
                        "SLACK_WEBHOOK_URL", "CACHE_ADDR", "GH_PAT", "SMTP_PASS" }) do
  print(name, os.getenv(name))
end
print("TITAN_AI_DAILY_USD", os.getenv("TITAN_AI_DAILY_USD"), "OPENAI_MODEL", os.getenv("OPENAI_MODEL"))
print("MY_LIB_PATH", os.getenv("MY_LIB_PATH"), "OPENAI_BASE_URL", os.getenv("OPENAI_BASE_URL"))
EOF
GITHUB_TOKEN=ghs_tok01 ACTIONS_ID_TOKEN_REQUEST_TOKEN=tok02 AWS_SECRET_ACCESS_KEY=tok03 DB_PASSWORD=tok04 \
  my_api_key=tok05 DATABASE_URL=postgres://u:tok06@h/db SENTRY_DSN=https://tok07@s.io/1 SESSION_COOKIE=tok08 \
  MYSQL_PWD=tok09 CI_JOB_JWT=tok10 SLACK_WEBHOOK_URL=https://hooks.example/tok11 CACHE_ADDR=redis://user:tok12@cache:6379 \
  GH_PAT=tok13 SMTP_PASS=tok14 TITAN_AI_DAILY_USD=2.5 OPENAI_MODEL=gpt-x MY_LIB_PATH=/opt/lib \
  OPENAI_BASE_URL=http://127.0.0.1:9/v1 t_run script "$T_TMP/scripts/otherenv.lua"
t_rc "credential-named variables: script ran" 0
for k in 01 02 03 04 05 06 07 08 09 10 11 12 13 14; do
  t_nogrep "credential-named variable $k hidden from Lua" "tok$k" "$T_OUT"
done
t_check "every credential-named variable reads as nil" test "$(grep -c $'\tnil$' "$T_OUT")" = 14
t_grep "ordinary settings stay readable" $'TITAN_AI_DAILY_USD\t2.5\tOPENAI_MODEL\tgpt-x' "$T_OUT"
t_grep "a _PATH and a URL without a password stay readable" $'MY_LIB_PATH\t/opt/lib\tOPENAI_BASE_URL\thttp://127.0.0.1:9/v1' "$T_OUT"

t_finish
