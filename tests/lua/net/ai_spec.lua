-- lib.ai against the loopback fake of OpenAI, Groq and Gemini (tests/fakes/ai_fake.py), through
-- the real titan.http and titan.secret: every failure form -> an abstention with its reason,
-- concurrency, the vote, the 429 retry rule and the daily spend cap (no request when reached).
-- Run by tests/e2e/test_ai.sh: ai_spec.lua FAKE_URL WRONG_KEY_FAKE_URL
local spec = require "spec"   -- test_ai.sh copies tests/lua/spec.lua beside this file
local ai = require "lib.ai"
local cost = require "lib.ai.cost"
local json = titan.json

local FAKE, WRONG = arg[1], arg[2]
assert(FAKE and WRONG, "usage: ai_spec.lua FAKE_URL WRONG_KEY_FAKE_URL")

local function post(url, body)
  local res, err = titan.http.request{ method = "POST", url = url, body = json.encode(body),
    headers = { ["Content-Type"] = "application/json" }, timeout_ms = 5000 }
  assert(res and res.status == 200, "control call failed: " .. tostring(err and err.message or (res and res.status)))
end
local function control(t) post(FAKE .. "/_control", t) end
local function reset() post(FAKE .. "/_reset", {}) end
local function stats(base)
  local res = assert(titan.http.request{ url = (base or FAKE) .. "/_stats", timeout_ms = 5000 })
  return json.decode(res.body)
end
local function total_requests(s)
  return s.requests.openai + s.requests.groq + s.requests.gemini
end
local function ask(opts)
  opts = opts or {}
  opts.state = opts.state or {}
  opts.timeout_ms = opts.timeout_ms or 3000
  return ai.ask_all({ system = "You answer in JSON.", user = "pair=XBTUSD signal=buy" }, opts)
end
local function by_provider(results)
  local t = {}
  for _, r in ipairs(results) do t[r.provider] = r end
  return t
end
local function no_bad_shape()
  local s = stats()
  spec.eq(#s.bad_shape, 0, "request shape problems: " .. json.encode(s.bad_shape))
  spec.eq(s.bad_key, 0, "requests with a wrong key")
end

spec.describe("configuration", function()
  spec.it("all three providers are configured from their keys", function()
    spec.eq(table.concat(ai.configured(), ","), "openai,groq,gemini")
  end)
end)

spec.describe("good answers", function()
  spec.it("three agreeing providers: decisions, tokens, cost, vote buy", function()
    reset()
    local results, info = ask()
    spec.eq(#results, 3)
    for _, r in ipairs(results) do
      spec.ok(r.decision, r.provider .. " decided (" .. tostring(r.abstain_reason) .. ": " .. tostring(r.abstain_detail) .. ")")
      spec.eq(r.decision.action, "buy", r.provider); spec.near(r.decision.confidence, 0.8, 1e-12)
      spec.eq(r.abstain_reason, nil)
      spec.ok(r.tokens.total > 0, r.provider .. " tokens"); spec.ok(r.cost_usd > 0, r.provider .. " cost")
      spec.ok(type(r.latency_ms) == "number", "latency")
      spec.eq(r.http_status, 200)
    end
    local p = by_provider(results)
    spec.eq(p.openai.tokens.prompt, 120); spec.eq(p.openai.tokens.completion, 30); spec.eq(p.openai.tokens.total, 150)
    -- gemini-2.5-flash thinks: its thoughts tokens are billed as output, so they count in the cost
    spec.eq(p.gemini.tokens.prompt, 100); spec.eq(p.gemini.tokens.completion, 20 + 40); spec.eq(p.gemini.tokens.total, 160)
    spec.near(p.gemini.cost_usd, cost.estimate("gemini-2.5-flash", { prompt = 100, completion = 60 }), 1e-15)
    spec.ok(p.gemini.cost_usd > cost.estimate("gemini-2.5-flash", { prompt = 100, completion = 20 }), "thoughts paid for")
    spec.eq(p.openai.model, "gpt-4o-mini"); spec.eq(p.groq.model, "llama-3.3-70b-versatile"); spec.eq(p.gemini.model, "gemini-2.5-flash")
    spec.ok(info.cost_usd > 0 and info.spent_usd == info.cost_usd, "spend recorded")
    local v = ai.vote(results)
    spec.eq(v.action, "buy"); spec.eq(v.reason, "agreed"); spec.eq(#v.votes, 3)
    local s = stats()
    spec.eq(total_requests(s), 3)
    no_bad_shape()
    for _, path in ipairs(s.paths) do spec.eq(path:find("key", 1, true), nil, "no key in " .. path) end
  end)
  spec.it("fenced answers with numbers as strings still parse", function()
    reset(); control{ provider = "all", mode = "fenced", action = "sell", confidence = 0.9 }
    local results = ask()
    for _, r in ipairs(results) do
      spec.ok(r.decision, r.provider .. ": " .. tostring(r.abstain_reason))
      spec.eq(r.decision.action, "sell"); spec.near(r.decision.confidence, 0.9, 1e-12)
    end
    spec.eq(ai.vote(results).action, "sell")
    no_bad_shape()
  end)
end)

-- mode -> expected abstention, per provider ("-" = not applicable to that API)
local FAILURES = {
  { "refusal",        { openai = "refusal", groq = "malformed_json" } },   -- groq: a plain-text refusal
  { "truncated",      { openai = "truncated", groq = "truncated" } },
  { "content_filter", { openai = "safety_block", groq = "safety_block" } },
  { "safety",         { gemini = "safety_block" } },
  { "blocked",        { gemini = "safety_block" } },
  { "max_tokens",     { gemini = "truncated" } },
  { "json_validate_failed", { groq = "json_validate_failed" } },
  { "quota",          { openai = "quota_exhausted", groq = "quota_exhausted", gemini = "quota_exhausted" } },
  { "unauthorized",   { openai = "auth", groq = "auth", gemini = "auth" } },
  { "forbidden",      { openai = "auth", groq = "auth", gemini = "auth" } },
  { "server_error",   { openai = "server_error", groq = "server_error", gemini = "server_error" } },
  { "unavailable",    { openai = "server_error", groq = "server_error", gemini = "server_error" } },
  { "garbage",        { openai = "bad_response", groq = "bad_response", gemini = "bad_response" } },
  { "malformed",      { openai = "malformed_json", groq = "malformed_json", gemini = "malformed_json" } },
  { "unknown_action", { openai = "unknown_action", groq = "unknown_action", gemini = "unknown_action" } },
  { "conf_range",     { openai = "confidence_out_of_range", groq = "confidence_out_of_range", gemini = "confidence_out_of_range" } },
  { "conf_na",        { openai = "confidence_not_number", groq = "confidence_not_number", gemini = "confidence_not_number" } },
}

spec.describe("each failure abstains with its reason", function()
  for _, row in ipairs(FAILURES) do
    local mode, want = row[1], row[2]
    spec.it(mode, function()
      reset()
      for provider in pairs(want) do control{ provider = provider, mode = mode } end
      local results = ask()
      spec.eq(#results, 3)
      for _, r in ipairs(results) do
        local expected = want[r.provider]
        if expected then
          spec.eq(r.decision, nil, r.provider .. " must not decide")
          spec.eq(r.abstain_reason, expected, r.provider .. " (" .. tostring(r.abstain_detail) .. ")")
          spec.ok(type(r.abstain_detail) == "string" and #r.abstain_detail > 0, "detail")
        else
          spec.ok(r.decision, r.provider .. " unaffected")
        end
      end
      local v = ai.vote(results)
      local n = 0
      for _ in pairs(want) do n = n + 1 end
      if n == 3 then spec.eq(v.action, "hold", "all failing -> hold"); spec.eq(v.reason, "no_votes") end
      local s = stats()
      spec.eq(total_requests(s), 3, "one request each: no retry")
      no_bad_shape()
    end)
  end
  spec.it("timeout: a provider slower than its deadline", function()
    reset(); control{ provider = "groq", mode = "ok", delay_ms = 2500 }
    local start = titan.time.now_ms()
    local results = ask{ config = { groq = { timeout_ms = 500 } } }
    local p = by_provider(results)
    spec.eq(p.groq.abstain_reason, "timeout", tostring(p.groq.abstain_detail))
    spec.ok(p.openai.decision and p.gemini.decision, "the others answer")
    spec.ok(titan.time.now_ms() - start < 2000, "did not wait for the slow provider")
  end)
  spec.it("a key is never sent anywhere but its provider's address: another base_url abstains, sends nothing", function()
    local before = stats(WRONG).requests
    local results = ai.ask_all("x", { state = {}, timeout_ms = 3000, config = {
      openai = { base_url = WRONG .. "/v1" }, groq = { base_url = WRONG .. "/openai/v1" }, gemini = { base_url = WRONG .. "/v1beta" } } })
    for _, r in ipairs(results) do
      spec.eq(r.decision, nil, r.provider)
      spec.ok(r.abstain_reason, r.provider .. " abstains")
    end
    local after = stats(WRONG).requests
    for _, p in ipairs{ "openai", "groq", "gemini" } do spec.eq(after[p], before[p], p .. ": nothing reached the other server") end
  end)
  spec.it("the fake's shape checks are live: a wrong request shape is rejected and recorded", function()
    reset()
    local groq = require "lib.ai.groq"
    local gemini = require "lib.ai.gemini"
    local c = { model = "gpt-4o-mini", base_url = FAKE .. "/v1", key = titan.secret("OPENAI_API_KEY"),
                timeout_ms = 3000, max_tokens = 10, temperature = 0.2 }
    local req = groq.build_request(c, { system = "answer in JSON", user = "u" })   -- json_object to OpenAI
    spec.eq(assert(titan.http.request(req)).status, 400)
    c.base_url, c.model, c.key = FAKE .. "/v1beta", "gemini-2.5-flash", titan.secret("GEMINI_API_KEY")
    req = gemini.build_request(c, { system = "s", user = "u" })
    local body = json.decode(req.body); body.generationConfig.responseMimeType = nil; req.body = json.encode(body)
    spec.eq(assert(titan.http.request(req)).status, 400)
    local s = stats()
    spec.eq(#s.bad_shape, 2)
    spec.ok(json.encode(s.bad_shape):find("json_schema", 1, true), "names the problem")
    spec.ok(json.encode(s.bad_shape):find("responseMimeType", 1, true), "names the problem")
  end)
  spec.it("the fake refuses what the real APIs refuse: temperature on reasoning models, json_schema on most Groq models", function()
    reset()
    local openai = require "lib.ai.openai"
    local decision = require "lib.ai.decision"
    local schema = { type = "json_schema", json_schema = { name = "decision", strict = true, schema = decision.schema() } }
    local function send(cfg, format, edit)
      local req = openai.chat_request(cfg, { system = "answer in JSON", user = "u" }, format)
      local body = json.decode(req.body)
      edit(body)
      req.body = json.encode(body)
      local res = assert(titan.http.request(req))
      return res.status, json.decode(res.body).error
    end
    local c = { model = "gpt-4o-mini", base_url = FAKE .. "/v1", key = titan.secret("OPENAI_API_KEY"),
                timeout_ms = 3000, max_tokens = 10, temperature = 0.2 }
    local status, e = send(c, schema, function(b) b.model = "o4-mini" end)
    spec.eq(status, 400); spec.eq(e.code, "unsupported_value"); spec.eq(e.param, "temperature")
    status, e = send(c, schema, function(b) b.model = "o3-mini" end)
    spec.eq(status, 400); spec.eq(e.code, "unsupported_parameter")
    control{ provider = "openai", expect_model = "o4-mini" }
    status = send(c, schema, function(b) b.model = "o4-mini"; b.temperature = nil end)
    spec.eq(status, 200, "no temperature: accepted")
    c.base_url, c.key = FAKE .. "/openai/v1", titan.secret("GROQ_API_KEY")
    status, e = send(c, schema, function(b) b.model = "llama-3.3-70b-versatile" end)
    spec.eq(status, 400); spec.eq(e.param, "response_format")
    spec.ok(e.message:find("json_schema", 1, true), e.message)
    status = send(c, schema, function(b) b.model = "moonshotai/kimi-k2-instruct" end)
    spec.eq(status, 400, "kimi: json_schema best effort only, not strict")
    control{ provider = "groq", expect_model = "openai/gpt-oss-20b" }
    status = send(c, schema, function(b) b.model = "openai/gpt-oss-20b" end)
    spec.eq(status, 200, "gpt-oss: strict json_schema")
    no_bad_shape()
  end)
  spec.it("an unknown model is 404 at every provider: abstains as unknown_model, asked once", function()
    reset()
    local results = ask{ config = { openai = { model = "gpt-9-turbo" }, groq = { model = "llama-9" },
                                    gemini = { model = "gemini-9-flash" } } }
    spec.eq(#results, 3)
    for _, r in ipairs(results) do
      spec.eq(r.decision, nil, r.provider)
      spec.eq(r.abstain_reason, "unknown_model", r.provider .. " (" .. tostring(r.abstain_detail) .. ")")
      spec.ok(r.abstain_detail:find("404", 1, true), r.abstain_detail)
    end
    spec.eq(total_requests(stats()), 3, "not retried")
  end)
  spec.it("a non-loopback plain-http base URL is refused before any request", function()
    reset()
    local results = ask{ config = { openai = { base_url = "http://example.com/v1" }, gemini = { model = "bad model" } } }
    local p = by_provider(results)
    spec.eq(p.openai.abstain_reason, "config"); spec.eq(p.gemini.abstain_reason, "config")
    spec.ok(p.groq.decision, "groq still asked")
    local s = stats()
    spec.eq(s.requests.openai + s.requests.gemini, 0, "no request for a refused config")
  end)
end)

spec.describe("models as the real APIs treat them", function()
  spec.it("reasoning models (o-series, gpt-5) get no temperature and decide; their reasoning tokens are paid for", function()
    for _, model in ipairs{ "o4-mini", "o3-mini", "gpt-5-mini", "gpt-5" } do
      reset(); control{ provider = "openai", expect_model = model }
      local p = by_provider(ask{ config = { openai = { model = model } } })
      spec.ok(p.openai.decision, model .. ": " .. tostring(p.openai.abstain_detail))
      spec.eq(p.openai.tokens.completion, 30 + 40, model .. ": completion includes the reasoning")
      spec.near(p.openai.cost_usd, cost.estimate(model, p.openai.tokens), 1e-15)
      no_bad_shape()
    end
  end)
  spec.it("Groq: strict json_schema on gpt-oss, JSON mode elsewhere: both accepted", function()
    for _, model in ipairs{ "openai/gpt-oss-20b", "openai/gpt-oss-120b", "moonshotai/kimi-k2-instruct", "llama-3.1-8b-instant" } do
      reset(); control{ provider = "groq", expect_model = model }
      local p = by_provider(ask{ config = { groq = { model = model } } })
      spec.ok(p.groq.decision, model .. ": " .. tostring(p.groq.abstain_detail))
      no_bad_shape()
    end
  end)
  spec.it("Gemini: thoughts tokens only from thinking models, counted as output", function()
    for model, thoughts in pairs{ ["gemini-2.5-pro"] = 40, ["gemini-2.5-flash"] = 40, ["gemini-2.5-flash-lite"] = 0,
                                  ["gemini-2.0-flash"] = 0 } do
      reset(); control{ provider = "gemini", expect_model = model }
      local p = by_provider(ask{ config = { gemini = { model = model } } })
      spec.ok(p.gemini.decision, model .. ": " .. tostring(p.gemini.abstain_detail))
      spec.eq(p.gemini.tokens.completion, 20 + thoughts, model)
      spec.eq(p.gemini.tokens.total, 120 + thoughts, model)
      spec.near(p.gemini.cost_usd, cost.estimate(model, { prompt = 100, completion = 20 + thoughts }), 1e-15)
    end
  end)
end)

spec.describe("429 retry rule", function()
  spec.it("rate_limit_exceeded with a retry-after that fits: retried once, then answers", function()
    reset(); control{ provider = "all", mode = "rate_limit", retry_after = "1", times = 1 }
    local start = titan.time.now_ms()
    local results = ask{ timeout_ms = 5000 }
    for _, r in ipairs(results) do
      spec.ok(r.decision, r.provider .. " answered after the retry (" .. tostring(r.abstain_detail) .. ")")
      spec.eq(r.retried, true)
    end
    spec.ok(titan.time.now_ms() - start >= 1000, "waited the retry-after")
    spec.eq(total_requests(stats()), 6)
  end)
  spec.it("a retry-after beyond the deadline: no retry", function()
    reset(); control{ provider = "all", mode = "rate_limit", retry_after = "30" }
    local results = ask{ timeout_ms = 5000 }
    for _, r in ipairs(results) do
      spec.eq(r.abstain_reason, "rate_limited", r.provider)
      spec.ok(r.abstain_detail:find("does not fit", 1, true), r.abstain_detail)
    end
    spec.eq(total_requests(stats()), 3)
  end)
  spec.it("insufficient_quota is never retried, even with a retry-after", function()
    reset(); control{ provider = "all", mode = "quota" }
    ask{ timeout_ms = 5000 }
    spec.eq(total_requests(stats()), 3)
  end)
end)

spec.describe("concurrency", function()
  spec.it("three providers delayed 800 ms each answer in well under the sum", function()
    reset(); control{ provider = "all", mode = "ok", delay_ms = 800 }
    local start = titan.time.now_ms()
    local results = ask{ timeout_ms = 5000 }
    local elapsed = titan.time.now_ms() - start
    for _, r in ipairs(results) do spec.ok(r.decision, r.provider) end
    spec.ok(elapsed >= 800, "elapsed " .. elapsed .. " ms >= 800")
    spec.ok(elapsed < 1500, "elapsed " .. elapsed .. " ms < 1500 (sequential would be 2400)")
    print(string.format("perf: ask_all with 3 providers delayed 800 ms each took %d ms", elapsed))
  end)
end)

spec.describe("vote end to end", function()
  spec.it("disagreeing providers -> hold", function()
    reset()
    control{ provider = "openai", action = "buy", confidence = 0.9 }
    control{ provider = "groq", action = "sell", confidence = 0.9 }
    control{ provider = "gemini", action = "hold", confidence = 0.5 }
    local v = ai.vote((ask()))
    spec.eq(v.action, "hold"); spec.eq(v.reason, "conflict")
  end)
  spec.it("two agree, one fails -> the two decide", function()
    reset(); control{ provider = "all", action = "sell", confidence = 0.7 }; control{ provider = "gemini", mode = "server_error" }
    local v = ai.vote((ask()))
    spec.eq(v.action, "sell"); spec.eq(v.counts.abstain, 1)
  end)
end)

spec.describe("daily spend cap", function()
  spec.it("reached: no HTTP request at all, every provider abstains with spend_cap", function()
    reset()
    local day = cost.utc_day(titan.time.now_ms())
    local state = { ai_spend = { [day] = 2.0 } }
    local results, info = ask{ state = state, daily_usd = 1.0 }
    spec.eq(info.skipped, "spend_cap")
    spec.eq(#results, 3)
    for _, r in ipairs(results) do spec.eq(r.abstain_reason, "spend_cap"); spec.eq(r.decision, nil) end
    spec.eq(total_requests(stats()), 0, "the fake saw no request")
    spec.eq(ai.vote(results).action, "hold")
  end)
  spec.it("accumulates across calls and stops once reached", function()
    reset()
    local state = {}
    local _, info = ask{ state = state, daily_usd = 0.00005 }
    spec.eq(info.skipped, nil)
    spec.ok(info.spent_usd > 0.00005, "one cycle's spend passes the tiny cap: " .. info.spent_usd)
    local _, info2 = ask{ state = state, daily_usd = 0.00005 }
    spec.eq(info2.skipped, "spend_cap")
    spec.eq(total_requests(stats()), 3, "only the first call reached the providers")
  end)
  spec.it("a cap of 0 and an unreadable cap fail closed: no request", function()
    reset()
    local _, info = ask{ daily_usd = 0 }
    spec.eq(info.skipped, "spend_cap")
    local _, info2 = ask{ daily_usd = "lots" }
    spec.eq(info2.skipped, "spend_cap")
    spec.eq(total_requests(stats()), 0)
  end)
end)

spec.finish("ai_spec")
