# Helpers shared by test_run_paper.sh and test_run_live.sh (sourced after lib.sh): planted secrets,
# the fake Kraken, strategy files, runs pinned to a slot, store queries and number comparisons.

# Secrets with '/' and '+' (base64 of random bytes, so KRAKEN_SECRET is a valid Kraken secret).
r_secret() {
  python3 -c '
import base64, os
while True:
    s = base64.b64encode(os.urandom(48)).decode()
    if "/" in s and "+" in s:
        print(s); break'
}
R_SECRET_NAMES=(KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY)
declare -A R_SECRETS=()
for _n in "${R_SECRET_NAMES[@]}"; do R_SECRETS[$_n]=$(r_secret); done
# SUPABASE_KEY alone makes the store refuse to open (fail closed): it is exported only by the runs
# that plant all six (r_with_all_six).
export KRAKEN_API_KEY=${R_SECRETS[KRAKEN_API_KEY]} KRAKEN_SECRET=${R_SECRETS[KRAKEN_SECRET]}
export OPENAI_API_KEY=${R_SECRETS[OPENAI_API_KEY]} GROQ_API_KEY=${R_SECRETS[GROQ_API_KEY]}
export GEMINI_API_KEY=${R_SECRETS[GEMINI_API_KEY]}
unset SUPABASE_URL SUPABASE_KEY TITAN_HALT GITHUB_ACTIONS GITHUB_RUN_ID TITAN_MAX_ORDER_QUOTE \
  TITAN_MAX_POSITION_QUOTE TITAN_MAX_ORDERS_PER_CYCLE TITAN_MAX_DAILY_LOSS_QUOTE TITAN_PAPER_FEE_BPS \
  TITAN_PAPER_SLIPPAGE_BPS TITAN_PAPER_CASH TITAN_LUA_CPU_S TITAN_LUA_MEM_MB TITAN_LEASE_S TITAN_FAKE_NOW_MS \
  TITAN_KRAKEN_LUA_WRITES TITAN_KRAKEN_TIMEOUT_MS TITAN_STORE_TIMEOUT_MS TITAN_TEST_PAUSE_AT
# r_with_all_six CMD...: runs CMD with SUPABASE_KEY planted too.
r_with_all_six() { SUPABASE_KEY=${R_SECRETS[SUPABASE_KEY]} "$@"; }

R_RUNS=0
R_OUTPUTS=()   # every stdout/stderr file and blackbox, grepped for secrets at the end
# r_run ARGS...: t_run with its own numbered files (no $RANDOM collisions), kept for the leak check.
r_run() {
  R_RUNS=$((R_RUNS + 1))
  T_OUT=$T_TMP/run$R_RUNS.out; T_ERR=$T_TMP/run$R_RUNS.err
  "$TITAN_BIN" "$@" >"$T_OUT" 2>"$T_ERR" </dev/null
  T_RC=$?
  R_OUTPUTS+=("$T_OUT" "$T_ERR")
}

# Slots of one fixed UTC day (2026-11-18), so "today" for the daily loss limit is known.
R_DAY0=1794960000000
# r_now SLOT: a time inside slot SLOT (15 min each), always later than the previous call's, so the
# pinned clock never runs backwards between runs (nonces, leases and fills stay in order).
# (The counter lives in a file: r_now runs in command substitutions, i.e. subshells.)
r_now() {
  local tick; tick=$(( $(cat "$T_TMP/tick" 2>/dev/null || echo 0) + 1 )); echo "$tick" >"$T_TMP/tick"
  echo $((R_DAY0 + $1 * 900000 + 30000 + tick * 1000))
}
# r_slot_iso SLOT: "2026-11-18T03:00Z", as in the cycle id.
r_slot_iso() { python3 -c 'import sys, datetime; print(datetime.datetime.fromtimestamp((int(sys.argv[1]) + int(sys.argv[2]) * 900000) / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"))' "$R_DAY0" "$1"; }
# r_iso MS: "2026-11-18T03:00:00.000Z", as the store writes times.
r_iso() { python3 -c 'import sys, datetime; t = int(sys.argv[1]); print(datetime.datetime.fromtimestamp(t // 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (t % 1000))' "$1"; }

# r_strategy NAME BODY [FIELDS]: writes $T_TMP/NAME.lua (strategy name NAME, XBTUSD, 15 min) whose
# on_cycle(ctx) body is BODY; FIELDS are extra Lua table fields (e.g. 'risk = {...},').
r_strategy() {
  cat >"$T_TMP/$1.lua" <<EOF
return {
  name = "$1", pair = "XBTUSD", interval = 15, ${3:-}
  on_cycle = function(ctx)
    $2
  end,
}
EOF
  echo "$T_TMP/$1.lua"
}

# r_sql SQL: one query on the test's store.
r_sql() { sqlite3 "$TITAN_DB" "$1" 2>/dev/null; }
# r_count TABLE: its rows in the test's store; 0 when the file or the table does not exist.
r_count() {
  python3 -c 'import os, sqlite3, sys
if not os.path.exists(sys.argv[1]): print(0); sys.exit()
try: print(sqlite3.connect(sys.argv[1]).execute("select count(*) from " + sys.argv[2]).fetchone()[0])
except sqlite3.Error: print(0)' "$TITAN_DB" "$1"
}
r_fills() { r_sql "select count(*) from paper_fills where strategy='$1'"; }
r_status() { r_sql "select status from execution_logs where cycle_id='$1'"; }
# r_json_get CYCLE_ID COLUMN PYEXPR: evaluates PYEXPR on the decoded JSON column (as `d`).
r_json_get() {
  r_sql "select $2 from execution_logs where cycle_id='$1'" |
    python3 -c 'import json, sys
text = sys.stdin.read().strip()
d = json.loads(text) if text else None
try:
    print(eval(sys.argv[1]))
except Exception as e:
    print("<error %r>" % e)' "$3"
}
# r_approx NAME GOT WANT: |GOT - WANT| <= 1e-6.
r_approx() {
  if python3 -c 'import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2])) <= 1e-6 else 1)' "$2" "$3" 2>/dev/null; then
    t_pass
  else
    t_fail "$1: got '$2', want $3"
  fi
}
r_eq() { if [ "$2" = "$3" ]; then t_pass; else t_fail "$1: got '$2', want '$3'"; fi; }
r_contains() { case "$2" in *"$3"*) t_pass ;; *) t_fail "$1: '$3' not in '$2'" ;; esac; }

# ---- the fake Kraken ------------------------------------------------------------------------
r_start_kraken() {
  K_PORT=$(t_free_port)
  # KRAKEN_FAKE_DATA=DIR serves other recordings (e.g. tests/fixtures/kraken, as without ../shared/data)
  python3 "$ROOT/tests/fakes/kraken_fake.py" --port "$K_PORT" ${KRAKEN_FAKE_DATA:+--data "$KRAKEN_FAKE_DATA"} \
    2>"$T_TMP/kraken_fake.err" & T_PIDS+=($!)
  t_check "kraken fake up" t_wait_port "$K_PORT"
  export KRAKEN_API_URL=http://127.0.0.1:$K_PORT
}
r_kctl() {
  python3 -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[2], sys.argv[1].encode(), {"Content-Type": "application/json"}), timeout=5).read()' \
    "$1" "http://127.0.0.1:$K_PORT/__control"
}
r_kget() { python3 -c 'import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=5).read().decode())' "http://127.0.0.1:$K_PORT/$1"; }
r_kcalls() { r_kget __calls | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["calls"]))'; }
# r_ticker FIELD: a number of the fake's XBTUSD ticker (c, a or b), as the host reads it.
r_ticker() { r_kget "0/public/Ticker?pair=XBTUSD" | python3 -c 'import json, sys; r = json.load(sys.stdin)["result"]; print(list(r.values())[0][sys.argv[1]][0])' "$1"; }
# r_cl_ord_id CYCLE_ID INDEX: the client order id the host must derive (sha256 of
# "titan-host:<cycle>:<index>", shaped as a version-5 style UUID), computed independently.
r_cl_ord_id() {
  python3 -c 'import hashlib, sys
md = bytearray(hashlib.sha256(("titan-host:%s:%s" % (sys.argv[1], sys.argv[2])).encode()).digest())
md[6] = (md[6] & 0x0f) | 0x50; md[8] = (md[8] & 0x3f) | 0x80
h = md[:16].hex(); print("%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32]))' "$1" "$2"
}

# r_leak_check: no planted secret value in any output of this suite (stdout, stderr, blackbox),
# nor in the store files.
r_leak_check() {
  local files=("${R_OUTPUTS[@]}") f
  for f in "$T_TMP"/*.log; do [ -f "$f" ] && files+=("$f"); done
  for f in "$T_TMP"/*.db; do [ -f "$f" ] && sqlite3 "$f" .dump >"$f.dump" 2>/dev/null && files+=("$f.dump"); done
  local n
  for n in "${R_SECRET_NAMES[@]}"; do
    t_nogrep "secret $n absent from ${#files[@]} output files" "${R_SECRETS[$n]}" "${files[@]}"
  done
  # and a sanity check that the grep can fail: the files are not empty
  t_check "outputs to check exist" test "${#files[@]}" -gt 10
}

# r_kmethods FROM: the methods the fake received from call number FROM on (0-based), space-separated;
# a private call with params shows them as Method(key=value,...) for the keys that matter here.
r_kmethods() {
  r_kget __calls | python3 -c 'import json, sys
calls = json.load(sys.stdin)["calls"][int(sys.argv[1]):]
out = []
for c in calls:
    p = c.get("params") or {}
    keys = [k for k in ("validate", "cl_ord_id") if k in p] if c.get("private") else []
    out.append(c["method"] + ("(" + ",".join("%s=%s" % (k, p[k]) for k in keys) + ")" if keys else ""))
print(" ".join(out))' "$1"
}
# r_korders_with CL: how many orders the fake booked with that cl_ord_id.
r_korders_with() { r_kget __orders | python3 -c 'import json, sys; print(sum(1 for o in json.load(sys.stdin)["orders"] if o.get("cl_ord_id") == sys.argv[1]))' "$1"; }
# r_ktxid CL: the txid of the (last) booked order with that cl_ord_id.
r_ktxid() { r_kget __orders | python3 -c 'import json, sys; print(([o["txid"] for o in json.load(sys.stdin)["orders"] if o.get("cl_ord_id") == sys.argv[1]] or [""])[-1])' "$1"; }
# r_kreal_addorders CL: how many real (not validate) AddOrder calls the fake received with that cl_ord_id.
r_kreal_addorders() {
  r_kget __calls | python3 -c 'import json, sys
print(sum(1 for c in json.load(sys.stdin)["calls"] if c["method"] == "AddOrder"
          and (c.get("params") or {}).get("cl_ord_id") == sys.argv[1] and "validate" not in c["params"]))' "$1"
}

# r_syncs STRACE-FILE DB: "WAL DB OTHER" — how often a traced run synced DB's WAL, DB itself, and
# anything else (SQLite syncs the folder once per process, at its first sync of the WAL).
r_syncs() {
  local wal db all
  wal=$(grep -cE "sync[a-z_]*\([0-9]+<$2-wal>" "$1")
  db=$(grep -cE "sync[a-z_]*\([0-9]+<$2>" "$1")
  all=$(grep -cE '(^|[^a-z_])(f|fdata|sync_file_range|syncfs)?sync[a-z_]*\(' "$1")
  echo "$wal $db $((all - wal - db))"
}
# r_strace OUT CMD...: CMD under strace (syncs and sends, fds named), its output in T_OUT/T_ERR.
# LeakSanitizer cannot run under ptrace: a sanitizer build checks its leaks in every other run.
r_strace() {
  local out=$1; shift
  R_RUNS=$((R_RUNS + 1)); T_OUT=$T_TMP/run$R_RUNS.out; T_ERR=$T_TMP/run$R_RUNS.err
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -y -s 48 -e trace=fsync,fdatasync,sync_file_range,syncfs,sync,sendto,connect -o "$out" "$@" \
    >"$T_OUT" 2>"$T_ERR" </dev/null
  T_RC=$?
  R_OUTPUTS+=("$T_OUT" "$T_ERR")
}
# r_traced_cycle TRACE STRATEGY SLOT: on a fresh store $SYNC_DB (T_TMP/sync.db), a first cycle of
# STRATEGY in slot SLOT (it creates the file), then the next slot's cycle under strace into TRACE;
# sets T_RC of the traced run, and WAL, DB, OTHER from r_syncs. "SKIP" and 1 without strace.
r_traced_cycle() {
  local trace=$1 strategy=$2 slot=$3
  if ! command -v strace >/dev/null 2>&1; then
    echo "SKIP $T_NAME: durability: strace is not installed (tools/install-deps test)" >&2
    return 1
  fi
  SYNC_DB=$T_TMP/sync.db
  TITAN_DB=$SYNC_DB TITAN_FAKE_NOW_MS=$(r_now "$slot") r_run run "$strategy"
  t_rc "durability: a first cycle on a new store" 0
  TITAN_DB=$SYNC_DB TITAN_FAKE_NOW_MS=$(r_now $((slot + 1))) r_strace "$trace" "$TITAN_BIN" run "$strategy"
  read -r WAL DB OTHER < <(r_syncs "$trace" "$SYNC_DB")
}
# r_line_of FILE PATTERN: the line number of PATTERN's first match in FILE (999999 when none).
r_line_of() { local n; n=$(grep -nE -m1 -- "$2" "$1" | cut -d: -f1); echo "${n:-999999}"; }
