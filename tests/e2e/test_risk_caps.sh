#!/usr/bin/env bash
# Risk caps end to end (issue 13, defects 4, 5, 6 and 7), through the real binary, the loopback
# fake Kraken and real SQLite files:
# - a sell only reduces the position: a stop sells the whole position in one order, never chunked
#   by max_order_quote, with no dust left (PAPER, LIVE and backtest);
# - caps hold at the fill price: a 100 cap never fills above 100 in paper (the fake's last trade
#   is above its ask) nor in a backtest whose next open gaps 8% above the deciding close;
# - a strategy `risk` table with a metatable is refused by `check` and by `run` alike.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

# The fake's market with the last trade 2% above the ask (a paper market buy fills at the last).
KDATA=$T_TMP/kdata
mkdir -p "$KDATA"
for d in "$ROOT/../shared/data/kraken" "$ROOT/tests/fixtures/kraken"; do
  [ -f "$d/http_ticker.json" ] && { cp "$d"/http_*.json "$KDATA/"; break; }
done
python3 - "$KDATA/http_ticker.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = list(d["result"].values())[0]
t["c"][0] = "%.1f" % (float(t["a"][0]) * 1.02)
json.dump(d, open(sys.argv[1], "w"))
EOF
KRAKEN_FAKE_DATA=$KDATA r_start_kraken
export SYSTEM_MODE=PAPER TITAN_DB=$T_TMP/paper.db TITAN_BLACKBOX=$T_TMP/blackbox.log
A=$(r_ticker a); B=$(r_ticker b); C=$(r_ticker c)
t_check "the fake's last ($C) is above its ask ($A)" python3 -c "import sys; sys.exit(0 if float('$C') > float('$A') else 1)"
# r_le NAME GOT MAX: GOT <= MAX
r_le() { if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$2" "$3" 2>/dev/null; then t_pass; else t_fail "$1: $2 > $3"; fi; }

# ---- caps at the fill price (PAPER) ---------------------------------------------------------------
BIG=$(r_strategy big_rc 'return { { side = "buy", type = "market", quote = 5000, reason = "too big" } }')
TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$BIG"
t_rc "a 5000 buy under a 100 cap: exit 0" 0
r_eq "a 5000 buy under a 100 cap: one fill" "$(r_fills big_rc)" 1
r_le "a 100 cap never fills above 100 (cost of the fill)" "$(r_sql "select cost from paper_fills where strategy='big_rc'")" 100
r_le "the ledger paid at most 100 plus the fee" "$(r_sql "select 10000 - amount from paper_balances where strategy='big_rc' and asset='ZUSD'")" 100.4
r_le "the decision sized it at the last plus the slippage allowance" \
  "$(r_json_get "big_rc@$(r_slot_iso 1)" decision 'd["intents"][0]["final_volume"] * '"$C"' * 1.0005')" 100
TIGHT=$(r_strategy tight_rc 'return { { side = "buy", type = "market", quote = 50 } }' 'risk = { max_order_quote = 20 },')
TITAN_PAPER_SLIPPAGE_BPS=1000 TITAN_FAKE_NOW_MS=$(r_now 2) r_run run "$TIGHT"
t_rc "strategy cap 20, slippage 10%: exit 0" 0
r_le "strategy cap 20 at 10% slippage: the fill costs at most 20" "$(r_sql "select cost from paper_fills where strategy='tight_rc'")" 20
# max_position_quote at the fill price: a position worth ~105 and a cap of 150
POS=$(r_strategy pos_rc 'return { { side = "buy", type = "market", quote = 100 } }')
r_sql "insert into paper_balances (strategy, asset, amount, updated_at) values ('pos_rc', 'ZUSD', 10000, '2026-11-17T00:00:00.000Z'),
         ('pos_rc', 'XXBT', 0.001, '2026-11-17T00:00:00.000Z')"
TITAN_MAX_POSITION_QUOTE=150 TITAN_FAKE_NOW_MS=$(r_now 3) r_run run "$POS"
t_rc "position cap 150: exit 0" 0
r_le "position cap 150 holds at the fill price" \
  "$(r_sql "select (0.001 + volume) * price from paper_fills where strategy='pos_rc'")" 150

# ---- a sell only reduces the position: one order, no dust (PAPER) ---------------------------------
EXIT=$(r_strategy exit_rc 'local p = ctx.portfolio.position
    if p <= 0 then return {} end
    return { { side = "sell", type = "market", volume = p, reason = "stop: sell everything" } }')
seed_position() {  # STRATEGY AMOUNT
  r_sql "insert into paper_balances (strategy, asset, amount, updated_at) values ('$1', 'ZUSD', 0, '2026-11-17T00:00:00.000Z'),
           ('$1', 'XXBT', $2, '2026-11-17T00:00:00.000Z')"
}
seed_position exit_rc 0.005
TITAN_FAKE_NOW_MS=$(r_now 4) r_run run "$EXIT"
t_rc "stop on a ~530 USD position: exit 0" 0
r_eq "stop: one sell fill, not five" "$(r_fills exit_rc)" 1
r_eq "stop: it sold the whole position" "$(r_sql "select volume from paper_fills where strategy='exit_rc'")" 0.005
r_eq "stop: the intent was accepted as asked" "$(r_json_get "exit_rc@$(r_slot_iso 4)" decision 'd["intents"][0]["status"]')" accepted
r_eq "stop: nothing left (exactly 0)" "$(r_sql "select amount = 0 from paper_balances where strategy='exit_rc' and asset='XXBT'")" 1
# a position whose arithmetic left binary noise (three fills: 0.0003 + 0.0005 - 0.0001) and one of
# 9.80392156 (floor(v * 1e8) made it 9.80392155): sold whole, nothing left
NOISY=$(python3 -c 'print(repr(0.0003 + 0.0005 - 0.0001))')
sed "s/exit_rc/dust_rc/" "$EXIT" >"$T_TMP/dust_rc.lua"
seed_position dust_rc "$NOISY"
TITAN_FAKE_NOW_MS=$(r_now 5) r_run run "$T_TMP/dust_rc.lua"
t_rc "sell everything of $NOISY: exit 0" 0
r_eq "sell everything of $NOISY: nothing left" "$(r_sql "select amount = 0 from paper_balances where strategy='dust_rc' and asset='XXBT'")" 1
sed "s/exit_rc/big_exit_rc/" "$EXIT" >"$T_TMP/big_exit_rc.lua"
seed_position big_exit_rc 9.80392156
TITAN_FAKE_NOW_MS=$(r_now 6) r_run run "$T_TMP/big_exit_rc.lua"
t_rc "sell everything of 9.80392156: exit 0" 0
r_eq "sell everything of 9.80392156: one fill of 9.80392156" "$(r_sql "select volume from paper_fills where strategy='big_exit_rc'")" 9.80392156
r_eq "sell everything of 9.80392156: nothing left" "$(r_sql "select amount = 0 from paper_balances where strategy='big_exit_rc' and asset='XXBT'")" 1

# ---- a risk table with a metatable: refused by check and by run ----------------------------------
META=$(r_strategy meta_rc 'return {}' 'risk = setmetatable({}, { __index = { max_order_quote = 10 } }),')
t_run check "$META"
t_rc "check: a risk table with a metatable is invalid (exit 2)" 2
t_grep "check: says why" "risk must be a plain table" "$T_ERR"
TITAN_FAKE_NOW_MS=$(r_now 7) r_run run "$META"
t_rc "run: a risk table with a metatable is refused (exit 2)" 2
t_grep "run: says why" "risk must be a plain table" "$T_ERR"
r_eq "run: no cycle recorded" "$(r_sql "select count(*) from execution_logs where strategy='meta_rc'")" 0

# ---- LIVE: the same rules, one order for the whole position ---------------------------------------
export SYSTEM_MODE=LIVE TITAN_DB=$T_TMP/live.db
r_kctl '{"reset": true, "balances": {"ZUSD": "10000.0000", "XXBT": "0.0050000000"}}'
sed "s/exit_rc/live_exit_rc/" "$EXIT" >"$T_TMP/live_exit_rc.lua"
TITAN_FAKE_NOW_MS=$(r_now 8) r_run run "$T_TMP/live_exit_rc.lua"
t_rc "LIVE stop: exit 0" 0
CL=$(r_cl_ord_id "live_exit_rc@$(r_slot_iso 8)" 1)
r_eq "LIVE stop: one real AddOrder" "$(r_kreal_addorders "$CL")" 1
r_eq "LIVE stop: for the whole position" "$(r_kget __orders | python3 -c 'import json, sys; print([o["vol"] for o in json.load(sys.stdin)["orders"]][-1])')" 0.00500000
r_kctl '{"reset": true, "balances": {"ZUSD": "10000.0000", "XXBT": "0.0000000000"}}'
sed "s/big_rc/live_big_rc/" "$BIG" >"$T_TMP/live_big_rc.lua"
TITAN_FAKE_NOW_MS=$(r_now 9) r_run run "$T_TMP/live_big_rc.lua"
t_rc "LIVE buy under a 100 cap: exit 0" 0
r_le "LIVE buy: sized within 100 at the worse of ask and last plus the allowance" \
  "$(r_kget __orders | python3 -c 'import json, sys; print(float([o["vol"] for o in json.load(sys.stdin)["orders"]][-1]) * '"$C"' * 1.0005)')" 100

# ---- backtest: the next open gaps 8% above the deciding close ------------------------------------
cat >"$T_TMP/gap.csv" <<'EOF'
1704067200,100,101,99,100,10,5
1704070800,108,109,107,108,10,5
1704074400,108,109,107,108,10,5
1704078000,120,121,119,120,10,5
1704081600,130,131,129,130,10,5
1704085200,130,131,129,130,10,5
1704088800,90,91,89,90,10,5
1704092400,90,91,89,90,10,5
EOF
cat >"$T_TMP/bt_rc.lua" <<'EOF'
return {
  name = "bt_rc", pair = "XBTUSD", interval = 60,
  on_cycle = function(ctx)
    local p = ctx.portfolio.position
    if ctx.now >= (1704088800 + 3600) * 1000 and p > 0 then          -- the last decision: a stop
      return { { side = "sell", type = "market", volume = p, reason = "stop" } }
    end
    if ctx.now < (1704088800 + 3600) * 1000 then
      return { { side = "buy", type = "market", quote = 1000, reason = "more" } }
    end
    return {}
  end,
}
EOF
TITAN_MAX_POSITION_QUOTE=10000 t_run backtest "$T_TMP/bt_rc.lua" "$T_TMP/gap.csv" --trades "$T_TMP/bt_trades.csv" --ordermin 0.0001 --costmin 0.5
t_rc "backtest with a gap: exit 0" 0
r_eq "backtest: every buy filled" "$(grep -c ',buy,' "$T_TMP/bt_trades.csv")" 6
r_le "backtest: no buy costs more than 100, gap or not" \
  "$(python3 -c 'import csv, sys; print(max(float(r["cost"]) for r in csv.DictReader(open(sys.argv[1])) if r["side"] == "buy"))' "$T_TMP/bt_trades.csv")" 100
r_eq "backtest: the position (~530) left in one sell" "$(grep -c ',sell,' "$T_TMP/bt_trades.csv")" 1
r_eq "backtest: nothing left after the stop" \
  "$(python3 -c 'import csv, sys; print([r for r in csv.DictReader(open(sys.argv[1]))][-1]["position_after"])' "$T_TMP/bt_trades.csv")" 0
t_finish
