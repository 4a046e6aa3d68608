-- Example: RSI mean reversion, long-only, on XBTUSD 15m.
-- Buys a fixed quote amount when RSI(14) is oversold (< 30) while flat; sells what it holds once
-- RSI has reverted above 55, or when price falls 5% below the entry (a stop). Tuned by `params`
-- (read on every cycle, so `backtest --set` and `optimize --param` can change them).
local ta = require "lib.ta"

local params = {
  period = 14,                -- Wilder RSI period (bars)
  window = 100,               -- candles for Wilder's smoothing to settle
  oversold = 30,              -- buy under this RSI
  exit = 55,                  -- sell over this RSI
  stop = 0.05,                -- sell when the close is this fraction below the entry price
  buy_quote = 40,             -- quote currency per buy
  dust_quote = 10,            -- a position worth less than this counts as flat
}

return {
  name = "rsi_reversion",
  pair = "XBTUSD",
  interval = 15,
  risk = { max_order_quote = 40, max_position_quote = 120 },
  params = params,

  on_cycle = function(ctx)
    local log = ctx.log or function() end
    local PERIOD, WINDOW, OVERSOLD, EXIT = params.period, params.window, params.oversold, params.exit
    local STOP, BUY_QUOTE, DUST_QUOTE = params.stop, params.buy_quote, params.dust_quote
    local candles = ctx.market.ohlc(ctx.pair, ctx.interval, WINDOW)
    local rsi = ta.rsi(ta.closes(candles), PERIOD)
    if not rsi then
      log("strategy.hold", { reason = string.format("not enough candles: have %d, need %d", #candles, PERIOD + 1) })
      return {}
    end
    local close = candles[#candles].c
    local position = ctx.portfolio.position or 0
    local holding = position > 0 and position * close >= DUST_QUOTE
    if not holding then ctx.state.entry = nil end
    log("strategy.inputs", { close = close, rsi = rsi, position = position, entry = ctx.state.entry })

    if holding then
      local entry = ctx.state.entry or close
      ctx.state.entry = entry
      if rsi > EXIT then
        return { { side = "sell", type = "market", volume = position,
                   reason = string.format("rsi %.1f > %d: reverted, selling", rsi, EXIT) } }
      end
      if close < entry * (1 - STOP) then
        return { { side = "sell", type = "market", volume = position,
                   reason = string.format("stop: close %.2f is %.0f%% under entry %.2f", close, STOP * 100, entry) } }
      end
    elseif rsi < OVERSOLD then
      local quote = math.min(BUY_QUOTE, (ctx.portfolio.cash or 0) * 0.99)
      if quote >= DUST_QUOTE then
        ctx.state.entry = close
        return { { side = "buy", type = "market", quote = math.floor(quote * 100) / 100,
                   reason = string.format("rsi %.1f < %d: oversold, buying", rsi, OVERSOLD) } }
      end
    end
    log("strategy.hold", { reason = string.format("rsi %.1f, %s", rsi, holding and "holding" or "flat") })
    return {}
  end,
}
