# The plain-Python peer of one PAPER cycle of strategies/default.lua (bench_cycle.sh), stdlib only:
# the slot's lock row in SQLite (WAL), the same three requests to the loopback fake Kraken over one
# kept-alive connection (AssetPairs, Ticker, closed 15-minute OHLC), the same indicators (EMA 21/55,
# Wilder RSI 14 and ATR 14 over up to 200 candles) and hold rules, then ctx.state and the record in
# one transaction. Usage: paper_cycle.py DB CYCLE_ID (KRAKEN_API_URL names the fake).
import http.client
import json
import os
import sqlite3
import sys
import time
import urllib.parse

db_path, cycle_id = sys.argv[1], sys.argv[2]
now = time.time()
db = sqlite3.connect(db_path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.executescript("""
CREATE TABLE IF NOT EXISTS execution_logs (cycle_id TEXT PRIMARY KEY, strategy TEXT, mode TEXT, status TEXT,
  holder TEXT, started_at TEXT, lease_until TEXT, finished_at TEXT, decision TEXT, orders TEXT, error TEXT);
CREATE TABLE IF NOT EXISTS strategy_state (strategy TEXT, key TEXT, value TEXT, PRIMARY KEY (strategy, key));
CREATE TABLE IF NOT EXISTS paper_balances (strategy TEXT, asset TEXT, amount REAL, PRIMARY KEY (strategy, asset));
CREATE TABLE IF NOT EXISTS control (key TEXT PRIMARY KEY, value TEXT);
""")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int(t % 1 * 1000)


# the lock: one row per slot, taken in one transaction
db.execute("BEGIN IMMEDIATE")
if db.execute("SELECT status FROM execution_logs WHERE cycle_id = ?", (cycle_id,)).fetchone():
    db.execute("ROLLBACK")
    sys.exit("slot %s already executed" % cycle_id)
db.execute("INSERT INTO execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until) "
           "VALUES (?, 'default', 'PAPER', 'running', ?, ?, ?)",
           (cycle_id, "peer:%d" % os.getpid(), iso(now), iso(now + 600)))
db.execute("COMMIT")
halt = db.execute("SELECT value FROM control WHERE key = 'halt'").fetchone()
if halt and halt[0] not in ("0", "off", ""):
    sys.exit("halted")

base = urllib.parse.urlsplit(os.environ["KRAKEN_API_URL"])
conn = http.client.HTTPConnection(base.hostname, base.port, timeout=10)


def public(method, **params):
    conn.request("GET", "/0/public/%s?%s" % (method, urllib.parse.urlencode(params)),
                 headers={"User-Agent": "peer/1"})
    env = json.loads(conn.getresponse().read())
    if env["error"]:
        raise SystemExit("%s: %s" % (method, env["error"]))
    return env["result"]


pair = next(iter(public("AssetPairs", pair="XBTUSD").values()))
ticker = next(iter(public("Ticker", pair="XBTUSD").values()))
last, bid, ask = float(ticker["c"][0]), float(ticker["b"][0]), float(ticker["a"][0])
ohlc = public("OHLC", pair="XBTUSD", interval=15)
rows = ohlc[next(k for k in ohlc if k != "last")][:-1][-200:]   # the last row is still open
candles = [{"t": int(r[0]), "o": float(r[1]), "h": float(r[2]), "l": float(r[3]), "c": float(r[4])} for r in rows]

# the paper ledger, seeded on first use
db.execute("INSERT INTO paper_balances SELECT 'default', 'USD', 10000 "
           "WHERE NOT EXISTS (SELECT 1 FROM paper_balances WHERE strategy = 'default')")
cash = dict(db.execute("SELECT asset, amount FROM paper_balances WHERE strategy = 'default'")).get("USD", 0)


def ema(xs, n):
    k, e = 2 / (n + 1), sum(xs[:n]) / n
    for x in xs[n:]:
        e = x * k + e * (1 - k)
    return e


def wilder(xs, n):
    a = sum(xs[:n]) / n
    for x in xs[n:]:
        a = (a * (n - 1) + x) / n
    return a


decision = {"action": "hold"}
if len(candles) < 56:
    decision["reason"] = "warming up: %d candles" % len(candles)
elif now - candles[-1]["t"] > 4 * 15 * 60 + 900:
    decision["reason"] = "stale market data"
else:
    closes = [c["c"] for c in candles]
    fast, slow = ema(closes, 21), ema(closes, 55)
    diffs = [b - a for a, b in zip(closes, closes[1:])]
    gain, loss = wilder([max(d, 0) for d in diffs], 14), wilder([max(-d, 0) for d in diffs], 14)
    rsi = 100 if loss == 0 else 100 - 100 / (1 + gain / loss)
    trs = [max(c["h"] - c["l"], abs(c["h"] - p["c"]), abs(c["l"] - p["c"])) for p, c in zip(candles, candles[1:])]
    atr = wilder(trs, 14)
    decision.update(fast=fast, slow=slow, rsi=rsi, atr=atr)
    if fast > slow and rsi <= 70 and atr > 0:
        quote = min(cash * 0.99, 100, 10000 * 0.01 / (2 * atr) * last)
        if quote >= 10:
            decision.update(action="buy", quote=quote)

# ctx.state and the record: one transaction
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO strategy_state VALUES ('default', 'ctx', ?) "
           "ON CONFLICT (strategy, key) DO UPDATE SET value = excluded.value",
           (json.dumps({"last_t": candles[-1]["t"] if candles else None}),))
db.execute("UPDATE execution_logs SET status = 'done', finished_at = ?, decision = ?, orders = '[]' "
           "WHERE cycle_id = ?", (iso(time.time()), json.dumps(decision), cycle_id))
db.execute("COMMIT")
print("cycle %s: done — %s (%s)" % (cycle_id, decision["action"], decision.get("reason", "")))
