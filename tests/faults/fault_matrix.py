#!/usr/bin/env python3
"""The fault matrix (README "Fault matrix"), generated from real runs.

Every cell is a `titan-host run` against the loopback fakes (tests/fakes/) with one fault injected:
in an answer of Kraken, of an AI provider or of the store, in the address itself (tests/fakes/
front.py), or a signal at a step boundary (TITAN_TEST_PAUSE_AT). Each run is checked against the
money-safety invariants, then a clean run follows (in the next slot; for the stop points also in
the same slot) and must reconcile before it trades. A broken invariant is a failure, whatever the
table says. The tables are printed as the README shows them.

usage: tests/faults/fault_matrix.py [--jobs N] [--only GROUPS] [--check README.md | --write README.md]
  GROUPS  comma-separated: kraken, ai, store, stops (default: all four)
  --check compare the tables with the README's "Fault matrix" section (exit 1 when they differ)
  --write replace that section's tables with the generated ones
Prints "fault_matrix: N passed, N failed" (invariants checked) on stderr; exit 1 on any failure.
Needs the binary (TITAN_BIN, default ./titan-host) and, for the PostgREST rows, PostgreSQL and a
python3 with psycopg2 (as tests/e2e/test_store_supabase.sh).
"""
import argparse
import base64
import concurrent.futures
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TITAN_BIN = os.environ.get("TITAN_BIN") or os.path.join(ROOT, "titan-host")
STRATEGY = os.path.join(ROOT, "tests", "faults", "matrix_strategy.lua")
DAY0 = 1794960000000            # 2026-11-18T00:00Z: every run's clock is pinned on this day
SLOT_MS = 900000
KRAKEN_TIMEOUT_MS = 2000        # TITAN_KRAKEN_TIMEOUT_MS of every run: a stalled answer costs 2 s
STORE_TIMEOUT_MS = 2000         # TITAN_STORE_TIMEOUT_MS (3000 in the SQLite cells)
STALL_S = 5                     # how late a stalled answer comes: well past every deadline
BEGIN, END = "<!-- fault-matrix:begin (tests/faults/fault_matrix.py --write README.md) -->", "<!-- fault-matrix:end -->"

FAULTS = ["timeout before send", "timeout after send", "5xx", "429", "malformed JSON", "wrong shape", "truncated",
          "connection refused", "TLS failure"]
KRAKEN_ROWS = ["AssetPairs", "Ticker", "OHLC", "Balance", "OpenOrders", "AddOrder validate", "AddOrder", "QueryOrders"]
# the call before each, in the order a LIVE cycle makes them (front.py switches after it)
KRAKEN_BEFORE = {"AssetPairs": "none", "Ticker": "AssetPairs", "OHLC": "OpenOrders", "Balance": "Ticker",
                 "OpenOrders": "Balance", "AddOrder validate": "OHLC", "AddOrder": "AddOrder:validate",
                 "QueryOrders": "AddOrder:real"}
AI_ROWS = ["OpenAI", "Groq", "Gemini"]
STORE_ROWS = ["SQLite busy", "SQLite locked", "SQLite read-only", "SQLite disk full", "PostgREST timeout",
              "PostgREST 5xx", "PostgREST malformed", "PostgREST hung"]
STORE_COLS = ["at the lock", "at the record (after a send)"]
STOP_POINTS = ["configure", "lock", "recover", "halt", "market", "decide", "execute", "before_first_send",
               "between_sends", "after_last_send", "record"]
STOP_COLS = ["PAPER SIGTERM", "PAPER kill -9", "LIVE SIGTERM", "LIVE kill -9"]
UNKNOWN_STATES = {"sending", "in_doubt"}
EXECUTED_STATES = {"placed", "pending", "open", "closed", "canceled", "expired", "filled"}
NOT_EXECUTED_STATES = {"not_sent", "not_placed", "rejected", "refused"}
NA = {
    ("kraken", "TLS failure"): "n/a¹",
    ("store", "SQLite read-only", "at the record (after a send)"): "n/a²",
}

SECRETS = {n: base64.b64encode(os.urandom(48)).decode() for n in
           ("KRAKEN_API_KEY", "KRAKEN_SECRET", "OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY", "SUPABASE_KEY")}


# ---- small helpers ---------------------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def http_json(url, body=None, headers=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data, dict(headers or {}, **({"Content-Type": "application/json"} if data else {})))
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def cl_ord_id(cycle_id, index):
    """The client order id titan-host derives (host/live.c), computed independently."""
    md = bytearray(hashlib.sha256(("titan-host:%s:%d" % (cycle_id, index)).encode()).digest())
    md[6] = (md[6] & 0x0F) | 0x50
    md[8] = (md[8] & 0x3F) | 0x80
    h = md[:16].hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32])


def slot_iso(slot):
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime((DAY0 + slot * SLOT_MS) // 1000))


def blackhole():
    """A loopback address whose accept queue is full: a connect's SYN is dropped and times out."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    filler = socket.create_connection(hole.getsockname())
    return hole, filler


def start(cmd, port, env=None, log=None):
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log or subprocess.DEVNULL)
    if port and not wait_port(port):
        p.kill()
        raise RuntimeError("did not start: %s" % " ".join(cmd))
    return p


def stop(p):
    if p and p.poll() is None:
        p.kill()
        p.wait()


def psycopg2_python():
    for py in ("python3", "/usr/bin/python3"):
        if shutil.which(py) and subprocess.run([py, "-c", "import psycopg2"], capture_output=True).returncode == 0:
            return py
    return None


# ---- what every cell checks ------------------------------------------------------------------------

class Checks:
    """Invariants checked in one cell: each is counted; a broken one is a failure with its reason."""

    def __init__(self, name):
        self.name, self.passed, self.failures = name, 0, []

    def that(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failures.append("%s: %s" % (self.name, what))
        return ok


class Run:
    def __init__(self, rc, out, err, blackbox):
        self.rc, self.out, self.err = rc, out, err
        self.blackbox = open(blackbox, errors="replace").read() if os.path.exists(blackbox) else ""


class Row:
    """A cycle's execution_logs row (None when there is none) with its orders decoded."""

    def __init__(self, status, orders_json):
        self.status = status
        try:
            self.orders = json.loads(orders_json) if orders_json else []
        except ValueError:
            self.orders = None
        if not isinstance(self.orders, list):
            self.orders = None

    def unknown(self):
        return [o for o in self.orders or [] if o.get("state") in UNKNOWN_STATES]

    def known_sent(self):
        return [o for o in self.orders or [] if o.get("state") not in UNKNOWN_STATES | {"not_sent", "simulated"}
                and not (o.get("state") == "rejected" and o.get("stage") == "validate")]


class Cell:
    def __init__(self, group, row, col, fn, *args):
        self.group, self.row, self.col, self.fn, self.args = group, row, col, fn, args
        self.key = re.sub(r"[^a-z0-9]+", "_", ("%s %s %s" % (group, row, col)).lower()).strip("_")[:48]
        self.text, self.checks = "", Checks("%s / %s / %s" % (group, row, col))


class Worker:
    """One thread's fakes (a Kraken fake and an AI fake) and its cells' folders."""

    def __init__(self, tmp, pg):
        self.tmp, self.pg = tmp, pg
        self.kport, self.aport = free_port(), free_port()
        env = dict(os.environ, **{k: SECRETS[k] for k in ("KRAKEN_API_KEY", "KRAKEN_SECRET")})
        for p in ("OPENAI", "GROQ", "GEMINI"):
            env["FAKE_%s_KEY" % p] = SECRETS[p + "_API_KEY"]
        self.procs = [start([sys.executable, os.path.join(ROOT, "tests/fakes/kraken_fake.py"), "--port",
                             str(self.kport)], self.kport, env),
                      start([sys.executable, os.path.join(ROOT, "tests/fakes/ai_fake.py"), str(self.aport)], self.aport,
                            env)]

    def close(self):
        for p in self.procs:
            stop(p)

    def kctl(self, cmd):
        http_json("http://127.0.0.1:%d/__control" % self.kport, cmd)

    def kget(self, what):
        return http_json("http://127.0.0.1:%d/__%s" % (self.kport, what))

    def actl(self, cmd, path="_control"):
        http_json("http://127.0.0.1:%d/%s" % (self.aport, path), cmd)


class Scene:
    """One cell's world: its folder, store, strategy name, pinned clock and runs."""

    def __init__(self, worker, cell, mode="LIVE", orders=1, store="sqlite"):
        self.w, self.cell, self.mode, self.orders = worker, cell, mode, orders
        self.dir = os.path.join(worker.tmp, cell.key)
        os.makedirs(self.dir, exist_ok=True)
        self.name = cell.key[:40] + "_" + hashlib.sha1(cell.key.encode()).hexdigest()[:6]
        self.db = os.path.join(self.dir, "titan.db")
        self.tick = 0
        self.runs = 0
        self.store = store
        self.sb_port, self.sb_proc, self.fault_file = None, None, os.path.join(self.dir, "postgrest.fault")
        self.kraken_url = "http://127.0.0.1:%d" % worker.kport
        self.extra = {}
        worker.kctl({"reset": True, "balances": {"ZUSD": "10000.0000", "XXBT": "0.0000000000"}})
        worker.actl({}, "_reset")
        if store == "supabase":
            self.sb_port = free_port()
            env = dict(os.environ, FAKE_SUPABASE_KEYS=SECRETS["SUPABASE_KEY"])
            self.sb_proc = start([worker.pg["py"], os.path.join(ROOT, "tests/fakes/postgrest_fake.py"), "--port",
                                  str(self.sb_port), "--pg-host", worker.pg["host"], "--pg-port", worker.pg["port"],
                                  "--fault-file", self.fault_file], self.sb_port, env)

    def close(self):
        stop(self.sb_proc)

    def cycle_id(self, slot):
        return "%s@%s" % (self.name, slot_iso(slot))

    def now(self, slot, minutes=0.5):
        self.tick += 1   # the pinned clock never runs backwards within a cell
        return DAY0 + slot * SLOT_MS + int(minutes * 60000) + self.tick * 1000

    def env(self, now_ms, pause=None):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.dir, "TITAN_HOME": ROOT,
             "SYSTEM_MODE": self.mode, "KRAKEN_API_URL": self.kraken_url, "TITAN_BLACKBOX": self.blackbox(),
             "TITAN_KRAKEN_TIMEOUT_MS": str(KRAKEN_TIMEOUT_MS), "TITAN_STORE_TIMEOUT_MS": str(STORE_TIMEOUT_MS),
             "TITAN_FAKE_NOW_MS": str(now_ms), "FAULT_STRATEGY": self.name, "FAULT_ORDERS": str(self.orders),
             "KRAKEN_API_KEY": SECRETS["KRAKEN_API_KEY"], "KRAKEN_SECRET": SECRETS["KRAKEN_SECRET"],
             "TITAN_LOG_LEVEL": "error"}
        for k in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"):
            if k in os.environ:
                e[k] = os.environ[k]
        if self.store == "supabase":
            e.update(SUPABASE_URL="http://127.0.0.1:%d" % self.sb_port, SUPABASE_KEY=SECRETS["SUPABASE_KEY"])
        else:
            e["TITAN_DB"] = self.db
        if pause:
            e["TITAN_TEST_PAUSE_AT"] = pause
        e.update(self.extra)
        return e

    def blackbox(self):
        return os.path.join(self.dir, "blackbox.%d.log" % self.runs)

    def run(self, slot, minutes=0.5, pause=None, at_pause=None, prefix=(), binary=None, strategy=None):
        """One titan-host run; at_pause(proc) is called once the run says it paused."""
        self.runs += 1
        env = self.env(self.now(slot, minutes), pause)
        out, err = os.path.join(self.dir, "out.%d" % self.runs), os.path.join(self.dir, "err.%d" % self.runs)
        with open(out, "w") as fo, open(err, "w") as fe:
            p = subprocess.Popen(list(prefix) + [binary or TITAN_BIN, "run", strategy or STRATEGY], env=env,
                                 stdout=fo, stderr=fe,
                                 stdin=subprocess.DEVNULL)
            if pause:
                end = time.time() + 20
                while time.time() < end and p.poll() is None:
                    if os.path.exists(env["TITAN_BLACKBOX"]) and '"ev":"test.paused"' in open(env["TITAN_BLACKBOX"]).read():
                        break
                    time.sleep(0.01)
                self.cell.checks.that(p.poll() is None, "the run paused at %s" % pause)
                if p.poll() is None:
                    at_pause(p)
            try:
                rc = p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
                self.cell.checks.that(False, "the run ended within 60 s")
        run = Run(rc, open(out, errors="replace").read(), open(err, errors="replace").read(), env["TITAN_BLACKBOX"])
        # a sanitizer build reports on stderr, which tests/run does not see here
        self.cell.checks.that(not re.search(r"==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer|runtime error:",
                                            run.err), "no sanitizer report (%s)" % run.err[-400:])
        return run

    def row(self, slot):
        cid = self.cycle_id(slot)
        if self.store == "supabase":
            url = "http://127.0.0.1:%d/rest/v1/execution_logs?cycle_id=eq.%s&select=status,orders::text" % (
                self.sb_port, urllib.request.quote(cid))
            rows = http_json(url, headers={"apikey": SECRETS["SUPABASE_KEY"]})
            return Row(rows[0]["status"], rows[0]["orders"]) if rows else None
        if not os.path.exists(self.db):
            return None
        con = sqlite3.connect(self.db, timeout=10)
        try:
            r = con.execute("select status, orders from execution_logs where cycle_id = ?", (cid,)).fetchone()
        except sqlite3.Error:
            r = None
        finally:
            con.close()
        return Row(*r) if r else None

    def decision(self, slot):
        """The row's decision record (SQLite stores only), or {}."""
        con = sqlite3.connect(self.db, timeout=10)
        try:
            r = con.execute("select decision from execution_logs where cycle_id = ?", (self.cycle_id(slot),)).fetchone()
        finally:
            con.close()
        try:
            return json.loads(r[0]) if r and r[0] else {}
        except ValueError:
            return {}

    def truth(self, slot):
        """What really happened to the cycle's orders: per cl_ord_id, the orders Kraken booked (LIVE)
        or the ledger filled (PAPER), and the real sends Kraken received."""
        ids = [cl_ord_id(self.cycle_id(slot), i) for i in range(1, self.orders + 1)]
        booked, sends = {i: 0 for i in ids}, {i: 0 for i in ids}
        if self.mode == "LIVE":
            for o in self.w.kget("orders")["orders"]:
                if o.get("cl_ord_id") in booked:
                    booked[o["cl_ord_id"]] += 1
            for c in self.w.kget("calls")["calls"]:
                p = c.get("params") or {}
                if c["method"] == "AddOrder" and p.get("cl_ord_id") in sends and "validate" not in p:
                    sends[p["cl_ord_id"]] += 1
        elif os.path.exists(self.db):
            con = sqlite3.connect(self.db, timeout=10)
            try:
                for (ref,) in con.execute("select order_ref from paper_fills where cycle_id = ?", (self.cycle_id(slot),)):
                    if ref in booked:
                        booked[ref] += 1
                        sends[ref] += 1
            except sqlite3.Error:
                pass
            finally:
                con.close()
        return booked, sends

    def calls_from(self, n):
        out = []
        for c in self.w.kget("calls")["calls"][n:]:
            p = c.get("params") or {}
            out.append(c["method"] + ("(%s)" % p["cl_ord_id"] if c["method"] in ("OpenOrders", "ClosedOrders")
                                       and p.get("cl_ord_id") else ""))
        return out


def check_run(scene, run, slot, fault_before_send=False, killed=False):
    """The invariants of one faulted (or stopped) run. Returns the cell text's first part."""
    ck, row = scene.cell.checks, scene.row(slot)
    booked, sends = scene.truth(slot)
    sent = sum(1 for v in sends.values() if v)
    text_out = run.out + run.err
    if not killed:
        ck.that(run.rc in (0, 1, 3), "exit code %d is one of 0, 1, 3" % run.rc)
    ck.that("internal error" not in text_out and "internal error" not in run.blackbox, "nothing raised")
    ck.that(all(v <= 1 for v in booked.values()), "no order booked twice (%s)" % booked)
    ck.that(all(v <= 1 for v in sends.values()), "no order sent twice (%s)" % sends)
    if fault_before_send:
        ck.that(sent == 0 and not any(booked.values()), "a failure before any send places no order")
        ck.that(run.rc != 3, "a failure before any send is not in doubt")
    if row is None:
        ck.that(not any(booked.values()), "no row, so no order placed")
        return "no row %s · %d/0/0" % ("kill" if killed else run.rc, sent)
    ck.that(row.orders is not None, "the row's orders are readable")
    unknown, known = row.unknown(), row.known_sent()
    if unknown and not killed:
        ck.that(run.rc == 3 and row.status in ("in_doubt", "running"),
                "an order of unknown fate makes the cycle in doubt (exit %d, row %s)" % (run.rc, row.status))
    if row.status == "in_doubt" and not killed:
        ck.that(run.rc == 3, "an in_doubt row exits 3")
    check_truthful(ck, row, booked)
    return "%s %s · %d/%d/%d" % (row.status, "kill" if killed else run.rc, sent, len(known), len(unknown))


def check_truthful(ck, row, booked):
    """The record never lies about money: an order it says executed exists, one it says never executed
    does not, and every booked order is in the record (known or in doubt)."""
    by_id = {o.get("cl_ord_id"): o for o in row.orders or []}
    for cid, n in booked.items():
        if n:
            o = by_id.get(cid)
            ck.that(o is not None and o.get("state") not in NOT_EXECUTED_STATES,
                    "a booked order (%s) is on record as executed or in doubt, not %s" % (cid, o and o.get("state")))
    for o in row.orders or []:
        cid, state = o.get("cl_ord_id"), o.get("state")
        if state in EXECUTED_STATES:
            ck.that(booked.get(cid, 0) == 1, "an order on record as %s (%s) exists" % (state, cid))
        if state in NOT_EXECUTED_STATES:
            ck.that(booked.get(cid, 0) == 0, "an order on record as %s (%s) was never booked" % (state, cid))


def arrow(scene, slot, after):
    """" → status" when the next run changed the row's status (the cell's status is its first word)."""
    before = scene.cell.text.split(" · ")[0].rsplit(" ", 1)[0]
    return "" if after == before else " → " + after


def check_next(scene, earlier_slot, slot, trades=True):
    """A clean run in `slot` after the faulted one: it reconciles the earlier row before trading,
    never sends an earlier order again, and then trades. Returns the earlier row's status."""
    ck = scene.cell.checks
    earlier = scene.row(earlier_slot)
    had_unknown = earlier is not None and (earlier.status == "running" or bool(earlier.unknown()))
    n = len(scene.w.kget("calls")["calls"]) if scene.mode == "LIVE" else 0
    booked_before, sends_before = scene.truth(earlier_slot)
    run = scene.run(slot)
    ck.that(run.rc == 0, "the next run exits 0 (got %d: %s)" % (run.rc, (run.out + run.err).strip()[-300:]))
    after = scene.row(earlier_slot)
    booked, sends = scene.truth(earlier_slot)
    ck.that(sends == sends_before and booked == booked_before, "the next run sends no earlier order again")
    if after is not None:
        ck.that(after.status not in ("running", "in_doubt") and not after.unknown(),
                "the next run reconciles the earlier row (now %s)" % after.status)
        check_truthful(ck, after, booked)
    if had_unknown and scene.mode == "LIVE" and earlier.orders:
        calls = scene.calls_from(n)
        first_trade = next((i for i, c in enumerate(calls) if c in ("Ticker", "AddOrder")), len(calls))
        looked = [i for i, c in enumerate(calls) if c.startswith("OpenOrders(")]
        ck.that(looked and max(looked) < first_trade, "the next run looks the orders up before trading (%s)" % calls)
    if trades:
        new = scene.row(slot)
        nb, _ = scene.truth(slot)
        ck.that(new is not None and new.status == "done" and sum(nb.values()) == scene.orders,
                "the next run then trades (%s, booked %s)" % (new and new.status, nb))
    return after.status if after else "no row"


# ---- the Kraken table ----------------------------------------------------------------------------------

def kraken_fault(row, col):
    """The fake's fault for a cell, or None when the cell's fault is in the address."""
    method = "AddOrder" if row.startswith("AddOrder") else row
    times = 1 if method == "AddOrder" else -1
    wrong = {"AssetPairs": 5, "Ticker": 5, "OHLC": 5, "Balance": 5, "OpenOrders": {"open": 5}, "QueryOrders": 5,
             "AddOrder validate": 5, "AddOrder": {"descr": {"order": "buy 0.0001 XBTUSD @ market"}}}
    kinds = {
        "timeout after send": {"kind": "stall", "seconds": STALL_S, "after_record": True},
        "5xx": {"kind": "status", "status": 503, "body": "Service Unavailable"},
        "429": {"kind": "status", "status": 429, "body": "Too Many Requests"},
        "malformed JSON": {"kind": "garbage"},
        "wrong shape": {"kind": "result", "result": wrong[row if row in wrong else method]},
        "truncated": {"kind": "truncate"},
    }
    if col not in kinds:
        return None
    return dict(kinds[col], method=method, times=times)


def kraken_cell(w, cell):
    row, col = cell.row, cell.col
    sc = Scene(w, cell)
    front = None
    try:
        fault = kraken_fault(row, col)
        if row == "AddOrder":   # validate passes untouched, the fault meets the real AddOrder
            w.kctl({"method": "AddOrder", "kind": "warning", "warning": "WGeneral:matrix", "times": 1})
        if fault:
            w.kctl(fault)
        elif col == "TLS failure":
            sc.kraken_url = "https://127.0.0.1:%d" % w.kport
        elif col == "connection refused" and row == "AssetPairs":
            sc.kraken_url = "http://127.0.0.1:%d" % free_port()
        else:
            port = free_port()
            front = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/fakes/front.py"), "--port", str(port),
                                      "--to", str(w.kport), "--after", KRAKEN_BEFORE[row], "--mode",
                                      "refuse" if col == "connection refused" else "blackhole"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            front.stdout.readline()   # "ready"
            sc.kraken_url = "http://127.0.0.1:%d" % port
        # a fault before the real AddOrder sends nothing
        before_send = row in KRAKEN_ROWS[:6]
        run = sc.run(1)
        cell.text = check_run(sc, run, 1, fault_before_send=before_send)
        stop(front)
        front = None
        w.kctl({"clear_faults": True})
        sc.kraken_url = "http://127.0.0.1:%d" % w.kport
        cell.text += arrow(sc, 1, check_next(sc, 1, 2))
    finally:
        stop(front)
        sc.close()


# ---- the AI table --------------------------------------------------------------------------------------

AI_BASES = {"OpenAI": ("OPENAI", "/v1"), "Groq": ("GROQ", "/openai/v1"), "Gemini": ("GEMINI", "/v1beta")}


def ai_cell(w, cell):
    env_name, path = AI_BASES[cell.row]
    sc = Scene(w, cell)
    hole = None
    try:
        base = "http://127.0.0.1:%d%s" % (w.aport, path)
        modes = {"timeout after send": {"delay_ms": STALL_S * 1000}, "5xx": {"mode": "server_error"},
                 "429": {"mode": "rate_limit", "retry_after": "30"}, "malformed JSON": {"mode": "garbage"},
                 "wrong shape": {"mode": "wrong_shape"}, "truncated": {"mode": "cut_body"}}
        if cell.col in modes:
            w.actl(dict(modes[cell.col], provider=cell.row.lower()))
        elif cell.col == "timeout before send":
            hole = blackhole()
            base = "http://127.0.0.1:%d%s" % (hole[0].getsockname()[1], path)
        elif cell.col == "connection refused":
            base = "http://127.0.0.1:%d%s" % (free_port(), path)
        elif cell.col == "TLS failure":
            base = "https://127.0.0.1:%d%s" % (w.aport, path)
        sc.extra = {env_name + "_API_KEY": SECRETS[env_name + "_API_KEY"], env_name + "_BASE_URL": base}
        run = sc.run(1)
        cell.text = check_run(sc, run, 1, fault_before_send=True)
        cell.checks.that(run.rc == 0, "an AI failure is an abstention: the cycle still ends well (exit %d)" % run.rc)
        votes = ((sc.decision(1).get("strategy") or {}).get("ai") or {}).get("votes") or [{}]
        why = votes[0].get("abstain")
        cell.checks.that(why not in (None, "config", "unknown"), "the provider was asked and abstained (%r)" % votes)
        cell.text += " (%s)" % why
        w.actl({}, "_reset")
        sc.extra[env_name + "_BASE_URL"] = "http://127.0.0.1:%d%s" % (w.aport, path)
        cell.text += arrow(sc, 1, check_next(sc, 1, 2))
    finally:
        if hole:
            hole[1].close(), hole[0].close()
        sc.close()


# ---- the store table -----------------------------------------------------------------------------------

def hold_write_lock(db):
    con = sqlite3.connect(db, timeout=10, isolation_level=None, check_same_thread=False)
    con.execute("BEGIN IMMEDIATE")
    return con


def run_read_only(sc):
    """A run on a database file it may not write: modes 444 in a folder of mode 555, and, when we
    are root (whom file modes do not stop), the run as `nobody` from copies it can read."""
    for suffix in ("-wal", "-shm"):
        if os.path.exists(sc.db + suffix):
            os.unlink(sc.db + suffix)
    os.chmod(sc.db, 0o444)
    os.chmod(os.path.dirname(sc.db), 0o555)
    try:
        if os.geteuid() != 0:
            return sc.run(1)
        pub = os.path.join(sc.dir, "public")
        shutil.copytree(os.path.join(ROOT, "strategies", "lib"), os.path.join(pub, "strategies", "lib"))
        shutil.copy(TITAN_BIN, os.path.join(pub, "titan-host"))
        shutil.copy(STRATEGY, os.path.join(pub, "strategy.lua"))
        for d, _, files in os.walk(sc.dir):
            os.chmod(d, 0o777 if d == sc.dir else (0o555 if d == os.path.dirname(sc.db) else 0o755))
            for f in files:
                if os.path.join(d, f) != sc.db:
                    os.chmod(os.path.join(d, f), 0o755)
        os.chmod(sc.w.tmp, 0o711)   # nobody may walk to the cell (mkdtemp made it 0700)
        sc.extra["TITAN_HOME"] = pub
        return sc.run(1, prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"],
                      binary=os.path.join(pub, "titan-host"), strategy=os.path.join(pub, "strategy.lua"))
    finally:
        os.chmod(os.path.dirname(sc.db), 0o755)
        os.chmod(sc.db, 0o644)
        sc.extra.pop("TITAN_HOME", None)


def store_cell(w, cell):
    row, at_record = cell.row, cell.col.startswith("at the record")
    sqlite_row = row.startswith("SQLite")
    if not sqlite_row and not w.pg:
        cell.checks.that(False, "PostgreSQL is needed for the PostgREST rows (tests/fakes/pg.sh)")
        cell.text = "?"
        return
    sc = Scene(w, cell, store="sqlite" if sqlite_row else "supabase")
    held = []
    try:
        sc.extra["TITAN_STORE_TIMEOUT_MS"] = "3000" if sqlite_row else str(STORE_TIMEOUT_MS)
        if row == "SQLite read-only":
            sc.db = os.path.join(sc.dir, "ro", "titan.db")
            os.makedirs(os.path.dirname(sc.db))
        setup = sc.run(0)   # the store exists and has a traded cycle before the fault
        cell.checks.that(setup.rc == 0, "the setup run exits 0")
        pg_fault = {"PostgREST timeout": "slow:%d" % (STALL_S * 1000), "PostgREST 5xx": "503",
                    "PostgREST malformed": "malformed",
                    "PostgREST hung": "hang"}.get(row)

        def inject(pid):
            if row == "SQLite busy":
                con = hold_write_lock(sc.db)
                threading.Timer(0.5, con.close).start()
            elif row == "SQLite locked":
                held.append(hold_write_lock(sc.db))
            elif row == "SQLite disk full" and pid:
                resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, 1))
            elif pg_fault:
                with open(sc.fault_file, "w") as f:
                    f.write(pg_fault)

        if at_record:
            def at_pause(p):
                inject(p.pid)
                p.send_signal(signal.SIGUSR1)
            run = sc.run(1, pause="record", at_pause=at_pause)
        elif row == "SQLite read-only":
            run = run_read_only(sc)
        else:
            inject(None)
            prefix = ["prlimit", "--fsize=1"] if row == "SQLite disk full" else ()
            run = sc.run(1, prefix=prefix)
        for con in held:
            con.close()
        if os.path.exists(sc.fault_file):
            os.unlink(sc.fault_file)
        cell.text = check_run(sc, run, 1, fault_before_send=not at_record and row != "SQLite busy")
        cell.text += arrow(sc, 1, check_next(sc, 1, 2))
    finally:
        for con in held:
            con.close()
        sc.close()


# ---- the stop-point table ------------------------------------------------------------------------------

def stop_cell(w, cell):
    point, (mode, sig) = cell.row, cell.col.split(" ", 1)
    sc = Scene(w, cell, mode=mode, orders=2)
    ck = cell.checks
    try:
        signum = signal.SIGTERM if sig == "SIGTERM" else signal.SIGKILL
        # A: stopped in slot 1, then the same slot again at once (and, for a dead runner, once its
        # lease is over), then the next slot.
        run = sc.run(1, pause=point, at_pause=lambda p: p.send_signal(signum))
        killed = signum == signal.SIGKILL
        if not killed:
            ck.that(run.rc in (0, 1), "SIGTERM ends the run with 0 or 1 (got %d)" % run.rc)
        cell.text = check_run(sc, run, 1, fault_before_send=point in STOP_POINTS[:8], killed=killed)
        row = sc.row(1)
        booked, sends = sc.truth(1)
        again = sc.run(1, minutes=1)
        ck.that(again.rc == 0, "the same slot at once: exit 0 (got %d)" % again.rc)
        if row is not None:
            ck.that(sc.truth(1) == (booked, sends), "the same slot at once sends nothing")
            ck.that(("held by" if row.status == "running" else "already executed") in again.out,
                    "the same slot at once says why it does nothing")
        if row is not None and row.status == "running":
            later = sc.run(1, minutes=12)   # the dead runner's lease (600 s) ended over a minute ago
            ck.that(later.rc == 0, "the same slot after the lease: exit 0 (got %d)" % later.rc)
            taken = sc.row(1)
            ck.that(taken.status in ("done", "failed") and not taken.unknown(),
                    "the same slot after the lease finishes the dead runner's row (%s)" % taken.status)
            b2, s2 = sc.truth(1)
            ck.that(all(v <= 1 for v in b2.values()) and all(v <= 1 for v in s2.values()),
                    "the same slot after the lease never sends an order twice")
            if row.orders:
                ck.that((b2, s2) == (booked, sends), "a taken-over slot is finished from its orders, not run again")
            check_truthful(ck, taken, b2)
        # B: stopped in slot 3, then the next slot directly: the usual case, one run per 15 minutes
        sc.run(3, pause=point, at_pause=lambda p: p.send_signal(signum))
        cell.text += arrow(sc, 3, check_next(sc, 3, 4))
    finally:
        sc.close()


# ---- the tables ----------------------------------------------------------------------------------------

def cells(groups):
    out = []
    if "kraken" in groups:
        for r in KRAKEN_ROWS:
            for c in FAULTS:
                if c == "TLS failure" and r != "AssetPairs":
                    out.append(Cell("kraken", r, c, None))
                else:
                    out.append(Cell("kraken", r, c, kraken_cell))
    if "ai" in groups:
        out += [Cell("ai", r, c, ai_cell) for r in AI_ROWS for c in FAULTS]
    if "store" in groups:
        out += [Cell("store", r, c, None if (c.startswith("at the record") and r == "SQLite read-only") else store_cell)
                for r in STORE_ROWS for c in STORE_COLS]
    if "stops" in groups:
        out += [Cell("stops", r, c, stop_cell) for r in STOP_POINTS for c in STOP_COLS]
    for c in out:
        if c.fn is None:
            c.text = NA.get((c.group, c.col)) or NA.get((c.group, c.row, c.col)) or "n/a"
    return out


def table(title, rows, cols, by):
    lines = ["| %s | %s |" % (title, " | ".join(cols)), "|---|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| %s | %s |" % (r, " | ".join(by[(r, c)] for c in cols)))
    return "\n".join(lines)


def render(all_cells, groups):
    by = {(c.group, c.row, c.col): c.text for c in all_cells}
    parts = []
    specs = [("kraken", "Kraken (LIVE)", KRAKEN_ROWS, FAULTS), ("ai", "AI provider (LIVE)", AI_ROWS, FAULTS),
             ("store", "store (LIVE)", STORE_ROWS, STORE_COLS), ("stops", "stopped at", STOP_POINTS, STOP_COLS)]
    for g, title, rows, cols in specs:
        if g in groups:
            parts.append(table(title, rows, cols, {(r, c): by[(g, r, c)] for r in rows for c in cols}))
    return "\n\n".join(parts) + "\n"


def start_pg(tmp):
    py = psycopg2_python()
    if not py:
        return None
    try:
        out = subprocess.run([os.path.join(ROOT, "tests/fakes/pg.sh"), "start"], capture_output=True, text=True,
                             timeout=120)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return None
    env = dict(kv.split("=", 1) for kv in out.stdout.split())
    psql = [os.path.join(env["PGBIN"], "psql"), "-h", env["PGHOST"], "-p", env["PGPORT"], "-U", "postgres", "-d",
            "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-f", os.path.join(ROOT, "examples/supabase/schema.sql")]
    if subprocess.run(psql, capture_output=True).returncode != 0:
        subprocess.run([os.path.join(ROOT, "tests/fakes/pg.sh"), "stop", env["PGDIR"]], capture_output=True)
        return None
    return {"py": py, "host": env["PGHOST"], "port": env["PGPORT"], "dir": env["PGDIR"]}


def readme_section(text):
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        return None, None, None
    return text[: i + len(BEGIN)], text[i + len(BEGIN): j], text[j:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("FAULT_JOBS", "4")))
    ap.add_argument("--only", default="kraken,ai,store,stops")
    ap.add_argument("--check")
    ap.add_argument("--write")
    ap.add_argument("--keep", action="store_true", help="keep the runs' folders (printed) to look at")
    args = ap.parse_args()
    groups = [g for g in args.only.split(",") if g]
    todo = cells(groups)
    tmp = tempfile.mkdtemp(prefix="titan-faults.")
    pg = start_pg(tmp) if "store" in groups else None
    local = threading.local()
    workers, lock = [], threading.Lock()

    def work(cell):
        if not hasattr(local, "w"):
            local.w = Worker(tmp, pg)
            with lock:
                workers.append(local.w)
        try:
            cell.fn(local.w, cell)
        except Exception as e:   # a cell that cannot run is a failure, with the reason
            cell.checks.that(False, "the cell ran (%r)" % e)
            cell.text = cell.text or "?"

    t0 = time.time()
    try:
        # the slow cells first, so the pool ends together
        runnable = sorted([c for c in todo if c.fn], key=lambda c: c.group != "store")
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            list(pool.map(work, runnable))
    finally:
        for w in workers:
            w.close()
        if pg:
            subprocess.run([os.path.join(ROOT, "tests/fakes/pg.sh"), "stop", pg["dir"]], capture_output=True)
    passed = sum(c.checks.passed for c in todo)
    failures = [f for c in todo for f in c.checks.failures]
    tables = render(todo, groups)
    if args.write or args.check:
        path = args.write or args.check
        text = open(path).read()
        head, old, tail = readme_section(text)
        if head is None:
            failures.append("%s has no fault-matrix section (%s ... %s)" % (path, BEGIN, END))
        elif args.write:
            with open(path, "w") as f:
                f.write(head + "\n" + tables + tail)
        else:
            passed += 1
            if old.strip() != tables.strip():
                failures.append("the README's fault matrix differs from what the code does now "
                                "(regenerate: tests/faults/fault_matrix.py --write README.md):\n" +
                                "\n".join(l for l in __import__("difflib").unified_diff(
                                    old.strip().splitlines(), tables.strip().splitlines(), "README.md", "generated",
                                    lineterm="")))
                passed -= 1
    else:
        sys.stdout.write(tables)
    if args.keep:
        sys.stderr.write("fault_matrix: runs kept in %s\n" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        sys.stderr.write("FAIL " + f + "\n")
    sys.stderr.write("fault_matrix: %d cells in %.0f s\n" % (len(todo), time.time() - t0))
    sys.stderr.write("fault_matrix: %d passed, %d failed\n" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
