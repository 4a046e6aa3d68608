#!/usr/bin/env bash
# `titan-host run` in LIVE mode against the loopback fake Kraken (issue 5, "Tests"): validate then
# place, a deterministic cl_ord_id stable across reruns, ambiguous failures after the order was sent
# (timeout, dropped connection, 5xx, internal error) looked up and never resent, orders in doubt
# (exit 3) reconciled first by the next run, a crashed runner's cycle taken over, secrets never printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

if ! "$TITAN_BIN" help run >/dev/null 2>&1; then
  echo "SKIP test_run_live: 'titan-host run' is not built" >&2
  t_finish; exit
fi

r_start_kraken          # accepts the planted KRAKEN_API_KEY / KRAKEN_SECRET
export SYSTEM_MODE=LIVE TITAN_DB=$T_TMP/live.db TITAN_BLACKBOX=$T_TMP/blackbox.log
BALANCES='"balances": {"ZUSD": "10000.0000", "XXBT": "0.0000000000"}'
r_kctl "{\"reset\": true, $BALANCES}"

LIVE=$(r_strategy live_rt 'return { { side = "buy", type = "market", volume = 0.0001, reason = "live e2e" } }')
TWO=$(r_strategy two_rt 'return { { side = "buy", type = "market", volume = 0.0001 }, { side = "buy", type = "market", volume = 0.0002 } }')
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
# the warning fault lets the validate call through untouched so the next fault hits the real AddOrder
PASS_VALIDATE='{"method": "AddOrder", "kind": "warning", "warning": "WGeneral:e2e"}'

# ---- 1. validate, then place ----------------------------------------------------------------------
S1=$(r_slot_iso 1); CID1="live_rt@$S1"; CL1=$(r_cl_ord_id "$CID1" 1)
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$LIVE"
t_rc "live: exit 0" 0
t_grep "live: banner says LIVE" "| LIVE |" "$T_OUT"
r_eq "live: row done" "$(r_status "$CID1")" done
r_eq "live: calls in order" "$(r_kmethods "$from")" \
  "AssetPairs Ticker Balance OpenOrders AddOrder(validate=true,cl_ord_id=$CL1) AddOrder(cl_ord_id=$CL1) QueryOrders QueryTrades"
t_check "live: cl_ord_id is a UUID (Kraken's rule)" python3 -c "import re, sys; sys.exit(0 if re.match(r'$UUID_RE', '$CL1') else 1)"
r_eq "live: one order booked with the cl_ord_id" "$(r_korders_with "$CL1")" 1
TX1=$(r_ktxid "$CL1")
r_eq "live: record has the txid" "$(r_json_get "$CID1" orders 'd[0]["txid"]')" "$TX1"
r_eq "live: record has the cl_ord_id" "$(r_json_get "$CID1" orders 'd[0]["cl_ord_id"]')" "$CL1"
r_eq "live: record has Kraken's status" "$(r_json_get "$CID1" orders 'd[0]["state"]')" closed
r_approx "live: record has the filled volume" "$(r_json_get "$CID1" orders 'd[0]["vol_exec"]')" 0.0001
t_check "live: record has the fee" python3 -c "import sys; sys.exit(0 if float('$(r_json_get "$CID1" orders 'd[0]["fee"]')') > 0 else 1)"
r_approx "live: ctx.portfolio from Kraken's balances" "$(r_json_get "$CID1" decision 'd["portfolio"]["cash"]')" 10000
t_grep "live: blackbox order.live placed" '"outcome":"placed"' "$TITAN_BLACKBOX"
t_grep "live: outcome line" "1 filled" "$T_OUT"
# the executed buy moves the cost basis kept in the strategy's state (for realized PnL and the daily-loss gate)
t_check "live: cost basis booked from Kraken's cost and fee" python3 -c "import sys; sys.exit(0 if float('$(r_sql "select value from strategy_state where strategy='live_rt' and key='titan.cost_basis.LIVE'")' or 0) > 0 else 1)"

# ---- 2. cl_ord_id stable across a rerun of the same cycle ----------------------------------------
# (run right after it, so the pinned clock only moves forward)
r_run locks release "$CID1" --force
t_rc "locks release --force" 0
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$LIVE"
t_rc "rerun of a released slot: exit 0" 0
r_contains "rerun: the same cl_ord_id is sent" "$(r_kmethods "$from")" "AddOrder(cl_ord_id=$CL1)"
# --cycle-id: derived from that id and the intent's index; deleting the row and rerunning sends the same ids
CLM1=$(r_cl_ord_id manual-e2e 1); CLM2=$(r_cl_ord_id manual-e2e 2)
t_check "two intents, two cl_ord_ids" test "$CLM1" != "$CLM2"
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$TWO" --cycle-id manual-e2e
t_rc "--cycle-id: exit 0" 0
first=$(r_kmethods "$from" | tr ' ' '\n' | grep '^AddOrder(cl_ord_id' | tr '\n' ' ')
r_eq "--cycle-id: cl_ord_ids derived from the id and index" "$first" "AddOrder(cl_ord_id=$CLM1) AddOrder(cl_ord_id=$CLM2) "
r_sql "delete from execution_logs where cycle_id='manual-e2e'"
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 1) r_run run "$TWO" --cycle-id manual-e2e
t_rc "--cycle-id rerun: exit 0" 0
r_eq "--cycle-id rerun: the same cl_ord_ids" "$(r_kmethods "$from" | tr ' ' '\n' | grep '^AddOrder(cl_ord_id' | tr '\n' ' ')" "$first"

# ---- 3. the planned orders are in the store before anything is sent (a takeover can find them)
r_kctl '{"method": "AddOrder", "kind": "stall", "seconds": 3}'
S2=$(r_slot_iso 2); CID2="live_rt@$S2"
TITAN_FAKE_NOW_MS=$(r_now 2) "$TITAN_BIN" run "$LIVE" >"$T_TMP/bg.out" 2>"$T_TMP/bg.err" </dev/null &
bg=$!
seen=""
for _ in $(seq 25); do
  seen=$(r_sql "select orders from execution_logs where cycle_id='$CID2' and status='running'")
  [ -n "$seen" ] && break
  sleep 0.1
done
wait $bg; T_RC=$?; R_OUTPUTS+=("$T_TMP/bg.out" "$T_TMP/bg.err")
r_contains "planned order recorded while sending" "$seen" "\"state\":\"sending\""
r_contains "planned order has its cl_ord_id" "$seen" "$(r_cl_ord_id "$CID2" 1)"
# ... and a validate call that fails places nothing: no second AddOrder, the order is rejected
t_rc "validate failed: exit 1, a failed cycle (nothing placed)" 1
r_eq "validate failed: order rejected at validate" "$(r_json_get "$CID2" orders 'd[0]["state"] + " " + d[0]["stage"]')" "rejected validate"
r_eq "validate failed: nothing booked" "$(r_korders_with "$(r_cl_ord_id "$CID2" 1)")" 0

# the exchange refuses at validate: nothing placed, exit 0, the reason recorded
r_kctl '{"method": "AddOrder", "kind": "error", "error": "EOrder:Insufficient funds"}'
S3=$(r_slot_iso 3); CID3="live_rt@$S3"
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 3) r_run run "$LIVE"
t_rc "validate refused: exit 1, a failed cycle" 1
r_eq "validate refused: only the validate call" "$(r_kmethods "$from" | grep -o 'AddOrder' | wc -l)" 1
r_contains "validate refused: reason recorded" "$(r_json_get "$CID3" orders 'd[0]["message"]')" "Insufficient funds"
# the real AddOrder refused with an E-string: a clean refusal, not in doubt, no lookup
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "error", "error": "EOrder:Insufficient funds"}'
S4=$(r_slot_iso 4); CID4="live_rt@$S4"
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 4) r_run run "$LIVE"
t_rc "AddOrder refused: exit 1, a failed cycle" 1
r_eq "AddOrder refused: recorded rejected" "$(r_json_get "$CID4" orders 'd[0]["state"]')" rejected
r_eq "AddOrder refused: the row is failed, so monitoring sees it" "$(r_status "$CID4")" failed
r_eq "AddOrder refused: no lookup" "$(r_kmethods "$from" | grep -c 'ClosedOrders')" 0

# ---- 4. timeout after send, the order booked: looked up, found, recorded, never resent -----------------
# (the fake answers after 17 s, past the 15 s default; TITAN_KRAKEN_TIMEOUT_MS=2000 has the host give up
# after 2 s, which changes nothing that is tested)
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "stall", "seconds": 17, "after_record": true}'
S6=$(r_slot_iso 6); CID6="live_rt@$S6"; CL6=$(r_cl_ord_id "$CID6" 1)
from=$(r_kcalls); t0=$SECONDS
TITAN_KRAKEN_TIMEOUT_MS=2000 TITAN_FAKE_NOW_MS=$(r_now 6) r_run run "$LIVE"
t_rc "timeout, order booked: exit 0" 0
r_eq "timeout, order booked: row done" "$(r_status "$CID6")" done
r_eq "timeout, order booked: looked up, not resent" "$(r_kmethods "$from" | sed 's/.*AddOrder(cl_ord_id=[^)]*) //')" \
  "OpenOrders(cl_ord_id=$CL6) ClosedOrders(cl_ord_id=$CL6) QueryOrders QueryTrades"
r_eq "timeout, order booked: one order" "$(r_korders_with "$CL6")" 1
r_eq "timeout, order booked: record has the txid" "$(r_json_get "$CID6" orders 'd[0]["txid"]')" "$(r_ktxid "$CL6")"
r_contains "timeout, order booked: recorded as reconciled" "$(r_json_get "$CID6" orders 'd[0].get("reconciled", "")')" "cl_ord_id"
r_contains "timeout, order booked: the timeout is recorded" "$(r_json_get "$CID6" orders 'd[0].get("error_code", "")')" "timeout"
echo "    (timeout case took $((SECONDS - t0)) s)" >&2

# the same with the connection dropped after the order was booked (no timeout to wait for)
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "drop", "after_record": true}'
S7=$(r_slot_iso 7); CID7="live_rt@$S7"; CL7=$(r_cl_ord_id "$CID7" 1)
TITAN_FAKE_NOW_MS=$(r_now 7) r_run run "$LIVE"
t_rc "dropped after booking: exit 0" 0
r_eq "dropped after booking: one order" "$(r_korders_with "$CL7")" 1
r_eq "dropped after booking: record has the txid" "$(r_json_get "$CID7" orders 'd[0]["txid"]')" "$(r_ktxid "$CL7")"

# ---- 5. sent but absent: in doubt (exit 3); the next run reconciles first --------------------------------
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "drop"}'
S8=$(r_slot_iso 8); CID8="live_rt@$S8"; CL8=$(r_cl_ord_id "$CID8" 1)
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 8) r_run run "$LIVE"
t_rc "sent, absent: exit 3" 3
r_eq "sent, absent: row in_doubt" "$(r_status "$CID8")" in_doubt
r_eq "sent, absent: order in_doubt" "$(r_json_get "$CID8" orders 'd[0]["state"]')" in_doubt
t_grep "sent, absent: stdout says IN DOUBT" "IN DOUBT" "$T_OUT"
r_eq "sent, absent: one real AddOrder, then the lookup" "$(r_kmethods "$from" | sed 's/.*AddOrder(cl_ord_id=[^)]*) //')" \
  "OpenOrders(cl_ord_id=$CL8) ClosedOrders(cl_ord_id=$CL8)"
r_eq "sent, absent: nothing booked" "$(r_korders_with "$CL8")" 0
S9=$(r_slot_iso 9); CID9="live_rt@$S9"
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 9) r_run run "$LIVE"
t_rc "next run: exit 0" 0
r_contains "next run: reconciles before anything else" "$(r_kmethods "$from")" \
  "OpenOrders(cl_ord_id=$CL8) ClosedOrders(cl_ord_id=$CL8) AssetPairs"
t_check "next run: the lookups come first" test "$(r_kmethods "$from" | cut -d' ' -f1)" = "OpenOrders(cl_ord_id=$CL8)"
r_eq "next run: earlier cycle resolved" "$(r_status "$CID8")" done
r_contains "next run: earlier cycle says reconciled" "$(r_sql "select error from execution_logs where cycle_id='$CID8'")" "reconciled"
r_eq "next run: the absent order recorded as not placed" "$(r_json_get "$CID8" orders 'd[0]["state"]')" not_placed
r_eq "next run: then trades" "$(r_status "$CID9")" done
t_grep "next run: blackbox recovery.resolved" '"ev":"recovery.resolved"' "$TITAN_BLACKBOX"

# a 5xx (Cloudflare 520) and Kraken's "EGeneral:Internal error" after the send are ambiguous too
slot=10
for fault in '{"method": "AddOrder", "kind": "html", "status": 520}' '{"method": "AddOrder", "kind": "error", "error": "EGeneral:Internal error"}'; do
  r_kctl "$PASS_VALIDATE"; r_kctl "$fault"
  cid="live_rt@$(r_slot_iso $slot)"
  TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$LIVE"
  t_rc "ambiguous $fault: exit 3" 3
  r_eq "ambiguous $fault: row in_doubt" "$(r_status "$cid")" in_doubt
  slot=$((slot + 1))
  TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$LIVE"
  t_rc "ambiguous $fault: next run exit 0" 0
  r_eq "ambiguous $fault: resolved" "$(r_status "$cid")" done
  slot=$((slot + 1))
done

# an order in doubt that did reach Kraken: found by the next run and recorded with its txid
r_kctl '{"method": "OpenOrders", "kind": "warning", "warning": "WGeneral:e2e"}'   # the portfolio read passes
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "drop", "after_record": true}'
r_kctl '{"method": "OpenOrders", "kind": "error", "error": "EService:Unavailable"}'  # the lookup fails
S50=$(r_slot_iso 50); CID50="live_rt@$S50"; CL50=$(r_cl_ord_id "$CID50" 1)
TITAN_FAKE_NOW_MS=$(r_now 50) r_run run "$LIVE"
t_rc "booked, lookup failed: exit 3" 3
r_eq "booked, lookup failed: row in_doubt" "$(r_status "$CID50")" in_doubt
r_eq "booked, lookup failed: the order exists" "$(r_korders_with "$CL50")" 1
TITAN_FAKE_NOW_MS=$(r_now 51) r_run run "$LIVE"
t_rc "booked, found later: exit 0" 0
r_eq "booked, found later: resolved" "$(r_status "$CID50")" done
r_eq "booked, found later: txid recorded" "$(r_json_get "$CID50" orders 'd[0].get("txid")')" "$(r_ktxid "$CL50")"
r_eq "booked, found later: Kraken's state recorded" "$(r_json_get "$CID50" orders 'd[0]["state"]')" closed
t_check "booked, found later: blackbox recovery.order says what was found" \
  grep -qE "\"ev\":\"recovery.order\".*\"cl_ord_id\":\"$CL50\",\"state\":\"closed\"" "$TITAN_BLACKBOX"

# ---- 6. while the lookup keeps failing, nothing trades and every run exits 3 -----------------------------
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "drop"}'
S52=$(r_slot_iso 52); CID52="live_rt@$S52"
TITAN_FAKE_NOW_MS=$(r_now 52) r_run run "$LIVE"
t_rc "in doubt again: exit 3" 3
r_kctl '{"method": "OpenOrders", "kind": "error", "error": "EService:Unavailable", "times": -1}'
for slot in 53 54; do
  from=$(r_kcalls)
  TITAN_FAKE_NOW_MS=$(r_now $slot) r_run run "$LIVE"
  t_rc "lookup failing (slot $slot): exit 3" 3
  r_eq "lookup failing (slot $slot): no order sent" "$(r_kmethods "$from" | grep -c AddOrder)" 0
  r_eq "lookup failing (slot $slot): no market read either" "$(r_kmethods "$from" | grep -c Ticker)" 0
  r_eq "lookup failing (slot $slot): earlier cycle still in_doubt" "$(r_status "$CID52")" in_doubt
  r_contains "lookup failing (slot $slot): the row says why" "$(r_sql "select error from execution_logs where cycle_id='live_rt@$(r_slot_iso $slot)'")" "in doubt"
done
r_kctl "{\"reset\": true, $BALANCES}"
TITAN_FAKE_NOW_MS=$(r_now 55) r_run run "$LIVE"
t_rc "lookup works again: exit 0" 0
r_eq "lookup works again: resolved" "$(r_status "$CID52")" done
r_eq "lookup works again: trades" "$(r_status "live_rt@$(r_slot_iso 55)")" done
r_eq "nothing left in doubt" "$(r_sql "select count(*) from execution_logs where status='in_doubt'")" 0

# with two orders, the second is not sent while the first is in doubt
r_kctl "$PASS_VALIDATE"; r_kctl '{"method": "AddOrder", "kind": "drop"}'
CIDT="two_rt@$(r_slot_iso 56)"
TITAN_FAKE_NOW_MS=$(r_now 56) r_run run "$TWO"
t_rc "two orders, first in doubt: exit 3" 3
r_eq "two orders: the second not sent" "$(r_json_get "$CIDT" orders 'd[1]["state"]')" not_sent
r_eq "two orders: no AddOrder at all for the second" "$(r_kmethods 0 | grep -c "$(r_cl_ord_id "$CIDT" 2)")" 0
TITAN_FAKE_NOW_MS=$(r_now 57) r_run run "$TWO"
t_rc "two orders: next run exit 0" 0
r_eq "two orders: resolved" "$(r_status "$CIDT")" done

# ---- 7. a runner that crashed after sending: its cycle is taken over -----------------------------------
# (a) the order did reach Kraken: the takeover must find it and not place it a second time
S60=$(r_slot_iso 60); CID60="live_rt@$S60"; CL60=$(r_cl_ord_id "$CID60" 1)
TITAN_FAKE_NOW_MS=$(r_now 60) r_run run "$LIVE"
t_rc "crash setup: exit 0" 0
TX60=$(r_ktxid "$CL60")
r_sql "update execution_logs set status='running', holder='crashed-runner:1', finished_at=NULL,
         lease_until='$(r_iso $((R_DAY0 + 60 * 900000 + 1000)))',
         orders='[{\"index\":1,\"cl_ord_id\":\"$CL60\",\"state\":\"sending\"}]' where cycle_id='$CID60'"
TITAN_FAKE_NOW_MS=$(r_now 60) r_run run "$LIVE"
t_rc "takeover, order placed before the crash: exit 0" 0
r_eq "takeover: the order is not placed twice" "$(r_korders_with "$CL60")" 1
r_eq "takeover: the record has the first order's txid" "$(r_json_get "$CID60" orders 'd[0].get("txid")')" "$TX60"
r_eq "takeover: one real AddOrder in all for that cl_ord_id" "$(r_kreal_addorders "$CL60")" 1
# (b) the lookup fails during the takeover: the order must stay on record as in doubt
S61=$(r_slot_iso 61); CID61="live_rt@$S61"; CL61=$(r_cl_ord_id "$CID61" 1)
r_sql "insert into execution_logs (cycle_id, strategy, mode, status, holder, started_at, lease_until, orders, host_version)
       values ('$CID61', 'live_rt', 'LIVE', 'running', 'crashed-runner:2', '$(r_iso $((R_DAY0 + 61 * 900000)))',
               '$(r_iso $((R_DAY0 + 61 * 900000 + 1000)))', '[{\"index\":1,\"cl_ord_id\":\"$CL61\",\"state\":\"sending\"}]', 'test')"
r_kctl '{"method": "OpenOrders", "kind": "error", "error": "EService:Unavailable", "times": -1}'
TITAN_FAKE_NOW_MS=$(r_now 61) r_run run "$LIVE"
t_rc "takeover, lookup failing: exit 3" 3
r_eq "takeover, lookup failing: no order sent" "$(r_korders_with "$CL61")" 0
r_eq "takeover, lookup failing: row in_doubt" "$(r_status "$CID61")" in_doubt
r_contains "takeover, lookup failing: the order stays on record" "$(r_sql "select orders from execution_logs where cycle_id='$CID61'")" "$CL61"
r_kctl "{\"reset\": true, $BALANCES}"
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 62) r_run run "$LIVE"
r_contains "after the failed takeover: the next run looks the order up" "$(r_kmethods "$from")" "OpenOrders(cl_ord_id=$CL61)"
r_sql "update execution_logs set status='done' where status in ('in_doubt', 'running')"   # leave no block behind

# a strategy cannot place orders itself: not from on_cycle, not from its top-level code (which runs
# when the file is loaded), so no order escapes validation, the risk gates and the record
cat >"$T_TMP/sneaky_rt.lua" <<'LUA'
local kraken = require "titan.kraken"
local order = { pair = "XBTUSD", type = "buy", ordertype = "market", volume = "0.001" }
local loaded_ok, loaded_err = pcall(kraken.private, "AddOrder", order)
return {
  name = "sneaky_rt", pair = "XBTUSD", interval = 15,
  on_cycle = function(ctx)
    local ok, err = pcall(kraken.private, "AddOrder", order)
    ctx.decision.at_load = tostring(loaded_err)
    ctx.decision.in_cycle = tostring(err)
    return {}
  end,
}
LUA
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 63) r_run run "$T_TMP/sneaky_rt.lua"
t_rc "sneaky strategy: exit 0" 0
r_eq "sneaky strategy: no AddOrder reached Kraken" "$(r_kmethods "$from" | grep -o AddOrder | wc -l)" 0
r_contains "sneaky strategy: refused inside on_cycle" "$(r_json_get "sneaky_rt@$(r_slot_iso 63)" decision 'd["strategy"]["in_cycle"]')" "the host places them"
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 64) r_run check "$T_TMP/sneaky_rt.lua"
r_eq "sneaky strategy under 'check': no AddOrder reached Kraken" "$(r_kmethods "$from" | grep -o AddOrder | wc -l)" 0

# ---- 8. other LIVE failures ------------------------------------------------------------------------------
S70=$(r_slot_iso 70)
from=$(r_kcalls)
KRAKEN_API_KEY=not-the-key TITAN_FAKE_NOW_MS=$(r_now 70) r_run run "$LIVE"
t_rc "key refused by Kraken: exit 1" 1
r_eq "key refused: row failed" "$(r_status "live_rt@$S70")" failed
r_contains "key refused: says so" "$(r_sql "select error from execution_logs where cycle_id='live_rt@$S70'")" "nothing was traded"
r_eq "key refused: no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0
from=$(r_kcalls)
TITAN_FAKE_NOW_MS=$(r_now 71) r_run run "$LIVE" --dry-run
t_rc "LIVE dry run: exit 0" 0
t_grep "LIVE dry run: banner" "DRY RUN" "$T_OUT"
r_eq "LIVE dry run: no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0
r_eq "LIVE dry run: no row" "$(r_sql "select count(*) from execution_logs where cycle_id='live_rt@$(r_slot_iso 71)'")" 0
from=$(r_kcalls)
KRAKEN_SECRET='not base64!' TITAN_FAKE_NOW_MS=$(r_now 72) r_run run "$LIVE"
t_rc "malformed KRAKEN_SECRET: configuration error, exit 2" 2
r_eq "malformed KRAKEN_SECRET: no row" "$(r_sql "select count(*) from execution_logs where cycle_id='live_rt@$(r_slot_iso 72)'")" 0
t_grep "malformed KRAKEN_SECRET: says so" "KRAKEN_SECRET is not valid base64" "$T_ERR"
r_eq "malformed KRAKEN_SECRET: no AddOrder" "$(r_kmethods "$from" | grep -c AddOrder)" 0

# ---- a LIVE sell books its realized PnL for the day (the daily-loss gate reads it next cycle) ----
r_kctl '{"balances": {"ZUSD": "10000.0000", "XXBT": "0.0010000000"}}'
SELL=$(r_strategy sell_rt 'return { { side = "sell", type = "market", volume = 0.0001, reason = "take profit" } }')
TITAN_FAKE_NOW_MS=$(r_now 80) r_run run "$SELL"
t_rc "live sell: exit 0" 0
realized=$(r_sql "select value from strategy_state where strategy='sell_rt' and key='titan.live_realized.2026-11-18'")
t_check "live sell: today's realized PnL booked ($realized)" python3 -c "import sys; sys.exit(0 if float('${realized:-0}') > 0 else 1)"
t_check "live sell: the order record carries it" python3 -c "import sys; sys.exit(0 if float('$(r_json_get "sell_rt@$(r_slot_iso 80)" orders 'd[0]["realized_pnl"]')') > 0 else 1)"

# ---- durability (README "Store"): a LIVE order is on disk before it is sent ----
if r_traced_cycle "$T_TMP/live.strace" "$LIVE" 90; then
  t_rc "durability: a LIVE cycle with one order under strace" 0
  t_check "durability: 3 syncs of the WAL (the lock, the planned order, the record), got $WAL" test "$WAL" = 3
  t_check "durability: the database file is not synced, got $DB" test "$DB" = 0
  t_check "durability: nothing else but SQLite's one folder sync, got $OTHER" test "$OTHER" -le 1
  # the lines of the syncs of the WAL, and of the sends of the two AddOrder calls (validate, then real)
  syncs=($(grep -nE "sync[a-z]*\([0-9]+<$SYNC_DB-wal>" "$T_TMP/live.strace" | cut -d: -f1))
  adds=($(grep -nE 'sendto\(.*AddOrder' "$T_TMP/live.strace" | cut -d: -f1))
  t_check "durability: the planned order is synced before AddOrder is sent (syncs ${syncs[*]}, AddOrder ${adds[*]})" \
    test "${#adds[@]}" -ge 1 -a "${syncs[1]:-999999}" -lt "${adds[0]:-0}"
  t_check "durability: the record is synced after the last send" test "${syncs[2]:-0}" -gt "$(grep -nE 'sendto\(' "$T_TMP/live.strace" | tail -1 | cut -d: -f1)"
fi

r_leak_check
t_finish
