#!/usr/bin/env bash
# Backtest speed (`make bench`): bars per second of examples/ema_cross.lua and strategies/default.lua
# over ../shared/data/XBTUSD_60.csv (70k hourly bars; a generated random walk of the same size
# when absent), and the same EMA cross as a plain Python event loop (tests/bench/backtest_ema.py,
# /usr/bin/python3, stdlib) over the same file. The strategies are 15-minute: the benchmark runs
# copies with `interval = 60` (nothing else changed) so they take the hourly file as is.
# Fails only when something breaks (a run fails, or titan and Python disagree on the trades);
# the targets are printed as met or missed.
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

# bench NAME FILE: best engine bars/s and best wall time (process start to exit) of $RUNS runs
bench() {
  local name=$1 file=$2 best_rate=0 best_wall=999999 i t0 t1 rate wall
  for i in $(seq "$RUNS"); do
    t0=$(now_ns)
    "$TITAN_BIN" backtest "$file" "$DATA" --json "$TMP/$name.json" >"$TMP/$name.out" 2>"$TMP/$name.err" || {
      echo "FAIL: $name did not run:"; cat "$TMP/$name.err"; exit 1; }
    t1=$(now_ns)
    rate=$(awk '/^engine time/ {print $5}' "$TMP/$name.out")
    wall=$(( (t1 - t0) / 1000 ))
    [ "$rate" -gt "$best_rate" ] && best_rate=$rate
    [ "$wall" -lt "$best_wall" ] && best_wall=$wall
  done
  eval "${name}_rate=$best_rate ${name}_wall=$best_wall"
}
bench ema "$TMP/ema_cross.lua"
bench default "$TMP/default.lua"
bench floor_empty "$TMP/floor_empty.lua"
bench floor_ohlc "$TMP/floor_ohlc.lua"

py_wall=999999
for i in $(seq "$RUNS"); do
  t0=$(now_ns)
  /usr/bin/python3 "$ROOT/tests/bench/backtest_ema.py" "$DATA" >"$TMP/py.out" || { echo "FAIL: python loop"; exit 1; }
  t1=$(now_ns)
  w=$(( (t1 - t0) / 1000 ))
  [ "$w" -lt "$py_wall" ] && py_wall=$w
done

bars=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["period"]["bars"])' "$TMP/ema.json")
read -r titan_fills titan_equity < <(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["metrics"]; print(m["fills"], "%.6f" % m["final_equity"])' "$TMP/ema.json")
py_fills=$(sed -E 's/.*fills=([0-9]+).*/\1/' "$TMP/py.out")
py_equity=$(sed -E 's/.*final_equity=([0-9.]+).*/\1/' "$TMP/py.out")

status=0
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
ratio=$(awk -v p="$py_wall" -v t="$ema_wall" 'BEGIN {printf "%.1f", p / t}')
echo "bars: $bars, best of $RUNS runs"
printf '%-34s %12s %14s   %s\n' "" "bars/s" "wall (ms)" "target"
printf '%-34s %12s %14.1f   >= 1,000,000 bars/s: %s\n' "ema_cross.lua (engine)" "$ema_rate" "$(awk -v w="$ema_wall" 'BEGIN{print w/1000}')" \
  "$(verdict "$([ "$ema_rate" -ge 1000000 ] && echo 1)")"
printf '%-34s %12s %14.1f   >= 200,000 bars/s: %s\n' "default.lua (engine)" "$default_rate" "$(awk -v w="$default_wall" 'BEGIN{print w/1000}')" \
  "$(verdict "$([ "$default_rate" -ge 200000 ] && echo 1)")"
us_per_bar() { awk -v r="$1" 'BEGIN {printf "%.2f", 1e6 / r}'; }
printf '%-34s %12s %14s   %s us/bar: calling on_cycle, reading {}, updating ctx\n' "  floor: empty on_cycle" \
  "$floor_empty_rate" "" "$(us_per_bar "$floor_empty_rate")"
printf '%-34s %12s %14s   %s us/bar: + ohlc(pair, interval, 3), one new candle per bar\n' "  floor: one ohlc(3) per bar" \
  "$floor_ohlc_rate" "" "$(us_per_bar "$floor_ohlc_rate")"
printf '%-34s %12s %14s   %s us/bar in all\n' "  ema_cross per bar" "" "" "$(us_per_bar "$ema_rate")"
printf '%-34s %12s %14.1f\n' "python3 event loop (same EMA cross)" "$(awk -v b="$bars" -v w="$py_wall" 'BEGIN{printf "%d", b/(w/1e6)}')" \
  "$(awk -v w="$py_wall" 'BEGIN{print w/1000}')"
echo "ratio python wall / titan wall (ema_cross, whole process incl. reading the CSV): ${ratio}x   (target >= 10x: $(verdict "$(awk -v r="$ratio" 'BEGIN{print (r >= 10) ? 1 : 0}')"))"
if [ "$titan_fills" = "$py_fills" ] && awk -v a="$titan_equity" -v b="$py_equity" 'BEGIN{exit !((a-b)^2 < 1e-8)}'; then
  echo "python and titan agree: $titan_fills fills, final equity $titan_equity"
else
  echo "FAIL: python ($py_fills fills, $py_equity) and titan ($titan_fills fills, $titan_equity) disagree"
  status=1
fi
exit $status
