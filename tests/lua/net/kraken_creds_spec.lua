-- titan.kraken credentials and nonces across processes, against the fake Kraken: run by
-- tests/e2e/test_kraken.sh once per case with the environment of that case.
-- arg: FAKE_BASE_URL EXPECTED_CODE BALANCE_CALLS_THE_FAKE_SHOULD_SEE
local spec = require "spec"
local kraken, http, json = titan.kraken, titan.http, titan.json
local base, want, want_calls = arg[1], arg[2], tonumber(arg[3])
assert(base and want and want_calls, "usage: kraken_creds_spec.lua FAKE_URL CODE CALLS")

local function balance_calls()
  local res = http.request{method = "GET", url = base .. "/__calls"}
  return json.decode(res.body).counts.Balance or 0
end

spec.it("public calls need no credentials", function()
  spec.ok(kraken.ticker("XBTUSD"), "ticker")
end)

if want == "kraken.none" then   -- the credentials work: private calls succeed
  spec.it("private calls succeed", function()
    local before = balance_calls()
    spec.ok(kraken.balance(), "balance")
    spec.ok(kraken.balance(), "balance again")
    spec.eq(balance_calls() - before, 2)
  end)
  spec.finish("kraken_creds_spec")
  return
end

spec.it("a private call fails with " .. want, function()
  -- no reset: the fake must keep the nonces earlier runs used (the clock_behind case)
  local before = balance_calls()
  local r, err = kraken.balance()
  spec.fails(want, r, err)
  spec.eq(balance_calls() - before, want_calls, "Balance calls seen by the fake")
  spec.eq(err.sent, false)
  spec.eq(err.retryable, want == "kraken.invalid_nonce")
  -- decided once per run: the second call fails the same way
  spec.fails(want, kraken.private("OpenOrders"))
end)

spec.finish("kraken_creds_spec")
