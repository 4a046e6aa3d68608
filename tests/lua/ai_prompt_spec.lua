-- lib.ai.prompt: deterministic, compact prompts from indicators, candles, position and risk;
-- the system prompt states the JSON contract.
local spec = require "spec"
local prompt = require "lib.ai.prompt"

local function candles(n)
  local list = {}
  for i = 1, n do
    local c = 100 + i
    list[i] = { time = 1700000000 + i * 900, open = c - 0.5, high = c + 1, low = c - 1, close = c, volume = 2.5 }
  end
  return list
end

local function input()
  return {
    pair = "XBTUSD", interval = 15, time = "2026-11-27T05:00:00Z", signal = "buy",
    indicators = { rsi_14 = 61.23456789, ema_fast = 43012.5, ema_slow = 42800, macd = { hist = -0.001, line = 1.5 } },
    candles = candles(30),
    position = { base = 0.01, quote = 450.25 },
    risk = { max_order_quote = 100, max_position_quote = 500 },
  }
end

spec.describe("system prompt", function()
  spec.it("states the JSON contract", function()
    local s = prompt.build(input()).system
    for _, needle in ipairs({ "JSON", '"action"', '"buy" | "sell" | "hold"', '"confidence"', "0 to 1", '"reason"' }) do
      spec.ok(s:find(needle, 1, true), "system prompt mentions " .. needle)
    end
  end)
end)

spec.describe("user prompt", function()
  spec.it("is deterministic: same input, same bytes, whatever the table order", function()
    local a = prompt.build(input()).user
    -- build the same tables in another insertion order
    local i2 = input()
    i2.indicators = {}
    for _, k in ipairs({ "macd", "ema_slow", "rsi_14", "ema_fast" }) do i2.indicators[k] = input().indicators[k] end
    for _ = 1, 5 do spec.eq(prompt.build(i2).user, a) end
  end)
  spec.it("has every section, keys sorted, numbers compact", function()
    local u = prompt.build(input()).user
    spec.ok(u:find("pair=XBTUSD interval_min=15 time=2026-11-27T05:00:00Z", 1, true), "header")
    spec.ok(u:find("technical_signal=buy", 1, true), "signal")
    spec.ok(u:find("indicators: ema_fast=43012.5 ema_slow=42800 macd={hist=-0.001 line=1.5} rsi_14=61.234568", 1, true), u)
    spec.ok(u:find("position: base=0.01 quote=450.25", 1, true), "position")
    spec.ok(u:find("risk_budget: max_order_quote=100 max_position_quote=500", 1, true), "risk")
    spec.ok(u:find("candles: n=30 open=100.5 close=130 high=131 low=100 change_pct=29.35 volume=75", 1, true), u)
    spec.ok(u:find("last_closes (oldest first): 119 120 121 122 123 124 125 126 127 128 129 130", 1, true), "closes")
  end)
  spec.it("changes when an input changes", function()
    local a = prompt.build(input()).user
    local i2 = input(); i2.indicators.rsi_14 = 61.3
    spec.ok(prompt.build(i2).user ~= a, "indicator change shows")
    local i3 = input(); i3.candles[30].close = 131
    spec.ok(prompt.build(i3).user ~= a, "candle change shows")
  end)
  spec.it("is compact", function()
    local i = input(); i.candles = candles(200)
    spec.ok(#prompt.build(i).user < 1200, "user prompt under 1200 bytes")
  end)
  spec.it("accepts positional candles and copes with none", function()
    local u = prompt.candles_summary({ { 1, 10, 12, 9, 11, 5 }, { 2, 11, 13, 10, 12, 5 } })
    spec.ok(u:find("n=2 open=10 close=12 high=13 low=9 change_pct=20 volume=10", 1, true), u)
    spec.eq(prompt.candles_summary({}), "candles: none")
    spec.ok(prompt.build({}).user:find("candles: none", 1, true))
  end)
  spec.it("reads the host's candle shape {t, o, h, l, c, v}", function()
    local u = prompt.candles_summary({ { t = 1, o = 10, h = 12, l = 9, c = 11, v = 5 }, { t = 2, o = 11, h = 13, l = 10, c = 12, v = 5 } })
    spec.ok(u:find("n=2 open=10 close=12 high=13 low=9 change_pct=20 volume=10", 1, true), u)
  end)
  spec.it("formats numbers", function()
    spec.eq(prompt.num(1), "1"); spec.eq(prompt.num(1.0), "1"); spec.eq(prompt.num(-0.0), "0")
    spec.eq(prompt.num(0.1 + 0.2), "0.3"); spec.eq(prompt.num(1e-9), "0.000000001")
    spec.eq(prompt.num(12345.678912), "12345.679"); spec.eq(prompt.num(0 / 0), "nan")
  end)
  spec.it("misuse raises", function()
    spec.raises(function() prompt.build(nil) end, "input must be a table")
  end)
end)

spec.finish("ai_prompt_spec")
