# Shared by the benchmarks that talk to the loopback fake Kraken (sourced): ROOT, TITAN_BIN, RUNS,
# a temporary folder TMP removed at exit with the fake, and bench_start_kraken, which starts
# tests/fakes/kraken_fake.py on a free port and exports KRAKEN_API_URL.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TITAN_BIN=${TITAN_BIN:-$ROOT/titan-host}
RUNS=${BENCH_RUNS:-20}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/titan-bench.XXXXXX")
FAKE_PID=
bench_cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap bench_cleanup EXIT

bench_start_kraken() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  python3 "$ROOT/tests/fakes/kraken_fake.py" --port "$port" 2>"$TMP/fake.err" &
  FAKE_PID=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
  export KRAKEN_API_URL=http://127.0.0.1:$port
}
