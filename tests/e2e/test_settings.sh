#!/usr/bin/env bash
# Environment settings through the real binary (issue 13, defect 9): a malformed or absurd value
# stops every command with exit 2 naming the variable, before anything is done (no store file,
# no Kraken call); good values still work. The parser's full table is tests/unit/test_settings.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/run_lib.sh"

r_start_kraken
export SYSTEM_MODE=PAPER TITAN_BLACKBOX=$T_TMP/blackbox.log
HOLD=$(r_strategy set_rt 'return {}')
mkdir -p "$T_TMP/cwd"
cd "$T_TMP/cwd" || exit 1

# refused VAR VALUE [ARGS...]: `run` (or ARGS) exits 2, names VAR, creates no store, calls no one
n=0
refused() {
  local var=$1 value=$2; shift 2
  n=$((n + 1))
  export TITAN_DB=$T_TMP/refused$n.db
  local calls; calls=$(r_kcalls)
  [ $# -eq 0 ] && set -- run "$HOLD"
  env TITAN_FAKE_NOW_MS="$(r_now 1)" "$var=$value" "$TITAN_BIN" "$@" >"$T_TMP/r$n.out" 2>"$T_TMP/r$n.err" </dev/null
  local rc=$?
  r_eq "$var='$value' ($1): exit 2" "$rc" 2
  t_grep "$var='$value' ($1): names the variable" "$var" "$T_TMP/r$n.err"
  t_check "$var='$value' ($1): no store created" test ! -e "$TITAN_DB"
  r_eq "$var='$value' ($1): no Kraken call" "$(r_kcalls)" "$calls"
}

for v in 1e9 5s abc -5 0 99999999999 ' 600'; do refused TITAN_LEASE_S "$v"; done
for v in 0x10 ' 5' '+7' inf nan 1e300 -1; do refused TITAN_MAX_ORDER_QUOTE "$v"; done
for v in 1e300 0x10 ' 5' '+7' 2.5 33; do refused TITAN_MAX_ORDERS_PER_CYCLE "$v"; done
refused TITAN_MAX_POSITION_QUOTE 1e3
refused TITAN_MAX_DAILY_LOSS_QUOTE nan
for v in 100000 30000 -1; do refused TITAN_PAPER_SLIPPAGE_BPS "$v"; done
refused TITAN_PAPER_FEE_BPS 20000
refused TITAN_PAPER_CASH 0
refused TITAN_LOG_LEVEL loud
refused TITAN_LOG_LEVEL loud script "$HOLD"
refused TITAN_LUA_MEM_MB 0x40
refused TITAN_LUA_CPU_S 1.5 check "$HOLD"
refused TITAN_KRAKEN_LUA_WRITES yes
refused TITAN_FAKE_NOW_MS soon
refused KRAKEN_API_URL 127.0.0.1:1
refused TITAN_HOME ''
refused TITAN_BLACKBOX ''
refused TITAN_DB ''
t_check "TITAN_DB='': no ./titan.db either" test ! -e "$T_TMP/cwd/titan.db"
# half a Supabase configuration is a configuration error for every command that opens the store,
# never a local database
refused SUPABASE_URL http://127.0.0.1:1
refused SUPABASE_URL http://127.0.0.1:1 locks list
refused SUPABASE_URL http://127.0.0.1:1 halt status
SUPABASE_KEY=${R_SECRETS[SUPABASE_KEY]} refused SUPABASE_URL ''
printf 'print("script ran")\n' >"$T_TMP/ok.lua"
SUPABASE_KEY=${R_SECRETS[SUPABASE_KEY]} t_run script "$T_TMP/ok.lua"
t_rc "a script with the secrets planted and no store: exit 0" 0
t_nogrep "the planted SUPABASE_KEY is never printed" "${R_SECRETS[SUPABASE_KEY]}" "$T_TMP"/r*.out "$T_TMP"/r*.err
# `help` and `version` read no settings: they work whatever the environment says
TITAN_LEASE_S=abc t_run version
t_rc "version ignores the settings" 0
TITAN_LEASE_S=abc t_run help run
t_rc "help ignores the settings" 0

# an option that shares a variable's meaning shares its rule
FIX=$ROOT/tests/fixtures/backtest
printf 'return { name = "bt", pair = "XBTUSD", interval = 60, on_cycle = function() return {} end }\n' >"$T_TMP/bt.lua"
t_run backtest "$T_TMP/bt.lua" "$FIX/rt_kraken.csv" --slippage-bps 5000
t_rc "backtest --slippage-bps 5000: exit 2" 2
t_grep "backtest --slippage-bps 5000: names the option" "--slippage-bps='5000'" "$T_ERR"
t_run backtest "$T_TMP/bt.lua" "$FIX/rt_kraken.csv" --slippage-bps 12.5 --fee-bps 0
t_rc "backtest --slippage-bps 12.5 --fee-bps 0: exit 0" 0

# locks list --status: one of the statuses the store records
export TITAN_DB=$T_TMP/locks.db
t_run locks list --status bogus
t_rc "locks list --status bogus: exit 2" 2
t_grep "locks list --status bogus: lists the statuses" "in_doubt" "$T_ERR"
t_run locks list --status in_doubt
t_rc "locks list --status in_doubt: exit 0" 0

# good values run the cycle
export TITAN_DB=$T_TMP/good.db
TITAN_LEASE_S=900 TITAN_MAX_ORDER_QUOTE=250.5 TITAN_MAX_ORDERS_PER_CYCLE=07 TITAN_PAPER_SLIPPAGE_BPS=1000 \
  TITAN_LOG_LEVEL=warn TITAN_HALT=off TITAN_FAKE_NOW_MS=$(r_now 2) t_run run "$HOLD"
t_rc "good values: exit 0" 0
r_eq "good values: the row is done" "$(r_status "set_rt@$(r_slot_iso 2)")" done
r_approx "good values: TITAN_MAX_ORDER_QUOTE=250.5 in the decision" "$(r_json_get "set_rt@$(r_slot_iso 2)" decision 'd["caps"]["max_order_quote"]')" 250.5
r_approx "good values: TITAN_MAX_ORDERS_PER_CYCLE=07 is 7" "$(r_json_get "set_rt@$(r_slot_iso 2)" decision 'd["caps"]["max_orders_per_cycle"]')" 7
t_nogrep "TITAN_LOG_LEVEL=warn: no info echo on stderr" "cycle.start" "$T_ERR"
# TITAN_HALT fails closed: a typo halts, it is never a configuration error
TITAN_HALT=fasle TITAN_FAKE_NOW_MS=$(r_now 3) t_run run "$HOLD"
t_rc "TITAN_HALT=fasle: exit 0" 0
r_eq "TITAN_HALT=fasle: halted" "$(r_status "set_rt@$(r_slot_iso 3)")" halted
t_finish
