-- Specs for strategies/lib/ta.lua: every indicator against values computed by hand (shown in
-- the comments), the edge cases (short data -> nil, flat series, constant prices), and misuse.
local spec = require "spec"
local ta = require "lib.ta"
local it, eq, near, ok = spec.it, spec.eq, spec.near, spec.ok

-- Candles {h, l, c} for the ATR cases; o/t are irrelevant to the true range.
local function hlc(rows)
  local out = {}
  for k, r in ipairs(rows) do out[k] = { t = k * 900, o = r[3], h = r[1], l = r[2], c = r[3] } end
  return out
end

spec.describe("field/closes", function()
  local candles = hlc({ { 10, 8, 9 }, { 12, 9, 11 }, { 11, 10, 10 } })
  it("extracts all closes oldest first", function()
    local c = ta.closes(candles)
    eq(#c, 3); eq(c[1], 9); eq(c[3], 10)
  end)
  it("extracts the last n of a field", function()
    local h = ta.field(candles, "h", 2)
    eq(#h, 2); eq(h[1], 12); eq(h[2], 11)
  end)
  it("n larger than the data gives everything; n = 0 gives nothing", function()
    eq(#ta.closes(candles, 10), 3)
    eq(#ta.closes(candles, 0), 0)
  end)
end)

spec.describe("sma", function()
  local v = { 1, 2, 3, 4, 5 }
  it("last value: (3+4+5)/3 = 4", function() eq(ta.sma(v, 3), 4) end)
  it("at i = 4: (2+3+4)/3 = 3", function() eq(ta.sma(v, 3, 4), 3) end)
  it("period = #values: 15/5 = 3", function() eq(ta.sma(v, 5), 3) end)
  it("not enough data -> nil", function()
    eq(ta.sma(v, 6), nil); eq(ta.sma({}, 1), nil); eq(ta.sma(v, 3, 2), nil)
  end)
  it("series is aligned with nil before the warm-up and n = #values", function()
    local s = ta.sma_series(v, 3)
    eq(s.n, 5); eq(s[1], nil); eq(s[2], nil); eq(s[3], 2); eq(s[4], 3); eq(s[5], 4)
  end)
  it("series matches the last-value function at every index", function()
    local w = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5 }
    local s = ta.sma_series(w, 4)
    for k = 4, #w do near(s[k], ta.sma(w, 4, k), 1e-12, "index " .. k) end
  end)
end)

spec.describe("ema", function()
  -- period 3: alpha = 2/(3+1) = 0.5; seed = sma(2,4,6) = 4 at index 3;
  -- index 4: 4 + 0.5*(8-4) = 6; index 5: 6 + 0.5*(4-6) = 5.
  local v = { 2, 4, 6, 8, 4 }
  it("last value and previous value", function()
    local e, prev = ta.ema(v, 3)
    eq(e, 5); eq(prev, 6)
  end)
  it("at the seed the value is the SMA and there is no previous value", function()
    local e, prev = ta.ema(v, 3, 3)
    eq(e, 4); eq(prev, nil)
  end)
  it("series: nil, nil, 4, 6, 5", function()
    local s = ta.ema_series(v, 3)
    eq(s.n, 5); eq(s[2], nil); eq(s[3], 4); eq(s[4], 6); eq(s[5], 5)
  end)
  it("step: 6 + 0.5*(4-6) = 5; period 1 follows the price", function()
    eq(ta.ema_step(6, 4, 3), 5)
    eq(ta.ema_step(6, 4, 1), 4)
  end)
  it("not enough data -> nil and an empty series", function()
    eq(ta.ema(v, 6), nil)
    local s = ta.ema_series(v, 6)
    eq(s.n, 5); eq(s[5], nil)
  end)
  it("constant input gives the constant", function()
    eq(ta.ema({ 7, 7, 7, 7, 7, 7 }, 3), 7)
  end)
end)

spec.describe("rsi (Wilder)", function()
  -- period 3, closes 10 11 10 12 13 12: changes +1 -1 +2 +1 -1.
  -- first: gain (1+0+2)/3 = 1, loss (0+1+0)/3 = 1/3, RS = 3, RSI = 100 - 100/4 = 75.
  -- +1: gain (1*2+1)/3 = 1, loss (1/3*2)/3 = 2/9, RS = 4.5, RSI = 100 - 100/5.5 = 81.8181...
  -- -1: gain (1*2)/3 = 2/3, loss (2/9*2+1)/3 = 13/27, RS = 18/13, RSI = 100 - 1300/31 = 58.0645...
  local v = { 10, 11, 10, 12, 13, 12 }
  it("first value at index period + 1", function() near(ta.rsi(v, 3, 4), 75, 1e-12) end)
  it("second value Wilder-smoothed", function() near(ta.rsi(v, 3, 5), 100 - 100 / 5.5, 1e-12) end)
  it("last value", function() near(ta.rsi(v, 3), 100 - 1300 / 31, 1e-12) end)
  it("averages", function()
    local g, l = ta.rsi_averages(v, 3)
    near(g, 2 / 3, 1e-12); near(l, 13 / 27, 1e-12)
  end)
  it("series aligned: nil up to index 3, then 75, 81.8, 58.1", function()
    local s = ta.rsi_series(v, 3)
    eq(s.n, 6); eq(s[3], nil); near(s[4], 75, 1e-12); near(s[5], 100 - 100 / 5.5, 1e-12)
    near(s[6], 100 - 1300 / 31, 1e-12)
  end)
  it("step reproduces the last value from the previous averages", function()
    local g, l = ta.rsi_averages(v, 3, 5)
    g, l = ta.rsi_step(g, l, v[6] - v[5], 3)
    near(ta.rsi_value(g, l), ta.rsi(v, 3), 1e-12)
  end)
  it("needs period + 1 values", function()
    eq(ta.rsi(v, 6), nil); eq(ta.rsi({ 1, 2, 3 }, 3), nil); eq(ta.rsi({}, 14), nil)
  end)
  it("default period is 14", function()
    local w = {}
    for k = 1, 15 do w[k] = 100 + (k % 3) end
    ok(ta.rsi(w) ~= nil, "15 values are enough for 14"); eq(ta.rsi({ table.unpack(w, 1, 14) }), nil)
  end)
  it("flat series -> 50; only rises -> 100; only falls -> 0", function()
    eq(ta.rsi({ 5, 5, 5, 5, 5 }, 3), 50)
    eq(ta.rsi({ 1, 2, 3, 4, 5 }, 3), 100)
    eq(ta.rsi({ 5, 4, 3, 2, 1 }, 3), 0)
  end)
  it("stays in [0, 100] on a noisy series", function()
    local w, x = {}, 100
    for k = 1, 300 do x = x + ((k * 7919) % 13 - 6); w[k] = x end
    local s = ta.rsi_series(w, 14)
    for k = 15, 300 do ok(s[k] >= 0 and s[k] <= 100, "rsi out of range at " .. k) end
  end)
end)

spec.describe("true range and atr (Wilder)", function()
  -- candles {h, l, c}:
  --   1: 10  8  9
  --   2: 12  9 11   TR = max(12-9, |12-9|, |9-9|)     = 3
  --   3: 11 10 10   TR = max(1, |11-11|, |10-11|)     = 1
  --   4: 15 12 14   TR = max(3, |15-10|, |12-10|)     = 5   (gap up)
  --   5: 14  8  9   TR = max(6, |14-14|, |8-14|)      = 6
  --   6:  7  6 6.5  TR = max(1, |7-9|, |6-9|)         = 3   (gap down)
  -- period 3: ATR4 = (3+1+5)/3 = 3; ATR5 = (3*2+6)/3 = 4; ATR6 = (4*2+3)/3 = 11/3.
  local c = hlc({ { 10, 8, 9 }, { 12, 9, 11 }, { 11, 10, 10 }, { 15, 12, 14 }, { 14, 8, 9 }, { 7, 6, 6.5 } })
  it("true range with and without a previous close", function()
    eq(ta.true_range(c[4], 10), 5); eq(ta.true_range(c[6], 9), 3); eq(ta.true_range(c[4]), 3)
  end)
  it("first ATR is the mean of the first period TRs", function() eq(ta.atr(c, 3, 4), 3) end)
  it("then Wilder-smoothed", function() eq(ta.atr(c, 3, 5), 4); near(ta.atr(c, 3), 11 / 3, 1e-12) end)
  it("series: nil up to index 3, then 3, 4, 11/3", function()
    local s = ta.atr_series(c, 3)
    eq(s.n, 6); eq(s[3], nil); eq(s[4], 3); eq(s[5], 4); near(s[6], 11 / 3, 1e-12)
  end)
  it("needs period + 1 candles", function() eq(ta.atr(c, 6), nil); eq(ta.atr({}, 14), nil) end)
  it("constant prices -> 0", function()
    local flat = hlc({ { 5, 5, 5 }, { 5, 5, 5 }, { 5, 5, 5 }, { 5, 5, 5 }, { 5, 5, 5 } })
    eq(ta.atr(flat, 3), 0)
  end)
  it("wilder_step", function() eq(ta.wilder_step(4, 3, 3), 11 / 3) end)
end)

spec.describe("stdev, returns, volatility", function()
  -- 2 4 4 4 5 5 7 9: mean 5, squared deviations 9 1 1 1 0 0 4 16 = 32;
  -- population sqrt(32/8) = 2, sample sqrt(32/7).
  local v = { 2, 4, 4, 4, 5, 5, 7, 9 }
  it("population stdev", function() eq(ta.stdev(v, 8), 2) end)
  it("sample stdev", function() near(ta.stdev(v, 8, nil, true), math.sqrt(32 / 7), 1e-12) end)
  it("window ending at i: 4 4 5 (i=5) -> mean 13/3", function()
    -- deviations -1/3 -1/3 2/3: squares 1/9 1/9 4/9 = 6/9; population sqrt(2/9)
    near(ta.stdev(v, 3, 5), math.sqrt(2 / 9), 1e-12)
  end)
  it("constant -> 0; short -> nil; sample needs period >= 2", function()
    eq(ta.stdev({ 3, 3, 3 }, 3), 0); eq(ta.stdev(v, 9), nil); eq(ta.stdev(v, 1, nil, true), nil)
  end)
  it("simple returns 100 -> 110 -> 99: +10%, -10%", function()
    local r = ta.returns({ 100, 110, 99 })
    eq(#r, 2); near(r[1], 0.1, 1e-12); near(r[2], -0.1, 1e-12)
    local last = ta.returns({ 100, 110, 99 }, 1)
    eq(#last, 1); near(last[1], -0.1, 1e-12)
    eq(#ta.returns({ 100 }), 0)
  end)
  it("log returns", function()
    local r = ta.log_returns({ 100, 110, 99 })
    near(r[1], math.log(1.1), 1e-12); near(r[2], math.log(0.9), 1e-12)
  end)
  it("volatility: log returns 1, -1, 1 -> sample stdev sqrt(4/3)", function()
    -- mean 1/3; deviations 2/3 -4/3 2/3; squares 4/9 16/9 4/9 = 24/9; /2 = 4/3
    local e = math.exp(1)
    near(ta.volatility({ 1, e, 1, e }, 3), math.sqrt(4 / 3), 1e-12)
    eq(ta.volatility({ 1, e, 1 }, 3), nil)
  end)
end)

spec.describe("highest/lowest", function()
  local v = { 3, 1, 4, 1, 5, 9, 2, 6 }
  it("last 3 (9 2 6)", function() eq(ta.highest(v, 3), 9); eq(ta.lowest(v, 3), 2) end)
  it("ending at i = 5 (4 1 5)", function() eq(ta.highest(v, 3, 5), 5); eq(ta.lowest(v, 3, 5), 1) end)
  it("short -> nil", function() eq(ta.highest(v, 9), nil); eq(ta.lowest({}, 1), nil) end)
end)

spec.describe("crossovers", function()
  it("cross of two values", function()
    eq(ta.cross(1, 3, 2, 2), "above"); eq(ta.cross(3, 1, 2, 2), "below")
    eq(ta.cross(2, 3, 2, 2), "above", "touching then above is a cross")
    eq(ta.cross(3, 4, 2, 2), nil); eq(ta.cross(1, 1.5, 2, 2), nil)
    eq(ta.cross(nil, 3, 2, 2), nil)
  end)
  it("series against series, last two values", function()
    local a, b = { 1, 2, 3 }, { 2, 2, 2 }
    eq(ta.crossed_above(a, b), true); eq(ta.crossed_below(a, b), false)
    eq(ta.crossed_above(a, b, 2), false, "1->2 vs 2->2 only touches")
  end)
  it("series against a number (an RSI level)", function()
    eq(ta.crossed_below({ 35, 28 }, 30), true); eq(ta.crossed_above({ 35, 28 }, 30), false)
    eq(ta.crossed_above(70, { 75, 65 }), true, "the number may come first")
  end)
  it("aligned series with a nil warm-up never cross there", function()
    local f, s = ta.sma_series({ 1, 2, 3, 4 }, 2), ta.sma_series({ 1, 2, 3, 4 }, 4)
    eq(ta.crossed_above(f, s, 3), false)
  end)
  it("fewer than two values -> false", function() eq(ta.crossed_above({ 1 }, 0), false) end)
end)

spec.describe("misuse raises", function()
  it("bad periods", function()
    spec.raises(function() ta.sma({ 1, 2 }, 0) end, "period")
    spec.raises(function() ta.ema({ 1, 2 }, 1.5) end, "whole number")
    spec.raises(function() ta.rsi({ 1, 2 }, -3) end, "period")
    spec.raises(function() ta.atr({}, "14") end, "whole number")
    spec.raises(function() ta.stdev({ 1 }, math.huge) end, "whole number")
    spec.raises(function() ta.volatility({ 1, 2, 3 }, 1) end, ">= 2")
  end)
  it("values must be a table", function()
    spec.raises(function() ta.sma(nil, 3) end, "values")
    spec.raises(function() ta.closes("abc") end, "values")
  end)
  it("a non-number value raises instead of computing garbage", function()
    spec.raises(function() ta.sma({ 1, "x", 3 }, 3) end)
    spec.raises(function() ta.crossed_above(1, 2) end, "series")
  end)
  it("the module leaves no globals behind", function()
    eq(rawget(_G, "ta"), nil); eq(rawget(_G, "sma"), nil)
  end)
end)

spec.finish("ta")
