#!/usr/bin/env bash
# Backtest speed and memory (`make bench`): bars per second of examples/ema_cross.lua and
# strategies/default.lua over ../shared/data/XBTUSD_60.csv (70k hourly bars; a generated random walk
# of the same size when absent), whole process (start to exit) and engine alone, beside the same EMA
# cross as a plain Python event loop (tests/bench/backtest_ema.py, /usr/bin/python3, stdlib); then the
# peak RSS of ema_cross over the file repeated 16 times (1.1 M bars) and the bytes it takes per bar.
# The strategies are 15-minute: the benchmark runs copies with `interval = 60` (nothing else
# changed) so they take the hourly file as is. Fails only when something breaks (a run fails, or
# titan and Python disagree on the trades); the targets are printed as met or missed.
. "$(dirname "$0")/engine_lib.sh"
RUNS=${BENCH_RUNS:-5}

DATA=$ROOT/../shared/data/XBTUSD_60.csv
if [ -f "$DATA" ]; then
  echo "data: $DATA (real Kraken XBTUSD 1h)"
else
  DATA=$TMP/generated_60.csv
  /usr/bin/python3 - "$DATA" <<'PY'
import random, sys
random.seed(7)
t, p = 1381093200, 120.0
with open(sys.argv[1], "w") as f:
    for i in range(70253):
        o = p
        c = max(1.0, o * (1 + random.gauss(0, 0.008)))
        h, l = max(o, c) * (1 + abs(random.gauss(0, 0.002))), min(o, c) * (1 - abs(random.gauss(0, 0.002)))
        f.write("%d,%.2f,%.2f,%.2f,%.2f,%.4f,%d\n" % (t, o, h, l, c, random.random() * 10, random.randint(1, 50)))
        t, p = t + 3600, c
PY
  echo "data: generated random walk, 70253 hourly bars (../shared/data/XBTUSD_60.csv not present)"
fi
for s in examples/ema_cross.lua strategies/default.lua; do
  sed 's/interval = 15,/interval = 60,/' "$ROOT/$s" >"$TMP/$(basename "$s")"
done
# Where ema_cross's time per bar goes: the same engine with an empty on_cycle, then with only
# the one market.ohlc(pair, interval, 3) call ema_cross makes per bar (a new list and one new
# candle table per bar).
cat >"$TMP/floor_empty.lua" <<'EOF'
return { name = "floor_empty", pair = "XBTUSD", interval = 60, on_cycle = function(ctx) return {} end }
EOF
cat >"$TMP/floor_ohlc.lua" <<'EOF'
return { name = "floor_ohlc", pair = "XBTUSD", interval = 60,
         on_cycle = function(ctx) local recent = ctx.market.ohlc(ctx.pair, ctx.interval, 3) return {} end }
EOF

# bench NAME FILE [DATA]: median whole-process wall time (us) and best engine bars/s of $RUNS runs
bench() {
  local name=$1 file=$2 data=${3:-$DATA} best_rate=0 i t0 t1 rate walls=()
  for i in $(seq "$RUNS"); do
    t0=$(now_ns)
    "$TITAN_BIN" backtest "$file" "$data" --json "$TMP/$name.json" >"$TMP/$name.out" 2>"$TMP/$name.err" || {
      echo "FAIL: $name did not run:"; cat "$TMP/$name.err"; exit 1; }
    t1=$(now_ns)
    rate=$(awk '/^engine time/ {print $5}' "$TMP/$name.out")
    walls+=($(( (t1 - t0) / 1000 )))
    [ "$rate" -gt "$best_rate" ] && best_rate=$rate
  done
  eval "${name}_rate=$best_rate ${name}_wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")"
}
bench ema "$TMP/ema_cross.lua"
bench default "$TMP/default.lua"
bench floor_empty "$TMP/floor_empty.lua"
bench floor_ohlc "$TMP/floor_ohlc.lua"

py_walls=()
for i in $(seq "$RUNS"); do
  t0=$(now_ns)
  /usr/bin/python3 "$ROOT/tests/bench/backtest_ema.py" "$DATA" >"$TMP/py.out" || { echo "FAIL: python loop"; exit 1; }
  t1=$(now_ns)
  py_walls+=($(( (t1 - t0) / 1000 )))
done
py_wall=$(printf '%s\n' "${py_walls[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")

bars=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["period"]["bars"])' "$TMP/ema.json")
read -r titan_fills titan_equity < <(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["metrics"]; print(m["fills"], "%.6f" % m["final_equity"])' "$TMP/ema.json")
py_fills=$(sed -E 's/.*fills=([0-9]+).*/\1/' "$TMP/py.out")
py_equity=$(sed -E 's/.*final_equity=([0-9.]+).*/\1/' "$TMP/py.out")

status=0
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
whole() { awk -v b="$bars" -v w="$1" 'BEGIN {printf "%d", b / (w / 1e6)}'; }
ms() { awk -v w="$1" 'BEGIN {printf "%.1f", w / 1000}'; }
ema_whole=$(whole "$ema_wall"); default_whole=$(whole "$default_wall")
echo "bars: $bars; whole process = start to exit (median of $RUNS runs), engine = the bar loop alone (best)"
printf '%-30s %14s %10s %14s   %s\n' "" "whole bars/s" "wall ms" "engine bars/s" "target (whole process)"
printf '%-30s %14s %10s %14s   >= 1,150,000 bars/s: %s\n' "ema_cross.lua" "$ema_whole" "$(ms "$ema_wall")" "$ema_rate" \
  "$(verdict "$([ "$ema_whole" -ge 1150000 ] && echo 1)")"
printf '%-30s %14s %10s %14s   >= 450,000 bars/s: %s\n' "default.lua" "$default_whole" "$(ms "$default_wall")" "$default_rate" \
  "$(verdict "$([ "$default_whole" -ge 450000 ] && echo 1)")"
printf '%-30s %14s %10s %14s   (start-up, CSV, ctx, JSON: the floor of a whole run)\n' "  floor: empty on_cycle" \
  "$(whole "$floor_empty_wall")" "$(ms "$floor_empty_wall")" "$floor_empty_rate"
printf '%-30s %14s %10s %14s   (+ one ohlc(pair, interval, 3) per bar)\n' "  floor: one ohlc(3) per bar" \
  "$(whole "$floor_ohlc_wall")" "$(ms "$floor_ohlc_wall")" "$floor_ohlc_rate"
printf '%-30s %14s %10s\n' "python3 event loop (EMA cross)" "$(whole "$py_wall")" "$(ms "$py_wall")"
echo "peer: titan-host's ema_cross is $(awk -v p="$py_wall" -v t="$ema_wall" 'BEGIN{printf "%.1f", p / t}')x faster than the Python loop, whole process"
if [ "$titan_fills" = "$py_fills" ] && awk -v a="$titan_equity" -v b="$py_equity" 'BEGIN{exit !((a-b)^2 < 1e-8)}'; then
  echo "python and titan agree: $titan_fills fills, final equity $titan_equity"
else
  echo "FAIL: python ($py_fills fills, $py_equity) and titan ($titan_fills fills, $titan_equity) disagree"
  status=1
fi

# Memory: the same file 16 times over (each copy after the last in time), ema_cross, peak RSS.
if [ -x /usr/bin/time ]; then
  /usr/bin/python3 - "$DATA" "$TMP/x16.csv" <<'PY'
import sys
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[1]) if l.strip()]
span = int(rows[-1][0]) - int(rows[0][0]) + 3600
with open(sys.argv[2], "w") as f:
    for k in range(16):
        for r in rows:
            f.write(",".join([str(int(r[0]) + k * span)] + r[1:]) + "\n")
PY
  # rss STRATEGY DATA: peak RSS (KiB) of one backtest
  rss() { /usr/bin/time -f '%M' -o "$TMP/rss" "$TITAN_BIN" backtest "$1" "$2" >/dev/null 2>&1 || echo 0 >"$TMP/rss"; tail -n 1 "$TMP/rss"; }
  # per_bar KIB-1X KIB-16X: bytes the 15 extra copies cost per bar
  per_bar() { awk -v a="$1" -v b="$2" -v n="$bars" 'BEGIN {printf "%.0f", (b - a) * 1024 / (15 * n)}'; }
  rss1=$(rss "$TMP/ema_cross.lua" "$DATA"); rss16=$(rss "$TMP/ema_cross.lua" "$TMP/x16.csv")
  empty1=$(rss "$TMP/floor_empty.lua" "$DATA"); empty16=$(rss "$TMP/floor_empty.lua" "$TMP/x16.csv")
  printf 'peak RSS, ema_cross: %.1f MiB over %d bars, %.1f MiB over %d bars (16x)   target <= 80 MiB at 16x: %s\n' \
    "$(awk -v k="$rss1" 'BEGIN{print k/1024}')" "$bars" "$(awk -v k="$rss16" 'BEGIN{print k/1024}')" $((bars * 16)) \
    "$(verdict "$([ "$rss16" -gt 0 ] && [ "$rss16" -le $((80 * 1024)) ] && echo 1)")"
  echo "memory per bar, no trades (empty on_cycle): $(per_bar "$empty1" "$empty16") bytes   target <= 64 bytes + a constant: $(verdict "$([ "$(per_bar "$empty1" "$empty16")" -le 64 ] && echo 1)")"
  echo "memory per bar, ema_cross: $(per_bar "$rss1" "$rss16") bytes (its fills too: $titan_fills per $bars bars, ~90 bytes each)   target <= 64 bytes + a constant: $(verdict "$([ "$(per_bar "$rss1" "$rss16")" -le 64 ] && echo 1)")"
else
  echo "peak RSS: /usr/bin/time missing (apt-get install time)"
fi
exit $status
