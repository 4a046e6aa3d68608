#!/usr/bin/env python3
"""Loopback fakes of the notification channels, one per process, speaking each provider's wire
format (shared/protocols.md, "Notification channels") and as strict as the real one about the
request it takes:

  --channel telegram  POST /bot<TOKEN>/sendMessage, JSON {chat_id, text[, disable_web_page_preview,
                      parse_mode, ...]}; the token must be FAKE_TELEGRAM_TOKEN (else 401, or 404 for a
                      path that is not a bot method), chat_id FAKE_TELEGRAM_CHAT (else 400 "chat not
                      found"), text 1..4096 characters. Answers {"ok":true,"result":{message}}, errors
                      {"ok":false,"error_code":N,"description":...[,"parameters":{"retry_after":S}]}.
  --channel discord   POST <FAKE_DISCORD_PATH> (/api/webhooks/<id>/<token>; else 404 Unknown Webhook),
                      JSON {content (1..2000 characters) and/or embeds, ...}; answers 204 (200 with the
                      message when ?wait=true); errors {"message","code"}; 429 {"message","retry_after"
                      (float seconds),"global"} with a Retry-After header.
  --channel slack     POST <FAKE_SLACK_PATH> (/services/T.../B.../...; else 404 no_service), JSON
                      {text, ...}; answers 200 "ok" (text/html), errors in plain text: 400
                      invalid_payload / no_text, 403 action_prohibited, 410 channel_is_archived.
  --channel webhook   POST <FAKE_WEBHOOK_PATH>, JSON; when FAKE_WEBHOOK_SECRET is set the header
                      X-Hub-Signature-256 must be sha256=<hex HMAC-SHA256 of the raw body> (compared in
                      constant time; else 401). Answers 200 {"received":true}.

Every request must be POST with Content-Type: application/json (else 400/405 as the provider would).
Secrets come from the environment, never the command line, and are never printed.

Control (tests only, on the same port):
  POST /__control {"mode": "ok"|"<status>"|"429"|"hang"|"garbage"|"close", "times": N,
                   "retry_after": S}   (the mode applies to the next N requests, then "ok";
                                        <status> answers that status in the channel's error format)
  GET  /__requests   {"requests": [{method, path, query, headers (lower-case), body (raw text), json,
                      problems, signature_ok, answered}]}
  POST /__reset
Usage: channels_fake.py --channel NAME --port PORT   (python3 stdlib only)
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
STATE = {"requests": [], "mode": "ok", "times": None, "retry_after": 1, "message_id": 0}
CHANNEL = None


def next_mode():
    with LOCK:
        mode = STATE["mode"]
        if STATE["times"] is not None:
            STATE["times"] -= 1
            if STATE["times"] <= 0:
                STATE["mode"], STATE["times"] = "ok", None
        return mode, STATE["retry_after"]


def telegram_error(code, description, retry_after=None):
    body = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return code, "application/json", json.dumps(body)


def check_telegram(path, doc, problems):
    token = os.environ.get("FAKE_TELEGRAM_TOKEN", "")
    if not path.startswith("/bot") or not path.endswith("/sendMessage"):
        return telegram_error(404, "Not Found")
    if not hmac.compare_digest(path[len("/bot"):-len("/sendMessage")], token):
        return telegram_error(401, "Unauthorized")
    if not isinstance(doc, dict):
        problems.append("body is not a JSON object")
        return telegram_error(400, "Bad Request: message text is empty")
    chat = doc.get("chat_id")
    if isinstance(chat, bool) or not isinstance(chat, (int, str)):
        problems.append("chat_id must be an integer or a string")
        return telegram_error(400, "Bad Request: chat_id is empty")
    if str(chat) != os.environ.get("FAKE_TELEGRAM_CHAT", ""):
        return telegram_error(400, "Bad Request: chat not found")
    text = doc.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("text must be a non-empty string")
        return telegram_error(400, "Bad Request: message text is empty")
    if len(text.encode("utf-16-le")) // 2 > 4096:
        problems.append("text longer than 4096 characters")
        return telegram_error(400, "Bad Request: message is too long")
    if "parse_mode" in doc and doc["parse_mode"] not in ("HTML", "MarkdownV2", "Markdown"):
        problems.append("unknown parse_mode")
        return telegram_error(400, "Bad Request: unsupported parse_mode")
    if "disable_web_page_preview" in doc and not isinstance(doc["disable_web_page_preview"], bool):
        problems.append("disable_web_page_preview must be a boolean")
    with LOCK:
        STATE["message_id"] += 1
        mid = STATE["message_id"]
    result = {"message_id": mid, "date": int(time.time()), "chat": {"id": chat, "type": "supergroup"}, "text": text}
    return 200, "application/json", json.dumps({"ok": True, "result": result})


def discord_error(code, message, error_code):
    return code, "application/json", json.dumps({"message": message, "code": error_code})


def check_discord(path, query, doc, problems):
    if path != os.environ.get("FAKE_DISCORD_PATH", ""):
        return discord_error(404, "Unknown Webhook", 10015)
    if not isinstance(doc, dict):
        problems.append("body is not a JSON object")
        return discord_error(400, "Cannot send an empty message", 50006)
    content = doc.get("content")
    if content is not None and not isinstance(content, str):
        problems.append("content must be a string")
        return discord_error(400, "Invalid Form Body", 50035)
    if not (content and content.strip()) and not doc.get("embeds"):
        problems.append("neither content nor embeds")
        return discord_error(400, "Cannot send an empty message", 50006)
    if content and len(content) > 2000:
        problems.append("content longer than 2000 characters")
        return discord_error(400, "Invalid Form Body", 50035)
    mentions = doc.get("allowed_mentions")
    if mentions is not None and (not isinstance(mentions, dict) or not isinstance(mentions.get("parse", []), list)):
        problems.append("allowed_mentions must be {parse: [...]}")
        return discord_error(400, "Invalid Form Body", 50035)
    if query.get("wait") == ["true"]:
        return 200, "application/json", json.dumps({"id": "1", "content": content or ""})
    return 204, None, ""


def check_slack(path, doc, problems):
    if path != os.environ.get("FAKE_SLACK_PATH", ""):
        return 404, "text/html", "no_service"
    if not isinstance(doc, dict):
        problems.append("body is not a JSON object")
        return 400, "text/html", "invalid_payload"
    text = doc.get("text")
    if text is None and not doc.get("blocks"):
        problems.append("no text")
        return 400, "text/html", "no_text"
    if text is not None and not isinstance(text, str):
        problems.append("text must be a string")
        return 400, "text/html", "invalid_payload"
    return 200, "text/html", "ok"


def check_webhook(path, raw, headers, doc, problems, record):
    if path != os.environ.get("FAKE_WEBHOOK_PATH", ""):
        return 404, "application/json", json.dumps({"error": "not found"})
    secret = os.environ.get("FAKE_WEBHOOK_SECRET", "")
    if secret:
        want = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        got = headers.get("x-hub-signature-256", "")
        record["signature_ok"] = hmac.compare_digest(want, got)
        if not record["signature_ok"]:
            problems.append("bad or missing X-Hub-Signature-256")
            return 401, "application/json", json.dumps({"error": "bad signature"})
    if not isinstance(doc, dict):
        problems.append("body is not a JSON object")
        return 400, "application/json", json.dumps({"error": "not JSON"})
    return 200, "application/json", json.dumps({"received": True})


def scripted_error(status, retry_after):
    """A forced status in the channel's own error format."""
    if CHANNEL == "telegram":
        return telegram_error(status, "Too Many Requests: retry after %s" % retry_after if status == 429
                              else "Internal Server Error", retry_after if status == 429 else None)
    if CHANNEL == "discord":
        if status == 429:
            return 429, "application/json", json.dumps({"message": "You are being rate limited.",
                                                        "retry_after": retry_after, "global": False})
        return discord_error(status, "Internal Server Error" if status >= 500 else "Bad Request", 0)
    if CHANNEL == "slack":
        return status, "text/html", {400: "invalid_payload", 403: "action_prohibited", 404: "no_service",
                                     410: "channel_is_archived", 429: "rate_limited"}.get(status, "internal_error")
    return status, "application/json", json.dumps({"error": "status %d" % status})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, ctype, body, extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)

    def do_GET(self):
        if self.path == "/__requests":
            with LOCK:
                body = json.dumps({"requests": STATE["requests"]})
            return self.answer(200, "application/json", body)
        if CHANNEL == "telegram":
            return self.answer(*telegram_error(404, "Not Found"))
        return self.answer(405, "text/plain", "method not allowed")

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        if url.path == "/__control":
            doc = json.loads(raw or b"{}")
            with LOCK:
                STATE["mode"] = str(doc.get("mode", "ok"))
                STATE["times"] = doc.get("times")
                STATE["retry_after"] = doc.get("retry_after", 1)
            return self.answer(200, "application/json", "{}")
        if url.path == "/__reset":
            with LOCK:
                STATE["requests"] = []
                STATE["mode"], STATE["times"] = "ok", None
            return self.answer(200, "application/json", "{}")
        headers = {k.lower(): v for k, v in self.headers.items()}
        problems = []
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            doc = None
        record = {"method": "POST", "path": url.path, "query": url.query, "headers": headers,
                  "body": raw.decode("utf-8", "replace"), "json": doc, "problems": problems, "signature_ok": None}
        with LOCK:
            STATE["requests"].append(record)
        mode, retry_after = next_mode()
        if mode == "hang":
            time.sleep(30)
            return
        if mode == "close":
            self.close_connection = True
            return
        if mode == "garbage":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.2 not HTTP at all\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
            return
        if not headers.get("content-type", "").startswith("application/json"):
            problems.append("Content-Type must be application/json")
            if CHANNEL == "telegram":
                return self.answer(*telegram_error(400, "Bad Request: message text is empty"))
            return self.answer(400, "text/plain", "invalid_payload")
        if mode != "ok":
            status = int(mode)
            extra = [("Retry-After", str(retry_after))] if status == 429 else []
            code, ctype, body = scripted_error(status, retry_after)
            record["answered"] = code
            return self.answer(code, ctype, body, extra)
        if CHANNEL == "telegram":
            code, ctype, body = check_telegram(url.path, doc, problems)
        elif CHANNEL == "discord":
            code, ctype, body = check_discord(url.path, parse_qs(url.query), doc, problems)
        elif CHANNEL == "slack":
            code, ctype, body = check_slack(url.path, doc, problems)
        else:
            code, ctype, body = check_webhook(url.path, raw, headers, doc, problems, record)
        record["answered"] = code
        self.answer(code, ctype, body)

    def do_PUT(self):
        self.answer(405, "text/plain", "method not allowed")

    do_PATCH = do_DELETE = do_PUT


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global CHANNEL
    ap = argparse.ArgumentParser()
    ap.add_argument("--channel", required=True, choices=["telegram", "discord", "slack", "webhook"])
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    CHANNEL = args.channel
    server = Server(("127.0.0.1", args.port), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
