-- Technical indicators as pure functions: no I/O, no globals, no hidden state.
-- Inputs are arrays of numbers or of candles {t, o, h, l, c, ...}, oldest first. A function
-- without enough data returns nil; misuse (a bad period, a non-table) raises.
--
-- Conventions used throughout:
--   * `period` is a whole number >= 1 (RSI, ATR and stdev(sample) need a little more data, see each).
--   * `i` (optional) is the index of the last value to use, default #values: ta.sma(v, 20, #v - 1)
--     is the previous bar's SMA without copying the array.
--   * "last value" functions return a number or nil; "_series" functions return an array aligned
--     with the input (out[k] belongs to values[k]), nil before the warm-up, with out.n = #values
--     (use out.n, not #out: leading nils make # unreliable).
--   * "_step" functions advance an indicator by one bar, for strategies that keep indicators
--     incrementally in ctx.state (O(1) per bar instead of a pass over a window).
local ta = {}

local huge, sqrt, log, abs = math.huge, math.sqrt, math.log, math.abs
local floor = math.floor

local function check_period(period, min, what)
  if type(period) ~= "number" or period ~= floor(period) or period == huge then
    error("bad argument '" .. (what or "period") .. "' (a whole number expected, got " .. tostring(period) .. ")", 3)
  end
  if period < (min or 1) then
    error("bad argument '" .. (what or "period") .. "' (must be >= " .. (min or 1) .. ", got " .. tostring(period) .. ")", 3)
  end
  return period
end

local function check_values(values)
  if type(values) ~= "table" then
    error("bad argument 'values' (a table expected, got " .. type(values) .. ")", 3)
  end
end

-- The end index: i when given (clamped to the data), else #values.
local function last_index(values, i)
  local n = #values
  if i == nil then return n end
  if i > n then return n end
  return i
end

-- ---- extracting fields from candles ------------------------------------------------------

-- ta.field(candles, name, n) -> numbers: candle[name] of the last n candles (all when n is nil).
function ta.field(candles, name, n)
  check_values(candles)
  local count = #candles
  local first = 1
  if n ~= nil then
    check_period(n, 0, "n")
    if n < count then first = count - n + 1 end
  end
  local out, k = {}, 0
  for j = first, count do
    k = k + 1
    out[k] = candles[j][name]
  end
  return out
end

-- ta.closes(candles, n) -> the closes of the last n candles (all when n is nil).
function ta.closes(candles, n) return ta.field(candles, "c", n) end

-- ---- moving averages --------------------------------------------------------------------

-- ta.sma(values, period, i) -> the mean of values[i-period+1 .. i], or nil when i < period.
function ta.sma(values, period, i)
  check_values(values); check_period(period)
  i = last_index(values, i)
  if i < period then return nil end
  local sum = 0
  for j = i - period + 1, i do sum = sum + values[j] end
  return sum / period
end

-- ta.sma_series(values, period) -> aligned series; a running sum keeps it O(n).
function ta.sma_series(values, period)
  check_values(values); check_period(period)
  local n = #values
  local out = { n = n }
  local sum = 0
  for j = 1, n do
    sum = sum + values[j]
    if j > period then sum = sum - values[j - period] end
    if j >= period then out[j] = sum / period end
  end
  return out
end

-- ta.ema_step(prev, value, period) -> the next EMA (alpha = 2 / (period + 1)).
function ta.ema_step(prev, value, period)
  local alpha = 2 / (period + 1)
  return prev + alpha * (value - prev)
end

-- ta.ema_series(values, period) -> aligned series. Seeded with the SMA of the first `period`
-- values (so the first value is at index `period`), then ema_step. Over a bounded window the
-- seed's weight decays as (1 - alpha)^(bars after the seed): give it ~3x period bars.
function ta.ema_series(values, period)
  check_values(values); check_period(period)
  local n = #values
  local out = { n = n }
  if n < period then return out end
  local alpha = 2 / (period + 1)
  local sum = 0
  for j = 1, period do sum = sum + values[j] end
  local e = sum / period
  out[period] = e
  for j = period + 1, n do
    e = e + alpha * (values[j] - e)
    out[j] = e
  end
  return out
end

-- ta.ema(values, period, i) -> the EMA at index i (default last), seeded as in ema_series; nil
-- when i < period. Also returns the EMA at i - 1 (nil at the seed) for cross detection.
function ta.ema(values, period, i)
  check_values(values); check_period(period)
  i = last_index(values, i)
  if i < period then return nil end
  local alpha = 2 / (period + 1)
  local sum = 0
  for j = 1, period do sum = sum + values[j] end
  local e, prev = sum / period, nil
  for j = period + 1, i do
    prev = e
    e = e + alpha * (values[j] - e)
  end
  return e, prev
end

-- ---- Wilder smoothing, RSI, ATR ----------------------------------------------------------

-- ta.wilder_step(prev, value, period) -> (prev * (period - 1) + value) / period.
function ta.wilder_step(prev, value, period)
  return (prev * (period - 1) + value) / period
end

-- ta.rsi_value(avg_gain, avg_loss) -> RSI in [0, 100]. A flat market (no gains, no losses)
-- is 50; only gains is 100; only losses is 0.
function ta.rsi_value(avg_gain, avg_loss)
  if avg_loss == 0 then
    if avg_gain == 0 then return 50 end
    return 100
  end
  return 100 - 100 / (1 + avg_gain / avg_loss)
end

-- ta.rsi_step(avg_gain, avg_loss, change, period) -> the next (avg_gain, avg_loss) after a
-- close-to-close change.
function ta.rsi_step(avg_gain, avg_loss, change, period)
  local gain, loss = 0, 0
  if change > 0 then gain = change elseif change < 0 then loss = -change end
  return (avg_gain * (period - 1) + gain) / period, (avg_loss * (period - 1) + loss) / period
end

-- ta.rsi_averages(values, period, i) -> avg_gain, avg_loss (Wilder) at index i, or nil when
-- there are fewer than period + 1 values. The first averages are plain means of the first
-- `period` changes; each later change is Wilder-smoothed.
function ta.rsi_averages(values, period, i)
  check_values(values); check_period(period)
  i = last_index(values, i)
  if i < period + 1 then return nil end
  local g, l = 0, 0
  for j = 2, period + 1 do
    local d = values[j] - values[j - 1]
    if d > 0 then g = g + d elseif d < 0 then l = l - d end
  end
  g, l = g / period, l / period
  for j = period + 2, i do
    g, l = ta.rsi_step(g, l, values[j] - values[j - 1], period)
  end
  return g, l
end

-- ta.rsi(values, period = 14, i) -> Wilder's RSI in [0, 100], or nil with < period + 1 values.
function ta.rsi(values, period, i)
  period = period or 14
  local g, l = ta.rsi_averages(values, period, i)
  if g == nil then return nil end
  return ta.rsi_value(g, l)
end

-- ta.rsi_series(values, period = 14) -> aligned series, first value at index period + 1.
function ta.rsi_series(values, period)
  period = period or 14
  check_values(values); check_period(period)
  local n = #values
  local out = { n = n }
  if n < period + 1 then return out end
  local g, l = ta.rsi_averages(values, period, period + 1)
  out[period + 1] = ta.rsi_value(g, l)
  for j = period + 2, n do
    g, l = ta.rsi_step(g, l, values[j] - values[j - 1], period)
    out[j] = ta.rsi_value(g, l)
  end
  return out
end

-- ta.true_range(candle, prev_close) -> max(h - l, |h - prev_close|, |l - prev_close|);
-- h - l when prev_close is nil.
function ta.true_range(candle, prev_close)
  local h, l = candle.h, candle.l
  local tr = h - l
  if prev_close ~= nil then
    local a, b = abs(h - prev_close), abs(l - prev_close)
    if a > tr then tr = a end
    if b > tr then tr = b end
  end
  return tr
end

-- ta.atr(candles, period = 14, i) -> Wilder's ATR at candle i, or nil with < period + 1
-- candles. True ranges start at the second candle (they need the previous close); the first
-- ATR is the mean of the first `period` of them, later ones are Wilder-smoothed.
function ta.atr(candles, period, i)
  period = period or 14
  check_values(candles); check_period(period)
  i = last_index(candles, i)
  if i < period + 1 then return nil end
  local sum = 0
  for j = 2, period + 1 do sum = sum + ta.true_range(candles[j], candles[j - 1].c) end
  local atr = sum / period
  for j = period + 2, i do
    atr = (atr * (period - 1) + ta.true_range(candles[j], candles[j - 1].c)) / period
  end
  return atr
end

-- ta.atr_series(candles, period = 14) -> aligned series, first value at index period + 1.
function ta.atr_series(candles, period)
  period = period or 14
  check_values(candles); check_period(period)
  local n = #candles
  local out = { n = n }
  if n < period + 1 then return out end
  local atr = ta.atr(candles, period, period + 1)
  out[period + 1] = atr
  for j = period + 2, n do
    atr = (atr * (period - 1) + ta.true_range(candles[j], candles[j - 1].c)) / period
    out[j] = atr
  end
  return out
end

-- ---- dispersion, returns, volatility -----------------------------------------------------

-- ta.stdev(values, period, i, sample) -> standard deviation of values[i-period+1 .. i]:
-- population (divide by period) by default, sample (period - 1) when `sample` is true.
-- nil when there are fewer than period values (or period < 2 for a sample stdev).
function ta.stdev(values, period, i, sample)
  check_values(values); check_period(period)
  i = last_index(values, i)
  if i < period or (sample and period < 2) then return nil end
  local sum = 0
  for j = i - period + 1, i do sum = sum + values[j] end
  local mean = sum / period
  local ss = 0
  for j = i - period + 1, i do
    local d = values[j] - mean
    ss = ss + d * d
  end
  return sqrt(ss / (sample and (period - 1) or period))
end

-- step(values, n, f) -> f(values[k], values[k-1]) for the last n steps (all when n is nil),
-- oldest first; {} with fewer than 2 values.
local function step_returns(values, n, f)
  check_values(values)
  local count = #values
  local first = 2
  if n ~= nil then
    check_period(n, 0, "n")
    if count - n + 1 > first then first = count - n + 1 end
  end
  local out, k = {}, 0
  for j = first, count do
    k = k + 1
    out[k] = f(values[j], values[j - 1])
  end
  return out
end

-- ta.returns(values, n) -> simple returns values[k] / values[k-1] - 1 of the last n steps
-- (all when n is nil), oldest first; {} with fewer than 2 values.
function ta.returns(values, n)
  return step_returns(values, n, function(now, before) return now / before - 1 end)
end

-- ta.log_returns(values, n) -> like returns, with log(values[k] / values[k-1]).
function ta.log_returns(values, n)
  return step_returns(values, n, function(now, before) return log(now / before) end)
end

-- ta.volatility(values, period) -> per-bar volatility: the sample stdev of the last `period`
-- log returns (needs period + 1 values and period >= 2), else nil. Multiply by sqrt(bars per
-- year) to annualise.
function ta.volatility(values, period)
  check_values(values); check_period(period, 2)
  if #values < period + 1 then return nil end
  return ta.stdev(ta.log_returns(values, period), period, nil, true)
end

-- ---- extremes ----------------------------------------------------------------------------

-- ta.highest(values, period, i) -> max of values[i-period+1 .. i], or nil when i < period.
function ta.highest(values, period, i)
  check_values(values); check_period(period)
  i = last_index(values, i)
  if i < period then return nil end
  local m = -huge
  for j = i - period + 1, i do
    if values[j] > m then m = values[j] end
  end
  return m
end

-- ta.lowest(values, period, i) -> min of values[i-period+1 .. i], or nil when i < period.
function ta.lowest(values, period, i)
  check_values(values); check_period(period)
  i = last_index(values, i)
  if i < period then return nil end
  local m = huge
  for j = i - period + 1, i do
    if values[j] < m then m = values[j] end
  end
  return m
end

-- ---- crossovers --------------------------------------------------------------------------

-- ta.cross(a_prev, a_now, b_prev, b_now) -> "above" when a crossed above b between the two
-- bars (a_prev <= b_prev and a_now > b_now), "below" for the opposite, nil otherwise or when
-- any value is nil.
function ta.cross(a_prev, a_now, b_prev, b_now)
  if a_prev == nil or a_now == nil or b_prev == nil or b_now == nil then return nil end
  if a_prev <= b_prev and a_now > b_now then return "above" end
  if a_prev >= b_prev and a_now < b_now then return "below" end
  return nil
end

-- Value k of a series, or the number itself (a constant line such as an RSI level).
local function at(s, k)
  if type(s) == "number" then return s end
  return s[k]
end

local function series_end(a, b, i)
  if i then return i end
  if type(a) == "table" then return a.n or #a end
  if type(b) == "table" then return b.n or #b end
  error("bad argument (at least one series expected)", 3)
end

-- ta.crossed_above(a, b, i) -> true when series a crossed above series (or number) b between
-- index i - 1 and i (default: the last two values). nil values never cross.
function ta.crossed_above(a, b, i)
  i = series_end(a, b, i)
  if i < 2 then return false end
  return ta.cross(at(a, i - 1), at(a, i), at(b, i - 1), at(b, i)) == "above"
end

-- ta.crossed_below(a, b, i) -> true when series a crossed below b between i - 1 and i.
function ta.crossed_below(a, b, i)
  i = series_end(a, b, i)
  if i < 2 then return false end
  return ta.cross(at(a, i - 1), at(a, i), at(b, i - 1), at(b, i)) == "below"
end

return ta
