-- The whole-process benchmark's work for titan-host: fetch 720 closed 1-minute candles and
-- place one signed market AddOrder on the loopback fake (see bench_kraken.sh).
local kraken = titan.kraken
local candles, err = kraken.ohlc("XBTUSD", 1)
if not candles then error(err.message) end
if #candles ~= 720 then error("want 720 closed candles, got " .. #candles) end
local r
r, err = kraken.private("AddOrder", {pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.0001"})
if not r then error(err.message) end
if not r.txid then error("no txid") end
