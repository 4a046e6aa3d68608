-- OpenAI chat completions: request building (structured output, strict JSON schema) and
-- response parsing into text + tokens or an abstention. Pure: the HTTP call is made by
-- lib/ai.lua through titan.http.batch. Groq reuses the chat helpers (lib/ai/groq.lua).
local util = require "lib.ai.util"
local decision = require "lib.ai.decision"

local openai = {
  name = "openai",
  secret = "OPENAI_API_KEY",
  base_env = "OPENAI_BASE_URL",
  default_base = "https://api.openai.com/v1",   -- the part before /chat/completions
  model_env = "OPENAI_MODEL",
  default_model = "gpt-4o-mini",
  max_tokens = 300,
  temperature = 0.2,
}

-- Reasoning models (o-series, gpt-5) accept only the default temperature and spend completion
-- tokens on hidden reasoning before answering: no temperature, a larger token allowance.
openai.REASONING_PATTERNS = { "^o%d", "^gpt%-5" }
openai.REASONING_MIN_TOKENS = 2000

function openai.is_reasoning(model)
  for _, pattern in ipairs(openai.REASONING_PATTERNS) do
    if tostring(model):find(pattern) then return true end
  end
  return false
end

-- cfg: {model, base_url, key (secret handle), timeout_ms, max_tokens, temperature}
function openai.chat_request(cfg, prompt, response_format)
  local reasoning = openai.is_reasoning(cfg.model)
  local body = {
    model = cfg.model,
    messages = {
      { role = "system", content = prompt.system },
      { role = "user", content = prompt.user },
    },
    max_completion_tokens = reasoning and math.max(cfg.max_tokens, openai.REASONING_MIN_TOKENS) or cfg.max_tokens,
    response_format = response_format,
  }
  -- cfg.temperature = false omits it (models that accept only their default)
  if cfg.temperature ~= false and not reasoning then body.temperature = cfg.temperature end
  return {
    method = "POST",
    url = cfg.base_url .. "/chat/completions",
    headers = {
      ["Authorization"] = { "Bearer ", cfg.key },
      ["Content-Type"] = "application/json",
    },
    body = titan.json.encode(body),
    timeout_ms = cfg.timeout_ms,
  }
end

function openai.build_request(cfg, prompt)
  return openai.chat_request(cfg, prompt, {
    type = "json_schema",
    json_schema = { name = "decision", strict = true, schema = decision.schema() },
  })
end

local function tokens_of(body)
  local u = type(body) == "table" and body.usage
  if type(u) ~= "table" then return nil end
  local t = {
    prompt = tonumber(u.prompt_tokens) or 0,
    completion = tonumber(u.completion_tokens) or 0,
  }
  t.total = tonumber(u.total_tokens) or (t.prompt + t.completion)
  return t
end

local function error_of(body)
  local e = type(body) == "table" and body.error
  if type(e) ~= "table" then return nil, nil end
  local code = e.code
  if type(code) ~= "string" then code = type(e.type) == "string" and e.type or nil end
  return code, type(e.message) == "string" and e.message or nil
end

-- parse_response(res, err) -> {text, tokens, finish} or {abstain, detail, tokens?, retry_after_ms?}
function openai.parse_response(res, err)
  if not res then return util.transport_abstain(err) end
  local body = titan.json.decode_safe(res.body or "")
  if type(body) ~= "table" then body = nil end
  local tokens = tokens_of(body)
  if res.status ~= 200 then
    local code, message = error_of(body)
    local out = util.status_abstain(res.status, code, message or (not body and res.body) or nil, res.headers)
    out.tokens = tokens
    return out
  end
  if not body then return { abstain = "bad_response", detail = "the HTTP body is not JSON" } end
  local choice = type(body.choices) == "table" and body.choices[1]
  local message = type(choice) == "table" and choice.message
  if type(message) ~= "table" then
    return { abstain = "bad_response", detail = "no choices[0].message in the answer", tokens = tokens }
  end
  if type(message.refusal) == "string" and message.refusal ~= "" then
    return { abstain = "refusal", detail = util.short(message.refusal), tokens = tokens }
  end
  local finish = choice.finish_reason
  if finish == "length" then
    return { abstain = "truncated", detail = "finish_reason length: the answer was cut", tokens = tokens }
  end
  if finish == "content_filter" then
    return { abstain = "safety_block", detail = "finish_reason content_filter", tokens = tokens }
  end
  if finish ~= "stop" then
    return { abstain = "bad_response", detail = "finish_reason " .. util.short(tostring(finish), 40), tokens = tokens }
  end
  if type(message.content) ~= "string" then
    return { abstain = "empty_answer", detail = "message.content is empty", tokens = tokens }
  end
  return { text = message.content, tokens = tokens, finish = finish }
end

return openai
