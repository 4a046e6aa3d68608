-- Google Gemini generateContent: request building (responseMimeType application/json plus a
-- JSON schema; the key travels in x-goog-api-key, never in the URL) and response parsing
-- (safety blocks, promptFeedback.blockReason, MAX_TOKENS, RetryInfo) into text or an abstention.
local util = require "lib.ai.util"
local decision = require "lib.ai.decision"

local gemini = {
  name = "gemini",
  secret = "GEMINI_API_KEY",
  base_env = "GEMINI_BASE_URL",
  default_base = "https://generativelanguage.googleapis.com/v1beta",   -- the part before /models/
  model_env = "GEMINI_MODEL",
  default_model = "gemini-2.5-flash",
  max_tokens = 2048,    -- 2.5 models spend output tokens on thinking before answering
  temperature = 0.2,
}

function gemini.build_request(cfg, prompt)
  local model = cfg.model:gsub("^models/", "")
  local generation = {
    maxOutputTokens = cfg.max_tokens,
    responseMimeType = "application/json",
    responseJsonSchema = decision.schema(),
  }
  if cfg.temperature ~= false then generation.temperature = cfg.temperature end
  return {
    method = "POST",
    url = cfg.base_url .. "/models/" .. model .. ":generateContent",
    headers = {
      ["x-goog-api-key"] = cfg.key,
      ["Content-Type"] = "application/json",
    },
    body = titan.json.encode({
      systemInstruction = { parts = { { text = prompt.system } } },
      contents = { { role = "user", parts = { { text = prompt.user } } } },
      generationConfig = generation,
    }),
    timeout_ms = cfg.timeout_ms,
  }
end

local function tokens_of(body)
  local u = type(body) == "table" and body.usageMetadata
  if type(u) ~= "table" then return nil end
  local t = {
    prompt = tonumber(u.promptTokenCount) or 0,
    -- thinking tokens are billed as output
    completion = (tonumber(u.candidatesTokenCount) or 0) + (tonumber(u.thoughtsTokenCount) or 0),
  }
  t.total = tonumber(u.totalTokenCount) or (t.prompt + t.completion)
  return t
end

-- google.rpc error details: RetryInfo.retryDelay ("36s") and QuotaFailure (a per-day quota
-- means no retry today) and ErrorInfo.reason (API_KEY_INVALID comes back as a 400).
local function error_details(e)
  local retry_ms, per_day, reason
  for _, d in ipairs(type(e.details) == "table" and e.details or {}) do
    if type(d) == "table" then
      local kind = tostring(d["@type"] or "")
      if kind:find("RetryInfo", 1, true) then retry_ms = util.parse_duration_ms(d.retryDelay) end
      if kind:find("QuotaFailure", 1, true) and type(d.violations) == "table" then
        for _, v in ipairs(d.violations) do
          if type(v) == "table" and tostring(v.quotaId or ""):find("PerDay", 1, true) then per_day = true end
        end
      end
      if kind:find("ErrorInfo", 1, true) and type(d.reason) == "string" then reason = d.reason end
    end
  end
  return retry_ms, per_day, reason
end

local BLOCK_FINISH = {
  SAFETY = true, RECITATION = true, BLOCKLIST = true, PROHIBITED_CONTENT = true, SPII = true,
  IMAGE_SAFETY = true, LANGUAGE = true,
}

-- parse_response(res, err) -> {text, tokens, finish} or {abstain, detail, tokens?, retry_after_ms?}
function gemini.parse_response(res, err)
  if not res then return util.transport_abstain(err) end
  local body = titan.json.decode_safe(res.body or "")
  if type(body) ~= "table" then body = nil end
  local tokens = tokens_of(body)
  if res.status ~= 200 then
    local e = body and type(body.error) == "table" and body.error or {}
    local message = type(e.message) == "string" and e.message or (not body and res.body) or nil
    local status_text = type(e.status) == "string" and e.status or nil
    local retry_ms, per_day, reason = error_details(e)
    local code = status_text
    if res.status == 429 and per_day then code = "insufficient_quota" end
    local out = util.status_abstain(res.status, code, message, res.headers)
    if res.status == 400 and reason == "API_KEY_INVALID" then out.abstain = "auth" end
    if out.abstain == "rate_limited" then out.retry_after_ms = retry_ms or out.retry_after_ms end
    out.tokens = tokens
    return out
  end
  if not body then return { abstain = "bad_response", detail = "the HTTP body is not JSON" } end
  local feedback = type(body.promptFeedback) == "table" and body.promptFeedback
  if feedback and type(feedback.blockReason) == "string" then
    return { abstain = "safety_block", detail = "promptFeedback.blockReason " .. util.short(feedback.blockReason, 60), tokens = tokens }
  end
  local cand = type(body.candidates) == "table" and body.candidates[1]
  if type(cand) ~= "table" then
    return { abstain = "empty_answer", detail = "no candidates in the answer", tokens = tokens }
  end
  local finish = cand.finishReason
  if finish == "MAX_TOKENS" then
    return { abstain = "truncated", detail = "finishReason MAX_TOKENS: the answer was cut", tokens = tokens }
  end
  if BLOCK_FINISH[finish] then
    return { abstain = "safety_block", detail = "finishReason " .. finish, tokens = tokens }
  end
  if finish ~= "STOP" then
    return { abstain = "bad_response", detail = "finishReason " .. util.short(tostring(finish), 40), tokens = tokens }
  end
  local parts = type(cand.content) == "table" and type(cand.content.parts) == "table" and cand.content.parts or {}
  local texts = {}
  for _, p in ipairs(parts) do
    -- parts flagged thought = true are the model's reasoning, not the answer
    if type(p) == "table" and type(p.text) == "string" and p.thought ~= true then texts[#texts + 1] = p.text end
  end
  if #texts == 0 then return { abstain = "empty_answer", detail = "no text parts in the candidate", tokens = tokens } end
  return { text = table.concat(texts), tokens = tokens, finish = finish }
end

return gemini
