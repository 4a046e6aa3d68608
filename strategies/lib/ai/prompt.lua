-- Prompt building for the AI advisers, as pure functions: the same inputs always give the same
-- bytes (sorted keys, fixed number format), so prompts are testable and diffable in the blackbox.
-- The system prompt states the JSON contract that lib/ai/decision.lua validates.
local prompt = {}

prompt.SYSTEM = table.concat({
  "You are a cautious trading adviser for one spot crypto pair, consulted once per candle.",
  "A rule-based strategy proposes a signal; you confirm it or advise against it.",
  "Answer with ONE JSON object and nothing else, exactly:",
  '{"action": "buy" | "sell" | "hold", "confidence": <number from 0 to 1>, "reason": "<one or two short sentences>"}',
  "action: buy = open or add to a long position, sell = reduce or close it, hold = do nothing.",
  "confidence: your probability that the action is right, a number (not a string, not a percentage).",
  "When the data is unclear or insufficient, answer hold with a low confidence.",
  "Sizes and risk limits are decided elsewhere: never mention amounts. No markdown, no code fences.",
}, "\n")

prompt.DEFAULT_CANDLES = 12   -- closes listed one by one; the whole window is summarised

-- Numbers with up to 8 significant digits, no exponent for everyday magnitudes, no "-0".
function prompt.num(v)
  if type(v) ~= "number" then return tostring(v) end
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
  if math.type(v) == "integer" then return tostring(v) end
  if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
  local s = string.format("%.8g", v)
  if s:find("e", 1, true) then
    s = string.format("%.10f", v):gsub("0+$", ""):gsub("%.$", "")
  end
  if s == "-0" then s = "0" end
  return s
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

-- "k=v k=v" for a flat table, keys sorted; nested tables are rendered in braces.
local function render_map(t)
  local parts = {}
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    if type(v) == "table" then
      parts[#parts + 1] = k .. "={" .. render_map(v) .. "}"
    elseif type(v) == "number" then
      parts[#parts + 1] = k .. "=" .. prompt.num(v)
    elseif type(v) == "string" or type(v) == "boolean" then
      parts[#parts + 1] = k .. "=" .. tostring(v)
    end
  end
  return table.concat(parts, " ")
end

local SHORT = { open = "o", high = "h", low = "l", close = "c", volume = "v" }

-- A candle field by long name (open), host name (o) or position {time, open, high, low, close, volume}.
local function candle_field(c, name, index)
  if type(c) ~= "table" then return nil end
  local v = c[SHORT[name]]
  if v == nil then v = c[name] end
  if v == nil then v = c[index] end
  return tonumber(v)
end

-- A summary of candles, oldest first: {t, o, h, l, c, v} as the host serves them, or the long
-- names, or positional rows.
function prompt.candles_summary(candles, last_n)
  last_n = last_n or prompt.DEFAULT_CANDLES
  if type(candles) ~= "table" or #candles == 0 then return "candles: none" end
  local n = #candles
  local first, last = candles[1], candles[n]
  local hi, lo, vol = -math.huge, math.huge, 0
  for i = 1, n do
    local c = candles[i]
    hi = math.max(hi, candle_field(c, "high", 3) or -math.huge)
    lo = math.min(lo, candle_field(c, "low", 4) or math.huge)
    vol = vol + (candle_field(c, "volume", 6) or 0)
  end
  local open0, close_n = candle_field(first, "open", 2), candle_field(last, "close", 5)
  local change = (open0 and close_n and open0 ~= 0) and (close_n - open0) / open0 * 100 or 0
  local lines = {
    string.format("candles: n=%d open=%s close=%s high=%s low=%s change_pct=%s volume=%s",
      n, prompt.num(open0), prompt.num(close_n), prompt.num(hi), prompt.num(lo),
      prompt.num(math.floor(change * 100 + 0.5) / 100), prompt.num(vol)),
  }
  local closes = {}
  for i = math.max(1, n - last_n + 1), n do closes[#closes + 1] = prompt.num(candle_field(candles[i], "close", 5)) end
  lines[#lines + 1] = "last_closes (oldest first): " .. table.concat(closes, " ")
  return table.concat(lines, "\n")
end

-- build(input) -> { system = ..., user = ... }
-- input: pair, interval (minutes), time (ISO string), signal (the technical proposal, e.g.
-- "buy"), indicators (name -> number), candles, position (table), risk (table).
function prompt.build(input)
  assert(type(input) == "table", "prompt.build: input must be a table")
  local lines = {}
  lines[#lines + 1] = string.format("pair=%s interval_min=%s time=%s",
    tostring(input.pair or "?"), prompt.num(input.interval or 0), tostring(input.time or "?"))
  if input.signal then lines[#lines + 1] = "technical_signal=" .. tostring(input.signal) end
  lines[#lines + 1] = "indicators: " .. render_map(input.indicators or {})
  lines[#lines + 1] = prompt.candles_summary(input.candles, input.last_n)
  lines[#lines + 1] = "position: " .. render_map(input.position or {})
  lines[#lines + 1] = "risk_budget: " .. render_map(input.risk or {})
  lines[#lines + 1] = "Answer with the JSON object only."
  return { system = prompt.SYSTEM, user = table.concat(lines, "\n") }
end

return prompt
