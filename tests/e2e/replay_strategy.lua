-- A strategy for tests/e2e/test_replay.sh. It reads everything a capsule must hold — candles and the
-- ticker, ctx.portfolio and ctx.state, the clock, an environment variable, math.random and the AI
-- vote — and puts what it read in ctx.decision, so a replay that reproduces its decision record byte
-- for byte has replayed all of them. It buys `quote` (plus the random draw mod 7) when the last close
-- is at least `min_close` and the AI confirms.
local ai = require "lib.ai"

local params = {
  min_close = 1,          -- buy only when the last closed candle closes at or above this
  quote = 20,             -- the buy's size in quote, before the draw
  side = "buy",           -- the technical signal's side (a sell asks the AI about a sell)
  extra_ohlc = 0,         -- > 0: also read candles of this interval (tests an unrecorded call)
  ask_twice = false,      -- ask the AI a second time (tests an unrecorded AI call)
}

local BOOT = os.getenv("REPLAY_TEST_BOOT")   -- read while the file loads: recorded too

local strategy = {
  name = "replay_test", pair = "XBTUSD", interval = 15, params = params,
  risk = { max_order_quote = 50, max_position_quote = 500 },
}

function strategy.on_cycle(ctx)
  local candles = assert(ctx.market.ohlc(ctx.pair, ctx.interval, 10))
  local ticker = assert(ctx.market.ticker(ctx.pair))
  local last = candles[#candles]
  local draw = math.random(1, 1000000)
  ctx.state.cycles = (ctx.state.cycles or 0) + 1
  local d = ctx.decision
  d.draw, d.cycles, d.cash, d.bid = draw, ctx.state.cycles, ctx.portfolio.cash, ticker.bid
  d.clock_ms = titan.time.now_ms() - ctx.now
  d.note, d.boot = os.getenv("REPLAY_TEST_NOTE"), BOOT
  if params.extra_ohlc > 0 then
    local other, err = ctx.market.ohlc(ctx.pair, params.extra_ohlc, 5)
    d.extra = other and #other or err.code
  end
  if last.c < params.min_close then return {} end
  local signal = { action = params.side, quote = params.quote + draw % 7, volume = ctx.portfolio.position,
                   reason = string.format("close %.1f >= %g, draw %d", last.c, params.min_close, draw) }
  signal = ai.filter(ctx, signal, { close = last.c }, { risk = strategy.risk })
  if params.ask_twice then ai.filter(ctx, { action = "buy", reason = "again" }, { close = last.c }, {}) end
  if signal.action == "buy" then
    return { { side = "buy", type = "market", quote = signal.quote, reason = signal.reason } }
  elseif signal.action == "sell" and signal.volume > 0 then
    return { { side = "sell", type = "market", volume = signal.volume, reason = signal.reason } }
  end
  return {}
end

return strategy
