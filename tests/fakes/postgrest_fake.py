#!/usr/bin/env python3
"""A small PostgREST-compatible HTTP server for the store tests, in front of a REAL PostgreSQL.

It speaks the subset titan uses (protocols.md, "Supabase REST"): /rest/v1/<table> with
insert (POST, Prefer return=representation|minimal, resolution=merge-duplicates|ignore-duplicates),
filtered select (GET and HEAD: eq neq gt gte lt lte like ilike in is, select with ::text casts,
order, limit, offset; like/ilike take `*` for `%`), filtered PATCH/DELETE (return=representation), and
POST /rest/v1/rpc/<fn> with named args. Each request runs in one transaction, so a conflict is
the real unique constraint's 23505 (409). As PostgREST 12: a read answers Content-Range
(`0-9/*`, or `0-9/42` with Prefer: count=exact, then 206 when that is part of the rows);
errors are {code, message, details, hint} with PostgREST's status for the SQLSTATE (anything
it does not list is 400: only those it lists as 5xx are retryable); an unknown table is 404
PGRST205, an unknown column in a filter, select or order is 400 42703, in a body 400 PGRST204.
A missing or wrong apikey is answered 401 like Supabase's gateway. Every request's header shape
(never the key) goes to --log as JSON lines.

Faults for tests: when --fault-file exists, its content decides the answer to every request:
  "503" (or any 4xx/5xx number) -> that status with a PostgREST error body
  "malformed"                   -> 200 with a body that is not JSON
  "badrows"                     -> 200 with a JSON array whose row lacks every expected column
  "html500"                     -> 500 with an HTML body
  "hang"                        -> no answer for 30 s (the request is not carried out)
  "slow:MS"                     -> the request is carried out, then the answer waits MS ms (a
                                   client that gave up meanwhile does not know its write happened)
Keys come from the environment (FAKE_SUPABASE_KEYS, comma-separated), never the command line.
Uses python3's stdlib plus psycopg2 (python3-psycopg2).
"""
import argparse
import difflib
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
from psycopg2 import sql

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
OPS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "like": "LIKE", "ilike": "ILIKE"}
RESERVED = {"select", "order", "limit", "offset", "on_conflict", "columns"}


class ApiError(Exception):
    def __init__(self, status, code, message, details=None, hint=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.hint = status, code, message, details, hint

    def body(self):
        return {"code": self.code, "message": self.message, "details": self.details, "hint": self.hint}


def pg_status(code, message=""):
    """PostgREST's mapping of SQLSTATE to HTTP status (PostgREST.Error.mapSQLtoHTTP): a few
    classes are 5xx or 4xx by name, everything it does not list is 400."""
    if code is None:
        return 500
    exact = {"23503": 409, "23505": 409, "25006": 405, "53400": 500, "57P01": 503, "P0001": 400,
             "42883": 404, "42P01": 404, "42P17": 500, "42501": 403}
    if code in exact:
        return exact[code]
    if code == "21000":  # pg-safeupdate's "requires a WHERE clause" is the client's fault
        return 400 if message.endswith("requires a WHERE clause") else 500
    by_class = {"08": 503, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500, "38": 500,
                "39": 500, "3B": 500, "40": 500, "53": 503, "54": 500, "55": 500, "57": 500, "58": 500,
                "F0": 500, "HV": 500, "P0": 500, "XX": 500}
    return by_class.get(code[:2], 400)


class Backend:
    def __init__(self, args):
        self.args = args
        self.meta = {}
        self.lock = threading.Lock()

    def connect(self):
        try:
            conn = psycopg2.connect(host=self.args.pg_host, port=self.args.pg_port, user=self.args.pg_user,
                                    dbname=self.args.pg_db, connect_timeout=5)
        except psycopg2.OperationalError as e:
            raise ApiError(503, "PGRST000", "Database connection error. Retrying the connection.", str(e).strip())
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        return conn

    def table_meta(self, cur, table):
        with self.lock:
            if table in self.meta:
                return self.meta[table]
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = %s ORDER BY ordinal_position", (table,))
        cols = [r[0] for r in cur.fetchall()]
        if not cols:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            near = difflib.get_close_matches(table, [r[0] for r in cur.fetchall()], 1, 0.75)
            raise ApiError(404, "PGRST205", "Could not find the table 'public.%s' in the schema cache" % table,
                           None, "Perhaps you meant the table 'public.%s'" % near[0] if near else None)
        cur.execute("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                    ("public." + table,))
        pk = [r[0] for r in cur.fetchall()]
        with self.lock:
            self.meta[table] = Table(table, cols, pk)
        return self.meta[table]


def parse_prefer(header):
    prefs = {}
    for item in (header or "").split(","):
        item = item.strip()
        if "=" in item:
            k, v = item.split("=", 1)
            prefs[k.strip()] = v.strip()
    return prefs


class Table:
    """A table's name, columns and primary key, from the schema cache."""

    def __init__(self, name, cols, pk):
        self.name, self.cols, self.pk = name, cols, pk

    def column(self, name):
        """A column named in the query string (filter, select, order, on_conflict): PostgreSQL's
        own 42703, as PostgREST passes it on."""
        if not IDENT.match(name):
            raise ApiError(400, "PGRST100", '"failed to parse column (%s)" (line 1, column 1)' % name)
        if name not in self.cols:
            raise ApiError(400, "42703", "column %s.%s does not exist" % (self.name, name))
        return sql.Identifier(name)

    def body_column(self, name):
        """A key of a JSON body: PostgREST checks it against its schema cache (PGRST204)."""
        if not IDENT.match(name) or name not in self.cols:
            raise ApiError(400, "PGRST204", "Could not find the '%s' column of '%s' in the schema cache"
                           % (name, self.name))
        return sql.Identifier(name)


def build_where(table, params, alias):
    """Filters from the query string -> (SQL, args)."""
    parts, args = [], []
    for name, expr in params:
        if name in RESERVED:
            continue
        col = sql.SQL("{}.{}").format(sql.Identifier(alias), table.column(name))
        if "." not in expr:
            raise ApiError(400, "PGRST100", '"failed to parse filter (%s)" (line 1, column 1)' % expr)
        op, value = expr.split(".", 1)
        if op in ("like", "ilike"):  # PostgREST's wildcard for URLs: * stands for %
            value = value.replace("*", "%")
        if op in OPS:
            parts.append(sql.SQL("{} " + OPS[op] + " %s").format(col))
            args.append(value)
        elif op == "in":
            if not (value.startswith("(") and value.endswith(")")):
                raise ApiError(400, "PGRST100", '"failed to parse filter (in.%s)"' % value)
            items = [v.strip().strip('"') for v in value[1:-1].split(",") if v.strip()]
            if not items:
                parts.append(sql.SQL("false"))
            else:
                parts.append(sql.SQL("{} IN ({})").format(col, sql.SQL(", ").join(sql.Placeholder() * len(items))))
                args.extend(items)
        elif op == "is":
            word = {"null": "NULL", "true": "TRUE", "false": "FALSE"}.get(value.lower())
            if not word:
                raise ApiError(400, "PGRST100", '"failed to parse filter (is.%s)"' % value)
            parts.append(sql.SQL("{} IS " + word).format(col))
        else:
            raise ApiError(400, "PGRST100", '"failed to parse filter (%s)" unknown operator' % op)
    if not parts:
        return sql.SQL(""), args
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts), args


def build_order(table, value, alias):
    if not value:
        return sql.SQL("")
    items = []
    for item in value.split(","):
        bits = item.strip().split(".")
        col = sql.SQL("{}.{}").format(sql.Identifier(alias), table.column(bits[0]))
        words = []
        for b in bits[1:]:
            w = {"asc": "ASC", "desc": "DESC", "nullsfirst": "NULLS FIRST", "nullslast": "NULLS LAST"}.get(b)
            if not w:
                raise ApiError(400, "PGRST100", '"failed to parse order (%s)"' % item)
            words.append(w)
        items.append(col + sql.SQL(" " + " ".join(words)) if words else col)
    return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(items)


CASTS = {"text"}  # PostgREST casts any type; titan asks only for json/jsonb columns as text


def build_select(table, value, alias):
    """`select=a,b::text` -> the columns, a cast one keeping its name as the key (as PostgREST)."""
    if not value or value == "*":
        return sql.SQL("{}.*").format(sql.Identifier(alias))
    items = []
    for c in value.split(","):
        name, _, cast = c.strip().partition("::")
        col = sql.SQL("{}.{}").format(sql.Identifier(alias), table.column(name))
        if cast:
            if cast not in CASTS:
                raise ApiError(400, "PGRST100", '"failed to parse select parameter (%s)"' % c)
            col = sql.SQL("{}::" + cast + " AS {}").format(col, sql.Identifier(name))
        items.append(col)
    return sql.SQL(", ").join(items)


def changed_rows(table, q, stmt):
    """Wraps a data-changing statement: its changed rows as PostgREST returns them (select applies)
    and how many there were."""
    return sql.SQL("WITH _w AS (") + stmt + sql.SQL(") SELECT coalesce(json_agg(_r), '[]'::json)::text, count(*) FROM "
                                                    "(SELECT {} FROM _w) _r").format(build_select(table, q.get("select"), "_w"))


def as_int(value, what):
    try:
        n = int(value)
        if n < 0:
            raise ValueError
        return n
    except ValueError:
        raise ApiError(400, "PGRST100", '"failed to parse %s (%s)"' % (what, value))


def content_range(offset, n, total):
    """PostgREST's Content-Range: the rows sent (or *) over the total (or * when not counted)."""
    shown = "%d-%d" % (offset, offset + n - 1) if n else "*"
    return "%s/%s" % (shown, "*" if total is None else total)


def handle_table(backend, cur, method, table_name, params, prefs, body):
    """One table request -> (status, body text or None, extra headers)."""
    table = backend.table_meta(cur, table_name)
    q = dict(params)
    rel = sql.SQL("public.{}").format(sql.Identifier(table_name))
    representation = prefs.get("return") == "representation"
    counted = prefs.get("count") == "exact"
    if method in ("GET", "HEAD"):
        where, args = build_where(table, params, "_t")
        stmt = sql.SQL("SELECT {} FROM {} AS _t").format(build_select(table, q.get("select"), "_t"), rel) + where
        stmt += build_order(table, q.get("order"), "_t")
        offset = as_int(q["offset"], "offset") if "offset" in q else 0
        if "limit" in q:
            stmt += sql.SQL(" LIMIT %s" % as_int(q["limit"], "limit"))
        if offset:
            stmt += sql.SQL(" OFFSET %s" % offset)
        cur.execute(sql.SQL("SELECT coalesce(json_agg(_r), '[]'::json)::text, count(*) FROM (") + stmt +
                    sql.SQL(") _r"), args)
        out, n = cur.fetchone()
        total = None
        if counted:
            cur.execute(sql.SQL("SELECT count(*) FROM {} AS _t").format(rel) + where, args)
            total = cur.fetchone()[0]
            if offset > total:
                raise ApiError(416, "PGRST103", "Requested range not satisfiable",
                               "An offset of %d was requested, but there are only %d rows." % (offset, total))
        status = 206 if total is not None and n < total else 200
        return status, out, [("Content-Range", content_range(offset, n, total))]
    if method == "POST":
        rows = body if isinstance(body, list) else [body]
        if not rows or not all(isinstance(r, dict) for r in rows):
            raise ApiError(400, "PGRST102", "All object keys must match")
        names = []
        for r in rows:
            for k in r:
                if k not in names:
                    names.append(k)
        idents = [table.body_column(n) for n in names]
        collist = sql.SQL(", ").join(idents)
        stmt = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM json_populate_recordset(NULL::{}, %s::json)").format(
            rel, collist, collist, rel)
        resolution = prefs.get("resolution")
        target = [table.column(c) for c in q["on_conflict"].split(",")] if "on_conflict" in q else \
            [sql.Identifier(c) for c in table.pk]
        if resolution in ("merge-duplicates", "ignore-duplicates"):
            if not target:
                raise ApiError(400, "PGRST103", "on_conflict needs a primary key or unique columns")
            stmt += sql.SQL(" ON CONFLICT ({}) ").format(sql.SQL(", ").join(target))
            updates = [sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(n), sql.Identifier(n))
                       for n in names if sql.Identifier(n) not in target]
            if resolution == "ignore-duplicates" or not updates:
                stmt += sql.SQL("DO NOTHING")
            else:
                stmt += sql.SQL("DO UPDATE SET ") + sql.SQL(", ").join(updates)
        stmt += sql.SQL(" RETURNING *")
        cur.execute(changed_rows(table, q, stmt), [json.dumps(rows)])
        out, n = cur.fetchone()
        return 201, out if representation else None, [("Content-Range", "*/%s" % (n if counted else "*"))]
    if method in ("PATCH", "DELETE"):
        where, args = build_where(table, params, "_t")
        if method == "PATCH":
            if not isinstance(body, dict) or not body:
                raise ApiError(400, "PGRST102", "Empty or invalid json")
            sets = [sql.SQL("{} = _p.{}").format(table.body_column(k), sql.Identifier(k)) for k in body]
            stmt = sql.SQL("UPDATE {} AS _t SET ").format(rel) + sql.SQL(", ").join(sets)
            stmt += sql.SQL(" FROM (SELECT * FROM json_populate_record(NULL::{}, %s::json)) AS _p").format(rel)
            args = [json.dumps(body)] + args
        else:
            stmt = sql.SQL("DELETE FROM {} AS _t").format(rel)
        stmt += where + sql.SQL(" RETURNING _t.*")
        cur.execute(changed_rows(table, q, stmt), args)
        out, n = cur.fetchone()
        headers = [("Content-Range", content_range(0, n, n if counted else None))]
        return (200, out, headers) if representation else (204, None, headers)
    raise ApiError(405, "PGRST117", "Unsupported HTTP method: %s" % method)


def handle_rpc(cur, fn, body):
    if not isinstance(body, dict):
        raise ApiError(400, "PGRST102", "RPC arguments must be a JSON object")
    cur.execute("SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'")
    functions = [r[0] for r in cur.fetchall()]
    if not IDENT.match(fn) or fn not in functions:
        keys = sorted(body)
        near = difflib.get_close_matches(fn, functions, 1, 0.75)
        raise ApiError(404, "PGRST202", "Could not find the function public.%s%s in the schema cache"
                       % (fn, "(%s)" % ", ".join(keys) if keys else " without parameters"),
                       "Searched for the function public.%s%s, but no matches were found in the schema cache."
                       % (fn, " with parameter%s %s or with a single unnamed json/jsonb parameter"
                          % ("s" if len(keys) > 1 else "", ", ".join(keys)) if keys else " without parameters"),
                       "Perhaps you meant to call the function public.%s" % near[0] if near else None)
    named, args = [], []
    for k, v in body.items():
        if not IDENT.match(k):
            raise ApiError(400, "PGRST102", "bad argument name %s" % k)
        named.append(sql.SQL("{} := %s").format(sql.Identifier(k)))
        args.append(json.dumps(v) if isinstance(v, (dict, list)) else v)
    cur.execute(sql.SQL("SELECT to_json(public.{}({}))::text").format(sql.Identifier(fn), sql.SQL(", ").join(named)),
                args)
    return 200, cur.fetchone()[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "postgrest-fake"

    def log_message(self, fmt, *args):  # quiet: the JSON log below is the record
        pass

    def send(self, status, text, ctype="application/json; charset=utf-8", headers=()):
        data = text.encode() if isinstance(text, str) else (text or b"")
        self.send_response(status)
        if data:
            self.send_header("Content-Type", ctype)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def record(self, status):
        cfg = self.server.cfg
        auth = self.headers.get("Authorization")
        keys = cfg["keys"]
        entry = {
            "method": self.command,
            "path": urllib.parse.urlsplit(self.path).path,
            "apikey": self.headers.get("apikey") is not None,
            "apikey_ok": self.headers.get("apikey") in keys,
            "authorization": "none" if auth is None else ("bearer" if auth.startswith("Bearer ") else "other"),
            "authorization_ok": auth is not None and auth.startswith("Bearer ") and auth[7:] in keys,
            "prefer": self.headers.get("Prefer"),
            "status": status,
        }
        if cfg["log"]:
            with cfg["log_lock"]:
                with open(cfg["log"], "a") as f:
                    f.write(json.dumps(entry) + "\n")

    def fault(self):
        path = self.server.cfg["fault_file"]
        if not path or not os.path.exists(path):
            return False
        with open(path) as f:
            what = f.read().strip()
        if what == "hang":
            time.sleep(30)
            return True
        if what == "malformed":
            self.send(200, "<html>this is not json")
        elif what == "badrows":
            self.send(200, json.dumps([{"unexpected": 1}]))
        elif what == "html500":
            self.send(500, "<html><body>Internal Server Error</body></html>", "text/html")
        elif what.isdigit():
            self.send(int(what), json.dumps({"code": "PGRST000", "message": "injected fault %s" % what,
                                              "details": None, "hint": None}))
        else:
            return False
        self.record(int(what) if what.isdigit() else 200)
        return True

    def slow_answer(self):
        """The "slow:MS" fault: called once the request was carried out, before its answer."""
        path = self.server.cfg["fault_file"]
        if not path or not os.path.exists(path):
            return
        with open(path) as f:
            what = f.read().strip()
        if what.startswith("slow:") and what[5:].isdigit():
            time.sleep(int(what[5:]) / 1000.0)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.fault():
            return
        keys = self.server.cfg["keys"]
        apikey = self.headers.get("apikey")
        auth = self.headers.get("Authorization")
        if apikey is None:
            self.record(401)
            return self.send(401, json.dumps({"message": "No API key found in request",
                                              "hint": "No `apikey` request header or url param was found."}))
        if apikey not in keys or (auth is not None and (not auth.startswith("Bearer ") or auth[7:] not in keys)):
            self.record(401)
            return self.send(401, json.dumps({"message": "Invalid API key",
                                              "hint": "Double check your Supabase `anon` or `service_role` API key."}))
        parts = urllib.parse.urlsplit(self.path)
        segs = parts.path.split("/")
        status, out, headers = 500, None, []
        try:
            if len(segs) < 4 or segs[1] != "rest" or segs[2] != "v1" or not segs[3]:
                raise ApiError(404, "PGRST125", "Invalid path specified in request URL")
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "PGRST102", "Empty or invalid json")
            params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
            prefs = parse_prefer(self.headers.get("Prefer"))
            backend = self.server.backend
            conn = backend.connect()
            try:
                with conn:
                    with conn.cursor() as cur:
                        if segs[3] == "rpc" and len(segs) == 5 and self.command == "POST":
                            status, out = handle_rpc(cur, segs[4], body if body is not None else {})
                        elif len(segs) == 4 and IDENT.match(segs[3]):
                            status, out, headers = handle_table(backend, cur, self.command, segs[3], params,
                                                                prefs, body)
                        else:
                            raise ApiError(404, "PGRST125", "Invalid path specified in request URL")
            finally:
                conn.close()
        except ApiError as e:
            status, out = e.status, json.dumps(e.body())
        except psycopg2.Error as e:
            d = e.diag
            status = pg_status(e.pgcode, d.message_primary or "")
            out = json.dumps({"code": e.pgcode, "message": d.message_primary or str(e).strip(),
                              "details": d.message_detail, "hint": d.message_hint})
        self.slow_answer()
        self.record(status)
        self.send(status, out, headers=headers if status < 300 else [])

    do_GET = do_HEAD = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pg-host", required=True, help="unix socket folder or host of the PostgreSQL server")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument("--pg-db", default="postgres")
    p.add_argument("--log", help="JSON lines of request header shapes")
    p.add_argument("--fault-file", help="when this file exists its content injects a fault")
    args = p.parse_args()
    keys = [k for k in os.environ.get("FAKE_SUPABASE_KEYS", "").split(",") if k]
    if not keys:
        sys.exit("postgrest_fake: set FAKE_SUPABASE_KEYS")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.backend = Backend(args)
    server.cfg = {"keys": set(keys), "log": args.log, "log_lock": threading.Lock(), "fault_file": args.fault_file}
    server.serve_forever()


if __name__ == "__main__":
    main()
