-- The strategy every run of tests/faults/fault_matrix.py makes: it reads the candles (and holds
-- when it cannot, as strategies/default.lua does), asks the configured AI providers to confirm
-- (technical only when none is), and buys 0.0001 XBT at market, FAULT_ORDERS times. Its name
-- (FAULT_STRATEGY) is the cell's, so each cell has its own slots and recovery scope.
local ai = require "lib.ai"

local strategy = { name = os.getenv("FAULT_STRATEGY") or "fault_matrix", pair = "XBTUSD", interval = 15 }

function strategy.on_cycle(ctx)
  local candles, err = ctx.market.ohlc(ctx.pair, ctx.interval, 10)
  if not candles then
    ctx.decision.hold = "no candles: " .. tostring(err and err.code)
    return {}
  end
  local signal = ai.filter(ctx, { action = "buy", reason = "fault matrix" }, { candles = #candles },
    { timeout_ms = 2000 })
  if signal.action ~= "buy" then return {} end
  local intents = {}
  for i = 1, math.tointeger(tonumber(os.getenv("FAULT_ORDERS") or "1")) or 1 do
    intents[i] = { side = "buy", type = "market", volume = 0.0001, reason = signal.reason }
  end
  return intents
end

return strategy
