-- titan.log: misuse raises before anything is written. Writing events needs a blackbox file:
-- only when TITAN_BLACKBOX is set (tests/e2e/test_foundation.sh sets it and checks the file)
-- does this spec log the events that test expects.
local spec = require "spec"
local log = titan.log
local it, eq, raises = spec.it, spec.eq, spec.raises

spec.describe("log", function()
  it("is the same table as require 'titan.log' and has the four levels", function()
    eq(require "titan.log", log)
    for _, level in ipairs({ "debug", "info", "warn", "error" }) do eq(type(log[level]), "function") end
  end)

  it("raises on misuse", function()
    raises(function() log.info() end, "bad argument #1")
    raises(function() log.info({}) end, "string expected, got table")
    raises(function() log.warn("ev", "text") end, "table expected, got string")
    raises(function() log.error("ev", 42) end, "table expected, got number")
    raises(function() log.info("ev", { 1, 2, 3 }) end, "fields must be a table with string keys")
    raises(function() log.debug("ev", { f = print }) end, "Cannot serialise function")
    raises(function() log.info("ev", { n = 0 / 0 }) end, "Cannot serialise")
  end)

  local path = os.getenv("TITAN_BLACKBOX")
  if path and path ~= "" then
    it("writes events (checked by test_foundation.sh)", function()
      log.debug("spec.debug", { n = 1 })
      log.info("spec.info", { s = "a/b \"quoted\"", list = { 1, 2 }, nested = { k = "v" } })
      log.warn("spec.warn")
      log.error("spec.error", {})
      log.info("spec.newline", { text = "line1\nline2" })
      log.info("spec.unicode", { text = "\195\169" })
      -- the script's JSON settings do not reach the blackbox
      titan.json.encode_number_precision(2)
      log.info("spec.precision", { ms = 1795754700123, price = 0.000123456789 })
      titan.json.encode_number_precision(14)
    end)
  end
end)

spec.finish("log_spec")
