#!/usr/bin/env bash
# The foundation through the real binary: version/help/usage, `script` (arg, errors with
# file:line and traceback, require rules), CPU and memory budgets, `check`, the blackbox
# (JSON Lines, unwritable path) and the pinned clock.
source "$(dirname "$0")/lib.sh"
cd "$T_TMP" || exit 1
unset TITAN_HOME TITAN_LUA_CPU_S TITAN_LUA_MEM_MB TITAN_FAKE_NOW_MS TITAN_LOG_LEVEL
export TITAN_BLACKBOX=$T_TMP/default.log

# t_has NAME REGEX FILE: extended-regex match (t_grep is for fixed strings).
t_has() { if grep -qE -- "$2" "$3"; then t_pass; else t_fail "$1: /$2/ not in $(basename "$3")"; head -c 1500 "$3" | sed 's/^/    /' >&2; fi; }
# t_lines NAME FILE N: the file has exactly N lines.
t_lines() { local n; n=$(wc -l <"$2"); if [ "$n" = "$3" ]; then t_pass; else t_fail "$1: $n lines, want $3"; fi; }

# ---- version, help, usage ------------------------------------------------------------------
t_run version
t_rc "version exit" 0
t_has "version text" '^titan-host [0-9]+\.[0-9]+\.[0-9]+ ' "$T_OUT"
t_grep "version names Lua" "Lua 5.4" "$T_OUT"
t_run --version
t_rc "--version exit" 0

t_run help
t_rc "help exit" 0
cp "$T_OUT" "$T_TMP/help.txt"
t_grep "help has usage" "usage: titan-host COMMAND" "$T_TMP/help.txt"
t_grep "help lists env" "TITAN_BLACKBOX" "$T_TMP/help.txt"
# every command listed in help exists: `help NAME` works and NAME is not an unknown command
commands=$(awk '/^commands:/{on=1; next} on && /^$/{exit} on {print $1}' "$T_TMP/help.txt")
t_check "help lists commands" test -n "$commands"
for c in script check version help; do
  t_check "help lists $c" grep -qx "$c" <<<"$commands"
done
for c in $commands; do
  t_run help "$c"
  t_rc "help $c exit" 0
  t_has "help $c text" "^usage: titan-host $c" "$T_OUT"
  t_run "$c" --surely-not-an-option-xyz
  t_nogrep "$c is a real command" "unknown command" "$T_ERR"
done
t_run help no-such-command
t_rc "help of unknown command" 2
t_grep "help of unknown command says so" "no command 'no-such-command'" "$T_ERR"
t_run frobnicate
t_rc "unknown command exit" 2
t_grep "unknown command message" "unknown command 'frobnicate'" "$T_ERR"
t_run
t_rc "no command exit" 2
t_grep "no command prints help" "usage: titan-host COMMAND" "$T_OUT"
t_run script
t_rc "script without file" 2
t_grep "script usage" "usage: titan-host script FILE.lua" "$T_ERR"
t_run check
t_rc "check without file" 2
t_run check a.lua b.lua
t_rc "check with two files" 2

# ---- script: arguments, output, errors --------------------------------------------------
mkdir -p "$T_TMP/scripts"
cat >"$T_TMP/scripts/args.lua" <<'EOF'
local a, b = ...
print("arg0=" .. arg[0], "n=" .. #arg, "arg1=" .. tostring(arg[1]), "arg2=" .. tostring(arg[2]))
print("varargs=" .. tostring(a) .. "," .. tostring(b))
EOF
t_run script "$T_TMP/scripts/args.lua" "first arg" --two
t_rc "script with args" 0
t_grep "arg table" "arg0=$T_TMP/scripts/args.lua	n=2	arg1=first arg	arg2=--two" "$T_OUT"
t_grep "varargs" "varargs=first arg,--two" "$T_OUT"
t_run script "$T_TMP/scripts/args.lua"
t_grep "no args" "n=0	arg1=nil" "$T_OUT"

cat >"$T_TMP/scripts/err.lua" <<'EOF'
local function explode(what)
  error("kaboom: " .. what)
end
local function caller() explode("deep") end
caller()
EOF
t_run script "$T_TMP/scripts/err.lua"
t_rc "lua error exit" 1
t_grep "error has file:line: message" "err.lua:2: kaboom: deep" "$T_ERR"
t_grep "error has a traceback" "stack traceback:" "$T_ERR"
t_grep "traceback names the caller" "err.lua:4: in" "$T_ERR"
t_grep "traceback reaches the main chunk" "err.lua:5: in main chunk" "$T_ERR"
t_check "error goes to stderr only" test ! -s "$T_OUT"

printf 'error({code = 1})\n' >"$T_TMP/scripts/errobj.lua"
t_run script "$T_TMP/scripts/errobj.lua"
t_rc "table error object exit" 1
t_grep "table error object named" "(error object is a table value)" "$T_ERR"

printf 'local x = = 1\n' >"$T_TMP/scripts/syntax.lua"
t_run script "$T_TMP/scripts/syntax.lua"
t_rc "syntax error exit" 1
t_grep "syntax error has file:line" "syntax.lua:1:" "$T_ERR"

t_run script "$T_TMP/scripts/does-not-exist.lua"
t_rc "missing script exit" 1
t_grep "missing script named" "does-not-exist.lua" "$T_ERR"

printf 'print(os.date("%%H:%%M", 0))\n' >"$T_TMP/scripts/tz.lua"
TZ=America/New_York t_run script "$T_TMP/scripts/tz.lua"
t_grep "process runs in UTC whatever TZ says" "00:00" "$T_OUT"

# ---- require: never the current directory; the script's folder and strategies/lib -------
mkdir -p "$T_TMP/cwd" "$T_TMP/home/strategies/lib"
printf 'print("EVIL LOADED")\nreturn {}\n' >"$T_TMP/cwd/evil.lua"
cat >"$T_TMP/scripts/req.lua" <<'EOF'
local ok, err = pcall(require, "evil")
print(ok and "evil: LOADED" or "evil: NOT FOUND")
print(tostring(err))
print("helper: " .. require("helper").name)
EOF
printf 'return { name = "next to the script" }\n' >"$T_TMP/scripts/helper.lua"
cd "$T_TMP/cwd" || exit 1
t_run script "$T_TMP/scripts/req.lua"
cd "$T_TMP" || exit 1
t_rc "require script exit" 0
t_grep "module in the current directory is not loaded" "evil: NOT FOUND" "$T_OUT"
t_nogrep "evil.lua never ran" "EVIL LOADED" "$T_OUT" "$T_ERR"
t_grep "not-found message" "module 'evil' not found" "$T_OUT"
t_grep "module next to the script is loaded" "helper: next to the script" "$T_OUT"
# the same file next to the script is found (control: the test above can fail)
cp "$T_TMP/cwd/evil.lua" "$T_TMP/scripts/evil.lua"
(cd "$T_TMP/cwd" && "$TITAN_BIN" script "$T_TMP/scripts/req.lua" >"$T_TMP/req2.out" 2>&1)
t_grep "control: evil next to the script is loaded" "evil: LOADED" "$T_TMP/req2.out"
rm "$T_TMP/scripts/evil.lua"

printf 'return { answer = 42 }\n' >"$T_TMP/home/strategies/lib/probe.lua"
printf 'return { where = "strategies" }\n' >"$T_TMP/home/strategies/top.lua"
cat >"$T_TMP/scripts/lib.lua" <<'EOF'
print("lib.probe=" .. require("lib.probe").answer)
print("probe=" .. require("probe").answer)
print("top=" .. require("top").where)
print("same=" .. tostring(require("lib.probe") == require("lib.probe")))
EOF
TITAN_HOME=$T_TMP/home t_run script "$T_TMP/scripts/lib.lua"
t_rc "require lib.* exit" 0
t_grep "require lib.probe from strategies/lib" "lib.probe=42" "$T_OUT"
t_grep "require probe from strategies/lib" "probe=42" "$T_OUT"
t_grep "require top from strategies" "top=strategies" "$T_OUT"
t_grep "modules are loaded once" "same=true" "$T_OUT"
# without TITAN_HOME the home is found next to the binary (or a parent of its folder)
mkdir -p "$T_TMP/inst/build/x"
cp "$TITAN_BIN" "$T_TMP/inst/build/x/titan-host"
cp -r "$T_TMP/home/strategies" "$T_TMP/inst/"
"$T_TMP/inst/build/x/titan-host" script "$T_TMP/scripts/lib.lua" >"$T_TMP/inst.out" 2>&1
t_grep "home found from the binary's location" "lib.probe=42" "$T_TMP/inst.out"
t_run script "$T_TMP/scripts/lib.lua"
t_rc "lib.probe absent from the real home" 1
t_grep "lib.probe not found elsewhere" "module 'lib.probe' not found" "$T_ERR"

# ---- budgets ------------------------------------------------------------------------------
cat >"$T_TMP/scripts/cpu.lua" <<'EOF'
for _ = 1, 3 do
  print(pcall(function() while true do end end))
end
print("ESCAPED the CPU budget")
EOF
start=$(date +%s)
TITAN_LUA_CPU_S=1 t_run script "$T_TMP/scripts/cpu.lua"
took=$(($(date +%s) - start))
t_rc "CPU budget exit" 1
t_grep "CPU budget named" "CPU budget exceeded" "$T_ERR"
t_grep "CPU budget names its variable" "TITAN_LUA_CPU_S" "$T_ERR"
t_grep "CPU budget says 1 s" "1 s of CPU time" "$T_ERR"
t_nogrep "pcall did not swallow the CPU kill" "ESCAPED" "$T_OUT"
t_check "CPU budget stops within 10 s (took ${took}s)" test "$took" -lt 10

# A kill caught by a pcall in tail position: nothing of the script runs after it, but the call
# must still end as a budget failure (it exited 0); likewise a memory kill, and in a coroutine.
for case in \
  'return pcall(function() while true do end end)' \
  'local function spin() while true do end end; local function f() return pcall(spin) end; return f()' \
  'return pcall(coroutine.wrap(function() while true do end end))' \
  'return select(2, pcall(function() while true do end end))'; do
  printf '%s\n' "$case" >"$T_TMP/scripts/tail.lua"
  TITAN_LUA_CPU_S=1 timeout 20 "$TITAN_BIN" script "$T_TMP/scripts/tail.lua" >"$T_TMP/tail.out" 2>&1
  t_check "tail-called pcall: the CPU kill still ends the script (exit $?): $case" test $? = 1
  t_grep "tail-called pcall: CPU named: $case" "CPU budget exceeded" "$T_TMP/tail.out"
done
printf 'return pcall(function() local t = {} while true do t[#t + 1] = {} end end)\n' >"$T_TMP/scripts/tailmem.lua"
TITAN_LUA_MEM_MB=32 timeout 20 "$TITAN_BIN" script "$T_TMP/scripts/tailmem.lua" >"$T_TMP/tailmem.out" 2>&1
t_check "tail-called pcall: the memory kill still ends the script" test $? = 1
t_grep "tail-called pcall: memory named" "memory budget exceeded" "$T_TMP/tailmem.out"

cat >"$T_TMP/scripts/cpu2.lua" <<'EOF'
-- the kill is not swallowed by coroutines, xpcall handlers or error-catching loops either
while true do
  pcall(coroutine.wrap(function() while true do end end))
  xpcall(function() while true do end end, function() while true do end end)
end
EOF
TITAN_LUA_CPU_S=1 timeout 20 "$TITAN_BIN" script "$T_TMP/scripts/cpu2.lua" >"$T_TMP/cpu2.out" 2>&1
t_check "coroutine/xpcall loops stopped (exit 1)" test $? = 1
t_grep "coroutine/xpcall loops: CPU named" "CPU budget exceeded" "$T_TMP/cpu2.out"

# The budget timer arms its hook on the thread that runs: loops inside coroutine.resume, nested
# coroutines, a __close handler run by coroutine.close, and a resume that catches the kill.
for case in \
  'coroutine.resume(coroutine.create(function() while true do end end))' \
  'coroutine.wrap(function() coroutine.wrap(function() while true do end end)() end)()' \
  'local co = coroutine.create(function() local x <close> = setmetatable({}, {__close = function() while true do end end}); coroutine.yield() end); coroutine.resume(co); coroutine.close(co)' \
  'local co = coroutine.wrap(function() while true do coroutine.yield() end end); while true do co(); for _ = 1, 100 do end end' \
  'while true do print(coroutine.resume(coroutine.create(function() while true do end end))) end' \
  'print(pcall(coroutine.wrap(function() local x <close> = setmetatable({}, {__close = function() while true do end end}); error("boom") end)))'; do
  printf '%s\nprint("ESCAPED")\n' "$case" >"$T_TMP/scripts/co.lua"
  start=$(date +%s)
  TITAN_LUA_CPU_S=1 timeout 20 "$TITAN_BIN" script "$T_TMP/scripts/co.lua" >"$T_TMP/co.out" 2>&1
  rc=$?; took=$(($(date +%s) - start))
  t_check "coroutine CPU kill exits 1 (got $rc): $case" test "$rc" = 1
  t_grep "coroutine CPU kill named: $case" "CPU budget exceeded: the script ran longer" "$T_TMP/co.out"
  t_nogrep "coroutine CPU kill not swallowed: $case" "ESCAPED" "$T_TMP/co.out"
  t_check "coroutine CPU kill within 5 s (took ${took}s): $case" test "$took" -lt 5
done
printf 'local co = coroutine.wrap(function() local t = {} while true do t[#t + 1] = {} end end)\nprint(pcall(co))\nprint("ESCAPED")\n' \
  >"$T_TMP/scripts/comem.lua"
TITAN_LUA_MEM_MB=32 timeout 20 "$TITAN_BIN" script "$T_TMP/scripts/comem.lua" >"$T_TMP/comem.out" 2>&1
t_check "memory kill inside a coroutine exits 1" test $? = 1
t_grep "memory kill inside a coroutine named" "memory budget exceeded" "$T_TMP/comem.out"
t_nogrep "memory kill inside a coroutine not swallowed" "ESCAPED" "$T_TMP/comem.out"
# a memory kill inside the __close handler of a failed wrapped coroutine: named, not the backstop
cat >"$T_TMP/scripts/closemem.lua" <<'EOF'
local f = coroutine.wrap(function()
  local x <close> = setmetatable({}, { __close = function()
    local t = {}
    while true do pcall(function() t[#t + 1] = string.rep("x", 1e5) .. #t end) end
  end })
  error("boom")
end)
print(pcall(f))
print("ESCAPED")
EOF
TITAN_LUA_MEM_MB=32 TITAN_LUA_CPU_S=2 timeout 20 "$TITAN_BIN" script "$T_TMP/scripts/closemem.lua" >"$T_TMP/closemem.out" 2>&1
t_check "memory kill in a __close handler exits 1" test $? = 1
t_grep "memory kill in a __close handler named" "memory budget exceeded" "$T_TMP/closemem.out"
t_nogrep "memory kill in a __close handler: not the C-function backstop" "inside a C function" "$T_TMP/closemem.out"
t_nogrep "memory kill in a __close handler not swallowed" "ESCAPED" "$T_TMP/closemem.out"

# the wall-clock budget: waiting (sleeps the script catches and repeats) is stopped too
printf 'for _ = 1, 3 do print(pcall(function() while true do titan.time.sleep_ms(100) end end)) end\nprint("ESCAPED")\n' \
  >"$T_TMP/scripts/wall.lua"
start=$(date +%s%N)
TITAN_LUA_WALL_S=1 timeout 20 "$TITAN_BIN" script "$T_TMP/scripts/wall.lua" >"$T_TMP/wall.out" 2>&1
rc=$?; took=$((($(date +%s%N) - start) / 1000000))
t_check "wall-clock budget exit 1 (got $rc)" test "$rc" = 1
t_grep "wall-clock budget named" "time budget exceeded: the call took longer than 1 s of wall-clock time (TITAN_LUA_WALL_S)" "$T_TMP/wall.out"
t_nogrep "wall-clock kill not swallowed" "ESCAPED" "$T_TMP/wall.out"
t_check "wall-clock kill after about 1 s (took ${took} ms)" test "$took" -ge 900 -a "$took" -lt 3000
printf 'titan.time.sleep_ms(10000)\nprint("ESCAPED")\n' >"$T_TMP/scripts/wall2.lua"
start=$(date +%s%N)
TITAN_LUA_WALL_S=1 timeout 20 "$TITAN_BIN" script "$T_TMP/scripts/wall2.lua" >"$T_TMP/wall2.out" 2>&1
rc=$?; took=$((($(date +%s%N) - start) / 1000000))
t_check "a long sleep_ms ends at the wall-clock budget (exit $rc, ${took} ms)" test "$rc" = 1 -a "$took" -lt 3000
t_nogrep "a long sleep_ms: nothing after it ran" "ESCAPED" "$T_TMP/wall2.out"

# C loops over a blocking binding (the kill hook runs only between Lua instructions): each call
# checks the budget first and sleeps no longer than what is left
for case in 'string.gsub(string.rep("3000 ", 5), "%d+", titan.time.sleep_ms)' \
            'local t = {} for i = 1, 6 do t[i] = 3000 end table.sort(t, titan.time.sleep_ms)'; do
  printf '%s\nprint("ESCAPED")\n' "$case" >"$T_TMP/scripts/wallc.lua"
  start=$(date +%s%N)
  TITAN_LUA_WALL_S=1 timeout 60 "$TITAN_BIN" script "$T_TMP/scripts/wallc.lua" >"$T_TMP/wallc.out" 2>&1
  rc=$?; took=$((($(date +%s%N) - start) / 1000000))
  t_check "wall budget holds in a C loop (exit $rc, ${took} ms): $case" test "$rc" = 1 -a "$took" -lt 2500
  t_grep "wall budget in a C loop named: $case" "time budget exceeded" "$T_TMP/wallc.out"
  t_nogrep "wall budget in a C loop not escaped: $case" "ESCAPED" "$T_TMP/wallc.out"
done

cat >"$T_TMP/scripts/mem.lua" <<'EOF'
local t = {}
for _ = 1, 3 do
  print(pcall(function()
    local i = #t
    while true do i = i + 1; t[i] = { i, tostring(i) } end
  end))
end
print("ESCAPED the memory budget")
EOF
TITAN_LUA_MEM_MB=32 t_run script "$T_TMP/scripts/mem.lua"
t_rc "memory budget exit" 1
t_grep "memory budget named" "memory budget exceeded" "$T_ERR"
t_grep "memory budget names its variable" "TITAN_LUA_MEM_MB" "$T_ERR"
t_grep "memory budget says 32 MiB" "32 MiB" "$T_ERR"
t_nogrep "pcall did not swallow the memory kill" "ESCAPED" "$T_OUT"

printf 'local ok, e = pcall(string.rep, "x", 64 * 1024 * 1024)\nprint("after", ok)\nlocal t = {} for i = 1, 1e6 do t[i] = i end\nprint("ESCAPED")\n' \
  >"$T_TMP/scripts/bigstr.lua"
TITAN_LUA_MEM_MB=32 t_run script "$T_TMP/scripts/bigstr.lua"
t_rc "one huge allocation exit" 1
t_grep "one huge allocation: memory named" "memory budget exceeded" "$T_ERR"
t_nogrep "one huge allocation not swallowed" "ESCAPED" "$T_OUT"

# a C function the hook cannot interrupt (pattern backtracking): the watchdog ends the process
printf 'print(pcall(string.find, string.rep("a", 3000), ".-.-.-.-x"))\nprint("ESCAPED")\n' >"$T_TMP/scripts/pattern.lua"
start=$(date +%s)
TITAN_LUA_CPU_S=1 timeout 30 "$TITAN_BIN" script "$T_TMP/scripts/pattern.lua" >"$T_TMP/pattern.out" 2>"$T_TMP/pattern.err"
rc=$?; took=$(($(date +%s) - start))
t_check "CPU budget holds inside a C function (exit 1, got $rc)" test "$rc" = 1
t_grep "C-function CPU kill named" "CPU budget exceeded inside a C function" "$T_TMP/pattern.err"
t_nogrep "C-function CPU kill not swallowed" "ESCAPED" "$T_TMP/pattern.out"
t_check "C-function CPU kill within 10 s (took ${took}s)" test "$took" -lt 10

printf 'print(pcall(setmetatable, {}, {__gc = function() while true do end end}))\n' >"$T_TMP/scripts/gc.lua"
TITAN_LUA_CPU_S=1 timeout 10 "$TITAN_BIN" script "$T_TMP/scripts/gc.lua" >"$T_TMP/gc.out" 2>&1
t_check "a __gc loop cannot outlive the budget (exit 0, no hang)" test $? = 0
t_grep "__gc refused" "__gc metamethods are not allowed" "$T_TMP/gc.out"

printf 'print("ran")\n' >"$T_TMP/scripts/ok.lua"
for var in TITAN_LUA_CPU_S TITAN_LUA_WALL_S TITAN_LUA_MEM_MB; do
  for bad in abc 0 -1 1.5 10x 99999999999; do
    env "$var=$bad" "$TITAN_BIN" script "$T_TMP/scripts/ok.lua" >"$T_TMP/bad.out" 2>"$T_TMP/bad.err"
    t_check "$var=$bad exits 2" test $? = 2
    t_grep "$var=$bad named" "$var='$bad' is not a whole number" "$T_TMP/bad.err"
    t_nogrep "$var=$bad: nothing ran" "ran" "$T_TMP/bad.out"
  done
done
TITAN_LUA_CPU_S=5 TITAN_LUA_MEM_MB=64 t_run script "$T_TMP/scripts/ok.lua"
t_rc "valid budgets accepted" 0
TITAN_LUA_CPU_S='' t_run script "$T_TMP/scripts/ok.lua"
t_rc "empty budget means the default" 0

# ---- check --------------------------------------------------------------------------------
mkdir -p "$T_TMP/strat"
cat >"$T_TMP/strat/good.lua" <<'EOF'
return {
  name = "good-one", pair = "XBTUSD", interval = 15,
  risk = { max_order_quote = 100, max_position_quote = 500 },
  on_cycle = function(ctx) return {} end,
}
EOF
t_run check "$T_TMP/strat/good.lua"
t_rc "valid strategy exit" 0
t_grep "valid report" "valid strategy" "$T_OUT"
t_grep "report name" "good-one" "$T_OUT"
t_grep "report pair" "XBTUSD" "$T_OUT"
t_grep "report interval" "15 min" "$T_OUT"
t_grep "report risk" "max_order_quote=100" "$T_OUT"
printf 'return { name = "n", pair = "XBTUSD", interval = 1440, on_cycle = function() end }\n' >"$T_TMP/strat/norisk.lua"
t_run check "$T_TMP/strat/norisk.lua"
t_rc "strategy without risk is valid" 0
t_grep "no risk: host caps" "host caps only" "$T_OUT"

cat >"$T_TMP/strat/bad.lua" <<'EOF'
return {
  pair = 42, interval = 7,
  risk = { max_order_quote = -5, max_position_quote = "lots", bogus_cap = 1 },
}
EOF
t_run check "$T_TMP/strat/bad.lua"
t_rc "invalid strategy exit" 2
t_grep "invalid named" "invalid strategy" "$T_ERR"
t_grep "problem: name" "name must be a string (got nil)" "$T_ERR"
t_grep "problem: pair" "pair must be a string (got number)" "$T_ERR"
t_grep "problem: interval" "interval 7 is not one of Kraken's candle intervals" "$T_ERR"
t_grep "problem: on_cycle" "on_cycle must be a function (got nil)" "$T_ERR"
t_grep "problem: negative risk" "risk.max_order_quote must be a positive number (got -5)" "$T_ERR"
t_grep "problem: non-number risk" "risk.max_position_quote must be a positive number (got lots)" "$T_ERR"
t_grep "problem: unknown risk field" "risk.bogus_cap is not a known risk field" "$T_ERR"
t_check "one line per problem" test "$(grep -c '^  - ' "$T_ERR")" = 7

for case in 'name = "bad name!"|name '"'"'bad name!'"'"' must be 1-64 characters' \
            'interval = "15"|interval 15 is not one of' \
            'interval = 15.5|interval 15.5 is not one of' \
            'risk = 5|risk must be a table (got number)' \
            'risk = { max_order_quote = 0 }|risk.max_order_quote must be a positive number (got 0)' \
            'risk = { max_order_quote = 1/0 }|risk.max_order_quote must be a positive number' \
            'on_cycle = "soon"|on_cycle must be a function (got string)'; do
  field=${case%%|*}; want=${case#*|}
  printf 'local s = { name = "n", pair = "XBTUSD", interval = 15, on_cycle = function() end }\nlocal o = { %s }\nfor k, v in pairs(o) do s[k] = v end\nreturn s\n' "$field" >"$T_TMP/strat/one.lua"
  t_run check "$T_TMP/strat/one.lua"
  t_rc "check [$field] exit" 2
  t_grep "check [$field] problem" "$want" "$T_ERR"
done

printf 'return 42\n' >"$T_TMP/strat/notable.lua"
t_run check "$T_TMP/strat/notable.lua"
t_rc "non-table strategy exit" 2
t_grep "non-table named" "must return the strategy table (it returned number)" "$T_ERR"
printf 'return {\n  name = "x",\n  pair = ,\n}\n' >"$T_TMP/strat/syntax.lua"
t_run check "$T_TMP/strat/syntax.lua"
t_rc "syntax error strategy exit" 2
t_grep "syntax error: cannot load" "cannot load strategy" "$T_ERR"
t_grep "syntax error: file:line" "syntax.lua:3:" "$T_ERR"
printf 'local x = nil\nreturn x.field\n' >"$T_TMP/strat/runtime.lua"
t_run check "$T_TMP/strat/runtime.lua"
t_rc "runtime error strategy exit" 2
t_grep "runtime error: file:line" "runtime.lua:2:" "$T_ERR"
t_run check "$T_TMP/strat/missing.lua"
t_rc "missing strategy exit" 2
# metamethods on the strategy table never run outside the budget (used to abort / hang)
printf 'return setmetatable({}, { __index = function() error("boom") end })\n' >"$T_TMP/strat/meta.lua"
t_run check "$T_TMP/strat/meta.lua"
t_rc "__index strategy: invalid, no crash" 2
t_grep "__index strategy: fields are missing" "name must be a string (got nil)" "$T_ERR"
printf 'return { name = "n", pair = "XBTUSD", on_cycle = function() end,\n  interval = setmetatable({}, { __tostring = function() while true do end end }) }\n' \
  >"$T_TMP/strat/tostring.lua"
TITAN_LUA_CPU_S=1 timeout 10 "$TITAN_BIN" check "$T_TMP/strat/tostring.lua" >/dev/null 2>"$T_TMP/ts.err"
t_check "__tostring strategy: exit 2, no hang" test $? = 2
t_grep "__tostring strategy: interval named" "interval table is not one of" "$T_TMP/ts.err"
printf 'while true do end\n' >"$T_TMP/strat/spin.lua"
TITAN_LUA_CPU_S=1 t_run check "$T_TMP/strat/spin.lua"
t_rc "strategy over the CPU budget while loading" 2
t_grep "check names the CPU budget" "CPU budget exceeded" "$T_ERR"

# ---- blackbox ---------------------------------------------------------------------------------
export TITAN_BLACKBOX=$T_TMP/bb.log
t_spec "$ROOT/tests/lua/log_spec.lua"
t_check "blackbox written" test -s "$TITAN_BLACKBOX"
t_lines "one line per event (newlines inside values escaped)" "$TITAN_BLACKBOX" 7
python3 - "$TITAN_BLACKBOX" >"$T_TMP/bbcheck.out" 2>&1 <<'EOF'
import json, re, sys
want = ["spec.debug", "spec.info", "spec.warn", "spec.error", "spec.newline", "spec.unicode", "spec.precision"]
levels = ["debug", "info", "warn", "error", "info", "info", "info"]
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "the file ends with a newline"
events = [json.loads(l) for l in lines[:-1]]
for e, ev, lvl in zip(events, want, levels):
    for k in ("ts", "lvl", "ev", "cycle"):
        assert k in e, "missing %s in %r" % (k, e)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["ts"]), e["ts"]
    assert e["ts"].endswith("Z")
    assert e["ev"] == ev and e["lvl"] == lvl, e
    assert e["cycle"] is None
assert [e["ev"] for e in events] == want
assert events[0]["n"] == 1
assert events[1]["s"] == 'a/b "quoted"' and events[1]["list"] == [1, 2] and events[1]["nested"] == {"k": "v"}
assert events[4]["text"] == "line1\nline2"
assert events[5]["text"] == "\u00e9"
assert events[6]["ms"] == 1795754700123, events[6]
assert abs(events[6]["price"] - 0.000123456789) < 1e-15, events[6]
print("BLACKBOX OK")
EOF
t_grep "every line is JSON with ts/lvl/ev/cycle" "BLACKBOX OK" "$T_TMP/bbcheck.out"
# the readable stderr echo: info and above by default, debug with TITAN_LOG_LEVEL=debug
t_run script "$ROOT/tests/lua/log_spec.lua"
t_has "stderr echo of info" '^[0-9-]+T[0-9:.]+Z info  spec\.info \{' "$T_ERR"
t_has "stderr echo of error" 'error spec\.error' "$T_ERR"
t_nogrep "no debug echo by default" "spec.debug" "$T_ERR"
t_lines "events are appended" "$TITAN_BLACKBOX" 14
TITAN_LOG_LEVEL=debug t_run script "$ROOT/tests/lua/log_spec.lua"
t_grep "debug echo with TITAN_LOG_LEVEL=debug" "spec.debug" "$T_ERR"
TITAN_LOG_LEVEL=error t_run script "$ROOT/tests/lua/log_spec.lua"
t_nogrep "no info echo with TITAN_LOG_LEVEL=error" "spec.info" "$T_ERR"

# bytes that are not UTF-8 (stray, overlong, surrogate, past U+10FFFF, cut short) in an event
# name (the host's encoder), a key and values (lua-cjson's): every blackbox line is still UTF-8
# JSON with the valid characters kept, and so is the stderr echo of the events
cat >"$T_TMP/scripts/bytes.lua" <<'EOF'
titan.log.info("bad\255event", { text = "a\255b\195", nested = { ["k\254"] = "\237\160\128", ok = "\195\169\226\130\172\240\159\152\128" } })
titan.log.warn("forms", { list = { "\192\175", "\224\128\175", "\244\144\128\128", "\248\136\128\128\128" } })
EOF
TITAN_BLACKBOX=$T_TMP/bytes.log t_run script "$T_TMP/scripts/bytes.lua"
t_rc "script logging invalid bytes: exit 0" 0
python3 - "$T_TMP/bytes.log" "$T_ERR" >"$T_TMP/bytes.out" 2>&1 <<'EOF'
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
events = [json.loads(l.decode("utf-8")) for l in lines]      # strict: raises on a bad byte
assert len(events) == 2, events
assert events[0]["ev"] == "bad\ufffdevent", events[0]
assert events[0]["text"] == "a\ufffdb\ufffd", events[0]
assert events[0]["nested"]["ok"] == "\u00e9\u20ac\U0001F600", events[0]
assert "\ufffd" in list(events[0]["nested"].keys())[0] or "k\ufffd" in events[0]["nested"], events[0]
assert all(set(s) == {"\ufffd"} for s in events[1]["list"]), events[1]
echo = [l for l in open(sys.argv[2], "rb").read().split(b"\n") if l[:2] == b"20"]
assert len(echo) == 2, echo
for l in echo:
    l.decode("utf-8")                                        # the stderr echo too
print("UTF8 OK")
EOF
t_grep "invalid bytes: every blackbox line is UTF-8 JSON, and the stderr echo is UTF-8" "UTF8 OK" "$T_TMP/bytes.out"

# an event name cannot forge a line of the stderr echo: odd names are shown JSON-escaped
printf 'titan.log.error("x\\n2026-01-01T00:00:00.000Z error order.placed", { a = 1 })\n' >"$T_TMP/scripts/forge.lua"
t_run script "$T_TMP/scripts/forge.lua"
t_check "forged event name stays on one stderr line" test "$(grep -c . "$T_ERR")" = 1
t_grep "forged event name shown escaped" 'error "x\n2026-01-01T00:00:00.000Z error order.placed" {"a":1}' "$T_ERR"
t_check "no line starts with the forged event" test "$(grep -c '^2026-01-01T00:00:00.000Z' "$T_ERR")" = 0

# default path: ./blackbox.log in the working directory
mkdir -p "$T_TMP/bbdefault"
printf 'titan.log.info("default.path", {})\n' >"$T_TMP/scripts/one_event.lua"
(cd "$T_TMP/bbdefault" && env -u TITAN_BLACKBOX "$TITAN_BIN" script "$T_TMP/scripts/one_event.lua" >/dev/null 2>&1)
t_grep "default blackbox is ./blackbox.log" '"ev":"default.path"' "$T_TMP/bbdefault/blackbox.log"

# an unwritable blackbox is reported once and the run goes on
cat >"$T_TMP/scripts/unwritable.lua" <<'EOF'
for i = 1, 3 do titan.log.info("still.running", { i = i }) end
print("finished")
EOF
TITAN_BLACKBOX=/nonexistent/dir/x.log t_run script "$T_TMP/scripts/unwritable.lua"
t_rc "unwritable blackbox: script still exits 0" 0
t_grep "unwritable blackbox: script finished" "finished" "$T_OUT"
t_check "unwritable blackbox warned exactly once" test "$(grep -c 'cannot open blackbox log /nonexistent/dir/x.log' "$T_ERR")" = 1
t_grep "unwritable blackbox: events still on stderr" "still.running" "$T_ERR"
if [ -w /dev/full ]; then
  TITAN_BLACKBOX=/dev/full t_run script "$T_TMP/scripts/unwritable.lua"
  t_rc "full disk: script still exits 0" 0
  t_check "full disk warned exactly once" test "$(grep -c 'cannot write blackbox log /dev/full' "$T_ERR")" = 1
fi

# ---- the pinned clock -------------------------------------------------------------------------
cat >"$T_TMP/scripts/now.lua" <<'EOF'
print("now=" .. titan.time.now_ms())
print("iso=" .. titan.time.iso())
print("slot=" .. titan.time.iso(titan.time.slot(titan.time.now_ms(), 15)))
titan.log.info("pinned", {})
EOF
TITAN_BLACKBOX=$T_TMP/pinned.log TITAN_FAKE_NOW_MS=1795754700123 t_run script "$T_TMP/scripts/now.lua"
t_rc "pinned clock exit" 0
t_grep "now_ms pinned" "now=1795754700123" "$T_OUT"
t_grep "iso() pinned" "iso=2026-11-27T04:45:00.123Z" "$T_OUT"
t_grep "slot of the pinned time" "slot=2026-11-27T04:45:00.000Z" "$T_OUT"
t_grep "blackbox ts pinned" '"ts":"2026-11-27T04:45:00.123Z"' "$T_TMP/pinned.log"
TITAN_FAKE_NOW_MS=1795754700123 t_spec "$ROOT/tests/lua/time_spec.lua"

t_finish
