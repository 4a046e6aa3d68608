-- Groq: OpenAI-compatible chat completions. JSON mode (json_object) by default; strict
-- json_schema only for models listed in groq.SCHEMA_MODELS (Groq supports it on some models).
-- Failure mapping is OpenAI's plus json_validate_failed (400) and retry-after on 429.
local openai = require "lib.ai.openai"
local decision = require "lib.ai.decision"

local groq = {
  name = "groq",
  secret = "GROQ_API_KEY",
  base_env = "GROQ_BASE_URL",
  default_base = "https://api.groq.com/openai/v1",   -- the part before /chat/completions
  model_env = "GROQ_MODEL",
  default_model = "llama-3.3-70b-versatile",
  max_tokens = 300,
  temperature = 0.2,
}

-- Models on which Groq accepts response_format json_schema with strict = true. Keep current.
groq.SCHEMA_MODELS = {
  ["openai/gpt-oss-20b"] = true,
  ["openai/gpt-oss-120b"] = true,
}

function groq.build_request(cfg, prompt)
  local format
  if groq.SCHEMA_MODELS[cfg.model] then
    format = { type = "json_schema", json_schema = { name = "decision", strict = true, schema = decision.schema() } }
  else
    format = { type = "json_object" }
  end
  return openai.chat_request(cfg, prompt, format)
end

-- Same wire format as OpenAI; json_validate_failed and retry-after are handled in lib.ai.util.
groq.parse_response = openai.parse_response

return groq
