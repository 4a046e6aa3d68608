#!/usr/bin/env python3
"""Loopback fake of three AI APIs, speaking their wire formats (shared/protocols.md):
  POST /v1/chat/completions                      OpenAI chat completions (strict json_schema)
  POST /openai/v1/chat/completions               Groq, OpenAI-compatible (json_object mode)
  POST /v1beta/models/{model}:generateContent    Gemini (responseMimeType + JSON schema)
Every request's shape is checked (model, schema, headers, key in the right header: compared with
FAKE_OPENAI_KEY / FAKE_GROQ_KEY / FAKE_GEMINI_KEY from the environment, never printed); a bad shape
answers 400 and is recorded. As strict as the real services where it matters (the same answers):
  - a model not in the provider's catalog below: 404 (OpenAI/Groq code model_not_found, Gemini
    NOT_FOUND);
  - OpenAI reasoning models (o-series, gpt-5 family) refuse `temperature` (400 unsupported_value,
    or unsupported_parameter on o1-mini/o3-mini);
  - Groq takes response_format json_schema only on the models that support it, strict only on
    GROQ_STRICT_SCHEMA (400 invalid_request_error otherwise);
  - Gemini thinking models (2.5 pro/flash) report usageMetadata.thoughtsTokenCount (billed as
    output, counted in totalTokenCount) unless thinkingConfig.thinkingBudget is 0 on flash; SAFETY
    candidates come without content and MAX_TOKENS ones with content but no parts.
Control (tests only):
  POST /_control {"provider": "openai"|"groq"|"gemini"|"all", "mode": "...", "delay_ms": N,
                  "action": "buy", "confidence": 0.8, "retry_after": "1", "times": N,
                  "expect_model": "name"}
       (times: the mode applies to the next N requests, then "ok")
       modes besides the provider's answers: "wrong_shape" (HTTP 200, JSON that is not the API's
       answer shape) and "cut_body" (a body shorter than its Content-Length, then the connection
       closes: a truncated answer)
  GET  /v1/models, /openai/v1/models, /v1beta/models   model lists (key checked; 401 / Gemini's 400)
  GET  /_stats   {"requests": {...}, "bad_shape": [...], "bad_key": N, "paths": [...]}
  POST /_reset
Usage: ai_fake.py PORT   (python3 stdlib only)
"""
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROVIDERS = ("openai", "groq", "gemini")
# The models each fake provider knows (dated snapshots such as gpt-4o-mini-2024-07-18 too).
OPENAI_MODELS = {"gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-mini",
                 "gpt-5-nano", "o1", "o1-mini", "o3", "o3-mini", "o4-mini"}
OPENAI_NO_TEMPERATURE = {"o1-mini", "o3-mini"}   # refuse the parameter outright
GROQ_MODELS = {"llama-3.3-70b-versatile", "llama-3.1-8b-instant", "openai/gpt-oss-20b", "openai/gpt-oss-120b",
               "moonshotai/kimi-k2-instruct", "moonshotai/kimi-k2-instruct-0905", "qwen/qwen3-32b",
               "meta-llama/llama-4-scout-17b-16e-instruct", "meta-llama/llama-4-maverick-17b-128e-instruct"}
GROQ_STRICT_SCHEMA = {"openai/gpt-oss-20b", "openai/gpt-oss-120b"}
GROQ_SCHEMA = GROQ_STRICT_SCHEMA | {"moonshotai/kimi-k2-instruct", "moonshotai/kimi-k2-instruct-0905",
                                    "meta-llama/llama-4-scout-17b-16e-instruct",
                                    "meta-llama/llama-4-maverick-17b-128e-instruct"}
GEMINI_MODELS = {"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash",
                 "gemini-2.0-flash-lite"}
GEMINI_THINKING = {"gemini-2.5-pro", "gemini-2.5-flash"}
THOUGHTS_TOKENS = 40  # what a thinking model reports spending before it answers


def base_model(name):
    return re.sub(r"-\d{4}-\d{2}-\d{2}$", "", name) if isinstance(name, str) else name


def is_reasoning(model):
    m = base_model(model)
    return bool(re.match(r"o\d", m or "")) or (m or "").startswith("gpt-5")
LOCK = threading.Lock()
STATE = {}


def reset():
    with LOCK:
        STATE.clear()
        STATE["script"] = {p: {"mode": "ok", "delay_ms": 0, "action": "buy", "confidence": 0.8,
                               "retry_after": "1", "times": None, "expect_model": None} for p in PROVIDERS}
        STATE["requests"] = {p: 0 for p in PROVIDERS}
        STATE["bad_shape"] = []
        STATE["bad_key"] = 0
        STATE["paths"] = []


reset()


def expected_key(provider):
    return os.environ.get("FAKE_%s_KEY" % provider.upper(), "")


def expected_model(provider):
    with LOCK:
        scripted = STATE["script"][provider]["expect_model"]
    return scripted or os.environ.get("FAKE_%s_MODEL" % provider.upper(), "")


def check_schema(schema, where):
    """The decision schema: strict-mode rules (every property required, no extras)."""
    problems = []
    if not isinstance(schema, dict):
        return [where + ": schema missing"]
    if schema.get("type") != "object":
        problems.append(where + ": schema.type must be object")
    if schema.get("additionalProperties") is not False:
        problems.append(where + ": additionalProperties must be false")
    props = schema.get("properties")
    if not isinstance(props, dict) or set(props) != {"action", "confidence", "reason"}:
        problems.append(where + ": properties must be action, confidence, reason")
        return problems
    if sorted(schema.get("required") or []) != sorted(props):
        problems.append(where + ": every property must be required")
    if props["action"].get("enum") != ["buy", "sell", "hold"]:
        problems.append(where + ": action enum must be buy, sell, hold")
    if props["confidence"].get("type") != "number" or props["reason"].get("type") != "string":
        problems.append(where + ": confidence number, reason string")
    return problems


def check_chat(provider, headers, body):
    problems = []
    if not headers.get("content-type", "").startswith("application/json"):
        problems.append("content-type must be application/json")
    want = expected_model(provider)
    if not isinstance(body.get("model"), str) or not body["model"] or (want and body["model"] != want):
        problems.append("model %r, want %r" % (body.get("model"), want or "non-empty"))
    msgs = body.get("messages")
    if (not isinstance(msgs, list) or len(msgs) != 2 or msgs[0].get("role") != "system"
            or msgs[1].get("role") != "user" or not all(isinstance(m.get("content"), str) for m in msgs)):
        problems.append("messages must be [system, user] with string content")
        msgs = []
    if "max_tokens" in body:
        problems.append("max_tokens is deprecated: use max_completion_tokens")
    if not isinstance(body.get("max_completion_tokens"), int) or body["max_completion_tokens"] <= 0:
        problems.append("max_completion_tokens must be a positive integer")
    rf = body.get("response_format") or {}
    if provider == "openai" or rf.get("type") == "json_schema":
        js = rf.get("json_schema") or {}
        if rf.get("type") != "json_schema":
            problems.append("response_format.type must be json_schema")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(js.get("name", ""))):
            problems.append("json_schema.name must match [A-Za-z0-9_-]{1,64}")
        if js.get("strict") is not True:
            problems.append("json_schema.strict must be true")
        problems += check_schema(js.get("schema"), "json_schema")
    else:
        if rf.get("type") != "json_object":
            problems.append("groq: response_format.type must be json_object (or a strict json_schema)")
        if not any("json" in m.get("content", "").lower() for m in msgs):
            problems.append("JSON mode needs the word JSON in the messages")
    if provider == "groq":
        for f in ("logprobs", "logit_bias", "top_logprobs"):
            if f in body:
                problems.append("groq rejects " + f)
        if body.get("n", 1) != 1:
            problems.append("groq rejects n != 1")
        if any("name" in m for m in msgs):
            problems.append("groq rejects messages[].name")
    return problems


def check_gemini(model, query, headers, body):
    problems = []
    if "key=" in query:
        problems.append("the key must not be in the URL")
    want = expected_model("gemini")
    if not model or (want and model != want):
        problems.append("model %r in the path, want %r" % (model, want or "non-empty"))
    if not headers.get("content-type", "").startswith("application/json"):
        problems.append("content-type must be application/json")
    try:
        if not isinstance(body["systemInstruction"]["parts"][0]["text"], str):
            raise TypeError
        c = body["contents"][0]
        if c["role"] != "user" or not isinstance(c["parts"][0]["text"], str):
            raise TypeError
    except (KeyError, IndexError, TypeError):
        problems.append("systemInstruction.parts[0].text and contents[0] {role user, parts[0].text} required")
    gc = body.get("generationConfig") or {}
    if gc.get("responseMimeType") != "application/json":
        problems.append("generationConfig.responseMimeType must be application/json")
    problems += check_schema(gc.get("responseJsonSchema") or gc.get("responseSchema"), "responseJsonSchema")
    if not isinstance(gc.get("maxOutputTokens"), int):
        problems.append("generationConfig.maxOutputTokens must be an integer")
    return problems


def decision_text(s, mode):
    d = {"action": s["action"], "confidence": s["confidence"], "reason": "fake says " + s["action"]}
    if mode == "unknown_action":
        d["action"] = "strong_buy"
    elif mode == "conf_range":
        d["confidence"] = 1.7
    elif mode == "conf_na":
        d["confidence"] = "N/A"
    elif mode == "malformed":
        return '{"action": "%s", "confidence": ' % s["action"]
    elif mode == "fenced":
        d["confidence"] = str(s["confidence"])
        return "Here you go:\n```json\n" + json.dumps(d) + "\n```\nGood luck."
    return json.dumps(d)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: tests read /_stats instead
        pass

    def send(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                return self.send(200, {k: STATE[k] for k in ("requests", "bad_shape", "bad_key", "paths")})
        # The model lists: the cheap authenticated read of the preflight (`check --online`).
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path in ("/v1/models", "/openai/v1/models"):
            provider = "openai" if self.path == "/v1/models" else "groq"
            if not expected_key(provider) or headers.get("authorization") != "Bearer " + expected_key(provider):
                return self.send(401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                                 "param": None, "code": "invalid_api_key"}})
            names = sorted(OPENAI_MODELS if provider == "openai" else GROQ_MODELS)
            return self.send(200, {"object": "list", "data": [{"id": n, "object": "model", "owned_by": provider}
                                                              for n in names]})
        if self.path == "/v1beta/models":
            if not expected_key("gemini") or headers.get("x-goog-api-key") != expected_key("gemini"):
                return self.send(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                                 "status": "INVALID_ARGUMENT"}})
            return self.send(200, {"models": [{"name": "models/" + n, "supportedGenerationMethods": ["generateContent"]}
                                              for n in sorted(GEMINI_MODELS)]})
        self.send(404, {"error": {"message": "not found"}})

    def do_POST(self):
        raw = self.read_body()
        path, _, query = self.path.partition("?")
        if path == "/_reset":
            reset()
            return self.send(200, {"ok": True})
        if path == "/_control":
            ctl = json.loads(raw)
            targets = PROVIDERS if ctl.get("provider") == "all" else (ctl["provider"],)
            with LOCK:
                for p in targets:
                    s = STATE["script"][p]
                    for k in ("mode", "delay_ms", "action", "confidence", "retry_after", "times", "expect_model"):
                        if k in ctl:
                            s[k] = ctl[k]
            return self.send(200, {"ok": True})
        headers = {k.lower(): v for k, v in self.headers.items()}
        m = re.fullmatch(r"/v1beta/models/([^/:]+):generateContent", path)
        if path == "/v1/chat/completions":
            provider, model = "openai", None
        elif path == "/openai/v1/chat/completions":
            provider, model = "groq", None
        elif m:
            provider, model = "gemini", m.group(1)
        else:
            return self.send(404, {"error": {"message": "no such endpoint"}})
        with LOCK:
            STATE["requests"][provider] += 1
            STATE["paths"].append(self.path)
            s = dict(STATE["script"][provider])
            live = STATE["script"][provider]
            if live["times"] is not None:
                live["times"] -= 1
                if live["times"] <= 0:
                    live["mode"], live["times"] = "ok", None
        if s["delay_ms"]:
            time.sleep(s["delay_ms"] / 1000.0)
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return self.bad_shape(provider, ["body is not a JSON object"])
        if provider == "gemini":
            if headers.get("x-goog-api-key") != expected_key("gemini") or not expected_key("gemini"):
                with LOCK:
                    STATE["bad_key"] += 1
                return self.send(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                                 "status": "INVALID_ARGUMENT", "details": [
                                                     {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                      "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}})
            if model not in GEMINI_MODELS:
                return self.send(404, {"error": {"code": 404, "message": "models/%s is not found for API version v1beta, "
                                                 "or is not supported for generateContent. Call ListModels to see the "
                                                 "list of available models and their supported methods." % model,
                                                 "status": "NOT_FOUND"}})
            problems = check_gemini(model, query, headers, body)
        else:
            if headers.get("authorization") != "Bearer " + expected_key(provider) or not expected_key(provider):
                with LOCK:
                    STATE["bad_key"] += 1
                return self.send(401, {"error": {"message": "Incorrect API key provided.",
                                                 "type": "invalid_request_error", "param": None,
                                                 "code": "invalid_api_key"}})
            known = OPENAI_MODELS if provider == "openai" else GROQ_MODELS
            if isinstance(body.get("model"), str) and base_model(body["model"]) not in known:
                return self.send(404, {"error": {"message": "The model `%s` does not exist or you do not have access "
                                                 "to it." % body["model"], "type": "invalid_request_error",
                                                 "param": None, "code": "model_not_found"}})
            refusal = self.refuse_parameters(provider, body)
            if refusal:
                return self.send(400, {"error": refusal})
            problems = check_chat(provider, headers, body)
        if problems:
            return self.bad_shape(provider, problems)
        if provider == "gemini":
            return self.answer_gemini(s, model, body)
        return self.answer_chat(provider, body, s)

    def refuse_parameters(self, provider, body):
        """What the real API refuses for this model with a 400, as its error object, or None."""
        model = base_model(body.get("model"))
        if provider == "openai" and is_reasoning(model) and "temperature" in body:
            if model in OPENAI_NO_TEMPERATURE:
                return {"message": "Unsupported parameter: 'temperature' is not supported with this model.",
                        "type": "invalid_request_error", "param": "temperature", "code": "unsupported_parameter"}
            if body["temperature"] != 1:
                return {"message": "Unsupported value: 'temperature' does not support %s with this model. Only the "
                                   "default (1) value is supported." % body["temperature"],
                        "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}
        rf = body.get("response_format")
        if provider == "groq" and isinstance(rf, dict) and rf.get("type") == "json_schema":
            strict = isinstance(rf.get("json_schema"), dict) and rf["json_schema"].get("strict") is True
            if model not in (GROQ_STRICT_SCHEMA if strict else GROQ_SCHEMA):
                return {"message": "This model does not support response format `json_schema`%s. See supported "
                                   "models at https://console.groq.com/docs/structured-outputs#supported-models"
                                   % (" with strict mode" if strict and model in GROQ_SCHEMA else ""),
                        "type": "invalid_request_error", "param": "response_format"}
        return None

    def bad_shape(self, provider, problems):
        with LOCK:
            STATE["bad_shape"].append({"provider": provider, "problems": problems})
        if provider == "gemini":
            return self.send(400, {"error": {"code": 400, "message": "fake: " + "; ".join(problems),
                                             "status": "INVALID_ARGUMENT"}})
        return self.send(400, {"error": {"message": "fake: " + "; ".join(problems),
                                         "type": "invalid_request_error", "param": None, "code": "fake_bad_shape"}})

    def answer_broken(self, provider, mode):
        """An answer broken at the HTTP level, the same for every provider, or None for another mode."""
        if mode == "wrong_shape":  # JSON, but no choices/candidates where the client looks
            shape = {"candidates": {"text": "buy"}} if provider == "gemini" else {"choices": {"message": "buy"}}
            self.send(200, shape)
            return True
        if mode == "cut_body":
            data = json.dumps({"id": "chatcmpl-cut", "choices": [{"message": {"content": "x" * 200}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return True
        return None

    def answer_chat(self, provider, body, s):
        mode = s["mode"]
        if self.answer_broken(provider, mode) is not None:
            return
        def err(status, message, code, typ="invalid_request_error", headers=None, extra=None):
            e = {"message": message, "type": typ, "param": None, "code": code}
            e.update(extra or {})
            return self.send(status, {"error": e}, headers)
        if mode == "rate_limit":
            hdr = {"retry-after": str(s["retry_after"]), "x-ratelimit-remaining-requests": "0",
                   "x-ratelimit-reset-requests": "%ss" % s["retry_after"]}
            return err(429, "Rate limit reached for requests", "rate_limit_exceeded", "requests", hdr)
        if mode == "quota":
            return err(429, "You exceeded your current quota, please check your plan and billing details.",
                       "insufficient_quota", "insufficient_quota", {"retry-after": "1"})
        if mode == "unauthorized":
            return err(401, "Incorrect API key provided.", "invalid_api_key")
        if mode == "forbidden":
            return err(403, "You are not allowed to sample from this model", "model_not_found")
        if mode == "server_error":
            return err(500, "The server had an error while processing your request.", None, "server_error")
        if mode == "unavailable":
            return self.send(503, b"<html><body>503 Service Unavailable</body></html>")
        if mode == "garbage":
            return self.send(200, b"<html>not json</html>")
        if mode == "json_validate_failed":
            return err(400, "Failed to generate JSON. Please adjust your prompt. See 'failed_generation' for more details.",
                       "json_validate_failed", extra={"failed_generation": "{action: buy"})
        message = {"role": "assistant", "content": decision_text(s, mode), "refusal": None}
        finish = "stop"
        if mode == "refusal" and provider == "openai":
            message["content"], message["refusal"] = None, "I'm sorry, I can't help with that request."
        elif mode == "refusal":  # Groq has no refusal field: a refusal is plain text
            message["content"] = "I'm sorry, I can't help with that request."
        elif mode == "truncated":
            message["content"], finish = '{"action": "buy", "confid', "length"
        elif mode == "content_filter":
            message["content"], finish = None, "content_filter"
        if provider == "groq":
            message.pop("refusal")
        usage = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
        if provider == "openai" and is_reasoning(body["model"]):
            # hidden reasoning is part of completion_tokens (and billed as output); the details say how much
            usage.update({"completion_tokens": 30 + THOUGHTS_TOKENS, "total_tokens": 150 + THOUGHTS_TOKENS,
                          "completion_tokens_details": {"reasoning_tokens": THOUGHTS_TOKENS}})
        self.send(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": usage,
        })

    def answer_gemini(self, s, model, body):
        mode = s["mode"]
        if self.answer_broken("gemini", mode) is not None:
            return
        usage = {"promptTokenCount": 100, "candidatesTokenCount": 20, "totalTokenCount": 120}
        budget = ((body.get("generationConfig") or {}).get("thinkingConfig") or {}).get("thinkingBudget")
        if model in GEMINI_THINKING and not (budget == 0 and model != "gemini-2.5-pro"):
            usage["thoughtsTokenCount"] = THOUGHTS_TOKENS
            usage["totalTokenCount"] += THOUGHTS_TOKENS
        if mode == "rate_limit":
            return self.send(429, {"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
                                             "status": "RESOURCE_EXHAUSTED", "details": [
                                                 {"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                                  "retryDelay": "%ss" % s["retry_after"]}]}})
        if mode == "quota":
            return self.send(429, {"error": {"code": 429, "message": "You exceeded your current quota.",
                                             "status": "RESOURCE_EXHAUSTED", "details": [
                                                 {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                                                  "violations": [{"quotaMetric": "generate_content_free_tier_requests",
                                                                  "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
                                                 {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]}})
        if mode == "unauthorized":
            return self.send(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                             "status": "INVALID_ARGUMENT", "details": [
                                                 {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}})
        if mode == "forbidden":
            return self.send(403, {"error": {"code": 403, "message": "Permission denied.", "status": "PERMISSION_DENIED"}})
        if mode == "server_error":
            return self.send(500, {"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}})
        if mode == "unavailable":
            return self.send(503, {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})
        if mode == "garbage":
            return self.send(200, b"<html>not json</html>")
        if mode == "blocked":
            return self.send(200, {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
                                   "usageMetadata": {"promptTokenCount": 100, "totalTokenCount": 100}})
        if mode == "safety":  # a blocked candidate has ratings and no content at all
            ratings = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]
            return self.send(200, {"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": ratings}],
                                   "usageMetadata": usage, "modelVersion": model})
        if mode == "max_tokens":  # the budget went on thinking: content without parts
            return self.send(200, {"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS",
                                                   "index": 0}], "usageMetadata": usage, "modelVersion": model})
        text = decision_text(s, mode)
        # split the answer in two parts: clients must join candidates[0].content.parts[*].text
        half = len(text) // 2
        parts = [{"text": text[:half]}, {"text": text[half:]}]
        self.send(200, {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                        "usageMetadata": usage, "modelVersion": model})


def main():
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
