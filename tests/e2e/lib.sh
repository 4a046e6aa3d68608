# Shared helpers for end-to-end tests (bash). Source it, call the t_* functions, end with t_finish.
set -u
TITAN_BIN=${TITAN_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/titan-host}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_PASSED=0
T_FAILED=0
T_NAME=$(basename "$0" .sh)
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/titan-e2e.XXXXXX")
T_PIDS=()
T_FINISHED=0
# On exit: stops what the test started; a suite that ends before t_finish (a bash error such as an
# unbound variable under set -u, an exit in a helper) still prints a result line, with one failure
# for the checks it never reached, so tests/run counts it as failed and says why.
t_cleanup() {
  local rc=$?
  for p in "${T_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$T_TMP"
  if [ "$T_FINISHED" = 0 ]; then
    echo "FAIL $T_NAME: died early (exit $rc) before t_finish; the checks after that point did not run" >&2
    echo "$T_NAME: $T_PASSED passed, $((T_FAILED + 1)) failed"
  fi
}
trap t_cleanup EXIT

t_pass() { T_PASSED=$((T_PASSED + 1)); }
t_fail() { T_FAILED=$((T_FAILED + 1)); echo "FAIL $T_NAME: $*" >&2; }
# t_check NAME CONDITION-COMMAND...: passes when the command succeeds.
t_check() { local name=$1; shift; if "$@"; then t_pass; else t_fail "$name"; fi; }
# t_run: runs titan-host with args; sets T_OUT, T_ERR (file paths) and T_RC.
t_run() {
  T_OUT=$T_TMP/out.$RANDOM; T_ERR=$T_TMP/err.$RANDOM
  "$TITAN_BIN" "$@" >"$T_OUT" 2>"$T_ERR" </dev/null
  T_RC=$?
}
t_rc() { local name=$1 want=$2; if [ "$T_RC" = "$want" ]; then t_pass; else t_fail "$name: exit $T_RC, want $want"; [ -n "${T_ERR:-}" ] && sed 's/^/    /' "$T_ERR" >&2; fi; }
t_grep() { local name=$1 pattern=$2 file=$3; if grep -qF -- "$pattern" "$file"; then t_pass; else t_fail "$name: '$pattern' not in $(basename "$file")"; head -c 2000 "$file" | sed 's/^/    /' >&2; fi; }
t_nogrep() { local name=$1 pattern=$2; shift 2; if grep -qF -- "$pattern" "$@" 2>/dev/null; then t_fail "$name: '$pattern' found"; else t_pass; fi; }
# t_free_port: an unused loopback TCP port.
t_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# t_wait_port PORT: waits up to 10 s for a listener on 127.0.0.1:PORT.
t_wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# t_pty_stderr OUT CMD...: runs CMD with stderr on a pseudo-terminal (stdout discarded), what it drew
# into OUT; returns CMD's exit code. For progress bars, which are drawn only on a terminal.
t_pty_stderr() {
  local out=$1; shift
  python3 - "$out" "$@" <<'PY'
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
drawn = b""
try:
    while True:
        chunk = os.read(master, 4096)
        if not chunk: break
        drawn += chunk
except OSError:
    pass
open(sys.argv[1], "wb").write(drawn)
sys.exit(p.returncode)
PY
}
# t_spec FILE [ARGS]: runs a Lua spec through titan-host and folds its counts into ours.
t_spec() {
  local out; out=$("$TITAN_BIN" script "$@" 2>&1); local rc=$?
  echo "$out" | grep -v ' passed, .* failed$' | grep . | sed 's/^/    /' >&2
  local line; line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed$' | tail -1)
  if [ -n "$line" ]; then
    local p f; p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\2/')
    T_PASSED=$((T_PASSED + p)); T_FAILED=$((T_FAILED + f))
    [ "$rc" != 0 ] && [ "$f" = 0 ] && t_fail "$1 exited $rc"
  else
    t_fail "$1 printed no result (exit $rc)"
  fi
  return 0
}
t_finish() { T_FINISHED=1; echo "$T_NAME: $T_PASSED passed, $T_FAILED failed"; [ "$T_FAILED" = 0 ]; }
