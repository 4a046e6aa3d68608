-- Example: simple moving-average crossover, long-only, on XBTUSD 1h.
-- Buys a fixed quote amount when SMA(fast) crosses above SMA(slow) while flat; sells everything
-- it holds when SMA(fast) crosses below SMA(slow). Tuned by `params` (read on every cycle, so
-- `backtest --set` and `optimize --param` can change them).
local ta = require "lib.ta"

local params = {
  fast = 10,                  -- fast SMA period (bars)
  slow = 30,                  -- slow SMA period (bars)
  buy_quote = 50,             -- quote currency per buy (inside risk.max_order_quote)
  dust_quote = 10,            -- a position worth less than this counts as flat
}

return {
  name = "sma_cross",
  pair = "XBTUSD",
  interval = 60,
  risk = { max_order_quote = 50, max_position_quote = 200 },
  params = params,

  on_cycle = function(ctx)
    local log = ctx.log or function() end
    local FAST, SLOW = params.fast, params.slow
    local BUY_QUOTE, DUST_QUOTE = params.buy_quote, params.dust_quote
    local candles = ctx.market.ohlc(ctx.pair, ctx.interval, SLOW + 1)
    if #candles < SLOW + 1 then
      log("strategy.hold", { reason = string.format("not enough candles: have %d, need %d", #candles, SLOW + 1) })
      return {}
    end
    local closes = ta.closes(candles)
    local n = #closes
    local fast_now, fast_prev = ta.sma(closes, FAST, n), ta.sma(closes, FAST, n - 1)
    local slow_now, slow_prev = ta.sma(closes, SLOW, n), ta.sma(closes, SLOW, n - 1)
    local cross = ta.cross(fast_prev, fast_now, slow_prev, slow_now)
    local position = ctx.portfolio.position or 0
    local holding = position > 0 and position * closes[n] >= DUST_QUOTE
    log("strategy.inputs", { close = closes[n], sma_fast = fast_now, sma_slow = slow_now,
                             cross = cross, position = position })

    if cross == "above" and not holding then
      local quote = math.min(BUY_QUOTE, (ctx.portfolio.cash or 0) * 0.99)
      if quote < DUST_QUOTE then
        log("strategy.hold", { reason = "cross above but not enough cash" })
        return {}
      end
      return { { side = "buy", type = "market", quote = math.floor(quote * 100) / 100,
                 reason = string.format("sma%d crossed above sma%d (%.2f > %.2f)", FAST, SLOW, fast_now, slow_now) } }
    end
    if cross == "below" and holding then
      return { { side = "sell", type = "market", volume = position,
                 reason = string.format("sma%d crossed below sma%d (%.2f < %.2f)", FAST, SLOW, fast_now, slow_now) } }
    end
    log("strategy.hold", { reason = cross and ("cross " .. cross .. ", nothing to do") or "no cross" })
    return {}
  end,
}
