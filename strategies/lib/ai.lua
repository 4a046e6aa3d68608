-- AI advisers: asks every configured provider (OpenAI, Groq, Gemini) at once through
-- titan.http.batch, turns each answer into a strict decision or an abstention with a reason,
-- accounts tokens and cost against a daily cap, and combines the answers with lib.ai.vote.
-- Every failure is an abstention: this module never raises on a provider's behaviour.
local decision = require "lib.ai.decision"
local prompt_mod = require "lib.ai.prompt"
local vote_mod = require "lib.ai.vote"
local cost = require "lib.ai.cost"
local util = require "lib.ai.util"

local ai = {}

ai.PROVIDERS = { "openai", "groq", "gemini" }     -- asking order = result order
ai.modules = {
  openai = require "lib.ai.openai",
  groq = require "lib.ai.groq",
  gemini = require "lib.ai.gemini",
}
ai.DEFAULT_TIMEOUT_MS = 20000   -- per provider, the whole deadline including a 429 retry
ai.RAW_MAX = 2000               -- bytes of each raw answer kept in the blackbox
ai.RETRY_MIN_MS = 1000          -- a 429 retry must leave at least this much of the deadline
ai.RETRY_MAX_WAIT_MS = 5000     -- longer Retry-After waits are not worth a cycle: abstain

-- Used when the caller passes no opts.state (spend then lasts only for this process).
local memory_state = {}

local function secret_handle(name)
  if type(titan.secret) ~= "function" then return nil end
  local ok, handle = pcall(titan.secret, name)
  if ok and handle then return handle end
  return nil
end

-- configured() -> provider names whose API key is set, in ai.PROVIDERS order
function ai.configured()
  local names = {}
  for _, name in ipairs(ai.PROVIDERS) do
    if secret_handle(ai.modules[name].secret) then names[#names + 1] = name end
  end
  return names
end

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then return nil end
  return v
end

local function pick(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil then return v end
  end
  return nil
end

-- The provider's settings: opts.config[name] first, then the environment, then defaults.
local function provider_config(name, opts)
  local m = ai.modules[name]
  local per = type(opts.config) == "table" and type(opts.config[name]) == "table" and opts.config[name] or {}
  local cfg = {
    model = pick(per.model, env(m.model_env), m.default_model),
    base_url = pick(per.base_url, env(m.base_env), m.default_base),
    timeout_ms = math.tointeger(pick(per.timeout_ms, opts.timeout_ms, ai.DEFAULT_TIMEOUT_MS)),
    max_tokens = pick(per.max_tokens, m.max_tokens),
    temperature = pick(per.temperature, m.temperature),
  }
  local problem
  cfg.base_url, problem = util.check_base(cfg.base_url)
  if not cfg.base_url then return nil, problem, cfg end
  cfg.model, problem = util.check_model(cfg.model)
  if not cfg.model then return nil, problem, cfg end
  if not cfg.timeout_ms or cfg.timeout_ms < 100 or cfg.timeout_ms > 120000 then
    return nil, "timeout_ms must be a whole number between 100 and 120000", cfg
  end
  cfg.key = secret_handle(m.secret)
  if not cfg.key then return nil, m.secret .. " is not set", cfg end
  return cfg
end

local function zero_tokens() return { prompt = 0, completion = 0, total = 0 } end

local function new_result(name, model)
  return {
    provider = name, model = model, decision = nil, abstain_reason = nil, abstain_detail = nil,
    latency_ms = 0, tokens = zero_tokens(), cost_usd = 0,
  }
end

local function abstain(result, code, detail)
  result.decision, result.abstain_reason, result.abstain_detail = nil, code, detail
end

-- Applies a provider's parsed answer to the result: decision or abstention.
local function settle(result, parsed)
  if parsed.tokens then result.tokens = parsed.tokens end
  if parsed.abstain then return abstain(result, parsed.abstain, parsed.detail) end
  local d, code, detail = decision.parse(parsed.text)
  if d then result.decision = d else abstain(result, code, detail) end
end

local function now_ms(opts)
  return opts.clock and opts.clock() or titan.time.now_ms()
end

-- Waits ms milliseconds (opts.sleep_ms lets tests replace the wait).
local function wait_ms(opts, ms)
  local sleep = opts.sleep_ms or titan.time.sleep_ms
  return pcall(sleep, ms)
end

local function normalise_prompt(p)
  if type(p) == "string" then return { system = prompt_mod.SYSTEM, user = p } end
  if type(p) == "table" and type(p.user) == "string" then
    return { system = type(p.system) == "string" and p.system or prompt_mod.SYSTEM, user = p.user }
  end
  error("ai.ask_all: prompt must be a string or {system=, user=}", 3)
end

-- Runs the requests of `jobs` in one concurrent batch; returns {res, err} per job.
local function run_batch(jobs)
  local reqs = {}
  for i, job in ipairs(jobs) do reqs[i] = job.request end
  local ok, out = pcall(titan.http.batch, reqs)
  if ok and type(out) == "table" then return out end
  local fail = { code = "ai.internal", message = "titan.http.batch failed: " .. util.short(tostring(out)) }
  local list = {}
  for i = 1, #jobs do list[i] = { nil, fail } end
  return list
end

-- One batch answer as (res, err): a table or nil, and an error table; anything else from the
-- layer below becomes a transport error rather than a crash.
local function answer_of(answer)
  local res, err
  if type(answer) == "table" then res, err = answer[1], answer[2] end
  if res ~= nil and type(res) ~= "table" then res = nil end
  if res == nil and type(err) ~= "table" then
    err = { code = "ai.internal", message = "titan.http.batch gave no usable answer" }
  end
  return res, err
end

local function parse_safely(module, res, err)
  local ok, parsed = pcall(module.parse_response, res, err)
  if ok and type(parsed) == "table" then return parsed end
  return { abstain = "internal_error", detail = "parsing failed: " .. util.short(tostring(parsed)) }
end

-- ask_all(prompt, opts) -> results, info
-- prompt: a string (the user prompt) or {system, user} from lib.ai.prompt.build.
-- opts: state (ctx.state: spend per UTC day is kept there), daily_usd, timeout_ms (per
-- provider), providers (names; default ai.configured()), config = {openai = {model,
-- base_url, timeout_ms, max_tokens, temperature}, ...}, now_ms, sleep_ms (fn, for 429 retries).
-- results: one per provider {provider, model, decision | nil, abstain_reason, abstain_detail,
-- latency_ms, tokens = {prompt, completion, total}, cost_usd, http_status}.
-- info: {skipped = "no_providers"|"spend_cap"|nil, spent_usd, cap_usd, day}.
function ai.ask_all(prompt, opts)
  opts = opts or {}
  local p = normalise_prompt(prompt)
  local names = opts.providers or ai.configured()
  if #names == 0 then return {}, { skipped = "no_providers" } end
  local state = opts.state
  if type(state) ~= "table" then
    titan.log.warn("ai.spend_state", { message = "no state table given: the daily AI spend is not persisted" })
    state = memory_state
  end
  local start = now_ms(opts)
  local day = cost.utc_day(opts.now_ms or start)
  local cap, problem = cost.daily_cap(opts.daily_usd, os.getenv("TITAN_AI_DAILY_USD"))
  if problem then titan.log.warn("ai.config", { message = problem .. "; AI calls are off" }) end
  local results, jobs = {}, {}
  if cost.cap_reached(state, day, cap) then
    local spent = cost.spent(state, day)
    titan.log.warn("ai.spend_cap", { day = day, spent_usd = spent, cap_usd = cap, providers = names,
      message = "daily AI spend cap reached: no AI call today, technical-only" })
    for i, name in ipairs(names) do
      results[i] = new_result(name, nil)
      abstain(results[i], "spend_cap", string.format("spent %.4f of %.4f USD on %s", spent, cap, day))
    end
    return results, { skipped = "spend_cap", spent_usd = spent, cap_usd = cap, day = day }
  end

  titan.log.info("ai.prompt", { providers = names, system = p.system, user = p.user })
  for i, name in ipairs(names) do
    local module = ai.modules[name]
    local cfg, cfg_problem, partial = nil, "unknown provider '" .. tostring(name) .. "'", {}
    if module then cfg, cfg_problem, partial = provider_config(name, opts) end
    results[i] = new_result(name, (cfg or partial).model)
    if cfg then
      local ok, req = pcall(module.build_request, cfg, p)
      if ok then
        jobs[#jobs + 1] = { index = i, module = module, cfg = cfg, request = req }
      else
        abstain(results[i], "internal_error", "building the request failed: " .. util.short(tostring(req)))
      end
    else
      abstain(results[i], "config", cfg_problem)
    end
  end

  local raws = {}
  local answers = run_batch(jobs)
  local retry = {}
  local after_first = now_ms(opts) - start
  for j, job in ipairs(jobs) do
    local res, err = answer_of(answers[j])
    local r = results[job.index]
    local parsed = parse_safely(job.module, res, err)
    r.http_status = res and res.status or nil
    r.latency_ms = res and tonumber(res.elapsed_ms) or after_first
    raws[job.index] = res and type(res.body) == "string" and res.body or nil
    settle(r, parsed)
    local wait = parsed.retry_after_ms
    if parsed.abstain == "rate_limited" and wait then
      if wait <= ai.RETRY_MAX_WAIT_MS and after_first + wait + ai.RETRY_MIN_MS <= job.cfg.timeout_ms then
        retry[#retry + 1] = job
        job.wait = wait
      else
        r.abstain_detail = r.abstain_detail .. string.format(" (retry after %d ms does not fit the deadline)", wait)
      end
    end
  end

  if #retry > 0 then
    local wait = 0
    for _, job in ipairs(retry) do wait = math.max(wait, job.wait) end
    titan.log.info("ai.retry", { wait_ms = wait, providers = #retry })
    wait_ms(opts, wait)
    local elapsed = now_ms(opts) - start
    for _, job in ipairs(retry) do
      job.request.timeout_ms = math.max(ai.RETRY_MIN_MS, job.cfg.timeout_ms - elapsed)
    end
    local again = run_batch(retry)
    for j, job in ipairs(retry) do
      local res, err = answer_of(again[j])
      local r = results[job.index]
      local parsed = parse_safely(job.module, res, err)
      r.http_status = res and res.status or nil
      r.latency_ms = now_ms(opts) - start
      raws[job.index] = res and type(res.body) == "string" and res.body or nil
      r.decision, r.abstain_reason, r.abstain_detail = nil, nil, nil
      settle(r, parsed)
      r.retried = true
    end
  end

  local total = 0
  for i, r in ipairs(results) do
    r.cost_usd = cost.estimate(r.model, r.tokens)
    total = total + r.cost_usd
    local raw = raws[i]
    titan.log.info("ai.answer", {
      provider = r.provider, model = r.model, http_status = r.http_status,
      raw = raw and util.cap_utf8(raw, ai.RAW_MAX) or nil, raw_bytes = raw and #raw or 0,
      decision = r.decision, abstain_reason = r.abstain_reason, abstain_detail = r.abstain_detail,
      latency_ms = r.latency_ms, tokens = r.tokens, cost_usd = r.cost_usd, retried = r.retried,
    })
  end
  local spent = cost.add(state, day, total)
  return results, { spent_usd = spent, cap_usd = cap, day = day, cost_usd = total }
end

-- vote(results, rule) -> outcome {action, confidence, reason, counts, quorum, votes}
-- The rule and its truth table are in lib/ai/vote.lua. The outcome is logged (ai.vote) and
-- carries a compact per-provider list fit for the cycle's decision record.
function ai.vote(results, rule)
  local outcome = vote_mod.decide(results or {}, rule)
  local votes = {}
  for i, r in ipairs(results or {}) do
    votes[i] = r.decision and { provider = r.provider, action = r.decision.action, confidence = r.decision.confidence }
      or { provider = r.provider, abstain = r.abstain_reason or "unknown" }
  end
  outcome.votes = votes
  if #votes > 0 then
    titan.log.info("ai.vote", { action = outcome.action, confidence = outcome.confidence, reason = outcome.reason,
      counts = outcome.counts, quorum = outcome.quorum, votes = votes })
  end
  return outcome
end

-- filter(ctx, signal, facts, opts) -> signal: the AI as a filter on a technical signal.
-- signal = {action = "buy"|"sell"|"hold", reason, ...}; facts = indicator values (name -> number);
-- opts = {risk (table, shown in the prompt), rule (vote rule), candles (how many, default 24),
-- daily_usd, timeout_ms, config (per provider, as in ask_all)}. A buy or sell is kept only when the vote agrees (confirm) and becomes a
-- hold otherwise (veto): disagreement, no quorum, every provider failing. The AI never sizes:
-- the signal's quote/volume are left as they are. Technical only (signal unchanged, signal.ai
-- says why) in a backtest, with no provider in ctx.ai, or when the daily spend cap is reached.
-- The vote (outcome and per-provider votes) goes into ctx.decision.ai for the decision record.
function ai.filter(ctx, signal, facts, opts)
  opts = opts or {}
  if signal.action ~= "buy" and signal.action ~= "sell" then return signal end
  if ctx.mode == "BACKTEST" or type(ctx.ai) ~= "table" or #ctx.ai == 0 then
    signal.ai = "technical only"
    return signal
  end
  local candles
  if type(ctx.market) == "table" and type(ctx.market.ohlc) == "function" then
    local ok, list = pcall(ctx.market.ohlc, ctx.pair, ctx.interval, opts.candles or 24)
    if ok and type(list) == "table" then candles = list end
  end
  local numbers = {}
  for k, v in pairs(facts or {}) do
    if type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge then numbers[k] = v end
  end
  local p = prompt_mod.build{
    pair = ctx.pair, interval = ctx.interval,
    time = math.type(ctx.now) == "integer" and titan.time.iso(ctx.now) or nil,
    signal = signal.action, indicators = numbers, candles = candles,
    position = type(ctx.portfolio) == "table" and {
      base = tonumber(ctx.portfolio.position), cash_quote = tonumber(ctx.portfolio.cash),
      value_quote = tonumber(ctx.portfolio.position_value) } or {},
    risk = opts.risk or {},
  }
  local results, info = ai.ask_all(p, { state = ctx.state, providers = ctx.ai, daily_usd = opts.daily_usd,
    timeout_ms = opts.timeout_ms, config = opts.config,
    now_ms = math.type(ctx.now) == "integer" and ctx.now or nil })   -- the cycle's UTC day
  local decision_record = type(ctx.decision) == "table" and ctx.decision or {}
  if info.skipped then
    signal.ai = "technical only (" .. info.skipped .. ")"
    decision_record.ai = { skipped = info.skipped, spent_usd = info.spent_usd, cap_usd = info.cap_usd }
    return signal
  end
  local outcome = ai.vote(results, opts.rule)
  local side = outcome.counts[signal.action] or 0
  local summary = string.format("AI %s: %d of %d for %s (%s, confidence %.2f)", outcome.action, side,
    #results, signal.action, outcome.reason, outcome.confidence)
  local record = { action = outcome.action, reason = outcome.reason, confidence = outcome.confidence,
    votes = outcome.votes, summary = summary, cost_usd = info.cost_usd, spent_today_usd = info.spent_usd }
  decision_record.ai = record   -- the host stores ctx.decision with the cycle's decision record
  if outcome.action == signal.action then
    signal.reason = signal.reason .. "; " .. summary
    signal.ai = record
    return signal
  end
  return { action = "hold", reason = "AI veto of the " .. signal.action .. " signal (" .. signal.reason .. "): " .. summary,
    ai = record }
end

return ai
