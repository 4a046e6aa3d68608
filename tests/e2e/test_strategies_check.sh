#!/usr/bin/env bash
# The shipped strategies pass `titan-host check` (exit 0) from any working directory; broken
# ones fail it (exit 2); the examples' specs run against the real examples/ files.
source "$(dirname "$0")/lib.sh"

for f in strategies/default.lua examples/sma_cross.lua examples/rsi_reversion.lua examples/ema_cross.lua; do
  name=$(basename "$f" .lua)
  t_run check "$ROOT/$f"
  t_rc "check $f" 0
  t_grep "check $f says valid" "valid strategy" "$T_OUT"
  t_check "check $f names it $name" grep -qE "^ *name +$name\$" "$T_OUT"
  t_grep "check $f shows its risk" "max_order_quote=" "$T_OUT"
done

# From another working directory: lib.ta resolves through the home, not the cwd.
(cd "$T_TMP" && "$TITAN_BIN" check "$ROOT/examples/ema_cross.lua" >/dev/null 2>&1); rc=$?
t_check "check from another cwd exits 0 (got $rc)" test "$rc" = 0

# Broken copies fail with exit 2 and say why.
sed 's/^local ta = require "lib.ta"/local ta = require "lib.no_such_module"/' "$ROOT/strategies/default.lua" >"$T_TMP/missing_lib.lua"
t_run check "$T_TMP/missing_lib.lua"
t_rc "a missing module fails check" 2
t_grep "a missing module is named" "no_such_module" "$T_ERR"

sed 's/max_order_quote = 100/max_order_quote = -100/' "$ROOT/strategies/default.lua" >"$T_TMP/negative_risk.lua"
t_run check "$T_TMP/negative_risk.lua"
t_rc "a negative risk cap fails check" 2
t_grep "the negative risk cap is named" "risk.max_order_quote" "$T_ERR"

sed 's/^local ta = require "lib.ta"/local ta = require "lib.ta"\nleaked = 1/' "$ROOT/examples/sma_cross.lua" >"$T_TMP/global.lua"
t_run check "$T_TMP/global.lua"
t_rc "assigning a global fails check" 2

# The examples' specs: copy them next to the spec helpers (examples/ is not on the module path).
mkdir -p "$T_TMP/ex"
cp "$ROOT/tests/lua/strategy_examples.lua" "$ROOT/tests/lua/spec.lua" "$ROOT/tests/lua/fake_ctx.lua" \
   "$ROOT"/examples/sma_cross.lua "$ROOT"/examples/rsi_reversion.lua "$ROOT"/examples/ema_cross.lua "$T_TMP/ex/"
t_spec "$T_TMP/ex/strategy_examples.lua"

t_finish
