#!/usr/bin/env bash
# Recovery and --retry on the Supabase store (issue 13, defects 2 and 8), end to end: a real
# PostgreSQL behind the PostgREST fake, the loopback fake Kraken, `titan-host run` in LIVE.
# A run killed -9 after sending is reconciled by the next run in a later slot before anything
# trades; an expired running row is taken over by compare-and-set (never a live runner's); a
# failed slot that sent nothing is re-run with --retry, one that sent is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"
. "$(dirname "$0")/pg_lib.sh"

pg_python
pg_start
psql_q() { psql_run -At -c "$1"; }
psql_run -f "$ROOT/examples/supabase/schema.sql" >"$T_TMP/schema.log" 2>&1
t_check "schema applied" [ $? = 0 ]
SB_PORT=$(t_free_port)
FAKE_SUPABASE_KEYS="${R_SECRETS[SUPABASE_KEY]}" "$PY" "$ROOT/tests/fakes/postgrest_fake.py" --port "$SB_PORT" \
  --pg-host "$PGHOST" --pg-port "$PGPORT" >"$T_TMP/postgrest.out" 2>&1 &
T_PIDS+=($!)
t_check "postgrest fake up" t_wait_port "$SB_PORT"
r_start_kraken
export SYSTEM_MODE=LIVE SUPABASE_URL=http://127.0.0.1:$SB_PORT SUPABASE_KEY=${R_SECRETS[SUPABASE_KEY]}
export TITAN_DB=$T_TMP/must-not-exist.db TITAN_BLACKBOX=$T_TMP/blackbox.log
BALANCES='"balances": {"ZUSD": "10000.0000", "XXBT": "0.0000000000"}'
r_kctl "{\"reset\": true, $BALANCES}"
BUY=$(r_strategy sb_buy 'return { { side = "buy", type = "market", volume = 0.0001, reason = "supabase e2e" } }')
PASS_VALIDATE='{"method": "AddOrder", "kind": "warning", "warning": "WGeneral:e2e"}'
s_status() { psql_q "select status from execution_logs where cycle_id='$1'"; }
s_order() { psql_q "select orders->$2->>'$3' from execution_logs where cycle_id='$1'"; }

# ---- the issue's reproduction on Supabase: kill -9 after sending, run again 15 minutes later ----------
cid="sb_buy@$(r_slot_iso 1)"; cl=$(r_cl_ord_id "$cid" 1)
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "stall", "seconds": 20, "after_record": true}'
TITAN_FAKE_NOW_MS=$(r_now 1) "$TITAN_BIN" run "$BUY" >"$T_TMP/bg.out" 2>"$T_TMP/bg.err" </dev/null &
bg=$!
for _ in $(seq 100); do [ "$(r_kreal_addorders "$cl")" -ge 1 ] && break; sleep 0.1; done
sleep 3; kill -9 "$bg"; wait "$bg" 2>/dev/null
R_OUTPUTS+=("$T_TMP/bg.out" "$T_TMP/bg.err")
r_eq "supabase kill -9: the row is left running" "$(s_status "$cid")" running
r_eq "supabase kill -9: its order sending" "$(s_order "$cid" 0 state)" sending
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 2) r_run run "$BUY"
t_rc "supabase next slot: exit 0" 0
r_eq "supabase next slot: the lookup comes first" "$(r_kmethods "$from" | cut -d' ' -f1)" "OpenOrders(cl_ord_id=$cl)"
r_eq "supabase next slot: the dead run's row resolved" "$(s_status "$cid")" done
r_eq "supabase next slot: with Kraken's txid" "$(s_order "$cid" 0 txid)" "$(r_ktxid "$cl")"
r_eq "supabase next slot: never placed twice" "$(r_kreal_addorders "$cl")" 1
r_eq "supabase next slot: then trades" "$(s_status "sb_buy@$(r_slot_iso 2)")" done

# ---- lookups failing: nothing trades, the row stays on record, then resolves --------------------------
cid="sb_buy@$(r_slot_iso 3)"; cl=$(r_cl_ord_id "$cid" 1)
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "stall", "seconds": 20}'
TITAN_FAKE_NOW_MS=$(r_now 3) "$TITAN_BIN" run "$BUY" >"$T_TMP/bg2.out" 2>"$T_TMP/bg2.err" </dev/null &
bg=$!
for _ in $(seq 100); do [ "$(r_kreal_addorders "$cl")" -ge 1 ] && break; sleep 0.1; done
kill -9 "$bg"; wait "$bg" 2>/dev/null
R_OUTPUTS+=("$T_TMP/bg2.out" "$T_TMP/bg2.err")
r_kctl '{"method": "OpenOrders", "kind": "error", "error": "EService:Unavailable", "times": -1}'
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 4) r_run run "$BUY"
t_rc "supabase, lookup failing: exit 3" 3
r_eq "supabase, lookup failing: no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0
r_eq "supabase, lookup failing: the dead run's row in doubt" "$(s_status "$cid")" in_doubt
r_contains "supabase, lookup failing: its order kept" "$(psql_q "select orders::text from execution_logs where cycle_id='$cid'")" "$cl"
r_kctl "{\"reset\": true, $BALANCES}"
TITAN_FAKE_NOW_MS=$(r_now 5) r_run run "$BUY"
t_rc "supabase, lookup works again: exit 0" 0
r_eq "supabase, lookup works again: resolved" "$(s_status "$cid")" done
r_eq "supabase, lookup works again: not placed" "$(s_order "$cid" 0 state)" not_placed

# ---- a live runner's row is never taken over ---------------------------------------------------------
cid="sb_buy@$(r_slot_iso 6)"
psql_q "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until, orders, host_version)
        values ('$cid', 'sb_buy', 'LIVE', 'running', 'alive:1', '$(r_iso $((R_DAY0 + 6 * 900000)))',
                '$(r_iso $((R_DAY0 + 20 * 900000)))', '[{\"index\":1,\"cl_ord_id\":\"x-1\",\"state\":\"sending\"}]', 'test')" >/dev/null
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 7) r_run run "$BUY"
t_rc "supabase, earlier runner alive with an order in flight: exit 3" 3
r_eq "supabase, earlier runner alive: untouched" "$(psql_q "select status || ' ' || holder from execution_logs where cycle_id='$cid'")" "running alive:1"
r_eq "supabase, earlier runner alive: no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0
psql_q "delete from execution_logs where cycle_id='$cid'" >/dev/null

# ---- --retry on Supabase ------------------------------------------------------------------------------
cid="sb_buy@$(r_slot_iso 8)"
r_kctl '{"method": "AddOrder", "kind": "error", "error": "EOrder:Insufficient funds"}'
now=$(r_now 8)
TITAN_FAKE_NOW_MS=$now r_run run "$BUY"
t_rc "supabase retry: refused at validate, failed" 1
TITAN_FAKE_NOW_MS=$now r_run run "$BUY" --retry
t_rc "supabase retry: re-run (exit 0)" 0
r_eq "supabase retry: done" "$(s_status "$cid")" done
TITAN_FAKE_NOW_MS=$now r_run run "$BUY" --retry
t_rc "supabase retry: a done slot is refused (exit 2)" 2
# ---- capsules on Supabase: every cycle that decided keeps one, a retried slot keeps its last ----------------
r_eq "supabase capsules: one per cycle that decided" "$(psql_q "select count(*) from cycle_capsules where cycle_id in ('sb_buy@$(r_slot_iso 2)', 'sb_buy@$(r_slot_iso 8)')")" 2
r_run replay "sb_buy@$(r_slot_iso 8)"
t_rc "supabase: replay of the retried slot from the store" 0
t_grep "supabase: it reproduces the retry's decision" "REPRODUCED" "$T_OUT"
psql_q "select capsule from cycle_capsules" | python3 -c 'import base64, gzip, sys
for line in sys.stdin:
    if line.strip(): print(gzip.decompress(base64.b64decode(line.strip())).decode("utf-8", "replace"))' >"$T_TMP/capsules.log"
t_check "supabase capsules decoded for the leak check" grep -q '"capsule":1' "$T_TMP/capsules.log"
t_check "supabase: never fell back to SQLite" test ! -e "$TITAN_DB"

r_leak_check
t_finish
