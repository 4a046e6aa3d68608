-- titan.crypto through titan-host script: digests, HMACs and their output formats, base64 both
-- ways (bad input is nil, err), hex, random bytes, and misuse raising a clear message.
local spec = require "spec"
local crypto = titan.crypto
local it, eq, ok, raises, fails = spec.it, spec.eq, spec.ok, spec.raises, spec.fails

spec.describe("crypto", function()
  it("is the same table as require 'titan.crypto'", function()
    eq(require "titan.crypto", crypto)
  end)

  it("sha256 and sha512 match FIPS 180 examples", function()
    eq(crypto.sha256("abc", "hex"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    eq(crypto.sha512("abc", "hex"), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      .. "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    eq(crypto.sha256("", "hex"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    eq(crypto.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "hex"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  end)

  it("returns raw bytes by default and hex/base64 on request", function()
    local raw = crypto.sha256("abc")
    eq(#raw, 32)
    eq(crypto.sha256("abc", "raw"), raw)
    eq(crypto.hex(raw), crypto.sha256("abc", "hex"))
    eq(crypto.base64_encode(raw), crypto.sha256("abc", "base64"))
    eq(crypto.sha256("abc", "base64"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
    eq(#crypto.sha512("abc"), 64)
  end)

  it("hmac_sha256 and hmac_sha512 match RFC 4231 case 2", function()
    local msg = "what do ya want for nothing?"
    eq(crypto.hmac_sha256("Jefe", msg, "hex"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    eq(crypto.hmac_sha512("Jefe", msg, "hex"), "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      .. "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
    eq(crypto.hmac_sha256("Jefe", msg, "base64"), "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=")
    eq(#crypto.hmac_sha512("Jefe", msg), 64)
  end)

  it("hmac handles binary keys with NUL bytes (RFC 4231 case 1 and 6)", function()
    eq(crypto.hmac_sha256(string.rep("\11", 20), "Hi There", "hex"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    eq(crypto.hmac_sha256(string.rep("\170", 131), "Test Using Larger Than Block-Size Key - Hash Key First", "hex"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    ok(crypto.hmac_sha256("a\0b", "m") ~= crypto.hmac_sha256("a", "m"), "the key is not cut at NUL")
  end)

  it("signs like Kraken: HMAC-SHA512(base64-decoded secret, path .. SHA256(nonce .. body))", function()
    local secret = crypto.base64_encode("kraken secret bytes")
    local sig = crypto.hmac_sha512(crypto.base64_decode(secret), "/0/private/Balance" .. crypto.sha256("1nonce=1"),
      "base64")
    eq(#sig, 88)
    eq(crypto.base64_decode(sig) ~= nil, true)
  end)

  it("base64 round-trips RFC 4648 section 10 vectors", function()
    local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=",
      foobar = "Zm9vYmFy" }
    for plain, enc in pairs(vectors) do
      eq(crypto.base64_encode(plain), enc, "encode " .. plain)
      eq(crypto.base64_decode(enc), plain, "decode " .. enc)
    end
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    local bytes = table.concat(all)
    eq(crypto.base64_decode(crypto.base64_encode(bytes)), bytes)
  end)

  it("base64_decode returns nil, err for invalid input", function()
    for _, bad in ipairs({ "Zg=", "Z", "Zm9v!g==", "Zm=v", "Z===", "====", "Zg==Zg==", "Zm9v\n", " Zm9v",
      "Zm9-", "Zm9_", "Zm9\0" }) do
      local err = fails("crypto.bad_base64", crypto.base64_decode(bad))
      eq(err.retryable, false)
    end
  end)

  it("hex encodes bytes in lower case", function()
    eq(crypto.hex("\0\1\127\128\255"), "00017f80ff")
    eq(crypto.hex(""), "")
  end)

  it("random_bytes gives n fresh bytes", function()
    eq(#crypto.random_bytes(16), 16)
    eq(crypto.random_bytes(0), "")
    ok(crypto.random_bytes(32) ~= crypto.random_bytes(32), "two draws differ")
    eq(#crypto.random_bytes(1048576), 1048576)
  end)

  it("raises on misuse with a clear message", function()
    raises(function() crypto.sha256() end, "bad argument #1")
    raises(function() crypto.sha256({}) end, "string expected, got table")
    raises(function() crypto.sha256("x", "HEX") end, "invalid option 'HEX'")
    raises(function() crypto.sha512("x", 1) end, "invalid option '1'")
    raises(function() crypto.hmac_sha256("key") end, "bad argument #2")
    raises(function() crypto.hmac_sha512(nil, "m") end, "bad argument #1")
    raises(function() crypto.hmac_sha256("k", "m", "b64") end, "invalid option 'b64'")
    raises(function() crypto.base64_encode() end, "bad argument #1")
    raises(function() crypto.base64_decode({}) end, "bad argument #1")
    raises(function() crypto.hex(nil) end, "bad argument #1")
    raises(function() crypto.random_bytes(-1) end, "must be between 0 and 1048576")
    raises(function() crypto.random_bytes(1048577) end, "must be between 0 and 1048576")
    raises(function() crypto.random_bytes(1.5) end, "number has no integer representation")
    raises(function() crypto.random_bytes("many") end, "bad argument #1")
  end)
end)

spec.finish("crypto_spec")
