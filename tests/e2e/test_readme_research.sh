#!/usr/bin/env bash
# The README's research commands (sections Backtesting, Optimizing, Getting data) from a fresh
# clone with no ../shared: the tracked files copied to a folder of their own, the commands of each
# ```sh block run there (all but the one marked "needs the network"), on the bundled data.
. "$(dirname "$0")/lib.sh"
export TITAN_BLACKBOX=$T_TMP/blackbox.log
unset TITAN_HOME TITAN_MAX_ORDER_QUOTE TITAN_MAX_POSITION_QUOTE TITAN_MAX_ORDERS_PER_CYCLE TITAN_MAX_DAILY_LOSS_QUOTE
unset TITAN_PAPER_FEE_BPS TITAN_PAPER_SLIPPAGE_BPS TITAN_PAPER_CASH

CLONE=$T_TMP/fresh/titan-host
OUT=$T_TMP/out
mkdir -p "$CLONE" "$OUT"
(cd "$ROOT" && git ls-files --cached --others --exclude-standard -z | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$CLONE"
cp "$TITAN_BIN" "$CLONE/titan-host"
t_check "the clone has the bundled data" test -s "$CLONE/examples/data/XBTUSD_60_2022.csv"
t_check "and no ../shared beside it" test ! -e "$CLONE/../shared"

# blocks SECTION: the ```sh blocks of a README section, /tmp/ moved into our own folder
blocks() {
  python3 - "$CLONE/README.md" "$1" "$OUT" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
section = re.search(r"^## " + re.escape(sys.argv[2]) + r"\n(.*?)(?=^## )", text, re.S | re.M).group(1)
for block in re.findall(r"```sh\n(.*?)```", section, re.S):
    lines = [l for l in block.splitlines() if "needs the network" not in l]
    print("\n".join(lines).replace("/tmp/", sys.argv[3] + "/"))
PY
}
for section in Backtesting Optimizing "Getting data"; do
  script=$(blocks "$section")
  t_check "README $section has commands" grep -q "./titan-host" <<<"$script"
  (cd "$CLONE" && bash -e -o pipefail -c "$script") >"$OUT/$section.out" 2>"$OUT/$section.err"
  rc=$?
  if [ "$rc" = 0 ]; then t_pass; else t_fail "README $section commands: exit $rc"; tail -20 "$OUT/$section.err" >&2; fi
done
t_check "backtest report written" test -s "$OUT/r.html"
t_grep "--interval warned about" "is written for 15-minute bars" "$OUT/Backtesting.out"
t_check "optimize report written" test -s "$OUT/opt.html"
t_check "walk-forward JSON written" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["walk_forward"]["folds"]) == 4' "$OUT/wf.json"
t_check "the merged report written" test -s "$OUT/merged.html"
t_grep "data check read the bundled file" "8760 60-minute bars" "$OUT/Getting data.out"
t_check "the example workflow's default data is in the clone" grep -q "default: examples/data/XBTUSD_60_2022.csv" \
  "$CLONE/.github/workflows/optimize.yml"
t_finish
