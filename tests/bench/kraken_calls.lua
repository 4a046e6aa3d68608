-- Private calls per second through titan.kraken (signed Balance round trips to the loopback
-- fake). Usage: titan-host script kraken_calls.lua [N]
local n = tonumber(arg[1]) or 300
local kraken = titan.kraken
assert(kraken.balance(), "warm-up call failed")
local t0 = titan.time.now_ms()
for _ = 1, n do
  local b, err = kraken.balance()
  if not b then error("Balance failed: " .. err.code .. " " .. err.message) end
end
local ms = titan.time.now_ms() - t0
print(string.format("kraken_calls: %d signed private calls in %d ms = %.0f calls/s (%.2f ms each; the Python fake dominates)",
  n, ms, n * 1000 / math.max(ms, 1), ms / n))
