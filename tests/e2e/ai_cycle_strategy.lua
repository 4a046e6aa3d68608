-- A strategy for tests/e2e/test_ai_cycle.sh: its technical signal is always "buy 20 USD", so
-- what the cycle does depends only on the AI filter (lib.ai.filter) and the spend cap.
local ai = require "lib.ai"

local strategy = {
  name = "ai_cycle_test", pair = "XBTUSD", interval = 15,
  risk = { max_order_quote = 50, max_position_quote = 500 },
}

function strategy.on_cycle(ctx)
  local signal = { action = "buy", quote = 20, reason = "test signal" }
  signal = ai.filter(ctx, signal, { test = 1 }, { risk = strategy.risk })
  if ctx.log then ctx.log("decision", { action = signal.action, reason = signal.reason, ai = signal.ai }) end
  if signal.action ~= "buy" then return {} end
  return { { side = "buy", type = "market", quote = signal.quote, reason = signal.reason } }
end

return strategy
