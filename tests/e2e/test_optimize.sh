#!/usr/bin/env bash
# `titan-host optimize` from the command line: options and exit codes; a grid and a seeded random
# sample whose JSON is the same bytes for --jobs 1 and --jobs 2; every trial equal to a `backtest
# --set` of its values; shards merged = one run, byte for byte (walk-forward too), and merges that
# must be refused; a walk-forward over data where the best parameter flips between folds, which
# must choose from the training parts only; failing trials unranked; CSV, self-contained report;
# the example workflow (.github/workflows/optimize.yml) linted and its contract checked.
. "$(dirname "$0")/lib.sh"
export TITAN_BLACKBOX=$T_TMP/blackbox.log TITAN_HOME=$ROOT
unset TITAN_MAX_ORDER_QUOTE TITAN_MAX_POSITION_QUOTE TITAN_MAX_ORDERS_PER_CYCLE TITAN_MAX_DAILY_LOSS_QUOTE
unset TITAN_PAPER_FEE_BPS TITAN_PAPER_SLIPPAGE_BPS TITAN_PAPER_CASH TITAN_PROGRESS_MS
DATA=$ROOT/examples/data/XBTUSD_60_2022.csv
SMA=$ROOT/examples/sma_cross.lua
cd "$T_TMP" || exit 1

# sorted_json FILE: valid JSON with the keys of every object in sorted order
sorted_json() {
  python3 - "$1" <<'PY'
import json, sys
def check(v):
    if isinstance(v, dict):
        assert list(v) == sorted(v), list(v)
        for x in v.values(): check(x)
    elif isinstance(v, list):
        for x in v: check(x)
check(json.load(open(sys.argv[1]), object_pairs_hook=lambda kv: dict(kv)))
PY
}

# ---- usage ----------------------------------------------------------------------------------
t_run help optimize
t_rc "help optimize" 0
t_grep "help names the exit codes" "exit codes: 0 done" "$T_OUT"
t_grep "help documents --merge" "--merge SHARD.json" "$T_OUT"
t_run help
t_grep "help lists optimize" "optimize STRATEGY.lua DATA.csv --param" "$T_OUT"
G="$SMA $DATA"
for bad in "optimize" "optimize $G" "optimize $G --param fast" "optimize $G --param fast=5:1" \
           "optimize $G --param fast=5:20 --objective luck" "optimize $G --param fast=5:20 --walk-forward 1" \
           "optimize $G --param fast=5:20 --walk-forward 3:1.5" "optimize $G --param fast=5:20 --shard 3/2 --json x.json" \
           "optimize $G --param fast=5:20 --shard 1/2" "optimize $G --param fast=5:20 --trials 0" \
           "optimize $G --param fast=5:20 --jobs 0" "optimize $G --param fast=5:20 --seed -1" \
           "optimize $G --param fast=0.5:20" "optimize $G --param fast=5:20 --param fast=1,2" \
           "optimize $G --param fast=5:20 --bogus 1" "optimize $G --param fast=5:20 --set fast=3" \
           "optimize $G --param fast=5:20 --heatmap fast" "optimize --merge" "optimize $G --merge x.json"; do
  # shellcheck disable=SC2086
  t_run $bad
  t_rc "usage: $bad" 2
done
t_run optimize "$SMA" "$DATA" --param fats=5:20:5
t_rc "a param the strategy does not have" 2
t_grep "names it" "params.fats is not in the strategy's params" "$T_ERR"
t_run optimize "$SMA" "$DATA" --param fast=5,abc
t_rc "a value of the wrong kind" 2
t_grep "names the value" "params.fast is a number (got 'abc')" "$T_ERR"
t_run optimize "$SMA" "$DATA" --param fast=5.5,6
t_rc "an integer param given a fraction" 2

# ---- a grid: --jobs 1 and --jobs 2 give the same bytes ----------------------------------------
GRID=(--param fast=5:15:5 --param slow=20:40:10 --min-trades 3)
t_run optimize "$SMA" "$DATA" "${GRID[@]}" --jobs 1 --json g1.json --csv g1.csv --report g1.html
t_rc "grid, one worker" 0
t_grep "the table" "rank  trial" "$T_OUT"
t_grep "the grid's size" "trials    9 (grid)" "$T_OUT"
t_run optimize "$SMA" "$DATA" "${GRID[@]}" --jobs 2 --json g2.json
t_rc "grid, two workers" 0
t_check "--jobs 1 and --jobs 2: identical JSON" cmp -s g1.json g2.json
t_check "JSON keys sorted at every level" sorted_json g1.json
t_check "the grid in the JSON: 9 trials, ranked by score, best = rank 1" python3 - g1.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["trials"]
assert len(t) == 9 and d["config"]["trials"] == 9 and d["config"]["search"] == "grid", len(t)
ranked = [x for x in t if x["rank"] is not None]
assert ranked == t[:len(ranked)] and [x["rank"] for x in ranked] == list(range(1, len(ranked) + 1))
assert all(a["score"] >= b["score"] for a, b in zip(ranked, ranked[1:]))
assert all(x["metrics"]["round_trips"] >= 3 for x in ranked)
assert d["best"]["trial"] == ranked[0]["trial"] and d["best"]["params"] == ranked[0]["params"]
assert sorted((x["params"]["fast"], x["params"]["slow"]) for x in t) == [(f, s) for f in (5, 10, 15) for s in (20, 30, 40)]
assert d["data"]["bars"] == 8760 and len(d["data"]["sha256"]) == 64 and d["walk_forward"] is None
PY
t_check "every trial = backtest --set of its values (same engine)" python3 - g1.json "$TITAN_BIN" "$SMA" "$DATA" <<'PY'
import json, subprocess, sys
d = json.load(open(sys.argv[1]))
for t in d["trials"][:3] + d["trials"][-2:]:
    args = [sys.argv[2], "backtest", sys.argv[3], sys.argv[4], "--json", "-"]
    for k, v in t["params"].items():
        args += ["--set", "%s=%s" % (k, v)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    m = json.loads(out)["metrics"]
    for key in ("total_return", "sharpe", "max_drawdown", "round_trips", "fills", "fees"):
        a, b = m[key], t["metrics"][key]
        assert (a is None and b is None) or abs(a - b) <= 1e-9 * max(1, abs(a)), (t["params"], key, a, b)
PY
t_check "CSV: a header and one row per trial" test "$(wc -l <g1.csv)" -eq 10
t_grep "CSV columns" "rank,trial,score,fast,slow,total_return" g1.csv
t_check "report is self-contained (no scripts, links or remote resources)" \
  python3 -c 'import re,sys; h=open(sys.argv[1]).read(); h=h.replace("xmlns=\"http://www.w3.org/2000/svg\"",""); sys.exit(1 if re.search(r"<script|<link|src=|href=|url\(|https?://", h) else 0)' g1.html
t_grep "report: ranked table" "<h2>Ranked trials</h2>" g1.html
t_grep "report: heatmap with a tooltip per cell" "<title>fast 5, slow 20:" g1.html
t_run optimize "$SMA" "$DATA" "${GRID[@]}" --min-trades 100000 --json none.json
t_rc "nothing qualifies: still done" 0
t_check "nothing ranked: best is null" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["best"] is None and d["ranked"] == 0' none.json
t_grep "says none qualified" "no trial qualified" "$T_OUT"

# ---- --json -: stdout is the JSON alone -------------------------------------------------------
t_run optimize "$SMA" "$DATA" "${GRID[@]}" --json -
t_rc "--json -" 0
t_check "stdout parses as the JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T_OUT"
t_grep "the table went to stderr" "rank  trial" "$T_ERR"
t_check "same bytes as the file" cmp -s "$T_OUT" g1.json

# ---- a seeded sample, shards and their merge --------------------------------------------------
SAMPLE=(--param fast=3:20 --param slow=20:80 --param buy_quote=20:50 --trials 13 --seed 7 --min-trades 3)
t_run optimize "$SMA" "$DATA" "${SAMPLE[@]}" --jobs 2 --json r1.json --report r1.html
t_rc "random sample" 0
t_run optimize "$SMA" "$DATA" "${SAMPLE[@]}" --jobs 1 --json r2.json
t_check "the same seed: the same bytes (any --jobs)" cmp -s r1.json r2.json
t_check "13 trials, random, seed 7, values in range" python3 - r1.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["config"]["search"] == "random" and d["config"]["seed"] == 7 and len(d["trials"]) == 13
for t in d["trials"]:
    p = t["params"]
    assert 3 <= p["fast"] <= 20 and 20 <= p["slow"] <= 80 and 20 <= p["buy_quote"] <= 50, p
    assert all(v == int(v) for v in p.values())
PY
t_run optimize "$SMA" "$DATA" --param fast=3:20 --param slow=20:80 --param buy_quote=20:50 --trials 13 --seed 8 --min-trades 3 --json r3.json
t_check "another seed: other trials" python3 -c '
import json, sys
a, b = (json.load(open(f))["trials"] for f in sys.argv[1:])
assert sorted(str(t["params"]) for t in a) != sorted(str(t["params"]) for t in b)' r1.json r3.json
for k in 1 2 3; do
  t_run optimize "$SMA" "$DATA" "${SAMPLE[@]}" --jobs 1 --shard "$k/3" --json "s$k.json"
  t_rc "shard $k/3" 0
done
t_grep "a shard says what it wrote" "shard 3/3: 4 of 13 trials written" "$T_OUT"
t_run optimize --merge s3.json s1.json s2.json --json merged.json --report merged.html
t_rc "merge" 0
t_check "shards merged = one run, byte for byte" cmp -s merged.json r1.json
t_run optimize --merge s1.json s2.json --json part.json
t_rc "a shard missing: refused" 2
t_grep "names the missing shard" "shard 3/3 is missing" "$T_ERR"
t_run optimize --merge s1.json s1.json s2.json s3.json
t_rc "a shard twice: refused" 2
t_run optimize "$SMA" "$DATA" "${SAMPLE[@]}" --fee-bps 10 --shard 2/3 --json other.json
t_run optimize --merge s1.json other.json s3.json
t_rc "shards of different runs: refused" 2
t_grep "says so" "is a shard of another run" "$T_ERR"
t_run optimize --merge r1.json
t_rc "a result file is not a shard" 2
printf '{"kind": "titan-host optimize shard", "version": "1", "config": 3}' >broken.json
t_run optimize --merge broken.json
t_rc "a broken shard: refused, no crash" 2
t_run optimize "$SMA" "$DATA" "${SAMPLE[@]}" --shard 1/3 --json s1.json --report x.html
t_rc "a shard writes JSON only" 2

# ---- a walk-forward where the best parameter flips between folds ------------------------------
# Four equal segments: up, down, down, up. With 2 folds of 50% training, fold 1 trains on "up"
# (holding wins) and is tested on "down"; fold 2 trains on "down" (staying flat wins) and is tested
# on "up". A choice that peeked at the test part would pick the opposite in both folds.
python3 - flip.csv <<'PY'
import sys
t, rows = 1640995200, []
for a, b in ((100, 200), (200, 100), (100, 50), (50, 100)):
    for k in range(120):
        o = a + (b - a) * k / 120
        c = a + (b - a) * (k + 1) / 120
        rows.append("%d,%.4f,%.4f,%.4f,%.4f,10,5" % (t, o, max(o, c), min(o, c), c))
        t += 3600
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
cat >flip.lua <<'LUA'
-- hold = true: buy and keep buying up to the caps; false: stay flat
local params = { hold = true }
return { name = "flip", pair = "XBTUSD", interval = 60, params = params, on_cycle = function(ctx)
  if params.hold and ctx.portfolio.position_value < 400 then
    return { { side = "buy", type = "market", quote = 100, reason = "hold" } }
  end
  return {}
end }
LUA
FLIP=(--param hold=true,false --objective return --min-trades 0 --walk-forward 2:0.5)
t_run optimize flip.lua flip.csv "${FLIP[@]}" --json flip.json --report flip.html --csv flip.csv.out
t_rc "walk-forward" 0
t_check "each fold's parameters come from its training part alone" python3 - flip.json <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["walk_forward"]
f1, f2 = w["folds"]
assert f1["params"] == {"hold": True}, f1["params"]      # training part rising: hold
assert f2["params"] == {"hold": False}, f2["params"]     # training part falling: flat
# and the test parts would have preferred the opposite: the choice did not peek
assert f1["out_of_sample"]["total_return"] < 0 < f1["in_sample"]["total_return"]
assert f2["out_of_sample"]["total_return"] == 0 and f2["in_sample"]["total_return"] == 0
assert f1["train"]["bars"] == 120 and f1["test"]["bars"] == 120 and f2["train"]["first"] == "2022-01-11T00:00:00.000Z"
assert w["overfit"] is True and "overfitting" in w["warning"]
assert w["in_sample_objective"] > 0 > w["out_of_sample_objective"]
PY
t_grep "the table shows the folds side by side" "in-sample out-of-sample" "$T_OUT"
t_grep "the warning" "WARNING" "$T_OUT"
t_grep "report: out-of-sample equity" "out-of-sample equity (quote)" flip.html
t_grep "report: the folds" "<h2>Walk-forward</h2>" flip.html
t_check "CSV: one row per trial and fold" test "$(wc -l <flip.csv.out)" -eq 5
for k in 1 2; do
  t_run optimize flip.lua flip.csv "${FLIP[@]}" --shard "$k/2" --json "f$k.json"
done
t_run optimize --merge f1.json f2.json --json flip_merged.json
t_rc "walk-forward merge" 0
t_check "walk-forward: shards merged = one run" cmp -s flip_merged.json flip.json
cp flip.csv flip.saved && echo "1643500000,1,1,1,1,1,1" >>flip.csv
t_run optimize --merge f1.json f2.json
t_rc "walk-forward merge refuses changed data" 2
t_grep "says why" "sha256 differs" "$T_ERR"
mv flip.saved flip.csv

# ---- trials whose strategy fails are listed, not ranked ---------------------------------------
cat >fails.lua <<'LUA'
local params = { n = 1 }
return { name = "fails", pair = "XBTUSD", interval = 60, params = params, on_cycle = function(ctx)
  if params.n == 2 then error("n = 2 is not supported") end
  return {}
end }
LUA
t_run optimize fails.lua flip.csv --param n=1,2,3 --min-trades 0 --objective return --json fails.json
t_rc "failing trials: still done" 0
t_check "the failing trial has its error, unranked" python3 - fails.json <<'PY'
import json, sys
t = {x["trial"]: x for x in json.load(open(sys.argv[1]))["trials"]}
assert t[1]["rank"] is None and "n = 2 is not supported" in t[1]["metrics"]["error"], t[1]
assert t[0]["rank"] is not None and t[2]["rank"] is not None
PY
t_grep "the table counts failures" "failed    1 backtests" "$T_OUT"

# ---- progress ---------------------------------------------------------------------------------
TITAN_PROGRESS_MS=1 t_run optimize "$SMA" "$DATA" "${GRID[@]}" --jobs 2
t_grep "progress lines with the time left" "optimize: 100% after" "$T_ERR"
t_grep "progress counts backtests" "9 of 9 backtests" "$T_ERR"

# ---- the example workflow --------------------------------------------------------------------
WF=$ROOT/.github/workflows/optimize.yml
out=$("$ROOT/tools/lint-workflows" "$WF" 2>&1); rc=$?
case $rc in
  0) t_pass ;;
  77) echo "SKIP workflow lint: $(grep SKIPPED <<<"$out" | head -1)" >&2; t_pass ;;
  *) t_fail "lint-workflows optimize.yml: $out" ;;
esac
t_check "optimize.yml: manual dispatch, a shard matrix, a merge job uploading the report, actions pinned" python3 - "$WF" <<'PY'
import re, sys, yaml
text = open(sys.argv[1]).read()
w = yaml.safe_load(text)
on = w.get("on", w.get(True))
assert list(on) == ["workflow_dispatch"], on
jobs = w["jobs"]
assert "${{ matrix.shard }}" in str(jobs["shard"]["steps"]) and "matrix" in jobs["shard"]["strategy"]
runs = " ".join(s.get("run", "") for s in jobs["shard"]["steps"])
assert "--shard" in runs and "--json" in runs
assert jobs["merge"]["needs"] == "shard"
merge = " ".join(s.get("run", "") for s in jobs["merge"]["steps"])
assert "optimize --merge" in merge and "--report" in merge
assert any("upload-artifact" in s.get("uses", "") and "optimize.html" in str(s.get("with")) for s in jobs["merge"]["steps"])
for uses in re.findall(r"uses:\s*(\S+)", text):
    assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), uses
assert w["permissions"] == {"contents": "read"}
PY
t_finish
