-- A fake strategy ctx for specs: synthetic candles served like the host serves them (closed,
-- oldest first, the last n), a portfolio, a state table and a log that keeps every event.
-- Not a spec itself; required by strategies_spec.lua and strategy_examples.lua.
local fake = {}

local json = titan.json

-- fake.candles(closes, opts) -> candles {t, o, h, l, c, vwap, v, n}: t every opts.step seconds
-- (default 900) from opts.t0; o = previous close; h/l = max/min(o, c) +/- opts.wick (default 0).
function fake.candles(closes, opts)
  opts = opts or {}
  local step, t0, wick = opts.step or 900, opts.t0 or 1700000100, opts.wick or 0
  t0 = t0 - t0 % step
  local out = {}
  for k, c in ipairs(closes) do
    local o = closes[k - 1] or c
    out[k] = { t = t0 + (k - 1) * step, o = o, h = math.max(o, c) + wick, l = math.min(o, c) - wick,
               c = c, vwap = (o + c) / 2, v = 1.5, n = 10 }
  end
  return out
end

-- fake.zigzag(start, n, up, down) -> n closes that go +up then -down alternately.
function fake.zigzag(start, n, up, down)
  local out, c = {}, start
  for k = 1, n do
    out[k] = c
    if k % 2 == 1 then c = c + up else c = c - down end
  end
  return out
end

-- fake.ctx{candles, cash, position, position_value, state, mode, ai, pair, interval, now}
-- -> ctx. ctx.logs holds {event, fields} pairs; ctx.calls the n of every ohlc call.
-- ctx.upto = k makes only candles[1..k] visible (to replay a series bar by bar).
function fake.ctx(o)
  local candles = o.candles or {}
  local pair, interval = o.pair or "XBTUSD", o.interval or 15
  local ctx = { mode = o.mode or "PAPER", cycle_id = "spec@2023-11-14T22:15Z", pair = pair, interval = interval,
                state = o.state or {}, ai = o.ai or {}, logs = {}, calls = {}, upto = #candles }
  local last = candles[#candles]
  ctx.now = o.now or ((last and last.t or 0) + 2 * interval * 60) * 1000
  ctx.market = {
    ohlc = function(p, i, n)
      assert(p == pair, "ohlc: wrong pair " .. tostring(p))
      assert(i == interval, "ohlc: wrong interval " .. tostring(i))
      assert(math.type(n) == "integer" and n >= 1, "ohlc: n must be a positive integer")
      ctx.calls[#ctx.calls + 1] = n
      local out, first = {}, math.max(1, ctx.upto - n + 1)
      for k = first, ctx.upto do out[#out + 1] = candles[k] end
      return out
    end,
    ticker = function(p)
      assert(p == pair, "ticker: wrong pair")
      local c = candles[ctx.upto].c
      return { last = c, bid = c - 0.5, ask = c + 0.5 }
    end,
  }
  local position = o.position or 0
  local close = last and last.c or 0
  ctx.portfolio = { cash = o.cash or 10000, position = position,
                    position_value = o.position_value or position * close,
                    balances = { ZUSD = o.cash or 10000, XXBT = position }, open_orders = {} }
  ctx.log = function(event, fields)
    assert(type(event) == "string" and event ~= "", "log: event must be a string")
    assert(fields == nil or type(fields) == "table", "log: fields must be a table")
    json.encode(fields or {})          -- what the blackbox would do: raises on NaN, functions...
    ctx.logs[#ctx.logs + 1] = { event = event, fields = fields or {} }
  end
  return ctx
end

-- fake.find_log(ctx, event, pattern) -> the first logged fields of that event whose reason
-- contains pattern (plain), or nil.
function fake.find_log(ctx, event, pattern)
  for _, e in ipairs(ctx.logs) do
    if e.event == event and (not pattern or tostring(e.fields.reason):find(pattern, 1, true)) then
      return e.fields
    end
  end
  return nil
end

-- fake.check_intents(intents, risk, portfolio) raises unless every intent is one the host
-- would accept on its face: known fields, side/type, exactly one finite positive size, a reason,
-- a buy within the strategy's risk and the cash, a sell of no more than the position.
function fake.check_intents(intents, risk, portfolio)
  assert(type(intents) == "table", "intents must be a table")
  local allowed = { side = true, type = true, volume = true, quote = true, price = true, reason = true }
  for k, it in pairs(intents) do
    assert(math.type(k) == "integer", "intents must be a list")
    for f in pairs(it) do assert(allowed[f], "unknown intent field " .. tostring(f)) end
    assert(it.side == "buy" or it.side == "sell", "bad side " .. tostring(it.side))
    assert(it.type == "market" or it.type == "limit", "bad type " .. tostring(it.type))
    assert((it.volume == nil) ~= (it.quote == nil), "exactly one of volume and quote")
    local size = it.volume or it.quote
    assert(type(size) == "number" and size == size and size > 0 and size < math.huge, "bad size " .. tostring(size))
    if it.type == "limit" then assert(type(it.price) == "number" and it.price > 0, "limit without price") end
    if it.type == "market" then assert(it.price == nil, "market order with a price") end
    assert(type(it.reason) == "string" and #it.reason > 0, "intent without a reason")
    if it.side == "buy" and it.quote then
      assert(it.quote <= risk.max_order_quote + 1e-9, "buy over max_order_quote: " .. it.quote)
      assert(it.quote <= portfolio.cash, "buy over the cash: " .. it.quote)
    end
    if it.side == "sell" then
      assert(it.volume and it.volume <= portfolio.position + 1e-12, "sell more than held")
    end
  end
  return true
end

return fake
