-- The AI as a filter on the technical signal, against the loopback AI fake: lib.ai.filter
-- directly and through strategies/default.lua's on_cycle with a fake ctx (synthetic candles).
-- Agreeing providers confirm (same size), disagreeing or failing ones veto, the spend cap and
-- backtests run technical-only, and no provider is ever asked for a size.
-- Run by tests/e2e/test_ai.sh: ai_strategy_spec.lua FAKE_URL
local spec = require "spec"           -- test_ai.sh copies spec.lua and fake_ctx.lua beside this file
local fake = require "fake_ctx"
local ai = require "lib.ai"
local cost = require "lib.ai.cost"
local strategy = require "default"
local json = titan.json

local FAKE = assert(arg[1], "usage: ai_strategy_spec.lua FAKE_URL")
local ALL = { "openai", "groq", "gemini" }

local function post(path, body)
  local res = titan.http.request{ method = "POST", url = FAKE .. path, body = json.encode(body),
    headers = { ["Content-Type"] = "application/json" }, timeout_ms = 5000 }
  assert(res and res.status == 200, "fake control failed")
end
local function control(t) post("/_control", t) end
local function reset() post("/_reset", {}) end
local function requests()
  local s = json.decode(assert(titan.http.request{ url = FAKE .. "/_stats", timeout_ms = 5000 }).body)
  return s.requests.openai + s.requests.groq + s.requests.gemini, s
end

-- 200 candles of an uptrend with a moderate RSI: the technical signal is a buy when flat
local up = fake.candles(fake.zigzag(30000, 200, 60, 45), { wick = 10 })
-- a downtrend: a held position is sold (a discretionary sell, not the stop)
local down = fake.candles(fake.zigzag(33000, 200, -60, -45), { wick = 10, t0 = 1700000100 + 900 * 1000 })

local function cycle(o)
  local ctx = fake.ctx(o)
  local intents = strategy.on_cycle(ctx)
  fake.check_intents(intents, strategy.risk, ctx.portfolio)
  json.encode(ctx.state)
  return intents, ctx
end

-- the technical-only intents for the same inputs, to compare sizes
local function technical(o)
  local copy = {}
  for k, v in pairs(o) do copy[k] = v end
  copy.ai, copy.state = {}, {}
  return (cycle(copy))
end

spec.describe("lib.ai.filter", function()
  local function ctx_with(ai_list, mode) return { mode = mode or "PAPER", pair = "XBTUSD", interval = 15, ai = ai_list, state = {} } end
  spec.it("confirms a buy when the vote agrees, keeping the size", function()
    reset()
    local s = ai.filter(ctx_with(ALL), { action = "buy", quote = 42, reason = "tech" }, { rsi = 55, ema = 1 / 0 })
    spec.eq(s.action, "buy"); spec.eq(s.quote, 42)
    spec.ok(s.reason:find("^tech; AI buy: 3 of 3"), s.reason)
    spec.eq(s.ai.action, "buy"); spec.eq(#s.ai.votes, 3)
  end)
  spec.it("vetoes on disagreement", function()
    reset(); control{ provider = "groq", action = "sell" }
    local s = ai.filter(ctx_with(ALL), { action = "buy", quote = 42, reason = "tech" }, {})
    spec.eq(s.action, "hold"); spec.eq(s.quote, nil); spec.ok(s.reason:find("AI veto", 1, true), s.reason)
    spec.eq(s.ai.reason, "conflict")
  end)
  spec.it("hold and a protective-free sell: the AI is not asked for a hold", function()
    reset()
    local s = ai.filter(ctx_with(ALL), { action = "hold", reason = "flat" }, {})
    spec.eq(s.action, "hold"); spec.eq(requests(), 0)
  end)
  spec.it("technical only in a backtest or without providers: no request", function()
    reset()
    spec.eq(ai.filter(ctx_with(ALL, "BACKTEST"), { action = "buy", quote = 1, reason = "t" }, {}).ai, "technical only")
    spec.eq(ai.filter(ctx_with({}), { action = "buy", quote = 1, reason = "t" }, {}).ai, "technical only")
    spec.eq(ai.filter(ctx_with(nil), { action = "sell", volume = 1, reason = "t" }, {}).ai, "technical only")
    spec.eq(requests(), 0)
  end)
end)

spec.describe("default.lua with AI", function()
  spec.it("three agreeing providers confirm the buy, same size as technical-only", function()
    reset()
    local want = technical{ candles = up }
    spec.eq(#want, 1, "the technical signal is a buy")
    local intents, ctx = cycle{ candles = up, ai = ALL }
    spec.eq(#intents, 1); spec.eq(intents[1].side, "buy"); spec.eq(intents[1].quote, want[1].quote, "AI never sizes")
    spec.ok(intents[1].reason:find("AI buy: 3 of 3", 1, true), intents[1].reason)
    spec.eq(requests(), 3)
    spec.ok(ctx.state.ai_spend, "spend kept in ctx.state")
  end)
  spec.it("disagreeing providers -> hold (no intent)", function()
    reset(); control{ provider = "openai", action = "sell" }; control{ provider = "gemini", action = "hold" }
    local intents, ctx = cycle{ candles = up, ai = ALL }
    spec.eq(#intents, 0)
    spec.ok(fake.find_log(ctx, "strategy.decision", "AI veto"), "veto logged with its reason")
  end)
  spec.it("every provider failing -> hold", function()
    reset(); control{ provider = "all", mode = "server_error" }
    local intents = cycle{ candles = up, ai = ALL }
    spec.eq(#intents, 0)
  end)
  spec.it("a confirmed discretionary sell keeps the held volume; a vetoed one holds", function()
    reset(); control{ provider = "all", action = "sell" }
    local intents = cycle{ candles = down, position = 0.0123, ai = ALL }
    spec.eq(#intents, 1); spec.eq(intents[1].side, "sell"); spec.eq(intents[1].volume, 0.0123)
    reset(); control{ provider = "all", action = "hold", confidence = 0.9 }
    intents = cycle{ candles = down, position = 0.0123, ai = ALL }
    spec.eq(#intents, 0)
  end)
  spec.it("spend cap reached: no AI request, technical-only buy", function()
    reset()
    -- the spend is kept per UTC day of the cycle (ctx.now), not of the wall clock
    local state = { ai_spend = { [cost.utc_day(fake.ctx{ candles = up }.now)] = 1000 } }
    local intents, ctx = cycle{ candles = up, ai = ALL, state = state }
    spec.eq(requests(), 0, "no request to any provider")
    spec.eq(#intents, 1); spec.eq(intents[1].side, "buy")
    local d = fake.find_log(ctx, "strategy.decision")
    spec.ok(tostring(d.ai):find("spend_cap", 1, true), tostring(d.ai))
  end)
  spec.it("a backtest never asks", function()
    reset()
    local intents = cycle{ candles = up, ai = ALL, mode = "BACKTEST" }
    spec.eq(#intents, 1); spec.eq(requests(), 0)
  end)
end)

spec.finish("ai_strategy_spec")
