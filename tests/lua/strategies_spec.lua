-- Specs for strategies/default.lua driven by a fake ctx with synthetic candles: the trend and
-- RSI rules, volatility-scaled sizes inside the risk table, long-only sells of what is held,
-- holds with logged reasons, incremental indicators equal to a full recomputation.
local spec = require "spec"
local ta = require "lib.ta"
local fake = require "fake_ctx"
local strategy = require "default"
local json = titan.json
local it, eq, near, ok = spec.it, spec.eq, spec.near, spec.ok
local P = strategy.params

-- Runs one cycle and checks what every cycle must satisfy; returns intents, ctx.
local function cycle(o)
  local ctx = fake.ctx(o)
  local intents = strategy.on_cycle(ctx)
  fake.check_intents(intents, strategy.risk, ctx.portfolio)
  json.encode(ctx.state)                       -- the host persists it as JSON
  if ctx.mode ~= "BACKTEST" then ok(#ctx.logs > 0, "every cycle logs something") end
  return intents, ctx
end

local function decision(ctx) return fake.find_log(ctx, "strategy.decision") end

-- 200 candles of an uptrend whose RSI stays moderate: +60 then -45, around 30,000.
local up = fake.candles(fake.zigzag(30000, 200, 60, 45), { wick = 10 })
-- a downtrend: -60 then +45
local down = fake.candles(fake.zigzag(33000, 200, -60, -45), { wick = 10, t0 = 1700000100 + 900 * 1000 })
-- a steady climb: RSI 100
local climb = fake.candles(fake.zigzag(30000, 200, 30, -30))
-- an uptrend with RSI between 70 and 80: +75 then -25
local hot = fake.candles(fake.zigzag(30000, 200, 75, 25), { wick = 5 })
local last_up = up[#up].c
-- a volatile uptrend (ATR ~2.5% of price), for the volatility-scaled size
local wild = fake.candles(fake.zigzag(30000, 200, 900, 700), { wick = 50 })

spec.describe("contract", function()
  it("the table the host validates", function()
    eq(strategy.name, "default"); eq(strategy.pair, "XBTUSD"); eq(strategy.interval, 15)
    eq(type(strategy.on_cycle), "function")
    ok(strategy.risk.max_order_quote > 0 and strategy.risk.max_position_quote >= strategy.risk.max_order_quote)
  end)
  it("fixtures are what the tests assume", function()
    local closes = ta.closes(up)
    ok(ta.ema(closes, P.fast) > ta.ema(closes, P.slow), "up is an uptrend")
    local r = ta.rsi(closes, P.rsi_period); ok(r > 50 and r < 70, "up rsi " .. r)
    r = ta.rsi(ta.closes(hot), P.rsi_period); ok(r > 70 and r < 80, "hot rsi " .. r)
    eq(ta.rsi(ta.closes(climb), P.rsi_period), 100)
    closes = ta.closes(down)
    ok(ta.ema(closes, P.fast) < ta.ema(closes, P.slow), "down is a downtrend")
  end)
end)

spec.describe("entries", function()
  it("rising trend, flat -> one market buy capped by max_order_quote", function()
    local intents, ctx = cycle{ candles = up, cash = 10000 }
    eq(#intents, 1)
    local b = intents[1]
    eq(b.side, "buy"); eq(b.type, "market"); eq(b.quote, strategy.risk.max_order_quote); eq(b.volume, nil)
    ok(b.reason:find("uptrend", 1, true), b.reason)
    near(ctx.state.entry_price, last_up, 1e-9, "entry price remembered")
    eq(ctx.state.last_signal, "buy")
  end)
  it("size is volatility-scaled: a stop hit loses risk_per_trade of equity", function()
    local cash = 300
    local intents = cycle{ candles = wild, cash = cash }
    local atr, close = ta.atr(wild, P.atr_period), wild[#wild].c
    local target = cash * P.risk_per_trade / (P.stop_atr * atr / close)
    ok(target < strategy.risk.max_order_quote, "the fixture must make the volatility target bind")
    eq(#intents, 1); near(intents[1].quote, math.floor(target * 100) / 100, 1e-9, "quote")
  end)
  it("adds only up to max_position_quote", function()
    local value = strategy.risk.max_position_quote - 45
    local intents = cycle{ candles = up, position = value / last_up, position_value = value }
    eq(#intents, 1); eq(intents[1].side, "buy"); near(intents[1].quote, 45, 1e-9)
  end)
  it("at max position -> hold, logged", function()
    local value = strategy.risk.max_position_quote
    local intents, ctx = cycle{ candles = up, position = value / last_up, position_value = value }
    eq(#intents, 0); ok(fake.find_log(ctx, "strategy.decision", "nothing to add"))
  end)
  it("no cash -> hold; small cash -> buy no more than the cash less the fee buffer", function()
    local intents = cycle{ candles = up, cash = 5 }
    eq(#intents, 0)
    intents = cycle{ candles = up, cash = 50 }
    eq(#intents, 1); near(intents[1].quote, 49.5, 1e-9)
  end)
  it("overbought (rsi 70..80) -> no buy, logged", function()
    local intents, ctx = cycle{ candles = hot }
    eq(#intents, 0); ok(fake.find_log(ctx, "strategy.decision", "overbought"))
  end)
  it("rsi 100 while flat -> no buy", function()
    local intents = cycle{ candles = climb }
    eq(#intents, 0)
  end)
  it("falling trend while flat -> hold (long-only: never sells what it lacks)", function()
    local intents, ctx = cycle{ candles = down, position = 0 }
    eq(#intents, 0); ok(fake.find_log(ctx, "strategy.decision", "no trend"))
  end)
end)

spec.describe("exits", function()
  it("falling trend while holding -> sell exactly the held volume", function()
    local intents, ctx = cycle{ candles = down, position = 0.0123 }
    eq(#intents, 1)
    local s = intents[1]
    eq(s.side, "sell"); eq(s.type, "market"); eq(s.volume, 0.0123); eq(s.quote, nil)
    ok(s.reason:find("trend down", 1, true), s.reason)
    eq(ctx.state.last_signal, "sell")
  end)
  it("a dust position is flat: no sell", function()
    local intents = cycle{ candles = down, position = 0.0001 }   -- ~3 USD
    eq(#intents, 0)
  end)
  it("stop: close under entry - 2 ATR -> sell, then no re-entry until the trend resets", function()
    local state = { entry_price = last_up * 1.05 }
    local intents, ctx = cycle{ candles = up, position = 0.01, state = state }
    eq(#intents, 1); eq(intents[1].side, "sell"); eq(intents[1].volume, 0.01)
    ok(intents[1].reason:find("stop", 1, true), intents[1].reason)
    eq(decision(ctx).ai, nil, "a protective exit bypasses the AI hook")
    eq(state.block, "stop")
    -- next cycle: sold, uptrend still on -> hold
    intents, ctx = cycle{ candles = up, position = 0, state = state }
    eq(#intents, 0); ok(fake.find_log(ctx, "strategy.decision", "stopped out"))
    eq(state.entry_price, nil, "flat clears the entry price")
    -- a downtrend resets it
    cycle{ candles = down, position = 0, state = state }
    eq(state.block, nil)
  end)
  it("rsi extreme while holding -> take profit, then cool down", function()
    local state = {}
    local intents = cycle{ candles = climb, position = 0.01, state = state }
    eq(#intents, 1); eq(intents[1].side, "sell")
    ok(intents[1].reason:find("rsi extreme", 1, true), intents[1].reason)
    eq(state.block, "rsi")
  end)
  it("holding in a hot uptrend (rsi 70..80) -> neither sells nor buys", function()
    local intents = cycle{ candles = hot, position = 0.005 }
    eq(#intents, 0)
  end)
  it("a position with no remembered entry gets the current close as entry", function()
    local state = {}
    cycle{ candles = up, position = 0.001, state = state }
    ok(state.entry_price ~= nil, "entry set")
  end)
end)

spec.describe("holds and data", function()
  it("not enough candles -> hold with the reason logged", function()
    local few = fake.candles(fake.zigzag(30000, 30, 60, 45))
    local intents, ctx = cycle{ candles = few }
    eq(#intents, 0)
    local l = fake.find_log(ctx, "strategy.hold", "not enough candles")
    ok(l, "logged"); ok(l.reason:find("have 30, need 56", 1, true), l.reason)
    eq(ctx.state.ind, nil)
  end)
  it("no candles at all -> hold", function()
    local intents, ctx = cycle{ candles = {} }
    eq(#intents, 0); ok(fake.find_log(ctx, "strategy.hold", "not enough candles"))
  end)
  it("stale data in PAPER/LIVE -> hold; a backtest does not check the wall clock", function()
    local now = (up[#up].t + 10 * 900) * 1000
    local intents, ctx = cycle{ candles = up, now = now }
    eq(#intents, 0); ok(fake.find_log(ctx, "strategy.hold", "stale market data"))
    intents = cycle{ candles = up, now = now, mode = "BACKTEST" }
    eq(#intents, 1)
  end)
  it("logs its inputs (indicators, portfolio) and its decision", function()
    local _, ctx = cycle{ candles = up }
    local inputs = fake.find_log(ctx, "strategy.inputs")
    ok(inputs, "inputs logged")
    for _, k in ipairs{ "close", "ema_fast", "ema_slow", "rsi", "atr", "cash", "position", "position_value" } do
      ok(type(inputs[k]) == "number", "inputs." .. k)
    end
    local d = decision(ctx)
    eq(d.action, "buy"); ok(#d.reason > 0); eq(d.ai, "technical only")
  end)
  it("a backtest logs the decision only", function()
    local _, ctx = cycle{ candles = up, mode = "BACKTEST" }
    eq(fake.find_log(ctx, "strategy.inputs"), nil); ok(decision(ctx))
  end)
  it("AI hook: providers listed but every one abstaining (no key) -> the buy is vetoed, fail closed", function()
    local intents, ctx = cycle{ candles = up, ai = { "openai", "groq" } }
    eq(#intents, 0)
    local d = decision(ctx)
    ok(d.reason:find("AI veto", 1, true), d.reason)
    eq(type(d.ai) == "table" and d.ai.reason, "no_votes")
  end)
  it("reads a bounded window: never more than params.window candles", function()
    local _, ctx = cycle{ candles = up }
    for _, n in ipairs(ctx.calls) do ok(n <= P.window, "asked for " .. n) end
  end)
end)

spec.describe("incremental indicators", function()
  -- a noisy series long enough to matter, replayed bar by bar through a JSON round trip of
  -- the state each cycle, as the store would do
  local closes, x = {}, 30000
  for k = 1, 190 do x = x + ((k * 7919) % 23 - 10.5) * 8; closes[k] = x end
  local candles = fake.candles(closes, { wick = 12 })

  it("stepping bar by bar equals a full recomputation over the same data", function()
    local state, calls = {}, {}
    for upto = 60, #candles do
      local ctx = fake.ctx{ candles = candles, state = state, mode = "BACKTEST" }
      ctx.upto = upto
      strategy.on_cycle(ctx)
      for _, n in ipairs(ctx.calls) do calls[#calls + 1] = n end
      state = json.decode(json.encode(ctx.state))
    end
    local ind = state.ind
    near(ind.fast, ta.ema(closes, P.fast), 1e-6, "ema fast")
    near(ind.slow, ta.ema(closes, P.slow), 1e-6, "ema slow")
    near(ta.rsi_value(ind.gain, ind.loss), ta.rsi(closes, P.rsi_period), 1e-6, "rsi")
    near(ind.atr, ta.atr(candles, P.atr_period), 1e-6, "atr")
    eq(ind.t, candles[#candles].t)
    eq(calls[1], P.window, "first cycle seeds from the window")
    for k = 2, #calls do eq(calls[k], 3, "later cycles read 3 candles (call " .. k .. ")") end
  end)
  it("a gap in the data (dropped cron slots) reseeds", function()
    local state = {}
    cycle{ candles = up, state = state }
    state.ind.t = state.ind.t - 10 * 900
    local _, ctx = cycle{ candles = up, state = state }
    eq(fake.find_log(ctx, "strategy.inputs").indicators, "seeded")
  end)
  it("the same candle twice does not step twice", function()
    local state = {}
    cycle{ candles = up, state = state }
    local fast = state.ind.fast
    local _, ctx = cycle{ candles = up, state = state }
    eq(state.ind.fast, fast); eq(fake.find_log(ctx, "strategy.inputs").indicators, "current")
  end)
  it("changed parameters or a corrupted state reseed instead of failing", function()
    for _, bad in ipairs{ { sig = "ema1/2 rsi3 atr4" }, { fast = "x" }, { atr = -1 }, { loss = false }, "junk" } do
      local state = {}
      cycle{ candles = up, state = state }
      state = json.decode(json.encode(state))      -- as the store hands it back: a new table
      if type(bad) == "table" then for k, v in pairs(bad) do state.ind[k] = v end else state.ind = bad end
      local intents, ctx = cycle{ candles = up, state = state }
      eq(#intents, 1); eq(fake.find_log(ctx, "strategy.inputs").indicators, "seeded")
    end
  end)
  it("speed: replaying bars incrementally, with fills applied", function()
    -- waves of a few days with bar-to-bar noise, so it trends, reverses, buys and sells
    local n, cl = 20000, {}
    for k = 1, n + 60 do cl[k] = 30000 + 3000 * math.sin(k / 250) + ((k * 7919) % 23 - 11) * 6 end
    local cs = fake.candles(cl, { wick = 10 })
    local ctx = fake.ctx{ candles = cs, state = {}, mode = "BACKTEST", cash = 10000 }
    local pf = ctx.portfolio
    ctx.log = function() end
    ctx.market.ohlc = function(_, _, k)             -- cheaper than the recording fake
      local out, first = {}, math.max(1, ctx.upto - k + 1)
      for j = first, ctx.upto do out[#out + 1] = cs[j] end
      return out
    end
    local buys, sells = 0, 0
    local t0 = os.clock()
    for upto = 61, n + 60 do
      ctx.upto = upto
      local c = cs[upto].c
      pf.position_value = pf.position * c
      local intents = strategy.on_cycle(ctx)
      local o = intents[1]
      if o and o.side == "buy" then
        pf.cash, pf.position, buys = pf.cash - o.quote, pf.position + o.quote / c, buys + 1
      elseif o then
        pf.cash, pf.position, sells = pf.cash + o.volume * c, pf.position - o.volume, sells + 1
      end
    end
    local rate = n / math.max(os.clock() - t0, 1e-9)
    print(string.format("default.lua: %.0f bars/s with a Lua fake ctx (%d buys, %d sells)", rate, buys, sells))
    ok(buys > 0 and sells > 0, "the replay should trade both ways")
    ok(pf.position >= 0 and pf.cash >= 0, "never sold more than held nor spent more than the cash")
    ok(rate > 20000, "too slow: " .. rate .. " bars/s")
  end)
end)

spec.finish("strategies")
