-- titan.kraken end to end against the loopback fake Kraken (tests/fakes/kraken_fake.py), which
-- checks every signature and nonce itself. Run by tests/e2e/test_kraken.sh with KRAKEN_API_URL,
-- KRAKEN_API_KEY and KRAKEN_SECRET set; arg[1] is the fake's base URL (for its control API).
local spec = require "spec"
local kraken, http, json = titan.kraken, titan.http, titan.json

local base = arg[1] or os.getenv("KRAKEN_API_URL")
assert(base, "usage: kraken_spec.lua FAKE_BASE_URL")

local function control(cmd)
  local res, err = http.request{
    method = "POST", url = base .. "/__control", body = json.encode(cmd),
    headers = {["Content-Type"] = "application/json"},
  }
  assert(res and res.status == 200, "control failed: " .. tostring(err and err.message or res and res.status))
end

local function get(path)
  local res, err = http.request{method = "GET", url = base .. path}
  assert(res and res.status == 200, "GET " .. path .. " failed: " .. tostring(err and err.message))
  return json.decode(res.body)
end

local function counts() return get("/__calls").counts end
local function orders() return get("/__orders").orders end
local function reset() control{reset = true} end
local function fault(method, kind, extra)
  local f = {method = method, kind = kind}
  for k, v in pairs(extra or {}) do f[k] = v end
  control(f)
end

-- ---------------------------------------------------------------------------------------------
spec.describe("public", function()
  spec.it("Time returns the result table and an empty warnings array", function()
    reset()
    local r, w = kraken.public("Time")
    spec.ok(r, "result")
    spec.ok(r.unixtime > 1.7e9, "unixtime")
    spec.eq(type(w), "table")
    spec.eq(#w, 0, "#warnings")
  end)

  spec.it("an unknown pair is kraken.error with Kraken's string kept", function()
    local r, err = kraken.public("Ticker", {pair = "NOPE"})
    spec.fails("kraken.error", r, err)
    spec.eq(err.errors[1], "EQuery:Unknown asset pair")
    spec.eq(err.sent, false)
    spec.eq(err.method, "Ticker")
  end)
end)

spec.describe("ohlc", function()
  spec.it("drops the open candle and returns closed candles oldest first as numbers", function()
    reset()
    local raw = kraken.public("OHLC", {pair = "XBTUSD", interval = 1})
    local rows = raw.XXBTZUSD
    spec.ok(rows and #rows > 2, "raw rows")
    local candles, meta = kraken.ohlc("XBTUSD", 1)
    spec.ok(candles, "candles")
    spec.eq(#candles, #rows - 1, "one row dropped")
    spec.eq(candles[#candles].t, math.tointeger(rows[#rows - 1][1]), "last closed candle")
    spec.ok(candles[#candles].t < rows[#rows][1], "the open candle is not there")
    for i = 2, #candles do
      if candles[i].t <= candles[i - 1].t then error("not oldest first at " .. i) end
    end
    local c = candles[1]
    spec.eq(math.type(c.t), "integer", "t")
    spec.eq(math.type(c.n), "integer", "n")
    for _, f in ipairs{"o", "h", "l", "c", "vwap", "v"} do spec.eq(type(c[f]), "number", f) end
    -- every value exactly what Lua's own tonumber makes of Kraken's strings
    local names = {"o", "h", "l", "c", "vwap", "v"}
    for i = 1, #candles do
      for f = 1, 6 do
        if candles[i][names[f]] ~= tonumber(rows[i][f + 1]) then
          error(string.format("candle %d %s: %.17g vs %q", i, names[f], candles[i][names[f]], rows[i][f + 1]))
        end
      end
      if candles[i].n ~= math.tointeger(rows[i][8]) then error("count of candle " .. i) end
    end
    spec.eq(meta.pair_key, "XXBTZUSD")
    spec.eq(math.type(meta.last), "integer", "last (int or string on the wire)")
  end)

  spec.it("count keeps the newest closed candles", function()
    local all = kraken.ohlc("XBTUSD", 15)
    local some = kraken.ohlc("XBTUSD", 15, {count = 10})
    spec.eq(#some, 10)
    spec.eq(some[10].t, all[#all].t)
    spec.eq(some[1].t, all[#all - 9].t)
  end)

  spec.it("since is passed on (int or string)", function()
    local all = kraken.ohlc("XBTUSD", 1)
    local since = all[#all - 5].t
    local a = kraken.ohlc("XBTUSD", 1, {since = since})
    local b = kraken.ohlc("XBTUSD", 1, {since = tostring(since)})
    spec.eq(#a, 5)
    spec.eq(#b, 5)
    spec.eq(a[1].t, all[#all - 4].t)
  end)

  spec.it("misuse raises", function()
    spec.raises(function() kraken.ohlc("XBTUSD", 7) end, "interval")
    spec.raises(function() kraken.ohlc(nil, 15) end, "bad argument #1")
    spec.raises(function() kraken.ohlc("XBTUSD", 15, {count = -1}) end, "count")
    spec.raises(function() kraken.ohlc("XBTUSD", 15, {since = 1.5}) end, "since")
    spec.raises(function() kraken.ohlc("XBTUSD", 15, {timeout_ms = 0}) end, "timeout_ms")
  end)

  spec.it("an unknown pair is nil, err", function()
    spec.fails("kraken.error", kraken.ohlc("NOPE", 15))
  end)

  spec.it("15 and 60 minutes are candles of that interval: the 1-minute ones aggregated", function()
    local minutes = kraken.ohlc("XBTUSD", 1)
    for _, interval in ipairs{15, 60} do
      local step = interval * 60
      local candles = kraken.ohlc("XBTUSD", interval)
      spec.ok(#candles >= 3, interval .. ": candles")
      spec.ok(#candles <= #minutes // interval, interval .. ": no more candles than the minutes make")
      for i, c in ipairs(candles) do
        local where = interval .. "-minute candle " .. i
        if c.t % step ~= 0 then error(where .. " is not aligned to the interval") end
        if i > 1 and c.t - candles[i - 1].t ~= step then error(where .. " does not follow the previous one") end
        local o, h, l, close, v, n = nil, -math.huge, math.huge, nil, 0, 0
        for _, m in ipairs(minutes) do
          if m.t >= c.t and m.t < c.t + step then
            o = o or m.o; h = math.max(h, m.h); l = math.min(l, m.l); close = m.c; v = v + m.v; n = n + m.n
          end
        end
        if c.o ~= o or c.h ~= h or c.l ~= l or c.c ~= close or c.n ~= n or math.abs(c.v - v) > 1e-7 then
          error(string.format("%s: %s vs the minutes' o=%s h=%s l=%s c=%s v=%s n=%s", where, titan.json.encode(c),
                              o, h, l, close, v, n))
        end
      end
    end
  end)
end)

spec.describe("pair and asset lists", function()
  spec.it("Ticker and AssetPairs take several pairs, comma-separated, or none for every pair", function()
    reset()
    local t = kraken.public("Ticker", {pair = "XBTUSD,ETHUSD"})
    spec.ok(t and t.XXBTZUSD and t.XETHZUSD, "both tickers")
    local two = kraken.public("AssetPairs", {pair = "XBTUSD,LTCUSDT"})
    spec.eq(two.XXBTZUSD.altname, "XBTUSD"); spec.eq(two.LTCUSDT.base, "XLTC")
    local all = kraken.public("AssetPairs")
    local n = 0
    for _ in pairs(all) do n = n + 1 end
    spec.eq(n, 4, "every pair the fake trades")
    spec.eq(all.XETHZUSD.quote, "ZUSD")
  end)

  spec.it("one unknown name fails the whole call; OHLC takes one pair only", function()
    spec.fails("kraken.error", kraken.public("Ticker", {pair = "XBTUSD,NOPE"}))
    spec.fails("kraken.error", kraken.public("OHLC", {pair = "XBTUSD,ETHUSD", interval = 15}))
  end)

  spec.it("Assets by internal name or altname", function()
    local a = kraken.public("Assets", {asset = "XBT,ZUSD"})
    spec.eq(a.XXBT.altname, "XBT"); spec.eq(a.ZUSD.decimals, 4)
    spec.fails("kraken.error", kraken.public("Assets", {asset = "NOPE"}))
  end)
end)

spec.describe("pair names", function()
  spec.it("XBTUSD, XBT/USD and XXBTZUSD all resolve to Kraken's key", function()
    for _, name in ipairs{"XBTUSD", "XBT/USD", "XXBTZUSD"} do
      local t, meta = kraken.ticker(name)
      spec.ok(t, name)
      spec.eq(t.pair_key, "XXBTZUSD", name)
      spec.eq(meta.pair_key, "XXBTZUSD", name)
    end
    local t = kraken.ticker("XBTUSDT")
    spec.eq(t.pair_key, "XBTUSDT")
  end)

  spec.it("ticker fields are numbers", function()
    local t = kraken.ticker("XBTUSD")
    for _, f in ipairs{"ask", "bid", "last", "open", "high", "low", "volume", "vwap", "volume_24h"} do
      spec.eq(type(t[f]), "number", f)
    end
    spec.ok(t.ask >= t.bid, "ask >= bid")
    spec.eq(math.type(t.trades_24h), "integer")
  end)

  spec.it("asset_pair has decimals and minimums, cached per run, and the cache cannot be altered", function()
    reset()
    local p, meta = kraken.asset_pair("XBTUSD")
    spec.ok(p, "info")
    spec.eq(p.pair_key, "XXBTZUSD")
    spec.eq(p.altname, "XBTUSD")
    spec.eq(p.base, "XXBT")
    spec.eq(p.quote, "ZUSD")
    spec.eq(math.type(p.lot_decimals), "integer")
    spec.eq(math.type(p.pair_decimals), "integer")
    spec.eq(type(p.ordermin), "number")
    spec.eq(type(p.costmin), "number")
    spec.eq(type(p.tick_size), "number")
    spec.eq(meta.cached, false)
    p.ordermin = 0
    local again, meta2 = kraken.asset_pair("XBTUSD")
    spec.eq(meta2.cached, true)
    spec.ok(again.ordermin > 0, "cache unchanged")
    spec.eq(counts().AssetPairs, 1, "one AssetPairs call")
  end)
end)

spec.describe("warnings", function()
  spec.it("W-strings are returned as warnings, not errors", function()
    reset()
    fault("Ticker", "warning", {warning = "WGeneral:Deprecated endpoint"})
    local r, w = kraken.public("Ticker", {pair = "XBTUSD"})
    spec.ok(r and r.XXBTZUSD, "result")
    spec.eq(w[1], "WGeneral:Deprecated endpoint")
    fault("Ticker", "warning", {warning = "WGeneral:Again"})
    local t, meta = kraken.ticker("XBTUSD")
    spec.ok(t, "ticker")
    spec.eq(meta.warnings[1], "WGeneral:Again")
  end)

  spec.it("a W-string beside an E-string is still a failure; both kept in err.errors", function()
    reset()
    fault("Balance", "error", {errors = {"WGeneral:note", "EGeneral:Permission denied"}})
    local r, err = kraken.private("Balance")
    spec.fails("kraken.permission_denied", r, err)
    spec.eq(err.errors[1], "WGeneral:note")
    spec.eq(err.errors[2], "EGeneral:Permission denied")
  end)
end)

-- ---------------------------------------------------------------------------------------------
local mapping = {
  {"EAPI:Invalid nonce", "kraken.invalid_nonce", true},
  {"EAPI:Rate limit exceeded", "kraken.rate_limited", true},
  {"EOrder:Rate limit exceeded", "kraken.rate_limited", true},
  {"EService: Throttled: 1762820224", "kraken.rate_limited", true},
  {"EAPI:Invalid key", "kraken.invalid_key", false},
  {"EAPI:Invalid signature", "kraken.invalid_signature", false},
  {"EGeneral:Permission denied", "kraken.permission_denied", false},
  {"EGeneral:Temporary lockout", "kraken.lockout", false},
  {"EOrder:Insufficient funds", "kraken.insufficient_funds", false},
  {"EOrder:Order minimum not met", "kraken.order_minimum", false},
  {"EOrder:Cost minimum not met", "kraken.cost_minimum", false},
  {"EOrder:Tick size check failed", "kraken.tick_size", false},
  {"EGeneral:Invalid arguments:volume", "kraken.invalid_arguments", false},
  -- on an order these two may come after Kraken booked it: in doubt (sent), never retried
  {"EService:Unavailable", "kraken.unavailable", false, true},
  {"EService:Busy", "kraken.unavailable", false, true},
  {"EService:Market in cancel_only mode", "kraken.unavailable", true},
  {"EService:Market in post_only mode", "kraken.unavailable", true},
  {"EGeneral:Internal error", "kraken.error", false},
  {"EQuery:Unknown asset pair", "kraken.error", false},
  {"EFuture:Something new", "kraken.error", false},
}

spec.describe("EService on a read", function()
  spec.it("EService:Unavailable on Balance is retryable and not ambiguous", function()
    reset()
    fault("Balance", "error", {error = "EService:Unavailable"})
    local r, err = kraken.private("Balance")
    spec.fails("kraken.unavailable", r, err)
    spec.eq(err.retryable, true)
    spec.eq(err.sent, false)
  end)
end)

spec.describe("error mapping", function()
  for _, m in ipairs(mapping) do
    spec.it(m[1] .. " -> " .. m[2], function()
      reset()
      -- AddOrder: never retried, so even the nonce error comes straight back
      fault("AddOrder", "error", {error = m[1]})
      local r, err = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.001"})
      spec.fails(m[2], r, err)
      spec.eq(err.errors[1], m[1], "original string")
      spec.eq(err.retryable, m[3], "retryable")
      spec.eq(err.sent, m[4] or m[1] == "EGeneral:Internal error", "sent (ambiguous)")
      spec.ok(err.message:find(m[1], 1, true), "message names Kraken's string")
      spec.eq(err.status, 200)
      spec.eq(#orders(), 0, "no order booked")
    end)
  end

  spec.it("invalid key and permission denied hint at the IP allow-list", function()
    for _, e in ipairs{"EAPI:Invalid key", "EGeneral:Permission denied"} do
      reset()
      fault("Balance", "error", {error = e})
      local _, err = kraken.private("Balance")
      spec.ok(err.message:find("allow-list", 1, true), "hint in: " .. err.message)
    end
  end)

  spec.it("the same error on a public call", function()
    reset()
    fault("Ticker", "error", {error = "EService:Unavailable", times = -1})
    local r, err = kraken.ticker("XBTUSD")
    spec.fails("kraken.unavailable", r, err)
    spec.eq(err.retryable, true)
    reset()
  end)

  spec.it("an error envelope under HTTP 503 is mapped from the envelope", function()
    reset()
    fault("Balance", "status", {status = 503, body = '{"error":["EService:Busy"]}'})
    local r, err = kraken.balance()
    spec.fails("kraken.unavailable", r, err)
    spec.eq(err.errors[1], "EService:Busy")
    spec.eq(err.status, 503)
  end)
end)

spec.describe("the exchange's own checks (no scripted fault)", function()
  local function add(p)
    local params = {pair = "XBTUSD", type = "buy", ordertype = "limit"}
    for k, v in pairs(p) do params[k] = v end
    return kraken.private("AddOrder", params)
  end
  spec.it("order minimum", function() reset(); spec.fails("kraken.order_minimum", add{volume = "0.00001", price = "50000.0"}) end)
  spec.it("cost minimum", function() reset(); spec.fails("kraken.cost_minimum", add{volume = "0.0001", price = "1000.0"}) end)
  spec.it("tick size", function() reset(); spec.fails("kraken.tick_size", add{volume = "0.001", price = "50000.05"}) end)
  spec.it("insufficient funds", function() reset(); spec.fails("kraken.insufficient_funds", add{volume = 10, ordertype = "market"}) end)
  spec.it("invalid arguments", function() reset(); spec.fails("kraken.invalid_arguments", add{volume = "0.001", ordertype = "bogus"}) end)
end)

-- ---------------------------------------------------------------------------------------------
spec.describe("nonce", function()
  spec.it("a read answered Invalid nonce is retried once with a fresh nonce", function()
    reset()
    fault("Balance", "error", {error = "EAPI:Invalid nonce"})
    local b = kraken.balance()
    spec.ok(b and b.ZUSD, "balance after the retry")
    spec.eq(counts().Balance, 2, "two Balance calls")
    local calls = get("/__calls").calls
    spec.ok(tonumber(calls[2].nonce) > tonumber(calls[1].nonce), "fresh nonce")
  end)

  spec.it("only once", function()
    reset()
    fault("OpenOrders", "error", {error = "EAPI:Invalid nonce", times = 2})
    local r, err = kraken.private("OpenOrders")
    spec.fails("kraken.invalid_nonce", r, err)
    spec.eq(counts().OpenOrders, 2, "two OpenOrders calls")
  end)

  spec.it("AddOrder is never retried", function()
    reset()
    fault("AddOrder", "error", {error = "EAPI:Invalid nonce"})
    local r, err = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.001"})
    spec.fails("kraken.invalid_nonce", r, err)
    spec.eq(counts().AddOrder, 1, "exactly one AddOrder")
    spec.eq(#orders(), 0)
  end)

  spec.it("CancelOrder, CancelAll, EditOrder, AmendOrder and unknown methods are never retried", function()
    for _, m in ipairs{"CancelOrder", "CancelAll", "EditOrder", "AmendOrder", "SomethingNew"} do
      reset()
      fault(m, "error", {error = "EAPI:Invalid nonce"})
      spec.fails("kraken.invalid_nonce", kraken.private(m, {txid = "OABCDE-FGHIJ-KLMNOP"}))
      spec.eq(counts()[m], 1, m)
    end
  end)

  spec.it("nonces strictly increase across calls (the fake checks each one)", function()
    reset()
    for _ = 1, 20 do spec.ok(kraken.private("Balance"), "balance") end
    local calls = get("/__calls").calls
    for i = 2, #calls do
      if tonumber(calls[i].nonce) <= tonumber(calls[i - 1].nonce) then error("nonce went back at " .. i) end
    end
  end)
end)

-- ---------------------------------------------------------------------------------------------
spec.describe("orders", function()
  spec.it("a market AddOrder is signed, booked once and filled", function()
    reset()
    local r, w = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market",
                                              volume = 0.001, cl_ord_id = "titan-cycle-1"})
    spec.ok(r, "result")
    spec.eq(#w, 0)
    spec.eq(type(r.txid[1]), "string")
    local booked = orders()
    spec.eq(#booked, 1)
    spec.eq(booked[1].txid, r.txid[1])
    spec.eq(booked[1].cl_ord_id, "titan-cycle-1")
    spec.eq(booked[1].status, "closed")
    spec.eq(booked[1].vol, "0.001", "number sent as a plain decimal")
    local closed = kraken.private("ClosedOrders", {cl_ord_id = "titan-cycle-1"})
    spec.ok(closed.closed[r.txid[1]], "found by cl_ord_id")
    local q = kraken.private("QueryOrders", {txid = {r.txid[1]}})
    spec.eq(q[r.txid[1]].status, "closed")
  end)

  spec.it("validate=true checks without booking", function()
    reset()
    local r = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "limit", price = "50000.0",
                                          volume = "0.001", validate = true})
    spec.ok(r and r.descr, "descr")
    spec.eq(r.txid, nil)
    spec.eq(#orders(), 0)
    spec.eq(get("/__calls").calls[1].params.validate, "true")
  end)

  spec.it("a limit order stays open and can be cancelled by cl_ord_id", function()
    reset()
    local r = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "limit", price = "50000.0",
                                          volume = "0.001", cl_ord_id = "lim-1"})
    spec.ok(r, "placed")
    local open = kraken.private("OpenOrders", {cl_ord_id = "lim-1"})
    spec.ok(open.open[r.txid[1]], "open")
    local c = kraken.private("CancelOrder", {cl_ord_id = "lim-1"})
    spec.eq(c.count, 1)
    spec.fails("kraken.error", kraken.private("CancelOrder", {cl_ord_id = "lim-1"}))
  end)

  spec.it("userref must be an int32, cl_ord_id a UUID or short text: anything else is refused unbooked", function()
    reset()
    local base = {pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.0001"}
    local function with(extra)
      local t = {}
      for k, v in pairs(base) do t[k] = v end
      for k, v in pairs(extra) do t[k] = v end
      return t
    end
    for _, bad in ipairs{"1.5", "abc", "2147483648", "1e3"} do
      local r, err = kraken.private("AddOrder", with{userref = bad})
      spec.fails("kraken.invalid_arguments", r, err)
      spec.eq(err.errors[1], "EGeneral:Invalid arguments:userref", bad)
    end
    local r, err = kraken.private("AddOrder", with{cl_ord_id = "nineteen-characters"})
    spec.fails("kraken.invalid_arguments", r, err)
    spec.eq(err.errors[1], "EGeneral:Invalid arguments:cl_ord_id")
    spec.eq(#orders(), 0, "nothing booked")
    spec.ok(kraken.private("AddOrder", with{userref = "-42"}), "an int32 userref")
    spec.ok(kraken.private("AddOrder", with{cl_ord_id = "0f3c2a9e-7b41-4d2c-9a55-1e6f0b8d4c21"}), "a UUID cl_ord_id")
    spec.eq(orders()[1].userref, -42)
  end)

  spec.it("ClosedOrders: newest first, 50 per page, ofs, count of every match", function()
    reset()
    local txids = {}
    for i = 1, 55 do
      local r = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.0001"})
      txids[i] = assert(r, "order " .. i).txid[1]
    end
    local first = kraken.private("ClosedOrders")
    local second = kraken.private("ClosedOrders", {ofs = 50})
    spec.eq(first.count, 55); spec.eq(second.count, 55)
    local function size(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end
    spec.eq(size(first.closed), 50, "first page")
    spec.eq(size(second.closed), 5, "second page")
    for i = 1, 5 do spec.ok(second.closed[txids[i]], "the oldest on the last page: " .. i) end
    for i = 6, 55 do spec.ok(first.closed[txids[i]], "the newest on the first page: " .. i) end
    spec.fails("kraken.invalid_arguments", kraken.private("ClosedOrders", {ofs = "x"}))
  end)

  spec.it("BalanceEx: balance and what open orders hold", function()
    reset()
    spec.ok(kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "limit", price = "50000.0",
                                        volume = "0.002"}), "buy limit")
    spec.ok(kraken.private("AddOrder", {pair = "XBTUSD", type = "sell", ordertype = "limit", price = "200000.0",
                                        volume = "0.1"}), "sell limit")
    local b = kraken.private("BalanceEx")
    spec.eq(b.ZUSD.balance, "10000.0000")
    spec.eq(b.ZUSD.hold_trade, "100.0000", "the buy's cost")
    spec.eq(b.XXBT.hold_trade, "0.1000000000", "the sell's volume")
    spec.eq(b.XETH.hold_trade, "0.0000000000")
  end)

  spec.it("balance() gives numbers and keeps Kraken's strings", function()
    reset()
    local b, meta = kraken.balance()
    spec.eq(b.ZUSD, 10000)
    spec.eq(meta.raw.ZUSD, "10000.0000")
    spec.eq(#meta.warnings, 0)
  end)
end)

spec.describe("decimal strings", function()
  spec.it("are read exactly as tonumber reads them (fast path and fallback)", function()
    reset()
    math.randomseed(42)
    local shapes = {"0", "0.0", "1", "-2.5", ".5", "00012.34000", "0.00000001", "105944.30000",
                    "123456789012345", "1234567890123456789", "0.1234567890123456789", "99999999999999.9",
                    "171288.6158", "1e5", "-0.000"}
    for _ = 1, 300 do
      local int = tostring(math.random(0, 10 ^ math.random(0, 9)))
      local frac = tostring(math.random(0, 10 ^ math.random(0, 9)))
      shapes[#shapes + 1] = (math.random() < 0.2 and "-" or "") .. int .. "." .. string.rep("0", math.random(0, 4)) .. frac
    end
    local balances = {}
    for i, v in ipairs(shapes) do balances["A" .. i] = v end
    control{balances = balances}
    local b, meta = kraken.balance()
    spec.ok(b, "balance")
    for i, v in ipairs(shapes) do
      local got = b["A" .. i]
      local want = tonumber(v) + 0.0   -- Lua reads "123" as an integer; Kraken amounts are floats here
      if got ~= want then error(string.format("%q read as %.17g, tonumber says %.17g", v, got, want)) end
      spec.eq(meta.raw["A" .. i], v)
    end
    reset()
  end)
end)

spec.describe("params", function()
  spec.it("are sent sorted, numbers as plain decimals, booleans as words, arrays comma-joined", function()
    reset()
    kraken.private("QueryOrders", {
      a_int = 42, b_small = 0.00000001, c_sum = 0.1 + 0.2, d_bool = false, e_list = {"X", "Y", 3},
      f_big = 123456789.125, g_neg = -2.5,
    })
    local p = get("/__calls").calls[1].params
    spec.eq(p.a_int, "42")
    spec.eq(p.b_small, "0.00000001")
    spec.eq(p.c_sum, "0.30000000000000004")
    spec.eq(p.d_bool, "false")
    spec.eq(p.e_list, "X,Y,3")
    spec.eq(p.f_big, "123456789.125")
    spec.eq(p.g_neg, "-2.5")
  end)

  spec.it("misuse raises before anything is sent", function()
    reset()
    spec.raises(function() kraken.private("Balance", {nonce = 1}) end, "nonce")
    spec.raises(function() kraken.private("Balance", {x = {{1}}}) end, "nested")
    spec.raises(function() kraken.private("Balance", {x = print}) end, "function")
    spec.raises(function() kraken.private("Balance", {x = 0 / 0}) end, "plain decimal")
    spec.raises(function() kraken.private("Balance", {x = math.huge}) end, "plain decimal")
    spec.raises(function() kraken.private("Balance", {[1] = "x"}) end, "keys must be strings")
    spec.raises(function() kraken.public("Add/Order") end, "method name")
    spec.raises(function() kraken.public("") end, "method name")
    spec.raises(function() kraken.public(42) end, "string expected")
    spec.raises(function() kraken.public("Time", "pair=XBTUSD") end, "table expected")
    spec.raises(function() kraken.private("Withdraw", {asset = "XBT"}) end, "never available")
    spec.raises(function() kraken.private("WalletTransfer") end, "never available")
    spec.eq(next(counts()), nil, "nothing reached the fake")
  end)
end)

-- ---------------------------------------------------------------------------------------------
spec.describe("exchange down, broken answers", function()
  spec.it("HTML 520 page -> kraken.unavailable, sent", function()
    reset()
    fault("Balance", "html", {status = 520})
    local r, err = kraken.balance()
    spec.fails("kraken.unavailable", r, err)
    spec.eq(err.status, 520)
    spec.eq(err.sent, true)
    spec.eq(err.retryable, true, "a read")
    spec.ok(err.message:find("HTML", 1, true), err.message)
  end)

  spec.it("HTML 520 on AddOrder: in doubt, not retryable", function()
    reset()
    fault("AddOrder", "html", {status = 520})
    local r, err = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.001"})
    spec.fails("kraken.unavailable", r, err)
    spec.eq(err.sent, true)
    spec.eq(err.retryable, false)
    spec.eq(counts().AddOrder, 1)
  end)

  spec.it("an HTML page with HTTP 200 is kraken.unavailable too", function()
    reset()
    fault("Balance", "html", {status = 200})
    spec.fails("kraken.unavailable", kraken.balance())
  end)

  spec.it("public GETs are retried by the HTTP layer on 502 and succeed", function()
    reset()
    fault("Ticker", "status", {status = 502, body = "bad gateway"})
    local t = kraken.ticker("XBTUSD")
    spec.ok(t, "ticker after a retry")
    spec.eq(counts().Ticker, 2)
  end)

  spec.it("a persistent 503 on a public GET gives up: kraken.unavailable", function()
    reset()
    fault("Time", "status", {status = 503, body = "down", times = -1})
    local r, err = kraken.public("Time")
    spec.fails("kraken.unavailable", r, err)
    spec.eq(err.status, 503)
    spec.eq(counts().Time, 3, "1 + 2 retries")
    reset()
  end)

  spec.it("garbage -> kraken.error, sent; retryable for a read", function()
    reset()
    fault("Balance", "garbage")
    local r, err = kraken.balance()
    spec.fails("kraken.error", r, err)
    spec.eq(err.sent, true)
    spec.eq(err.retryable, true)
    fault("AddOrder", "garbage")
    r, err = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.001"})
    spec.fails("kraken.error", r, err)
    spec.eq(err.sent, true)
    spec.eq(err.retryable, false, "an order in doubt")
    spec.eq(counts().AddOrder, 1, "not resent")
  end)

  spec.it("truncated body (Content-Length lies) -> sent, not a success", function()
    reset()
    fault("Balance", "truncate")
    local r, err = kraken.balance()
    spec.eq(r, nil)
    spec.ok(err.code == "http.protocol" or err.code == "kraken.error", "code " .. tostring(err.code))
    spec.eq(err.sent, true)
  end)

  spec.it("cut body (half the JSON, connection closed) -> kraken.error, sent", function()
    reset()
    fault("OHLC", "cut", {times = -1})
    local r, err = kraken.ohlc("XBTUSD", 1)
    spec.fails("kraken.error", r, err)
    spec.eq(err.sent, true)
    reset()
  end)

  spec.it("HTTP 429 without an envelope -> kraken.rate_limited", function()
    reset()
    fault("Balance", "status", {status = 429, body = "slow down"})
    spec.fails("kraken.rate_limited", kraken.balance())
  end)

  spec.it("HTTP 404 text -> kraken.error, not sent", function()
    reset()
    fault("Balance", "status", {status = 404, body = "not found"})
    local r, err = kraken.balance()
    spec.fails("kraken.error", r, err)
    spec.eq(err.sent, false)
    spec.eq(err.status, 404)
  end)

  spec.it("a stalled read times out: http.timeout", function()
    reset()
    fault("Balance", "stall", {seconds = 3})
    local t0 = titan.time.now_ms()
    local r, err = kraken.balance({timeout_ms = 400})
    spec.fails("http.timeout", r, err)
    spec.ok(titan.time.now_ms() - t0 < 2500, "gave up at the deadline")
  end)

  spec.it("timeout after send on AddOrder: sent=true, not retryable, booked once", function()
    reset()
    fault("AddOrder", "stall", {seconds = 3, after_record = true})
    local r, err = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market",
                                              volume = "0.001", cl_ord_id = "doubt-1"}, {timeout_ms = 400})
    spec.fails("http.timeout", r, err)
    spec.eq(err.sent, true)
    spec.eq(err.retryable, false)
    spec.eq(counts().AddOrder, 1, "exactly one AddOrder")
    local booked = orders()
    spec.eq(#booked, 1, "the exchange has it")
    -- what the live executor does next: look it up by cl_ord_id
    local closed = kraken.private("ClosedOrders", {cl_ord_id = "doubt-1"})
    spec.ok(closed.closed[booked[1].txid], "found by lookup")
  end)

  spec.it("connection dropped after booking: sent=true", function()
    reset()
    fault("AddOrder", "drop", {after_record = true})
    local r, err = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.001"})
    spec.eq(r, nil)
    spec.eq(err.sent, true)
    spec.eq(err.retryable, false)
    spec.eq(counts().AddOrder, 1)
  end)
end)

spec.finish("kraken_spec")
