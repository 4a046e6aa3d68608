-- titan.json (lua-cjson, linked in): encode/decode, the cjson alias, decode_safe's nil, err on
-- bad input (the host's strict decoder), the nesting cap that a script cannot lift, and misuse raising.
local spec = require "spec"
local json = titan.json
local it, eq, ok, raises, fails = spec.it, spec.eq, spec.ok, spec.raises, spec.fails

local function nested(n)
  return string.rep("[", n) .. string.rep("]", n)
end

spec.describe("json", function()
  it("is also require 'cjson' and require 'titan.json'", function()
    eq(require "cjson", json)
    eq(require "titan.json", json)
  end)

  it("round-trips objects, arrays, strings and numbers", function()
    local v = json.decode(json.encode({ a = 1, b = { 1, 2, 3 }, s = "x\"y\\z\n\t", t = true, f = false, n = 0.5 }))
    eq(v.a, 1)
    eq(#v.b, 3)
    eq(v.b[3], 3)
    eq(v.s, "x\"y\\z\n\t")
    eq(v.t, true)
    eq(v.f, false)
    eq(v.n, 0.5)
  end)

  it("encodes '/' as '\\/' and escapes quotes and control characters", function()
    eq(json.encode("a/b"), '"a\\/b"')
    eq(json.encode('q"q'), '"q\\"q"')
    eq(json.encode("\1"), '"\\u0001"')
    eq(json.encode({}), "{}")
    eq(json.encode({ 1, 2 }), "[1,2]")
  end)

  it("keeps millisecond timestamps exact", function()
    eq(json.encode({ 1795754700123 }), "[1795754700123]")
    eq(string.format("%d", json.decode("[1795754700123]")[1]), "1795754700123")
  end)

  it("decodes null as json.null and unicode escapes as UTF-8", function()
    local v = json.decode('{"x":null,"u":"\\u00e9\\u20ac"}')
    eq(v.x, json.null)
    eq(v.u, "\195\169\226\130\172")
  end)

  it("decode raises on invalid JSON, decode_safe returns nil, err", function()
    raises(function() json.decode("{bad") end, "Expected")
    for _, bad in ipairs({ "{bad", "", "[1,]", "{\"a\":}", "nul", "[1", "\"unterminated", "{} extra", "\255" }) do
      local err = fails("json.invalid", json.decode_safe(bad))
      eq(err.retryable, false)
    end
    eq(json.decode_safe('{"ok":true}').ok, true)
    eq(json.decode_safe("123"), 123)
  end)

  it("decode_safe is the host's strict decoder: no NaN, Infinity, hex, leading zeros, 1e400 or NUL", function()
    for _, bad in ipairs({ "NaN", "[-Infinity]", "0x10", "[01]", "1e400", '{"a":-1e999}', "[1]\0[2]" }) do
      local err = fails("json.invalid", json.decode_safe(bad))
      ok(err.message ~= "", "says why")
    end
    eq(json.decode_safe("[1e308]")[1], 1e308)
    eq(json.decode_safe('{"a":1,"a":2}').a, 2) -- a duplicate key: the last one wins
    -- titan.json.decode stays lua-cjson's own (scripts may rely on its leniency)
    ok(json.decode("0x10") == 16)
  end)

  it("limits nesting to 64 levels when decoding and encoding", function()
    eq(type(json.decode(nested(64))), "table")
    raises(function() json.decode(nested(65)) end, "too many nested data structures")
    fails("json.invalid", json.decode_safe(nested(65)))
    fails("json.invalid", json.decode_safe(nested(100000)))
    local deep = {}
    local cur = deep
    for _ = 1, 70 do cur[1] = {}; cur = cur[1] end
    raises(function() json.encode(deep) end, "excessive nesting")
  end)

  it("does not let a script lift the nesting cap", function()
    raises(function() json.decode_max_depth(100000) end, "not available in the titan-host sandbox")
    raises(function() json.encode_max_depth(100000) end, "not available in the titan-host sandbox")
    raises(function() json.new() end, "not available in the titan-host sandbox")
    fails("json.invalid", json.decode_safe(nested(65)))
  end)

  it("refuses values JSON cannot express", function()
    raises(function() json.encode({ f = print }) end, "Cannot serialise function")
    raises(function() json.encode({ [{}] = 1 }) end, "Cannot serialise")
    raises(function() json.encode(0 / 0) end, "Cannot serialise")
    raises(function() json.encode(math.huge) end, "Cannot serialise")
  end)

  it("raises on misuse", function()
    raises(function() json.decode_safe() end, "bad argument #1")
    raises(function() json.decode_safe({}) end, "string expected, got table")
    raises(function() json.decode({}) end, "bad argument #1")
  end)

  it("script settings change the script's encoder only, never the host's", function()
    json.encode_invalid_numbers(true)
    json.encode_number_precision(3)
    ok(json.encode(0 / 0):find("nan"), "the script asked for nan")
    eq(json.encode(1795754700123), "1.8e+12")
    -- titan.log encodes with the host's own settings: NaN is still refused
    raises(function() titan.log.info("ev", { n = 0 / 0 }) end, "Cannot serialise")
    json.encode_invalid_numbers(false)
    json.encode_number_precision(14)
    eq(json.encode(1795754700123), "1795754700123")
  end)

  it("titan.log keeps working when a script replaces titan.json.encode", function()
    local saved = json.encode
    json.encode = function() return {} end
    -- only misuse paths: nothing is written (log_spec writes real events)
    raises(function() titan.log.info("ev", { 1, 2 }) end, "fields must be a table with string keys")
    json.encode = saved
  end)
end)

spec.finish("json_spec")
