-- Example: EMA(12/26) crossover, long-only, on XBTUSD 15m, with the EMAs kept incrementally in
-- ctx.state so each cycle costs O(1) (the backtest benchmark runs it). Buys on a cross above
-- while flat, sells what it holds on a cross below. Tuned by `params` (read on every cycle, so
-- `backtest --set` and `optimize --param` can change them).
local ta = require "lib.ta"

local params = {
  fast = 12,                  -- fast EMA period (bars)
  slow = 26,                  -- slow EMA period (bars)
  window = 100,               -- candles to seed the EMAs from
  buy_quote = 50,             -- quote currency per buy
  dust_quote = 10,            -- a position worth less than this counts as flat
}
local cross_of = ta.cross
-- ta.ema_step's smoothing factors, computed once per pair of periods: this runs on every bar
local ALPHA_FAST, ALPHA_SLOW, alphas_of_fast, alphas_of_slow
local function alphas()
  if alphas_of_fast ~= params.fast or alphas_of_slow ~= params.slow then
    alphas_of_fast, alphas_of_slow = params.fast, params.slow
    ALPHA_FAST, ALPHA_SLOW = 2 / (params.fast + 1), 2 / (params.slow + 1)
  end
end

-- Brings the EMAs in state s up to the last closed candle: "stepped" or "seeded", "current"
-- when no candle closed since the last cycle, nil when data is short.
local function update_emas(ctx, s)
  alphas()
  if s.t then
    local recent = ctx.market.ohlc(ctx.pair, ctx.interval, 3)
    for j = #recent, 1, -1 do
      if recent[j].t == s.t then
        if j == #recent then return "current" end
        for k = j + 1, #recent do
          local c, fast, slow = recent[k].c, s.fast, s.slow
          s.prev_fast, s.prev_slow = fast, slow
          s.fast, s.slow = fast + ALPHA_FAST * (c - fast), slow + ALPHA_SLOW * (c - slow)
          s.t, s.close = recent[k].t, c
        end
        return "stepped"
      end
    end
  end
  local candles = ctx.market.ohlc(ctx.pair, ctx.interval, params.window)   -- first run or a gap: reseed
  local closes = ta.closes(candles)
  s.fast, s.prev_fast = ta.ema(closes, params.fast)
  s.slow, s.prev_slow = ta.ema(closes, params.slow)
  if not s.prev_slow then s.t = nil; return nil end
  s.t, s.close = candles[#candles].t, closes[#closes]
  return "seeded"
end

return {
  name = "ema_cross",
  pair = "XBTUSD",
  interval = 15,
  risk = { max_order_quote = 50, max_position_quote = 200 },
  params = params,

  on_cycle = function(ctx)
    local log = ctx.log or function() end
    local s = ctx.state
    local how = update_emas(ctx, s)
    if not how then
      log("strategy.hold", { reason = string.format("not enough candles: need %d", params.slow + 1) })
      return {}
    end
    if how == "current" then return {} end    -- this candle was already handled
    local cross = cross_of(s.prev_fast, s.fast, s.prev_slow, s.slow)
    if not cross then return {} end           -- nothing happened: stay quiet (cheap in backtests)

    local FAST, SLOW, BUY_QUOTE, DUST_QUOTE = params.fast, params.slow, params.buy_quote, params.dust_quote
    local position = ctx.portfolio.position or 0
    local value = ctx.portfolio.position_value or position * s.close
    log("strategy.inputs", { ema_fast = s.fast, ema_slow = s.slow, cross = cross, position = position })
    if cross == "above" and value < DUST_QUOTE then
      local quote = math.min(BUY_QUOTE, (ctx.portfolio.cash or 0) * 0.99)
      if quote >= DUST_QUOTE then
        return { { side = "buy", type = "market", quote = math.floor(quote * 100) / 100,
                   reason = string.format("ema%d crossed above ema%d", FAST, SLOW) } }
      end
    elseif cross == "below" and position > 0 and value >= DUST_QUOTE then
      return { { side = "sell", type = "market", volume = position,
                 reason = string.format("ema%d crossed below ema%d", FAST, SLOW) } }
    end
    log("strategy.hold", { reason = "cross " .. cross .. ", nothing to do" })
    return {}
  end,
}
