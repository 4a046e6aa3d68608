#!/usr/bin/env bash
# `titan-host backtest` from the command line: options and exit codes, every bad data file with
# its line, the summary, --json (sorted keys, byte-identical across runs), --trades, --report
# (self-contained), the progress bar only on a terminal, and the shipped strategies over real
# data when ../shared/data is present (skipped, and said so, when it is not).
source "$(dirname "$0")/lib.sh"
export TITAN_BLACKBOX=$T_TMP/blackbox.log
unset TITAN_MAX_ORDER_QUOTE TITAN_MAX_POSITION_QUOTE TITAN_MAX_ORDERS_PER_CYCLE TITAN_MAX_DAILY_LOSS_QUOTE
unset TITAN_PAPER_FEE_BPS TITAN_PAPER_SLIPPAGE_BPS TITAN_PAPER_CASH
FIX=$ROOT/tests/fixtures/backtest
SHARED=$ROOT/../shared/data

cat >"$T_TMP/rt.lua" <<'LUA'
-- buys 0.5 after the 2nd bar closes, sells it all after the 4th
return { name = "rt", pair = "XBTUSD", interval = 60, on_cycle = function(ctx)
  local c = ctx.market.ohlc(ctx.pair, ctx.interval, 720)
  if #c == 2 then return { { side = "buy", type = "market", volume = 0.5, reason = "in, \"quoted\"" } } end
  if #c == 4 then return { { side = "sell", type = "market", volume = ctx.portfolio.position, reason = "out" } } end
  return {}
end }
LUA

# ---- help and usage ---------------------------------------------------------------------
t_run help backtest
t_rc "help backtest" 0
t_grep "help names the exit codes" "exit codes: 0 the backtest ran; 1 the strategy failed" "$T_OUT"
t_grep "help documents the fill rule" "fill at bar i+1's open" "$T_OUT"
t_run help
t_grep "help lists backtest" "backtest STRATEGY.lua DATA.csv" "$T_OUT"
t_run backtest
t_rc "no arguments" 2
t_run backtest "$T_TMP/rt.lua"
t_rc "no data file" 2
t_run backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv" --bogus 1
t_rc "unknown option" 2
t_grep "unknown option named" "--bogus" "$T_ERR"
t_run backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv" --fee-bps abc
t_rc "non-numeric --fee-bps" 2
t_run backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv" --cash -5
t_rc "negative --cash" 2
t_run backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv" --from 2024-02-01 --to 2024-01-01
t_rc "--to before --from" 2
t_run backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv" --from yesterday
t_rc "--from not a date" 2
t_run backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv" --json
t_rc "--json without a file" 2

# ---- bad data: each names its line, nothing runs, no output file --------------------------
check_bad() {
  local file=$1 want=$2
  rm -f "$T_TMP/bad.json"
  t_run backtest "$T_TMP/rt.lua" "$FIX/$file" --json "$T_TMP/bad.json"
  t_rc "$file exits 2" 2
  t_grep "$file: error" "$want" "$T_ERR"
  t_grep "$file: nothing was run" "nothing was run" "$T_ERR"
  t_check "$file: no JSON written" test ! -e "$T_TMP/bad.json"
}
check_bad bad_unsorted.csv "bad_unsorted.csv:3: time 2024-01-01T01:00:00.000Z is before line 2's"
check_bad bad_duplicate.csv "bad_duplicate.csv:3: duplicate time"
check_bad bad_nonnumeric.csv "bad_nonnumeric.csv:2: high 'abc' is not a number"
check_bad bad_high_low.csv "bad_high_low.csv:2: high 98 is below low 99"
check_bad bad_truncated.csv "bad_truncated.csv:3: truncated last line"
check_bad bad_header.csv "bad_header.csv:1: the header has no 'low' column"
check_bad bad_empty.csv "no bars"

# ---- a round trip, every output ----------------------------------------------------------
run_rt() {
  t_run backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv" --fee-bps 40 --slippage-bps 5 --cash 10000 \
    --json "$T_TMP/$1.json" --trades "$T_TMP/$1.csv" --report "$T_TMP/$1.html"
}
run_rt one
t_rc "round trip runs" 0
for row in "total return" "CAGR" "max drawdown" "Sharpe" "Sortino" "win rate" "profit factor" "fills" "fees paid" \
           "time in market" "buy & hold"; do
  t_grep "summary shows $row" "$row" "$T_OUT"
done
t_grep "summary: final equity" "10008.50" "$T_OUT"
t_grep "summary: gaps none" "gaps      none" "$T_OUT"
t_check "no progress bar when stderr is not a terminal" test ! -s "$T_ERR"
run_rt two
t_check "two runs give byte-identical JSON" cmp -s "$T_TMP/one.json" "$T_TMP/two.json"
t_check "two runs give identical trades" cmp -s "$T_TMP/one.csv" "$T_TMP/two.csv"
t_check "JSON keys are sorted at every level, values as computed" python3 - "$T_TMP/one.json" <<'PY'
import json, sys
def pairs(ps):
    keys = [k for k, _ in ps]
    assert keys == sorted(keys), keys
    return dict(ps)
d = json.load(open(sys.argv[1]), object_pairs_hook=pairs)
m = d["metrics"]
assert abs(m["final_equity"] - 10008.500518) < 1e-6, m["final_equity"]
assert m["fills"] == 2 and m["round_trips"] == 1 and m["wins"] == 1
assert abs(m["fees"] - 0.443982) < 1e-9, m["fees"]
assert m["cagr"] is None and m["profit_factor"] is None
assert d["config"]["fee_bps"] == 40 and d["config"]["slippage_bps"] == 5
assert d["data"]["bars"] == 6 and d["data"]["format"] == "kraken_ohlcvt"
assert d["strategy"]["name"] == "rt" and d["strategy"]["interval"] == 60
PY
t_check "trades CSV: header and two fills" test "$(wc -l <"$T_TMP/one.csv")" = 3
t_grep "trades CSV header" "time,side,type,price,volume,cost,fee,realized_pnl,cash_after,position_after,decided_at,reason" "$T_TMP/one.csv"
t_grep "trades CSV: the buy at bar 2's open plus slippage" "2024-01-01T02:00:00.000Z,buy,market,102.051,0.5," "$T_TMP/one.csv"
t_grep "trades CSV quotes the reason" '"in, ""quoted"""' "$T_TMP/one.csv"
t_grep "report is HTML" "<!DOCTYPE html>" "$T_TMP/one.html"
t_grep "report has the equity chart" "<h2>Equity</h2>" "$T_TMP/one.html"
t_grep "report has the drawdown chart" "<h2>Drawdown</h2>" "$T_TMP/one.html"
t_grep "report has price and trades" "<h2>Price and trades</h2>" "$T_TMP/one.html"
t_grep "report has inline SVG" "<svg viewBox" "$T_TMP/one.html"
t_grep "report lists the fills" "in, &quot;quoted&quot;" "$T_TMP/one.html"
t_check "report is self-contained (no scripts, links or remote resources)" \
  python3 -c 'import re,sys; h=open(sys.argv[1]).read(); h=h.replace("xmlns=\"http://www.w3.org/2000/svg\"",""); sys.exit(1 if re.search(r"<script|<link|src=|href=|url\(|https?://", h) else 0)' "$T_TMP/one.html"

# an output that cannot be written is an error; a run without fills still gives a report
t_run backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv" --report "$T_TMP/no/such/dir/r.html"
t_rc "unwritable report exits 2" 2
t_grep "unwritable report named" "cannot write $T_TMP/no/such/dir/r.html" "$T_ERR"
printf 'return { name = "idle", pair = "XBTUSD", interval = 60, on_cycle = function() return {} end }\n' >"$T_TMP/idle.lua"
t_run backtest "$T_TMP/idle.lua" "$FIX/flat.csv" --report "$T_TMP/idle.html" --json "$T_TMP/idle.json"
t_rc "a flat market without trades runs" 0
t_grep "report without fills says so" "no fills" "$T_TMP/idle.html"
t_grep "flat market: Sharpe undefined" '"sharpe":null' "$T_TMP/idle.json"

# offline: a strategy that reaches for the network in a backtest gets http.offline, nothing is sent
NET_PORT=$(t_free_port)
python3 -m http.server "$NET_PORT" --bind 127.0.0.1 >"$T_TMP/net.log" 2>&1 & T_PIDS+=($!)
t_check "local web server up" t_wait_port "$NET_PORT"
cat >"$T_TMP/net.lua" <<LUA
return { name = "net", pair = "XBTUSD", interval = 60, on_cycle = function(ctx)
  local res, err = titan.http.request{ url = "http://127.0.0.1:$NET_PORT/" }
  assert(res == nil and err.code == "http.offline", "the network answered: " .. tostring(res and res.status or err.code))
  local r2, e2 = titan.kraken.public("Time")
  assert(r2 == nil and e2.code == "http.offline", "Kraken answered: " .. tostring(e2 and e2.code))
  return {}
end }
LUA
t_run backtest "$T_TMP/net.lua" "$FIX/flat.csv"
t_rc "backtest offline: the strategy saw http.offline" 0
t_check "backtest offline: no request reached the server" test "$(grep -c 'GET /' "$T_TMP/net.log")" = 0

# the same bars as a headered file with millisecond times give the same metrics
t_run backtest "$T_TMP/rt.lua" "$FIX/rt_headered_ms.csv" --fee-bps 40 --slippage-bps 5 --json "$T_TMP/ms.json"
t_rc "headered ms file runs" 0
t_check "headered ms file: same metrics as the Kraken file" python3 -c '
import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if a["metrics"]==b["metrics"] else 1)' "$T_TMP/one.json" "$T_TMP/ms.json"

# --from/--to: earlier bars are history, decisions start at --from
t_run backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv" --from 2024-01-01T02:00Z --to 2024-01-01T05:00Z --json "$T_TMP/range.json"
t_rc "--from/--to run" 0
t_check "--from/--to: 3 bars decided and marked" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["period"]["bars"]==3 and d["period"]["first"].startswith("2024-01-01T02:00") else 1)' "$T_TMP/range.json"

# gaps are reported
t_run backtest "$T_TMP/rt.lua" "$FIX/gap.csv"
t_rc "gap file runs" 0
t_grep "the gap is reported" "gaps      1 (3 missing bars); largest 2024-01-01T02:00 -> 2024-01-01T06:00" "$T_OUT"

# ---- interval rules ---------------------------------------------------------------------
sed 's/interval = 60/interval = 15/' "$T_TMP/rt.lua" >"$T_TMP/rt15.lua"
t_run backtest "$T_TMP/rt15.lua" "$FIX/rt_kraken.csv"
t_rc "15-minute strategy on hourly data" 2
t_grep "interval mismatch explained" "wants 15-minute bars" "$T_ERR"
sed 's/interval = 60/interval = 240/' "$T_TMP/rt.lua" >"$T_TMP/rt240.lua"
t_run backtest "$T_TMP/rt240.lua" "$FIX/rt_kraken.csv"
t_rc "4-hour strategy on hourly data is resampled" 0
t_grep "resampling is said" "resampled from 60-minute bars" "$T_OUT"

# ---- the strategy failing ------------------------------------------------------------------
cat >"$T_TMP/boom.lua" <<'LUA'
return { name = "boom", pair = "XBTUSD", interval = 60, on_cycle = function(ctx)
  if #ctx.market.ohlc(nil, nil, 10) == 3 then error("kaboom") end
  return {}
end }
LUA
t_run backtest "$T_TMP/boom.lua" "$FIX/rt_kraken.csv" --json "$T_TMP/boom.json"
t_rc "a Lua error exits 1" 1
t_grep "the failing bar is named" "strategy failed on the bar closing 2024-01-01T03:00" "$T_ERR"
t_grep "the error is shown" "kaboom" "$T_ERR"
t_check "no JSON after a failure" test ! -e "$T_TMP/boom.json"
printf 'return { name = "x", pair = "XBTUSD", interval = 60 }\n' >"$T_TMP/invalid.lua"
t_run backtest "$T_TMP/invalid.lua" "$FIX/rt_kraken.csv"
t_rc "an invalid strategy exits 2" 2
t_grep "invalid strategy said" "invalid strategy" "$T_ERR"

# AI keys in the environment change nothing: ctx.ai stays empty in a backtest
cat >"$T_TMP/ai.lua" <<'LUA'
return { name = "ai", pair = "XBTUSD", interval = 60, on_cycle = function(ctx)
  assert(ctx.mode == "BACKTEST" and #ctx.ai == 0, "AI visible in a backtest")
  return {}
end }
LUA
OPENAI_API_KEY=sk-backtest-e2e-secret t_run backtest "$T_TMP/ai.lua" "$FIX/rt_kraken.csv"
t_rc "AI keys set: ctx.ai still empty" 0

# ---- the progress bar only on a terminal ---------------------------------------------------
t_pty_stderr "$T_TMP/tty.err" "$TITAN_BIN" backtest "$T_TMP/rt.lua" "$FIX/rt_kraken.csv"
t_check "progress bar: the run on a terminal" test $? = 0
t_check "progress bar drawn when stderr is a terminal" grep -q '%.*\[\|\[.*%' "$T_TMP/tty.err"

# ---- the shipped strategies over real data -------------------------------------------------
if [ -f "$SHARED/btcperp_15m_2022-01.csv" ] && [ -f "$SHARED/XBTUSD_60.csv" ]; then
  for s in examples/ema_cross.lua strategies/default.lua examples/sma_cross.lua examples/rsi_reversion.lua; do
    interval=$(grep -oE '^ *interval = [0-9]+' "$ROOT/$s" | grep -oE '[0-9]+')
    if [ "$interval" = 15 ]; then
      t_run backtest "$ROOT/$s" "$SHARED/btcperp_15m_2022-01.csv" --json "$T_TMP/real.json"
      t_rc "$s over the real 15m file" 0
      t_check "$s: 3001 headered bars read" grep -q '"bars":3001,' "$T_TMP/real.json"
    fi
  done
  sed 's/interval = 15,/interval = 60,/' "$ROOT/strategies/default.lua" >"$T_TMP/default_60.lua"
  t_run backtest "$T_TMP/default_60.lua" "$SHARED/XBTUSD_60.csv" --json "$T_TMP/xbt.json" --report "$T_TMP/xbt.html"
  t_rc "default.lua (hourly copy) over XBTUSD_60.csv" 0
  t_check "XBTUSD_60: 70253 bars, gaps found, buy & hold from 122.0 to the last close" python3 - "$T_TMP/xbt.json" "$SHARED/XBTUSD_60.csv" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = open(sys.argv[2]).read().split()
first, last = float(rows[0].split(",")[4]), float(rows[-1].split(",")[4])
assert d["data"]["bars"] == 70253 and d["data"]["gaps"] > 0, d["data"]
assert abs(d["metrics"]["buy_and_hold_return"] - (last / first - 1)) < 1e-6
assert d["metrics"]["fills"] > 0
PY
  t_check "report of 70k bars stays small (< 2 MB)" test "$(wc -c <"$T_TMP/xbt.html")" -lt 2000000
else
  echo "SKIP real-data backtests: $SHARED not present (fixtures above cover the same shapes)" >&2
fi

t_finish
