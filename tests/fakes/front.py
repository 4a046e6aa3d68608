#!/usr/bin/env python3
"""A loopback HTTP front for the fault tests (python3 stdlib only): it passes requests to a fake
(the Kraken fake) until a chosen call has arrived, then makes the address fail the way a network
does, so one call of a cycle can meet a connection refused or a connect timeout while the calls
before it went through.

usage: front.py --port PORT --to PORT --after METHOD[:validate|:real] --mode refuse|blackhole
  --after none      the mode from the start
  --after AddOrder:validate   after AddOrder with validate=true (":real" without it; no suffix: any)
  refuse      the port stops listening: the next connection is refused (ECONNREFUSED)
  blackhole   the port listens with a full accept queue: the next connection's SYN is dropped and
              the client's connect times out (nothing is ever sent)

Every answer is passed on with `Connection: close`, so each request comes on a new connection and
the switch, made before the answer to the chosen call leaves, applies to the very next call. Only
the request line, the headers that matter and the body are passed on: use it for faults of the
address, not for faults of an answer (the fake's own fault switches do those).
"""
import argparse
import http.client
import socket
import sys
import threading
import time
import urllib.parse


class Front:
    def __init__(self, port, to, after, mode):
        self.port, self.to, self.mode = port, to, mode
        self.after_method, _, self.after_kind = (after or "").partition(":")
        self.switched = threading.Event()
        self.switch_wanted = threading.Event()
        self.listener = None
        self.keep = []   # sockets that must stay open (the blackhole's listener and its filler)

    def listen(self, backlog):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(backlog)
        return s

    def go_dark(self):
        """Called by the accept loop: stop serving, as the mode says."""
        if self.listener:
            self.listener.close()
            self.listener = None
        if self.mode == "blackhole":
            hole = self.listen(0)
            filler = socket.create_connection(("127.0.0.1", self.port))   # the one queued connection
            self.keep += [hole, filler]
        self.switched.set()

    def matches(self, path, body):
        if self.after_method in ("", "none"):
            return False
        method = path.rsplit("/", 1)[-1].split("?", 1)[0]
        if method != self.after_method:
            return False
        validate = "validate=true" in body.decode("latin-1")
        return not self.after_kind or (self.after_kind == "validate") == validate

    def serve(self, conn):
        try:
            f = conn.makefile("rb")
            line = f.readline().decode("latin-1").strip()
            if not line:
                return
            verb, path, _ = line.split(" ", 2)
            headers = {}
            while True:
                h = f.readline().decode("latin-1")
                if h in ("\r\n", "\n", ""):
                    break
                k, _, v = h.partition(":")
                headers[k.strip()] = v.strip()
            n = int(headers.get("Content-Length") or headers.get("content-length") or 0)
            body = f.read(n) if n else b""
            up = http.client.HTTPConnection("127.0.0.1", self.to, timeout=30)
            passed = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection", "content-length")}
            up.request(verb, path, body=body or None, headers=passed)
            res = up.getresponse()
            data = res.read()
            if self.matches(path, body):
                self.switch_wanted.set()
                self.switched.wait(5)
            out = ["HTTP/1.1 %d %s" % (res.status, res.reason)]
            out += ["%s: %s" % (k, v) for k, v in res.getheaders()
                    if k.lower() not in ("connection", "content-length", "transfer-encoding")]
            out += ["Content-Length: %d" % len(data), "Connection: close", "", ""]
            conn.sendall("\r\n".join(out).encode("latin-1") + data)
        except (OSError, ValueError, http.client.HTTPException) as e:
            sys.stderr.write("front: %r\n" % e)
        finally:
            conn.close()

    def run(self):
        if self.after_method in ("", "none"):
            self.go_dark() if self.mode == "blackhole" else self.switched.set()
        else:
            self.listener = self.listen(64)
            self.listener.settimeout(0.02)
        print("ready", flush=True)   # the caller may connect now
        while True:
            if self.switch_wanted.is_set() and not self.switched.is_set():
                self.go_dark()
            if not self.listener:
                time.sleep(0.05)
                continue
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            conn.settimeout(None)
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description="loopback HTTP front that fails on cue")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--to", type=int, required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--mode", choices=("refuse", "blackhole"), required=True)
    args = ap.parse_args()
    try:
        Front(args.port, args.to, args.after, args.mode).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
