#!/usr/bin/env bash
# Optimizer speed (`make bench`), on the bundled year of hourly XBTUSD (examples/data, 8,760 bars):
#  - trials per second of strategies/default.lua at --interval 60 with --jobs 1 and --jobs 2, and their
#    ratio (target >= 1.8x on 2 cores: the workers share nothing but the data);
#  - 1,000 random trials of default.lua over the year (target: under 20 s on a 2-core machine).
# Both runs must give the same JSON for the same seed (checked). Targets are printed as met or missed;
# the script fails only when something breaks. The load average and the cores each run actually got (its
# CPU time over its wall time) are printed: other work on the machine shows directly in the ratio.
. "$(dirname "$0")/engine_lib.sh"
DATA=$ROOT/examples/data/XBTUSD_60_2022.csv
PARAMS=(--param fast=8:30 --param slow=30:120 --param rsi_overbought=60:85 --param stop_atr=1:4:0.25)
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "MISSED"; fi; }

# run NAME TRIALS JOBS: wall seconds into NAME_s, CPU seconds of the process and its workers into NAME_cpu
run() {
  local name=$1 trials=$2 jobs=$3 wall cpu
  /usr/bin/time -f "%e %U %S" -o "$TMP/$name.time" "$TITAN_BIN" optimize "$ROOT/strategies/default.lua" "$DATA" \
    --interval 60 "${PARAMS[@]}" --trials "$trials" --seed 1 --jobs "$jobs" --json "$TMP/$name.json" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" || { echo "FAIL: optimize ($name) did not run:"; cat "$TMP/$name.err"; exit 1; }
  read -r wall cpu < <(awk '{printf "%.3f %.3f", $1, $2 + $3}' "$TMP/$name.time")
  eval "${name}_s=$wall ${name}_cpu=$cpu"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
TRIALS=${BENCH_TRIALS:-60}
best1=999999 best2=999999 cpu2=0
for i in 1 2 3; do
  run one "$TRIALS" 1
  run two "$TRIALS" 2
  best1=$(awk -v a="$best1" -v b="$one_s" 'BEGIN {print (b < a) ? b : a}')
  if awk -v a="$best2" -v b="$two_s" 'BEGIN {exit !(b < a)}'; then best2=$two_s cpu2=$two_cpu; fi
done
cmp -s "$TMP/one.json" "$TMP/two.json" || { echo "FAIL: --jobs 1 and --jobs 2 gave different JSON"; exit 1; }
rate1=$(awk -v n="$TRIALS" -v s="$best1" 'BEGIN {printf "%.1f", n / s}')
rate2=$(awk -v n="$TRIALS" -v s="$best2" 'BEGIN {printf "%.1f", n / s}')
ratio=$(awk -v a="$rate1" -v b="$rate2" 'BEGIN {printf "%.2f", b / a}')
printf '%-52s %10s trials/s (%s trials in %s s, best of 3)\n' "optimize default.lua, interval 60, --jobs 1" "$rate1" "$TRIALS" "$best1"
printf '%-52s %10s trials/s (%s s)\n' "optimize default.lua, interval 60, --jobs 2" "$rate2" "$best2"
echo "ratio jobs 2 / jobs 1: ${ratio}x   (target >= 1.8x on $(nproc) cores: $(verdict "$(awk -v r="$ratio" 'BEGIN {print (r >= 1.8) ? 1 : 0}')"); identical JSON"
# what the machine gave: CPU seconds over wall seconds of the --jobs 2 run (2.0 = both cores ours)
echo "  cores the --jobs 2 run got: $(awk -v c="$cpu2" -v w="$best2" 'BEGIN {printf "%.2f", c / w}') of $(nproc) (CPU $cpu2 s over $best2 s of wall time); CPU per trial: $(awk -v c="$one_cpu" -v n="$TRIALS" 'BEGIN {printf "%.1f", c / n * 1000}') ms with --jobs 1, $(awk -v c="$cpu2" -v n="$TRIALS" 'BEGIN {printf "%.1f", c / n * 1000}') ms with --jobs 2"

run thousand 1000 2
printf '%-52s %10s s      (target < 20 s: %s; %.2fx of the budget; CPU %s s, %.2f cores)\n' \
  "1,000 random trials of default.lua over the year" "$thousand_s" \
  "$(verdict "$(awk -v s="$thousand_s" 'BEGIN {print (s < 20) ? 1 : 0}')")" \
  "$(awk -v s="$thousand_s" 'BEGIN {print s / 20}')" "$thousand_cpu" "$(awk -v c="$thousand_cpu" -v s="$thousand_s" 'BEGIN {print c / s}')"
python3 - "$TMP/thousand.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bars = d["data"]["bars"]
print("  %d trials x %d bars; %d ranked; best %s: sharpe %.3f" % (len(d["trials"]), bars, d["ranked"],
      d["best"]["params"] if d["best"] else None, d["best"]["score"] if d["best"] else float("nan")))
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
