#!/usr/bin/env bash
# Kraken benchmarks against the loopback fake (tests/fakes/kraken_fake.py):
#  1. private calls per second through titan.kraken from Lua (signed Balance calls, full round
#     trips: the Python fake, not the signer, is the bottleneck here);
#  2. the whole process: `titan-host script kraken_cycle.lua` (fetch 720 closed 1-minute OHLC
#     candles + place one signed market AddOrder) beside the same work by a plain
#     /usr/bin/python3 stdlib script, interleaved, median of 20 runs each, and peak RSS of one
#     run of each under /usr/bin/time -v.
# Targets: titan-host >= 3x faster than the Python script and under 10 ms; RSS < 8 MiB.
. "$(dirname "$0")/fake_lib.sh"

export KRAKEN_API_KEY=bench-key-$$
export KRAKEN_SECRET=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(64)).decode())')
export TITAN_BLACKBOX=$TMP/blackbox.log TITAN_LOG_LEVEL=warn TITAN_KRAKEN_LUA_WRITES=1
unset TITAN_FAKE_NOW_MS
bench_start_kraken
python3 -c 'import json, sys, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1] + "/__info"))["data"]["http_ohlc.json"]
print("data: " + d)' "$KRAKEN_API_URL"
# plenty of quote currency for every run's market buy
python3 -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/__control", data=b"{\"balances\": {\"ZUSD\": \"100000000\", \"XXBT\": \"0\"}}"))' "$KRAKEN_API_URL"

echo "-- titan.kraken private calls from Lua (loopback fake, full round trips)"
"$TITAN_BIN" script "$ROOT/tests/bench/kraken_calls.lua" 300 || exit 1
# Faster than one call per ms, the nonces ran ahead of the clock (last + 1): let it catch up
# before other processes use the same key.
sleep 1

echo "-- whole process: 720 OHLC candles + one signed AddOrder, median of $RUNS runs each"
/usr/bin/python3 "$ROOT/tests/bench/compare.py" "$RUNS" \
  "titan-host" "$TITAN_BIN script $ROOT/tests/bench/kraken_cycle.lua" \
  "python3" "/usr/bin/python3 $ROOT/tests/bench/kraken_cycle.py"
echo "-- for scale: process start alone (an empty Lua script / python3 -c pass), median of $RUNS runs each"
echo 'local _ = 0' >"$TMP/empty.lua"
/usr/bin/python3 "$ROOT/tests/bench/compare.py" --plain "$RUNS" \
  "titan-host" "$TITAN_BIN script $TMP/empty.lua" "python3" "/usr/bin/python3 -c pass"
