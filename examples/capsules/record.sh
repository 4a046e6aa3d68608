#!/usr/bin/env bash
# Records the capsules of this folder: PAPER cycles of strategies/default.lua against the loopback
# fakes (tests/fakes/), the Kraken fake serving real BTC 15-minute bars from ../shared/data, the AI
# fakes answering as each capsule needs. See README.md here. Needs ../shared/data and python3.
# Usage: examples/capsules/record.sh [TITAN_BIN]      (default: ./titan-host of the repository)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$ROOT/titan-host}
DATA=$ROOT/../shared/data
OUT=$ROOT/examples/capsules
[ -f "$DATA/btcperp_15m_2022-01.csv" ] || { echo "record.sh: $DATA/btcperp_15m_2022-01.csv not found" >&2; exit 2; }
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# The Kraken fake's data: the 720 bars closing at END (2022-02-01T03:30Z) and the open one after it,
# as Kraken's OHLC rows (the CSV's volume is in USD: divided by the close for Kraken's base volume);
# a ticker at the last close (bid 0.5 under, ask 0.5 over); the recorded AssetPairs and Time.
END=2992
python3 - "$DATA" "$TMP/kraken" "$END" <<'PY'
import csv, json, os, shutil, sys
data, out, end = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out)
rows = list(csv.DictReader(open(os.path.join(data, "btcperp_15m_2022-01.csv"))))[end - 719:end + 2]
def d(x): return "%.1f" % float(x)
ohlc = [[int(r["timestamp"]), d(r["open"]), d(r["high"]), d(r["low"]), d(r["close"]),
         d((float(r["high"]) + float(r["low"]) + float(r["close"])) / 3),
         "%.8f" % (float(r["volume_usd"]) / float(r["close"])), 0] for r in rows]
json.dump({"error": [], "result": {"XBTUSDT": ohlc, "last": ohlc[-2][0]}}, open(os.path.join(out, "http_ohlc.json"), "w"))
ticker = json.load(open(os.path.join(data, "kraken", "http_ticker.json")))
entry = list(ticker["result"].values())[0]
close = float(rows[-2]["close"])
entry["c"][0], entry["b"][0], entry["a"][0] = "%.1f" % close, "%.1f" % (close - 0.5), "%.1f" % (close + 0.5)
json.dump(ticker, open(os.path.join(out, "http_ticker.json"), "w"))
for f in ("http_asset_pairs.json", "http_server_time.json"):
    shutil.copy(os.path.join(data, "kraken", f), out)
print(rows[-1]["timestamp"])
PY
OPEN_T=$(python3 -c 'import csv, sys; print(list(csv.DictReader(open(sys.argv[1])))[int(sys.argv[2]) + 1]["timestamp"])' "$DATA/btcperp_15m_2022-01.csv" "$END")

export OPENAI_API_KEY=example-openai-key GROQ_API_KEY=example-groq-key GEMINI_API_KEY=example-gemini-key
AI_PORT=$(free_port) K_PORT=$(free_port)
FAKE_OPENAI_KEY=$OPENAI_API_KEY FAKE_GROQ_KEY=$GROQ_API_KEY FAKE_GEMINI_KEY=$GEMINI_API_KEY \
  python3 "$ROOT/tests/fakes/ai_fake.py" "$AI_PORT" 2>"$TMP/ai.err" & PIDS+=($!)
python3 "$ROOT/tests/fakes/kraken_fake.py" --port "$K_PORT" --data "$TMP/kraken" 2>"$TMP/kraken.err" & PIDS+=($!)
wait_port "$AI_PORT" && wait_port "$K_PORT"
export KRAKEN_API_URL=http://127.0.0.1:$K_PORT SYSTEM_MODE=PAPER
export OPENAI_BASE_URL=http://127.0.0.1:$AI_PORT/v1 GROQ_BASE_URL=http://127.0.0.1:$AI_PORT/openai/v1
export GEMINI_BASE_URL=http://127.0.0.1:$AI_PORT/v1beta
unset SUPABASE_URL SUPABASE_KEY TITAN_HALT OPENAI_MODEL GROQ_MODEL GEMINI_MODEL TITAN_AI_DAILY_USD TITAN_CAPSULE_DAYS

ai() { python3 -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[2], sys.argv[1].encode(), {"Content-Type": "application/json"}), timeout=5)' "$1" "http://127.0.0.1:$AI_PORT/$2"; }
# record NAME AI_CONTROL: one cycle 30 s into the open bar, its capsule saved as NAME.json.gz
record() {
  ai '{}' _reset
  [ "$2" = '{}' ] || ai "$2" _control
  mkdir -p "$TMP/$1"
  (cd "$ROOT" && TITAN_FAKE_NOW_MS=$((OPEN_T * 1000 + 30000)) TITAN_DB=$TMP/$1/titan.db TITAN_BLACKBOX=$TMP/$1/blackbox.log \
     "$BIN" run strategies/default.lua)
  cp "$TMP/$1"/capsule-*.json.gz "$OUT/$1.json.gz"
}
record default-ai-buy '{}'
record default-ai-veto '{"provider":"groq","action":"sell"}'
ls -l "$OUT"/*.json.gz
