#!/usr/bin/env python3
"""Renders one local HTML page in headless Chromium and checks it, for tests/e2e/test_browser.sh.

Drives the browser over the DevTools protocol through --remote-debugging-pipe (JSON messages
separated by NUL bytes on file descriptors 3 and 4): no npm package, no WebSocket, python3 stdlib.
Chromium runs with a fresh --user-data-dir and every background service off. Checks:
  - no console error or warning, no uncaught exception, no error in the browser log;
  - no network request at all besides the page's own file:// URL;
  - a screenshot of exactly WIDTHxHEIGHT pixels that is not blank (many colours, ink on the page);
  - each --expect text present in the rendered DOM (document.body.innerText), and each --selector
    present (document.querySelectorAll(sel).length > 0).
Prints one line per check ("OK ..." / "FAIL ...") and exits 0 only when all pass.
usage: browser_check.py --chromium PATH --page FILE [--width 1200 --height 900] [--shot OUT.png]
                        [--expect TEXT]... [--selector CSS]...
"""
import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

TIMEOUT_S = 60


class Browser:
    def __init__(self, chromium, width, height):
        self.profile = tempfile.mkdtemp(prefix="titan-chromium-")
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()

        def wire_pipes():  # the browser reads commands on fd 3 and writes answers on fd 4
            a = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(res_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
                "--disable-dev-shm-usage",   # a chroot or container may have no /dev/shm
                "--user-data-dir=" + self.profile, "--remote-debugging-pipe", "--window-size=%d,%d" % (width, height),
                "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=wire_pipes, close_fds=False)
        os.close(cmd_r)
        os.close(res_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.deadline = time.monotonic() + TIMEOUT_S

    def _read_message(self):
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer within %d s" % TIMEOUT_S)
            ready, _, _ = select.select([self.res_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.res_r, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe (did it start?)")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read_message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method):
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read_message()
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            os.write(self.cmd_w, json.dumps({"id": 999999, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def png_pixels(data):
    """Width, height and RGBA rows of an 8-bit RGB(A) PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), "unexpected PNG format"
            bpp = 4 if color == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", required=True)
    ap.add_argument("--page", required=True)
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--shot")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--selector", action="append", default=[])
    args = ap.parse_args()
    url = "file://" + os.path.abspath(args.page)
    results = []
    check = lambda ok, what: results.append((bool(ok), what))
    b = Browser(args.chromium, args.width, args.height)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.send(domain + ".enable", session=s)
        b.send("Emulation.setDeviceMetricsOverride", {"width": args.width, "height": args.height,
                                                      "deviceScaleFactor": 1, "mobile": False}, session=s)
        b.send("Page.navigate", {"url": url}, session=s)
        b.wait_event("Page.loadEventFired")
        text = b.send("Runtime.evaluate", {"expression": "document.body.innerText", "returnByValue": True},
                      session=s)["result"].get("value", "")
        for want in args.expect:
            check(want in text, "the page shows %r" % want)
        for sel in args.selector:
            n = b.send("Runtime.evaluate", {"expression": "document.querySelectorAll(%s).length" % json.dumps(sel),
                                            "returnByValue": True}, session=s)["result"].get("value", 0)
            check(n > 0, "the page has %s (%d)" % (sel, n))
        shot = base64.b64decode(b.send("Page.captureScreenshot", {"format": "png"}, session=s)["data"])
        if args.shot:
            with open(args.shot, "wb") as f:
                f.write(shot)
        # a small copy for the blank check (decoding the full one in pure Python is slow)
        small = base64.b64decode(b.send("Page.captureScreenshot", {"format": "png", "clip": {
            "x": 0, "y": 0, "width": args.width, "height": args.height, "scale": 0.25}}, session=s)["data"])
        time.sleep(0.2)
        b.send("Runtime.evaluate", {"expression": "1"}, session=s)   # flush pending events
        events = b.events
    finally:
        b.close()
    w, h = struct.unpack(">II", shot[16:24])
    check((w, h) == (args.width, args.height), "a screenshot of %dx%d (got %dx%d)" % (args.width, args.height, w, h))
    _, _, bpp, rows = png_pixels(small)
    colours, background = {}, None
    for row in rows:
        for x in range(0, len(row), bpp):
            px = row[x:x + 3]
            colours[px] = colours.get(px, 0) + 1
    background, bg_count = max(colours.items(), key=lambda kv: kv[1])
    total = sum(colours.values())
    check(len(colours) >= 16, "the screenshot is not blank (%d colours)" % len(colours))
    check(total - bg_count > total * 0.02, "ink on the page (%.1f%% not background)" % (100.0 * (total - bg_count) / total))
    problems = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            problems.append("console %s: %s" % (p["type"], [a.get("value") for a in p.get("args", [])]))
        elif m == "Runtime.exceptionThrown":
            problems.append("exception: %s" % p.get("exceptionDetails", {}).get("text"))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            problems.append("log %s: %s" % (p["entry"]["level"], p["entry"].get("text")))
    check(not problems, "no console error or warning%s" % (": %s" % problems if problems else ""))
    requests = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    others = [u for u in requests if u != url]
    check(url in requests, "the page itself was loaded (%d request(s) seen)" % len(requests))
    check(not others, "no network request besides the page%s" % (": %s" % others[:5] if others else ""))
    for ok, what in results:
        print("%s %s" % ("OK" if ok else "FAIL", what))
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
