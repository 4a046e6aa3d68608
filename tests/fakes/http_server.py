#!/usr/bin/env python3
"""A loopback HTTP(S) server for the titan.http tests (python3 stdlib only).

usage: http_server.py PORT [--tls CERT KEY]

Routes (any method):
  /echo              JSON {method, path, query, headers, body, client_port}; header values that
                     contain one of the six secret values from this process's environment come
                     back with the value replaced by <secret:NAME>, so a test can check that C
                     built the header right without the value ever reaching Lua
  /delay/MS          answers 200 after MS milliseconds
  /status/CODE       answers CODE; ?retry_after=S adds Retry-After: S
  /flaky/KEY?fail=N&status=CODE&retry_after=S
                     the first N requests for KEY answer CODE (default 503), later ones 200
  /hits/KEY          how many requests /flaky/KEY has seen, as text
  /bytes/N           N bytes of 'x' (?chunked=1: without Content-Length)
  /truncated         Content-Length: 1000, then 10 bytes and close
  /echo_raw          like /echo, header values NOT masked (what a hostile server would send back),
                     also as an X-Echo-Auth response header
  /redirect          302 to /echo
  /garbage           a reply that is not HTTP, then close
  /close             closes the connection without answering
  /headers           mixed-case and repeated response headers
"""
import http.server
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

SECRET_NAMES = ["KRAKEN_API_KEY", "KRAKEN_SECRET", "SUPABASE_KEY", "OPENAI_API_KEY", "GROQ_API_KEY",
                "GEMINI_API_KEY"]
SECRETS = {n: os.environ[n] for n in SECRET_NAMES if os.environ.get(n)}

hits = {}
hits_lock = threading.Lock()


def mask_secrets(value):
    for name, secret in SECRETS.items():
        value = value.replace(secret, "<secret:%s>" % name)
    return value


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, fmt, *args):  # quiet: tests read results, not access logs
        pass

    def send_body(self, code, body, headers=(), content_type="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        parts = [p for p in url.path.split("/") if p]
        body = self.read_body()
        route = parts[0] if parts else ""
        if route in ("echo", "echo_raw"):
            # echo_raw sends header values back untouched, as a hostile server would: the client
            # must redact them before Lua sees them
            headers = {}
            for name, value in self.headers.items():
                key = name.lower()
                value = mask_secrets(value) if route == "echo" else value
                headers[key] = headers[key] + ", " + value if key in headers else value
            doc = {"method": self.command, "path": url.path, "query": query, "headers": headers,
                   "body": mask_secrets(body.decode("utf-8", "replace")), "client_port": self.client_address[1]}
            extra = [("X-Echo-Auth", headers.get("authorization", ""))] if route == "echo_raw" else []
            self.send_body(200, json.dumps(doc), extra, content_type="application/json")
        elif route == "delay":
            time.sleep(int(parts[1]) / 1000.0)
            self.send_body(200, "slept " + parts[1])
        elif route == "status":
            code = int(parts[1])
            extra = [("Retry-After", query["retry_after"])] if "retry_after" in query else []
            self.send_body(code, "status %d" % code, extra)
        elif route == "flaky":
            key = parts[1]
            with hits_lock:
                hits[key] = hits.get(key, 0) + 1
                n = hits[key]
            if n <= int(query.get("fail", "1")):
                extra = [("Retry-After", query["retry_after"])] if "retry_after" in query else []
                self.send_body(int(query.get("status", "503")), "fail %d" % n, extra)
            else:
                self.send_body(200, "ok after %d" % n)
        elif route == "hits":
            with hits_lock:
                n = hits.get(parts[1], 0)
            self.send_body(200, str(n))
        elif route == "bytes":
            n = int(parts[1])
            if query.get("chunked") == "1":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 65536
                left = n
                while left > 0:
                    piece = chunk[:min(left, len(chunk))]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    left -= len(piece)
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_body(200, b"x" * n)
        elif route == "truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif route == "redirect":
            self.send_body(302, "moved", [("Location", "/echo")])
        elif route == "garbage":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.2 this is not HTTP\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif route == "close":
            self.close_connection = True
        elif route == "headers":
            self.send_body(200, "h", [("X-Mixed-Case", "Yes"), ("X-Dup", "a"), ("X-Dup", "b")])
        else:
            self.send_body(404, "no route " + url.path)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up early (timeouts, body caps, TLS refusals) are expected


def main():
    port = int(sys.argv[1])
    server = Server(("127.0.0.1", port), Handler)
    if len(sys.argv) >= 5 and sys.argv[2] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
