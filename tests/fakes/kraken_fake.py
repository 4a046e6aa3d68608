#!/usr/bin/env python3
"""A loopback fake of Kraken's spot REST API for titan-host's tests (python3 stdlib only).

Speaks the wire format of ../shared/protocols.md: {"error": [...], "result": ...} envelopes,
public GET /0/public/<Method>?..., private POST /0/private/<Method> with a form body, API-Key and
API-Sign headers. Every private call has its API-Sign verified independently (wrong ->
EAPI:Invalid signature), its key checked (EAPI:Invalid key) and its nonce checked to be greater
than the key's last one (EAPI:Invalid nonce).

Usage: kraken_fake.py --port PORT [--data DIR ...] [--verbose]
  The accepted credentials come from the environment: KRAKEN_API_KEY and KRAKEN_SECRET (the
  same variables titan-host reads). Market data comes from the first --data folder holding
  each file; by default ../shared/data/kraken (the recorded real responses) and then
  tests/fixtures/kraken (fixtures of the same shape). GET /__info says which files were used.

Public:  Time, Assets (asset list), Ticker and AssetPairs (one pair, several comma-separated, or
         none = every pair, as Kraken), OHLC (one pair; interval, since), Trades (one pair; since, count:
         up to 1000 trades strictly after the `since` cursor, oldest first, rows exactly as recorded;
         `last` is the newest returned trade's time in nanoseconds, as a string; without since, the
         newest `count`; since in seconds or nanoseconds, as Kraken takes both). The recorded payloads are
         for one pair; they are served re-keyed under the internal name of the pair asked for:
         XBTUSD|XBT/USD|XXBTZUSD -> XXBTZUSD, XBTUSDT|XBT/USDT -> XBTUSDT, ETHUSD -> XETHZUSD,
         LTCUSDT -> LTCUSDT; anything else -> EQuery:Unknown asset pair.
         OHLC rows are of the interval asked for: the recorded 1-minute rows aggregated into
         UTC-aligned buckets (a bucket the recording covers only partly at its start is left out),
         so a 12-hour recording gives 47 closed 15-minute candles, 11 hourly ones; the last row is
         the open candle and `last` the time of the newest closed one, as Kraken.
Private: Balance, BalanceEx (balance and hold_trade per asset), TradeBalance, QueryTrades, AddOrder (ordertype
         market|limit, type, volume, price, userref (int32, else EGeneral:Invalid arguments:userref),
         cl_ord_id (a UUID with or without dashes, or up to 18 ASCII characters), validate, oflags,
         timeinforce; market orders fill at once at the ticker's ask/bid with a 0.40% fee; checks
         ordermin, costmin, tick size and funds), OpenOrders, ClosedOrders (newest first, 50 per
         page, ofs, start/end on the close time, count = all matches), QueryOrders (txid list,
         userref, cl_ord_id filters), CancelOrder (txid or cl_ord_id).

Fills and trades: every order that executes books Kraken-shaped trades (QueryTrades: ordertxid, pair,
time, type, ordertype, price, cost, fee, vol); an order lists their ids under "trades" in OpenOrders,
ClosedOrders and QueryOrders only when asked with trades=true, as Kraken. A market order fills at once
at the ticker's ask/bid with a 0.40% fee, in one trade; limit orders rest open, unless a scripted fill
(below) is queued: then the next real AddOrder, market or limit, fills in the trades given and the rest
is canceled (immediate-or-cancel).

Control API (for tests, JSON bodies):
  POST /__control {"reset": true}            forget orders, calls, nonces, faults, balances, the trades
                                             series and the rate limit
  POST /__control {"trades": [[price, volume, time, side, type, misc, id], ...]}
                                             the Trades series to serve (default: http_trades.json)
  POST /__control {"rate_limit": {"calls": N, "seconds": S, "answer": "eapi"|"too_many"|"429"}}
      public calls beyond N in any S seconds are answered EAPI:Rate limit exceeded, EGeneral:Too many
      requests, or HTTP 429 with no envelope (counted in /__calls as such); {"rate_limit": null} lifts it
  POST /__control {"clear_faults": true}     forget the queued faults only (orders and calls stay)
  POST /__control {"balances": {"ZUSD": "100.0", ...}}     replace the balances
  POST /__control {"last_nonce": 1900000000000}   the key's last nonce (as if another client used it)
  POST /__control {"fill": {"trades": [{"price": "105000.5", "ratio": "0.5"}, ...], "fee_bps": "26",
                              "times": 1}}
      the next `times` real AddOrder calls fill in those trades (ratio = the part of the order's volume
      each one fills; their sum is the fill ratio), each charged fee_bps of its cost
  POST /__control {"method": "AddOrder"|"*", "kind": K, "times": N (default 1, -1 = always), ...}
      queues a fault for the next N calls of the method (after the key/signature/nonce checks;
      queued faults apply in order, the first one matching a call is used):
      error    {"error": "EOrder:Insufficient funds", "status": 200} answer that error
               ({"errors": [...]} for several strings, e.g. a W- and an E-string)
      warning  {"warning": "WGeneral:..."} answer normally, with the warning in "error"
      stall    {"seconds": 5, "after_record": false} wait, then close without processing the
               call; with after_record the call is processed first (an AddOrder is booked)
               and the answer comes late — the "timeout after send" case
      drop     {"after_record": false} close the connection without an answer
      truncate the real answer with a Content-Length larger than the bytes sent
      cut      half the real answer, no Content-Length, connection closed
      html     {"status": 520} a Cloudflare-style HTML error page
      garbage  HTTP 200 with bytes that are not JSON
      status   {"status": 503, "body": "..."} any status and body
      result   {"result": <any JSON>, "after_record": false} answer {"error": [], "result": <it>}
               (an odd or wrong-shaped result); with after_record the call is processed first
               (an AddOrder is booked) and its real answer replaced
  GET /__orders   {"orders": [every booked order, in order, with txid/cl_ord_id/userref/...]}
  GET /__calls    {"calls": [{"method", "private", "nonce", "sign", "params", "answer"}...],
                   "counts": {method: n}}
                  (a call is counted when it arrives, whatever it was answered)
  GET /__signatures {"signatures": [every API-Sign received since start, across resets]}
  GET /__info     {"data": {file: path used}}
"""
import argparse
import bisect
import base64
import hashlib
import hmac
import json
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.parse
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = [os.path.join(ROOT, "..", "shared", "data", "kraken"), os.path.join(ROOT, "tests", "fixtures", "kraken")]
FILES = ["http_ohlc.json", "http_ticker.json", "http_asset_pairs.json", "http_server_time.json", "http_trades.json"]

PAIRS = {  # accepted name -> (internal key, altname, wsname, base, quote)
    "XBTUSD": ("XXBTZUSD", "XBTUSD", "XBT/USD", "XXBT", "ZUSD"),
    "XBTUSDT": ("XBTUSDT", "XBTUSDT", "XBT/USDT", "XXBT", "USDT"),
    "ETHUSD": ("XETHZUSD", "ETHUSD", "ETH/USD", "XETH", "ZUSD"),
    "LTCUSDT": ("LTCUSDT", "LTCUSDT", "LTC/USDT", "XLTC", "USDT"),
}
ALL_PAIRS = list(PAIRS.values())  # each pair once, in this order (a request without a pair)
for _alt, _p in list(PAIRS.items()):
    PAIRS[_p[0]] = _p
    PAIRS[_p[2]] = _p
ASSETS = {  # internal name -> (altname, decimals, display_decimals), as Kraken's Assets lists them
    "XXBT": ("XBT", 10, 5),
    "ZUSD": ("USD", 4, 2),
    "USDT": ("USDT", 8, 4),
    "XETH": ("ETH", 10, 5),
    "XLTC": ("LTC", 10, 5),
}
CLOSED_PAGE = 50  # ClosedOrders answers at most this many orders per call
TRADES_PAGE = 1000  # Trades answers at most this many trades per call (and `count` at most this)
INTERVALS = {1, 5, 15, 30, 60, 240, 1440, 10080, 21600}
READS = {"Balance", "TradeBalance", "OpenOrders", "ClosedOrders", "QueryOrders", "QueryTrades"}
HTML_520 = (b"<!DOCTYPE html>\n<html><head><title>api.kraken.com | 520: Web server is returning an unknown error"
            b"</title></head><body><h1>Web server is returning an unknown error</h1><p>Error code 520</p>"
            b"<p>Cloudflare Ray ID: 8c1f2e3d4a5b6c7d</p></body></html>\n")
DEFAULT_BALANCES = {"ZUSD": "10000.0000", "USDT": "10000.00000000", "XXBT": "0.5000000000", "XETH": "2.0000000000"}


class State:
    def __init__(self, data, key, secret):
        self.lock = threading.Lock()
        self.signatures = []  # every API-Sign received, kept across resets (leak checks)
        self.data = data
        self.key = key
        self.secret = secret
        self.reset()

    def reset(self):
        self.orders = []
        self.calls = []
        self.nonces = {}
        self.faults = []
        self.balances = dict(DEFAULT_BALANCES)
        self.seq = 0
        self.set_trades(only_entry(self.data["http_trades.json"]))
        self.rate_limit = None
        self.public_times = []
        self.fills = []   # scripted fills for the next real AddOrders
        self.booked = {}  # trade id -> trade, as QueryTrades answers it (the private trades of orders)

    def set_trades(self, rows):
        """The Trades series, sorted by time, each row with its time in nanoseconds beside it."""
        self.trades = sorted(((trade_ns(r), r) for r in rows), key=lambda item: item[0])
        self.trades_ns = [ns for ns, _ in self.trades]

    def clear_faults(self):
        """The faults only: what was booked and called stays, so a test can check the next run."""
        self.faults = []


def load_data(dirs):
    data, used = {}, {}
    for name in FILES:
        for d in dirs:
            path = os.path.join(d, name)
            if os.path.isfile(path):
                with open(path) as f:
                    data[name] = json.load(f)
                used[name] = os.path.abspath(path)
                break
    return data, used


def only_entry(envelope):
    result = envelope["result"]
    key = [k for k in result if k != "last"][0]
    return result[key]


def trade_ns(row):
    """A trade's time (float seconds, as Kraken sends it) in whole nanoseconds: the cursor unit."""
    return int(Decimal(repr(float(row[2]))) * 1000000000)


def dec(text):
    try:
        v = Decimal(str(text))
    except InvalidOperation:
        return None
    return v if v.is_finite() else None


def aggregate_ohlc(rows, interval):
    """Kraken OHLC rows of 1 minute -> rows of `interval` minutes, UTC-aligned: open of the first
    minute, high, low, close of the last, volume and trade count summed, VWAP volume-weighted
    ("0.0" for a bucket without volume, as Kraken writes it). A bucket that started before the
    first recorded minute is dropped (its open would be wrong); the last bucket is the open candle."""
    if interval == 1 or not rows:
        return rows
    step = interval * 60
    places = len(str(rows[0][1]).partition(".")[2])
    price_q = Decimal(1).scaleb(-places)
    volume_q = Decimal("0.00000001")
    out, bucket = [], None
    for t, o, h, l, c, vwap, vol, n in rows:
        start = t - t % step
        if bucket is None or bucket["t"] != start:
            bucket = {"t": start, "o": o, "h": Decimal(h), "l": Decimal(l), "c": c, "pv": Decimal(0),
                      "v": Decimal(0), "n": 0, "whole": start >= rows[0][0]}
            out.append(bucket)
        bucket["h"] = max(bucket["h"], Decimal(h))
        bucket["l"] = min(bucket["l"], Decimal(l))
        bucket["c"] = c
        bucket["pv"] += Decimal(vwap) * Decimal(vol)
        bucket["v"] += Decimal(vol)
        bucket["n"] += int(n)
    text = lambda d, q: format(d.quantize(q), "f")
    return [[b["t"], b["o"], text(b["h"], price_q), text(b["l"], price_q), b["c"],
             text(b["pv"] / b["v"], price_q) if b["v"] else "0." + "0" * max(places, 1),
             text(b["v"], volume_q), b["n"]]
            for b in out if b["whole"]]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeKraken/1.0"

    def setup(self):
        super().setup()
        # answers go out as header + body writes: without this, Nagle and the client's delayed
        # ACK add ~40 ms to every reused-connection call
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("kraken_fake: " + (fmt % args) + "\n")

    # ---- plumbing -------------------------------------------------------------------------
    def send_bytes(self, status, body, ctype="application/json", length=True, close=False):
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if length:
                self.send_header("Content-Length", str(len(body)))
            if close or not length:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_json(self, obj, status=200):
        self.send_bytes(status, json.dumps(obj).encode())

    def envelope(self, result=None, errors=None, status=200):
        body = {"error": errors or []}
        if result is not None:
            body["result"] = result
        return status, json.dumps(body).encode()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    # ---- routing --------------------------------------------------------------------------
    def do_GET(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/__orders":
            with st.lock:
                return self.send_json({"orders": st.orders})
        if url.path == "/__calls":
            with st.lock:
                counts = {}
                for c in st.calls:
                    counts[c["method"]] = counts.get(c["method"], 0) + 1
                return self.send_json({"calls": st.calls, "counts": counts})
        if url.path == "/__signatures":
            with st.lock:
                return self.send_json({"signatures": st.signatures})
        if url.path == "/__info":
            return self.send_json({"data": self.server.used})
        if url.path.startswith("/0/public/"):
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            return self.handle_call(url.path[len("/0/public/"):], params, private=False)
        self.send_json({"error": ["EGeneral:Unknown method"]}, 404)

    def do_POST(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        raw = self.read_body()
        if url.path == "/__control":
            try:
                cmd = json.loads(raw or b"{}")
            except ValueError:
                return self.send_json({"ok": False, "why": "control body is not JSON"}, 400)
            with st.lock:
                if cmd.get("reset"):
                    st.reset()
                if cmd.get("clear_faults"):
                    st.clear_faults()
                if "balances" in cmd:
                    st.balances = dict(cmd["balances"])
                if "trades" in cmd:
                    st.set_trades(cmd["trades"])
                if "rate_limit" in cmd:
                    st.rate_limit = cmd["rate_limit"]
                    st.public_times = []
                if "last_nonce" in cmd:
                    st.nonces[st.key] = int(cmd["last_nonce"])
                if "fill" in cmd:
                    fill = dict(cmd["fill"])
                    fill.setdefault("times", 1)
                    st.fills.append(fill)
                if "kind" in cmd:
                    cmd.setdefault("method", "*")
                    cmd.setdefault("times", 1)
                    st.faults.append(cmd)
            return self.send_json({"ok": True})
        if url.path.startswith("/0/private/"):
            return self.handle_private(url.path, raw)
        if url.path.startswith("/0/public/"):
            params = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            return self.handle_call(url.path[len("/0/public/"):], params, private=False)
        self.send_json({"error": ["EGeneral:Unknown method"]}, 404)

    def handle_private(self, path, raw):
        st = self.server.state
        method = path[len("/0/private/"):]
        text = raw.decode("utf-8", "replace")
        params = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
        nonce = params.get("nonce", "")
        api_key = self.headers.get("API-Key", "")
        sign = self.headers.get("API-Sign", "")
        call = {"method": method, "private": True, "nonce": nonce, "sign": sign, "params": params}
        with st.lock:
            st.calls.append(call)
            if sign:
                st.signatures.append(sign)
        error = None
        if not st.key or api_key != st.key:
            error = "EAPI:Invalid key"
        else:
            try:
                secret = base64.b64decode(st.secret, validate=True)
                digest = hashlib.sha256(nonce.encode() + raw).digest()
                want = base64.b64encode(hmac.new(secret, path.encode() + digest, hashlib.sha512).digest()).decode()
            except (ValueError, TypeError):
                want = None
            if want is None or not hmac.compare_digest(want, sign):
                error = "EAPI:Invalid signature"
            elif not nonce.isdigit():
                error = "EAPI:Invalid nonce"
            else:
                with st.lock:
                    if int(nonce) <= st.nonces.get(api_key, 0):
                        error = "EAPI:Invalid nonce"
                    else:
                        st.nonces[api_key] = int(nonce)
        if error:
            call["answer"] = error
            status, body = self.envelope(None, [error])
            return self.send_bytes(status, body)
        params.pop("nonce", None)
        return self.handle_call(method, params, private=True, call=call)

    # ---- faults ---------------------------------------------------------------------------
    def take_fault(self, method):
        st = self.server.state
        with st.lock:
            for f in st.faults:
                if f["method"] in (method, "*") and f["times"] != 0:
                    if f["times"] > 0:
                        f["times"] -= 1
                    return dict(f)
        return None

    def over_rate_limit(self):
        """Public calls beyond rate_limit["calls"] in the last rate_limit["seconds"]: the kind of answer
        Kraken gives (its per-IP limit), else None. Every call counts, refused ones too."""
        st = self.server.state
        with st.lock:
            limit = st.rate_limit
            if not limit:
                return None
            now = time.monotonic()
            window = float(limit.get("seconds", 1))
            st.public_times = [t for t in st.public_times if now - t < window] + [now]
            return limit.get("answer", "eapi") if len(st.public_times) > int(limit.get("calls", 1)) else None

    def handle_call(self, method, params, private, call=None):
        st = self.server.state
        if call is None:
            call = {"method": method, "private": False, "params": params}
            with st.lock:
                st.calls.append(call)
        limited = None if private else self.over_rate_limit()
        if limited == "429":
            call["answer"] = "429"
            return self.send_bytes(429, b"Too Many Requests", "text/plain")
        if limited:
            call["answer"] = "EGeneral:Too many requests" if limited == "too_many" else "EAPI:Rate limit exceeded"
            status, body = self.envelope(None, [call["answer"]])
            return self.send_bytes(status, body)
        fault = self.take_fault(method)
        kind = fault["kind"] if fault else None
        if kind == "error":
            errors = fault.get("errors") or [fault["error"]]
            call["answer"] = errors[0]
            status, body = self.envelope(None, errors, int(fault.get("status", 200)))
            return self.send_bytes(status, body)
        if kind == "html":
            call["answer"] = "html"
            return self.send_bytes(int(fault.get("status", 520)), HTML_520, "text/html")
        if kind == "garbage":
            call["answer"] = "garbage"
            return self.send_bytes(200, b"\x00\x9f garbage }{ not json \xff", "application/json")
        if kind == "status":
            call["answer"] = "status"
            return self.send_bytes(int(fault.get("status", 503)), fault.get("body", "").encode(), "text/plain")
        if kind == "result":
            return self.answer_result(method, params, private, call, fault)
        if kind in ("stall", "drop") and not fault.get("after_record"):
            # the call is never processed: nothing is booked, the client gets no answer
            call["answer"] = kind
            if kind == "stall":
                time.sleep(float(fault.get("seconds", 5)))
            self.close_connection = True
            return
        handler = getattr(self, ("private_" if private else "public_") + method, None)
        # Public market data is the same for the same query: encode it once (a 720-row OHLC
        # answer costs the fake milliseconds, which would blur the benchmarks).
        memo_key = ((method, tuple(sorted(params.items())))
                    if not private and method not in ("Time", "Trades") and not kind else None)
        memo = self.server.memo.get(memo_key) if memo_key else None
        if memo:
            call["answer"] = "ok"
            return self.send_bytes(200, memo)
        if handler is None:
            status, body = self.envelope(None, ["EGeneral:Unknown method"])
        else:
            try:
                result, errors = handler(params)
            except Exception as e:  # a bug in the fake must show, not hang the client
                result, errors = None, ["EGeneral:Internal error"]
                sys.stderr.write("kraken_fake: %s failed: %r\n" % (method, e))
            if kind == "warning":
                errors = (errors or []) + [fault.get("warning", "WGeneral:Something to know")]
            status, body = self.envelope(result if not [e for e in (errors or []) if e[:1] == "E"] else None, errors)
            call["answer"] = (errors or ["ok"])[0]
        if kind in ("stall", "drop"):
            if kind == "stall":
                time.sleep(float(fault.get("seconds", 5)))
            else:
                self.close_connection = True
                return
        if memo_key and status == 200 and call.get("answer") == "ok":
            self.server.memo[memo_key] = body
        if kind == "truncate":
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        if kind == "cut":
            return self.send_bytes(status, body[: len(body) // 2], length=False)
        self.send_bytes(status, body)

    def answer_result(self, method, params, private, call, fault):
        """The "result" fault: a clean envelope around whatever result the test chose."""
        if fault.get("after_record"):
            handler = getattr(self, ("private_" if private else "public_") + method, None)
            if handler is not None:
                handler(params)
        call["answer"] = "result"
        status, body = 200, json.dumps({"error": [], "result": fault.get("result")}).encode()
        return self.send_bytes(status, body)

    # ---- public ---------------------------------------------------------------------------
    def pair_of(self, params):
        return PAIRS.get(params.get("pair", ""))

    def pairs_of(self, params):
        """Kraken's pair list: one name or several, comma-separated; none = every pair. None when
        any name is unknown (Kraken then answers EQuery:Unknown asset pair for the whole call)."""
        text = params.get("pair", "")
        if not text:
            return ALL_PAIRS
        out = []
        for name in text.split(","):
            p = PAIRS.get(name)
            if not p:
                return None
            if p not in out:
                out.append(p)
        return out

    def public_Time(self, params):
        now = time.time()
        return {"unixtime": int(now), "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(now))}, []

    def public_Assets(self, params):
        by_name = {}
        for key, (alt, _, _) in ASSETS.items():
            by_name[key] = by_name[alt] = key
        wanted = params.get("asset", "")
        keys = list(ASSETS) if not wanted else [by_name.get(a) for a in wanted.split(",")]
        if None in keys:
            return None, ["EQuery:Unknown asset"]
        return {k: {"aclass": "currency", "altname": ASSETS[k][0], "decimals": ASSETS[k][1],
                    "display_decimals": ASSETS[k][2], "status": "enabled"} for k in keys}, []

    def public_Ticker(self, params):
        pairs = self.pairs_of(params)
        if not pairs:
            return None, ["EQuery:Unknown asset pair"]
        entry = only_entry(self.server.state.data["http_ticker.json"])
        return {p[0]: entry for p in pairs}, []

    def public_AssetPairs(self, params):
        pairs = self.pairs_of(params)
        if not pairs:
            return None, ["EQuery:Unknown asset pair"]
        recorded = only_entry(self.server.state.data["http_asset_pairs.json"])
        out = {}
        for p in pairs:
            entry = dict(recorded)
            entry.update({"altname": p[1], "wsname": p[2], "base": p[3], "quote": p[4]})
            out[p[0]] = entry
        return out, []

    def public_OHLC(self, params):
        p = self.pair_of(params)
        if not p:
            return None, ["EQuery:Unknown asset pair"]
        try:
            interval = int(params.get("interval", "1"))
        except ValueError:
            interval = 0
        if interval not in INTERVALS:
            return None, ["EGeneral:Invalid arguments"]
        recorded = self.server.state.data["http_ohlc.json"]["result"]
        rows = aggregate_ohlc(only_entry(self.server.state.data["http_ohlc.json"]), interval)
        if interval == 1 and "last" in recorded:
            last = recorded["last"]
        else:  # the newest closed candle: the row before the open one
            last = rows[-2][0] if len(rows) > 1 else rows[-1][0] - interval * 60
        if params.get("since"):
            try:
                since = int(params["since"])
            except ValueError:
                return None, ["EGeneral:Invalid arguments"]
            rows = [r for r in rows if r[0] > since] or rows[-1:]
        return {p[0]: rows, "last": last}, []

    def public_Trades(self, params):
        """Kraken's paging: trades strictly after `since` (seconds, or nanoseconds from 10^12 up),
        oldest first, at most `count` (default and maximum 1000); without since the newest ones.
        `last` is the cursor to pass back: the last returned trade's time in nanoseconds."""
        p = self.pair_of(params)
        if not p:
            return None, ["EQuery:Unknown asset pair"]
        since_text, count_text = params.get("since", ""), params.get("count", "")
        if since_text and not re.fullmatch(r"[0-9]+(\.[0-9]+)?", since_text):
            return None, ["EGeneral:Invalid arguments:since"]
        if count_text and not (re.fullmatch(r"[0-9]+", count_text) and 1 <= int(count_text) <= TRADES_PAGE):
            return None, ["EGeneral:Invalid arguments:count"]
        count = int(count_text or TRADES_PAGE)
        st = self.server.state
        with st.lock:
            trades, times = st.trades, st.trades_ns
        if not since_text:
            page = trades[-count:]
            since_ns = page[0][0] - 1 if page else 0
        else:
            value = Decimal(since_text)
            since_ns = int(value * 1000000000) if "." in since_text or value < 10 ** 12 else int(value)
            start = bisect.bisect_right(times, since_ns)
            page = trades[start:start + count]
        last = str(page[-1][0]) if page else str(since_ns)
        return {p[0]: [row for _, row in page], "last": last}, []

    # ---- private --------------------------------------------------------------------------
    def private_Balance(self, params):
        with self.server.state.lock:
            return dict(self.server.state.balances), []

    def private_BalanceEx(self, params):
        """Balance plus hold_trade: what open orders reserve (a buy its cost in the quote asset,
        a sell its volume in the base asset), in the asset's decimals."""
        st = self.server.state
        with st.lock:
            balances = dict(st.balances)
            holds = {}
            for o in st.orders:
                if o["status"] not in ("open", "pending"):
                    continue
                p = PAIRS[o["descr"]["pair"]]
                left = dec(o["vol"]) - dec(o["vol_exec"])
                if o["descr"]["type"] == "buy":
                    holds[p[4]] = holds.get(p[4], Decimal(0)) + left * dec(o["descr"]["price"])
                else:
                    holds[p[3]] = holds.get(p[3], Decimal(0)) + left
        out = {}
        for asset, amount in balances.items():
            places = ASSETS.get(asset, ("", 8, 8))[1]
            out[asset] = {"balance": amount,
                          "hold_trade": format(holds.get(asset, Decimal(0)).quantize(Decimal(1).scaleb(-places)), "f")}
        return out, []

    def private_TradeBalance(self, params):
        with self.server.state.lock:
            eb = self.server.state.balances.get("ZUSD", "0")
        return {"eb": eb, "tb": eb, "m": "0.0000", "n": "0.0000", "c": "0.0000", "v": "0.0000", "e": eb,
                "mf": eb}, []

    def next_txid(self):
        st = self.server.state
        st.seq += 1
        r = random.Random(st.seq)
        abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        part = lambda n: "".join(r.choice(abc) for _ in range(n))
        return "O%s-%s-%s" % (part(5), part(5), part(6))

    def private_AddOrder(self, params):
        st = self.server.state
        for k in ("ordertype", "type", "volume", "pair"):
            if not params.get(k):
                return None, ["EGeneral:Invalid arguments:" + k]
        p = self.pair_of(params)
        if not p:
            return None, ["EQuery:Unknown asset pair"]
        otype, side = params["ordertype"], params["type"]
        if otype not in ("market", "limit") or side not in ("buy", "sell"):
            return None, ["EGeneral:Invalid arguments"]
        # userref is an int32 and cl_ord_id a UUID (dashed or not) or free text of up to 18 ASCII
        # characters; Kraken refuses anything else before looking at the order
        userref = params.get("userref", "")
        if userref and not (re.fullmatch(r"-?[0-9]+", userref) and -2 ** 31 <= int(userref) < 2 ** 31):
            return None, ["EGeneral:Invalid arguments:userref"]
        cl_ord_id = params.get("cl_ord_id", "")
        if cl_ord_id and not (re.fullmatch(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
                                           cl_ord_id) or (len(cl_ord_id) <= 18 and cl_ord_id.isascii()
                                                          and cl_ord_id.isprintable())):
            return None, ["EGeneral:Invalid arguments:cl_ord_id"]
        if params.get("userref") and params.get("cl_ord_id"):
            return None, ["EGeneral:Invalid arguments:cl_ord_id and userref cannot both be set"]
        volume = dec(params["volume"])
        if volume is None or volume <= 0:
            return None, ["EGeneral:Invalid arguments:volume"]
        pair_info = only_entry(st.data["http_asset_pairs.json"])
        ticker = only_entry(st.data["http_ticker.json"])
        if otype == "limit":
            price = dec(params.get("price", ""))
            if price is None or price <= 0:
                return None, ["EGeneral:Invalid arguments:price"]
            tick = dec(pair_info.get("tick_size", "0")) or Decimal(0)
            if tick > 0 and (price % tick) != 0:
                return None, ["EOrder:Tick size check failed"]
        else:
            price = dec(ticker["a"][0] if side == "buy" else ticker["b"][0])
        if volume < dec(pair_info["ordermin"]):
            return None, ["EOrder:Order minimum not met"]
        cost = volume * price
        if cost < dec(pair_info.get("costmin", "0")):
            return None, ["EOrder:Cost minimum not met"]
        fee = (cost * Decimal("0.004")).quantize(Decimal("0.00000001"))
        with st.lock:
            have_quote = dec(st.balances.get(p[4], "0"))
            have_base = dec(st.balances.get(p[3], "0"))
            if (side == "buy" and cost + fee > have_quote) or (side == "sell" and volume > have_base):
                return None, ["EOrder:Insufficient funds"]
            descr = {"order": "%s %s %s @ %s" % (side, params["volume"], p[1],
                                                 "market" if otype == "market" else "limit " + params["price"])}
            if str(params.get("validate", "")).lower() in ("true", "1"):
                return {"descr": descr}, []
            txid = self.next_txid()
            now = time.time()
            order = {
                "txid": txid, "refid": None, "userref": int(params["userref"]) if params.get("userref") else 0,
                "cl_ord_id": params.get("cl_ord_id"), "status": "open", "opentm": now, "starttm": 0, "expiretm": 0,
                "descr": {"pair": p[1], "type": side, "ordertype": otype, "price": params.get("price", "0"),
                          "price2": "0", "leverage": "none", "order": descr["order"], "close": ""},
                "vol": params["volume"], "vol_exec": "0.00000000", "cost": "0.00000", "fee": "0.00000",
                "price": "0.00000", "stopprice": "0.00000", "limitprice": "0.00000", "misc": "",
                "oflags": params.get("oflags", "fciq"),
            }
            scripted = self.take_fill()
            if scripted:
                self.fill_scripted(order, scripted, p, volume, now)
            elif otype == "market":
                self.fill_order(order, p, [(price, volume)], Decimal("0.004"), now)
            st.orders.append(order)
        return {"descr": descr, "txid": [txid]}, []

    def select(self, params, statuses):
        st = self.server.state
        out = {}
        with st.lock:
            for o in st.orders:
                if o["status"] not in statuses:
                    continue
                if params.get("userref") and str(o["userref"]) != params["userref"]:
                    continue
                if params.get("cl_ord_id") and o.get("cl_ord_id") != params["cl_ord_id"]:
                    continue
                out[o["txid"]] = self.order_view(o, params)
        return out

    def private_OpenOrders(self, params):
        return {"open": self.select(params, ("open", "pending"))}, []

    def private_ClosedOrders(self, params):
        """Newest first (by close time), CLOSED_PAGE per call from offset `ofs`; `count` is every
        match, so a client pages until it has seen `count` orders. start/end bound the close time
        (exclusive), in Unix seconds."""
        bounds = {}
        for name in ("ofs", "start", "end"):
            text = params.get(name, "")
            if text and not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
                return None, ["EGeneral:Invalid arguments:" + name]
            bounds[name] = float(text) if text else None
        closed = list(self.select(params, ("closed", "canceled", "expired")).items())
        closed = [(t, o) for t, o in closed
                  if (bounds["start"] is None or o.get("closetm", 0) > bounds["start"])
                  and (bounds["end"] is None or o.get("closetm", 0) < bounds["end"])]
        closed.reverse()  # the later booking first among equal close times
        closed.sort(key=lambda item: item[1].get("closetm", 0), reverse=True)
        ofs = int(bounds["ofs"] or 0)
        return {"closed": dict(closed[ofs:ofs + CLOSED_PAGE]), "count": len(closed)}, []

    def private_QueryOrders(self, params):
        wanted = [t for t in params.get("txid", "").split(",") if t]
        every = self.select(params, ("open", "pending", "closed", "canceled", "expired"))
        if wanted:
            missing = [t for t in wanted if t not in every]
            if missing:
                return None, ["EOrder:Invalid order"]
            every = {t: every[t] for t in wanted}
        return every, []

    # ---- fills and trades -------------------------------------------------------------------
    def take_fill(self):
        """The next scripted fill (the state lock is held), or None."""
        st = self.server.state
        for f in st.fills:
            if f["times"] != 0:
                if f["times"] > 0:
                    f["times"] -= 1
                return f
        return None

    def fill_scripted(self, order, fill, p, volume, now):
        """Fills `order` in the scripted trades; what they leave is canceled (immediate-or-cancel)."""
        parts = [(dec(t["price"]), (volume * dec(t["ratio"])).quantize(Decimal("0.00000001")))
                 for t in fill.get("trades", [])]
        self.fill_order(order, p, [(px, v) for px, v in parts if v > 0],
                        dec(fill.get("fee_bps", "40")) / Decimal(10000), now)
        if dec(order["vol_exec"]) < volume:
            order["status"] = "canceled"
            order["reason"] = "Immediate or cancel: not filled in full"

    def fill_order(self, order, p, parts, fee_rate, now):
        """Books the (price, volume) parts of `order` as trades and moves the balances (lock held)."""
        st = self.server.state
        side, q, b = order["descr"]["type"], p[4], p[3]
        vol_exec = cost_sum = fee_sum = Decimal(0)
        order["trades"] = []
        for i, (price, vol) in enumerate(parts):
            cost = price * vol
            fee = (cost * fee_rate).quantize(Decimal("0.00000001"))
            tid = "T%s-%d" % (order["txid"][1:], i)
            st.booked[tid] = {"ordertxid": order["txid"], "postxid": "TKH2SE-M7IF5-CFI7LT", "pair": p[0],
                              "time": now, "type": side, "ordertype": order["descr"]["ordertype"],
                              "price": str(price), "cost": str(cost), "fee": str(fee), "vol": str(vol),
                              "margin": "0.00000", "leverage": "0", "misc": "", "trade_id": len(st.booked) + 1,
                              "maker": False}
            order["trades"].append(tid)
            vol_exec += vol
            cost_sum += cost
            fee_sum += fee
            sign = 1 if side == "buy" else -1
            st.balances[q] = str(dec(st.balances.get(q, "0")) - sign * cost - fee)
            st.balances[b] = str(dec(st.balances.get(b, "0")) + sign * vol)
        order.update({"status": "closed", "vol_exec": str(vol_exec), "cost": str(cost_sum), "fee": str(fee_sum),
                      "price": str(cost_sum / vol_exec) if vol_exec else "0.00000", "closetm": now, "reason": None})

    def order_view(self, o, params):
        """An order as Kraken lists it: without its txid key, with its trade ids only when asked."""
        view = {k: v for k, v in o.items() if k != "txid"}
        if str(params.get("trades", "")).lower() not in ("true", "1"):
            view.pop("trades", None)
        return view

    def private_QueryTrades(self, params):
        """Trades by id (comma-separated, at most 20). An unknown id fails the call (UNCONFIRMED:
        Kraken's exact error string for it is not documented; EGeneral:Invalid arguments here)."""
        st = self.server.state
        wanted = [t for t in params.get("txid", "").split(",") if t]
        if not wanted or len(wanted) > 20:
            return None, ["EGeneral:Invalid arguments:txid"]
        with st.lock:
            if any(t not in st.booked for t in wanted):
                return None, ["EGeneral:Invalid arguments"]
            return {t: dict(st.booked[t]) for t in wanted}, []

    def private_CancelOrder(self, params):
        st = self.server.state
        ref = params.get("txid") or params.get("cl_ord_id")
        if not ref:
            return None, ["EGeneral:Invalid arguments:txid"]
        with st.lock:
            for o in st.orders:
                if (o["txid"] == ref or o.get("cl_ord_id") == ref) and o["status"] in ("open", "pending"):
                    o["status"] = "canceled"
                    o["closetm"] = time.time()
                    return {"count": 1, "pending": False}, []
        return None, ["EOrder:Unknown order"]


def main():
    ap = argparse.ArgumentParser(description="loopback fake Kraken")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data", action="append", help="folder with http_*.json (first wins; repeatable)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    data, used = load_data(args.data or DEFAULT_DATA)
    missing = [f for f in FILES if f not in data]
    if missing:
        sys.exit("kraken_fake: no %s in %s" % (", ".join(missing), args.data or DEFAULT_DATA))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(data, os.environ.get("KRAKEN_API_KEY", ""), os.environ.get("KRAKEN_SECRET", ""))
    server.used = used
    server.verbose = args.verbose
    server.memo = {}
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
