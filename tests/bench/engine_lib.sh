# Shared setup of the engine benchmarks (backtest, optimize): source it. ROOT, TITAN_BIN, a temporary
# folder TMP removed on exit, the bundled strategies' folder as TITAN_HOME, no blackbox, and the host's
# default caps and paper broker (a figure must not depend on the caller's environment).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TITAN_BIN=${TITAN_BIN:-$ROOT/titan-host}
export TITAN_HOME=$ROOT TITAN_BLACKBOX=/dev/null
unset TITAN_MAX_ORDER_QUOTE TITAN_MAX_POSITION_QUOTE TITAN_MAX_ORDERS_PER_CYCLE TITAN_MAX_DAILY_LOSS_QUOTE
unset TITAN_PAPER_FEE_BPS TITAN_PAPER_SLIPPAGE_BPS TITAN_PAPER_CASH
TMP=$(mktemp -d "${TMPDIR:-/tmp}/titan-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
now_ns() { date +%s%N; }
