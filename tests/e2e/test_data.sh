#!/usr/bin/env bash
# `titan-host data fetch` and `data check` against the loopback fake Kraken serving paged Trades
# (the recorded real trades, shifted into a longer series with a hole) and rate limits: candles
# equal to an independent aggregation of the same trades (Python, exact decimals) at 60, 15 and 7
# minutes; the OHLC window; incremental runs that append only what is new, byte for byte what one
# run gives; a file that does not continue Kraken's history refused; killed at random points and
# resumed, never a duplicate or a broken row; EAPI/429/"Too many requests" limits honoured.
. "$(dirname "$0")/lib.sh"
FAKE=$ROOT/tests/fakes/kraken_fake.py
unset TITAN_FAKE_NOW_MS TITAN_LOG_LEVEL
export TITAN_BLACKBOX=$T_TMP/blackbox.log

PORT=$(t_free_port)
DATA_ARGS=()
[ -d "$ROOT/../shared/data/kraken" ] || DATA_ARGS=(--data "$ROOT/tests/fixtures/kraken")
python3 "$FAKE" --port "$PORT" "${DATA_ARGS[@]}" 2>"$T_TMP/fake.err" & T_PIDS+=($!)
t_check "fake kraken up" t_wait_port "$PORT"
URL=http://127.0.0.1:$PORT
export KRAKEN_API_URL=$URL
control() { curl -s -X POST "$URL/__control" --data-binary "$1" >/dev/null; }
# serve the test series again after a reset
series() { control '{"reset": true}'; control "@$T_TMP/series_control.json"; }
calls() { curl -s "$URL/__calls"; }

# ---- usage ----------------------------------------------------------------------------------
t_run help data
t_rc "help data" 0
t_grep "help names the exit codes" "exit codes: 0 done" "$T_OUT"
t_grep "help says how it resumes" "run the same command again to resume" "$T_OUT"
t_run help
t_grep "help lists data" "data fetch PAIR --interval MIN | check FILE" "$T_OUT"
for bad in "data" "data fetch" "data fetch XBTUSD" "data fetch XBTUSD --interval 0" "data fetch XBTUSD --interval x" \
           "data fetch XBTUSD --interval 60 --since yesterday" "data fetch XBTUSD --interval 60 --bogus 1" \
           "data fetch XBT\$USD --interval 60" "data fetch XBTUSD --interval 60 --since 2024-02-01 --until 2024-01-01" \
           "data fetch XBTUSD --interval 60 --pace-ms -1" "data check" "data frob"; do
  # shellcheck disable=SC2086
  t_run $bad
  t_rc "usage: $bad" 2
done
t_run data fetch XBTUSD --interval 7 --out "$T_TMP/none.csv"
t_rc "no --since for a trades-only interval" 2
t_grep "says why" "needs --since" "$T_ERR"
t_check "no file written" test ! -e "$T_TMP/none.csv"

# ---- the series: the recorded trades, five times, 8 hours apart, a 3-hour hole before the 4th --
python3 - "$URL" "$T_TMP/series.json" <<'PY'
import json, sys, urllib.request
calls = json.load(urllib.request.urlopen(sys.argv[1] + "/0/public/Trades?pair=XBTUSDT&since=0"))
base = [r for k, v in calls["result"].items() if k != "last" for r in v]
assert len(base) == 1000, len(base)
rows = []
for k in range(5):
    shift = k * 8 * 3600 + (3 * 3600 if k >= 3 else 0)
    for r in base:
        t = json.loads(json.dumps(r[2] + shift))
        rows.append([r[0], r[1], t, r[3], r[4], r[5], r[6] + k * 1000])
json.dump(rows, open(sys.argv[2], "w"))
json.dump({"trades": rows}, open(sys.argv[2].replace("series.json", "series_control.json"), "w"))
PY
series
read -r FIRST LAST < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(int(r[0][2]), int(r[-1][2]))' "$T_TMP/series.json")

# expected STEP_MIN OUT: candles of the series by Decimal arithmetic, buckets floor(t/step)*step,
# from the first whole bucket at or after FIRST (the fetch's --since) to the last bucket
expected() {
  python3 - "$T_TMP/series.json" "$1" "$FIRST" >"$2" <<'PY'
import json, sys
from decimal import Decimal
rows = json.load(open(sys.argv[1]))
step = int(sys.argv[2]) * 60
since = -(-int(sys.argv[3]) // step) * step
out = {}
for price, volume, t, *_ in rows:
    start = int(Decimal(repr(t))) // step * step
    if start < since:
        continue
    p, v = Decimal(price), Decimal(volume)
    c = out.setdefault(start, [p, p, p, p, Decimal(0), 0])
    c[1], c[2], c[3] = max(c[1], p), min(c[2], p), p
    c[4] += v
    c[5] += 1
for start in sorted(out):
    o, h, l, c, v, n = out[start]
    print(start, *(format(x.normalize(), "f") for x in (o, h, l, c, v)), n)
PY
}
# same_candles FILE EXPECTED: every row equal as exact decimals, in order, nothing more or less
same_candles() {
  python3 - "$1" "$2" <<'PY'
import sys
from decimal import Decimal
got = [l.split(",") for l in open(sys.argv[1]).read().splitlines()]
want = [l.split() for l in open(sys.argv[2]).read().splitlines()]
ok = len(got) == len(want) and all(
    int(g[0]) == int(w[0]) and all(Decimal(a) == Decimal(b) for a, b in zip(g[1:6], w[1:6])) and int(g[6]) == int(w[6])
    for g, w in zip(got, want))
if not ok:
    print("rows:", len(got), "want", len(want), file=sys.stderr)
    for g, w in zip(got, want):
        if [int(g[0])] + [Decimal(x) for x in g[1:6]] + [int(g[6])] != [int(w[0])] + [Decimal(x) for x in w[1:6]] + [int(w[6])]:
            print("first difference:", g, w, file=sys.stderr); break
sys.exit(0 if ok else 1)
PY
}

# ---- candles from trades equal an independent aggregation ----------------------------------
for step in 60 15 7; do
  expected "$step" "$T_TMP/want_$step.txt"
  t_run data fetch XBTUSDT --interval "$step" --since "$FIRST" --from-trades --pace-ms 0 --out "$T_TMP/t_$step.csv"
  t_rc "fetch $step-minute candles from trades" 0
  t_check "$step-minute candles equal the independent aggregation" same_candles "$T_TMP/t_$step.csv" "$T_TMP/want_$step.txt"
done
t_grep "summary names the source and the gaps" "from Kraken Trades (" "$T_OUT"
t_check "hours without trades are gaps (no rows)" python3 -c '
import sys
t = [int(l.split(",")[0]) for l in open(sys.argv[1])]
assert any(b - a > 3600 for a, b in zip(t, t[1:])) and all(b > a for a, b in zip(t, t[1:]))' "$T_TMP/t_60.csv"
t_check "paged: 5000 trades took 6 pages (the last one empty)" python3 -c '
import json, sys, urllib.request
calls = json.load(urllib.request.urlopen(sys.argv[1] + "/__calls"))["calls"]
trades = [c for c in calls if c["method"] == "Trades"][-6:]
assert len(trades) == 6, trades
# each page asks from the cursor the previous one returned: strictly increasing
since = [int(c["params"]["since"]) for c in trades]
assert since == sorted(set(since)), since' "$URL"
t_run data check "$T_TMP/t_60.csv"
t_rc "data check reads the fetched file" 0
t_grep "data check: rows" "60-minute bars" "$T_OUT"
t_grep "data check: gaps listed" "bars missing" "$T_OUT"
printf 'return { name = "idle", pair = "XBTUSDT", interval = 15, on_cycle = function() return {} end }\n' >"$T_TMP/idle.lua"
t_run backtest "$T_TMP/idle.lua" "$T_TMP/t_15.csv"
t_rc "the backtest loads the fetched file" 0

# ---- incremental: two runs give the bytes of one, and re-runs add nothing ---------------------
MID=$(( (FIRST + LAST) / 2 ))
rm -f "$T_TMP/inc.csv"
t_run data fetch XBTUSDT --interval 60 --since "$FIRST" --until "$MID" --from-trades --pace-ms 0 --out "$T_TMP/inc.csv"
t_rc "first half" 0
t_check "nothing after --until" python3 -c 'import sys; assert all(int(l.split(",")[0]) + 3600 <= int(sys.argv[2]) for l in open(sys.argv[1]))' "$T_TMP/inc.csv" "$MID"
t_run data fetch XBTUSDT --interval 60 --from-trades --pace-ms 0 --out "$T_TMP/inc.csv"
t_rc "the rest" 0
t_grep "the overlap was checked" "matched Kraken's" "$T_OUT"
t_check "two runs = one run, byte for byte" cmp -s "$T_TMP/inc.csv" "$T_TMP/t_60.csv"
t_run data fetch XBTUSDT --interval 60 --pace-ms 0 --out "$T_TMP/inc.csv"
t_rc "a third run" 0
t_grep "nothing new" "nothing new" "$T_OUT"
t_check "the file is unchanged" cmp -s "$T_TMP/inc.csv" "$T_TMP/t_60.csv"

# ---- a file that does not continue Kraken's history, or is not ours -------------------------
sed '$ s/,[0-9]*$/,1/' "$T_TMP/t_60.csv" >"$T_TMP/wrong.csv"
cp "$T_TMP/wrong.csv" "$T_TMP/wrong.before"
t_run data fetch XBTUSDT --interval 60 --pace-ms 0 --out "$T_TMP/wrong.csv"
t_rc "a last row Kraken does not have: refused" 2
t_grep "says the row differs" "is not what Kraken has for that time" "$T_ERR"
t_check "nothing appended" cmp -s "$T_TMP/wrong.csv" "$T_TMP/wrong.before"
t_run data fetch XBTUSDT --interval 15 --pace-ms 0 --out "$T_TMP/t_60.csv"
t_rc "another interval's file: refused" 2
t_grep "names the file's interval" "has 60-minute bars, not 15" "$T_ERR"
printf 'timestamp,open,high,low,close,volume\n2024-01-01T00:00Z,1,1,1,1,1\n2024-01-01T01:00Z,1,1,1,1,1\n' >"$T_TMP/headered.csv"
t_run data fetch XBTUSDT --interval 60 --pace-ms 0 --out "$T_TMP/headered.csv"
t_rc "a headered file: refused" 2
printf '1700000000,1,1,1,1,1,1\n1700003600,1,1,1,1,1' >"$T_TMP/cut.csv"
t_run data fetch XBTUSDT --interval 60 --pace-ms 0 --out "$T_TMP/cut.csv"
t_rc "a cut last line: refused" 2
t_run data check "$T_TMP/cut.csv"
t_rc "data check: a cut last line" 2
t_grep "data check names the line" "cut.csv:2: truncated last line" "$T_ERR"

# ---- killed at random points, resumed: never a broken row, never a duplicate -----------------
rm -f "$T_TMP/kill.csv"
kills=0
for round in $(seq 40); do
  "$TITAN_BIN" data fetch XBTUSDT --interval 15 --since "$FIRST" --from-trades --pace-ms 250 --out "$T_TMP/kill.csv" \
    >"$T_TMP/kill.out" 2>"$T_TMP/kill.err" &
  pid=$!
  sleep "0.$((RANDOM % 5 + 1))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  if [ -f "$T_TMP/kill.csv" ] && ! python3 - "$T_TMP/kill.csv" "$T_TMP/t_15.csv" <<'PY'
import sys
got, full = open(sys.argv[1]).read(), open(sys.argv[2]).read()
sys.exit(0 if full.startswith(got) and got.endswith("\n") else 1)
PY
  then t_fail "after kill $kills the file is not a prefix of the full result"; break; fi
  grep -q "nothing new" "$T_TMP/kill.out" && break
done
t_check "killed $kills times, then complete: the bytes of one uninterrupted run" cmp -s "$T_TMP/kill.csv" "$T_TMP/t_15.csv"
t_check "it was killed at least twice" test "$kills" -ge 2

# ---- failures keep what was fetched; the next run resumes ----------------------------------
rm -f "$T_TMP/fail.csv"
series
# faults apply in the order queued: two pages pass (with a warning), the third is refused
control '{"method": "Trades", "kind": "warning", "warning": "WGeneral:fine", "times": 2}'
control '{"method": "Trades", "kind": "error", "error": "EGeneral:Invalid arguments", "times": 1}'
t_run data fetch XBTUSDT --interval 60 --since "$FIRST" --from-trades --pace-ms 0 --out "$T_TMP/fail.csv"
t_rc "a refusal on the third page: exit 1" 1
t_grep "says to run again" "run the same command again to resume" "$T_ERR"
t_check "the first two pages' candles were saved" python3 -c '
import sys; got, full = open(sys.argv[1]).read(), open(sys.argv[2]).read()
assert got and full.startswith(got) and len(got) < len(full)' "$T_TMP/fail.csv" "$T_TMP/t_60.csv"
t_run data fetch XBTUSDT --interval 60 --pace-ms 0 --out "$T_TMP/fail.csv"
t_rc "resumed" 0
t_check "resumed: the full result" cmp -s "$T_TMP/fail.csv" "$T_TMP/t_60.csv"
t_run data fetch NOSUCH --interval 60 --since "$FIRST" --pace-ms 0 --out "$T_TMP/nosuch.csv"
t_rc "unknown pair: exit 1" 1
t_grep "Kraken's refusal shown" "EQuery:Unknown asset pair" "$T_ERR"

# ---- rate limits --------------------------------------------------------------------------
# pacing under the limit: never refused
series
control '{"rate_limit": {"calls": 2, "seconds": 1, "answer": "eapi"}}'
t_run data fetch XBTUSDT --interval 60 --since "$FIRST" --from-trades --pace-ms 550 --out "$T_TMP/paced.csv"
t_rc "paced under the limit" 0
t_check "paced: the full result" cmp -s "$T_TMP/paced.csv" "$T_TMP/t_60.csv"
t_check "paced: no call refused" python3 -c '
import json, sys, urllib.request
calls = json.load(urllib.request.urlopen(sys.argv[1] + "/__calls"))["calls"]
assert all(c.get("answer") == "ok" for c in calls), [c.get("answer") for c in calls]' "$URL"
for answer in eapi too_many 429; do
  series
  control "{\"rate_limit\": {\"calls\": 2, \"seconds\": 1, \"answer\": \"$answer\"}}"
  t_run data fetch XBTUSDT --interval 60 --since "$FIRST" --from-trades --pace-ms 0 --out "$T_TMP/limited_$answer.csv"
  t_rc "over the limit ($answer): still completes" 0
  t_check "over the limit ($answer): the full result" cmp -s "$T_TMP/limited_$answer.csv" "$T_TMP/t_60.csv"
  t_check "over the limit ($answer): refused, backed off, not hammering" python3 -c '
import json, sys, urllib.request
answers = [c.get("answer") for c in json.load(urllib.request.urlopen(sys.argv[1] + "/__calls"))["calls"]]
refused = [a for a in answers if a != "ok"]
# 6 pages at 2 calls/s: some refusals, but each is followed by a wait, never a burst of retries
assert 1 <= len(refused) <= 8 and answers.count("ok") == 6, answers' "$URL"
  t_grep "over the limit ($answer): the wait is said" "waiting" "$T_ERR"
done

# ---- the OHLC window ------------------------------------------------------------------------
control '{"reset": true}'
read -r OHLC_NOW < <(python3 -c '
import json, sys, urllib.request
rows = json.load(urllib.request.urlopen(sys.argv[1] + "/0/public/OHLC?pair=XBTUSDT&interval=15"))["result"]
rows = [v for k, v in rows.items() if k != "last"][0]
print((rows[-1][0] + 60) * 1000)' "$URL")
export TITAN_FAKE_NOW_MS=$OHLC_NOW
rm -f "$T_TMP/ohlc.csv"
t_run data fetch XBTUSDT --interval 15 --pace-ms 0 --out "$T_TMP/ohlc.csv"
t_rc "the recent window from OHLC" 0
t_grep "OHLC named" "from Kraken OHLC" "$T_OUT"
t_check "OHLC: Kraken's closed rows, the open one left out" python3 -c '
import json, sys, urllib.request
from decimal import Decimal
rows = json.load(urllib.request.urlopen(sys.argv[1] + "/0/public/OHLC?pair=XBTUSDT&interval=15"))["result"]
rows = [v for k, v in rows.items() if k != "last"][0][:-1]
got = [l.split(",") for l in open(sys.argv[2]).read().splitlines()]
assert len(got) == len(rows) > 40, (len(got), len(rows))
for g, r in zip(got, rows):
    assert int(g[0]) == r[0] and [Decimal(x) for x in g[1:6]] == [Decimal(r[i]) for i in (1, 2, 3, 4, 6)] and int(g[6]) == r[7], (g, r)
' "$URL" "$T_TMP/ohlc.csv"
head -n -5 "$T_TMP/ohlc.csv" >"$T_TMP/ohlc_part.csv"
t_run data fetch XBTUSDT --interval 15 --pace-ms 0 --out "$T_TMP/ohlc_part.csv"
t_rc "OHLC: incremental" 0
t_check "OHLC: incremental = one run" cmp -s "$T_TMP/ohlc_part.csv" "$T_TMP/ohlc.csv"
t_grep "OHLC: overlap checked" "matched Kraken's" "$T_OUT"
unset TITAN_FAKE_NOW_MS

# ---- progress: periodic lines in a pipe, a bar on a terminal --------------------------------
series
export TITAN_FAKE_NOW_MS=$(( (LAST + 600) * 1000 ))   # "now" just after the series: the bar fills
TITAN_PROGRESS_MS=100 t_run data fetch XBTUSDT --interval 60 --since "$FIRST" --from-trades --pace-ms 150 --out "$T_TMP/prog.csv"
t_rc "progress run" 0
t_grep "plain progress lines" "data fetch: " "$T_ERR"
t_grep "with the time left" "left; at " "$T_ERR"
t_grep "the last line says 100%" "data fetch: 100% after" "$T_ERR"
t_nogrep "no terminal codes in a pipe" $'\033' "$T_ERR"
rm -f "$T_TMP/tty.csv"
t_pty_stderr "$T_TMP/tty.err" "$TITAN_BIN" data fetch XBTUSDT --interval 60 --since "$FIRST" --from-trades --pace-ms 150 \
  --out "$T_TMP/tty.csv"
t_check "on a terminal: it ran" test $? = 0
t_grep "a bar with the time left on a terminal" "ETA" "$T_TMP/tty.err"
t_grep "the bar fills up" "[###" "$T_TMP/tty.err"
t_grep "drawn in place" $'\r' "$T_TMP/tty.err"
t_grep "it reaches 100%" "100%" "$T_TMP/tty.err"
unset TITAN_FAKE_NOW_MS
t_nogrep "nothing secret or stray in the blackbox" "KRAKEN_SECRET" "$TITAN_BLACKBOX"
t_check "every request is in the blackbox" grep -q '"method":"Trades"' "$TITAN_BLACKBOX"
t_finish
