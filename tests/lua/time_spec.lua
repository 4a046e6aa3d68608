-- titan.time: now_ms (pinnable with TITAN_FAKE_NOW_MS), iso, parse_iso (nil, err on bad
-- text), slot across boundaries and before 1970, intervals, and misuse raising.
local spec = require "spec"
local time = titan.time
local it, eq, ok, raises, fails = spec.it, spec.eq, spec.ok, spec.raises, spec.fails

local MIN = 60000

spec.describe("time", function()
  it("now_ms is an integer near the system clock (or the pinned value)", function()
    local now = time.now_ms()
    eq(math.type(now), "integer")
    local fake = os.getenv("TITAN_FAKE_NOW_MS")
    if fake and fake ~= "" then
      eq(now, math.tointeger(tonumber(fake)))
    else
      ok(math.abs(now - os.time() * 1000) < 5000, "within 5 s of os.time()")
    end
  end)

  it("sleep_ms waits wall time without spending CPU, within bounds", function()
    local cpu0 = os.clock()
    local wall0 = time.now_ms()
    time.sleep_ms(0)
    time.sleep_ms(60)
    local fake = os.getenv("TITAN_FAKE_NOW_MS")
    if not (fake and fake ~= "") then
      ok(time.now_ms() - wall0 >= 55, "slept about 60 ms of wall time")
    end
    ok(os.clock() - cpu0 < 0.03, "no spinning: CPU time " .. (os.clock() - cpu0))
    raises(function() time.sleep_ms(-1) end, "between 0 and 10000")
    raises(function() time.sleep_ms(10001) end, "between 0 and 10000")
    raises(function() time.sleep_ms(1.5) end, "number has no integer representation")
    raises(function() time.sleep_ms("soon") end, "bad argument #1")
  end)

  it("iso formats UTC with milliseconds and Z", function()
    eq(time.iso(0), "1970-01-01T00:00:00.000Z")
    eq(time.iso(1795754700000), "2026-11-27T04:45:00.000Z")
    eq(time.iso(1795754700042), "2026-11-27T04:45:00.042Z")
    eq(time.iso(-1), "1969-12-31T23:59:59.999Z")
    eq(time.iso(1709164800000), "2024-02-29T00:00:00.000Z")
    ok(time.iso():match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"), "iso() is now")
  end)

  it("parse_iso reads what iso writes and common UTC spellings", function()
    eq(time.parse_iso("2026-11-27T04:45:00.000Z"), 1795754700000)
    eq(time.parse_iso("2026-11-27T04:45:00Z"), 1795754700000)
    eq(time.parse_iso("2026-11-27T04:45Z"), 1795754700000)
    eq(time.parse_iso("2026-11-27T04:45:00+00:00"), 1795754700000)
    eq(time.parse_iso("2026-11-27T04:45:00.5Z"), 1795754700500)
    eq(time.parse_iso("2024-02-29T00:00:00Z"), 1709164800000)
    eq(time.parse_iso("1969-12-31T23:59:59.999Z"), -1)
    for _, ms in ipairs({ 0, 1, -1, 1795754700123, 951782400000, -2203891200000 }) do
      eq(time.parse_iso(time.iso(ms)), ms, "round trip " .. ms)
    end
  end)

  it("parse_iso returns nil, err for text that is not an ISO UTC time", function()
    for _, bad in ipairs({ "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
      "2026-13-01T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T04:45:00", "2026-11-27T04:45:00+01:00",
      "2026-11-27", "", "yesterday", "2026-11-27T04:45:00Zx" }) do
      local err = fails("time.bad_iso", time.parse_iso(bad))
      ok(err.message:find(bad, 1, true), "the message quotes the text")
    end
  end)

  it("slot floors to the start of the UTC slot", function()
    local t = time.parse_iso("2026-11-27T04:52:13.123Z")
    eq(time.iso(time.slot(t, 15)), "2026-11-27T04:45:00.000Z")
    eq(time.iso(time.slot(t, 60)), "2026-11-27T04:00:00.000Z")
    eq(time.iso(time.slot(t, 1440)), "2026-11-27T00:00:00.000Z")
    eq(time.slot(time.parse_iso("2026-11-27T04:45:00Z"), 15), time.parse_iso("2026-11-27T04:45:00Z"))
    eq(time.iso(time.slot(time.parse_iso("2025-12-31T23:59:59.999Z"), 15)), "2025-12-31T23:45:00.000Z")
    eq(time.iso(time.slot(time.parse_iso("2026-01-01T00:14:59.999Z"), 15)), "2026-01-01T00:00:00.000Z")
    eq(time.iso(time.slot(time.parse_iso("2024-02-29T23:59:59.999Z"), 240)), "2024-02-29T20:00:00.000Z")
    eq(time.slot(-1, 15), -15 * MIN)
    eq(time.slot(-15 * MIN, 15), -15 * MIN)
    eq(time.slot(0, 15), 0)
    eq(math.type(time.slot(t, 15)), "integer")
  end)

  it("intervals lists Kraken's candle intervals", function()
    local want = { 1, 5, 15, 30, 60, 240, 1440, 10080, 21600 }
    local got = time.intervals()
    eq(#got, #want)
    for i = 1, #want do eq(got[i], want[i]) end
    got[1] = 999
    eq(time.intervals()[1], 1, "a fresh table each call")
  end)

  it("raises on misuse", function()
    raises(function() time.iso("x") end, "bad argument #1")
    raises(function() time.iso(1.5) end, "number has no integer representation")
    raises(function() time.parse_iso() end, "bad argument #1")
    raises(function() time.parse_iso({}) end, "string expected, got table")
    raises(function() time.slot() end, "bad argument #1")
    raises(function() time.slot(0) end, "bad argument #2")
    raises(function() time.slot(0, 0) end, "minutes must be between 1 and 21600")
    raises(function() time.slot(0, -15) end, "minutes must be between 1 and 21600")
    raises(function() time.slot(0, 21601) end, "minutes must be between 1 and 21600")
    raises(function() time.slot(0, 7.5) end, "number has no integer representation")
    raises(function() time.slot(math.mininteger, 15) end, "ms must be within")
    raises(function() time.slot(math.maxinteger, 15) end, "ms must be within")
  end)
end)

spec.finish("time_spec")
