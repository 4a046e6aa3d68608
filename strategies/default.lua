-- The default strategy: long-only EMA trend (21/55) on XBTUSD 15m with an RSI filter, an ATR
-- stop and volatility-scaled size. Indicators are kept incrementally in ctx.state (O(1) per bar;
-- reseeded from a bounded window of candles when the state does not continue the market data).
local ta = require "lib.ta"

-- Tunable parameters. The size of each buy is the smallest of: the volatility target (a stop
-- hit loses risk_per_trade of equity), the room left under risk.max_position_quote,
-- risk.max_order_quote, and the cash (less fee_buffer).
local params = {
  fast = 21,               -- fast EMA period (bars)
  slow = 55,               -- slow EMA period (bars)
  rsi_period = 14,         -- Wilder RSI period
  atr_period = 14,         -- Wilder ATR period
  window = 200,            -- candles used to (re)seed the indicators
  rsi_overbought = 70,     -- no new buy while RSI is above this
  rsi_exit = 80,           -- sell the position when RSI reaches this (take profit into an extreme)
  rsi_reentry = 50,        -- after an RSI exit, buy again only once RSI has cooled below this
  risk_per_trade = 0.01,   -- fraction of equity lost if the stop is hit
  stop_atr = 2.0,          -- stop distance below the entry price, in ATRs (a float: fractions allowed)
  min_trade_quote = 10,    -- smaller buys are skipped; a smaller position is dust (counts as flat)
  fee_buffer = 0.01,       -- keep this fraction of cash for fees and slippage
  stale_intervals = 4,     -- PAPER/LIVE: hold when the last closed candle is older than this many intervals
}

local strategy = {
  name = "default",
  pair = "XBTUSD",
  interval = 15,
  -- Tightens the host's caps (the host enforces them whatever the strategy proposes).
  risk = { max_order_quote = 100, max_position_quote = 500 },
  params = params,
}

-- Changing a period (in the file, or by backtest --set / optimize --param) invalidates indicators
-- kept in ctx.state: they are reseeded. Read when it runs, made once per set of periods.
local sig_text, sig_fast, sig_slow, sig_rsi, sig_atr
local function signature()
  local fast, slow, rsi, atr = params.fast, params.slow, params.rsi_period, params.atr_period
  if fast ~= sig_fast or slow ~= sig_slow or rsi ~= sig_rsi or atr ~= sig_atr then
    sig_fast, sig_slow, sig_rsi, sig_atr = fast, slow, rsi, atr
    sig_text = string.format("ema%d/%d rsi%d atr%d", fast, slow, rsi, atr)
  end
  return sig_text
end

local function warmup()
  return math.max(params.slow + 1, params.rsi_period + 1, params.atr_period + 1)
end

local function finite(x)
  return type(x) == "number" and x == x and x ~= math.huge and x ~= -math.huge
end

-- ---- indicators kept in ctx.state.ind ------------------------------------------------------

-- Computes the indicators over a window of candles (bounded by params.window).
local function indicators_seed(candles)
  local closes = ta.closes(candles)
  local fast, prev_fast = ta.ema(closes, params.fast)
  local slow, prev_slow = ta.ema(closes, params.slow)
  local gain, loss = ta.rsi_averages(closes, params.rsi_period)
  local last = candles[#candles]
  return {
    sig = signature(), t = last.t, close = last.c,
    fast = fast, slow = slow, prev_fast = prev_fast, prev_slow = prev_slow,
    gain = gain, loss = loss, atr = ta.atr(candles, params.atr_period),
  }
end

-- Advances the indicators by one closed candle.
local function indicators_step(ind, c)
  ind.prev_fast, ind.prev_slow = ind.fast, ind.slow
  ind.fast = ta.ema_step(ind.fast, c.c, params.fast)
  ind.slow = ta.ema_step(ind.slow, c.c, params.slow)
  ind.gain, ind.loss = ta.rsi_step(ind.gain, ind.loss, c.c - ind.close, params.rsi_period)
  ind.atr = ta.wilder_step(ind.atr, ta.true_range(c, ind.close), params.atr_period)
  ind.close, ind.t = c.c, c.t
end

-- Full check of indicators read from ctx.state (it went through JSON and a store).
local function indicators_valid(ind)
  return finite(ind.fast) and finite(ind.slow) and finite(ind.prev_fast) and finite(ind.prev_slow)
    and finite(ind.gain) and finite(ind.loss) and finite(ind.atr) and finite(ind.close) and ind.atr >= 0
end

-- Cheap check after a step on already-valid numbers: x - x == 0 fails for inf and NaN.
local function indicators_finite(ind)
  local s = ind.fast + ind.slow + ind.gain + ind.loss + ind.atr + ind.close
  return s - s == 0
end

-- Tables that passed the full check in this process: a backtest keeps the same state table,
-- so the per-bar cost stays a few arithmetic operations.
local checked = setmetatable({}, { __mode = "k" })

-- The reason a market read failed, if the host reports it as nil, err.
local function market_error(err)
  local msg = type(err) == "table" and (err.message or err.code) or err
  return "market data unavailable: " .. tostring(msg or "no candles returned")
end

-- Brings state.ind up to the last closed candle. Returns ind, how ("stepped"|"seeded"|"current")
-- or nil, reason when there is not enough data.
local function indicators_update(ctx, state)
  local pair, interval = ctx.pair or strategy.pair, ctx.interval or strategy.interval
  local ind = state.ind
  if type(ind) == "table" and ind.sig == signature() and (checked[ind] or indicators_valid(ind)) then
    -- Steady state: a few recent candles continue what the state has seen.
    local recent, err = ctx.market.ohlc(pair, interval, 3)
    if not recent then return nil, market_error(err) end
    local n = #recent
    if n == 0 then return nil, "no closed candles from the market" end
    for j = n, 1, -1 do
      if recent[j].t == ind.t then
        if j == n then checked[ind] = true; return ind, "current" end
        for k = j + 1, n do indicators_step(ind, recent[k]) end
        if indicators_finite(ind) then checked[ind] = true; return ind, "stepped" end
        break
      end
    end
  end
  -- First run, a gap (a dropped cron slot), changed parameters or bad values: reseed.
  state.ind = nil
  local candles, err = ctx.market.ohlc(pair, interval, params.window)
  if not candles then return nil, market_error(err) end
  local n = #candles
  if n < warmup() then
    return nil, string.format("not enough candles: have %d, need %d", n, warmup())
  end
  ind = indicators_seed(candles)
  if not indicators_valid(ind) then return nil, "indicators are not finite numbers (bad candle data?)" end
  state.ind = ind
  checked[ind] = true
  return ind, "seeded"
end

-- ---- the technical signal ------------------------------------------------------------------

-- Buy size in quote: volatility target, capped by the risk table and the cash.
local function buy_size(close, atr, cash, position_value)
  local equity = cash + position_value
  local stop_frac = params.stop_atr * atr / close
  local target = strategy.risk.max_position_quote
  if stop_frac > 0 then
    target = math.min(target, equity * params.risk_per_trade / stop_frac)
  end
  local quote = math.min(target - position_value, strategy.risk.max_order_quote,
                         cash * (1 - params.fee_buffer))
  quote = math.floor(quote * 100) / 100        -- whole cents, rounded down
  return quote, target
end

-- The holds of a backtest (no `explain`): one table each, never changed, instead of one per bar.
local HOLD = {
  no_trend = { action = "hold", reason = "no trend" },
  overbought = { action = "hold", reason = "overbought" },
  stopped = { action = "hold", reason = "uptrend but stopped out: waiting for the trend to reset" },
  cooling = { action = "hold", reason = "cooling down" },
  nothing = { action = "hold", reason = "nothing to add" },
}

-- Returns {action = "buy"|"sell"|"hold", reason, quote | volume, protective, block}. Holds get
-- a detailed reason only when `explain` (a backtest skips the formatting: it holds most bars).
local function technical_signal(state, f, explain)
  local holding = f.position_value >= params.min_trade_quote and f.position > 0
  if holding then
    local stop = state.entry_price - params.stop_atr * f.atr
    if f.close <= stop then
      return { action = "sell", volume = f.position, protective = true, block = "stop",
               reason = string.format("stop: close %.2f <= entry %.2f - %g ATR (%.2f)",
                                      f.close, state.entry_price, params.stop_atr, stop) }
    end
    if not f.trend_up then
      return { action = "sell", volume = f.position,
               reason = string.format("trend down: ema%d %.2f <= ema%d %.2f",
                                      params.fast, f.ema_fast, params.slow, f.ema_slow) }
    end
    if f.rsi >= params.rsi_exit then
      return { action = "sell", volume = f.position, block = "rsi",
               reason = string.format("rsi extreme: %.1f >= %g, taking profit", f.rsi, params.rsi_exit) }
    end
  end
  if not f.trend_up then
    if not explain then return HOLD.no_trend end
    return { action = "hold", reason = string.format("no trend: ema%d %.2f <= ema%d %.2f%s",
      params.fast, f.ema_fast, params.slow, f.ema_slow, holding and "" or ", flat") }
  end
  if f.rsi > params.rsi_overbought then
    if not explain then return HOLD.overbought end
    return { action = "hold", reason = string.format("uptrend but overbought: rsi %.1f > %g",
      f.rsi, params.rsi_overbought) }
  end
  if state.block == "stop" then
    return explain and { action = "hold", reason = HOLD.stopped.reason } or HOLD.stopped
  end
  if state.block == "rsi" then
    if not explain then return HOLD.cooling end
    return { action = "hold", reason = string.format(
      "uptrend but cooling down after an rsi exit: rsi %.1f >= %g", f.rsi, params.rsi_reentry) }
  end
  local quote, target = buy_size(f.close, f.atr, f.cash, f.position_value)
  if quote < params.min_trade_quote then
    if not explain then return HOLD.nothing end
    return { action = "hold", reason = string.format(
      "uptrend, nothing to add: position %.2f of target %.2f, cash %.2f, next buy %.2f < minimum %g",
      f.position_value, target, f.cash, math.max(quote, 0), params.min_trade_quote) }
  end
  return { action = "buy", quote = quote, reason = string.format(
    "uptrend: ema%d %.2f > ema%d %.2f, rsi %.1f <= %g; buy %.2f towards target %.2f (atr %.2f)",
    params.fast, f.ema_fast, params.slow, f.ema_slow, f.rsi, params.rsi_overbought, quote, target, f.atr) }
end

-- ==== AI hook ====================================================================================
-- The AI vote filters the technical signal here (strategies/lib/ai.lua): it may confirm or veto a
-- buy or a discretionary sell, never change its size. Protective exits (the stop) bypass it.
-- Without providers (ctx.ai nil or empty), in a backtest, or once the daily AI spend cap is
-- reached: technical only. The vote is stored in ctx.decision.ai with the cycle's record.
local function ai_filter(ctx, signal, facts)
  if signal.action == "hold" or signal.protective then return signal end
  if ctx.mode == "BACKTEST" or type(ctx.ai) ~= "table" or #ctx.ai == 0 then
    signal.ai = "technical only"
    return signal
  end
  local ai = require "lib.ai"                    -- loaded only when a provider is configured
  return ai.filter(ctx, signal, facts, { risk = strategy.risk })
end
-- ==================================================================================================

local function to_intent(signal)
  if signal.action == "buy" then
    return { side = "buy", type = "market", quote = signal.quote, reason = signal.reason }
  end
  return { side = "sell", type = "market", volume = signal.volume, reason = signal.reason }
end

local function no_log() end
local backtest_facts = {}
local NO_ORDERS = {}                           -- a hold's answer, one table for every bar (never filled)

function strategy.on_cycle(ctx)
  local log = ctx.log or no_log
  local verbose = ctx.mode ~= "BACKTEST"      -- a backtest logs decisions only: it runs 100k+ bars
  local state = ctx.state or {}                -- the host always provides it; a bare ctx still works
  local ind, how = indicators_update(ctx, state)
  if not ind then
    log("strategy.hold", { reason = how })
    return {}
  end
  if verbose and type(ctx.now) == "number" then
    local age_s = ctx.now / 1000 - ind.t
    local max_age = params.stale_intervals * (ctx.interval or strategy.interval) * 60
    if age_s > max_age then
      log("strategy.hold", { reason = string.format("stale market data: last candle %d s old", math.floor(age_s)) })
      return {}
    end
  end

  local pf = ctx.portfolio or {}
  local position = tonumber(pf.position) or 0
  -- the facts of this cycle; a backtest fills one table again each bar (nothing keeps it)
  local f = verbose and {} or backtest_facts
  f.candle_t, f.close, f.ema_fast, f.ema_slow = ind.t, ind.close, ind.fast, ind.slow
  f.rsi, f.atr, f.trend_up = ta.rsi_value(ind.gain, ind.loss), ind.atr, ind.fast > ind.slow
  f.cross = ta.cross(ind.prev_fast, ind.fast, ind.prev_slow, ind.slow)
  f.cash, f.position = tonumber(pf.cash) or 0, position
  f.position_value = tonumber(pf.position_value) or position * ind.close
  f.indicators = how

  -- Bookkeeping: the entry price drives the stop. A position found without one (state lost,
  -- or bought outside the strategy) gets the current close: the stop counts from now.
  if f.position_value < params.min_trade_quote or position <= 0 then
    state.entry_price = nil
  elseif not finite(state.entry_price) then
    state.entry_price = f.close
  end
  if state.block == "stop" and not f.trend_up then state.block = nil end
  if state.block == "rsi" and f.rsi < params.rsi_reentry then state.block = nil end
  if verbose then log("strategy.inputs", f) end

  local signal = ai_filter(ctx, technical_signal(state, f, verbose), f)
  if signal.action == "hold" then
    if verbose then log("strategy.decision", { action = "hold", reason = signal.reason, ai = signal.ai, close = f.close, rsi = f.rsi }) end
    return NO_ORDERS
  end
  log("strategy.decision", { action = signal.action, reason = signal.reason, ai = signal.ai,
                             quote = signal.quote, volume = signal.volume, close = f.close, rsi = f.rsi })

  if signal.action == "buy" then
    -- Average entry assuming the order fills near the close; a rejected order is corrected by
    -- the next cycle's bookkeeping when the position is still flat.
    local entry = state.entry_price
    if entry and position > 0 then
      state.entry_price = (entry * position + signal.quote) / (position + signal.quote / f.close)
    else
      state.entry_price = f.close
    end
  else
    state.block = signal.block
    state.last_exit = signal.reason
  end
  state.last_signal = signal.action
  return { to_intent(signal) }
end

return strategy
