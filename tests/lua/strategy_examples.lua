-- Specs for examples/*.lua. Run by tests/e2e/test_strategies_check.sh, which copies this file,
-- spec.lua, fake_ctx.lua and the examples into one folder (require searches the script's folder;
-- examples/ is not on the module path). Each example is replayed bar by bar with fills applied.
local spec = require "spec"
local ta = require "lib.ta"
local fake = require "fake_ctx"
local json = titan.json
local it, eq, ok = spec.it, spec.eq, spec.ok

-- Replays candles from bar `from` with a paper portfolio; returns the list of trades
-- {k = bar, side, reason} and the last ctx.
local function replay(strategy, candles, from, cash)
  local state, trades = {}, {}
  local pf = { cash = cash or 1000, position = 0 }
  local ctx
  for k = from, #candles do
    ctx = fake.ctx{ candles = candles, state = state, cash = pf.cash, position = pf.position,
                    interval = strategy.interval }
    ctx.upto = k
    local c = candles[k].c
    ctx.portfolio.position_value = pf.position * c
    local intents = strategy.on_cycle(ctx)
    fake.check_intents(intents, strategy.risk, ctx.portfolio)
    ok(#intents <= 1, "one intent at most")
    local o = intents[1]
    if o then
      trades[#trades + 1] = { k = k, side = o.side, reason = o.reason }
      if o.side == "buy" then
        pf.cash, pf.position = pf.cash - o.quote, pf.position + o.quote / c
      else
        eq(o.volume, pf.position, "sells exactly what it holds")
        pf.cash, pf.position = pf.cash + o.volume * c, 0
      end
    end
    state = json.decode(json.encode(ctx.state))       -- the store keeps JSON
  end
  return trades, ctx
end

-- Down for `n` bars then up for `n` bars then down again, with small noise.
local function waves(n, step)
  local out, x = {}, 30000
  for k = 1, 3 * n do
    local dir = (k <= n or k > 2 * n) and -1 or 1
    x = x + dir * step + ((k * 7919) % 7 - 3) * step * 0.1
    out[k] = x
  end
  return out
end

local function first_cross(closes, fast_fn, slow_fn, from, want)
  for k = from, #closes do
    local f1, f0 = fast_fn(closes, k), fast_fn(closes, k - 1)
    local s1, s0 = slow_fn(closes, k), slow_fn(closes, k - 1)
    if ta.cross(f0, f1, s0, s1) == want then return k end
  end
end

local function check_contract(s, name, interval)
  eq(s.name, name); eq(s.pair, "XBTUSD"); eq(s.interval, interval); eq(type(s.on_cycle), "function")
end

spec.describe("sma_cross", function()
  local s = require "sma_cross"
  local closes = waves(60, 40)
  local candles = fake.candles(closes, { step = 3600, wick = 5 })
  local sma10 = function(v, k) return ta.sma(v, 10, k) end
  local sma30 = function(v, k) return ta.sma(v, 30, k) end
  it("contract", function() check_contract(s, "sma_cross", 60) end)
  it("not enough candles -> hold, logged", function()
    local ctx = fake.ctx{ candles = fake.candles({ 1, 2, 3 }, { step = 3600 }), interval = 60 }
    eq(#s.on_cycle(ctx), 0); ok(fake.find_log(ctx, "strategy.hold", "not enough candles"))
  end)
  it("buys on the bar SMA10 crosses above SMA30, sells on the cross below", function()
    local trades = replay(s, candles, 31)
    local up = first_cross(closes, sma10, sma30, 32, "above")
    local down = first_cross(closes, sma10, sma30, up + 1, "below")
    ok(up and down, "the fixture has both crosses")
    eq(#trades, 2)
    eq(trades[1].side, "buy"); eq(trades[1].k, up)
    eq(trades[2].side, "sell"); eq(trades[2].k, down)
  end)
  it("a cross below while flat sells nothing", function()
    local trades = replay(s, candles, 125)   -- starts after the buy: flat at the cross below
    eq(#trades, 0)
  end)
end)

spec.describe("ema_cross", function()
  local s = require "ema_cross"
  local closes = waves(30, 40)                  -- 90 bars: inside the 100-candle seed window
  local candles = fake.candles(closes, { wick = 5 })
  local ema12 = function(v, k) return (ta.ema(v, 12, k)) end
  local ema26 = function(v, k) return (ta.ema(v, 26, k)) end
  it("contract", function() check_contract(s, "ema_cross", 15) end)
  it("not enough candles -> hold, logged", function()
    local ctx = fake.ctx{ candles = fake.candles({ 1, 2, 3 }) }
    eq(#s.on_cycle(ctx), 0); ok(fake.find_log(ctx, "strategy.hold", "not enough candles"))
  end)
  it("buys on the EMA12/26 cross above, sells on the cross below (state kept incrementally)", function()
    local trades = replay(s, candles, 27)
    local up = first_cross(closes, ema12, ema26, 28, "above")
    local down = first_cross(closes, ema12, ema26, up + 1, "below")
    ok(up and down, "the fixture has both crosses")
    eq(#trades, 2)
    eq(trades[1].side, "buy"); eq(trades[1].k, up)
    eq(trades[2].side, "sell"); eq(trades[2].k, down)
  end)
  it("the same candle twice does not trade twice", function()
    local up = first_cross(closes, ema12, ema26, 28, "above")
    local state = {}
    local ctx = fake.ctx{ candles = candles, state = state }
    ctx.upto = up - 1; s.on_cycle(ctx)
    ctx.upto = up; eq(#s.on_cycle(ctx), 1)
    eq(#s.on_cycle(ctx), 0)
  end)
end)

spec.describe("rsi_reversion", function()
  local s = require "rsi_reversion"
  local closes = waves(40, 40)
  local candles = fake.candles(closes, { wick = 5 })
  it("contract", function() check_contract(s, "rsi_reversion", 15) end)
  it("not enough candles -> hold, logged", function()
    local ctx = fake.ctx{ candles = fake.candles({ 1, 2, 3 }) }
    eq(#s.on_cycle(ctx), 0); ok(fake.find_log(ctx, "strategy.hold", "not enough candles"))
  end)
  it("buys when oversold, sells once RSI reverted above 55", function()
    local trades = replay(s, candles, 16)
    ok(#trades >= 2, "trades: " .. #trades)
    eq(trades[1].side, "buy"); eq(trades[2].side, "sell")
    local window = function(k) local v = ta.closes(candles, nil); return { table.unpack(v, math.max(1, k - 99), k) } end
    ok(ta.rsi(window(trades[1].k), 14) < 30, "bought below 30")
    ok(ta.rsi(window(trades[2].k), 14) > 55, "sold above 55")
    ok(trades[2].reason:find("reverted", 1, true), trades[2].reason)
  end)
  it("stop: 5% under the entry sells", function()
    local cl = {}
    for k = 1, 60 do cl[k] = 30000 - k * 100 end        -- falls: oversold all the way
    local cs = fake.candles(cl)
    local trades = replay(s, cs, 16)
    eq(trades[1].side, "buy"); eq(trades[2].side, "sell")
    ok(trades[2].reason:find("stop", 1, true), trades[2].reason)
  end)
end)

spec.finish("strategy_examples")
