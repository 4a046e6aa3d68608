-- lib.ai.ask_all / vote / filter without a network: titan.secret, titan.http.batch and titan.log
-- are replaced by stubs, so the orchestration is tested alone — configuration, the 429 retry
-- rule, spend accounting, what is logged, and that no failure of the layer below crashes it.
local spec = require "spec"
local json = titan.json

-- ---- stubs ------------------------------------------------------------------------------------
local keys = {}                     -- secret name -> true when "set"
titan.secret = function(name)
  if keys[name] then return setmetatable({ name = name }, { __tostring = function() return "<secret " .. name .. ">" end }) end
  return nil, { code = "secret.unset", message = name .. " is not set" }
end

local batches, script = {}, {}      -- every batch call's requests; script[provider] = list of answers
local function provider_of(url)
  if url:find(":generateContent", 1, true) then return "gemini" end
  if url:find("/openai/", 1, true) then return "groq" end
  return "openai"
end
titan.http.batch = function(reqs)
  batches[#batches + 1] = reqs
  local out = {}
  for i, req in ipairs(reqs) do
    local list = script[provider_of(req.url)] or {}
    local answer = table.remove(list, 1) or list.default
    if type(answer) == "function" then answer = answer(req) end
    out[i] = answer or { nil, { code = "http.connect", message = "nothing scripted" } }
  end
  return out
end

local events = {}
for _, level in ipairs({ "debug", "info", "warn", "error" }) do
  titan.log[level] = function(ev, fields)
    json.encode(fields or {})       -- must be encodable, as the real binding requires
    events[#events + 1] = { ev = ev, lvl = level, fields = fields or {} }
  end
end

local ai = require "lib.ai"
local cost = require "lib.ai.cost"

local function chat_ok(action, conf)
  local content = json.encode({ action = action or "buy", confidence = conf or 0.8, reason = "r" })
  return { { status = 200, headers = {}, elapsed_ms = 7, body = json.encode({
    choices = { { message = { role = "assistant", content = content }, finish_reason = "stop" } },
    usage = { prompt_tokens = 1000, completion_tokens = 100, total_tokens = 1100 } }) } }
end
local function gem_ok(action, conf)
  local text = json.encode({ action = action or "buy", confidence = conf or 0.8, reason = "r" })
  return { { status = 200, headers = {}, elapsed_ms = 9, body = json.encode({
    candidates = { { content = { parts = { { text = text } } }, finishReason = "STOP" } },
    usageMetadata = { promptTokenCount = 1000, candidatesTokenCount = 100, totalTokenCount = 1100 } }) } }
end
local function status(code, body, headers)
  return { { status = code, headers = headers or {}, elapsed_ms = 3, body = body and json.encode(body) or "" } }
end

local function setup(set_keys, scripts)
  keys, batches, events, script = {}, {}, {}, {}
  for _, name in ipairs(set_keys or {}) do keys[name] = true end
  for provider, list in pairs(scripts or {}) do script[provider] = list end
end
local ALL_KEYS = { "OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY" }
local function all_ok()
  return { openai = { default = chat_ok() }, groq = { default = chat_ok() }, gemini = { default = gem_ok() } }
end
local function count(ev)
  local n = 0
  for _, e in ipairs(events) do if e.ev == ev then n = n + 1 end end
  return n
end
local function find(ev)
  for _, e in ipairs(events) do if e.ev == ev then return e.fields end end
end

spec.describe("configured", function()
  spec.it("follows the keys, in a fixed order", function()
    setup({ "GEMINI_API_KEY", "OPENAI_API_KEY" })
    spec.eq(table.concat(ai.configured(), ","), "openai,gemini")
    setup({})
    spec.eq(#ai.configured(), 0)
  end)
  spec.it("no provider: nothing asked, nothing logged", function()
    setup({})
    local results, info = ai.ask_all("x", { state = {} })
    spec.eq(#results, 0); spec.eq(info.skipped, "no_providers"); spec.eq(#batches, 0); spec.eq(#events, 0)
  end)
end)

spec.describe("ask_all", function()
  spec.it("one concurrent batch, one result per provider, in order, with cost", function()
    setup(ALL_KEYS, all_ok())
    local state = {}
    local results, info = ai.ask_all("signal=buy", { state = state })
    spec.eq(#batches, 1, "a single batch"); spec.eq(#batches[1], 3)
    spec.eq(results[1].provider, "openai"); spec.eq(results[2].provider, "groq"); spec.eq(results[3].provider, "gemini")
    for _, r in ipairs(results) do
      spec.eq(r.decision.action, "buy", r.provider); spec.eq(r.tokens.total, 1100)
      spec.ok(r.cost_usd > 0)
    end
    spec.eq(batches[1][1].timeout_ms, ai.DEFAULT_TIMEOUT_MS, "default per-provider timeout")
    spec.near(results[1].cost_usd, cost.estimate("gpt-4o-mini", { prompt = 1000, completion = 100 }), 1e-15)
    local total = results[1].cost_usd + results[2].cost_usd + results[3].cost_usd
    spec.near(info.cost_usd, total, 1e-15)
    spec.near(cost.spent(state, info.day), total, 1e-15, "spend kept in the state")
    spec.eq(results[1].latency_ms, 7)
  end)
  spec.it("logs the prompt once and one answer per provider, raw answers capped", function()
    setup(ALL_KEYS, all_ok())
    local long = string.rep("x", 5000)
    script.groq = { status(500, { error = { message = long } }) }
    ai.ask_all({ system = "S", user = "U" }, { state = {} })
    spec.eq(count("ai.prompt"), 1); spec.eq(count("ai.answer"), 3)
    local p = find("ai.prompt")
    spec.eq(p.system, "S"); spec.eq(p.user, "U")
    for _, e in ipairs(events) do
      if e.ev == "ai.answer" then
        spec.ok(#e.fields.raw <= ai.RAW_MAX, "raw capped")
        spec.ok(e.fields.tokens and e.fields.latency_ms and e.fields.cost_usd, "tokens, latency, cost")
        spec.ok(e.fields.decision or e.fields.abstain_reason, "decision or reason")
      end
    end
  end)
  spec.it("per-provider timeouts and models from opts.config", function()
    setup(ALL_KEYS, all_ok())
    local results = ai.ask_all("x", { state = {}, timeout_ms = 9000,
      config = { groq = { timeout_ms = 1500, model = "llama-3.1-8b-instant" } } })
    spec.eq(batches[1][1].timeout_ms, 9000); spec.eq(batches[1][2].timeout_ms, 1500)
    spec.eq(results[2].model, "llama-3.1-8b-instant")
  end)
  spec.it("bad configuration abstains without a request", function()
    setup(ALL_KEYS, all_ok())
    local results = ai.ask_all("x", { state = {}, providers = { "openai", "nope", "gemini" },
      config = { openai = { timeout_ms = 5 }, gemini = { base_url = "http://10.0.0.1/v1beta" } } })
    for _, r in ipairs(results) do spec.eq(r.abstain_reason, "config", r.provider) end
    spec.eq(#batches[1], 0, "no request sent")
  end)
  spec.it("a provider named in opts.providers without a key abstains", function()
    setup({ "OPENAI_API_KEY" }, all_ok())
    local results = ai.ask_all("x", { state = {}, providers = { "openai", "groq" } })
    spec.ok(results[1].decision); spec.eq(results[2].abstain_reason, "config")
    spec.ok(results[2].abstain_detail:find("GROQ_API_KEY", 1, true))
  end)
  spec.it("misuse raises: no prompt", function()
    setup(ALL_KEYS, all_ok())
    spec.raises(function() ai.ask_all(nil, {}) end, "prompt must be")
  end)
  spec.it("without a state table: warns, still counts spend in memory", function()
    setup(ALL_KEYS, all_ok())
    ai.ask_all("x")
    spec.ok(find("ai.spend_state"), "warned")
  end)
end)

spec.describe("the layer below failing never crashes ask_all", function()
  spec.it("titan.http.batch raising", function()
    setup(ALL_KEYS, {})
    local real = titan.http.batch
    titan.http.batch = function() error("boom") end
    local ok, results = pcall(ai.ask_all, "x", { state = {} })
    titan.http.batch = real
    spec.ok(ok, "no raise: " .. tostring(results))
    for _, r in ipairs(results) do spec.eq(r.abstain_reason, "transport", r.provider) end
  end)
  spec.it("answers of the wrong type", function()
    setup(ALL_KEYS, { openai = { { true, "x" } }, groq = { { { status = 200, body = 42, headers = {} } } }, gemini = { {} } })
    local results = ai.ask_all("x", { state = {} })
    spec.eq(results[1].abstain_reason, "transport")
    spec.eq(results[2].abstain_reason, "bad_response")
    spec.eq(results[3].abstain_reason, "transport")
  end)
end)

spec.describe("429 retry rule", function()
  local function limited(after) return status(429, { error = { message = "slow down", code = "rate_limit_exceeded" } }, { ["retry-after"] = after }) end
  spec.it("retried once after the wait when it fits the deadline", function()
    setup(ALL_KEYS, all_ok())
    script.openai = { limited("2"), default = chat_ok("sell") }
    local waited
    local results = ai.ask_all("x", { state = {}, timeout_ms = 10000, sleep_ms = function(ms) waited = ms end })
    spec.eq(waited, 2000); spec.eq(#batches, 2); spec.eq(#batches[2], 1, "only the limited provider again")
    spec.eq(results[1].decision.action, "sell"); spec.eq(results[1].retried, true)
    spec.ok(batches[2][1].timeout_ms <= 10000, "the retry keeps within the deadline")
    spec.eq(count("ai.retry"), 1)
  end)
  spec.it("not retried when the wait does not fit", function()
    setup(ALL_KEYS, all_ok())
    script.openai = { limited("9") }
    local results = ai.ask_all("x", { state = {}, timeout_ms = 10000, sleep_ms = function() error("must not sleep") end })
    spec.eq(#batches, 1); spec.eq(results[1].abstain_reason, "rate_limited")
  end)
  spec.it("not retried past RETRY_MAX_WAIT_MS even with a long deadline", function()
    setup(ALL_KEYS, all_ok())
    script.openai = { limited("30") }
    ai.ask_all("x", { state = {}, timeout_ms = 120000, sleep_ms = function() error("must not sleep") end })
    spec.eq(#batches, 1)
  end)
  spec.it("insufficient_quota never", function()
    setup(ALL_KEYS, all_ok())
    script.openai = { status(429, { error = { message = "quota", code = "insufficient_quota" } }, { ["retry-after"] = "1" }) }
    local results = ai.ask_all("x", { state = {}, timeout_ms = 10000, sleep_ms = function() error("must not sleep") end })
    spec.eq(#batches, 1); spec.eq(results[1].abstain_reason, "quota_exhausted")
  end)
  spec.it("a retry that fails again stays an abstention", function()
    setup(ALL_KEYS, all_ok())
    script.openai = { limited("1"), limited("1") }
    local results = ai.ask_all("x", { state = {}, timeout_ms = 10000, sleep_ms = function() end })
    spec.eq(#batches, 2); spec.eq(results[1].abstain_reason, "rate_limited")
  end)
end)

spec.describe("spend cap", function()
  spec.it("reached: no batch at all, every provider abstains, logged", function()
    setup(ALL_KEYS, all_ok())
    local now = 1795726800000
    local state = { ai_spend = { [cost.utc_day(now)] = 0.5 } }
    local results, info = ai.ask_all("x", { state = state, daily_usd = 0.5, now_ms = now })
    spec.eq(#batches, 0); spec.eq(info.skipped, "spend_cap"); spec.eq(#results, 3)
    for _, r in ipairs(results) do spec.eq(r.abstain_reason, "spend_cap") end
    spec.ok(find("ai.spend_cap"), "logged"); spec.eq(count("ai.prompt"), 0)
  end)
  spec.it("yesterday's spend does not count today", function()
    setup(ALL_KEYS, all_ok())
    local now = 1795726800000
    local state = { ai_spend = { [cost.utc_day(now - 86400000)] = 99 } }
    local _, info = ai.ask_all("x", { state = state, daily_usd = 0.5, now_ms = now })
    spec.eq(info.skipped, nil); spec.eq(#batches, 1)
  end)
end)

spec.describe("vote and filter", function()
  local function ctx(ai_list, mode)
    return { mode = mode or "PAPER", pair = "XBTUSD", interval = 15, now = 1795726800000, ai = ai_list, state = {},
      decision = {}, portfolio = { cash = 1000, position = 0, position_value = 0 },
      market = { ohlc = function() return { { t = 1, o = 1, h = 2, l = 0.5, c = 1.5, v = 3 } } end } }
  end
  spec.it("ai.vote adds per-provider votes and logs them", function()
    setup(ALL_KEYS, all_ok())
    script.gemini = { status(503) }
    local v = ai.vote((ai.ask_all("x", { state = {} })))
    spec.eq(v.action, "buy"); spec.eq(#v.votes, 3)
    spec.eq(v.votes[3].provider, "gemini"); spec.eq(v.votes[3].abstain, "server_error")
    spec.eq(v.votes[1].action, "buy")
    spec.ok(find("ai.vote"), "logged")
  end)
  spec.it("filter confirms without changing the size and records the vote in ctx.decision", function()
    setup(ALL_KEYS, all_ok())
    local c = ctx({ "openai", "groq", "gemini" })
    local s = ai.filter(c, { action = "buy", quote = 33.5, reason = "t" }, { rsi = 50, flag = true, bad = 0 / 0 })
    spec.eq(s.action, "buy"); spec.eq(s.quote, 33.5)
    spec.eq(c.decision.ai.action, "buy"); spec.eq(#c.decision.ai.votes, 3)
    local p = find("ai.prompt")
    spec.ok(p.user:find("technical_signal=buy", 1, true) and p.user:find("rsi=50", 1, true), p.user)
    spec.eq(p.user:find("nan", 1, true), nil, "non-finite facts left out")
    spec.ok(p.user:find("time=2026-11-26T21:00:00", 1, true), "time from ctx.now")
  end)
  spec.it("filter vetoes a sell when the vote says hold", function()
    setup(ALL_KEYS, { openai = { default = chat_ok("hold") }, groq = { default = chat_ok("hold") }, gemini = { default = gem_ok("hold") } })
    local s = ai.filter(ctx({ "openai", "groq", "gemini" }), { action = "sell", volume = 0.1, reason = "t" }, {})
    spec.eq(s.action, "hold"); spec.eq(s.volume, nil); spec.eq(s.ai.reason, "all_hold")
  end)
  spec.it("filter with the cap reached: technical only, recorded", function()
    setup(ALL_KEYS, all_ok())
    local c = ctx({ "openai" })
    c.state.ai_spend = { [cost.utc_day(c.now)] = 100 }
    local s = ai.filter(c, { action = "buy", quote = 10, reason = "t" }, {}, { daily_usd = 1 })
    spec.eq(s.action, "buy"); spec.eq(s.ai, "technical only (spend_cap)"); spec.eq(c.decision.ai.skipped, "spend_cap")
    spec.eq(#batches, 0)
  end)
  spec.it("filter survives a market that fails", function()
    setup(ALL_KEYS, all_ok())
    local c = ctx({ "openai" })
    c.market.ohlc = function() error("market down") end
    spec.eq(ai.filter(c, { action = "buy", quote = 10, reason = "t" }, {}).action, "buy")
  end)
end)

spec.finish("ai_ask_spec")
