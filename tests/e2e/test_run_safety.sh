#!/usr/bin/env bash
# Money safety of `titan-host run` under faults (issue 13, part A), against the loopback fake Kraken:
# odd AddOrder/QueryOrders answers after a send never lose the order (in_doubt or looked up); a run
# killed after sending is reconciled by the next run in a later slot before anything trades; a
# closed console and SIGTERM/SIGINT never cut a send from its record; Kraken's odd envelopes
# (empty E-string, non-string errors, negative balances); `run --retry` of a failed slot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

r_start_kraken
export SYSTEM_MODE=LIVE TITAN_DB=$T_TMP/safety.db TITAN_BLACKBOX=$T_TMP/blackbox.log
BALANCES='"balances": {"ZUSD": "10000.0000", "XXBT": "0.0000000000"}'
r_kctl "{\"reset\": true, $BALANCES}"
BUY=$(r_strategy buy_sf 'return { { side = "buy", type = "market", volume = 0.0001, reason = "safety e2e" } }')
TWO=$(r_strategy two_sf 'return { { side = "buy", type = "market", volume = 0.0001 }, { side = "buy", type = "market", volume = 0.0002 } }')
PASS_VALIDATE='{"method": "AddOrder", "kind": "warning", "warning": "WGeneral:e2e"}'

# s_bg NOW ARGS...: titan-host in the background with the clock pinned at NOW; sets BG (its pid).
s_bg() {
  local now=$1; shift
  R_RUNS=$((R_RUNS + 1))
  T_OUT=$T_TMP/run$R_RUNS.out; T_ERR=$T_TMP/run$R_RUNS.err
  R_OUTPUTS+=("$T_OUT" "$T_ERR")
  TITAN_FAKE_NOW_MS=$now "$TITAN_BIN" "$@" >"$T_OUT" 2>"$T_ERR" </dev/null &
  BG=$!
}
# s_wait_real_addorder CL [N]: waits (up to 10 s) until the fake received N real AddOrders with CL.
s_wait_real_addorder() {
  for _ in $(seq 100); do [ "$(r_kreal_addorders "$1")" -ge "${2:-1}" ] && return 0; sleep 0.1; done
  return 1
}
s_state() { r_json_get "$1" orders "d[$2].get('state')"; }

# ---- defect 1: an odd AddOrder result after the send never loses the order ------------------------------
# Not booked: the answer says nothing usable, the lookup finds nothing yet -> in doubt (exit 3); the next
# run reconciles it by cl_ord_id (absent for good: not placed) and then trades.
slot=1
for odd in '{}' '"x"' '5' 'true' 'null' '{"descr": {"order": "buy 0.0001 XBTUSD @ market"}}' '{"txid": 5}' '{"txid": []}'; do
  cid="buy_sf@$(r_slot_iso $slot)"; cl=$(r_cl_ord_id "$cid" 1)
  r_kctl "$PASS_VALIDATE"; r_kctl "{\"method\": \"AddOrder\", \"kind\": \"result\", \"result\": $odd}"
  TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$BUY"
  t_rc "odd AddOrder result $odd, not booked: exit 3 (in doubt)" 3
  r_eq "odd result $odd: row in_doubt" "$(r_status "$cid")" in_doubt
  r_eq "odd result $odd: the order is kept, in doubt" "$(s_state "$cid" 0)" in_doubt
  r_eq "odd result $odd: with its cl_ord_id" "$(r_json_get "$cid" orders 'd[0]["cl_ord_id"]')" "$cl"
  t_nogrep "odd result $odd: no internal error" "internal error" "$T_OUT" "$T_ERR"
  slot=$((slot + 1))
  from=$(r_kcalls)
  TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$BUY"
  t_rc "odd result $odd: the next run reconciles, then trades (exit 0)" 0
  r_contains "odd result $odd: looked up by cl_ord_id first" "$(r_kmethods "$from" | cut -d' ' -f1)" "OpenOrders(cl_ord_id=$cl)"
  r_eq "odd result $odd: earlier cycle resolved" "$(r_status "$cid")" done
  r_eq "odd result $odd: recorded as not placed" "$(s_state "$cid" 0)" not_placed
  slot=$((slot + 1))
done
# Booked: the lookup right after the odd answer finds it, so its fate is known: done, with the txid.
for odd in '{}' '{"txid": 5}' 'null'; do
  cid="buy_sf@$(r_slot_iso $slot)"; cl=$(r_cl_ord_id "$cid" 1)
  r_kctl "$PASS_VALIDATE"; r_kctl "{\"method\": \"AddOrder\", \"kind\": \"result\", \"result\": $odd, \"after_record\": true}"
  TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$BUY"
  t_rc "odd AddOrder result $odd, booked: exit 0 (found by cl_ord_id)" 0
  r_eq "odd result $odd, booked: row done" "$(r_status "$cid")" done
  r_eq "odd result $odd, booked: txid recorded" "$(r_json_get "$cid" orders 'd[0].get("txid")')" "$(r_ktxid "$cl")"
  r_eq "odd result $odd, booked: one order" "$(r_korders_with "$cl")" 1
  slot=$((slot + 1))
done
# QueryOrders answering a number after a clean placement: the order is placed (txid known), the
# details are simply missing.
for odd in '5' '"x"' '{"OXXXXX-XXXXX-XXXXXX": 7}' 'null'; do
  cid="buy_sf@$(r_slot_iso $slot)"; cl=$(r_cl_ord_id "$cid" 1)
  r_kctl "{\"method\": \"QueryOrders\", \"kind\": \"result\", \"result\": $odd}"
  TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$BUY"
  t_rc "QueryOrders result $odd: exit 0" 0
  r_eq "QueryOrders result $odd: row done" "$(r_status "$cid")" done
  r_eq "QueryOrders result $odd: txid from AddOrder" "$(r_json_get "$cid" orders 'd[0].get("txid")')" "$(r_ktxid "$cl")"
  r_eq "QueryOrders result $odd: state placed" "$(s_state "$cid" 0)" placed
  slot=$((slot + 1))
done

# ---- defect 2: killed after sending, the next run 15 minutes later reconciles first ----------------------
# The issue's reproduction: AddOrder stalls 20 s after booking, kill -9 after 3 s, run again in the next slot.
cid="buy_sf@$(r_slot_iso 30)"; cl=$(r_cl_ord_id "$cid" 1)
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "stall", "seconds": 20, "after_record": true}'
s_bg "$(r_now 30)" run "$BUY"
t_check "kill -9: the real AddOrder reached the fake" s_wait_real_addorder "$cl"
sleep 3; kill -9 "$BG"; wait "$BG" 2>/dev/null
r_eq "kill -9: the row is left running" "$(r_status "$cid")" running
r_eq "kill -9: with the order sending" "$(s_state "$cid" 0)" sending
r_eq "kill -9: Kraken holds the order" "$(r_korders_with "$cl")" 1
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 31) r_run run "$BUY"
t_rc "next slot after kill -9: exit 0" 0
r_eq "next slot: looks the dead run's order up before anything else" "$(r_kmethods "$from" | cut -d' ' -f1)" "OpenOrders(cl_ord_id=$cl)"
t_check "next slot: no AddOrder before the lookup" python3 -c "import sys; m = sys.argv[1].split(); sys.exit(0 if m.index([x for x in m if x.startswith('AddOrder')][0]) > m.index('OpenOrders(cl_ord_id=$cl)') else 1)" "$(r_kmethods "$from")"
r_eq "next slot: the dead run's row resolved" "$(r_status "$cid")" done
r_eq "next slot: its order has Kraken's txid" "$(r_json_get "$cid" orders 'd[0].get("txid")')" "$(r_ktxid "$cl")"
r_eq "next slot: and Kraken's state" "$(s_state "$cid" 0)" closed
r_contains "next slot: the row says how it was closed" "$(r_sql "select error from execution_logs where cycle_id='$cid'")" "lease expired"
r_eq "next slot: the order was not placed twice" "$(r_kreal_addorders "$cl")" 1
r_eq "next slot: then it trades" "$(r_status "buy_sf@$(r_slot_iso 31)")" done
t_grep "next slot: blackbox recovery.abandoned" '"ev":"recovery.abandoned"' "$TITAN_BLACKBOX"

# killed before Kraken booked anything, lookups failing: nothing trades (exit 3) until it can be looked up
cid="buy_sf@$(r_slot_iso 32)"; cl=$(r_cl_ord_id "$cid" 1)
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "stall", "seconds": 20}'
s_bg "$(r_now 32)" run "$BUY"
t_check "kill -9 before booking: the real AddOrder reached the fake" s_wait_real_addorder "$cl"
kill -9 "$BG"; wait "$BG" 2>/dev/null
r_kctl '{"method": "OpenOrders", "kind": "error", "error": "EService:Unavailable", "times": -1}'
for slot in 33 34; do
  from=$(r_kcalls)
  TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$BUY"
  t_rc "dead run, lookup failing (slot $slot): exit 3" 3
  r_eq "dead run, lookup failing (slot $slot): no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0
  r_eq "dead run, lookup failing (slot $slot): no market read" "$(r_kmethods "$from" | grep -c Ticker)" 0
  r_contains "dead run, lookup failing (slot $slot): the order is still on record" "$(r_sql "select orders from execution_logs where cycle_id='$cid'")" "$cl"
  r_contains "dead run, lookup failing (slot $slot): the row says why" "$(r_sql "select error from execution_logs where cycle_id='buy_sf@$(r_slot_iso $slot)'")" "in doubt"
done
r_kctl "{\"reset\": true, $BALANCES}"
TITAN_FAKE_NOW_MS=$(r_now 35) r_run run "$BUY"
t_rc "dead run, lookup works again: exit 0" 0
r_eq "dead run: resolved" "$(r_status "$cid")" done
r_eq "dead run: its order never reached the book: not placed" "$(s_state "$cid" 0)" not_placed
r_eq "dead run: then trades" "$(r_status "buy_sf@$(r_slot_iso 35)")" done
r_eq "nothing left running or in doubt" "$(r_sql "select count(*) from execution_logs where status in ('running', 'in_doubt')")" 0

# an earlier run that still holds a live lease with an order in flight: nothing trades beside it
cid="buy_sf@$(r_slot_iso 36)"; cl=$(r_cl_ord_id "$cid" 1)
r_sql "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until, orders, host_version)
       values ('$cid', 'buy_sf', 'LIVE', 'running', 'slow-runner:1', '$(r_iso $((R_DAY0 + 36 * 900000)))',
               '$(r_iso $((R_DAY0 + 40 * 900000)))', '[{\"index\":1,\"cl_ord_id\":\"$cl\",\"state\":\"sending\"}]', 'test')"
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 37) r_run run "$BUY"
t_rc "earlier run alive with an order in flight: exit 3" 3
r_eq "earlier run alive: no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0
r_eq "earlier run alive: its row untouched" "$(r_sql "select status || ' ' || holder from execution_logs where cycle_id='$cid'")" "running slow-runner:1"
r_sql "update execution_logs set lease_until='$(r_iso $((R_DAY0 + 36 * 900000 + 1000)))' where cycle_id='$cid'"
TITAN_FAKE_NOW_MS=$(r_now 38) r_run run "$BUY"
t_rc "its lease expired: reconciled, then trades (exit 0)" 0
r_eq "its lease expired: resolved" "$(r_status "$cid")" done
# a PAPER run that died before planning: its row is closed as failed, nothing blocks trading
PAPERS=$(r_strategy paper_sf 'return { { side = "buy", type = "market", quote = 20 } }')
r_sql "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until, host_version)
       values ('paper_sf@$(r_slot_iso 39)', 'paper_sf', 'PAPER', 'running', 'dead-runner:2', '$(r_iso $((R_DAY0 + 39 * 900000)))',
               '$(r_iso $((R_DAY0 + 39 * 900000 + 1000)))', 'test')"
SYSTEM_MODE=PAPER TITAN_FAKE_NOW_MS=$(r_now 40) r_run run "$PAPERS"
t_rc "dead PAPER run without orders: exit 0" 0
r_eq "dead PAPER run: closed as failed" "$(r_status "paper_sf@$(r_slot_iso 39)")" failed
r_eq "dead PAPER run: the new cycle traded" "$(r_fills paper_sf)" 1

# ---- defect 3: the console going away and SIGTERM/SIGINT ------------------------------------------------
export SYSTEM_MODE=PAPER
PIPE=$(r_strategy pipe_sf 'return { { side = "buy", type = "market", quote = 20 } }')
TITAN_FAKE_NOW_MS=$(r_now 41) "$TITAN_BIN" run "$PIPE" 2>"$T_TMP/pipe.err" </dev/null | head -1 >"$T_TMP/pipe.out"
rc=${PIPESTATUS[0]}
r_eq "run | head -1: exit 0 (no SIGPIPE)" "$rc" 0
r_eq "run | head -1: the cycle recorded" "$(r_status "pipe_sf@$(r_slot_iso 41)")" done
t_grep "run | head -1: head got the banner" "titan-host" "$T_TMP/pipe.out"
t_check "run | head -1: the blackbox has cycle.end" grep -q "\"ev\":\"cycle.end\",\"cycle\":\"pipe_sf@$(r_slot_iso 41)\"" "$TITAN_BLACKBOX"
# stdout and stderr both closed before the first byte (deterministic EPIPE)
closed_run() {
  python3 - "$@" <<'PY'
import os, subprocess, sys
r1, w1 = os.pipe(); r2, w2 = os.pipe()
os.close(r1); os.close(r2)
p = subprocess.Popen(sys.argv[1:], stdout=w1, stderr=w2, stdin=subprocess.DEVNULL)
os.close(w1); os.close(w2)
sys.exit(p.wait() & 0xff)
PY
}
TITAN_FAKE_NOW_MS=$(r_now 42) closed_run "$TITAN_BIN" run "$PIPE"
r_eq "stdout and stderr closed: exit 0" "$?" 0
r_eq "stdout and stderr closed: the cycle recorded" "$(r_status "pipe_sf@$(r_slot_iso 42)")" done
r_eq "stdout and stderr closed: and traded" "$(r_fills pipe_sf)" 2

export SYSTEM_MODE=LIVE
# SIGTERM while the first of two orders is being sent: that send completes and is recorded, the
# second is not sent, the row is recorded (failed: the plan did not complete), exit 1
cid="two_sf@$(r_slot_iso 43)"; cl1=$(r_cl_ord_id "$cid" 1); cl2=$(r_cl_ord_id "$cid" 2)
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "stall", "seconds": 2, "after_record": true}'
s_bg "$(r_now 43)" run "$TWO"
t_check "SIGTERM mid-send: the send is under way" s_wait_real_addorder "$cl1"
kill -TERM "$BG"; wait "$BG"; T_RC=$?
t_rc "SIGTERM mid-send: exit 1" 1
r_eq "SIGTERM mid-send: row failed" "$(r_status "$cid")" failed
r_eq "SIGTERM mid-send: the first order recorded with its txid" "$(r_json_get "$cid" orders 'd[0].get("txid")')" "$(r_ktxid "$cl1")"
r_eq "SIGTERM mid-send: the second not sent" "$(s_state "$cid" 1)" not_sent
r_eq "SIGTERM mid-send: Kraken never saw the second" "$(r_kreal_addorders "$cl2")" 0
r_contains "SIGTERM mid-send: the row says why" "$(r_sql "select error from execution_logs where cycle_id='$cid'")" "SIGTERM"
# SIGTERM during a send whose fate stays unknown: in doubt, exit 3, the second not sent
cid="two_sf@$(r_slot_iso 44)"; cl1=$(r_cl_ord_id "$cid" 1)
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "stall", "seconds": 2}'
s_bg "$(r_now 44)" run "$TWO"
t_check "SIGTERM, fate unknown: the send is under way" s_wait_real_addorder "$cl1"
kill -TERM "$BG"; wait "$BG"; T_RC=$?
t_rc "SIGTERM, fate unknown: exit 3" 3
r_eq "SIGTERM, fate unknown: row in_doubt" "$(r_status "$cid")" in_doubt
r_eq "SIGTERM, fate unknown: first order in doubt" "$(s_state "$cid" 0)" in_doubt
r_eq "SIGTERM, fate unknown: second not sent" "$(s_state "$cid" 1)" not_sent
TITAN_FAKE_NOW_MS=$(r_now 45) r_run run "$TWO"
t_rc "after SIGTERM: the next run reconciles (exit 0)" 0
r_eq "after SIGTERM: resolved" "$(r_status "$cid")" done
# SIGINT while the strategy runs (before any order): stops, records, sends nothing
SLOW=$(r_strategy slow_sf 'for _ = 1, 8 do titan.time.sleep_ms(1000) end
    return { { side = "buy", type = "market", volume = 0.0001 } }')
from=$(r_kcalls); t0=$(date +%s%N)
s_bg "$(r_now 46)" run "$SLOW"
sleep 1.5; kill -INT "$BG"; wait "$BG"; T_RC=$?
took=$(( ($(date +%s%N) - t0) / 1000000 ))
t_rc "SIGINT in the strategy: exit 1" 1
r_eq "SIGINT in the strategy: row failed" "$(r_status "slow_sf@$(r_slot_iso 46)")" failed
r_contains "SIGINT in the strategy: the row says why" "$(r_sql "select error from execution_logs where cycle_id='slow_sf@$(r_slot_iso 46)'")" "SIGINT"
r_eq "SIGINT in the strategy: no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0
t_check "SIGINT in the strategy: stops promptly (${took} ms)" test "$took" -lt 4000

# ---- defect 10: Kraken's odd envelopes --------------------------------------------------------------------
# an empty E-string beside a txid is not a refusal
cid="buy_sf@$(r_slot_iso 50)"; cl=$(r_cl_ord_id "$cid" 1)
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "warning", "warning": ""}'
TITAN_FAKE_NOW_MS=$(r_now 50) r_run run "$BUY"
t_rc "empty E-string with a txid: exit 0" 0
r_eq "empty E-string: the order is recorded placed" "$(r_json_get "$cid" orders 'd[0].get("txid")')" "$(r_ktxid "$cl")"
t_check "order.placed is logged with its fields" grep -qE "\"ev\":\"order.placed\".*\"cl_ord_id\":\"$cl\".*\"txid\":\"$(r_ktxid "$cl")\"" "$TITAN_BLACKBOX"
# a negative balance is never taken as the position: fail closed
r_kctl '{"balances": {"ZUSD": "10000.0000", "XXBT": "-0.5000000000"}}'
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 51) r_run run "$BUY"
t_rc "negative base balance: exit 1" 1
r_eq "negative base balance: failed" "$(r_status "buy_sf@$(r_slot_iso 51)")" failed
r_contains "negative base balance: says so" "$(r_sql "select error from execution_logs where cycle_id='buy_sf@$(r_slot_iso 51)'")" "negative"
r_eq "negative base balance: no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0
r_kctl "{\"reset\": true, $BALANCES}"
# an error that is not a string is shown as JSON, never as table: 0x...
r_kctl '{"method": "Ticker", "kind": "error", "errors": [{"code": 7}, 5]}'
TITAN_FAKE_NOW_MS=$(r_now 52) r_run run "$BUY"
t_rc "non-string Kraken error: exit 1" 1
t_nogrep "non-string Kraken error: no table address" "table: 0x" "$T_OUT" "$T_ERR" "$TITAN_BLACKBOX"
r_contains "non-string Kraken error: shown as JSON" "$(r_sql "select error from execution_logs where cycle_id='buy_sf@$(r_slot_iso 52)'")" '{"code":7}'

# ---- a failed row with orders of unknown fate (written by an older titan-host) --------------------------
# Before #13 an odd answer after AddOrder left the row failed with the order "sending" although Kraken
# had booked it. Such a row is reconciled like an in_doubt one before anything trades; it stays failed.
cid="buy_sf@$(r_slot_iso 55)"; cl=$(r_cl_ord_id "$cid" 1)
TITAN_FAKE_NOW_MS=$(r_now 55) r_run run "$BUY"
t_rc "old failed row: setup run (exit 0)" 0
tx=$(r_ktxid "$cl")
r_sql "update execution_logs set status='failed', host_version='0.0.9', error='internal error: attempt to index a nil value',
         orders='[{\"index\":1,\"cl_ord_id\":\"$cl\",\"state\":\"sending\"}]' where cycle_id='$cid'"
cid2="buy_sf@$(r_slot_iso 56)"; cl2=$(r_cl_ord_id "$cid2" 1)
r_sql "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until, finished_at, orders, error, host_version)
       values ('$cid2', 'buy_sf', 'LIVE', 'failed', 'old-runner:1', '$(r_iso $((R_DAY0 + 56 * 900000)))',
               '$(r_iso $((R_DAY0 + 56 * 900000 + 1000)))', '$(r_iso $((R_DAY0 + 56 * 900000 + 1000)))',
               '[{\"index\":1,\"cl_ord_id\":\"$cl2\",\"state\":\"in_doubt\"}]', 'internal error', '0.0.9')"
r_kctl '{"method": "OpenOrders", "kind": "error", "error": "EService:Unavailable", "times": -1}'
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 57) r_run run "$BUY"
t_rc "old failed rows, lookup failing: exit 3" 3
r_eq "old failed rows, lookup failing: no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0
r_eq "old failed rows, lookup failing: no market read" "$(r_kmethods "$from" | grep -c Ticker)" 0
r_contains "old failed rows, lookup failing: the row says why" "$(r_sql "select error from execution_logs where cycle_id='buy_sf@$(r_slot_iso 57)'")" "older titan-host"
r_kctl '{"clear_faults": true}'
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 58) r_run run "$BUY"
t_rc "old failed rows: reconciled, then trades (exit 0)" 0
first=$(r_kmethods "$from" | cut -d' ' -f1-4)
r_contains "old failed rows: the booked order is looked up first" "$first" "OpenOrders(cl_ord_id=$cl)"
r_contains "old failed rows: and the other one" "$first" "OpenOrders(cl_ord_id=$cl2)"
r_eq "old failed row: stays failed" "$(r_status "$cid")" failed
r_eq "old failed row: the booked order has Kraken's txid" "$(r_json_get "$cid" orders 'd[0].get("txid")')" "$tx"
r_eq "old failed row: and Kraken's state" "$(s_state "$cid" 0)" closed
r_contains "old failed row: the note says how" "$(r_sql "select error from execution_logs where cycle_id='$cid'")" "older titan-host"
r_eq "old failed row never booked: not placed" "$(s_state "$cid2" 0)" not_placed
r_eq "old failed rows: no order sent twice" "$(r_kreal_addorders "$cl")" 1
r_eq "old failed rows: then it trades" "$(r_status "buy_sf@$(r_slot_iso 58)")" done
TITAN_FAKE_NOW_MS=$(r_now 59) r_run run "$BUY"
r_eq "old failed rows: looked up once, not every run" "$(r_kmethods "$from" | grep -o "cl_ord_id=$cl)" | wc -l)" 2

# ---- run --retry ----------------------------------------------------------------------------------------
export SYSTEM_MODE=PAPER
FLAKY=$(r_strategy flaky_sf 'if os.getenv("E2E_FAIL") == "1" then error("flaky on purpose") end
    return { { side = "buy", type = "market", quote = 20 } }')
cid="flaky_sf@$(r_slot_iso 60)"
now=$(r_now 60)
E2E_FAIL=1 TITAN_FAKE_NOW_MS=$now r_run run "$FLAKY"
t_rc "retry: the first attempt fails (exit 1)" 1
TITAN_FAKE_NOW_MS=$now r_run run "$FLAKY"
t_rc "retry: without --retry the slot is executed already (exit 0)" 0
t_grep "retry: the message names locks list" "titan-host locks list" "$T_OUT"
t_grep "retry: and --retry" "--retry" "$T_OUT"
r_eq "retry: still failed" "$(r_status "$cid")" failed
TITAN_FAKE_NOW_MS=$now r_run run "$FLAKY" --retry
t_rc "retry: --retry re-runs a failed slot that sent nothing (exit 0)" 0
r_eq "retry: now done" "$(r_status "$cid")" done
r_eq "retry: and traded once" "$(r_fills flaky_sf)" 1
TITAN_FAKE_NOW_MS=$now r_run run "$FLAKY" --retry
t_rc "retry: --retry of a done slot is refused (exit 2)" 2
t_grep "retry: says the slot is done" "done" "$T_ERR"
r_eq "retry: still one fill" "$(r_fills flaky_sf)" 1
export SYSTEM_MODE=LIVE
# an order Kraken refused on the real AddOrder reached Kraken: no retry
cid="buy_sf@$(r_slot_iso 61)"
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "error", "error": "EOrder:Insufficient funds"}'
now=$(r_now 61)
TITAN_FAKE_NOW_MS=$now r_run run "$BUY"
t_rc "retry LIVE: AddOrder refused, failed (exit 1)" 1
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$now r_run run "$BUY" --retry
t_rc "retry LIVE: refused, an order reached Kraken (exit 2)" 2
t_grep "retry LIVE: says why" "reached Kraken" "$T_ERR"
r_eq "retry LIVE: nothing sent" "$(r_kcalls)" "$from"
r_eq "retry LIVE: still failed" "$(r_status "$cid")" failed
# refused at validate: nothing reached the book, so a retry may run
cid="buy_sf@$(r_slot_iso 62)"
r_kctl '{"method": "AddOrder", "kind": "error", "error": "EOrder:Insufficient funds"}'
now=$(r_now 62)
TITAN_FAKE_NOW_MS=$now r_run run "$BUY"
t_rc "retry LIVE: refused at validate, failed (exit 1)" 1
TITAN_FAKE_NOW_MS=$now r_run run "$BUY" --retry
t_rc "retry LIVE: a validate refusal may be retried (exit 0)" 0
r_eq "retry LIVE: done" "$(r_status "$cid")" done
r_eq "retry LIVE: one order" "$(r_korders_with "$(r_cl_ord_id "$cid" 1)")" 1

r_leak_check
t_finish
