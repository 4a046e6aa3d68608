#!/usr/bin/env bash
# `titan-host backtest` research options and report: --set (params by name and kind), --interval
# (a 15-minute strategy on hourly bars, with the warning), --json - (clean JSON on stdout, the table
# on stderr), rejected intents counted by reason (table and JSON), exposure, and the report's
# buy & hold line, axis titles, month ticks, monthly returns, fill tooltips and sign colours.
. "$(dirname "$0")/lib.sh"
export TITAN_BLACKBOX=$T_TMP/blackbox.log TITAN_HOME=$ROOT
unset TITAN_MAX_ORDER_QUOTE TITAN_MAX_POSITION_QUOTE TITAN_MAX_ORDERS_PER_CYCLE TITAN_MAX_DAILY_LOSS_QUOTE
unset TITAN_PAPER_FEE_BPS TITAN_PAPER_SLIPPAGE_BPS TITAN_PAPER_CASH
DATA=$ROOT/examples/data/XBTUSD_60_2022.csv
cd "$T_TMP" || exit 1

# ---- --set -----------------------------------------------------------------------------------
t_run backtest "$ROOT/examples/sma_cross.lua" "$DATA" --json base.json
t_rc "sma_cross on the bundled year" 0
t_run backtest "$ROOT/examples/sma_cross.lua" "$DATA" --set fast=5 --set slow=50 --json set.json
t_rc "--set fast=5 --set slow=50" 0
t_check "--set changes the run and is recorded" python3 - base.json set.json <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["metrics"]["fills"] != b["metrics"]["fills"], "same trades"
assert b["config"]["params"] == {"fast": "5", "slow": "50"} and a["config"]["params"] == {}
assert b["version"] == "2"
PY
for bad in "fats=5" "fast=abc" "fast=2.5" "fast" "=5"; do
  t_run backtest "$ROOT/examples/sma_cross.lua" "$DATA" --set "$bad"
  t_rc "--set $bad refused" 2
done
t_run backtest "$ROOT/examples/sma_cross.lua" "$DATA" --set fats=5
t_grep "the unknown name is named" "params.fats is not in the strategy's params" "$T_ERR"
t_run backtest "$ROOT/examples/sma_cross.lua" "$DATA" --set fast=5 --set fast=6
t_rc "--set twice refused" 2
t_run backtest "$ROOT/examples/rsi_reversion.lua" "$DATA" --interval 60 --set stop=0.1 --set oversold=25
t_rc "--set a float param (fractions) and an integer one" 0

# ---- --interval ------------------------------------------------------------------------------
t_run backtest "$ROOT/examples/ema_cross.lua" "$DATA"
t_rc "a 15-minute strategy on hourly data: refused" 2
t_grep "the refusal suggests --interval" "--interval 60" "$T_ERR"
t_run backtest "$ROOT/examples/ema_cross.lua" "$DATA" --interval 60 --json iv.json --report iv.html
t_rc "--interval 60" 0
t_grep "the table warns" "ema_cross is written for 15-minute bars; it runs on 60-minute bars (--interval 60)" "$T_OUT"
t_grep "the report warns" "is written for 15-minute bars and ran on 60-minute bars" iv.html
t_check "JSON: the run's interval and the strategy's own" python3 -c '
import json, sys; s = json.load(open(sys.argv[1]))["strategy"]; assert s["interval"] == 60 and s["own_interval"] == 15, s' iv.json
t_run backtest "$ROOT/examples/ema_cross.lua" "$DATA" --interval 240
t_rc "--interval 240: resampled up" 0
t_grep "resampled" "resampled from 60-minute bars to 240-minute bars" "$T_OUT"
for bad in 7 0 abc 15; do
  t_run backtest "$ROOT/examples/ema_cross.lua" "$DATA" --interval "$bad"
  t_rc "--interval $bad refused" 2
done

# ---- --json - ----------------------------------------------------------------------------------
t_run backtest "$ROOT/examples/sma_cross.lua" "$DATA" --json -
t_rc "--json -" 0
t_check "stdout is the JSON alone" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T_OUT"
t_check "the same bytes as --json FILE" cmp -s "$T_OUT" base.json
t_grep "the table on stderr" "total return" "$T_ERR"

# ---- rejected intents by reason, exposure ------------------------------------------------------
cat >refused.lua <<'LUA'
return { name = "refused", pair = "XBTUSD", interval = 60, on_cycle = function(ctx)
  return {
    { side = "buy", type = "market", volume = 0.00001, reason = "under ordermin" },
    { side = "sell", type = "market", volume = 1, reason = "holds nothing" },
    { side = "buy", type = "market", quote = 20, reason = "a small buy" },
  }
end }
LUA
t_run backtest refused.lua "$DATA" --to 2022-01-03 --json refused.json --report refused.html
t_rc "a strategy the gates refuse" 0
t_grep "the table counts by reason" "rejected by" "$T_OUT"
t_check "ordermin and insufficient_base counted" grep -qE "ordermin [0-9]+.*|insufficient_base 47" "$T_OUT"
t_check "JSON: rejected_by" python3 - refused.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
i = d["intents"]
# 47 decisions: the sell of nothing every time; the tiny buy under ordermin, or over max_position
# once the position is full (that gate comes first)
r = i["rejected_by"]
assert r["insufficient_base"] == 47 and r["ordermin"] > 0 and r["max_position"] > 0, i
assert sum(i["rejected_by"].values()) == i["rejected"]
m = d["metrics"]
assert 0 < m["exposure_avg"] <= m["exposure_max"] < 1, m
PY
t_grep "the report lists them" "rejected by</th>" refused.html
t_grep "the table: exposure" "exposure" "$T_OUT"

# ---- the report ---------------------------------------------------------------------------------
t_run backtest "$ROOT/strategies/default.lua" "$DATA" --interval 60 --report r.html
t_rc "default.lua with a report" 0
t_grep "buy & hold drawn on the equity chart" "buy &amp; hold (the starting" r.html
t_grep "axis title with the unit" "equity (USD)" r.html
t_grep "price axis title" "close (USD per XBT)" r.html
t_grep "time axis title" "time (UTC)" r.html
t_check "ticks at month boundaries: Feb .. Dec and the year" python3 - r.html <<'PY'
import re, sys
h = open(sys.argv[1]).read()
labels = re.findall(r'class="ax(?: yr)?" text-anchor="middle">([^<]+)</text>', h)
for m in ("2022", "Feb", "Mar", "Jun", "Dec"):
    assert m in labels, (m, labels[:20])
PY
t_grep "monthly returns table" "<h2>Monthly returns</h2>" r.html
t_check "twelve months and the year" python3 - r.html <<'PY'
import re, sys
h = open(sys.argv[1]).read()
table = h[h.index("<h2>Monthly returns</h2>"):]
table = table[:table.index("</table>")]
row = re.search(r"<tr><th>2022</th>(.*?)</tr>", table).group(1)
cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
assert len(cells) == 13 and all("%" in c for c in cells), cells
PY
t_check "a tooltip on every fill" python3 - r.html <<'PY'
import re, sys
h = open(sys.argv[1]).read()
paths = re.findall(r'<path d="M[^"]*" fill="#(?:1a7f37|cf222e)" opacity="0.8"><title>(buy|sell) [^<]+ UTC', h)
fills = int(re.search(r"\((\d+) fills; hover", h).group(1))
assert fills > 100 and len(paths) == fills, (len(paths), fills)
PY
t_check "figures coloured by their sign" python3 - r.html <<'PY'
import re, sys
h = open(sys.argv[1]).read()
kpis = re.findall(r'<b class="(up|down|)">([^<]+)</b>', h)
assert kpis, "no headline figures"
for cls, value in kpis:
    if value.startswith("-"): assert cls == "down", (value, cls)
    if value.startswith("+"): assert cls == "up", (value, cls)
assert any(c == "down" for c, _ in kpis) and re.search(r'<td class="(up|down)">[+-]', h)
PY
t_grep "conventions documented in the page" "average-cost realized PnL" r.html
t_check "report is self-contained" \
  python3 -c 'import re,sys; h=open(sys.argv[1]).read(); h=h.replace("xmlns=\"http://www.w3.org/2000/svg\"",""); sys.exit(1 if re.search(r"<script|<link|src=|href=|url\(|https?://", h) else 0)' r.html
t_finish
