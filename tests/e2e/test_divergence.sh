#!/usr/bin/env bash
# Paper beside live (issue 16, item 4): LIVE cycles against the Kraken fake filling at chosen prices
# record, beside Kraken's fill (price and fee from the order's trades), the fill the paper broker
# would have given at decision time; `titan-host divergence` reports slippage against the model,
# fees, limit fill ratios and the --slippage-bps for backtests, per strategy and overall, and every
# figure is checked against a hand computation here. LIVE capsules replay too, and hold no secret.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

r_start_kraken
export SYSTEM_MODE=LIVE TITAN_DB=$T_TMP/live.db TITAN_BLACKBOX=$T_TMP/blackbox.log
r_kctl '{"reset": true, "balances": {"ZUSD": "10000.0000", "XXBT": "0.0010000000"}}'
LAST=$(r_ticker c) ASK=$(r_ticker a) BID=$(r_ticker b)

# DIV_ORDER="side type volume [price]" says what the strategy asks for in each cycle
BODY='local side, kind, volume, price = os.getenv("DIV_ORDER"):match("(%a+) (%a+) ([%d.]+) ?([%d.]*)")
    return { { side = side, type = kind, volume = tonumber(volume), price = tonumber(price), reason = "divergence e2e" } }'
A=$(r_strategy div_a "$BODY")
B=$(r_strategy div_b "$BODY")
p() { python3 -c "print('%.1f' % ($1))"; }   # a price on the pair's 0.1 tick
P11=$(p "$ASK + 20") P12=$(p "$ASK + 40") P2=$(p "$BID - 30") L=$(p "$ASK + 10") P3=$(p "$ASK + 8")

# 1. div_a: market buy, filled in two trades above the ask, 26 bps fee
r_kctl "{\"fill\": {\"trades\": [{\"price\": \"$P11\", \"ratio\": \"0.4\"}, {\"price\": \"$P12\", \"ratio\": \"0.6\"}], \"fee_bps\": \"26\"}}"
DIV_ORDER="buy market 0.0005" TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$A"
t_rc "cycle 1 (market buy) exit" 0
C1="div_a@$(r_slot_iso 1)"
# 2. div_a: market sell, filled under the bid
r_kctl "{\"fill\": {\"trades\": [{\"price\": \"$P2\", \"ratio\": \"1\"}], \"fee_bps\": \"26\"}}"
DIV_ORDER="sell market 0.0005" TITAN_FAKE_NOW_MS=$(r_now 2) r_run run "$A"
t_rc "cycle 2 (market sell) exit" 0
# 3. div_b: limit buy above the ask, 60% filled (immediate-or-cancel), 16 bps fee
r_kctl "{\"fill\": {\"trades\": [{\"price\": \"$P3\", \"ratio\": \"0.6\"}], \"fee_bps\": \"16\"}}"
DIV_ORDER="buy limit 0.0005 $L" TITAN_FAKE_NOW_MS=$(r_now 3) r_run run "$B"
t_rc "cycle 3 (limit buy) exit" 0
C3="div_b@$(r_slot_iso 3)"
# 4. div_b: market buy, the fake's own fill (at the ask, 0.40%)
DIV_ORDER="buy market 0.0005" TITAN_FAKE_NOW_MS=$(r_now 4) r_run run "$B"
t_rc "cycle 4 (market buy, unscripted) exit" 0
# a PAPER cycle has no Kraken fill: not counted
SYSTEM_MODE=PAPER DIV_ORDER="buy market 0.0005" TITAN_FAKE_NOW_MS=$(r_now 5) r_run run "$A"
t_rc "a PAPER cycle exit" 0

# ---- what each order records ---------------------------------------------------------------------------
r_approx "cycle 1: model price = last + 5 bps" "$(r_json_get "$C1" orders 'd[0]["model_price"]')" "$(python3 -c "print($LAST * 1.0005)")"
r_approx "cycle 1: reference = the last trade" "$(r_json_get "$C1" orders 'd[0]["ref_price"]')" "$LAST"
r_approx "cycle 1: model fee = 40 bps" "$(r_json_get "$C1" orders 'd[0]["model_fee"] / d[0]["model_cost"] * 1e4')" 40
r_eq "cycle 1: two trades read" "$(r_json_get "$C1" orders 'd[0]["trade_count"]')" 2
r_approx "cycle 1: Kraken's price from its trades" "$(r_json_get "$C1" orders 'd[0]["trade_price"]')" \
  "$(python3 -c "print(($P11 * 0.0002 + $P12 * 0.0003) / 0.0005)")"
r_eq "cycle 3: a partial IOC fill is canceled with 60% done" "$(r_json_get "$C3" orders '(d[0]["state"], d[0]["vol_exec"], d[0]["model_volume"])')" \
  "('canceled', 0.0003, 0.0005)"
r_approx "cycle 3: the model fills the limit at the limit" "$(r_json_get "$C3" orders 'd[0]["model_price"]')" "$(python3 -c "print(min($L, $ASK * 1.0005))")"

# ---- the report against a hand computation ----------------------------------------------------------------
t_run divergence --json
t_rc "divergence --json exit" 0
cp "$T_OUT" "$T_TMP/div.json"
python3 - "$T_TMP/div.json" "$LAST" "$ASK" "$BID" "$P11" "$P12" "$P2" "$L" "$P3" >"$T_TMP/hand.out" <<'EOF'
import json, math, sys
from decimal import Decimal as D
got = json.load(open(sys.argv[1]))
last, ask, bid, p11, p12, p2, lim, p3 = (D(x) for x in sys.argv[2:])
q = lambda x: x.quantize(D("0.00000001"))          # the fake rounds each trade's fee so
def fill(trades, rate):                             # -> price, volume, fee from the trades
    vol = sum(v for _, v in trades); cost = sum(p * v for p, v in trades)
    return float(cost / vol), float(vol), float(sum(q(p * v * rate) for p, v in trades))
slip = D("0.0005")
orders = {  # strategy -> [(buy, limit, requested, model price, reference, (price, volume, fee), model volume)]
  "div_a": [(1, 0, 0.0005, float(last * (1 + slip)), float(last), fill([(p11, D("0.0002")), (p12, D("0.0003"))], D("0.0026")), 0.0005),
            (0, 0, 0.0005, float(last * (1 - slip)), float(last), fill([(p2, D("0.0005"))], D("0.0026")), 0.0005)],
  "div_b": [(1, 1, 0.0005, float(min(lim, ask * (1 + slip))), float(ask), fill([(p3, D("0.0003"))], D("0.0016")), 0.0005),
            (1, 0, 0.0005, float(last * (1 + slip)), float(last), fill([(ask, D("0.0005"))], D("0.004")), 0.0005)],
}
def bps(buy, price, ref): return (price / ref - 1 if buy else 1 - price / ref) * 1e4
def figures(rows):
    s = sorted(bps(b, f[0], m) for b, _, _, m, _, f, _ in rows)
    n = len(s); med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    fees = [f[2] / (f[0] * f[1]) * 1e4 for *_, f, _ in rows]
    refs = [bps(b, f[0], r) for b, lm, _, _, r, f, _ in rows if not lm]
    limits = [(f[1] / req, mv / req) for b, lm, req, _, _, f, mv in rows if lm]
    mean_ref = sum(refs) / len(refs) if refs else None
    return {"slippage_mean_bps": sum(s) / n, "slippage_median_bps": med, "slippage_worst_bps": s[-1],
            "fee_model_bps": 40.0, "fee_kraken_bps": sum(fees) / n, "fee_difference_bps": sum(fees) / n - 40,
            "fee_difference_quote": sum(f[2] - 0.004 * f[0] * f[1] for *_, f, _ in rows),
            "limit_fill_ratio": sum(a for a, _ in limits) / len(limits) if limits else None,
            "limit_model_fill_ratio": sum(m for _, m in limits) / len(limits) if limits else None,
            "market_slippage_vs_last_bps": mean_ref,
            "backtest_slippage_bps": max(0.0, math.ceil(mean_ref * 10 - 1e-9) / 10) if refs else None}
def check(name, want, have):
    for k, v in want.items():
        h = have.get(k)
        ok = (v is None and h is None) or (v is not None and h is not None and abs(v - h) < 1e-6)
        print(("ok   " if ok else "BAD  ") + "%s %s: hand %r, titan-host %r" % (name, k, v, h))
by_name = {s["strategy"]: s for s in got["strategies"]}
for name, rows in orders.items():
    check(name, figures(rows), by_name.get(name, {}))
check("overall", figures(orders["div_a"] + orders["div_b"]), got["overall"])
print("counts %s %s" % (got["live_cycles"], [(s["strategy"], s["orders"], s["filled"], s["limit_orders"]) for s in got["strategies"]]))
EOF
sed 's/^/    /' "$T_TMP/hand.out" | grep BAD >&2
t_check "hand computation ran" grep -q "^ok" "$T_TMP/hand.out"
r_eq "every figure matches the hand computation" "$(grep -c '^BAD' "$T_TMP/hand.out")" 0
r_eq "four LIVE cycles read, per strategy" "$(grep '^counts' "$T_TMP/hand.out")" \
  "counts 4 [('div_a', 2, 2, 0), ('div_b', 2, 2, 1)]"
t_run divergence
t_rc "divergence exit" 0
t_grep "text: per strategy" "div_a: 2 LIVE orders with a paper model, 2 filled by Kraken (2 market, 0 limit orders)" "$T_OUT"
t_grep "text: the limit fill ratio" "  limit orders: Kraken filled 60.0% of the volume asked, the model 100.0%" "$T_OUT"
t_grep "text: overall" "overall: 4 LIVE orders" "$T_OUT"
t_grep "text: the backtest's slippage" "  backtest: --slippage-bps " "$T_OUT"
t_run divergence --strategy div_b --json
r_eq "--strategy: one strategy" "$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print([s["strategy"] for s in d["strategies"]], d["overall"]["orders"])' "$T_OUT")" "['div_b'] 2"
t_run divergence --since 2030-01-01
t_grep "--since after every cycle: nothing to measure" "no LIVE order with a paper model" "$T_OUT"
t_rc "nothing to measure: exit 0" 0
t_run divergence --limit 0
t_rc "--limit 0: exit 2" 2
t_run divergence --since someday
t_rc "--since not a date: exit 2" 2
t_run divergence --frobnicate
t_rc "unknown option: exit 2" 2
TITAN_DB=$T_TMP/empty.db t_run divergence
t_grep "an empty store: nothing to measure" "no LIVE order with a paper model in the 0 LIVE cycles read" "$T_OUT"

# ---- a LIVE cycle's capsule: Balance and OpenOrders on its tape, replayed offline --------------------------
from=$(r_kcalls)
r_run replay "$C1"
t_rc "replay of a LIVE cycle exit" 0
t_grep "replay of a LIVE cycle: reproduced" "REPRODUCED" "$T_OUT"
r_eq "replay of a LIVE cycle: Kraken not called" "$(r_kcalls)" "$from"
r_eq "LIVE capsule: the book is Kraken's answers" "$(python3 -c 'import gzip, json, sys; c = json.load(gzip.open(sys.argv[1])); print([k["method"] for k in c["kraken"] if k["private"]])' "$T_TMP/capsule-$(echo "$C1" | tr ':' '-').json.gz")" \
  "['Balance', 'OpenOrders']"
for f in "$T_TMP"/capsule-*.json.gz; do zcat "$f"; done >"$T_TMP/capsules.log"
t_check "capsules to scan" test -s "$T_TMP/capsules.log"
r_leak_check
t_finish
