#!/usr/bin/python3
"""examples/ema_cross.lua's EMA(12/26) cross as a plain Python event loop (stdlib only), for the
backtest benchmark: read the Kraken OHLCVT CSV, then per bar hand a context to the strategy,
size its orders with the same risk rules as the host (caps 50/200, XBTUSD lot and minimums;
buys sized at the close plus the slippage allowance, sells uncapped), fill them at the next bar's
open with slippage and fees, buys cut to the caps at that price, and mark equity at each close.

usage: backtest_ema.py DATA.csv  -> prints "bars=N fills=N final_equity=X seconds=S"
"""
import csv
import math
import sys
import time
from decimal import ROUND_DOWN, Decimal

FAST, SLOW, WINDOW, BUY_QUOTE, DUST_QUOTE = 12, 26, 100, 50, 10
ALPHA_FAST, ALPHA_SLOW = 2 / (FAST + 1), 2 / (SLOW + 1)   # ema_step's factors, computed once as in the Lua
FEE, SLIPPAGE, CASH = 0.0040, 0.0005, 10000.0
MAX_ORDER, MAX_POSITION, MAX_DAILY_LOSS = 50.0, 200.0, 50.0
ORDERMIN, COSTMIN, LOT = 0.0001, 0.5, 8


def ema_step(prev, value, period):
    return prev + 2 / (period + 1) * (value - prev)


def ema(values, period):
    if len(values) < period:
        return None, None
    e, prev = sum(values[:period]) / period, None
    for v in values[period:]:
        prev, e = e, ema_step(e, v, period)
    return e, prev


def cross(a_prev, a_now, b_prev, b_now):
    if None in (a_prev, a_now, b_prev, b_now):
        return None
    if a_prev <= b_prev and a_now > b_now:
        return "above"
    if a_prev >= b_prev and a_now < b_now:
        return "below"
    return None


class Strategy:
    interval = 60

    def update_emas(self, ctx, s):
        if s.get("t") is not None:
            recent = ctx["ohlc"](3)
            for j in range(len(recent) - 1, -1, -1):
                if recent[j]["t"] == s["t"]:
                    if j == len(recent) - 1:
                        return "current"
                    for c in recent[j + 1:]:
                        close, fast, slow = c["c"], s["fast"], s["slow"]
                        s["prev_fast"], s["prev_slow"] = fast, slow
                        s["fast"] = fast + ALPHA_FAST * (close - fast)
                        s["slow"] = slow + ALPHA_SLOW * (close - slow)
                        s["t"], s["close"] = c["t"], close
                    return "stepped"
        candles = ctx["ohlc"](WINDOW)
        closes = [c["c"] for c in candles]
        s["fast"], s["prev_fast"] = ema(closes, FAST)
        s["slow"], s["prev_slow"] = ema(closes, SLOW)
        if s["prev_slow"] is None:
            s["t"] = None
            return None
        s["t"], s["close"] = candles[-1]["t"], closes[-1]
        return "seeded"

    def on_bar(self, ctx):
        s = ctx["state"]
        how = self.update_emas(ctx, s)
        if how is None or how == "current":
            return []
        x = cross(s["prev_fast"], s["fast"], s["prev_slow"], s["slow"])
        if x is None:
            return []
        pf = ctx["portfolio"]
        if x == "above" and pf["position_value"] < DUST_QUOTE:
            quote = min(BUY_QUOTE, pf["cash"] * 0.99)
            if quote >= DUST_QUOTE:
                return [{"side": "buy", "quote": math.floor(quote * 100) / 100}]
        elif x == "below" and pf["position"] > 0 and pf["position_value"] >= DUST_QUOTE:
            return [{"side": "sell", "volume": pf["position"]}]
        return []


def round_volume(v):
    """Down to the lot in decimal, the double read at 15 significant digits (as the host does)."""
    if not v > 0:
        return 0.0
    return float(Decimal("%.15g" % v).quantize(Decimal(1).scaleb(-LOT), rounding=ROUND_DOWN))


def volume_within(quote, price):
    """The largest lot-rounded volume whose cost at price stays within quote."""
    if not (quote > 0 and price > 0):
        return 0.0
    v = round_volume(quote / price)
    for _ in range(3):
        if not (v > 0 and v * price > quote):
            break
        v = round_volume(v - 10 ** -LOT * 0.5)
    return 0.0 if v * price > quote else v


def risk(order, price, cash, position, realized_today):
    """The host's gates for a market order; returns the volume or None (rejected). Buys are sized
    at the price plus the slippage allowance; sells only reduce the position, uncapped."""
    if order["side"] == "buy":
        if realized_today <= -MAX_DAILY_LOSS:
            return None
        ref = price * (1 + SLIPPAGE)
        asked = order.get("volume") or order["quote"] / ref
        volume = round_volume(asked)
        if volume * ref > MAX_ORDER:
            volume = volume_within(MAX_ORDER, ref)
        room = MAX_POSITION - position * ref
        if volume * ref > room:
            volume = volume_within(room, ref)
            if volume <= 0:
                return None
        if volume * ref * (1 + FEE) > cash + 1e-9:
            return None
    else:
        ref = price
        asked = order.get("volume") or order["quote"] / ref
        volume = round_volume(asked)
        noise = position * 1e-12
        if volume > position + noise:
            return None
        if asked >= position - noise:                   # all of it, no dust
            lots = round_volume(position)
            volume = position if position - lots <= noise else lots
        volume = min(volume, position)
    if volume <= 0 or volume < ORDERMIN or volume * ref < COSTMIN:
        return None
    return volume


def fit_at_fill(volume, price, position):
    """A buy cut to the caps at its fill price; None when what fits is under the minimums."""
    fit = min(volume, volume_within(MAX_ORDER, price), volume_within(MAX_POSITION - position * price, price))
    if fit >= volume:
        return volume
    if fit <= 0 or fit < ORDERMIN or fit * price < COSTMIN:
        return None
    return fit


def main():
    started = time.perf_counter()
    bars = []
    with open(sys.argv[1], newline="") as f:
        for row in csv.reader(f):
            bars.append({"t": int(row[0]), "o": float(row[1]), "h": float(row[2]), "l": float(row[3]),
                         "c": float(row[4]), "v": float(row[5])})
    strategy = Strategy()
    cash, position, basis, fills = CASH, 0.0, 0.0, 0
    day, realized = None, 0.0
    pending = []
    cur = 0
    state = {}

    def ohlc(n):
        return bars[max(0, cur + 1 - n):cur + 1]

    equity = []
    for i, bar in enumerate(bars):
        for side, volume in pending:                    # fills at this bar's open
            price = bar["o"] * (1 + SLIPPAGE if side == "buy" else 1 - SLIPPAGE)
            if side == "buy":
                volume = fit_at_fill(volume, price, position)
                if volume is None:
                    continue
            cost = volume * price
            fee = cost * FEE
            if side == "buy":
                if cost + fee > cash + 1e-9:
                    continue
                cash -= cost + fee
                position += volume
                basis += cost + fee
                pnl = 0.0
            else:
                released = basis * min(volume / position, 1.0) if position > 0 else 0.0
                cash += cost - fee
                position -= volume
                basis = max(0.0, basis - released)
                pnl = cost - fee - released
            if position <= 1e-12:
                basis = 0.0
            if bar["t"] // 86400 != day:
                day, realized = bar["t"] // 86400, 0.0
            realized += pnl
            fills += 1
        pending = []
        value = position * bar["c"]
        equity.append(cash + value)
        if i == len(bars) - 1:
            break
        cur = i
        now = (bar["t"] + strategy.interval * 60) * 1000
        ctx = {"now": now, "state": state, "ohlc": ohlc,
               "portfolio": {"cash": cash, "position": position, "position_value": value, "equity": cash + value}}
        for order in strategy.on_bar(ctx):
            today = realized if day == now // 86400000 else 0.0
            volume = risk(order, bar["c"], cash, position, today)
            if volume is not None:
                pending.append((order["side"], volume))
    print("bars=%d fills=%d final_equity=%.6f seconds=%.3f" % (len(bars), fills, equity[-1],
                                                             time.perf_counter() - started))


if __name__ == "__main__":
    main()
