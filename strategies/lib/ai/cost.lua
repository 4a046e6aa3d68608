-- AI cost: a per-model price table (USD per million tokens) and a daily spend cap kept in the
-- strategy's persisted state, keyed by UTC day. Once the cap is reached no AI call is made
-- until the next UTC day. Pure functions: the caller passes the state table and the time.
local cost = {}

-- Prices in USD per 1,000,000 tokens {input, output}. THESE ARE YOURS TO KEEP CURRENT: providers
-- change prices; check their pricing pages and edit this table (last reviewed 2025). A model not
-- listed is charged at cost.UNKNOWN_PRICE, deliberately high, so the daily cap still bites.
cost.PRICES = {
  -- OpenAI
  ["gpt-4o-mini"] = { input = 0.15, output = 0.60 },
  ["gpt-4o"] = { input = 2.50, output = 10.00 },
  ["gpt-4.1-nano"] = { input = 0.10, output = 0.40 },
  ["gpt-4.1-mini"] = { input = 0.40, output = 1.60 },
  ["gpt-4.1"] = { input = 2.00, output = 8.00 },
  ["gpt-5-nano"] = { input = 0.05, output = 0.40 },
  ["gpt-5-mini"] = { input = 0.25, output = 2.00 },
  ["gpt-5"] = { input = 1.25, output = 10.00 },
  -- Groq
  ["llama-3.3-70b-versatile"] = { input = 0.59, output = 0.79 },
  ["llama-3.1-8b-instant"] = { input = 0.05, output = 0.08 },
  ["openai/gpt-oss-20b"] = { input = 0.10, output = 0.50 },
  ["openai/gpt-oss-120b"] = { input = 0.15, output = 0.75 },
  -- Gemini (output includes "thinking" tokens)
  ["gemini-2.0-flash"] = { input = 0.10, output = 0.40 },
  ["gemini-2.5-flash-lite"] = { input = 0.10, output = 0.40 },
  ["gemini-2.5-flash"] = { input = 0.30, output = 2.50 },
  ["gemini-2.5-pro"] = { input = 1.25, output = 10.00 },
}
cost.UNKNOWN_PRICE = { input = 5.00, output = 20.00 }

cost.DEFAULT_DAILY_USD = 1.00   -- TITAN_AI_DAILY_USD or opts.daily_usd override it; 0 = no AI
cost.STATE_KEY = "ai_spend"     -- state.ai_spend = { ["YYYY-MM-DD"] = usd spent that UTC day }

-- price(model) -> {input, output}, known (boolean)
function cost.price(model)
  local p = cost.PRICES[model]
  if p then return p, true end
  return cost.UNKNOWN_PRICE, false
end

-- estimate(model, tokens{prompt, completion}) -> USD (0 when tokens are unknown)
function cost.estimate(model, tokens)
  if type(tokens) ~= "table" then return 0 end
  local p = cost.price(model)
  local input = tonumber(tokens.prompt) or 0
  local output = tonumber(tokens.completion) or 0
  if input < 0 then input = 0 end
  if output < 0 then output = 0 end
  return (input * p.input + output * p.output) / 1e6
end

-- utc_day(ms) -> "YYYY-MM-DD"
function cost.utc_day(ms)
  return os.date("!%Y-%m-%d", ms // 1000)
end

-- daily_cap(opts_value, env_text) -> usd, problem
-- An unreadable cap fails closed: 0 (no AI) with a message saying why.
function cost.daily_cap(opts_value, env_text)
  if opts_value ~= nil then
    local v = tonumber(opts_value)
    if not v or v ~= v or v < 0 then return 0, "daily_usd must be a number >= 0" end
    return v
  end
  if env_text ~= nil and env_text ~= "" then
    local v = tonumber(env_text)
    if not v or v ~= v or v < 0 or v == math.huge then
      return 0, "TITAN_AI_DAILY_USD='" .. tostring(env_text):sub(1, 40) .. "' is not a number >= 0"
    end
    return v
  end
  return cost.DEFAULT_DAILY_USD
end

-- spent(state, day) -> USD spent that day
function cost.spent(state, day)
  local t = type(state) == "table" and state[cost.STATE_KEY]
  if type(t) ~= "table" then return 0 end
  local v = tonumber(t[day])
  if not v or v ~= v or v < 0 then return 0 end
  return v
end

-- cap_reached(state, day, cap) -> boolean
function cost.cap_reached(state, day, cap)
  return cap <= 0 or cost.spent(state, day) >= cap
end

-- add(state, day, usd) -> new total; other days are dropped so the state stays small.
function cost.add(state, day, usd)
  local total = cost.spent(state, day) + math.max(0, tonumber(usd) or 0)
  state[cost.STATE_KEY] = { [day] = total }
  return total
end

return cost
