#!/usr/bin/env bash
# The Supabase store end to end: a real PostgreSQL (tests/fakes/pg.sh), the shipped schema applied
# twice, and the PostgREST-compatible fake (tests/fakes/postgrest_fake.py) in front of it, so a
# conflict is the real unique constraint's 23505. The same race, expiry and late-finish tests as
# SQLite, the key headers (sb_secret_ in apikey only, JWT also as Bearer), faults (unreachable,
# 401, 5xx, malformed bodies) and the planted key never printed anywhere.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_lib.sh"

STORE_TOOL=${STORE_TOOL:-${UNIT_DIR:-$ROOT/build/release/tests}/tools/store_tool}
if [ ! -x "$STORE_TOOL" ]; then
  t_fail "store_tool not built at $STORE_TOOL (make unit builds it; set UNIT_DIR or STORE_TOOL)"
  t_finish; exit 1
fi
unset TITAN_FAKE_NOW_MS TITAN_HALT
export TITAN_BLACKBOX=$T_TMP/blackbox.log TITAN_LOG_LEVEL=error
# a store that silently fell back to SQLite would create this file: the tests check it never appears
export TITAN_DB=$T_TMP/must-not-exist.db

pg_python

# ---- a real PostgreSQL, stopped whatever happens ----
pg_start
psql_run -f "$ROOT/examples/supabase/schema.sql" >"$T_TMP/schema1.log" 2>&1
t_check "schema applies to a fresh database" [ $? = 0 ]
psql_run -f "$ROOT/examples/supabase/schema.sql" >"$T_TMP/schema2.log" 2>&1
t_check "schema applies a second time without error" [ $? = 0 ]
t_check "schema: eight tables" bash -c "[ \"\$(\"$PGBIN/psql\" -h '$PGHOST' -p $PGPORT -U postgres -d postgres -Atc \"select count(*) from pg_tables where schemaname='public' and tablename in ('execution_logs','paper_balances','paper_fills','strategy_state','control','locks','cycle_capsules','notifications')\")\" = 8 ]"
t_check "schema: row level security on every table, no policy" bash -c "[ \"\$(\"$PGBIN/psql\" -h '$PGHOST' -p $PGPORT -U postgres -d postgres -Atc \"select count(*) from pg_class c join pg_namespace n on n.oid=c.relnamespace where n.nspname='public' and c.relkind='r' and c.relrowsecurity\")\" = 8 ] && [ \"\$(\"$PGBIN/psql\" -h '$PGHOST' -p $PGPORT -U postgres -d postgres -Atc 'select count(*) from pg_policies')\" = 0 ]"
psql_run -c "insert into execution_logs (cycle_id, strategy, mode, status, holder) values ('x','s','PAPER','bogus','h')" >/dev/null 2>&1
t_check "schema: CHECK rejects an unknown status" [ $? != 0 ]
psql_run -c "insert into execution_logs (cycle_id, strategy, mode, status, holder) values ('x','s','paper','done','h')" >/dev/null 2>&1
t_check "schema: CHECK rejects an unknown mode" [ $? != 0 ]

# ---- the PostgREST fake ----
SECRET_KEY="sb_secret_PLANTEDkey$RANDOM$RANDOM"
JWT_KEY="eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.PLANTEDsig$RANDOM"
PORT=$(t_free_port)
FAKE_SUPABASE_KEYS="$SECRET_KEY,$JWT_KEY" "$PY" "$ROOT/tests/fakes/postgrest_fake.py" --port "$PORT" \
  --pg-host "$PGHOST" --pg-port "$PGPORT" --log "$T_TMP/headers.log" --fault-file "$T_TMP/fault" \
  >"$T_TMP/fake.out" 2>&1 &
T_PIDS+=($!)
t_wait_port "$PORT" || { t_fail "postgrest fake did not start: $(cat "$T_TMP/fake.out")"; t_finish; exit 1; }
URL="http://127.0.0.1:$PORT"
export SUPABASE_URL=$URL SUPABASE_KEY=$SECRET_KEY

tool() { "$STORE_TOOL" "$@"; }
now_ms() { python3 -c 'import time; print(int(time.time()*1000))'; }
race() {
  local n=$1 cycle=$2 lease=$3 i; shift 3
  rm -f "$T_TMP"/race.* "$T_TMP/go"
  for i in $(seq 1 "$n"); do
    env "$@" "$STORE_TOOL" --wait-file "$T_TMP/go" acquire "$cycle" default PAPER "runner-$i:$i" "$lease" \
      >"$T_TMP/race.$i" 2>&1 &
  done
  sleep 0.3; touch "$T_TMP/go"; wait_racers
}
# waits for the racers only (the fake keeps running)
wait_racers() { local p; for p in $(jobs -p); do [[ " ${T_PIDS[*]} " == *" $p "* ]] || wait "$p"; done; }
count() { cat "$T_TMP"/race.* | grep -c "^$1" || true; }

t_check "describe shows the URL, not the key" bash -c "[ \"\$('$STORE_TOOL' describe)\" = 'supabase $URL' ]"

# ---- the race through PostgREST: exactly one insert wins ----
race 20 "default@2026-11-27T05:15Z" 60
t_check "race: exactly one acquired (got $(count acquired))" [ "$(count acquired)" = 1 ]
t_check "race: the 19 others held (got $(count held))" [ "$(count held)" = 19 ]
t_check "race: no errors" [ "$(count error)" = 0 ]
[ "$(count error)" = 0 ] || cat "$T_TMP"/race.* | grep error | head -3 >&2
t_check "race: the 409s were the real unique constraint" bash -c "grep -q '\"status\": 409' '$T_TMP/headers.log'"
winner=$(grep -l '^acquired' "$T_TMP"/race.* | head -1); winner=${winner##*.}
tool finish "default@2026-11-27T05:15Z" "runner-$winner:$winner" done '[{"txid":"T1"}]' '{"intents":1}' >/dev/null
t_check "winner's finish succeeds" [ $? = 0 ]
race 20 "default@2026-11-27T05:15Z" 60
t_check "after done: 20 x done status=done" [ "$(cat "$T_TMP"/race.* | grep -c '^done status=done')" = 20 ]

# ---- lease expiry: one conditional PATCH wins ----
tool acquire slow-cycle default PAPER "old-runner:1" 1 >/dev/null
later=$(( $(now_ms) + 5000 ))
race 20 slow-cycle 60 TITAN_FAKE_NOW_MS=$later
t_check "expiry: exactly one taken_over (got $(count taken_over))" [ "$(count taken_over)" = 1 ]
t_check "expiry: the other 19 held (got $(count held))" [ "$(count held)" = 19 ]
new_holder=$(tool get slow-cycle | sed -E 's/.* holder=([^ ]+) .*/\1/')
out=$(tool finish slow-cycle "old-runner:1" done '[]'); rc=$?
t_check "late finish by the old holder: conflict (exit $rc)" [ "$rc" = 3 ]
t_check "late finish names the new holder" bash -c "echo '$out' | grep -q 'now held by $new_holder'"
t_check "late finish changed nothing" bash -c "'$STORE_TOOL' get slow-cycle | grep -q 'status=running holder=$new_holder '"

# ---- SIGKILLed holder ----
tool hold killed-cycle default LIVE "victim:9" 2 60 >"$T_TMP/victim.out" 2>&1 &
victim=$!; T_PIDS+=("$victim")
for _ in $(seq 100); do grep -q acquired "$T_TMP/victim.out" && break; sleep 0.05; done
tool orders killed-cycle "victim:9" '[{"cl_ord_id":"abc123"}]' >/dev/null
kill -9 "$victim"; wait "$victim" 2>/dev/null
out=$(tool acquire killed-cycle default LIVE "next:1" 60)
t_check "right after SIGKILL: held ($out)" bash -c "echo '$out' | grep -q '^held holder=victim:9'"
sleep 2.2
out=$(tool acquire killed-cycle default LIVE "next:1" 60)
t_check "after the lease: taken over with the victim's orders ($out)" bash -c "echo '$out' | grep -q '^taken_over previous=victim:9 .*abc123'"
tool finish killed-cycle "victim:9" failed >/dev/null; t_check "victim's late finish rejected" [ $? = 3 ]
tool finish killed-cycle "next:1" in_doubt '[{"cl_ord_id":"abc123","status":"unknown"}]' >/dev/null
out=$(tool acquire killed-cycle default LIVE "third:1" 60)
t_check "in_doubt is done for the lock ($out)" bash -c "echo '$out' | grep -q '^done status=in_doubt'"
t_check "in_doubt findable" bash -c "'$STORE_TOOL' list 10 in_doubt | grep -q 'rows=1'"
tool resolve killed-cycle done '[{"cl_ord_id":"abc123","status":"filled"}]' reconciled >/dev/null
t_check "resolved once" [ $? = 0 ]
tool resolve killed-cycle done >/dev/null; t_check "resolved twice: conflict" [ $? = 3 ]

# ---- ledger, state, control, named locks through PostgREST ----
t_check "seeded" bash -c "[ \"\$('$STORE_TOOL' balances s1 10000)\" = 'USD=10000' ]"
tool fill s1 c1 ord-1 buy 0.1 50000 13 0 >/dev/null; t_check "fill via rpc" [ $? = 0 ]
tool fill s1 c1 ord-1 buy 0.1 50000 13 0 >/dev/null; t_check "same order_ref twice: conflict" [ $? = 3 ]
tool fill s1 c1 ord-2 buy 1 50000 13 0 >/dev/null; t_check "overspend refused" [ $? = 3 ]
t_check "balances after" bash -c "[ \"\$('$STORE_TOOL' balances s1 10000)\" = 'USD=4987 XBT=0.1' ] && '$STORE_TOOL' fills s1 | grep -q 'fills=1'"
tool fill s1 c2 ord-3 sell 0.05 60000 7.8 492.2 >/dev/null
t_check "pnl since" bash -c "[ \"\$('$STORE_TOOL' pnl s1 $(( $(now_ms) - 3600000 )))\" = 'pnl=492.2' ]"
tool state-set s1 last '{"ema":[1.5,2]}' >/dev/null
t_check "state round trip" bash -c "'$STORE_TOOL' state-get s1 last | grep -q '\"ema\"'"
tool state-set s1 last '"text"' >/dev/null
t_check "a JSON string stays JSON" bash -c "[ \"\$('$STORE_TOOL' state-get s1 last)\" = 'value=\"text\"' ]"
# json/jsonb columns come back as stored (read as text): an empty list stays a list, escapes and
# numbers beyond a double survive
tool acquire json-cycle default PAPER "j:1" 60 >/dev/null
tool finish json-cycle "j:1" done '[]' '{"e":"\u00e9\ud83d\ude00","n":123456789012345678901234567890,"z":{}}' >/dev/null
out=$(tool get json-cycle)
t_check "JSON columns: [] stays [] ($out)" bash -c "echo \"\$1\" | grep -qF 'orders=[] '" _ "$out"
t_check "JSON columns: the decision as PostgreSQL keeps it ($out)" bash -c "echo \"\$1\" | grep -qF 'decision={\"e\": \"é😀\", \"n\": 123456789012345678901234567890, \"z\": {}} '" _ "$out"
t_run halt on; t_rc "halt on via Supabase" 0; t_grep "halt names the store URL" "supabase $URL" "$T_OUT"
t_check "engine view: halted" bash -c "[ \"\$('$STORE_TOOL' halted)\" = 'halted=1' ]"
t_run halt off; t_run halt status; t_grep "halt status off" "halt: off" "$T_OUT"
t_run locks list; t_rc "locks list via Supabase" 0; t_grep "list shows cycles" "slow-cycle" "$T_OUT"
t_run locks list --json
t_check "--json via Supabase" "$PY" -c "import json; rows=json.load(open('$T_OUT')); assert any(r['cycle_id']=='killed-cycle' and r['status']=='done' for r in rows)"
t_run locks release slow-cycle; t_rc "release of a live cycle refused" 1
t_run locks release slow-cycle --force; t_rc "forced release" 0
tool get slow-cycle >/dev/null; t_check "released row gone" [ $? = 4 ]
mkdir -p "$T_TMP/lua"; cp "$ROOT/tests/lua/spec.lua" "$ROOT/tests/lua/net/lock_spec.lua" "$T_TMP/lua/"
tool lock taken "other-runner:1" 3600 >/dev/null; tool lock stale "other-runner:1" 1 >/dev/null
sleep 1.1
t_spec "$T_TMP/lua/lock_spec.lua" lock_supabase normal

# ---- capsules through PostgREST: upsert, read, list by range, pruned by the schema's trigger ----
T0=1794960000000 DAY=86400000
tool capsule-put "s@1" s $T0 $((T0 + 2 * DAY)) QUFB >/dev/null; t_check "capsule put" [ $? = 0 ]
tool capsule-put "s@2" s $((T0 + DAY)) $((T0 + 3 * DAY)) QkJC >/dev/null
tool capsule-put "o@1" o $((T0 + DAY)) $((T0 + 3 * DAY)) Q0ND >/dev/null
tool capsule-put "s@1" s $T0 $((T0 + 2 * DAY)) WFla >/dev/null; t_check "a second capsule of a cycle replaces it" [ $? = 0 ]
t_check "capsule get" bash -c "[ \"\$('$STORE_TOOL' capsule-get s@1)\" = 'cycle=s@1 strategy=s recorded=$T0 expires=$((T0 + 2 * DAY)) capsule=WFla' ]"
t_check "capsule list of a strategy" bash -c "[ \"\$('$STORE_TOOL' capsule-list s | head -1)\" = 's@1 s@2' ]"
t_check "capsule list by range" bash -c "[ \"\$('$STORE_TOOL' capsule-list - $((T0 + DAY)) $((T0 + DAY + 1)) | head -1)\" = 'o@1 s@2' ]"
tool capsule-put "s@9" s $((T0 + 2 * DAY + 1)) $((T0 + 9 * DAY)) TExM >/dev/null
tool capsule-get "s@1" >"$T_TMP/pruned.out"; t_check "a capsule recorded after s@1 expired pruned it" [ $? = 4 ]
t_grep "pruned: says expired" "expired" "$T_TMP/pruned.out"
t_check "the others stay" bash -c "[ \"\$('$STORE_TOOL' capsule-list | head -1)\" = 'o@1 s@2 s@9' ]"
# ---- notifications: claimed once through PostgREST (the real unique constraint), recorded ----
rm -f "$T_TMP"/race.* "$T_TMP/go"
for i in $(seq 1 10); do
  "$STORE_TOOL" --wait-file "$T_TMP/go" notify-claim "s1@2026-11-27T05:15Z:failed" s1 "s1@2026-11-27T05:15Z" failed \
    >"$T_TMP/race.$i" 2>&1 &
done
sleep 0.3; touch "$T_TMP/go"; wait_racers
t_check "notify claim race: exactly one ok (got $(count ok))" [ "$(count ok)" = 1 ]
t_check "notify claim race: 9 conflicts (got $(count conflict))" [ "$(count conflict)" = 9 ]
tool notify-record "s1@2026-11-27T05:15Z:failed" '{"slack":{"ok":false,"status":500}}' >/dev/null
t_check "notify record via PATCH" [ $? = 0 ]
t_check "the record keeps the result" bash -c "[ \"\$(\"$PGBIN/psql\" -h '$PGHOST' -p $PGPORT -U postgres -d postgres -Atc \"select result->'slack'->>'status' from notifications\")\" = 500 ]"
tool notify-record nothing-claimed '{}' >/dev/null; t_check "notify record of an unclaimed key: not found" [ $? = 4 ]
psql_run -c "alter table notifications rename to notifications_gone" >/dev/null
out=$(tool notify-claim k s1 - daily); rc=$?
t_check "claim without the table: a store error naming the schema ($out)" bash -c "[ $rc = 1 ] && echo '$out' | grep -q 'schema.sql'"
psql_run -c "alter table notifications_gone rename to notifications" >/dev/null

# ---- key headers: sb_secret_ in apikey only; a JWT also as Bearer ----
t_check "sb_secret_: every request had the right apikey" bash -c "! grep -q '\"apikey_ok\": false' '$T_TMP/headers.log'"
t_check "sb_secret_: no Authorization header ever" bash -c "! grep -q '\"authorization\": \"bearer\"' '$T_TMP/headers.log' && grep -q '\"authorization\": \"none\"' '$T_TMP/headers.log'"
: >"$T_TMP/headers.log"
SUPABASE_KEY=$JWT_KEY tool acquire jwt-cycle default PAPER jwt:1 60 >/dev/null; t_check "JWT key works" [ $? = 0 ]
SUPABASE_KEY=$JWT_KEY tool list >/dev/null
t_check "JWT: apikey and Authorization: Bearer on every request" bash -c "[ \$(grep -c '\"apikey_ok\": true, \"authorization\": \"bearer\", \"authorization_ok\": true' '$T_TMP/headers.log') = \$(wc -l <'$T_TMP/headers.log') ] && [ \$(wc -l <'$T_TMP/headers.log') -ge 2 ]"

# ---- faults: not acquired, says what and where, never the key ----
: >"$T_TMP/all-outputs"
fault_case() { # NAME EXPECTED-TEXT [env...] -- acquire must fail with exit 1 and mention EXPECTED and the URL
  local name=$1 want=$2; shift 2
  local out; out=$(env "$@" "$STORE_TOOL" acquire "fault-$name" default PAPER f:1 60 2>&1); local rc=$?
  echo "$out" >>"$T_TMP/all-outputs"
  t_check "$name: not acquired (exit $rc: $out)" [ "$rc" = 1 ]
  t_check "$name: says '$want' ($out)" bash -c "echo \"\$1\" | grep -qF -- \"\$2\"" _ "$out" "$want"
}
dead=$(t_free_port)
fault_case unreachable "http://127.0.0.1:$dead/rest/v1/execution_logs" SUPABASE_URL=http://127.0.0.1:$dead
fault_case wrong-key "HTTP 401" SUPABASE_KEY=sb_secret_WRONGkey
fault_case wrong-key-url "$URL/rest/v1/execution_logs" SUPABASE_KEY=sb_secret_WRONGkey
fault_case wrong-jwt "check SUPABASE_KEY" SUPABASE_KEY=eyJ.WRONG.jwt
echo 503 >"$T_TMP/fault"; fault_case http-503 "HTTP 503"
echo html500 >"$T_TMP/fault"; fault_case http-500-html "HTTP 500"
echo malformed >"$T_TMP/fault"; fault_case malformed "malformed response body"
echo malformed >"$T_TMP/fault"; out=$(tool list 2>&1); echo "$out" >>"$T_TMP/all-outputs"
t_check "malformed list body: error, not an empty list ($out)" bash -c "echo '$out' | grep -q '^error: .*malformed'"
t_run locks list; t_rc "locks list on a malformed body" 1; cat "$T_OUT" "$T_ERR" >>"$T_TMP/all-outputs"
# rows that parse as JSON but lack their columns: every reader refuses the whole answer
echo badrows >"$T_TMP/fault"
for read in "fills fault-rows" "state-list fault-rows" "balances fault-rows 100" "list"; do
  # shellcheck disable=SC2086 # the words are the tool's arguments
  out=$("$STORE_TOOL" $read 2>&1); rc=$?; echo "$out" >>"$T_TMP/all-outputs"
  t_check "rows without their columns ($read): exit 1, not a partial read ($out)" [ "$rc" = 1 ]
  t_check "rows without their columns ($read): says malformed ($out)" bash -c "echo \"\$1\" | grep -q 'malformed'" _ "$out"
  t_check "rows without their columns ($read): names the column ($out)" bash -c "echo \"\$1\" | grep -q \"row 1: column '[a-z_]*' is missing\"" _ "$out"
done
echo 503 >"$T_TMP/fault"; t_run halt on; t_rc "halt on with the store down" 1
t_grep "halt failure names the URL" "$URL/rest/v1/control" "$T_ERR"; cat "$T_OUT" "$T_ERR" >>"$T_TMP/all-outputs"
rm -f "$T_TMP/fault"
SUPABASE_KEY=sb_secret_WRONGkey t_run locks list; t_rc "locks list with a wrong key" 1
t_grep "locks list says 401" "HTTP 401" "$T_ERR"; cat "$T_OUT" "$T_ERR" >>"$T_TMP/all-outputs"
fault_case http-url "not like https://" SUPABASE_URL=http://example.com
fault_case publishable "publishable key" SUPABASE_KEY=sb_publishable_abc
fault_case newline-key "control character" "SUPABASE_KEY=sb_secret_a
b"
# a project without the schema: PostgREST 12 answers 404 PGRST205, and the error says what to apply
psql_run -c "create database noschema" >/dev/null 2>&1
EMPTY_PORT=$(t_free_port)
FAKE_SUPABASE_KEYS="$SECRET_KEY" "$PY" "$ROOT/tests/fakes/postgrest_fake.py" --port "$EMPTY_PORT" \
  --pg-host "$PGHOST" --pg-port "$PGPORT" --pg-db noschema >"$T_TMP/fake-empty.out" 2>&1 &
T_PIDS+=($!)
t_check "postgrest fake on an empty database up" t_wait_port "$EMPTY_PORT"
fault_case no-schema "404 [PGRST205] Could not find the table 'public.execution_logs'" SUPABASE_URL=http://127.0.0.1:$EMPTY_PORT
fault_case no-schema-advice "is examples/supabase/schema.sql applied?" SUPABASE_URL=http://127.0.0.1:$EMPTY_PORT
t_check "no fault case touched the database" bash -c "'$STORE_TOOL' list 100 | grep -q 'rows=' && ! '$STORE_TOOL' list 100 | grep -q 'fault-'"
t_check "no silent SQLite fallback" [ ! -e "$TITAN_DB" ]

# ---- the planted keys never appear in any output or log ----
cat "$T_TMP"/race.* "$T_TMP"/out.* "$T_TMP"/err.* "$T_TMP/victim.out" >>"$T_TMP/all-outputs" 2>/dev/null
for k in "$SECRET_KEY" "$JWT_KEY" "PLANTEDkey" "PLANTEDsig"; do
  t_nogrep "key never printed" "$k" "$T_TMP/all-outputs" "$T_TMP/blackbox.log" "$T_TMP/headers.log"
done
t_check "the blackbox recorded the store requests" grep -q '"ev":"http.request"' "$T_TMP/blackbox.log"

t_finish
