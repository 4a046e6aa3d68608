-- Prints, as one JSON object, the request bodies (and models) titan-host's AI providers build (lib/ai/*.lua with
-- their default models and settings, a fixed prompt): the conformance checks send exactly these
-- through the official clients. Run as `titan-host script tests/conformance/titan_requests.lua`
-- with the three AI key variables set (the handles are needed to build a request, never printed).
local prompt = require "lib.ai.prompt"
local out = { models = {} }
for _, name in ipairs{ "openai", "groq", "gemini" } do
  local m = require("lib.ai." .. name)
  local cfg = { model = m.default_model, base_url = "http://127.0.0.1:1", key = assert(titan.secret(m.secret)),
                timeout_ms = 10000, max_tokens = m.max_tokens, temperature = m.temperature }
  local req = m.build_request(cfg, { system = prompt.SYSTEM, user = "pair=XBTUSD interval=15 signal=buy close=105899.4" })
  out[name] = titan.json.decode(req.body)
  out.models[name] = cfg.model
end
print(titan.json.encode(out))
