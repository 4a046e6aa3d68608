#!/usr/bin/env bash
# One whole PAPER cycle against the loopback fake Kraken (tests/fakes/kraken_fake.py): titan-host
# beside the plain-Python and ccxt peers, and titan-host's start-up (bench_cycle.py does the runs).
# Targets: >= 5x the Python peer, >= 50x ccxt, peak RSS <= 8.5 MiB, `version` <= 2.5 ms.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TITAN_BIN=${TITAN_BIN:-$ROOT/titan-host}
RUNS=${BENCH_RUNS:-20}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/titan-bench.XXXXXX")
FAKE_PID=
cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
python3 "$ROOT/tests/fakes/kraken_fake.py" --port "$PORT" 2>"$TMP/fake.err" &
FAKE_PID=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
export KRAKEN_API_URL=http://127.0.0.1:$PORT
echo "binary: $TITAN_BIN ($(ldd "$TITAN_BIN" 2>/dev/null | grep -c '=>') shared libraries)"
/usr/bin/python3 "$ROOT/tests/bench/bench_cycle.py" "$RUNS" "$TITAN_BIN" "$ROOT" "$TMP"
