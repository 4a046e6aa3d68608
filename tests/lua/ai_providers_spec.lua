-- lib.ai.openai / groq / gemini / util without a network: request shape (model, schema,
-- headers, key placement) and every failure form of a response mapped to its abstention.
local spec = require "spec"
local json = titan.json
local openai = require "lib.ai.openai"
local groq = require "lib.ai.groq"
local gemini = require "lib.ai.gemini"
local util = require "lib.ai.util"
local decision = require "lib.ai.decision"

local KEY = setmetatable({}, { __tostring = function() return "<key handle>" end })
local PROMPT = { system = "SYS", user = "USER" }
local function cfg(model, base)
  return { model = model, base_url = base, key = KEY, timeout_ms = 20000, max_tokens = 300, temperature = 0.2 }
end

local function res(status, body, headers)
  return { status = status, body = type(body) == "table" and json.encode(body) or body, headers = headers or {}, elapsed_ms = 5 }
end

local GOOD = '{"action":"buy","confidence":0.8,"reason":"up"}'
local function chat(content, extra)
  local msg = { role = "assistant", content = content }
  local choice = { index = 0, message = msg, finish_reason = "stop" }
  for k, v in pairs(extra or {}) do if k == "refusal" then msg.refusal = v else choice[k] = v end end
  return { id = "x", object = "chat.completion", choices = { choice },
    usage = { prompt_tokens = 120, completion_tokens = 30, total_tokens = 150 } }
end
local function gem(text, finish, extra)
  local b = { candidates = { { content = { role = "model", parts = { { text = text } } }, finishReason = finish or "STOP" } },
    usageMetadata = { promptTokenCount = 100, candidatesTokenCount = 20, thoughtsTokenCount = 5, totalTokenCount = 125 } }
  for k, v in pairs(extra or {}) do b[k] = v end
  return b
end

local function abstains(out, code)
  spec.eq(out.text, nil, "no text")
  spec.eq(out.abstain, code, "abstention (" .. tostring(out.detail) .. ")")
  spec.ok(type(out.detail) == "string" and out.detail ~= "", "detail")
  return out
end

spec.describe("openai request", function()
  spec.it("strict json_schema, bearer key in the header, model and messages", function()
    local req = openai.build_request(cfg("gpt-4o-mini", "https://api.openai.com/v1"), PROMPT)
    spec.eq(req.method, "POST")
    spec.eq(req.url, "https://api.openai.com/v1/chat/completions")
    spec.eq(req.headers.Authorization[1], "Bearer "); spec.eq(req.headers.Authorization[2], KEY)
    spec.eq(req.headers["Content-Type"], "application/json")
    spec.eq(req.timeout_ms, 20000)
    local b = json.decode(req.body)
    spec.eq(b.model, "gpt-4o-mini")
    spec.eq(b.messages[1].role, "system"); spec.eq(b.messages[1].content, "SYS")
    spec.eq(b.messages[2].role, "user"); spec.eq(b.messages[2].content, "USER")
    spec.eq(b.max_completion_tokens, 300); spec.eq(b.max_tokens, nil)
    spec.eq(b.response_format.type, "json_schema")
    spec.eq(b.response_format.json_schema.name, "decision")
    spec.eq(b.response_format.json_schema.strict, true)
    spec.eq(b.response_format.json_schema.schema.additionalProperties, false)
    spec.eq(#b.response_format.json_schema.schema.required, 3)
    spec.ok(b.response_format.json_schema.name:match("^[A-Za-z0-9_-]+$"))
  end)
  spec.it("temperature = false omits it", function()
    local c = cfg("gpt-4.1-mini", "https://x.test/v1"); c.temperature = false
    spec.eq(json.decode(openai.build_request(c, PROMPT).body).temperature, nil)
  end)
  spec.it("reasoning models: no temperature, room for reasoning tokens", function()
    for _, m in ipairs({ "gpt-5-mini", "o4-mini", "o3" }) do
      local b = json.decode(openai.build_request(cfg(m, "https://x.test/v1"), PROMPT).body)
      spec.eq(b.temperature, nil, m); spec.eq(b.max_completion_tokens, openai.REASONING_MIN_TOKENS, m)
    end
    spec.near(json.decode(openai.build_request(cfg("gpt-4o", "https://x.test/v1"), PROMPT).body).temperature, 0.2, 1e-12)
  end)
end)

spec.describe("groq request", function()
  spec.it("json_object mode by default, OpenAI-compatible path, no forbidden fields", function()
    local req = groq.build_request(cfg("llama-3.3-70b-versatile", "https://api.groq.com/openai/v1"), PROMPT)
    spec.eq(req.url, "https://api.groq.com/openai/v1/chat/completions")
    spec.eq(req.headers.Authorization[2], KEY)
    local b = json.decode(req.body)
    spec.eq(b.response_format.type, "json_object")
    for _, f in ipairs({ "logprobs", "logit_bias", "top_logprobs", "n" }) do spec.eq(b[f], nil, f) end
    for _, m in ipairs(b.messages) do spec.eq(m.name, nil, "messages[].name") end
    spec.ok(b.messages[1].content:find("JSON", 1, true) or PROMPT.system, "JSON mode")
  end)
  spec.it("strict schema on models that support it", function()
    local b = json.decode(groq.build_request(cfg("openai/gpt-oss-20b", "https://g/openai/v1"), PROMPT).body)
    spec.eq(b.response_format.type, "json_schema"); spec.eq(b.response_format.json_schema.strict, true)
  end)
end)

spec.describe("gemini request", function()
  spec.it("key only in x-goog-api-key, never in the URL; JSON mime type and schema", function()
    local req = gemini.build_request(cfg("gemini-2.5-flash", "https://generativelanguage.googleapis.com/v1beta"), PROMPT)
    spec.eq(req.url, "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")
    spec.eq(req.url:find("key=", 1, true), nil, "no key in the URL")
    spec.eq(req.headers["x-goog-api-key"], KEY)
    spec.eq(req.headers.Authorization, nil)
    local b = json.decode(req.body)
    spec.eq(b.systemInstruction.parts[1].text, "SYS")
    spec.eq(b.contents[1].role, "user"); spec.eq(b.contents[1].parts[1].text, "USER")
    spec.eq(b.generationConfig.responseMimeType, "application/json")
    spec.eq(b.generationConfig.responseJsonSchema.additionalProperties, false)
    spec.eq(b.generationConfig.maxOutputTokens, 300)
    spec.near(b.generationConfig.temperature, 0.2, 1e-12)
  end)
  spec.it("a models/ prefix is tolerated", function()
    spec.ok(gemini.build_request(cfg("models/gemini-2.0-flash", "https://g/v1beta"), PROMPT).url
      :find("/v1beta/models/gemini-2.0-flash:generateContent", 1, true))
  end)
end)

spec.describe("openai/groq responses", function()
  spec.it("a good answer gives text and tokens", function()
    local out = openai.parse_response(res(200, chat(GOOD)))
    spec.eq(out.text, GOOD); spec.eq(out.tokens.prompt, 120); spec.eq(out.tokens.completion, 30); spec.eq(out.tokens.total, 150)
    spec.eq(decision.parse(out.text).action, "buy")
  end)
  spec.it("refusal", function()
    local out = abstains(openai.parse_response(res(200, chat(json.null, { refusal = "I can't help with that." }))), "refusal")
    spec.eq(out.tokens.total, 150, "tokens still counted")
  end)
  spec.it("truncation (finish_reason length)", function()
    abstains(openai.parse_response(res(200, chat('{"action":"bu', { finish_reason = "length" }))), "truncated")
  end)
  spec.it("content_filter", function()
    abstains(openai.parse_response(res(200, chat("", { finish_reason = "content_filter" }))), "safety_block")
  end)
  spec.it("429 rate limit carries the retry delay", function()
    local body = { error = { message = "Rate limit reached", type = "requests", param = json.null, code = "rate_limit_exceeded" } }
    local out = abstains(openai.parse_response(res(429, body, { ["x-ratelimit-reset-requests"] = "1s" })), "rate_limited")
    spec.eq(out.retry_after_ms, 1000)
    out = abstains(groq.parse_response(res(429, body, { ["retry-after"] = "2" })), "rate_limited")
    spec.eq(out.retry_after_ms, 2000)
  end)
  spec.it("429 insufficient_quota never retries", function()
    local body = { error = { message = "You exceeded your current quota", type = "insufficient_quota", param = json.null, code = "insufficient_quota" } }
    local out = abstains(openai.parse_response(res(429, body, { ["retry-after"] = "1" })), "quota_exhausted")
    spec.eq(out.retry_after_ms, nil)
  end)
  spec.it("401 and 403", function()
    local body = { error = { message = "Incorrect API key provided: sk-abc1********************wxyz.", type = "invalid_request_error", code = "invalid_api_key" } }
    local out = abstains(openai.parse_response(res(401, body)), "auth")
    spec.eq(out.detail:find("abc1", 1, true), nil, "key fragment scrubbed: " .. out.detail)
    abstains(openai.parse_response(res(403, { error = { message = "forbidden" } })), "auth")
  end)
  spec.it("5xx, with or without a JSON body", function()
    abstains(openai.parse_response(res(500, { error = { message = "boom", type = "server_error" } })), "server_error")
    abstains(openai.parse_response(res(503, "<html>unavailable</html>")), "server_error")
  end)
  spec.it("groq json_validate_failed", function()
    local body = { error = { message = "Failed to generate JSON", type = "invalid_request_error", code = "json_validate_failed", failed_generation = "{action: buy" } }
    abstains(groq.parse_response(res(400, body)), "json_validate_failed")
  end)
  spec.it("other 4xx", function()
    abstains(openai.parse_response(res(400, { error = { message = "bad param", code = "invalid_value" } })), "http_error")
    abstains(openai.parse_response(res(404, "")), "http_error")
  end)
  spec.it("an unknown model (404 model_not_found) is unknown_model; another 404 stays http_error", function()
    local body = { error = { message = "The model `gpt-9` does not exist or you do not have access to it.",
                             type = "invalid_request_error", code = "model_not_found" } }
    abstains(openai.parse_response(res(404, body)), "unknown_model")
    abstains(groq.parse_response(res(404, body)), "unknown_model")
    abstains(openai.parse_response(res(404, { error = { message = "Unknown request URL" } })), "http_error")
  end)
  spec.it("transport failures and timeouts", function()
    abstains(openai.parse_response(nil, { code = "http.timeout", message = "timed out after 20000 ms" }), "timeout")
    abstains(openai.parse_response(nil, { code = "http.connect", message = "refused" }), "transport")
  end)
  spec.it("bodies that are not what the API sends", function()
    abstains(openai.parse_response(res(200, "not json")), "bad_response")
    abstains(openai.parse_response(res(200, { choices = {} })), "bad_response")
    abstains(openai.parse_response(res(200, chat(GOOD, { finish_reason = "tool_calls" }))), "bad_response")
    abstains(openai.parse_response(res(200, chat(json.null))), "empty_answer")
  end)
end)

spec.describe("gemini responses", function()
  spec.it("a good answer joins the text parts; thinking tokens count as output", function()
    local b = gem('{"action":"sell",', "STOP")
    b.candidates[1].content.parts[2] = { text = '"confidence":0.7,"reason":"r"}' }
    table.insert(b.candidates[1].content.parts, 1, { text = "thinking...", thought = true })
    local out = gemini.parse_response(res(200, b))
    spec.eq(out.text, '{"action":"sell","confidence":0.7,"reason":"r"}')
    spec.eq(out.tokens.prompt, 100); spec.eq(out.tokens.completion, 25); spec.eq(out.tokens.total, 125)
  end)
  spec.it("safety finish reasons", function()
    for _, f in ipairs({ "SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII" }) do
      abstains(gemini.parse_response(res(200, gem("", f))), "safety_block")
    end
  end)
  spec.it("promptFeedback.blockReason with no candidates", function()
    local body = { promptFeedback = { blockReason = "SAFETY" }, usageMetadata = { promptTokenCount = 50, totalTokenCount = 50 } }
    local out = abstains(gemini.parse_response(res(200, body)), "safety_block")
    spec.ok(out.detail:find("blockReason SAFETY", 1, true)); spec.eq(out.tokens.prompt, 50)
  end)
  spec.it("MAX_TOKENS", function()
    abstains(gemini.parse_response(res(200, gem('{"action":', "MAX_TOKENS"))), "truncated")
  end)
  spec.it("SAFETY and MAX_TOKENS candidates as the API often sends them: no content, or content without parts", function()
    local usage = { promptTokenCount = 100, thoughtsTokenCount = 40, totalTokenCount = 140 }
    local out = abstains(gemini.parse_response(res(200, { usageMetadata = usage, candidates = {
      { finishReason = "SAFETY", index = 0, safetyRatings = { { category = "HARM_CATEGORY_DANGEROUS_CONTENT", blocked = true } } } } })),
      "safety_block")
    spec.eq(out.tokens.completion, 40, "thoughts spent before the block are still paid for")
    out = abstains(gemini.parse_response(res(200, { usageMetadata = usage, candidates = {
      { content = { role = "model" }, finishReason = "MAX_TOKENS", index = 0 } } })), "truncated")
    spec.eq(out.tokens.completion, 40)
  end)
  spec.it("no candidates, no parts, odd finish reasons", function()
    abstains(gemini.parse_response(res(200, { candidates = {} })), "empty_answer")
    local b = gem("x"); b.candidates[1].content.parts = {}
    abstains(gemini.parse_response(res(200, b)), "empty_answer")
    abstains(gemini.parse_response(res(200, gem(GOOD, "OTHER"))), "bad_response")
  end)
  spec.it("429 with RetryInfo", function()
    local body = { error = { code = 429, message = "Resource has been exhausted", status = "RESOURCE_EXHAUSTED",
      details = { { ["@type"] = "type.googleapis.com/google.rpc.RetryInfo", retryDelay = "36s" } } } }
    local out = abstains(gemini.parse_response(res(429, body)), "rate_limited")
    spec.eq(out.retry_after_ms, 36000)
  end)
  spec.it("429 on a per-day quota is quota_exhausted", function()
    local body = { error = { code = 429, message = "quota", status = "RESOURCE_EXHAUSTED", details = {
      { ["@type"] = "type.googleapis.com/google.rpc.QuotaFailure", violations = { { quotaId = "GenerateRequestsPerDayPerProjectPerModel-FreeTier" } } },
      { ["@type"] = "type.googleapis.com/google.rpc.RetryInfo", retryDelay = "5s" } } } }
    local out = abstains(gemini.parse_response(res(429, body)), "quota_exhausted")
    spec.eq(out.retry_after_ms, nil)
  end)
  spec.it("invalid key (400 API_KEY_INVALID), 403, 5xx", function()
    local body = { error = { code = 400, message = "API key not valid. Please pass a valid API key.", status = "INVALID_ARGUMENT",
      details = { { ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo", reason = "API_KEY_INVALID" } } } }
    abstains(gemini.parse_response(res(400, body)), "auth")
    abstains(gemini.parse_response(res(403, { error = { code = 403, status = "PERMISSION_DENIED", message = "no" } })), "auth")
    abstains(gemini.parse_response(res(500, { error = { code = 500, status = "INTERNAL", message = "x" } })), "server_error")
    abstains(gemini.parse_response(res(400, { error = { code = 400, status = "INVALID_ARGUMENT", message = "x" } })), "http_error")
    abstains(gemini.parse_response(res(404, { error = { code = 404, status = "NOT_FOUND",
      message = "models/gemini-9 is not found for API version v1beta" } })), "unknown_model")
  end)
  spec.it("timeout", function()
    abstains(gemini.parse_response(nil, { code = "http.timeout", message = "t" }), "timeout")
  end)
end)

spec.describe("util", function()
  spec.it("durations", function()
    spec.eq(util.parse_duration_ms("1s"), 1000); spec.eq(util.parse_duration_ms("6m0s"), 360000)
    spec.eq(util.parse_duration_ms("1.5s"), 1500); spec.eq(util.parse_duration_ms("250ms"), 250)
    spec.eq(util.parse_duration_ms("36s"), 36000); spec.eq(util.parse_duration_ms("soon"), nil)
    spec.eq(util.parse_duration_ms(""), nil); spec.eq(util.parse_duration_ms("5"), nil)
  end)
  spec.it("retry-after headers", function()
    spec.eq(util.retry_after_ms({ ["retry-after"] = "3" }), 3000)
    spec.eq(util.retry_after_ms({ ["retry-after-ms"] = "120" }), 120)
    spec.eq(util.retry_after_ms({ ["retry-after"] = "Wed, 21 Oct 2015 07:28:00 GMT" }), nil)
    spec.eq(util.retry_after_ms({}), nil)
  end)
  spec.it("base URLs: https anywhere, plain http only to loopback", function()
    spec.eq(util.check_base("https://api.openai.com/v1/"), "https://api.openai.com/v1")
    spec.eq(util.check_base("http://127.0.0.1:8080/v1"), "http://127.0.0.1:8080/v1")
    spec.eq(util.check_base("http://localhost:1/v1"), "http://localhost:1/v1")
    spec.eq(util.check_base("http://example.com/v1"), nil)
    spec.eq(util.check_base("http://127.0.0.1.evil.com/v1"), nil)
    spec.eq(util.check_base("ftp://x"), nil)
    spec.eq(util.check_base(""), nil)
  end)
  spec.it("model names", function()
    spec.eq(util.check_model("openai/gpt-oss-20b"), "openai/gpt-oss-20b")
    spec.eq(util.check_model("gemini-2.5-flash"), "gemini-2.5-flash")
    spec.eq(util.check_model("a b"), nil); spec.eq(util.check_model("x?key=1"), nil); spec.eq(util.check_model("../x"), nil)
  end)
  spec.it("cap_utf8 never splits a character", function()
    local s = "ab\u{e9}\u{20ac}"          -- a b é(2 bytes) €(3 bytes) = 7 bytes
    spec.eq(util.cap_utf8(s, 7), s); spec.eq(util.cap_utf8(s, 6), "ab\u{e9}"); spec.eq(util.cap_utf8(s, 5), "ab\u{e9}")
    spec.eq(util.cap_utf8(s, 3), "ab"); spec.eq(util.cap_utf8(s, 4), "ab\u{e9}")
  end)
  spec.it("scrub removes key-looking fragments", function()
    spec.eq(util.scrub("key sk-proj-abc***xyz bad"), "key [key] bad")
    spec.eq(util.scrub("gsk_abcdef and AIzaSyAbc-123"), "[key] and [key]")
  end)
end)

spec.finish("ai_providers_spec")
