#!/usr/bin/env bash
# One whole PAPER cycle against the loopback fake Kraken (tests/fakes/kraken_fake.py): titan-host
# beside the plain-Python and ccxt peers, and titan-host's start-up (bench_cycle.py does the runs).
# Targets: >= 5x the Python peer, >= 50x ccxt, peak RSS <= 8.5 MiB, `version` <= 2.5 ms.
. "$(dirname "$0")/fake_lib.sh"
bench_start_kraken
echo "binary: $TITAN_BIN ($(ldd "$TITAN_BIN" 2>/dev/null | grep -c '=>') shared libraries)"
/usr/bin/python3 "$ROOT/tests/bench/bench_cycle.py" "$RUNS" "$TITAN_BIN" "$ROOT" "$TMP"
