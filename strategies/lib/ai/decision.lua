-- AI decisions: a tolerant parser for what models really answer (code fences, prose around
-- the JSON, numbers as strings) followed by strict validation. Anything that is not exactly
-- {action = buy|sell|hold, confidence = 0..1, reason = string} is an abstention with a code.
local decision = {}

decision.ACTIONS = { buy = true, sell = true, hold = true }
decision.MAX_REASON = 500          -- characters of the model's reason kept

-- The JSON schema sent to providers (no minimum/maximum: not every structured-output mode
-- accepts them; the range is checked here instead).
function decision.schema()
  return {
    type = "object",
    properties = {
      action = { type = "string", enum = { "buy", "sell", "hold" } },
      confidence = { type = "number", description = "0 to 1" },
      reason = { type = "string", description = "one or two short sentences" },
    },
    required = { "action", "confidence", "reason" },
    additionalProperties = false,
  }
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- Returns the first balanced {...} in text (string-aware), starting at or after `from`.
local function balanced_object(text, from)
  local start = text:find("{", from, true)
  while start do
    local depth, in_string, escaped = 0, false, false
    for i = start, #text do
      local c = text:sub(i, i)
      if in_string then
        if escaped then escaped = false
        elseif c == "\\" then escaped = true
        elseif c == '"' then in_string = false end
      elseif c == '"' then in_string = true
      elseif c == "{" then depth = depth + 1
      elseif c == "}" then
        depth = depth - 1
        if depth == 0 then return text:sub(start, i), i + 1 end
      end
    end
    return nil  -- unbalanced to the end: nothing later can be complete either
  end
  return nil
end

-- The answer decoded as one object: the whole text, else the inside of a code fence, else the
-- balanced objects found in prose. Objects in prose that carry different actions ("either
-- {buy} or {sell}") are ambiguous: no decision.
local function decode_object(json, text)
  local whole = trim(text)
  local fenced = text:match("```[%w_-]*%s*\n(.-)```") or text:match("```[%w_-]*%s*(.-)```")
  for _, candidate in ipairs({ whole, fenced and trim(fenced) or "" }) do
    if candidate:sub(1, 1) == "{" then
      local value = json.decode_safe(candidate)
      if type(value) == "table" then return value end
    end
  end
  local found, first_action, from = nil, nil, 1
  for _ = 1, 8 do
    local obj, next_from = balanced_object(text, from)
    if not obj then break end
    from = next_from
    local value = json.decode_safe(obj)
    if type(value) == "table" then
      local action = type(value.action) == "string" and value.action:lower():gsub("%s", "") or nil
      if not found then
        found, first_action = value, action
      elseif action and first_action and action ~= first_action then
        return nil, "the answer holds several decisions that disagree"
      end
    end
  end
  return found
end

-- A number, or a string holding only a number ("0.8", " 0.80 "). Returns nil otherwise.
local function to_number(v)
  if math.type(v) then return v + 0.0 end
  if type(v) == "string" then
    local s = trim(v)
    if s:match("^[+-]?%d+%.?%d*$") or s:match("^[+-]?%.%d+$") or s:match("^[+-]?%d+%.?%d*[eE][+-]?%d+$") then
      return tonumber(s) + 0.0
    end
  end
  return nil
end

-- Validates a decoded table. Returns decision or nil, code, detail.
function decision.validate(t)
  if type(t) ~= "table" then return nil, "malformed_json", "the answer is not a JSON object" end
  local action = t.action
  if type(action) ~= "string" then return nil, "unknown_action", "action is missing or not a string" end
  action = trim(action):lower()
  if not decision.ACTIONS[action] then
    return nil, "unknown_action", "action '" .. t.action:sub(1, 40) .. "' is not buy, sell or hold"
  end
  local raw = t.confidence
  local confidence = to_number(raw)
  if confidence == nil then
    local shown = type(raw) == "string" and ("'" .. raw:sub(1, 40) .. "'") or type(raw)
    return nil, "confidence_not_number", "confidence " .. shown .. " is not a number"
  end
  if confidence ~= confidence or confidence < 0 or confidence > 1 then
    return nil, "confidence_out_of_range", "confidence " .. tostring(confidence) .. " is outside 0..1"
  end
  local reason = t.reason
  if type(reason) ~= "string" then return nil, "bad_reason", "reason is missing or not a string" end
  reason = trim(reason)
  if #reason > decision.MAX_REASON then reason = reason:sub(1, decision.MAX_REASON) end
  return { action = action, confidence = confidence, reason = reason }
end

-- parse(text) -> decision | nil, code, detail
-- codes: empty_answer, malformed_json, unknown_action, confidence_not_number,
-- confidence_out_of_range, bad_reason.
function decision.parse(text, json)
  json = json or titan.json
  if type(text) ~= "string" or trim(text) == "" then return nil, "empty_answer", "the model returned no text" end
  local t, why = decode_object(json, text)
  if not t then return nil, "malformed_json", why or "no JSON object found in the answer" end
  return decision.validate(t)
end

return decision
