/* The backtest engine through its C API: hand-computed results for a round trip, a loss, fees,
 * a flat market and a gap; the accounting identity on every bar; no look-ahead; limit fills;
 * failures and their exit codes; byte-identical JSON from two runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtest.h"
#include "exit_codes.h"
#include "unit.h"

#define FIX "tests/fixtures/backtest/"
#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-9 * (1 + fabs((double)(b))))

static char tmpdir[] = "/tmp/titan-bt.XXXXXX";

static const char *tmp_path(const char *name)
{
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static const char *write_tmp(const char *name, const char *text)
{
    const char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    return p;
}

/* Buys 0.5 after the 2nd bar closes, sells everything after the 4th. */
static const char roundtrip_lua[] =
    "return { name = 'rt', pair = 'XBTUSD', interval = 60, on_cycle = function(ctx)\n"
    "  local c = ctx.market.ohlc(ctx.pair, ctx.interval, 720)\n"
    "  if #c == 2 then return { { side = 'buy', type = 'market', volume = 0.5, reason = 'in' } } end\n"
    "  if #c == 4 then return { { side = 'sell', type = 'market', volume = ctx.portfolio.position, reason = 'out' } } end\n"
    "  return {}\n"
    "end }\n";

static backtest_options options(const char *strategy, const char *data, double fee_bps, double slip_bps)
{
    backtest_options o = {0};
    o.strategy_path = strategy;
    o.data_path = data;
    o.paper = (paper_config){.fee_rate = fee_bps / 10000, .slippage_rate = slip_bps / 10000, .starting_cash = 10000};
    o.rules = (pair_rules){.ordermin = 0.0001, .costmin = 0.5, .lot_decimals = 8, .pair_decimals = 1, .tick_size = 0.1};
    return o;
}

/* The fills replayed bar by bar give back the equity of every bar (cash + position x close),
 * the bars in the market and the fees reported. */
static void check_accounting(const backtest_result *r, const char *what)
{
    int identity = 1, replay = 1;
    size_t f = 0, in_market = 0;
    double cash = r->m.start_equity, pos = 0, fees = 0;
    for (size_t k = 0; k + r->start <= r->end; k++) {
        const csv_bar *b = &r->data.bars[r->start + k];
        for (; f < r->nfills && r->fills[f].t <= b->t; f++) {
            const backtest_fill *x = &r->fills[f];
            cash += x->side == SIDE_BUY ? -(x->cost + x->fee) : x->cost - x->fee;
            pos += x->side == SIDE_BUY ? x->volume : -x->volume;
            fees += x->fee;
            replay &= fabs(x->cost - x->price * x->volume) < 1e-9 && x->t == b->t;
        }
        identity &= fabs(r->equity[k] - (cash + pos * b->c)) < 1e-6;
        in_market += pos >= 0.0001 - 1e-12;
    }
    CHECK_MSG(identity, what);
    CHECK_MSG(replay && f == r->nfills, what);
    CHECK_MSG(fabs(fees - r->m.fees) < 1e-9, what);
    CHECK_MSG(in_market == r->in_market && NEAR(r->m.time_in_market, (double)in_market / (double)(r->end - r->start + 1)),
              what);
}

static void test_round_trip(void)
{
    const char *s = write_tmp("rt.lua", roundtrip_lua);
    backtest_options o = options(s, FIX "rt_kraken.csv", 0, 0);
    backtest_result r;
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    static const double want[] = {10000, 10000, 10004, 10009, 10009, 10009};
    int same = 1;
    for (int k = 0; k < 6; k++) same &= NEAR(r.equity[k], want[k]);
    CHECK_MSG(same, "equity 10000, 10000, 10004 (0.5 @102, close 110), 10009, 10009, 10009");
    CHECK_INT(r.nfills, 2);
    CHECK(r.fills[0].side == SIDE_BUY && r.fills[0].price == 102 && r.fills[0].t == 1704074400);   /* bar 2's open */
    CHECK(r.fills[1].side == SIDE_SELL && r.fills[1].price == 120 && r.fills[1].t == 1704081600);  /* bar 4's open */
    CHECK(NEAR(r.fills[1].realized_pnl, 9));
    CHECK(NEAR(r.m.total_return, 0.0009));
    CHECK(NEAR(r.m.final_equity, 10009));
    CHECK(r.m.max_drawdown == 0);
    CHECK_INT(r.m.round_trips, 1);
    CHECK_INT(r.m.wins, 1);
    CHECK(r.m.win_rate == 1);
    CHECK(isnan(r.m.profit_factor));                   /* no losing trip */
    CHECK(r.m.fees == 0);
    CHECK(NEAR(r.m.time_in_market, 2.0 / 6));
    CHECK(NEAR(r.m.bh_return, 0.2));
    CHECK(isnan(r.m.cagr));                            /* five hours: not annualized */
    /* per-bar returns 0, 4/10000, 5/10004, 0, 0; annualized with 8766 hourly bars a year */
    double rets[] = {0, 4.0 / 10000, 5.0 / 10004, 0, 0}, mean = (rets[1] + rets[2]) / 5, ss = 0;
    for (int k = 0; k < 5; k++) ss += (rets[k] - mean) * (rets[k] - mean);
    CHECK(NEAR(r.m.sharpe, mean / sqrt(ss / 4) * sqrt(8766)));
    CHECK(isnan(r.m.sortino));                         /* no down bar */
    check_accounting(&r, "round trip accounting");
    backtest_result_free(&r);
}

static void test_loss_and_drawdown(void)
{
    const char *s = write_tmp("rt.lua", roundtrip_lua);
    backtest_options o = options(s, FIX "loss.csv", 0, 0);
    backtest_result r;
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    static const double want[] = {10000, 10000, 9995, 9990, 9990, 9990};
    int same = 1;
    for (int k = 0; k < 6; k++) same &= NEAR(r.equity[k], want[k]);
    CHECK_MSG(same, "equity 10000, 10000, 9995, 9990, 9990, 9990");
    CHECK(NEAR(r.m.total_return, -0.001));
    CHECK(NEAR(r.m.max_drawdown, 0.001));
    CHECK_INT(r.m.dd_peak_t, 1704067200);
    CHECK_INT(r.m.dd_trough_t, 1704078000);
    CHECK_INT(r.m.dd_recovered_t, 0);
    CHECK_INT(r.m.losses, 1);
    CHECK(r.m.win_rate == 0);
    CHECK(r.m.profit_factor == 0);
    CHECK(NEAR(r.m.gross_loss, 10));
    /* Sortino: down returns -5/10000 and -5/9995 over 5 returns */
    double r2 = -5.0 / 10000, r3 = -5.0 / 9995, mean = (r2 + r3) / 5;
    CHECK(NEAR(r.m.sortino, mean / sqrt((r2 * r2 + r3 * r3) / 5) * sqrt(8766)));
    check_accounting(&r, "loss accounting");
    backtest_result_free(&r);
}

static void test_fees_and_slippage(void)
{
    const char *s = write_tmp("rt.lua", roundtrip_lua);
    backtest_options o = options(s, FIX "rt_kraken.csv", 40, 0);
    backtest_result r;
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    /* buy 51 + 0.204 fee; sell 60 - 0.24 fee */
    CHECK(NEAR(r.m.final_equity, 10000 - 51.204 + 59.76));
    CHECK(NEAR(r.m.fees, 0.444));
    CHECK(NEAR(r.fills[1].realized_pnl, 59.76 - 51.204));
    check_accounting(&r, "fee accounting");
    backtest_result_free(&r);

    o = options(s, FIX "rt_kraken.csv", 40, 5);
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    /* buy at 102 x 1.0005 = 102.051, sell at 120 x 0.9995 = 119.94 */
    CHECK(NEAR(r.fills[0].price, 102.051));
    CHECK(NEAR(r.fills[1].price, 119.94));
    double buy = 0.5 * 102.051, sell = 0.5 * 119.94;
    CHECK(NEAR(r.m.final_equity, 10000 - buy * 1.004 + sell * 0.996));
    CHECK(NEAR(r.m.fees, (buy + sell) * 0.004));
    check_accounting(&r, "fee and slippage accounting");
    backtest_result_free(&r);
}

static void test_flat_and_gap(void)
{
    const char *s = write_tmp("rt.lua", roundtrip_lua);
    backtest_options o = options(s, FIX "flat.csv", 0, 0);
    backtest_result r;
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    CHECK(r.m.total_return == 0 && r.m.max_drawdown == 0 && r.m.bh_return == 0);
    CHECK(isnan(r.m.sharpe) && isnan(r.m.sortino));    /* no variance: undefined, not 0 or inf */
    CHECK_INT(r.m.round_trips, 1);
    CHECK(r.m.wins == 0 && r.m.losses == 0);           /* breakeven counts as neither */
    backtest_result_free(&r);

    o = options(s, FIX "flat.csv", 40, 0);              /* a flat market with fees loses the fees */
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    CHECK(NEAR(r.m.final_equity, 10000 - 0.2 - 0.2));
    CHECK_INT(r.m.losses, 1);
    backtest_result_free(&r);

    o = options(s, FIX "gap.csv", 0, 0);
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    CHECK_INT(r.data.gaps, 1);
    CHECK_INT(r.data.missing, 3);
    /* the order decided at 02:00's close fills at the next bar there is (06:00), no earlier */
    CHECK_INT(r.fills[0].t, 1704074400);
    CHECK_INT(r.fills[1].t, 1704092400);
    CHECK_INT(r.fills[1].decided_t, 1704092400);
    CHECK(NEAR(r.m.final_equity, 10009));
    CHECK(NEAR(r.m.years, 8.0 * 3600 / (365.25 * 86400)));
    check_accounting(&r, "gap accounting");
    backtest_result_free(&r);
}

/* The strategy asserts everything it sees is in the past; an assertion is a failed run. */
static void test_no_look_ahead(void)
{
    const char *s = write_tmp("peek.lua",
        "return { name = 'peek', pair = 'XBTUSD', interval = 60, on_cycle = function(ctx)\n"
        "  local c = ctx.market.ohlc(ctx.pair, ctx.interval, 720)\n"
        "  local last = c[#c]\n"
        "  assert(c[#c + 1] == nil, 'a candle beyond the last')\n"
        "  assert((last.t + 3600) * 1000 == ctx.now, 'the last candle is not the one that just closed')\n"
        "  for _, k in ipairs(c) do assert((k.t + 3600) * 1000 <= ctx.now, 'a candle that has not closed') end\n"
        "  local tk = ctx.market.ticker()\n"
        "  assert(tk.last == last.c and tk.bid == last.c and tk.ask == last.c, 'the ticker is not the last close')\n"
        "  assert(#ctx.market.ohlc(nil, nil, 2) == math.min(2, #c))\n"
        "  ctx.state.n = (ctx.state.n or 0) + 1\n"
        "  assert(ctx.state.n == #c, 'ctx.state is not the same table across bars')\n"
        "  assert(ctx.mode == 'BACKTEST' and type(ctx.ai) == 'table' and #ctx.ai == 0)\n"
        "  local other, err = ctx.market.ohlc('ETHUSD', 60, 3)\n"
        "  assert(other == nil and err.code == 'backtest.no_data')\n"
        "  local wrong, err2 = ctx.market.ohlc(nil, 15, 3)\n"
        "  assert(wrong == nil and err2.code == 'backtest.no_data')\n"
        "  assert(not pcall(ctx.market.ohlc, nil, nil, 721), 'n > 720 is misuse')\n"
        "  assert(ctx.portfolio.equity == ctx.portfolio.cash + ctx.portfolio.position * last.c)\n"
        "  if #c == 2 then return { { side = 'buy', type = 'market', volume = 0.1 } } end\n"
        "  return {}\n"
        "end }\n");
    backtest_options o = options(s, FIX "rt_kraken.csv", 40, 5);
    backtest_result r;
    int rc = backtest_run(&o, &r);
    CHECK_MSG(rc == EXIT_OK, r.error);
    backtest_result_free(&r);
    /* the checks above can fail: a strategy that does look ahead is caught */
    s = write_tmp("cheat.lua",
        "return { name = 'cheat', pair = 'XBTUSD', interval = 60, on_cycle = function(ctx)\n"
        "  local c = ctx.market.ohlc(ctx.pair, ctx.interval, 720)\n"
        "  assert(#c < 3, 'saw three candles')\n"
        "  return {}\n"
        "end }\n");
    o = options(s, FIX "rt_kraken.csv", 40, 5);
    CHECK_INT(backtest_run(&o, &r), EXIT_FAILED);
    CHECK_MSG(strstr(r.error, "saw three candles") && strstr(r.error, "2024-01-01T03:00"), r.error);
    backtest_result_free(&r);
}

static void test_limits(void)
{
    const char *s = write_tmp("lim.lua",
        "return { name = 'lim', pair = 'XBTUSD', interval = 60, on_cycle = function(ctx)\n"
        "  local n = #ctx.market.ohlc(nil, nil, 10)\n"
        "  if n == 1 then return { { side = 'buy', type = 'limit', volume = 0.5, price = 98 } } end\n"
        "  if n == 2 then return { { side = 'buy', type = 'limit', volume = 0.5, price = 101.5 } } end\n"
        "  if n == 4 then return { { side = 'sell', type = 'limit', volume = 0.5, price = 125 } } end\n"
        "  if n == 5 then return { { side = 'sell', type = 'limit', volume = 0.5, price = 121 } } end\n"
        "  return {}\n"
        "end }\n");
    backtest_options o = options(s, FIX "rt_kraken.csv", 0, 5);
    backtest_result r;
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    CHECK_INT(r.limit_unfilled, 2);                    /* 98 under the next low 99; 125 over the next high 121 */
    CHECK_INT(r.nfills, 2);
    CHECK(r.fills[0].price == 101.5 && r.fills[0].t == 1704074400);   /* low 101 <= 101.5: at the limit */
    CHECK(r.fills[1].price == 121 && r.fills[1].t == 1704085200);     /* high 121 >= 121 */
    check_accounting(&r, "limit accounting");
    backtest_result_free(&r);
}

/* A strategy trading on a pseudo-random rule over 600 generated bars: the identity must hold
 * on every bar, with market and limit orders, resizing and rejections in the mix. */
static void test_accounting_busy(void)
{
    const char *data = tmp_path("wave.csv");
    FILE *f = fopen(data, "wb");
    double price = 30000;
    for (int i = 0; i < 600; i++) {
        double o = price, c = price * (1 + 0.01 * sin(i * 0.37) + 0.004 * cos(i * 1.3));
        double h = fmax(o, c) * 1.003, l = fmin(o, c) * 0.997;
        fprintf(f, "%d,%.2f,%.2f,%.2f,%.2f,1.5,10\n", 1704067200 + i * 900, o, h, l, c);
        price = c;
    }
    fclose(f);
    const char *s = write_tmp("busy.lua",
        "return { name = 'busy', pair = 'XBTUSD', interval = 15, risk = { max_order_quote = 80 },\n"
        "  on_cycle = function(ctx)\n"
        "    local c = ctx.market.ohlc(nil, nil, 3)\n"
        "    local k = (ctx.state.k or 7) * 1103515245 % 2147483648\n"
        "    ctx.state.k = k\n"
        "    local last = c[#c].c\n"
        "    if k % 5 == 0 then return { { side = 'buy', type = 'market', quote = 30 + k % 90 } } end\n"
        "    if k % 5 == 1 then return { { side = 'buy', type = 'limit', volume = 0.002, price = last * 0.998 } } end\n"
        "    if k % 5 == 2 and ctx.portfolio.position > 0 then\n"
        "      return { { side = 'sell', type = 'market', volume = ctx.portfolio.position / 2 } } end\n"
        "    if k % 5 == 3 and ctx.portfolio.position > 0 then\n"
        "      return { { side = 'sell', type = 'limit', volume = ctx.portfolio.position, price = last * 1.002 } } end\n"
        "    return {}\n"
        "  end }\n");
    backtest_options o = options(s, data, 40, 5);
    backtest_result r;
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    CHECK_MSG(r.nfills > 50, "the busy strategy trades");
    CHECK_MSG(r.intents[INTENT_RESIZED] + r.intents[INTENT_REJECTED] > 0, "risk gates resized or rejected some");
    check_accounting(&r, "busy accounting");
    backtest_result_free(&r);
}

static void test_failures(void)
{
    backtest_result r;
    const char *garbage = write_tmp("garbage.lua",
        "return { name = 'g', pair = 'XBTUSD', interval = 60, on_cycle = function(ctx) return 42 end }\n");
    backtest_options o = options(garbage, FIX "rt_kraken.csv", 40, 5);
    CHECK_INT(backtest_run(&o, &r), EXIT_FAILED);
    CHECK_MSG(strstr(r.error, "list of intents") != NULL, r.error);
    backtest_result_free(&r);

    const char *s15 = write_tmp("rt15.lua",
        "return { name = 'rt', pair = 'XBTUSD', interval = 15, on_cycle = function(ctx) return {} end }\n");
    o = options(s15, FIX "rt_kraken.csv", 40, 5);
    CHECK_INT(backtest_run(&o, &r), EXIT_USAGE);      /* 60-minute data cannot make 15-minute bars */
    CHECK_MSG(strstr(r.error, "15-minute") != NULL, r.error);
    backtest_result_free(&r);

    const char *invalid = write_tmp("invalid.lua", "return { name = 'x', pair = 'XBTUSD', interval = 7 }\n");
    o = options(invalid, FIX "rt_kraken.csv", 40, 5);
    CHECK_INT(backtest_run(&o, &r), EXIT_USAGE);
    backtest_result_free(&r);

    o = options(write_tmp("rt.lua", roundtrip_lua), FIX "bad_high_low.csv", 40, 5);
    CHECK_INT(backtest_run(&o, &r), EXIT_USAGE);
    CHECK_MSG(strstr(r.error, ":2:") != NULL, r.error);
    backtest_result_free(&r);

    const char *loop = write_tmp("loop.lua",
        "return { name = 'loop', pair = 'XBTUSD', interval = 60, on_cycle = function(ctx)\n"
        "  if #ctx.market.ohlc(nil, nil, 5) == 3 then while true do end end\n"
        "  return {}\n"
        "end }\n");
    setenv("TITAN_LUA_CPU_S", "1", 1);
    o = options(loop, FIX "rt_kraken.csv", 40, 5);
    CHECK_INT(backtest_run(&o, &r), EXIT_FAILED);
    CHECK_MSG(strstr(r.error, "CPU budget") && strstr(r.error, "2024-01-01T03:00"), r.error);
    backtest_result_free(&r);
    unsetenv("TITAN_LUA_CPU_S");
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[2][65536];
    static int next;
    char *b = buf[next++ % 2];
    size_t n = fread(b, 1, sizeof buf[0] - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

static void test_json_deterministic(void)
{
    const char *s = write_tmp("rt.lua", roundtrip_lua);
    backtest_options o = options(s, FIX "gap.csv", 40, 5);
    char err[256];
    for (int run = 0; run < 2; run++) {
        backtest_result r;
        CHECK_INT(backtest_run(&o, &r), EXIT_OK);
        CHECK(backtest_write_json(&r, &o, tmp_path(run ? "b.json" : "a.json"), err, sizeof err) == 0);
        backtest_result_free(&r);
    }
    const char *a = slurp(tmp_path("a.json")), *b = slurp(tmp_path("b.json"));
    CHECK(a && b && strlen(a) > 500);
    CHECK_STR(a, b);
    CHECK(strstr(a, "\"gaps\":1,") != NULL);
    CHECK(strstr(a, "\"final_equity\":") != NULL);
    CHECK(strstr(a, "nan") == NULL && strstr(a, "inf") == NULL);   /* undefined metrics are null */
    CHECK(strstr(a, "\"profit_factor\":null") != NULL);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    setenv("TITAN_BLACKBOX", tmp_path("blackbox.log"), 1);
    unsetenv("TITAN_MAX_ORDER_QUOTE");
    unsetenv("TITAN_MAX_POSITION_QUOTE");
    unsetenv("TITAN_MAX_ORDERS_PER_CYCLE");
    unsetenv("TITAN_MAX_DAILY_LOSS_QUOTE");
    test_round_trip();
    test_loss_and_drawdown();
    test_fees_and_slippage();
    test_flat_and_gap();
    test_no_look_ahead();
    test_limits();
    test_accounting_busy();
    test_failures();
    test_json_deterministic();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return UNIT_DONE("test_backtest_engine");
}
