#!/usr/bin/env bash
# `titan-host status` end to end (issue 14): a scripted series of PAPER cycles over two UTC days
# (buys, a sell, a hold, a failure, a halt) through the real binary and the fake Kraken, then
# status, status --json, --markdown and --html checked against the ledger itself (the SQLite
# tables), offline (Kraken unreachable); the same series on Supabase (a real PostgreSQL behind the
# PostgREST fake) gives the same figures; a LIVE strategy's book comes from its records.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"
. "$(dirname "$0")/pg_lib.sh"

r_start_kraken
export SYSTEM_MODE=PAPER TITAN_DB=$T_TMP/status.db TITAN_BLACKBOX=$T_TMP/blackbox.log
unset TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID DISCORD_WEBHOOK_URL SLACK_WEBHOOK_URL TITAN_WEBHOOK_URL

# ---- an empty store ------------------------------------------------------------------------------------
r_run status
t_rc "status of an empty store: exit 0" 0
t_grep "says there is nothing" "(no cycles recorded)" "$T_OUT"
r_run status --json
t_check "--json of an empty store: no strategies" python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["strategies"] == [] and d["halt"] == {"store": False, "env": False}, d' "$T_OUT"

# ---- the series: one strategy scripted by its slot (15-minute slots of 2026-11-18 and the 19th) ------------
# slot: 1 buy 0.001, 2 buy 50 quote, 3 hold, 4 fails, 5 halted (TITAN_HALT), 6 sell 0.0005, then on the
# next day 97 buy 0.0002 and 98 hold.
ST=$(r_strategy st 'local slot = (ctx.now - 1794960000000) // 900000
    ctx.decision.ai = { action = "buy", summary = "AI buy: 2 of 3 for buy", cost_usd = 0.0125 }
    if slot == 1 then return { { side = "buy", type = "market", volume = 0.001, reason = "first | buy" } } end
    if slot == 2 then return { { side = "buy", type = "market", quote = 50, reason = "second buy" } } end
    if slot == 4 then error("scripted failure") end
    if slot == 6 then return { { side = "sell", type = "market", volume = 0.0005, reason = "trim" } } end
    if slot == 97 then return { { side = "buy", type = "market", volume = 0.0002, reason = "next day" } } end
    return {}')
series() {
  for slot in 1 2 3 4 5 6 97 98; do
    if [ "$slot" = 5 ]; then TITAN_HALT=1 TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$ST"
    else TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$ST"; fi
  done
}
series
r_eq "the series recorded 8 cycles" "$(r_sql "select count(*) from execution_logs where strategy='st'")" 8
r_eq "with 4 fills" "$(r_fills st)" 4
NOW=$(r_now 99)
export TITAN_FAKE_NOW_MS=$NOW
# status reads the store only: Kraken unreachable changes nothing
export KRAKEN_API_URL=http://127.0.0.1:9
: >"$TITAN_BLACKBOX"
r_run status --json --strategy st
t_rc "status --json: exit 0" 0
cp "$T_OUT" "$T_TMP/sqlite.json"
t_check "status contacted nothing (no http.request, no kraken.call in the blackbox)" bash -c "! grep -q '\"ev\":\"http.request\"\\|\"ev\":\"kraken.call\"' '$TITAN_BLACKBOX'"

# the expected figures, from the ledger's own tables and the records, computed here
python3 - "$TITAN_DB" "$T_TMP/sqlite.json" >"$T_TMP/agree.out" 2>&1 <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
got = json.load(open(sys.argv[2]))["strategies"][0]
q = lambda sql: db.execute(sql).fetchone()[0]
cash = q("select amount from paper_balances where strategy='st' and asset='ZUSD'")
position = q("select amount from paper_balances where strategy='st' and asset='XXBT'")
rows = [(json.loads(r[0]), json.loads(r[1] or "[]"), r[2]) for r in db.execute(
    "select decision, orders, started_at from execution_logs where strategy='st' and decision is not null order by started_at")]
decisions = [d for d, _, _ in rows]
priced = [d for d in decisions if "prices" in d]
last = priced[-1]["prices"]["last"]
equity = cash + position * last
# a record's portfolio is the book the strategy decided on: the cycle's fills move it
def equity_of(d, orders):
    c, p = d["portfolio"]["cash"], d["portfolio"]["position"]
    for o in orders:
        if (o.get("vol_exec") or 0) > 0:
            sign = 1 if o["side"] == "buy" else -1
            c -= sign * o["cost"] + o.get("fee", 0)
            p += sign * o["vol_exec"]
    return c + p * d["prices"]["last"]
day1 = [(d, o) for d, o, t in rows if t < "2026-11-19" and "prices" in d]
want = {
    "mode": "PAPER", "pair": "XBTUSD", "quote": "ZUSD", "price": last,
    "cash": cash, "position": position, "position_value": position * last, "equity": equity,
    "fills": q("select count(*) from paper_fills where strategy='st'"),
    "fees": q("select sum(fee) from paper_fills where strategy='st'"),
    "realized_pnl": q("select sum(realized_pnl) from paper_fills where strategy='st'"),
    "cost_basis": float(q("select value from strategy_state where strategy='st' and key='titan.cost_basis'")),
    "initial_equity": 10000.0,
    "equity_change.all_time": equity - 10000,
    "equity_change.today": equity - equity_of(*day1[-1]),
    "equity_change.7d": equity - 10000,
    "ai_spend_today_usd": 0.0125 * 2,
}
bad = 0
for key, w in want.items():
    g = got
    for part in key.split("."): g = g[part]
    ok = abs(g - w) <= 1e-6 * max(1, abs(w)) if isinstance(w, float) else g == w
    print("%s %s: got %r want %r" % ("OK" if ok else "MISMATCH", key, g, w))
    bad += not ok
statuses = [c["status"] for c in got["cycles"]]
want_statuses = [r[0] for r in db.execute("select status from execution_logs where strategy='st' order by started_at desc limit 10")]
print("%s cycles: %r" % ("OK" if statuses == want_statuses else "MISMATCH", statuses)); bad += statuses != want_statuses
fills = [(f["side"], f["volume"]) for f in got["recent_fills"]]
want_fills = [(r[0], r[1]) for r in db.execute("select side, volume from paper_fills where strategy='st' order by ts desc")]
print("%s fills: %r" % ("OK" if fills == want_fills else "MISMATCH", fills)); bad += fills != want_fills
failed = [c for c in got["cycles"] if c["status"] == "failed"]
print("%s failed cycle error" % ("OK" if failed and "scripted failure" in failed[0]["error"] else "MISMATCH")); bad += not failed
buy1 = [c for c in got["cycles"] if c["cycle_id"] == "st@2026-11-18T00:15Z"][0]
verdicts = [i["status"] for i in json.loads(q("select decision from execution_logs where cycle_id='st@2026-11-18T00:15Z'"))["intents"]]
counts = {k: verdicts.count(k) for k in ("accepted", "resized", "rejected")}
ok = buy1["intents"] == counts and sum(counts.values()) == 1 and buy1["fills"] == 1 and buy1["ai"] == "AI buy: 2 of 3 for buy"
print("%s the first cycle's intents, fills, AI" % ("OK" if ok else "MISMATCH")); bad += not ok
print("mismatches=%d" % bad)
EOF
grep MISMATCH "$T_TMP/agree.out" | sed 's/^/    /' >&2
t_grep "status --json agrees with the ledger and the records" "mismatches=0" "$T_TMP/agree.out"
t_check "every figure was compared" test "$(grep -c '^OK' "$T_TMP/agree.out")" -ge 20
j() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["strategies"][0]; print(eval(sys.argv[2]))' "$T_TMP/sqlite.json" "$1"; }

# the text form says the same numbers
r_run status --strategy st --last 3
t_rc "status (text): exit 0" 0
EQ=$(python3 -c 'import sys; print("{:,.2f}".format(float(sys.argv[1])))' "$(j 'd["equity"]')")
t_grep "text: equity as the ledger says" "equity        $EQ ZUSD" "$T_OUT"
t_grep "text: cash" "cash          $(python3 -c 'import sys; print("{:,.2f}".format(float(sys.argv[1])))' "$(j 'd["cash"]')") ZUSD" "$T_OUT"
t_grep "text: 4 fills" "· 4 fills" "$T_OUT"
t_grep "text: the last 3 cycles" "last 3 cycles:" "$T_OUT"
t_grep "text: the latest cycle first" "st@2026-11-19T00:30Z" "$T_OUT"
t_nogrep "text: only 3" "st@2026-11-18T01:15Z" "$T_OUT"
t_grep "text: halt off" "halt: off" "$T_OUT"

# Markdown for the job summary
r_run status --markdown
t_rc "status --markdown: exit 0" 0
t_grep "markdown: a table header" "| strategy | mode | equity |" "$T_OUT"
t_grep "markdown: the strategy's row" "| st | PAPER | $EQ ZUSD |" "$T_OUT"

# one self-contained page
r_run status --html "$T_TMP/status.html"
t_rc "status --html: exit 0" 0
t_grep "page: HTML" "<!DOCTYPE html>" "$T_TMP/status.html"
t_grep "page: the equity figure" ">$EQ</b>" "$T_TMP/status.html"
t_grep "page: an equity curve" 'class="equity"' "$T_TMP/status.html"
t_grep "page: a position chart" 'class="position"' "$T_TMP/status.html"
t_grep "page: recent cycles" "st@2026-11-18T01:00Z" "$T_TMP/status.html"
t_grep "page: fills with their reason, escaped" "first | buy" "$T_TMP/status.html"
t_check "page: self-contained (no script, no link, nothing fetched)" bash -c "! grep -qiE '<script|<link|src=|href=|url\\(|@import' '$T_TMP/status.html'"
r_run status --html "$T_TMP/no/such/dir/s.html"
t_rc "an unwritable page: exit 1" 1
t_grep "names the file" "cannot write $T_TMP/no/such/dir/s.html" "$T_ERR"

# orders in doubt, the halt flag, today's AI spend from the strategy's state
r_sql "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, orders, host_version)
       values ('st@2026-11-17T09:00Z', 'st', 'PAPER', 'in_doubt', 'x:1', '2026-11-17T09:00:00.000Z',
               '[{\"index\":1,\"cl_ord_id\":\"abc\",\"state\":\"in_doubt\"}]', '0.1.0')"
r_sql "insert or replace into strategy_state (strategy, key, value, updated_at) values ('st', 'ctx_state', '{\"ai_spend\":{\"2026-11-19\":0.75}}', '2026-11-19T00:00:00.000Z')"
r_run halt on
TITAN_HALT=1 r_run status --json
t_check "in doubt, halt and AI spend in --json" python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); s = d["strategies"][0]
assert d["halt"] == {"store": True, "env": True}, d["halt"]
assert [c["cycle_id"] for c in s["in_doubt"]] == ["st@2026-11-17T09:00Z"] and s["in_doubt"][0]["unknown_orders"] == 1, s["in_doubt"]
assert s["ai_spend_today_usd"] == 0.75, s["ai_spend_today_usd"]' "$T_OUT"
r_run status
t_grep "text: IN DOUBT" "IN DOUBT      st@2026-11-17T09:00Z: 1 order(s) of unknown fate" "$T_OUT"
t_grep "text: the halt flag" "halt: ON (the store's flag" "$T_OUT"
r_run halt off
r_sql "delete from execution_logs where cycle_id = 'st@2026-11-17T09:00Z'"

# bad arguments and unknown strategies
r_run status --strategy nosuch; t_rc "an unknown strategy: exit 1" 1; t_grep "says so" "no cycle of strategy 'nosuch'" "$T_ERR"
r_run status --last 0; t_rc "--last 0: exit 2" 2
r_run status --json --markdown; t_rc "--json with --markdown: exit 2" 2
r_run status --frobnicate; t_rc "an unknown option: exit 2" 2
TITAN_DB=$T_TMP/missing/x.db r_run status; t_rc "a store that cannot be opened: exit 2" 2

# ---- a LIVE strategy: its book from the records (Kraken's balances, the fills' cost and fee) ---------------
unset KRAKEN_API_URL TITAN_FAKE_NOW_MS
export KRAKEN_API_URL=http://127.0.0.1:$K_PORT
r_kctl '{"reset": true, "balances": {"ZUSD": "10000.0000", "XXBT": "0.0000000000"}}'
LV=$(r_strategy lv 'return { { side = "buy", type = "market", volume = 0.0001, reason = "live status" } }')
SYSTEM_MODE=LIVE TITAN_FAKE_NOW_MS=$(r_now 100) r_run run "$LV"
t_rc "a LIVE buy: exit 0" 0
TITAN_FAKE_NOW_MS=$(r_now 101) r_run status --json --strategy lv
python3 - "$TITAN_DB" "$T_OUT" >"$T_TMP/live.out" 2>&1 <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
s = json.load(open(sys.argv[2]))["strategies"][0]
o = json.loads(db.execute("select orders from execution_logs where strategy='lv'").fetchone()[0])[0]
assert s["mode"] == "LIVE", s["mode"]
assert s["fills"] == 1 and s["recent_fills"][0]["side"] == "buy", s["recent_fills"]
assert abs(s["position"] - 0.0001) < 1e-12, s["position"]
assert abs(s["cash"] - (10000 - o["cost"] - o["fee"])) < 1e-6, (s["cash"], o)
assert abs(s["fees"] - o["fee"]) < 1e-9, s["fees"]
print("LIVE OK")
EOF
t_grep "LIVE: mode, fill, position and the cash after the fill" "LIVE OK" "$T_TMP/live.out"

# ---- the same series on Supabase gives the same figures --------------------------------------------------
pg_python
pg_start
psql_run -f "$ROOT/examples/supabase/schema.sql" >"$T_TMP/schema.log" 2>&1
SB_PORT=$(t_free_port)
SB_KEY="sb_secret_status$RANDOM$RANDOM"
FAKE_SUPABASE_KEYS=$SB_KEY "$PY" "$ROOT/tests/fakes/postgrest_fake.py" --port "$SB_PORT" --pg-host "$PGHOST" \
  --pg-port "$PGPORT" >"$T_TMP/postgrest.out" 2>&1 &
T_PIDS+=($!)
t_check "postgrest fake up" t_wait_port "$SB_PORT"
export SUPABASE_URL=http://127.0.0.1:$SB_PORT SUPABASE_KEY=$SB_KEY
R_SECRETS[SUPABASE_KEY]=$SB_KEY
series
TITAN_FAKE_NOW_MS=$NOW r_run status --json --strategy st
t_rc "status --json on Supabase: exit 0" 0
python3 - "$T_TMP/sqlite.json" "$T_OUT" >"$T_TMP/same.out" 2>&1 <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))["strategies"][0]
b = json.load(open(sys.argv[2]))["strategies"][0]
bad = 0
for k in ("mode", "cash", "position", "equity", "fills", "fees", "realized_pnl", "cost_basis", "initial_equity", "price"):
    ok = a[k] == b[k] if isinstance(a[k], str) else abs(a[k] - b[k]) <= 1e-6
    bad += not ok
    print("%s %s %r %r" % ("OK" if ok else "MISMATCH", k, a[k], b[k]))
for k in ("today", "7d", "all_time"):
    ok = abs(a["equity_change"][k] - b["equity_change"][k]) <= 1e-6
    bad += not ok
    print("%s change %s" % ("OK" if ok else "MISMATCH", k))
ok = [c["status"] for c in a["cycles"]] == [c["status"] for c in b["cycles"]]
bad += not ok
print("mismatches=%d" % bad)
EOF
grep MISMATCH "$T_TMP/same.out" | sed 's/^/    /' >&2
t_grep "Supabase and SQLite give the same status" "mismatches=0" "$T_TMP/same.out"
t_grep "the store is named" '"store":"supabase http://127.0.0.1:'"$SB_PORT"'"' "$T_OUT"
r_leak_check
t_finish
