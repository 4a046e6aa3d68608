-- lib.ai configuration from the environment, one scenario per titan-host run (test_ai.sh sets
-- the variables): models, the daily cap (TITAN_AI_DAILY_USD, failing closed) and a missing key.
-- Usage: ai_env_spec.lua FAKE_URL models|bad_cap|zero_cap|no_gemini
local spec = require "spec"
local ai = require "lib.ai"
local json = titan.json

local FAKE, SCENARIO = arg[1], arg[2]
assert(FAKE and SCENARIO, "usage: ai_env_spec.lua FAKE_URL SCENARIO")

local function post(path, body)
  local res = titan.http.request{ method = "POST", url = FAKE .. path, body = json.encode(body),
    headers = { ["Content-Type"] = "application/json" }, timeout_ms = 5000 }
  assert(res and res.status == 200, "fake control failed")
end
local function stats()
  return json.decode(assert(titan.http.request{ url = FAKE .. "/_stats", timeout_ms = 5000 }).body)
end
local function total(s) return s.requests.openai + s.requests.groq + s.requests.gemini end

post("/_reset", {})
if SCENARIO == "models" then
  spec.it("OPENAI_MODEL / GEMINI_MODEL pick the models; GROQ_MODEL unset keeps the default", function()
    post("/_control", { provider = "openai", expect_model = "gpt-4.1-mini" })
    post("/_control", { provider = "gemini", expect_model = "gemini-2.0-flash" })
    local results = ai.ask_all("signal=buy", { state = {}, timeout_ms = 3000 })
    local by = {}
    for _, r in ipairs(results) do by[r.provider] = r end
    spec.eq(by.openai.model, "gpt-4.1-mini"); spec.eq(by.gemini.model, "models/gemini-2.0-flash")
    spec.eq(by.groq.model, "llama-3.3-70b-versatile")
    for _, r in ipairs(results) do spec.ok(r.decision, r.provider .. ": " .. tostring(r.abstain_detail)) end
    spec.eq(#stats().bad_shape, 0)
  end)
  spec.it("a string prompt gets the default system prompt", function()
    local results = ai.ask_all("signal=buy", { state = {}, timeout_ms = 3000 })
    spec.eq(#results, 3)
  end)
elseif SCENARIO == "bad_cap" or SCENARIO == "zero_cap" then
  spec.it("TITAN_AI_DAILY_USD=" .. tostring(os.getenv("TITAN_AI_DAILY_USD")) .. " -> no AI call", function()
    local results, info = ai.ask_all("signal=buy", { state = {} })
    spec.eq(info.skipped, "spend_cap"); spec.eq(#results, 3)
    spec.eq(total(stats()), 0)
  end)
elseif SCENARIO == "no_gemini" then
  spec.it("an unset key means not configured", function()
    spec.eq(table.concat(ai.configured(), ","), "openai,groq")
    local results = ai.ask_all("signal=buy", { state = {}, timeout_ms = 3000 })
    spec.eq(#results, 2)
    spec.eq(stats().requests.gemini, 0)
  end)
  spec.it("no key at all: nothing asked", function()
    local results, info = ai.ask_all("x", { state = {}, providers = {} })
    spec.eq(#results, 0); spec.eq(info.skipped, "no_providers")
  end)
else
  error("unknown scenario " .. SCENARIO)
end
spec.finish("ai_env_spec " .. SCENARIO)
