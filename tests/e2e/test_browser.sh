#!/usr/bin/env bash
# The HTML pages in a real browser (issue 14): Debian's Chromium, headless, renders the backtest
# report and the status page (tests/e2e/browser_check.py drives it over the DevTools protocol): no
# console error, no network request, a non-blank screenshot of the expected size, the key numbers
# in the DOM. The checker is shown able to fail (a page with a console error, one that fetches,
# one that is blank). Without Chromium (tools/install-deps test installs it) the suite says it skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

CHROMIUM=""
for c in chromium chromium-browser google-chrome; do command -v "$c" >/dev/null 2>&1 && { CHROMIUM=$(command -v "$c"); break; }; done
if [ -z "$CHROMIUM" ]; then
  echo "SKIP test_browser: no Chromium on PATH (tools/install-deps test installs Debian's chromium)" >&2
  t_finish; exit
fi
check_page() {   # check_page NAME PAGE ARGS...: browser_check.py, its lines folded into our counts
  local name=$1 page=$2 line; shift 2
  python3 "$ROOT/tests/e2e/browser_check.py" --chromium "$CHROMIUM" --page "$page" "$@" >"$T_TMP/$name.check" 2>&1
  local rc=$?
  while IFS= read -r line; do
    case "$line" in
      "OK "*) t_pass ;;
      "FAIL "*) t_fail "$name: ${line#FAIL }" ;;
      *) echo "    $line" >&2 ;;
    esac
  done <"$T_TMP/$name.check"
  return $rc
}

# ---- the checker can fail: a console error, a page that fetches, a blank page ---------------------------
printf '<!DOCTYPE html><html><body><p>hello</p><script>console.error("boom")</script></body></html>' >"$T_TMP/err.html"
python3 "$ROOT/tests/e2e/browser_check.py" --chromium "$CHROMIUM" --page "$T_TMP/err.html" --width 400 --height 300 >"$T_TMP/err.check" 2>&1
t_check "a console error fails the check" grep -q '^FAIL no console error' "$T_TMP/err.check"
printf '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"><p>text</p></body></html>' >"$T_TMP/net.html"
python3 "$ROOT/tests/e2e/browser_check.py" --chromium "$CHROMIUM" --page "$T_TMP/net.html" --width 400 --height 300 >"$T_TMP/net.check" 2>&1
t_check "a network request fails the check" grep -q '^FAIL no network request besides the page: .*127.0.0.1:9' "$T_TMP/net.check"
printf '<!DOCTYPE html><html><body></body></html>' >"$T_TMP/blank.html"
python3 "$ROOT/tests/e2e/browser_check.py" --chromium "$CHROMIUM" --page "$T_TMP/blank.html" --width 400 --height 300 --expect "equity" >"$T_TMP/blank.check" 2>&1
t_check "a blank page fails the check" grep -q '^FAIL the screenshot is not blank' "$T_TMP/blank.check"
t_check "a missing number fails the check" grep -q "^FAIL the page shows 'equity'" "$T_TMP/blank.check"

# ---- the backtest report --------------------------------------------------------------------------------
python3 - "$T_TMP/bars.csv" <<'EOF'
import math, sys
with open(sys.argv[1], "w") as f:
    f.write("timestamp,open,high,low,close,volume\n")
    price = 40000.0
    for i in range(900):
        t = 1704067200 + i * 3600
        close = 40000 * (1 + 0.08 * math.sin(i / 40.0) + 0.02 * math.sin(i / 7.0))
        f.write("%d,%.1f,%.1f,%.1f,%.1f,%.3f\n" % (t, price, max(price, close) * 1.002, min(price, close) * 0.998, close, 5 + i % 7))
        price = close
EOF
r_run backtest "$ROOT/examples/sma_cross.lua" "$T_TMP/bars.csv" --json "$T_TMP/bt.json" --report "$T_TMP/report.html"
t_rc "backtest with a report: exit 0" 0
read -r FINAL FILLS < <(python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["metrics"]; print("%.2f %d" % (m["final_equity"], m["fills"]))' "$T_TMP/bt.json")
t_check "the report has fills to show ($FILLS)" test "$FILLS" -gt 2
check_page report "$T_TMP/report.html" --width 1200 --height 900 --shot "$T_TMP/report.png" \
  --expect "Backtest: sma_cross" --expect "$FINAL" --expect "round trips ($FILLS fills)" --expect "Price and trades" \
  --selector "svg polyline" --selector "table tbody tr"
t_check "report: the check passed as a whole" test $? = 0

# ---- the status page after a few PAPER cycles ---------------------------------------------------------------
r_start_kraken
export SYSTEM_MODE=PAPER TITAN_DB=$T_TMP/browser.db TITAN_BLACKBOX=$T_TMP/blackbox.log
BUY=$(r_strategy brw 'if (ctx.now // 900000) % 2 == 0 then return { { side = "sell", type = "market", volume = ctx.portfolio.position, reason = "out" } } end
    return { { side = "buy", type = "market", quote = 40, reason = "in" } }')
for slot in 1 2 3 4 5; do TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$BUY"; done
TITAN_FAKE_NOW_MS=$(r_now 6) r_run status --json --html "$T_TMP/status.html"
t_rc "status --html: exit 0" 0
read -r EQ CASH FEES N < <(python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["strategies"][0]
print("{:,.2f} {:,.2f} {:,.2f} {}".format(s["equity"], s["cash"], s["fees"], s["fills"]))' "$T_OUT")
check_page status "$T_TMP/status.html" --width 1100 --height 1400 --shot "$T_TMP/status.png" \
  --expect "titan-host status" --expect "$EQ" --expect "$CASH" --expect "$FEES" --expect "$N fills" \
  --expect "brw@$(r_slot_iso 5)" --selector "svg polyline.equity" --selector "svg polyline.position" \
  --selector "table.cycles tbody tr" --selector "table.fills tbody tr"
t_check "status page: the check passed as a whole" test $? = 0
t_finish
