#!/usr/bin/env bash
# Capsules and replay (issue 16): a PAPER cycle with the AI fakes records a capsule beside the
# blackbox and in the store; `replay CYCLE_ID` reproduces its intents and decision record byte for
# byte, offline and without writing anything; a changed parameter shows the expected difference;
# calls the capsule did not record fail clearly; a tampered capsule (seed, clock, environment, an AI
# answer, a Kraken answer) is not reproduced; `replay --since` over a scripted series reports the
# changed decisions; TITAN_CAPSULE_DAYS prunes; and no planted secret reaches a capsule.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ai_lib.sh"

a_start_fakes
unset TITAN_AI_DAILY_USD TITAN_CAPSULE_DAYS TITAN_MAX_ORDER_QUOTE TITAN_MAX_POSITION_QUOTE TITAN_PAPER_SLIPPAGE_BPS \
  TITAN_PAPER_FEE_BPS TITAN_LOG_LEVEL

mkdir -p "$T_TMP/bb"
export TITAN_DB=$T_TMP/titan.db TITAN_BLACKBOX=$T_TMP/bb/blackbox.log
export REPLAY_TEST_NOTE="read from the environment" REPLAY_TEST_BOOT="read while loading"
STRATEGY=$ROOT/tests/e2e/replay_strategy.lua
DAY0=1794960000000   # 2026-11-18T00:00:00Z
OUTS=()

kraken_calls() { python3 -c 'import json, sys, urllib.request as u; print(len(json.load(u.urlopen(sys.argv[1], timeout=5))["calls"]))' "http://127.0.0.1:$K_PORT/__calls"; }
slot_iso() { python3 -c 'import sys, datetime; print(datetime.datetime.fromtimestamp((int(sys.argv[1]) + int(sys.argv[2]) * 900000) / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"))' "$DAY0" "$1"; }
# cycle SLOT [ARGS]: one run of the strategy 30 s into slot SLOT of DAY0
cycle() { local s=$1; shift; TITAN_FAKE_NOW_MS=$((DAY0 + s * 900000 + 30000)) t_run run "$STRATEGY" "$@"; OUTS+=("$T_OUT" "$T_ERR"); }
replay() { t_run replay "$@"; OUTS+=("$T_OUT" "$T_ERR"); }
capsule_file() { echo "$T_TMP/bb/capsule-$(echo "$1" | tr ':' '-').json.gz"; }
# cap_get FILE PYEXPR: evaluates PYEXPR on the decoded capsule (as `c`)
cap_get() { python3 -c 'import gzip, json, sys; c = json.load(gzip.open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1; }
# cap_tamper IN OUT PYSTMT: a copy of the capsule with PYSTMT applied to `c`
cap_tamper() {
  python3 -c 'import gzip, json, sys
c = json.load(gzip.open(sys.argv[1])); exec(sys.argv[3])
gzip.open(sys.argv[2], "wt").write(json.dumps(c))' "$1" "$2" "$3"
}
# json_get FILE PYEXPR [ARG]: evaluates PYEXPR on the JSON in FILE (as `d`; ARG is sys.argv[3])
json_get() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@" 2>&1; }
eq() { if [ "$2" = "$3" ]; then t_pass; else t_fail "$1: got '$2', want '$3'"; fi; }
fills() { sqlite3 "$TITAN_DB" "select count(*) from paper_fills" 2>/dev/null || echo 0; }

# ---- 1. a PAPER cycle with the AI fakes records its capsule ------------------------------------------
ai_control '{}' _reset
cycle 0
t_rc "cycle 0 exit" 0
eq "cycle 0: the AI-confirmed buy filled" "$(fills)" 1
CID0="replay_test@$(slot_iso 0)"
CAP0=$(capsule_file "$CID0")
t_check "capsule written beside the blackbox" test -s "$CAP0"
t_grep "capsule.kept logged" '"ev":"capsule.kept"' "$TITAN_BLACKBOX"
eq "capsule: cycle id" "$(cap_get "$CAP0" 'c["cycle_id"]')" "$CID0"
eq "capsule: the strategy's text and hash" "$(cap_get "$CAP0" 'c["strategy_file"]["sha256"] == __import__("hashlib").sha256(c["strategy_file"]["source"].encode()).hexdigest()')" True
eq "capsule: the source is the file" "$(cap_get "$CAP0" 'c["strategy_file"]["source"] == open(c["strategy_file"]["path"]).read()')" True
eq "capsule: three AI exchanges with provider and model" "$(cap_get "$CAP0" '[(h["provider"], h["model"], h["status"]) for h in c["http"]]')" \
  "[('openai', 'gpt-4o-mini', 200), ('groq', 'llama-3.3-70b-versatile', 200), ('gemini', 'gemini-2.5-flash', 200)]"
eq "capsule: no request header kept" "$(cap_get "$CAP0" 'sorted(set(k for h in c["http"] for k in h))')" \
  "['attempts', 'body', 'elapsed_ms', 'headers', 'method', 'model', 'provider', 'request', 'status', 'url']"
eq "capsule: Kraken's answers as the cycle read them" "$(cap_get "$CAP0" '[k["method"] + " " + k["params"] for k in c["kraken"]]')" \
  "['AssetPairs pair=XBTUSD', 'Ticker pair=XBTUSD', 'OHLC interval=15&pair=XBTUSD', 'Ticker pair=XBTUSD', 'OHLC interval=15&pair=XBTUSD']"
eq "capsule: seed, now, clock, environment" "$(cap_get "$CAP0" '(type(c["seed"]), c["now"], len(c["clock"]) > 0, c["env"]["REPLAY_TEST_NOTE"])')" \
  "(<class 'int'>, $((DAY0 + 30000)), True, 'read from the environment')"
eq "capsule: book and settings" "$(cap_get "$CAP0" '(c["book"]["cash"], c["settings"]["OPENAI_BASE_URL"])')" "(10000, '$OPENAI_BASE_URL')"
eq "capsule: the outcome" "$(cap_get "$CAP0" '(c["outcome"]["status"], json.loads(c["outcome"]["orders"])[0]["state"])')" "('done', 'filled')"
# the recorded decision is the stored record's exact bytes, less the timing
sqlite3 "$TITAN_DB" "select decision from execution_logs where cycle_id='$CID0'" >"$T_TMP/stored_decision.json"
eq "capsule: decision = the stored record without strategy_ms" \
  "$(python3 -c 'import gzip, json, re, sys; c = json.load(gzip.open(sys.argv[1])); s = open(sys.argv[2]).read().strip()
print(re.sub(r",\"strategy_ms\":[0-9]+", "", s) == c["outcome"]["decision"])' "$CAP0" "$T_TMP/stored_decision.json")" True
eq "store: the capsule's row holds the file's bytes" \
  "$(python3 -c 'import base64, sqlite3, sys; r = sqlite3.connect(sys.argv[1]).execute("select capsule, strategy, expires_at > recorded_at from cycle_capsules where cycle_id=?", (sys.argv[2],)).fetchone()
print(base64.b64decode(r[0]) == open(sys.argv[3], "rb").read(), r[1], r[2])' "$TITAN_DB" "$CID0" "$CAP0")" "True replay_test 1"

# ---- 2. replay CYCLE_ID reproduces it byte for byte, offline, writing nothing -------------------------
sqlite3 "$TITAN_DB" .dump >"$T_TMP/dump.before"
k_before=$(kraken_calls); ai_before=$(ai_requests)
replay "$CID0"
t_rc "replay CYCLE_ID exit" 0
t_grep "replay: reproduced" "REPRODUCED: the intents and the decision record are byte for byte the recorded ones" "$T_OUT"
t_grep "replay: the recorded decision named" "decision  recorded: buy 0.000" "$T_OUT"
replay "$CID0" --json
t_rc "replay --json exit" 0
cp "$T_OUT" "$T_TMP/r0.json"
eq "replay --json: reproduced" "$(json_get "$T_TMP/r0.json" '(d["reproduced"], d["difference_count"], d["tape"]["unrecorded_calls"], d["tape"]["changed_requests"])')" "(True, 0, 0, 0)"
eq "replay --json: the same decision" "$(json_get "$T_TMP/r0.json" 'd["recorded"]["decision"] == d["replay"]["decision"] and d["replay"]["decision"]["intents"][0]["status"]')" accepted
replay "$CAP0"
t_rc "replay CAPSULE_FILE exit" 0
t_grep "replay of the file: reproduced" "REPRODUCED" "$T_OUT"
sqlite3 "$TITAN_DB" .dump >"$T_TMP/dump.after"
t_check "replays wrote nothing in the store" cmp -s "$T_TMP/dump.before" "$T_TMP/dump.after"
eq "replays reached no Kraken" "$(kraken_calls)" "$k_before"
eq "replays reached no AI provider" "$(ai_requests)" "$ai_before"
# with every endpoint pointing nowhere and no key set, the same
( unset OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY KRAKEN_API_KEY KRAKEN_SECRET
  KRAKEN_API_URL=http://127.0.0.1:9 OPENAI_BASE_URL=http://127.0.0.1:9/v1 "$TITAN_BIN" replay "$CAP0" >"$T_TMP/offline.out" 2>&1 )
t_grep "no network, no keys: reproduced" "REPRODUCED" "$T_TMP/offline.out"

# ---- 3. a changed parameter shows the expected difference ----------------------------------------------
replay "$CID0" --set min_close=1000000000 --json
t_rc "--set min_close exit" 0
cp "$T_OUT" "$T_TMP/r1.json"
eq "--set min_close: hold instead of the buy" "$(json_get "$T_TMP/r1.json" '(d["reproduced"], d["recorded"]["action"][:4], d["replay"]["action"])')" "(False, 'buy ', 'hold')"
eq "--set min_close: the intent is gone, the AI not asked" "$(json_get "$T_TMP/r1.json" '[x["path"] for x in d["differences"]]')" "['intents[0]', 'strategy.ai']"
replay "$CID0" --set min_close=1000000000
t_grep "--set: says CHANGED" "result    CHANGED: 2 differences from the recorded decision record" "$T_OUT"
t_grep "--set: names the parameter" "set       min_close=1000000000" "$T_OUT"
t_grep "--set: prints the recorded intent gone" "  intents[0]: {" "$T_OUT"
replay "$CID0" --set quote=40 --json
cp "$T_OUT" "$T_TMP/r2.json"
eq "--set quote: a bigger buy, same vote" "$(json_get "$T_TMP/r2.json" 'sorted(x["path"] for x in d["differences"] if x["path"].startswith("intents[0]"))')" \
  "['intents[0].est_cost', 'intents[0].final_volume', 'intents[0].quote']"
eq "--set quote: quote 20+draw%7 -> 40+draw%7" "$(json_get "$T_TMP/r2.json" '[x["replayed"] - x["recorded"] for x in d["differences"] if x["path"] == "intents[0].quote"]')" "[20]"
replay "$CID0" --set side=sell --json
cp "$T_OUT" "$T_TMP/r3.json"
eq "--set side=sell: the recorded AI answers veto it" "$(json_get "$T_TMP/r3.json" '(d["replay"]["action"], d["replay"]["decision"]["strategy"]["ai"]["summary"])')" \
  "('hold', 'AI buy: 0 of 3 for sell (agreed, confidence 0.80)')"
t_grep "--set side=sell: the prompts changed, recorded answers used" '"changed_requests":3' "$T_TMP/r3.json"
replay "$CID0" --strategy "$ROOT/tests/e2e/ai_cycle_strategy.lua"
t_rc "--strategy another file exit" 0
t_grep "--strategy: names both files" "recorded: $STRATEGY" "$T_OUT"

# ---- 4. calls the capsule did not record fail clearly ----------------------------------------------------
replay "$CID0" --set extra_ohlc=60 --json
cp "$T_OUT" "$T_TMP/r4.json"
eq "unrecorded Kraken call: nil, replay.unrecorded" "$(json_get "$T_TMP/r4.json" '(d["replay"]["decision"]["strategy"]["extra"], d["tape"]["unrecorded_calls"])')" "('replay.unrecorded', 1)"
t_grep "unrecorded Kraken call: noted" "unrecorded: OHLC interval=60&pair=XBTUSD" "$T_TMP/r4.json"
replay "$CID0" --set ask_twice=true
t_grep "unrecorded AI call: noted" "note      unrecorded: POST http://127.0.0.1:$AI_PORT/v1/chat/completions — titan.http" "$T_OUT"

# ---- 5. every recorded input matters: a tampered capsule is not reproduced (exit 1) ----------------------
tampered() {  # NAME PYSTMT PATH: the replay of a tampered copy differs at PATH
  cap_tamper "$CAP0" "$T_TMP/t_$1.json.gz" "$2"
  replay "$T_TMP/t_$1.json.gz" --json
  t_rc "tampered $1: exit 1" 1
  eq "tampered $1: differs at $3" "$(json_get "$T_OUT" '(d["reproduced"], any(x["path"] == sys.argv[3] for x in d["differences"]))' "$3")" "(False, True)"
}
tampered seed 'c["seed"] += 1' strategy.draw
tampered clock 'c["clock"] = [t + 5000 for t in c["clock"]]' strategy.clock_ms
tampered env 'c["env"]["REPLAY_TEST_NOTE"] = "another"' strategy.note
tampered env_at_load 'c["env"]["REPLAY_TEST_BOOT"] = "another"' strategy.boot
tampered state 'c["state"] = json.dumps({"cycles": 41})' strategy.cycles
tampered ticker 'k = [x for x in c["kraken"] if x["method"] == "Ticker"][0]; b = json.loads(k["body"]); list(b["result"].values())[0]["b"][0] = "1.5"; k["body"] = json.dumps(b)' prices.bid
tampered ai 'h = c["http"][0]; h["body"] = h["body"].replace("buy", "sell")' strategy.ai.action
replay "$T_TMP/t_seed.json.gz"
t_grep "tampered: NOT REPRODUCED" "result    NOT REPRODUCED:" "$T_OUT"

# ---- 6. bad paths -------------------------------------------------------------------------------------------
replay "nobody@2026-11-18T00:00Z"
t_rc "unknown cycle: exit 2" 2
t_grep "unknown cycle: says why" "neither a capsule file nor a cycle with a stored capsule" "$T_ERR"
head -c 300 "$CAP0" >"$T_TMP/cut.json.gz"
replay "$T_TMP/cut.json.gz"
t_rc "truncated capsule: exit 2" 2
t_grep "truncated capsule: says so" "damaged gzip" "$T_ERR"
echo '{"capsule": 7}' >"$T_TMP/future.json"
replay "$T_TMP/future.json"
t_rc "another layout: exit 2" 2
t_grep "another layout: says so" "layout version 1" "$T_ERR"
replay "$CID0" --set nope=1
t_rc "--set unknown: exit 2" 2
t_grep "--set unknown: lists the params" "params.nope is not in the strategy's params (it has: " "$T_ERR"
replay "$CID0" --set min_close=abc
t_rc "--set not a number: exit 2" 2
t_grep "--set not a number: says so" "params.min_close is a number (got 'abc')" "$T_ERR"
printf 'return { name = "x" }\n' >"$T_TMP/invalid.lua"
replay "$CID0" --strategy "$T_TMP/invalid.lua"
t_rc "--strategy invalid: exit 2" 2
replay --until 2026-11-19
t_rc "--until alone: exit 2" 2
replay "$CID0" --since 2026-11-18
t_rc "a cycle and --since: exit 2" 2
replay --since yesterday
t_rc "--since not a date: exit 2" 2
replay
t_rc "no argument: exit 2" 2
replay "$CID0" --bogus
t_rc "unknown option: exit 2" 2

# ---- 7. replay --since over a scripted series ---------------------------------------------------------------
# slots 1..6: agree (buy), disagree (hold), agree (buy), every provider failing (hold), agree, agree
modes=('{}' '{"provider":"groq","action":"sell"}' '{}' '{"provider":"all","mode":"server_error"}' '{}' '{}')
for s in 1 2 3 4 5 6; do
  ai_control '{}' _reset
  [ "${modes[$((s - 1))]}" != '{}' ] && ai_control "${modes[$((s - 1))]}" _control
  cycle "$s"
  t_rc "series slot $s exit" 0
done
eq "series: 4 more buys filled" "$(fills)" 5
sed 's/min_close = 1,  /min_close = 1e12,/' "$STRATEGY" >"$T_TMP/edited.lua"
t_check "edited strategy differs" grep -q 'min_close = 1e12,' "$T_TMP/edited.lua"
SINCE=2026-11-18T00:10Z UNTIL=2026-11-18T01:40Z
replay --since "$SINCE" --until "$UNTIL" --strategy "$T_TMP/edited.lua" --json
t_rc "--since with an edit: exit 0" 0
cp "$T_OUT" "$T_TMP/series.json"
eq "--since: six cycles, all changed" "$(json_get "$T_TMP/series.json" '(len(d["cycles"]), d["unchanged"], d["changed"], d["not_replayed"])')" "(6, 0, 6, 0)"
eq "--since: 4 buys became holds, 2 holds lost their AI vote" "$(json_get "$T_TMP/series.json" 'd["changes"]')" \
  "{'buy -> hold': 4, 'same orders, other fields': 2}"
eq "--since: the cycles in order" "$(json_get "$T_TMP/series.json" '[x["cycle_id"][-6:] for x in d["cycles"]]')" \
  "['00:15Z', '00:30Z', '00:45Z', '01:00Z', '01:15Z', '01:30Z']"
replay --since "$SINCE" --until "$UNTIL" --strategy "$T_TMP/edited.lua"
t_grep "--since: the summary line" "6 cycles from 2026-11-18T00:10:00.000Z to 2026-11-18T01:40:00.000Z replayed with $T_TMP/edited.lua: 0 unchanged, 6 changed (buy -> hold: 4, same orders, other fields: 2), 0 not replayed" "$T_OUT"
t_grep "--since: a changed cycle's line" "replay_test@2026-11-18T00:15Z" "$T_OUT"
replay --since "$SINCE" --until "$UNTIL" --set quote=40 --json
eq "--since --set quote: buys resized, holds unchanged" "$(json_get "$T_OUT" '(d["unchanged"], d["changes"])')" "(2, {'buy resized': 4})"
replay --since 2026-11-18
t_rc "--since with the recorded strategies: exit 0" 0
t_grep "--since: every cycle reproduced" "7 cycles from 2026-11-18T00:00:00.000Z to the last replayed with the recorded strategies: 7 unchanged, 0 changed, 0 not replayed" "$T_OUT"
replay --since 2027-01-01
t_grep "--since: none in range" "0 cycles from" "$T_OUT"

# ---- 8. TITAN_CAPSULE_DAYS: pruning, off; a dry run keeps the file only -------------------------------------
export TITAN_DB=$T_TMP/prune.db
TITAN_CAPSULE_DAYS=1 cycle 0
P0="replay_test@$(slot_iso 0)"
eq "days=1: the capsule is stored" "$(sqlite3 "$TITAN_DB" "select count(*) from cycle_capsules where cycle_id='$P0'")" 1
TITAN_CAPSULE_DAYS=1 cycle 192   # two days later
eq "days=1: two days later the first capsule is pruned" "$(sqlite3 "$TITAN_DB" "select group_concat(cycle_id) from cycle_capsules")" "replay_test@$(slot_iso 192)"
replay "$P0"
t_rc "a pruned capsule: exit 2" 2
t_grep "a pruned capsule: says so" "expired" "$T_ERR"
rm -f "$(capsule_file "replay_test@$(slot_iso 200)")"
TITAN_CAPSULE_DAYS=0 cycle 200
t_rc "days=0: the cycle runs" 0
t_check "days=0: no capsule file" test ! -e "$(capsule_file "replay_test@$(slot_iso 200)")"
eq "days=0: no capsule row" "$(sqlite3 "$TITAN_DB" "select count(*) from cycle_capsules where cycle_id='replay_test@$(slot_iso 200)'")" 0
TITAN_CAPSULE_DAYS=7d cycle 201
t_rc "days=7d: refused" 2
cycle 202 --dry-run
t_rc "dry run: exit 0" 0
DRY=$(capsule_file "replay_test@$(slot_iso 202)")
t_check "dry run: the capsule file is written" test -s "$DRY"
eq "dry run: nothing in the store" "$(sqlite3 "$TITAN_DB" "select count(*) from cycle_capsules where cycle_id='replay_test@$(slot_iso 202)'")" 0
replay "$DRY"
t_grep "dry run: its capsule replays" "REPRODUCED" "$T_OUT"

# ---- 9. no planted secret reaches a capsule -------------------------------------------------------------------
# The strategy holds every planted value literally: it logs them and puts them in ctx.decision and
# ctx.state, and sends them in an AI request body; the capsule (file and row) must hold none of them.
python3 - "$T_TMP/leaky.lua" <<'EOF'
import json, os, sys
names = ["KRAKEN_API_KEY", "KRAKEN_SECRET", "OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY"]
lits = ", ".join("[==[%s]==]" % os.environ[n] for n in names)
open(sys.argv[1], "w").write("""local S = { %s }
return { name = "leaky", pair = "XBTUSD", interval = 15,
  on_cycle = function(ctx)
    ctx.log("leak", { s = S })
    ctx.decision.s = S
    ctx.state.s = S
    titan.http.request{ method = "POST", url = os.getenv("OPENAI_BASE_URL") .. "/chat/completions",
      headers = { Authorization = { "Bearer ", titan.secret("OPENAI_API_KEY") } }, body = table.concat(S, "|") }
    return {}
  end }
""" % lits)
EOF
export TITAN_DB=$T_TMP/titan.db
TITAN_FAKE_NOW_MS=$((DAY0 + 300 * 900000)) t_run run "$T_TMP/leaky.lua"
OUTS+=("$T_OUT" "$T_ERR")
t_rc "leaky strategy runs" 0
LEAK="leaky@$(slot_iso 300)"
python3 - "$T_TMP/bb" "$TITAN_DB" "$T_TMP/capsules.txt" <<'EOF'
import base64, glob, gzip, sqlite3, sys
out = open(sys.argv[3], "w")
for f in glob.glob(sys.argv[1] + "/capsule-*.json.gz") + glob.glob(sys.argv[1] + "/../t_*.json.gz"):
    out.write(gzip.open(f).read().decode("utf-8", "replace") + "\n")
for (text,) in sqlite3.connect(sys.argv[2]).execute("select capsule from cycle_capsules"):
    out.write(gzip.decompress(base64.b64decode(text)).decode("utf-8", "replace") + "\n")
EOF
t_grep "the leaky cycle's capsule is in the scan" "\"cycle_id\":\"$LEAK\"" "$T_TMP/capsules.txt"
t_grep "its planted values were there, redacted" '[redacted]' "$T_TMP/capsules.txt"
for name in "${SECRET_NAMES[@]}"; do
  value=${!name}
  escaped=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1])[1:-1])' "$value")
  t_nogrep "$name absent from every capsule" "$value" "$T_TMP/capsules.txt"
  t_nogrep "$name (JSON-escaped) absent from every capsule" "$escaped" "$T_TMP/capsules.txt"
  t_nogrep "$name absent from outputs and the blackbox" "$value" "${OUTS[@]}" "$TITAN_BLACKBOX"
done

# ---- 10. the capsules the repository ships replay on any machine ---------------------------------------------
shipped=0
for f in "$ROOT"/examples/capsules/*.json.gz; do
  [ -f "$f" ] || continue
  shipped=$((shipped + 1))
  ( cd "$ROOT" && unset OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY KRAKEN_API_KEY KRAKEN_SECRET KRAKEN_API_URL \
      OPENAI_BASE_URL GROQ_BASE_URL GEMINI_BASE_URL && TITAN_DB=$T_TMP/none.db "$TITAN_BIN" replay "$f" ) >"$T_TMP/shipped.out" 2>&1
  t_grep "shipped $(basename "$f") reproduces" "REPRODUCED" "$T_TMP/shipped.out"
done
t_check "the repository ships capsules" test "$shipped" -ge 1
t_finish
