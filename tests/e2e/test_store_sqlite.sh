#!/usr/bin/env bash
# The SQLite store end to end, with real processes on a real database file: 20 racing runners,
# lease expiry and takeover, a SIGKILLed holder, late finishes, in-doubt cycles, the paper ledger,
# state and control, faults (corrupt / unwritable / missing folder), titan.lock from Lua, and the
# `locks` and `halt` commands through the real binary. Driven by tests/tools/store_tool.c.
source "$(dirname "$0")/lib.sh"

STORE_TOOL=${STORE_TOOL:-${UNIT_DIR:-$ROOT/build/release/tests}/tools/store_tool}
if [ ! -x "$STORE_TOOL" ]; then
  t_fail "store_tool not built at $STORE_TOOL (make unit builds it; set UNIT_DIR or STORE_TOOL)"
  t_finish; exit 1
fi
unset SUPABASE_URL SUPABASE_KEY TITAN_FAKE_NOW_MS TITAN_HALT
export TITAN_BLACKBOX=$T_TMP/blackbox.log TITAN_LOG_LEVEL=error
export TITAN_DB=$T_TMP/titan.db
cd "$T_TMP" || exit 1

tool() { "$STORE_TOOL" "$@"; }
now_ms() { python3 -c 'import time; print(int(time.time()*1000))'; }

# race N CYCLE LEASE [env...]: N processes acquire CYCLE together; outputs in $T_TMP/race.*
race() {
  local n=$1 cycle=$2 lease=$3 i; shift 3
  rm -f "$T_TMP"/race.* "$T_TMP/go"
  for i in $(seq 1 "$n"); do
    env "$@" "$STORE_TOOL" --wait-file "$T_TMP/go" acquire "$cycle" default PAPER "runner-$i:$i" "$lease" \
      >"$T_TMP/race.$i" 2>&1 &
  done
  sleep 0.3; touch "$T_TMP/go"; wait
}
count() { cat "$T_TMP"/race.* | grep -c "^$1" || true; }

# ---- the race: exactly one runner acquires a fresh slot (20 processes, fresh file) ----
race 20 "default@2026-11-27T05:15Z" 60
t_check "race: exactly one acquired (got $(count acquired))" [ "$(count acquired)" = 1 ]
t_check "race: the 19 others held (got $(count held))" [ "$(count held)" = 19 ]
t_check "race: no errors" [ "$(count error)" = 0 ]
winner=$(grep -l '^acquired' "$T_TMP"/race.* | head -1); winner=${winner##*.}
t_check "race: the row names the winner" bash -c "'$STORE_TOOL' get 'default@2026-11-27T05:15Z' | grep -q 'holder=runner-$winner:$winner '"

# the winner finishes; a second wave sees the slot as done and nobody runs it again
tool finish "default@2026-11-27T05:15Z" "runner-$winner:$winner" done '[{"txid":"T1"}]' '{"intents":1}' >/dev/null
t_check "winner's finish succeeds" [ $? = 0 ]
race 20 "default@2026-11-27T05:15Z" 60
t_check "after done: 20 x done status=done" [ "$(cat "$T_TMP"/race.* | grep -c '^done status=done')" = 20 ]
t_check "after done: nobody acquired" [ "$(count acquired)" = 0 ]

# ---- lease expiry: exactly one racer takes over; the old holder's late finish is rejected ----
tool acquire slow-cycle default PAPER "old-runner:1" 1 >/dev/null
later=$(( $(now_ms) + 5000 ))
race 20 slow-cycle 60 TITAN_FAKE_NOW_MS=$later
t_check "expiry: exactly one taken_over (got $(count taken_over))" [ "$(count taken_over)" = 1 ]
t_check "expiry: the other 19 held" [ "$(count held)" = 19 ]
t_grep "expiry: the taker learns the previous holder" "previous=old-runner:1" "$(grep -l '^taken_over' "$T_TMP"/race.* | head -1)"
new_holder=$(tool get slow-cycle | sed -E 's/.* holder=([^ ]+) .*/\1/')
out=$(tool finish slow-cycle "old-runner:1" done '[]'); rc=$?
t_check "late finish by the old holder: conflict exit 3 (got $rc)" [ "$rc" = 3 ]
t_check "late finish names the new holder" bash -c "echo '$out' | grep -q 'now held by $new_holder'"
t_check "late finish changed nothing" bash -c "'$STORE_TOOL' get slow-cycle | grep -q 'status=running holder=$new_holder '"
out=$(tool finish slow-cycle "$new_holder" done '[]'); t_check "new holder finishes" [ $? = 0 ]

# ---- a holder SIGKILLed mid-cycle: held while the lease lives, taken over after it ----
tool hold killed-cycle default LIVE "victim:9" 2 60 >"$T_TMP/victim.out" 2>&1 &
victim=$!; T_PIDS+=("$victim")
for _ in $(seq 50); do grep -q acquired "$T_TMP/victim.out" && break; sleep 0.05; done
t_grep "victim acquired" "acquired" "$T_TMP/victim.out"
tool orders killed-cycle "victim:9" '[{"cl_ord_id":"abc123","status":"sent"}]' >/dev/null
kill -9 "$victim"; wait "$victim" 2>/dev/null
out=$(tool acquire killed-cycle default LIVE "next:1" 60)
t_check "right after SIGKILL the lease still holds ($out)" bash -c "echo '$out' | grep -q '^held holder=victim:9'"
sleep 2.2
out=$(tool acquire killed-cycle default LIVE "next:1" 60)
t_check "after the lease: taken over from the victim ($out)" bash -c "echo '$out' | grep -q '^taken_over previous=victim:9'"
t_check "takeover hands over the victim's orders for recovery" bash -c "echo '$out' | grep -q 'abc123'"
out=$(tool finish killed-cycle "victim:9" failed '[]'); rc=$?
t_check "the victim's late finish is rejected (exit $rc)" [ "$rc" = 3 ]
out=$(tool renew killed-cycle "victim:9" 60); t_check "the victim cannot renew either" [ $? = 3 ]
out=$(tool renew killed-cycle "next:1" 60); t_check "the new holder renews" [ $? = 0 ]

# ---- in_doubt: executed for the lock, findable, resolvable once ----
tool finish killed-cycle "next:1" in_doubt '[{"cl_ord_id":"abc123","status":"unknown"}]' >/dev/null
out=$(tool acquire killed-cycle default LIVE "third:1" 60)
t_check "an in_doubt slot is not run again ($out)" bash -c "echo '$out' | grep -q '^done status=in_doubt'"
t_check "in_doubt cycles are listed by status" bash -c "'$STORE_TOOL' list 10 in_doubt | grep -q 'rows=1'"
t_check "resolve in_doubt -> done" bash -c "'$STORE_TOOL' resolve killed-cycle done '[{\"cl_ord_id\":\"abc123\",\"status\":\"filled\"}]' 'reconciled' | grep -q '^ok'"
tool resolve killed-cycle failed >/dev/null; t_check "resolving twice is a conflict" [ $? = 3 ]
t_check "resolved row has the new orders" bash -c "'$STORE_TOOL' get killed-cycle | grep -q 'status=done.*filled'"
tool finish killed-cycle "next:1" done >/dev/null; t_check "finish after done is a conflict" [ $? = 3 ]
tool finish nothing-here "x:1" done >/dev/null; t_check "finish of a missing row is a conflict" [ $? = 3 ]
tool finish killed-cycle "next:1" running >/dev/null; t_check "finish with status running is refused" [ $? = 1 ]
tool acquire bad-mode default paper "x:1" 60 >/dev/null; t_check "mode must be PAPER|LIVE" [ $? = 1 ]
tool finish killed-cycle "next:1" done '{not json' >/dev/null; t_check "invalid orders JSON refused" [ $? = 1 ]

# ---- paper ledger: seeded once, atomic fills, never twice, never negative ----
t_check "seeded with the starting cash" bash -c "[ \"\$('$STORE_TOOL' balances s1 10000)\" = 'USD=10000' ]"
t_check "seed is not re-applied" bash -c "[ \"\$('$STORE_TOOL' balances s1 99)\" = 'USD=10000' ]"
tool fill s1 c1 ord-1 buy 0.1 50000 13 0 >/dev/null; t_check "buy fill applied" [ $? = 0 ]
t_check "buy moved both balances" bash -c "[ \"\$('$STORE_TOOL' balances s1 10000)\" = 'USD=4987 XBT=0.1' ]"
tool fill s1 c1 ord-1 buy 0.1 50000 13 0 >/dev/null; t_check "same order_ref twice: conflict" [ $? = 3 ]
tool fill s1 c1 ord-2 buy 1 50000 13 0 >/dev/null; t_check "overspend refused" [ $? = 3 ]
tool fill s1 c1 ord-3 sell 1 50000 13 0 >/dev/null; t_check "overselling refused" [ $? = 3 ]
t_check "refused fills changed nothing" bash -c "[ \"\$('$STORE_TOOL' balances s1 10000)\" = 'USD=4987 XBT=0.1' ] && '$STORE_TOOL' fills s1 | grep -q 'fills=1'"
tool fill s1 c2 ord-4 sell 0.05 60000 7.8 492.2 >/dev/null
tool fill s1 c3 - sell 0.05 40000 5 -510 $(( $(now_ms) - 86400000 * 2 )) >/dev/null
t_check "sell fills applied" bash -c "[ \"\$('$STORE_TOOL' balances s1 10000)\" = 'USD=9974.2 XBT=0' ]"
since=$(( $(now_ms) - 86400000 ))
t_check "realized pnl since a day ago" bash -c "[ \"\$('$STORE_TOOL' pnl s1 $since)\" = 'pnl=492.2' ]"
t_check "realized pnl over all time" bash -c "[ \"\$('$STORE_TOOL' pnl s1 0)\" = 'pnl=-17.8' ]"
t_check "fills of one cycle" bash -c "'$STORE_TOOL' fills s1 0 c2 | grep -q 'fills=1'"
t_check "strategies have separate ledgers" bash -c "[ \"\$('$STORE_TOOL' balances s2 500)\" = 'USD=500' ]"

# ---- strategy state and control ----
tool state-set s1 last '{"ema":[1.5,2]}' >/dev/null; t_check "state set" [ $? = 0 ]
t_check "state get" bash -c "[ \"\$('$STORE_TOOL' state-get s1 last)\" = 'value={\"ema\":[1.5,2]}' ]"
tool state-set s1 last '"text"' >/dev/null
t_check "a JSON string stays JSON" bash -c "[ \"\$('$STORE_TOOL' state-get s1 last)\" = 'value=\"text\"' ]"
tool state-set s1 bad '{oops' >/dev/null; t_check "invalid JSON state refused" [ $? = 1 ]
tool state-get s2 last >/dev/null; t_check "state is per strategy" [ $? = 4 ]
tool state-set s1 last - >/dev/null; tool state-get s1 last >/dev/null; t_check "state delete" [ $? = 4 ]
t_check "halt unset = not halted" bash -c "[ \"\$('$STORE_TOOL' halted)\" = 'halted=0' ]"
tool control-set halt yes-please >/dev/null
t_check "an unknown halt value halts (fail closed)" bash -c "[ \"\$('$STORE_TOOL' halted)\" = 'halted=1' ]"

# ---- commands through the real binary ----
t_run halt off; t_rc "halt off" 0; t_grep "halt off says what" "halt is OFF in sqlite $TITAN_DB" "$T_OUT"
t_run halt status; t_rc "halt status" 0; t_grep "status off" "halt: off" "$T_OUT"
t_check "engine view: not halted" bash -c "[ \"\$('$STORE_TOOL' halted)\" = 'halted=0' ]"
t_run halt on; t_rc "halt on" 0; t_grep "halt on says what" "halt is ON" "$T_OUT"
t_run halt status; t_grep "status on" "halt: on" "$T_OUT"
t_check "engine view: halted" bash -c "[ \"\$('$STORE_TOOL' halted)\" = 'halted=1' ]"
t_run halt maybe; t_rc "halt bad arg" 2
t_run help halt; t_rc "help halt" 0; t_grep "help halt: exit codes" "exit codes" "$T_OUT"
t_run help locks; t_rc "help locks" 0

tool acquire live-cycle default PAPER "busy:7" 600 >/dev/null
t_run locks list; t_rc "locks list" 0
t_grep "list names the store" "store: sqlite $TITAN_DB" "$T_OUT"
t_grep "list has the header" "CYCLE_ID" "$T_OUT"
t_grep "list shows the live cycle" "live-cycle" "$T_OUT"
t_grep "list shows a live lease" "(lease until" "$T_OUT"
t_grep "list shows the holder" "busy:7" "$T_OUT"
t_check "list columns are aligned" bash -c "awk 'NR>1 {print index(\$0, \"  \" \$2 \"  \")}' '$T_OUT' | head -3 | sort -u | wc -l | grep -q '^1$'"
t_run locks list --json; t_rc "locks list --json" 0
t_check "--json is a JSON array with every column" python3 -c "
import json,sys; rows=json.load(open('$T_OUT'))
assert isinstance(rows,list) and len(rows)>=4, rows
r=[x for x in rows if x['cycle_id']=='live-cycle'][0]
assert r['status']=='running' and r['holder']=='busy:7' and r['mode']=='PAPER' and r['lease_until'].endswith('Z'), r
d=[x for x in rows if x['cycle_id']=='default@2026-11-27T05:15Z'][0]
assert d['orders']==[{'txid':'T1'}] and d['decision']=={'intents':1}, d"
t_run locks list --json --limit 1
t_check "--limit 1" python3 -c "import json; assert len(json.load(open('$T_OUT')))==1"
t_run locks list --status in_doubt --json
t_check "--status filter" python3 -c "import json; assert json.load(open('$T_OUT'))==[]"
t_run locks list --limit 0; t_rc "bad --limit" 2
t_run locks frobnicate; t_rc "unknown locks subcommand" 2

t_run locks release live-cycle; t_rc "release of a live running cycle refused" 1
t_grep "refusal explains" "live lease" "$T_ERR"
t_check "refused release kept the row" bash -c "'$STORE_TOOL' get live-cycle | grep -q 'status=running'"
t_run locks release live-cycle --force; t_rc "forced release" 0
t_grep "release says what it deleted" "deleted its execution_logs row" "$T_OUT"
t_grep "release says the old status" "status running, holder busy:7" "$T_OUT"
tool get live-cycle >/dev/null; t_check "the row is gone" [ $? = 4 ]
t_run locks release live-cycle; t_rc "release of a missing cycle" 1; t_grep "says none" "no cycle live-cycle" "$T_ERR"
t_run locks release slow-cycle; t_rc "release of a finished cycle" 0; t_grep "done row" "status done" "$T_OUT"
out=$(tool acquire slow-cycle default PAPER "again:1" 60); t_check "a released slot can run again" bash -c "echo '$out' | grep -q '^acquired'"
t_run locks release; t_rc "release without id" 2

# ---- titan.lock from Lua ----
mkdir -p "$T_TMP/lua"; cp "$ROOT/tests/lua/spec.lua" "$ROOT/tests/lua/net/lock_spec.lua" "$T_TMP/lua/"
tool lock taken "other-runner:1" 3600 >/dev/null; tool lock stale "other-runner:1" 1 >/dev/null
sleep 1.1
t_spec "$T_TMP/lua/lock_spec.lua" lock_sqlite normal
TITAN_DB=$T_TMP/missing/titan.db t_spec "$T_TMP/lua/lock_spec.lua" lock_unavailable unavailable

# ---- notifications: a key is claimed once, ever (20 racing processes) ----
rm -f "$T_TMP"/race.* "$T_TMP/go"
for i in $(seq 1 20); do
  "$STORE_TOOL" --wait-file "$T_TMP/go" notify-claim "default@2026-11-27T05:15Z:fill" default \
    "default@2026-11-27T05:15Z" fill >"$T_TMP/race.$i" 2>&1 &
done
sleep 0.3; touch "$T_TMP/go"; wait
t_check "notify claim race: exactly one ok (got $(count ok))" [ "$(count ok)" = 1 ]
t_check "notify claim race: 19 conflicts (got $(count conflict))" [ "$(count conflict)" = 19 ]
out=$(tool notify-record "default@2026-11-27T05:15Z:fill" '{"telegram":{"ok":true}}'); rc=$?
t_check "notify record of a claimed key ($out)" [ "$rc" = 0 ]
t_check "the record keeps the result" bash -c "[ \"\$(sqlite3 '$TITAN_DB' \"select json_extract(result, '\$.telegram.ok') from notifications\")\" = 1 ]"
tool notify-record nothing-claimed '{}' >/dev/null; t_check "notify record of an unclaimed key: not found" [ $? = 4 ]
tool notify-record "default@2026-11-27T05:15Z:fill" 'not json' >/dev/null; t_check "notify record refuses bad JSON" [ $? = 1 ]
out=$(tool notify-claim "default@2026-11-26:daily" default - daily); t_check "a claim without a cycle ($out)" [ "$out" = ok ]
# ---- durability: what each operation syncs to disk (README "Store"): the lock take, the planned
# orders, the record and the operator's commands sync the WAL once; everything else waits for them ----
if ! command -v strace >/dev/null 2>&1; then
  echo "SKIP $T_NAME: durability: strace is not installed (tools/install-deps test)" >&2
else
  SDB=$T_TMP/sync.db
  # syncs OP ARGS...: one store_tool operation on $SDB; prints "WAL DB" (fdatasync/fsync counts)
  # (LeakSanitizer cannot run under ptrace: off for these runs of a sanitizer build)
  syncs() {
    TITAN_DB=$SDB ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
      strace -f -y -e trace=fsync,fdatasync -o "$T_TMP/op.strace" "$STORE_TOOL" "$@" >"$T_TMP/op.out" 2>&1
    echo "$(grep -c -- "<$SDB-wal>" "$T_TMP/op.strace") $(grep -c -- "<$SDB>" "$T_TMP/op.strace")"
  }
  TITAN_DB=$SDB tool balances sy 1000 >/dev/null   # creates the file (and the WAL, whose header is synced once)
  for spec in "acquire s3 sy PAPER h:1 60|1 0|the lock take" \
              "acquire s3 sy PAPER h:2 60|0 0|finding the slot held" \
              "renew s3 h:1 60|0 0|a lease renewal" \
              "orders s3 h:1 [{\"cl\":1}]|1 0|the planned orders" \
              "state-set sy k {\"n\":1}|0 0|ctx.state" \
              "fill sy s3 ref1 buy 1 100 0.4 0|0 0|a paper fill" \
              "lock nlock h:1 30|0 0|a named lock" \
              "unlock nlock h:1|0 0|its release" \
              "finish s3 h:1 done []|1 0|the record" \
              "control-set halt 1|1 0|the halt switch" \
              "release s3 force|1 0|locks release" \
              "get s3|0 0|a read" \
              "describe|0 0|opening the file"; do
    IFS='|' read -r op want what <<<"$spec"
    read -r -a args <<<"$op"
    got=$(syncs "${args[@]}")
    t_check "durable: $what syncs WAL/file '$want', got '$got' ($(head -c 120 "$T_TMP/op.out"))" test "$got" = "$want"
  done
  # The WAL is kept at close; a run that closes with more than 512 KiB in it copies it into the file
  # and empties it, so it never grows past that plus one run's writes, and the file holds the data.
  max=0
  for i in $(seq 1 60); do
    TITAN_DB=$SDB tool state-set sy "big$i" "\"$(head -c 6000 /dev/zero | tr '\0' x)\"" >/dev/null
    size=$(stat -c %s "$SDB-wal"); [ "$size" -gt "$max" ] && max=$size
  done
  t_check "checkpoint: the WAL never passed 512 KiB plus one run's writes (largest $max bytes)" test "$max" -le $((512 * 1024 + 5 * 4120))
  t_check "checkpoint: the file itself holds the tables" test "$(stat -c %s "$SDB")" -gt 100000
  t_check "checkpoint: after 60 big writes, each value reads back" \
    test "$(TITAN_DB=$SDB tool state-list sy | grep -c big)" = 60
  # A database file deleted while its WAL (its latest writes) stays is refused, never mixed with a new file.
  rm -f "$SDB"
  out=$(TITAN_DB=$SDB tool acquire s9 sy PAPER h:1 60); rc=$?
  t_check "orphan WAL: refused (exit $rc: $out)" bash -c "[ $rc = 1 ] && echo \"\$1\" | grep -q 'is still there: delete'" _ "$out"
  t_check "orphan WAL: no new file was created" test ! -e "$SDB"
  rm -f "$SDB-wal" "$SDB-shm"
  out=$(TITAN_DB=$SDB tool acquire s9 sy PAPER h:1 60); rc=$?
  t_check "orphan WAL removed: a new database opens ($out)" test "$rc" = 0
fi

# ---- faults: the lock is not acquired and the error says what failed and where ----
printf 'this is not a database, just text that fills the header and more %.0s' $(seq 20) >"$T_TMP/corrupt.db"
out=$(TITAN_DB=$T_TMP/corrupt.db tool acquire f1 default PAPER x:1 60); rc=$?
t_check "corrupt file: not acquired (exit $rc)" [ "$rc" = 1 ]
t_check "corrupt file: names the path and the problem ($out)" bash -c "echo '$out' | grep -q '$T_TMP/corrupt.db.*not a database'"
TITAN_DB=$T_TMP/corrupt.db t_run locks list; t_rc "locks list on a corrupt file" 2
t_grep "locks list names the corrupt file" "$T_TMP/corrupt.db" "$T_ERR"

mkdir -p "$T_TMP/scratch"; cd "$T_TMP/scratch" || exit 1
out=$(TITAN_DB=$T_TMP/nope/titan.db tool acquire f2 default PAPER x:1 60); rc=$?
t_check "missing folder: not acquired" [ "$rc" = 1 ]
t_check "missing folder: says so ($out)" bash -c "echo '$out' | grep -q 'folder $T_TMP/nope does not exist'"
t_check "missing folder: nothing created there or here" bash -c "[ ! -e '$T_TMP/nope' ] && [ -z \"\$(ls -A '$T_TMP/scratch')\" ]"
out=$(TITAN_DB= tool describe); rc=$?
t_check "empty TITAN_DB is refused, not ./titan.db ($out)" bash -c "[ $rc = 1 ] && echo '$out' | grep -q 'TITAN_DB is set but empty'"
t_check "empty TITAN_DB: nothing created here" test -z "$(ls -A "$T_TMP/scratch")"
out=$(TITAN_DB=$T_TMP tool acquire f3 default PAPER x:1 60); rc=$?
t_check "TITAN_DB is a folder: refused ($out)" bash -c "[ $rc = 1 ] && echo '$out' | grep -q 'is a folder'"
out=$(SUPABASE_URL=https://x.supabase.co tool acquire f4 default PAPER x:1 60); rc=$?
t_check "half a Supabase config is an error, not SQLite ($out)" bash -c "[ $rc = 1 ] && echo '$out' | grep -q 'SUPABASE_KEY is not'"
t_check "half a Supabase config created no database" bash -c "[ -z \"\$(ls -A '$T_TMP/scratch')\" ]"
cd "$T_TMP" || exit 1

# unwritable: a read-only file (as root, through an unprivileged user, since root writes anyway)
ro=$(mktemp -d "${TMPDIR:-/tmp}/titan-ro.XXXXXX"); chmod 755 "$ro"
tool_as_user() {
  if [ "$(id -u)" != 0 ]; then "$@"
  elif command -v setpriv >/dev/null 2>&1; then setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
  else runuser -u nobody -- "$@"; fi
}
TITAN_DB=$ro/ro.db tool acquire seed default PAPER x:1 60 >/dev/null
chmod 444 "$ro/ro.db"; rm -f "$ro/ro.db-wal" "$ro/ro.db-shm"; chmod 555 "$ro"
out=$(TITAN_DB=$ro/ro.db TITAN_BLACKBOX=/dev/null tool_as_user "$STORE_TOOL" acquire f5 default PAPER x:1 60); rc=$?
t_check "unwritable file: not acquired (exit $rc: $out)" [ "$rc" = 1 ]
t_check "unwritable file: names the path" bash -c "echo '$out' | grep -q '$ro/ro.db'"
chmod 755 "$ro"; rm -rf "$ro"
ro=$(mktemp -d "${TMPDIR:-/tmp}/titan-ro.XXXXXX"); chmod 555 "$ro"
out=$(TITAN_DB=$ro/new.db TITAN_BLACKBOX=/dev/null tool_as_user "$STORE_TOOL" acquire f6 default PAPER x:1 60); rc=$?
t_check "unwritable folder: not acquired (exit $rc: $out)" bash -c "[ $rc = 1 ] && echo '$out' | grep -q '$ro/new.db'"
chmod 755 "$ro"; rm -rf "$ro"

t_finish
