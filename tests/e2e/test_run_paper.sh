#!/usr/bin/env bash
# `titan-host run` in PAPER mode end to end (issue 5, "Tests"): the real binary, the loopback fake
# Kraken and a real SQLite file. Fills computed by hand, the slot lock (rerun, live lease, expired
# lease), halt, strategies that fail or return garbage, risk caps, exit 2 cases, --dry-run,
# Kraken unreachable, and planted secrets never printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

if ! "$TITAN_BIN" help run >/dev/null 2>&1; then
  echo "SKIP test_run_paper: 'titan-host run' is not built" >&2
  t_finish; exit
fi

r_run help run
t_rc "help run" 0
for code in "0  " "1  " "2  " "3  "; do t_grep "help run documents exit $code" "  $code" "$T_OUT"; done
t_grep "help run documents --dry-run" "--dry-run" "$T_OUT"

r_start_kraken
export SYSTEM_MODE=PAPER TITAN_DB=$T_TMP/paper.db TITAN_BLACKBOX=$T_TMP/blackbox.log
C=$(r_ticker c); A=$(r_ticker a); B=$(r_ticker b)
t_check "ticker read from the fake" python3 -c "import sys; sys.exit(0 if float('$C') > 0 and float('$A') > 0 else 1)"

# ---- 1. a buy then a sell over two slots, checked against hand-computed numbers ----------------
BUY=$(r_strategy pbuy 'return { { side = "buy", type = "market", volume = 0.0008, reason = "e2e buy" } }')
sed -i 's/name = "pbuy"/name = "paper_rt"/' "$BUY"
SELL=$(r_strategy psell 'ctx.decision.seen = { cash = ctx.portfolio.cash, position = ctx.portfolio.position }
    return { { side = "sell", type = "market", volume = 0.0005, reason = "e2e sell" } }')
sed -i 's/name = "psell"/name = "paper_rt"/' "$SELL"
# expected, from the fake's ticker "c", slippage 5 bps, fee 40 bps, starting cash 10000
eval "$(python3 - "$C" <<'EOF'
import sys
c = float(sys.argv[1]); slip = 5 / 1e4; fee = 40 / 1e4
bv, sv = 0.0008, 0.0005
bp = c * (1 + slip); bc = bv * bp; bf = bc * fee
cash1 = 10000 - bc - bf; basis1 = bc + bf
sp = c * (1 - slip); sc = sv * sp; sf = sc * fee
released = basis1 * sv / bv
pnl = sc - sf - released
cash2 = cash1 + sc - sf
for k, v in dict(BP=bp, BC=bc, BF=bf, CASH1=cash1, SP=sp, SC=sc, SF=sf, PNL=pnl, CASH2=cash2,
                 BASIS2=basis1 - released).items():
    print("E_%s=%.12f" % (k, v))
EOF
)"
S1=$(r_slot_iso 1); S2=$(r_slot_iso 2)
TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$BUY"
t_rc "paper buy exit" 0
t_grep "banner says PAPER" "| PAPER |" "$T_OUT"
t_grep "outcome line" "cycle paper_rt@$S1: done" "$T_OUT"
r_eq "buy: one fill" "$(r_fills paper_rt)" 1
r_eq "buy: row done" "$(r_status "paper_rt@$S1")" done
r_eq "buy fill side/type/volume" "$(r_sql "select side||' '||order_type||' '||volume from paper_fills where strategy='paper_rt'")" "buy market 0.0008"
r_approx "buy fill price = c * (1 + 5 bps)" "$(r_sql "select price from paper_fills where side='buy' and strategy='paper_rt'")" "$E_BP"
r_approx "buy fill cost" "$(r_sql "select cost from paper_fills where side='buy' and strategy='paper_rt'")" "$E_BC"
r_approx "buy fill fee = 40 bps" "$(r_sql "select fee from paper_fills where side='buy' and strategy='paper_rt'")" "$E_BF"
r_approx "buy realized pnl 0" "$(r_sql "select realized_pnl from paper_fills where side='buy' and strategy='paper_rt'")" 0
r_approx "cash after buy" "$(r_sql "select amount from paper_balances where strategy='paper_rt' and asset='ZUSD'")" "$E_CASH1"
r_approx "position after buy" "$(r_sql "select amount from paper_balances where strategy='paper_rt' and asset='XXBT'")" 0.0008
r_eq "buy fill order_ref is the cycle's cl_ord_id" "$(r_sql "select order_ref from paper_fills where side='buy' and strategy='paper_rt'")" "$(r_cl_ord_id "paper_rt@$S1" 1)"
r_eq "buy fill belongs to the cycle" "$(r_sql "select cycle_id from paper_fills where side='buy' and strategy='paper_rt'")" "paper_rt@$S1"
r_eq "orders record: filled" "$(r_json_get "paper_rt@$S1" orders 'd[0]["state"]')" filled
r_approx "orders record: fee" "$(r_json_get "paper_rt@$S1" orders 'd[0]["fee"]')" "$E_BF"
r_eq "decision: intent accepted" "$(r_json_get "paper_rt@$S1" decision 'd["intents"][0]["status"]')" accepted
r_eq "decision: reason kept" "$(r_json_get "paper_rt@$S1" decision 'd["intents"][0]["reason"]')" "e2e buy"
r_approx "decision: last price is ticker c" "$(r_json_get "paper_rt@$S1" decision 'd["prices"]["last"]')" "$C"
t_grep "blackbox: paper fill" '"ev":"order.paper_fill"' "$TITAN_BLACKBOX"
t_grep "blackbox: cycle.end" '"ev":"cycle.end","cycle":"paper_rt@'"$S1"'","status":"done"' "$TITAN_BLACKBOX"

TITAN_FAKE_NOW_MS=$(r_now 2) r_run run "$SELL"
t_rc "paper sell exit" 0
r_eq "sell: two fills" "$(r_fills paper_rt)" 2
r_approx "sell saw the ledger's cash (ctx.portfolio)" "$(r_json_get "paper_rt@$S2" decision 'd["strategy"]["seen"]["cash"]')" "$E_CASH1"
r_approx "sell saw the ledger's position" "$(r_json_get "paper_rt@$S2" decision 'd["strategy"]["seen"]["position"]')" 0.0008
r_approx "sell fill price = c * (1 - 5 bps)" "$(r_sql "select price from paper_fills where side='sell' and strategy='paper_rt'")" "$E_SP"
r_approx "sell fill cost" "$(r_sql "select cost from paper_fills where side='sell' and strategy='paper_rt'")" "$E_SC"
r_approx "sell fill fee" "$(r_sql "select fee from paper_fills where side='sell' and strategy='paper_rt'")" "$E_SF"
r_approx "sell realized pnl (proceeds - fee - released basis)" "$(r_sql "select realized_pnl from paper_fills where side='sell' and strategy='paper_rt'")" "$E_PNL"
r_approx "orders record: realized pnl" "$(r_json_get "paper_rt@$S2" orders 'd[0]["realized_pnl"]')" "$E_PNL"
r_approx "cash after sell" "$(r_sql "select amount from paper_balances where strategy='paper_rt' and asset='ZUSD'")" "$E_CASH2"
r_approx "position after sell" "$(r_sql "select amount from paper_balances where strategy='paper_rt' and asset='XXBT'")" 0.0003
r_approx "remaining cost basis" "$(r_sql "select value from strategy_state where strategy='paper_rt' and key='titan.cost_basis'")" "$E_BASIS2"
# the ledger and the fills agree
r_approx "balances = starting cash + fills" "$(r_sql "select 10000 + sum(case side when 'buy' then -(cost+fee) else cost-fee end) from paper_fills where strategy='paper_rt'")" "$(r_sql "select amount from paper_balances where strategy='paper_rt' and asset='ZUSD'")"
r_approx "position = fills" "$(r_sql "select sum(case side when 'buy' then volume else -volume end) from paper_fills where strategy='paper_rt'")" "$(r_sql "select amount from paper_balances where strategy='paper_rt' and asset='XXBT'")"

# what the strategy sees in ctx
CTX=$(r_strategy ctx_rt 'local d = ctx.decision
    d.mode, d.cycle_id, d.now, d.pair, d.interval = ctx.mode, ctx.cycle_id, ctx.now, ctx.pair, ctx.interval
    d.ai = table.concat(ctx.ai, ",")
    local candles = assert(ctx.market.ohlc(ctx.pair, ctx.interval, 20))
    d.candles = #candles
    local ascending, steps = true, {}
    for i = 2, #candles do
      if candles[i].t <= candles[i - 1].t then ascending = false end
      steps[candles[i].t - candles[i - 1].t] = true
    end
    d.ascending = ascending
    d.steps = {}
    for step in pairs(steps) do d.steps[#d.steps + 1] = step end
    d.ticker_last = assert(ctx.market.ticker()).last
    d.cash, d.quote, d.base = ctx.portfolio.cash, ctx.portfolio.quote, ctx.portfolio.base
    ctx.log("ctx_seen", { candles = #candles })
    ctx.log("strategy.prefixed", { note = "already under strategy." })
    return {}')
NOW3=$(r_now 3)
TITAN_FAKE_NOW_MS=$NOW3 r_run run "$CTX"
t_rc "ctx: exit 0" 0
CIDC="ctx_rt@$(r_slot_iso 3)"
r_eq "ctx.mode" "$(r_json_get "$CIDC" decision 'd["strategy"]["mode"]')" PAPER
r_eq "ctx.cycle_id" "$(r_json_get "$CIDC" decision 'd["strategy"]["cycle_id"]')" "$CIDC"
r_eq "ctx.now is the pinned clock" "$(r_json_get "$CIDC" decision 'd["strategy"]["now"]')" "$NOW3"
r_eq "ctx.pair, ctx.interval" "$(r_json_get "$CIDC" decision 'd["strategy"]["pair"] + " " + str(d["strategy"]["interval"])')" "XBTUSD 15"
r_eq "ctx.ai lists the configured providers" "$(r_json_get "$CIDC" decision 'd["strategy"]["ai"]')" "openai,groq,gemini"
r_eq "ctx.market.ohlc: 20 candles" "$(r_json_get "$CIDC" decision 'd["strategy"]["candles"]')" 20
r_eq "ctx.market.ohlc: candles of the strategy's interval" "$(r_json_get "$CIDC" decision 'd["strategy"]["steps"]')" "[900]"
r_eq "ctx.market.ohlc: oldest first" "$(r_json_get "$CIDC" decision 'd["strategy"]["ascending"]')" True
r_approx "ctx.market.ticker().last" "$(r_json_get "$CIDC" decision 'd["strategy"]["ticker_last"]')" "$C"
r_approx "ctx.portfolio.cash: starting paper cash" "$(r_json_get "$CIDC" decision 'd["strategy"]["cash"]')" 10000
r_eq "ctx.portfolio assets" "$(r_json_get "$CIDC" decision 'd["strategy"]["quote"] + "/" + d["strategy"]["base"]')" "ZUSD/XXBT"
t_grep "ctx.log reaches the blackbox" '"ev":"strategy.ctx_seen"' "$TITAN_BLACKBOX"
t_grep "ctx.log: an event already under strategy. keeps one prefix" '"ev":"strategy.prefixed"' "$TITAN_BLACKBOX"
t_nogrep "ctx.log: never strategy.strategy." '"ev":"strategy.strategy.' "$TITAN_BLACKBOX"

# ---- 2. the slot lock --------------------------------------------------------------------------
# the same slot again: nothing done, not even a Kraken call
finished=$(r_sql "select finished_at from execution_logs where cycle_id='paper_rt@$S1'")
calls=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$BUY"
t_rc "same slot twice exits 0" 0
t_grep "same slot: says already executed" "already executed" "$T_OUT"
r_eq "same slot: no new fill" "$(r_fills paper_rt)" 2
r_eq "same slot: row still done" "$(r_status "paper_rt@$S1")" done
r_eq "same slot: row untouched" "$(r_sql "select finished_at from execution_logs where cycle_id='paper_rt@$S1'")" "$finished"
r_eq "same slot: no Kraken call" "$(r_kcalls)" "$calls"

# a live lease held by another runner
LEASE=$(r_strategy lease_rt 'return { { side = "buy", type = "market", quote = 10 } }')
S12=$(r_slot_iso 12)
r_sql "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until, host_version)
       values ('lease_rt@$S12', 'lease_rt', 'PAPER', 'running', 'other-runner:42', '$(r_iso $((R_DAY0 + 12 * 900000)))',
               '$(r_iso $((R_DAY0 + 12 * 900000 + 600000)))', 'test')"
calls=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 12) r_run run "$LEASE"
t_rc "live lease exits 0" 0
t_grep "live lease: says held by the holder" "held by other-runner:42" "$T_OUT"
r_eq "live lease: no fill" "$(r_fills lease_rt)" 0
r_eq "live lease: row still the other's" "$(r_sql "select status||' '||holder from execution_logs where cycle_id='lease_rt@$S12'")" "running other-runner:42"
r_eq "live lease: no Kraken call" "$(r_kcalls)" "$calls"

# an expired lease: taken over (the runner crashed) and the cycle runs
S13=$(r_slot_iso 13)
r_sql "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until, host_version)
       values ('lease_rt@$S13', 'lease_rt', 'PAPER', 'running', 'crashed-runner:7', '$(r_iso $((R_DAY0 + 13 * 900000)))',
               '$(r_iso $((R_DAY0 + 13 * 900000 + 1000)))', 'test')"
TITAN_FAKE_NOW_MS=$(r_now 13) r_run run "$LEASE"
t_rc "expired lease: taken over, exit 0" 0
t_grep "expired lease: blackbox says taken_over" '"result":"taken_over"' "$TITAN_BLACKBOX"
r_eq "expired lease: row done" "$(r_status "lease_rt@$S13")" done
t_check "expired lease: new holder" test "$(r_sql "select holder from execution_logs where cycle_id='lease_rt@$S13'")" != crashed-runner:7
r_eq "expired lease: one fill" "$(r_fills lease_rt)" 1

# a crash after the paper fill was written: the takeover must not fill the same order twice
S14=$(r_slot_iso 14)
CL14=$(r_cl_ord_id "lease_rt@$S14" 1)
r_sql "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until, host_version)
       values ('lease_rt@$S14', 'lease_rt', 'PAPER', 'running', 'crashed-runner:8', '$(r_iso $((R_DAY0 + 14 * 900000)))',
               '$(r_iso $((R_DAY0 + 14 * 900000 + 1000)))', 'test');
       insert into paper_fills (strategy, cycle_id, order_ref, ts, pair, side, order_type, volume, price, cost, fee,
               base_asset, quote_asset, realized_pnl, reason, created_at)
       values ('lease_rt', 'lease_rt@$S14', '$CL14', '$(r_iso $((R_DAY0 + 14 * 900000 + 2000)))', 'XBTUSD', 'buy', 'market',
               0.0001, $C, $C * 0.0001, $C * 0.0001 * 0.004, 'XXBT', 'ZUSD', 0, 'before the crash',
               '$(r_iso $((R_DAY0 + 14 * 900000 + 2000)))')"
TITAN_FAKE_NOW_MS=$(r_now 14) r_run run "$LEASE"
t_rc "crash after fill: exit 0" 0
r_eq "crash after fill: still one fill for that cycle" "$(r_sql "select count(*) from paper_fills where cycle_id='lease_rt@$S14'")" 1
r_eq "crash after fill: the order is refused, not refilled" "$(r_json_get "lease_rt@$S14" orders 'd[0]["state"]')" refused

# five runners started at once for the same slot: exactly one runs the cycle, the others exit 0
RACE=$(r_strategy race_rt 'return { { side = "buy", type = "market", quote = 10 } }')
now=$(r_now 47); pids=()
for k in 1 2 3 4 5; do
  TITAN_FAKE_NOW_MS=$now "$TITAN_BIN" run "$RACE" >"$T_TMP/race$k.out" 2>"$T_TMP/race$k.err" </dev/null & pids+=($!)
  R_OUTPUTS+=("$T_TMP/race$k.out" "$T_TMP/race$k.err")
done
codes=""
for p in "${pids[@]}"; do wait "$p"; codes="$codes$? "; done
r_eq "race: every runner exits 0" "$codes" "0 0 0 0 0 "
r_eq "race: exactly one fill" "$(r_fills race_rt)" 1
r_eq "race: one row, done" "$(r_sql "select group_concat(status) from execution_logs where strategy='race_rt'")" done
r_eq "race: one runner did the cycle" "$(cat "$T_TMP"/race*.out | grep -c ': done ')" 1
r_eq "race: the others skipped" "$(cat "$T_TMP"/race*.out | grep -cE 'held by|already executed')" 4

# ---- 3. halt ------------------------------------------------------------------------------------
HALT=$(r_strategy halt_rt 'return { { side = "buy", type = "market", quote = 10 } }')
S15=$(r_slot_iso 15)
calls=$(r_kcalls)
TITAN_HALT=1 TITAN_FAKE_NOW_MS=$(r_now 15) r_run run "$HALT"
t_rc "TITAN_HALT=1 exits 0" 0
r_eq "TITAN_HALT=1: recorded halted" "$(r_status "halt_rt@$S15")" halted
r_contains "TITAN_HALT=1: the row says why" "$(r_sql "select error from execution_logs where cycle_id='halt_rt@$S15'")" "TITAN_HALT=1"
r_eq "TITAN_HALT=1: no fill" "$(r_fills halt_rt)" 0
r_eq "TITAN_HALT=1: no Kraken call" "$(r_kcalls)" "$calls"
# fail closed: any value but empty/0/off/false/no halts (a typo must not trade); 0 does not
S14=$(r_slot_iso 14)
TITAN_HALT=yes TITAN_FAKE_NOW_MS=$(r_now 14) r_run run "$HALT" --cycle-id "halt_yes@$S14"
r_eq "TITAN_HALT=yes: recorded halted" "$(r_status "halt_yes@$S14")" halted
TITAN_HALT=0 TITAN_FAKE_NOW_MS=$(r_now 14) r_run run "$HALT" --cycle-id "halt_zero@$S14"
r_eq "TITAN_HALT=0: the cycle runs" "$(r_status "halt_zero@$S14")" done
r_eq "TITAN_HALT=0: one fill" "$(r_fills halt_rt)" 1
r_sql "delete from paper_fills where strategy='halt_rt'; delete from paper_balances where strategy='halt_rt'"
if "$TITAN_BIN" help halt >/dev/null 2>&1; then
  r_run halt on
  t_rc "halt on" 0
  S16=$(r_slot_iso 16)
  TITAN_FAKE_NOW_MS=$(r_now 16) r_run run "$HALT"
  t_rc "halt flag: exits 0" 0
  r_eq "halt flag: recorded halted" "$(r_status "halt_rt@$S16")" halted
  r_contains "halt flag: the row says why" "$(r_sql "select error from execution_logs where cycle_id='halt_rt@$S16'")" "halt flag"
  r_eq "halt flag: no fill" "$(r_fills halt_rt)" 0
  r_run halt off
  t_rc "halt off" 0
  TITAN_FAKE_NOW_MS=$(r_now 17) r_run run "$HALT"
  t_rc "after halt off: exit 0" 0
  r_eq "after halt off: trades again" "$(r_fills halt_rt)" 1
else
  t_fail "titan-host halt is missing"
fi

# ---- 4. strategies that fail or return garbage ------------------------------------------------
# fail_case NAME SLOT WANT_EXIT WANT_IN_ERROR BODY [ENV...]: the cycle fails, the row says why, no fill.
fail_case() {
  local name=$1 slot=$2 want=$3 why=$4 body=$5; shift 5
  local file; file=$(r_strategy "$name" "$body")
  local cid; cid="$name@$(r_slot_iso "$slot")"
  local t0=$SECONDS
  env "$@" TITAN_FAKE_NOW_MS="$(r_now "$slot")" "$TITAN_BIN" run "$file" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" </dev/null
  T_RC=$?; T_OUT=$T_TMP/$name.out; T_ERR=$T_TMP/$name.err; R_OUTPUTS+=("$T_OUT" "$T_ERR")
  t_rc "$name: exit" "$want"
  r_eq "$name: row failed" "$(r_status "$cid")" failed
  r_contains "$name: the row says why" "$(r_sql "select error from execution_logs where cycle_id='$cid'")" "$why"
  r_contains "$name: nothing was traded" "$(r_sql "select error from execution_logs where cycle_id='$cid'")" "nothing was traded"
  t_grep "$name: stdout says why" "$why" "$T_OUT"
  r_eq "$name: no fill" "$(r_fills "$name")" 0
  t_check "$name: bounded time" test $((SECONDS - t0)) -le 10
}
fail_case raise_rt 20 1 "exploded on purpose" 'error("exploded on purpose")'
fail_case loop_rt 21 1 "CPU budget" 'while true do end' TITAN_LUA_CPU_S=1
fail_case pcall_loop_rt 22 1 "CPU budget" 'while true do pcall(function() while true do end end) end' TITAN_LUA_CPU_S=1
fail_case tail_pcall_rt 19 1 "CPU budget" 'return pcall(function() while true do end end)' TITAN_LUA_CPU_S=1
# the wall-clock budget: a strategy that waits (a sleep loop the strategy itself keeps retrying)
fail_case sleep_rt 18 1 "time budget exceeded" 'while true do pcall(titan.time.sleep_ms, 200) end' TITAN_LUA_WALL_S=1
t_grep "sleep_rt: blackbox names the time budget" '"ev":"strategy.error","cycle":"sleep_rt@'"$(r_slot_iso 18)"'","kind":"time_budget"' "$TITAN_BLACKBOX"
fail_case mem_rt 23 1 "memory budget" 'local t = {}; local i = 0
    while true do i = i + 1; t[i] = string.rep("x", 4096) .. i end' TITAN_LUA_MEM_MB=32
fail_case number_rt 24 1 "must return a list" 'return 42'
fail_case nil_rt 25 1 "must return a list" 'return nil'
fail_case nonlist_rt 26 1 "1 key that is not a list position" 'return { { side = "buy", type = "market", quote = 10 }, extra = { side = "buy" } }'
fail_case many_rt 27 1 "1000 intents" 'local t = {}
    for i = 1, 1000 do t[i] = { side = "buy", type = "market", quote = 10 } end
    return t'
# strategy code must not run outside the budgets after on_cycle returns: metatables are refused
fail_case meta_rt 28 1 "has a metatable" 'return setmetatable({}, { __len = function() while true do end end })' TITAN_LUA_CPU_S=1
S29=$(r_slot_iso 29)
META_RISK=$(r_strategy metarisk_rt 'return {}' 'risk = setmetatable({ max_order_quote = 10 }, { __index = function() while true do end end }),')
t0=$SECONDS
TITAN_FAKE_NOW_MS=$(r_now 29) TITAN_LUA_CPU_S=1 timeout 20 "$TITAN_BIN" run "$META_RISK" >"$T_TMP/metarisk.out" 2>"$T_TMP/metarisk.err" </dev/null
R_OUTPUTS+=("$T_TMP/metarisk.out" "$T_TMP/metarisk.err")
t_check "a risk table with a looping __index: no hang ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 10
t_grep "a risk table with a metatable: refused, as by check" "risk must be a plain table" "$T_TMP/metarisk.err"
r_eq "a risk table with a metatable: no cycle ran" "$(r_status "metarisk_rt@$S29")" ""
t_grep "blackbox: strategy.error with kind cpu_budget" '"kind":"cpu_budget"' "$TITAN_BLACKBOX"
t_grep "blackbox: strategy.error with kind memory_budget" '"kind":"memory_budget"' "$TITAN_BLACKBOX"
t_grep "blackbox: garbage explained" '"ev":"strategy.garbage"' "$TITAN_BLACKBOX"

# bad intents: each rejected with its reason; the cycle itself is done (exit 0), nothing placed
BAD=$(r_strategy bad_rt 'return {
      { side = "buy", type = "market", quote = 10, leverage = 5 },
      { side = "buy", type = "market", volume = 0/0 },
      { side = "buy", type = "market", quote = -5 },
      { side = "buy", type = "limit", volume = 0.001 },
      "buy everything",
      { side = "hold", type = "market", quote = 10 },
      { side = "buy", type = "market", quote = 10, volume = 0.0001 },
      { side = "buy", type = "market", quote = math.huge },
      { side = "buy", type = "market", quote = 10, price = 50000 },
      { side = "buy", type = "stop", quote = 10 },
    }')
S30=$(r_slot_iso 30)
TITAN_FAKE_NOW_MS=$(r_now 30) r_run run "$BAD"
t_rc "bad intents: exit 0" 0
r_eq "bad intents: row done" "$(r_status "bad_rt@$S30")" done
r_eq "bad intents: no fill" "$(r_fills bad_rt)" 0
r_eq "bad intents: all 10 rejected" "$(r_json_get "bad_rt@$S30" decision 'sum(1 for i in d["intents"] if i["status"] == "rejected")')" 10
t_grep "bad intents: outcome line counts" "0 accepted, 0 resized, 10 rejected" "$T_OUT"
i=0
for why in "unknown field 'leverage'" "volume must be a positive finite number" "quote must be a positive finite number" \
  "a limit order needs a price" "an intent must be a table" "side must be" "give exactly one of volume" \
  "quote must be a positive finite number" "price is only for limit orders" "type must be"; do
  r_contains "bad intent $((i + 1)) verdict" "$(r_json_get "bad_rt@$S30" decision "d['intents'][$i].get('verdict', '')")" "$why"
  i=$((i + 1))
done
r_eq "bad intents: orders list empty" "$(r_json_get "bad_rt@$S30" orders 'len(d)')" 0

# an oversized order is resized to max_order_quote (default 100), recorded with the verdict, and filled
BIG=$(r_strategy big_rt 'return { { side = "buy", type = "market", quote = 5000, reason = "too big" } }')
S31=$(r_slot_iso 31)
TITAN_FAKE_NOW_MS=$(r_now 31) r_run run "$BIG"
t_rc "oversized: exit 0" 0
# sized at the ask plus the 5 bps slippage allowance, so the cap holds at the fill
WANT_VOL=$(python3 -c "from decimal import Decimal as D, ROUND_DOWN; print((D(100) / (D('$A') * D('1.0005'))).quantize(D('1e-8'), ROUND_DOWN))")
r_eq "oversized: recorded resized" "$(r_json_get "big_rt@$S31" decision 'd["intents"][0]["status"]')" resized
r_contains "oversized: verdict names the cap" "$(r_json_get "big_rt@$S31" decision 'd["intents"][0]["verdict"]')" "max_order_quote"
r_eq "oversized: final volume = 100 / (ask + 5 bps), rounded down to the lot" "$(r_json_get "big_rt@$S31" decision 'd["intents"][0]["final_volume"]')" "$WANT_VOL"
r_approx "oversized: the fill has the resized volume" "$(r_sql "select volume from paper_fills where strategy='big_rt'")" "$WANT_VOL"
t_check "oversized: cost within the cap" python3 -c "import sys; sys.exit(0 if float('$(r_sql "select volume*$A from paper_fills where strategy='big_rt'")') <= 100 else 1)"
t_grep "oversized: blackbox risk.decision resized" '"status":"resized"' "$TITAN_BLACKBOX"

# limit orders: filled only when marketable now, at the touch plus slippage but never past the
# limit; otherwise cancelled (immediate-or-cancel)
HI=$(python3 -c "print('%.1f' % (round($A * 1.01, 1)))"); LO=$(python3 -c "print('%.1f' % (round($B * 0.99, 1)))")
LBUY=$(r_strategy limit_rt "return { { side = \"buy\", type = \"limit\", volume = 0.0005, price = $HI },
      { side = \"buy\", type = \"limit\", volume = 0.0004, price = $LO } }")
S48=$(r_slot_iso 48)
TITAN_FAKE_NOW_MS=$(r_now 48) r_run run "$LBUY"
t_rc "limit buys: exit 0" 0
r_eq "limit buys: one fill" "$(r_fills limit_rt)" 1
r_approx "marketable limit buy fills at ask + slippage" "$(r_sql "select price from paper_fills where strategy='limit_rt' and side='buy'")" "$(python3 -c "print(min($HI, $A * 1.0005))")"
r_approx "marketable limit buy fee" "$(r_sql "select fee from paper_fills where strategy='limit_rt' and side='buy'")" "$(python3 -c "print(0.0005 * min($HI, $A * 1.0005) * 0.004)")"
r_eq "limit below the ask: cancelled" "$(r_json_get "limit_rt@$S48" orders 'd[1]["state"]')" canceled
r_contains "limit below the ask: says immediate-or-cancel" "$(r_json_get "limit_rt@$S48" orders 'd[1]["note"]')" "immediate-or-cancel"
LSELL=$(r_strategy limit_sell "return { { side = \"sell\", type = \"limit\", volume = 0.0002, price = $HI },
      { side = \"sell\", type = \"limit\", volume = 0.0003, price = $LO } }")
sed -i 's/name = "limit_sell"/name = "limit_rt"/' "$LSELL"
S49=$(r_slot_iso 49)
TITAN_FAKE_NOW_MS=$(r_now 49) r_run run "$LSELL"
t_rc "limit sells: exit 0" 0
r_eq "limit sell above the bid: cancelled" "$(r_json_get "limit_rt@$S49" orders 'd[0]["state"]')" canceled
r_approx "marketable limit sell fills at bid - slippage" "$(r_sql "select price from paper_fills where strategy='limit_rt' and side='sell'")" "$(python3 -c "print(max($LO, $B * 0.9995))")"
r_approx "after the limit orders: position" "$(r_sql "select amount from paper_balances where strategy='limit_rt' and asset='XXBT'")" 0.0002

# ctx.state persists between cycles (a cron runner keeps nothing)
STATE=$(r_strategy state_rt 'ctx.state.n = (ctx.state.n or 0) + 1
    ctx.state.history = ctx.state.history or {}
    ctx.state.history[#ctx.state.history + 1] = ctx.cycle_id
    ctx.decision.n = ctx.state.n
    return {}')
TITAN_FAKE_NOW_MS=$(r_now 50) r_run run "$STATE"
TITAN_FAKE_NOW_MS=$(r_now 51) r_run run "$STATE"
t_rc "ctx.state: exit 0" 0
r_eq "ctx.state: the second cycle sees the first's value" "$(r_json_get "state_rt@$(r_slot_iso 51)" decision 'd["strategy"]["n"]')" 2
r_contains "ctx.state: stored as JSON" "$(r_sql "select value from strategy_state where strategy='state_rt' and key='ctx_state'")" "state_rt@$(r_slot_iso 50)"

# not enough paper cash: rejected with the reason
POOR=$(r_strategy poor_rt 'return { { side = "buy", type = "market", quote = 90 } }')
TITAN_PAPER_CASH=50 TITAN_FAKE_NOW_MS=$(r_now 52) r_run run "$POOR"
t_rc "insufficient cash: exit 0" 0
r_contains "insufficient cash: rejected" "$(r_json_get "poor_rt@$(r_slot_iso 52)" decision 'd["intents"][0]["verdict"]')" "insufficient quote balance"
r_eq "insufficient cash: no fill" "$(r_fills poor_rt)" 0
r_approx "TITAN_PAPER_CASH seeds the ledger" "$(r_sql "select amount from paper_balances where strategy='poor_rt' and asset='ZUSD'")" 50

# ---- 5. risk caps ------------------------------------------------------------------------------
# risk_case NAME SLOT CAP_FIELD WANT_CAP WANT_VOL_QUOTE BODY FIELDS [ENV...]
vol_for() { python3 -c "from decimal import Decimal as D, ROUND_DOWN; print((D($1) / (D('$A') * D('1.0005'))).quantize(D('1e-8'), ROUND_DOWN))"; }
TIGHT=$(r_strategy tight_rt 'return { { side = "buy", type = "market", quote = 50 } }' 'risk = { max_order_quote = 20 },')
S32=$(r_slot_iso 32)
TITAN_FAKE_NOW_MS=$(r_now 32) r_run run "$TIGHT"
t_rc "strategy risk: exit 0" 0
r_approx "strategy risk: cap 20 in the decision" "$(r_json_get "tight_rt@$S32" decision 'd["caps"]["max_order_quote"]')" 20
r_approx "strategy risk: 50 cut to 20 (host allows 100)" "$(r_sql "select volume from paper_fills where strategy='tight_rt'")" "$(vol_for 20)"
LOOSE=$(r_strategy loose_rt 'return { { side = "buy", type = "market", quote = 50 } }' 'risk = { max_order_quote = 100000, max_orders_per_cycle = 50 },')
S33=$(r_slot_iso 33)
TITAN_MAX_ORDER_QUOTE=30 TITAN_FAKE_NOW_MS=$(r_now 33) r_run run "$LOOSE"
t_rc "strategy cannot loosen: exit 0" 0
r_approx "strategy cannot loosen: cap stays 30" "$(r_json_get "loose_rt@$S33" decision 'd["caps"]["max_order_quote"]')" 30
r_approx "strategy cannot loosen: orders per cycle stays 2" "$(r_json_get "loose_rt@$S33" decision 'd["caps"]["max_orders_per_cycle"]')" 2
r_approx "strategy cannot loosen: cut to 30" "$(r_sql "select volume from paper_fills where strategy='loose_rt'")" "$(vol_for 30)"
HOSTCAP=$(r_strategy hostcap_rt 'return { { side = "buy", type = "market", quote = 50 } }')
S34=$(r_slot_iso 34)
TITAN_MAX_ORDER_QUOTE=10 TITAN_FAKE_NOW_MS=$(r_now 34) r_run run "$HOSTCAP"
t_rc "TITAN_MAX_ORDER_QUOTE=10: exit 0" 0
r_approx "TITAN_MAX_ORDER_QUOTE=10: cut to 10" "$(r_sql "select volume from paper_fills where strategy='hostcap_rt'")" "$(vol_for 10)"
POS=$(r_strategy pos_rt 'return { { side = "buy", type = "market", quote = 50 } }')
S35=$(r_slot_iso 35)
TITAN_MAX_POSITION_QUOTE=30 TITAN_FAKE_NOW_MS=$(r_now 35) r_run run "$POS"
t_rc "TITAN_MAX_POSITION_QUOTE=30: exit 0" 0
r_contains "max position: verdict" "$(r_json_get "pos_rt@$S35" decision 'd["intents"][0]["verdict"]')" "max_position_quote"
r_approx "max position: cut to 30" "$(r_sql "select volume from paper_fills where strategy='pos_rt'")" "$(vol_for 30)"
THREE=$(r_strategy three_rt 'return { { side = "buy", type = "market", quote = 10 }, { side = "buy", type = "market", quote = 11 },
      { side = "buy", type = "market", quote = 12 } }')
S36=$(r_slot_iso 36)
TITAN_FAKE_NOW_MS=$(r_now 36) r_run run "$THREE"
t_rc "max orders per cycle (default 2): exit 0" 0
r_eq "max orders per cycle: two fills" "$(r_fills three_rt)" 2
r_contains "max orders per cycle: third rejected" "$(r_json_get "three_rt@$S36" decision 'd["intents"][2]["status"] + " " + d["intents"][2]["verdict"]')" "rejected max_orders_per_cycle 2"
S37=$(r_slot_iso 37)
TITAN_MAX_ORDERS_PER_CYCLE=1 TITAN_FAKE_NOW_MS=$(r_now 37) r_run run "$THREE"
t_rc "TITAN_MAX_ORDERS_PER_CYCLE=1: exit 0" 0
r_eq "TITAN_MAX_ORDERS_PER_CYCLE=1: one more fill" "$(r_fills three_rt)" 3
r_eq "TITAN_MAX_ORDERS_PER_CYCLE=1: two rejected" "$(r_json_get "three_rt@$S37" decision 'sum(1 for i in d["intents"] if i["status"] == "rejected")')" 2
OVERSELL=$(r_strategy oversell_rt 'return { { side = "sell", type = "market", volume = 0.01 } }')
S38=$(r_slot_iso 38)
TITAN_FAKE_NOW_MS=$(r_now 38) r_run run "$OVERSELL"
t_rc "sell more than held: exit 0" 0
r_contains "sell more than held: rejected" "$(r_json_get "oversell_rt@$S38" decision 'd["intents"][0]["verdict"]')" "insufficient base balance"
r_eq "sell more than held: no fill" "$(r_fills oversell_rt)" 0

# daily loss limit: a losing fill today (seeded) blocks buys, not sells; one from yesterday does not
seed_loss() {  # STRATEGY TS_MS
  r_sql "insert into paper_balances (strategy, asset, amount, updated_at) values ('$1', 'ZUSD', 10000, '2026-11-17T00:00:00.000Z'),
           ('$1', 'XXBT', 0.002, '2026-11-17T00:00:00.000Z');
         insert into paper_fills (strategy, cycle_id, order_ref, ts, pair, side, order_type, volume, price, cost, fee,
           base_asset, quote_asset, realized_pnl, reason, created_at)
         values ('$1', '$1@seed', 'seed-$1', '$(r_iso "$2")', 'XBTUSD', 'sell', 'market', 0.001, 100000, 100, 0.4,
           'XXBT', 'ZUSD', -60, 'seeded loss', '$(r_iso "$2")')"
}
LOSS=$(r_strategy loss_rt 'return { { side = "buy", type = "market", quote = 10, reason = "buy the dip" },
      { side = "sell", type = "market", volume = 0.0005, reason = "cut" } }')
seed_loss loss_rt $((R_DAY0 + 3600000))
S39=$(r_slot_iso 39)
TITAN_FAKE_NOW_MS=$(r_now 39) r_run run "$LOSS"
t_rc "daily loss: exit 0" 0
r_approx "daily loss: realized today seen" "$(r_json_get "loss_rt@$S39" decision 'd["portfolio"]["realized_today"]')" -60
r_contains "daily loss: buy rejected" "$(r_json_get "loss_rt@$S39" decision 'd["intents"][0]["status"] + " " + d["intents"][0]["verdict"]')" "rejected daily loss limit"
r_eq "daily loss: sell allowed" "$(r_json_get "loss_rt@$S39" decision 'd["intents"][1]["status"]')" accepted
r_eq "daily loss: only the sell filled" "$(r_sql "select group_concat(side) from paper_fills where strategy='loss_rt' and cycle_id='loss_rt@$S39'")" sell
LOSS2=$(r_strategy loss2_rt 'return { { side = "buy", type = "market", quote = 10 } }')
seed_loss loss2_rt $((R_DAY0 - 3600000))
TITAN_FAKE_NOW_MS=$(r_now 39) r_run run "$LOSS2"
t_rc "yesterday's loss: exit 0" 0
r_eq "yesterday's loss does not block today's buy" "$(r_sql "select count(*) from paper_fills where strategy='loss2_rt' and side='buy'")" 1
TITAN_MAX_DAILY_LOSS_QUOTE=100 TITAN_FAKE_NOW_MS=$(r_now 40) r_run run "$LOSS"
t_rc "TITAN_MAX_DAILY_LOSS_QUOTE=100: exit 0" 0
r_eq "TITAN_MAX_DAILY_LOSS_QUOTE=100: the buy passes" "$(r_json_get "loss_rt@$(r_slot_iso 40)" decision 'd["intents"][0]["status"]')" accepted

# ---- 6. exit 2: nothing done -------------------------------------------------------------------
HOLD=$(r_strategy hold_rt 'return {}')
fresh() { export TITAN_DB=$T_TMP/fresh$1.db TITAN_BLACKBOX=$T_TMP/fresh$1.log; }
nothing_done() {  # NAME: no store file, no cycle.start
  t_check "$1: no store created" test ! -e "$TITAN_DB"
  if [ -f "$TITAN_BLACKBOX" ]; then t_nogrep "$1: no cycle.start" '"ev":"cycle.start"' "$TITAN_BLACKBOX"; else t_pass; fi
}
calls=$(r_kcalls)
fresh 1; SYSTEM_MODE=bogus TITAN_FAKE_NOW_MS=$(r_now 41) r_with_all_six r_run run "$HOLD"
t_rc "SYSTEM_MODE=bogus: exit 2" 2
t_grep "SYSTEM_MODE=bogus: says so" "SYSTEM_MODE" "$T_ERR"
nothing_done "SYSTEM_MODE=bogus"
fresh 3; TITAN_MAX_ORDER_QUOTE=lots TITAN_FAKE_NOW_MS=$(r_now 41) r_run run "$HOLD"
t_rc "TITAN_MAX_ORDER_QUOTE=lots: exit 2" 2
nothing_done "bad cap"
fresh 4; TITAN_PAPER_FEE_BPS=-1 TITAN_FAKE_NOW_MS=$(r_now 41) r_run run "$HOLD"
t_rc "TITAN_PAPER_FEE_BPS=-1: exit 2" 2
nothing_done "bad fee"
printf 'return { name = "invalid", pair = "XBTUSD", interval = 7 }\n' >"$T_TMP/invalid.lua"
fresh 5; TITAN_FAKE_NOW_MS=$(r_now 41) r_run run "$T_TMP/invalid.lua"
t_rc "invalid strategy: exit 2" 2
t_grep "invalid strategy: says on_cycle" "on_cycle" "$T_ERR"
nothing_done "invalid strategy"
printf 'return { name = "syntax", \n' >"$T_TMP/syntax.lua"
fresh 6; TITAN_FAKE_NOW_MS=$(r_now 41) r_run run "$T_TMP/syntax.lua"
t_rc "syntax error: exit 2" 2
nothing_done "syntax error"
fresh 7; TITAN_FAKE_NOW_MS=$(r_now 41) r_run run "$T_TMP/missing.lua"
t_rc "missing file: exit 2" 2
fresh 8; r_run run "$HOLD" --frobnicate
t_rc "unknown option: exit 2" 2
r_run run
t_rc "no strategy: exit 2" 2
fresh 9; SYSTEM_MODE=LIVE KRAKEN_API_KEY= KRAKEN_SECRET= TITAN_FAKE_NOW_MS=$(r_now 41) r_run run "$HOLD"
t_rc "LIVE without keys: exit 2" 2
t_grep "LIVE without keys: says so" "KRAKEN_API_KEY" "$T_ERR"
nothing_done "LIVE without keys"
fresh 10; SYSTEM_MODE=LIVE GITHUB_ACTIONS=true TITAN_FAKE_NOW_MS=$(r_now 41) r_with_all_six r_run run "$HOLD"
t_rc "LIVE in GitHub Actions without Supabase: exit 2" 2
t_grep "LIVE in CI: says Supabase" "SUPABASE_URL" "$T_ERR"
nothing_done "LIVE in CI"
r_eq "exit 2 cases: no Kraken call" "$(r_kcalls)" "$calls"
fresh 2; SYSTEM_MODE=paper TITAN_FAKE_NOW_MS=$(r_now 41) r_run run "$HOLD"
t_rc "SYSTEM_MODE=paper (lower case) accepted" 0
t_grep "SYSTEM_MODE=paper: banner says PAPER" "| PAPER |" "$T_OUT"

# ---- 7. --dry-run --------------------------------------------------------------------------------
fresh 11
DRY=$(r_strategy dry_rt 'return { { side = "buy", type = "market", quote = 10 } }')
TITAN_FAKE_NOW_MS=$(r_now 42) r_run run "$DRY" --dry-run
t_rc "dry run: exit 0" 0
t_grep "dry run: banner" "DRY RUN" "$T_OUT"
t_grep "dry run: outcome line" "(dry run)" "$T_OUT"
r_eq "dry run: no execution_logs row" "$(r_count execution_logs)" 0
r_eq "dry run: no fill" "$(r_count paper_fills)" 0
r_eq "dry run: no ledger" "$(r_count paper_balances)" 0
t_grep "dry run: blackbox says so" '"dry_run":true' "$TITAN_BLACKBOX"

# ---- 8. Kraken unreachable -------------------------------------------------------------------------
fresh 12
CLOSED=$(t_free_port)
t0=$SECONDS
KRAKEN_API_URL=http://127.0.0.1:$CLOSED TITAN_FAKE_NOW_MS=$(r_now 43) r_run run "$DRY"
t_rc "Kraken unreachable: exit 1" 1
t_grep "Kraken unreachable: says so" "Kraken unreachable" "$T_OUT"
t_grep "Kraken unreachable: nothing traded" "nothing was traded" "$T_OUT"
r_eq "Kraken unreachable: row failed" "$(r_status "dry_rt@$(r_slot_iso 43)")" failed
r_contains "Kraken unreachable: row says why" "$(r_sql "select error from execution_logs")" "Kraken unreachable"
r_eq "Kraken unreachable: no fill" "$(r_sql "select count(*) from paper_fills")" 0
t_check "Kraken unreachable: fails fast (<= 20 s)" test $((SECONDS - t0)) -le 20

# the store unreachable, with all six secrets planted (Supabase at a closed loopback port)
fresh 13
SUPABASE_URL=http://127.0.0.1:$CLOSED TITAN_FAKE_NOW_MS=$(r_now 44) r_with_all_six r_run run "$DRY"
t_rc "store unreachable: exit 1" 1
t_grep "store unreachable: nothing traded" "nothing was traded" "$T_OUT"
t_grep "store unreachable: names Supabase" "supabase" "$T_OUT"

# ---- 9. a strategy that goes looking for the secrets ---------------------------------------------
export TITAN_DB=$T_TMP/paper.db TITAN_BLACKBOX=$T_TMP/blackbox.log
NOSY=$(r_strategy nosy_rt 'local seen = {}
    for _, n in ipairs({ "KRAKEN_API_KEY", "KRAKEN_SECRET", "SUPABASE_KEY", "OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY" }) do
      seen[#seen + 1] = n .. "=" .. tostring(os.getenv(n))
      local ok, secret = pcall(require, "titan.secret")
      if ok then
        local ok2, h = pcall(secret, n)
        seen[#seen + 1] = tostring(h)
      end
    end
    print("nosy: " .. table.concat(seen, " "))
    ctx.log("nosy", { seen = seen })
    ctx.decision.seen = seen
    ctx.state.seen = seen
    return { { side = "buy", type = "market", quote = 10, reason = table.concat(seen, ",") } }')
TITAN_FAKE_NOW_MS=$(r_now 45) r_run run "$NOSY"
t_rc "nosy strategy: exit 0" 0
t_grep "nosy strategy: os.getenv gives nil" "KRAKEN_SECRET=nil" "$T_OUT"
NOSY_ERR=$(r_strategy nosy_err_rt 'local h = require("titan.secret")("KRAKEN_SECRET"); error("leak: " .. tostring(h) .. tostring(os.getenv("KRAKEN_API_KEY")))')
TITAN_FAKE_NOW_MS=$(r_now 46) r_run run "$NOSY_ERR"
t_rc "nosy error strategy: exit 1" 1

# ---- durability (README "Store"): a PAPER cycle syncs the WAL twice: the lock before the market is
# read, then the fills, ctx.state and the record in one transaction; never the database file ----
if r_traced_cycle "$T_TMP/paper.strace" "$BUY" 60; then
  t_rc "durability: a PAPER cycle with a fill under strace" 0
  t_grep "durability: it filled" "1 filled" "$T_OUT"
  t_check "durability: 2 syncs of the WAL (the lock, the record), got $WAL" test "$WAL" = 2
  t_check "durability: the database file is not synced (no checkpoint at close), got $DB" test "$DB" = 0
  t_check "durability: nothing else but SQLite's one folder sync, got $OTHER" test "$OTHER" -le 1
  t_check "durability: the lock is on disk before the first request to Kraken" \
    test "$(r_line_of "$T_TMP/paper.strace" "sync[a-z]*\\([0-9]+<$SYNC_DB-wal>")" -lt "$(r_line_of "$T_TMP/paper.strace" 'sendto\(')"
  fills=$(TITAN_DB=$SYNC_DB r_fills paper_rt)
  t_check "durability: both runs' fills are in the store, got $fills" test "$fills" = 2
fi

r_leak_check
t_finish
