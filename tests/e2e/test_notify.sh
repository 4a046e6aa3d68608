#!/usr/bin/env bash
# Notifications end to end (issue 14): the real binary runs PAPER and LIVE cycles against the fake
# Kraken while loopback fakes of Telegram, Discord, Slack and a signed webhook (tests/fakes/
# channels_fake.py) check each request byte for byte. The exact request per provider; the webhook
# signature checked with openssl, independently of the host; failing, rate-limited, garbage and
# hanging channels never change a cycle's status or exit code and cost at most the deadline; a rerun
# of a slot sends nothing twice; halted, in doubt, AI cap and the daily summary; no secret anywhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

r_start_kraken
export SYSTEM_MODE=PAPER TITAN_DB=$T_TMP/notify.db TITAN_BLACKBOX=$T_TMP/blackbox.log
unset TITAN_NOTIFY TITAN_NOTIFY_DEADLINE_MS TELEGRAM_API_URL

# ---- four channel fakes, each with its own planted secrets ---------------------------------------------
urlsafe() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
TG_TOKEN="$((RANDOM + 100000)):$(urlsafe)"
TG_CHAT=-1001$RANDOM
DISCORD_PATH="/api/webhooks/$RANDOM$RANDOM/$(urlsafe)"
SLACK_PATH="/services/T0$RANDOM/B0$RANDOM/$(urlsafe)"
HOOK_PATH="/hook/$(urlsafe)"
HOOK_SECRET="whsec_$(urlsafe)/+\"x"
declare -A PORT=()
n_start() {
  PORT[$1]=$(t_free_port)
  FAKE_TELEGRAM_TOKEN=$TG_TOKEN FAKE_TELEGRAM_CHAT=$TG_CHAT FAKE_DISCORD_PATH=$DISCORD_PATH \
    FAKE_SLACK_PATH=$SLACK_PATH FAKE_WEBHOOK_PATH=$HOOK_PATH FAKE_WEBHOOK_SECRET=$HOOK_SECRET \
    python3 "$ROOT/tests/fakes/channels_fake.py" --channel "$1" --port "${PORT[$1]}" 2>"$T_TMP/fake_$1.err" &
  T_PIDS+=($!)
  t_check "$1 fake up" t_wait_port "${PORT[$1]}"
}
for ch in telegram discord slack webhook; do n_start "$ch"; done
export TELEGRAM_BOT_TOKEN=$TG_TOKEN TELEGRAM_CHAT_ID=$TG_CHAT TELEGRAM_API_URL=http://127.0.0.1:${PORT[telegram]}
export DISCORD_WEBHOOK_URL=http://127.0.0.1:${PORT[discord]}$DISCORD_PATH
export SLACK_WEBHOOK_URL=http://127.0.0.1:${PORT[slack]}$SLACK_PATH
export TITAN_WEBHOOK_URL=http://127.0.0.1:${PORT[webhook]}$HOOK_PATH TITAN_WEBHOOK_SECRET=$HOOK_SECRET
R_SECRET_NAMES+=(TELEGRAM_BOT_TOKEN DISCORD_WEBHOOK_URL SLACK_WEBHOOK_URL TITAN_WEBHOOK_URL TITAN_WEBHOOK_SECRET)
R_SECRETS[TELEGRAM_BOT_TOKEN]=$TG_TOKEN R_SECRETS[DISCORD_WEBHOOK_URL]=$DISCORD_WEBHOOK_URL
R_SECRETS[SLACK_WEBHOOK_URL]=$SLACK_WEBHOOK_URL R_SECRETS[TITAN_WEBHOOK_URL]=$TITAN_WEBHOOK_URL
R_SECRETS[TITAN_WEBHOOK_SECRET]=$HOOK_SECRET

# n_py CH PYEXPR: PYEXPR over the requests CH received (reqs, oldest first; r = the last one), in one
# python process (each costs a start-up).
n_py() {
  python3 - "http://127.0.0.1:${PORT[$1]}/__requests" "$2" "${3:-}" <<'EOF'
import json, sys, urllib.request
reqs = json.load(urllib.request.urlopen(sys.argv[1], timeout=5))["requests"]
r = reqs[-1] if reqs else None
try:
    print(eval(sys.argv[2]))
except Exception as e:
    print("<error %r>" % e)
EOF
}
n_last() { n_py "$1" "$2"; }
n_count() { n_py "$1" 'len(reqs)'; }
n_post() { python3 -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], sys.argv[2].encode(), {"Content-Type": "application/json"}), timeout=5).read()' "http://127.0.0.1:${PORT[$1]}/$2" "$3"; }
n_control() { n_post "$1" __control "$2"; }
n_reset() {
  python3 -c 'import sys, urllib.request as u
for port in sys.argv[1:]:
    u.urlopen(u.Request("http://127.0.0.1:%s/__reset" % port, b"{}", {"Content-Type": "application/json"}), timeout=5).read()' \
    "${PORT[telegram]}" "${PORT[discord]}" "${PORT[slack]}" "${PORT[webhook]}"
}
n_total() {
  python3 -c 'import json, sys, urllib.request as u
print(sum(len(json.load(u.urlopen("http://127.0.0.1:%s/__requests" % p, timeout=5))["requests"]) for p in sys.argv[1:]))' \
    "${PORT[telegram]}" "${PORT[discord]}" "${PORT[slack]}" "${PORT[webhook]}"
}
bb_count() { grep -c "\"ev\":\"$1\"" "$TITAN_BLACKBOX" || true; }
ms_now() { date +%s%3N; }

# ---- 1. a fill: the exact request each provider expects --------------------------------------------------
BUY=$(r_strategy nbuy 'return { { side = "buy", type = "market", volume = 0.0008, reason = "ema cross <up> & @everyone" } }')
C=$(r_ticker c)
S1=$(r_slot_iso 1)
TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$BUY"
t_rc "a cycle with a fill exits 0" 0
r_eq "row done" "$(r_status "nbuy@$S1")" done
for ch in telegram discord slack webhook; do
  r_eq "$ch: exactly one request" "$(n_count $ch)" 1
  r_eq "$ch: no problem with the request's shape" "$(n_last $ch 'r["problems"]')" "[]"
  r_eq "$ch: POST application/json" "$(n_last $ch 'r["method"] + " " + r["headers"]["content-type"]')" "POST application/json"
  r_eq "$ch: answered 2xx" "$(n_last $ch '200 <= r["answered"] < 300')" True
done
PRICE=$(r_sql "select price from paper_fills where strategy='nbuy'")
HEAD=$(python3 -c 'import sys; p = float(sys.argv[1]); print("BUY 0.0008 XBTUSD @ {:,.2f} — nbuy (PAPER)".format(p))' "$PRICE")
# Telegram: sendMessage with the token in the path, {chat_id, text, disable_web_page_preview}
r_eq "telegram: POST /bot<token>/sendMessage" "$(TG_TOKEN_CHECK=$TG_TOKEN n_last telegram 'r["path"] == "/bot" + __import__("os").environ["TG_TOKEN_CHECK"] + "/sendMessage"')" True
r_eq "telegram: exactly chat_id, text, disable_web_page_preview" "$(n_last telegram 'sorted(r["json"])')" "['chat_id', 'disable_web_page_preview', 'text']"
r_eq "telegram: chat_id is the number" "$(n_last telegram 'r["json"]["chat_id"]')" "$TG_CHAT"
r_eq "telegram: no link previews" "$(n_last telegram 'r["json"]["disable_web_page_preview"]')" True
r_eq "telegram: the headline is one line" "$(n_last telegram 'r["json"]["text"].split(chr(10))[0]')" "$HEAD"
r_contains "telegram: the reason below" "$(n_last telegram 'r["json"]["text"]')" "reason: ema cross <up> & @everyone"
r_contains "telegram: fee and cost" "$(n_last telegram 'r["json"]["text"]')" "cost "
r_contains "telegram: the cycle and a UTC time" "$(n_last telegram 'r["json"]["text"].split(chr(10))[-1]')" "cycle nbuy@$S1 · "
r_contains "telegram: the time says UTC" "$(n_last telegram 'r["json"]["text"]')" " UTC"
# Discord: {content} (no pings from a strategy's reason)
r_eq "discord: content and allowed_mentions only" "$(n_last discord 'sorted(r["json"])')" "['allowed_mentions', 'content']"
r_eq "discord: the same text" "$(n_last discord 'r["json"]["content"].split(chr(10))[0]')" "$HEAD"
r_eq "discord: mentions are not parsed" "$(n_last discord 'r["json"]["allowed_mentions"]')" "{'parse': []}"
r_eq "discord: answered 204 No Content" "$(n_last discord 'r["answered"]')" 204
# Slack: {text}, with & < > escaped as Slack asks
r_eq "slack: text only" "$(n_last slack 'sorted(r["json"])')" "['text']"
r_contains "slack: markup escaped" "$(n_last slack 'r["json"]["text"]')" "ema cross &lt;up&gt; &amp; @everyone"
# the generic webhook: its body and an HMAC-SHA256 signature that openssl accepts
n_py webhook 'sys.stdout.buffer.write(r["body"].encode()) and ""' | head -c -1 >"$T_TMP/hook.body"
SIG=$(n_last webhook 'r["headers"].get("x-hub-signature-256", "")')
WANT=$(openssl dgst -sha256 -hmac "$HOOK_SECRET" <"$T_TMP/hook.body" | sed 's/^.*= //')
t_check "the signed body is the JSON the fake parsed" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T_TMP/hook.body"
r_eq "webhook: X-Hub-Signature-256 = sha256=HMAC(body), checked with openssl" "$SIG" "sha256=$WANT"
r_eq "webhook: the fake's constant-time check agrees" "$(n_last webhook 'r["signature_ok"]')" True
r_eq "webhook: event fill, not urgent" "$(n_last webhook 'r["json"]["event"], r["json"]["urgent"]')" "('fill', False)"
r_eq "webhook: strategy, mode, cycle, status" "$(n_last webhook '(r["json"]["strategy"], r["json"]["mode"], r["json"]["cycle_id"], r["json"]["status"])')" "('nbuy', 'PAPER', 'nbuy@$S1', 'done')"
r_eq "webhook: title is the headline" "$(n_last webhook 'r["json"]["title"]')" "$HEAD"
r_eq "webhook: the fill's data" "$(n_last webhook '(lambda d: (d["side"], d["volume"], d["reason"]))(r["json"]["data"]["fills"][0])')" "('buy', 0.0008, 'ema cross <up> & @everyone')"
r_approx "webhook: the fill's price is the ledger's" "$(n_last webhook 'r["json"]["data"]["fills"][0]["price"]')" "$PRICE"
r_approx "webhook: the fill's fee is the ledger's" "$(n_last webhook 'r["json"]["data"]["fills"][0]["fee"]')" "$(r_sql "select fee from paper_fills where strategy='nbuy'")"
r_eq "webhook: ts is UTC" "$(n_last webhook 'r["json"]["ts"].endswith("Z")')" True
r_eq "blackbox: four notify.sent" "$(bb_count notify.sent)" 4
t_grep "blackbox: the Telegram URL is logged without its token" "/bot[redacted]/sendMessage" "$TITAN_BLACKBOX"
r_eq "store: the claim of the fill records each channel" "$(r_sql "select json_extract(result, '\$.telegram.ok') || json_extract(result, '\$.discord.ok') || json_extract(result, '\$.slack.ok') || json_extract(result, '\$.webhook.ok') from notifications where key = 'nbuy@$S1:fill'")" 1111

# ---- 2. a rerun of the slot sends nothing twice ----------------------------------------------------------
TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$BUY"
t_rc "the rerun of the slot: exit 0 (already executed)" 0
r_eq "the rerun sent nothing" "$(n_total)" 4
FAIL=$(r_strategy nfail 'error("the strategy broke")')
S2=$(r_slot_iso 2)
TITAN_FAKE_NOW_MS=$(r_now 2) r_run run "$FAIL"
t_rc "a failing strategy: exit 1" 1
r_eq "failed: one more message per channel" "$(n_total)" 8
r_contains "failed: the headline" "$(n_last telegram 'r["json"]["text"].split(chr(10))[0]')" "cycle FAILED — nfail (PAPER)"
r_contains "failed: the error below" "$(n_last telegram 'r["json"]["text"]')" "the strategy broke"
r_eq "webhook: event failed" "$(n_last webhook 'r["json"]["event"]')" failed
# the slot released and run again, then retried: the failure is not told again
r_run locks release "nfail@$S2"; t_rc "release the failed slot" 0
TITAN_FAKE_NOW_MS=$(r_now 2) r_run run "$FAIL"
t_rc "the released slot fails again: exit 1" 1
TITAN_FAKE_NOW_MS=$(r_now 2) r_run run "$FAIL" --retry
t_rc "--retry of the slot fails again: exit 1" 1
r_eq "neither rerun sent anything" "$(n_total)" 8
r_eq "blackbox: notify.already_sent twice for the failure" "$(grep -c '"ev":"notify.already_sent","cycle":"nfail@'"$S2"'","event":"failed"' "$TITAN_BLACKBOX")" 2

# ---- 2b. sent after the record, whatever ended the cycle: a budget kill, SIGTERM -------------------------
n_reset
SPIN=$(r_strategy nspin 'while true do end')
TITAN_LUA_CPU_S=1 TITAN_FAKE_NOW_MS=$(r_now 20) r_run run "$SPIN"
t_rc "a CPU budget kill: exit 1" 1
r_contains "the budget kill is told" "$(n_last webhook 'r["json"]["event"] + " " + r["json"]["text"]')" "failed"
r_contains "... with its reason" "$(n_last telegram 'r["json"]["text"]')" "nspin"
SLEEPY=$(r_strategy nsleep 'ctx.log("sleeping", {}) titan.time.sleep_ms(8000) return {}')
TITAN_FAKE_NOW_MS=$(r_now 21) "$TITAN_BIN" run "$SLEEPY" >"$T_TMP/term.out" 2>"$T_TMP/term.err" </dev/null &
BG=$!
for _ in $(seq 100); do grep -q '"ev":"strategy.sleeping","cycle":"nsleep@' "$TITAN_BLACKBOX" && break; sleep 0.1; done
kill -TERM "$BG"; wait "$BG"; T_RC=$?
R_OUTPUTS+=("$T_TMP/term.out" "$T_TMP/term.err")
t_rc "SIGTERM while the strategy runs: exit 1" 1
r_eq "SIGTERM: the row is failed" "$(r_status "nsleep@$(r_slot_iso 21)")" failed
r_contains "SIGTERM: the failure is told" "$(n_last discord 'r["json"]["content"]')" "stopped by SIGTERM"
# the record comes first: cycle.end is logged before any notify.sent of the cycle
t_check "cycle.end is in the blackbox before the cycle's notify.sent" python3 -c 'import json, sys
end = sent = None
for i, line in enumerate(open(sys.argv[1])):
    e = json.loads(line)
    if e.get("cycle") != sys.argv[2]: continue
    if e["ev"] == "cycle.end" and end is None: end = i
    if e["ev"] == "notify.sent" and sent is None: sent = i
sys.exit(0 if end is not None and sent is not None and end < sent else 1)' "$TITAN_BLACKBOX" "nsleep@$(r_slot_iso 21)"

# ---- 3. failing channels never change the cycle and cost at most the deadline ---------------------------
n_control telegram '{"mode": "500"}'; n_control discord '{"mode": "429", "times": 1, "retry_after": 0.3}'
n_control slack '{"mode": "garbage"}'; n_control webhook '{"mode": "hang"}'
S3=$(r_slot_iso 3)
t0=$(ms_now)
TITAN_NOTIFY_DEADLINE_MS=2000 TITAN_FAKE_NOW_MS=$(r_now 3) r_run run "$FAIL"
elapsed=$(( $(ms_now) - t0 ))
t_rc "failing channels: the cycle's exit code is unchanged (1)" 1
r_eq "failing channels: the row is failed, as recorded" "$(r_status "nfail@$S3")" failed
t_check "a hanging webhook costs at most the deadline (took ${elapsed} ms, deadline 2000)" test "$elapsed" -lt 4500
t_check "... and the deadline was really waited for (took ${elapsed} ms)" test "$elapsed" -ge 1900
r_eq "discord: 429 then retried after retry_after: 2 requests" "$(n_count discord)" 4
r_eq "discord: the retry was delivered" "$(n_last discord 'r["answered"]')" 204
t_grep "blackbox: discord sent on the second attempt" '"channel":"discord","urgent":false,"status":204,"attempts":2' "$TITAN_BLACKBOX"
t_grep "blackbox: telegram's 500 is logged" '"channel":"telegram","urgent":false,"status":500' "$TITAN_BLACKBOX"
t_grep "blackbox: slack's garbage is logged" '"event":"failed","channel":"slack","urgent":false,"status":0' "$TITAN_BLACKBOX"
t_grep "blackbox: the hang is a timeout" 'http.timeout' "$TITAN_BLACKBOX"
r_eq "store: what failed is recorded with the claim" "$(r_sql "select json_extract(result, '\$.telegram.status') || ',' || json_extract(result, '\$.discord.ok') || ',' || json_extract(result, '\$.webhook.ok') from notifications where key = 'nfail@$S3:failed'")" "500,1,0"
# a 429 whose wait does not fit the deadline is not retried
n_control telegram '{"mode": "ok"}'; n_control slack '{"mode": "ok"}'; n_control webhook '{"mode": "ok"}'
n_control discord '{"mode": "429", "times": 5, "retry_after": 30}'
before=$(n_count discord)
TITAN_FAKE_NOW_MS=$(r_now 4) r_run run "$FAIL"
t_rc "a long 429: exit 1 as before" 1
r_eq "a 429 asking for 30 s is not retried within 5 s" "$(( $(n_count discord) - before ))" 1
t_grep "blackbox: the 429 with its retry_after" '"retry_after_s":30' "$TITAN_BLACKBOX"
n_control discord '{"mode": "ok"}'
# every channel hanging, and Kraken itself unreachable: still the cycle's own exit code
for ch in telegram discord slack webhook; do n_control $ch '{"mode": "hang"}'; done
t0=$(ms_now)
KRAKEN_API_URL=http://127.0.0.1:9 TITAN_NOTIFY_DEADLINE_MS=1000 TITAN_FAKE_NOW_MS=$(r_now 5) r_run run "$BUY"
elapsed=$(( $(ms_now) - t0 ))
t_rc "Kraken down, every channel hanging: exit 1" 1
t_check "four hanging channels together cost one deadline (took ${elapsed} ms, deadline 1000)" test "$elapsed" -lt 3500
t_check "the failure reached all four before they hung" test "$(n_last webhook 'r["json"]["event"]')" = failed
for ch in telegram discord slack webhook; do n_control $ch '{"mode": "ok"}'; done

# ---- 4. in doubt (LIVE, exit 3) with hanging channels: urgent, the exit code kept ---------------------------
n_reset
r_kctl '{"reset": true, "balances": {"ZUSD": "10000.0000", "XXBT": "0.0000000000"}}'
r_kctl '{"method": "AddOrder", "kind": "warning", "warning": "WGeneral:e2e"}'
r_kctl '{"method": "AddOrder", "kind": "result", "result": {}}'
n_control telegram '{"mode": "hang"}'; n_control slack '{"mode": "503"}'
LIVEBUY=$(r_strategy nlive 'return { { side = "buy", type = "market", volume = 0.0001, reason = "live e2e" } }')
S6=$(r_slot_iso 6)
SYSTEM_MODE=LIVE TITAN_NOTIFY_DEADLINE_MS=1500 TITAN_FAKE_NOW_MS=$(r_now 6) r_run run "$LIVEBUY"
t_rc "orders in doubt with hanging channels: exit 3 kept" 3
r_eq "in doubt: the row as recorded" "$(r_status "nlive@$S6")" in_doubt
r_eq "webhook: event in_doubt, urgent" "$(n_last webhook 'r["json"]["event"], r["json"]["urgent"]')" "('in_doubt', True)"
r_eq "webhook: urgent header" "$(n_last webhook 'r["headers"]["x-titan-urgent"]')" 1
r_contains "discord: URGENT in the headline" "$(n_last discord 'r["json"]["content"].split(chr(10))[0]')" "URGENT: orders in doubt — nlive (LIVE)"
r_contains "telegram got it before hanging" "$(n_last telegram 'r["json"]["text"]')" "Check them on Kraken"
for ch in telegram discord slack webhook; do n_control $ch '{"mode": "ok"}'; done

# an earlier cycle still in doubt stops this one (skipped, exit 3): told as urgent too. A LIVE row whose
# lookup fails stays in doubt (a PAPER row is decided by the paper broker, so it would be reconciled).
r_sql "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, orders, host_version)
       values ('ndoubt@2026-11-17T09:00Z', 'ndoubt', 'LIVE', 'in_doubt', 'x:1', '2026-11-17T09:00:00.000Z',
               '[{\"index\":1,\"cl_ord_id\":\"abc\",\"state\":\"in_doubt\"}]', '0.1.0')"
r_kctl '{"method": "OpenOrders", "kind": "error", "error": "EService:Unavailable", "times": -1}'
PAP=$(r_strategy ndoubt 'return {}')
SYSTEM_MODE=LIVE TITAN_FAKE_NOW_MS=$(r_now 7) r_run run "$PAP"
t_rc "an earlier cycle in doubt: exit 3" 3
r_kctl '{"reset": true}'
r_eq "webhook: in_doubt, urgent, for the skipped cycle" "$(n_py webhook '[(x["json"]["urgent"], x["json"]["status"]) for x in reqs if x["json"]["strategy"] == "ndoubt" and x["json"]["event"] == "in_doubt"]')" "[(True, 'skipped')]"
PAP_TEXT=$(n_py slack '([x["json"]["text"] for x in reqs if "URGENT" in x["json"]["text"] and "ndoubt" in x["json"]["text"]] or ["(none)"])[0]')
r_contains "the text says why" "$PAP_TEXT" "earlier cycle(s) still have orders in doubt"
t_nogrep "and claims no unknown order of its own" "of this cycle of unknown fate" <(echo "$PAP_TEXT")
r_eq "the day of the row in doubt gets its summary too" "$(n_py webhook '[x["json"]["data"]["day"] for x in reqs if x["json"]["strategy"] == "ndoubt" and x["json"]["event"] == "daily"]')" "['2026-11-17']"

# ---- 5. halted: told when the halt begins, not every slot ------------------------------------------------
n_reset
HOLD=$(r_strategy nhold 'return {}')
for slot in 8 9 10; do TITAN_HALT=1 TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$HOLD"; t_rc "halted slot $slot: exit 0" 0; done
r_eq "halted: one message per channel for three halted slots" "$(n_total)" 4
r_contains "halted: the headline" "$(n_last slack 'r["json"]["text"].split(chr(10))[0]')" "halted — nhold (PAPER)"
TITAN_FAKE_NOW_MS=$(r_now 11) r_run run "$HOLD"
r_eq "a routine done cycle without fills sends nothing by default" "$(n_total)" 4
TITAN_HALT=1 TITAN_FAKE_NOW_MS=$(r_now 12) r_run run "$HOLD"
r_eq "halted again after a normal cycle: told again" "$(n_total)" 8

# ---- 6. TITAN_NOTIFY selects the events ------------------------------------------------------------------
n_reset
TITAN_NOTIFY=all TITAN_FAKE_NOW_MS=$(r_now 13) r_run run "$HOLD"
r_eq "TITAN_NOTIFY=all: a done cycle is told" "$(n_last webhook 'r["json"]["event"]')" done
TITAN_NOTIFY=none TITAN_FAKE_NOW_MS=$(r_now 14) r_run run "$FAIL"
TITAN_NOTIFY=fill TITAN_FAKE_NOW_MS=$(r_now 15) r_run run "$FAIL"
r_eq "TITAN_NOTIFY=none and =fill: a failure is not told" "$(n_total)" 4
TITAN_NOTIFY=fills r_run run "$FAIL"
t_rc "TITAN_NOTIFY=fills: exit 2" 2
t_grep "names the variable and the words" "TITAN_NOTIFY='fills' is not a comma-separated list of fill, failed" "$T_ERR"
TELEGRAM_CHAT_ID= r_run run "$FAIL"
t_rc "a token without a chat id: exit 2" 2
t_grep "says which one is missing" "TELEGRAM_BOT_TOKEN is set but TELEGRAM_CHAT_ID is not" "$T_ERR"
r_eq "configuration errors sent nothing" "$(n_total)" 4
TITAN_FAKE_NOW_MS=$(r_now 16) r_run run --dry-run "$FAIL"
r_eq "a dry run sends nothing" "$(n_total)" 4

# ---- 7. the AI spend cap: once per UTC day ---------------------------------------------------------------
n_reset
CAP=$(r_strategy ncap 'ctx.decision.ai = { skipped = "spend_cap", spent_usd = 1.0012, cap_usd = 1 }
    return {}')
for slot in 17 18; do TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$CAP"; t_rc "AI capped slot $slot: exit 0" 0; done
r_eq "AI cap: told once that day" "$(n_count webhook)" 1
r_eq "AI cap: event and figures" "$(n_last webhook '(lambda d: (d["event"], d["data"]["spent_usd"], d["data"]["cap_usd"]))(r["json"])')" "('ai_cap', 1.0012, 1)"
r_contains "AI cap: the text" "$(n_last telegram 'r["json"]["text"]')" "AI spend cap reached — ncap"

# ---- 8. the daily summary: the first cycle after 00:00 UTC tells yesterday --------------------------------
n_reset
NEXT_DAY=$((R_DAY0 + 86400000 + 60000))
SELL=$(r_strategy nbuy 'return { { side = "sell", type = "market", volume = 0.0008, reason = "exit" } }')
TITAN_FAKE_NOW_MS=$NEXT_DAY r_run run "$SELL"
t_rc "the first cycle of the next day: exit 0" 0
# daily STRATEGY PYEXPR: PYEXPR over each daily summary of STRATEGY the webhook received (as d)
daily() { n_py webhook "chr(10).join(str(eval(sys.argv[3], {'d': x['json']})) for x in reqs if x['json']['event'] == 'daily' and x['json']['strategy'] == '$1')" "$2"; }
r_eq "daily: nbuy's summary of 2026-11-18" "$(daily nbuy 'd["data"]["day"]')" 2026-11-18
r_eq "daily: the day's fills" "$(daily nbuy 'd["data"]["fills"]')" 1
r_approx "daily: the day's fees" "$(daily nbuy 'd["data"]["fees"]')" "$(r_sql "select fee from paper_fills where strategy='nbuy' and side='buy'")"
r_approx "daily: equity at the start of the day (the starting cash)" "$(daily nbuy 'd["data"]["equity_start"]')" 10000
# the record keeps the book the strategy decided on: the day's one buy moves it
read -r SPENT BOUGHT < <(r_sql "select cost + fee, volume from paper_fills where strategy='nbuy' and side='buy'" | tr '|' ' ')
r_approx "daily: equity at its end (the last record of the day and its fill: cash + position x its price)" \
  "$(daily nbuy 'd["data"]["equity_end"]')" \
  "$(r_json_get "nbuy@$S1" decision "d['portfolio']['cash'] - $SPENT + (d['portfolio']['position'] + $BOUGHT) * d['prices']['last']")"
r_contains "daily: the headline" "$(n_py telegram '[x["json"]["text"] for x in reqs if "Daily summary" in x["json"]["text"]][0].split(chr(10))[0]')" "Daily summary 2026-11-18 — nbuy (PAPER)"
r_eq "daily: also the fill of today's first cycle" "$(n_py webhook 'sorted(x["json"]["event"] for x in reqs if x["json"]["strategy"] == "nbuy")')" "['daily', 'fill']"
TITAN_FAKE_NOW_MS=$((NEXT_DAY + 900000)) r_run run "$HOLD"
r_eq "daily: nhold's own summary, once" "$(daily nhold 'd["data"]["cycles"]')" "$(r_sql "select count(*) from execution_logs where strategy='nhold' and started_at < '2026-11-19'")"
TITAN_FAKE_NOW_MS=$((NEXT_DAY + 1800000)) r_run run "$HOLD"
r_eq "daily: not sent again that day" "$(n_py webhook 'sum(1 for x in reqs if x["json"]["event"] == "daily" and x["json"]["strategy"] == "nhold")')" 1

# ---- 9. no channel configured: nothing is claimed, nothing sent -----------------------------------------
n_reset
before=$(r_sql "select count(*) from notifications")
env -u TELEGRAM_BOT_TOKEN -u TELEGRAM_CHAT_ID -u DISCORD_WEBHOOK_URL -u SLACK_WEBHOOK_URL -u TITAN_WEBHOOK_URL \
  TITAN_FAKE_NOW_MS=$((NEXT_DAY + 2700000)) "$TITAN_BIN" run "$FAIL" >"$T_TMP/nochan.out" 2>&1
r_eq "no channels: nothing sent" "$(n_total)" 0
r_eq "no channels: nothing claimed" "$(r_sql "select count(*) from notifications")" "$before"

# ---- 10. secrets: never printed, logged, stored or visible to Lua ----------------------------------------
cat >"$T_TMP/peek.lua" <<'EOF'
for _, n in ipairs({ "TELEGRAM_BOT_TOKEN", "DISCORD_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "TITAN_WEBHOOK_URL",
                     "TITAN_WEBHOOK_SECRET" }) do
  local h, err = titan.secret(n)
  print(n, os.getenv(n), h, err and err.code)
end
print("chat", os.getenv("TELEGRAM_CHAT_ID"))
EOF
r_run script "$T_TMP/peek.lua"
t_rc "a script runs with the channel secrets set" 0
t_check "os.getenv is nil and titan.secret refuses, for all five" test "$(grep -c $'\tnil\tnil\tsecret.host_only$' "$T_OUT")" = 5
t_grep "the chat id is configuration, not a secret" "chat	$TG_CHAT" "$T_OUT"
R_OUTPUTS+=("$TITAN_BLACKBOX")
r_leak_check
t_finish
