-- Helpers shared by the AI provider modules: endpoint checks, HTTP failure -> abstention
-- mapping, retry delays (Retry-After, Go durations, google.rpc.RetryInfo), size capping.
-- Pure functions; nothing here performs I/O.
local util = {}

util.DETAIL_MAX = 240   -- characters of a provider's error message kept in a detail

-- Removes anything that looks like an API key fragment from provider text (a 401 message may
-- quote part of the key; the host redacts whole keys, not fragments).
function util.scrub(s)
  if type(s) ~= "string" then return "" end
  s = s:gsub("sk%-[%w%-_%*%.]+", "[key]"):gsub("gsk_[%w%*%.]+", "[key]"):gsub("AIza[%w%-_%*%.]+", "[key]")
  return s
end

function util.short(s, n)
  s = util.scrub(s):gsub("%s+", " ")
  n = n or util.DETAIL_MAX
  if #s > n then s = util.cap_utf8(s, n) .. "..." end
  return s
end

-- Cuts s to at most n bytes without splitting a UTF-8 sequence.
function util.cap_utf8(s, n)
  if #s <= n then return s end
  local cut = n
  -- back off over continuation bytes, then drop the lead byte of the split sequence
  while cut > 0 and (s:byte(cut + 1) or 0) >= 0x80 and (s:byte(cut + 1) or 0) < 0xC0 do cut = cut - 1 end
  return s:sub(1, cut)
end

-- Checks an endpoint base URL. Keys travel in headers, so plain http is allowed only to
-- loopback (tests); anything else must be https. Returns the base without a trailing slash.
function util.check_base(url)
  if type(url) ~= "string" or url == "" then return nil, "empty base URL" end
  url = url:gsub("/+$", "")
  if url:match("^https://[%w%.%-]+[:%d]*/?") then return url end
  local host = url:match("^http://([^/:]+)") or url:match("^http://(%[[^%]]+%])")
  if host == "127.0.0.1" or host == "localhost" or host == "[::1]" then return url end
  return nil, "base URL must be https:// (plain http only to loopback): " .. util.short(url, 80)
end

-- Model names go into URLs and bodies: keep them to safe characters.
function util.check_model(model)
  if type(model) ~= "string" or not model:match("^[%w][%w%._:/%-]*$") or #model > 100 or model:find("..", 1, true) then
    return nil, "model name '" .. util.short(tostring(model), 60) .. "' is not valid"
  end
  return model
end

-- Parses "1s", "6m0s", "1.5s", "250ms", "1h2m3s" -> ms; nil when not a duration.
function util.parse_duration_ms(text)
  if type(text) ~= "string" or text == "" then return nil end
  local total, rest = 0, text
  local units = { h = 3600000, m = 60000, s = 1000, ms = 1, us = 0.001, ["µs"] = 0.001, ns = 1e-6 }
  while rest ~= "" do
    local num, unit, tail = rest:match("^(%d+%.?%d*)(%a+)(.*)$")
    if not num or not units[unit] then return nil end
    total = total + tonumber(num) * units[unit]
    rest = tail
  end
  return math.ceil(total)
end

-- Retry delay from HTTP headers: retry-after (seconds, or an HTTP date we do not trust ->
-- nil), retry-after-ms, then OpenAI's x-ratelimit-reset-requests (Go duration).
function util.retry_after_ms(headers)
  if type(headers) ~= "table" then return nil end
  local ms = tonumber(headers["retry-after-ms"])
  if ms and ms >= 0 then return math.ceil(ms) end
  local s = tonumber(headers["retry-after"])
  if s and s >= 0 then return math.ceil(s * 1000) end
  return util.parse_duration_ms(headers["x-ratelimit-reset-requests"])
end

-- Abstention for a transport failure (nil, err from titan.http).
function util.transport_abstain(err)
  local code = type(err) == "table" and err.code or "http.unknown"
  local message = type(err) == "table" and err.message or tostring(err)
  if code == "http.timeout" then
    return { abstain = "timeout", detail = "no answer before the deadline: " .. util.short(message) }
  end
  return { abstain = "transport", detail = tostring(code) .. ": " .. util.short(message) }
end

-- Abstention for a non-200 answer. err_code/err_message come from the provider's error body.
function util.status_abstain(status, err_code, err_message, headers)
  local detail = "HTTP " .. tostring(status) .. (err_code and (" " .. tostring(err_code)) or "")
    .. (err_message and (": " .. util.short(err_message)) or "")
  if status == 401 or status == 403 then return { abstain = "auth", detail = detail } end
  if status == 429 then
    if err_code == "insufficient_quota" then return { abstain = "quota_exhausted", detail = detail } end
    return { abstain = "rate_limited", detail = detail, retry_after_ms = util.retry_after_ms(headers) }
  end
  if status == 400 and err_code == "json_validate_failed" then
    return { abstain = "json_validate_failed", detail = detail }
  end
  -- the model name is wrong or retired (OpenAI/Groq model_not_found, Gemini NOT_FOUND): say so,
  -- it will not heal by itself; other 404s (a wrong base URL) stay http_error
  if status == 404 and (err_code == "model_not_found" or err_code == "NOT_FOUND") then
    return { abstain = "unknown_model", detail = detail }
  end
  if status >= 500 then return { abstain = "server_error", detail = detail } end
  return { abstain = "http_error", detail = detail }
end

return util
