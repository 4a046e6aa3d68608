/* The backtest session the optimizer and --set/--interval rest on: one Lua state, many runs, no
 * state leaking between them; params overrides checked by name and kind; a strategy run at
 * another interval; rejected intents counted by reason (every risk gate's code); exposure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtest.h"
#include "exit_codes.h"
#include "risk.h"
#include "unit.h"

#define FIX "tests/fixtures/backtest/"
#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-9 * (1 + fabs((double)(b))))

static char tmpdir[] = "/tmp/titan-bts.XXXXXX";

static const char *write_tmp(const char *name, const char *text)
{
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    return p;
}

static backtest_options options(const char *strategy, const char *data)
{
    backtest_options o = {0};
    o.strategy_path = strategy;
    o.data_path = data;
    o.paper = (paper_config){.fee_rate = 0, .slippage_rate = 0, .starting_cash = 10000};
    o.rules = (pair_rules){.ordermin = 0.0001, .costmin = 0.5, .lot_decimals = 8, .pair_decimals = 1, .tick_size = 0.1};
    return o;
}

static param_setting setting(const char *name, const char *text)
{
    param_setting s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    param_value_parse(text, &s.value);
    return s;
}

/* A module-level counter (a local of the file, not of on_cycle): buys `qty` on the chunk's 2nd
 * call. Were the file not run afresh for each backtest, a second run would never buy. */
static const char counter_lua[] =
    "local params = { qty = 0.5, go = true, tag = 'x', bars = 2 }\n"
    "local calls = 0\n"
    "return { name = 'counter', pair = 'XBTUSD', interval = 60, params = params, on_cycle = function(ctx)\n"
    "  calls = calls + 1\n"
    "  assert(type(params.bars) == 'number' and math.type(params.bars) == 'integer', 'bars stays an integer')\n"
    "  if calls == params.bars and params.go then\n"
    "    return { { side = 'buy', type = 'market', volume = params.qty, reason = params.tag } }\n"
    "  end\n"
    "  return {}\n"
    "end }\n";

static void test_runs_do_not_leak(void)
{
    backtest_options o = options(write_tmp("counter.lua", counter_lua), FIX "rt_kraken.csv");
    backtest_session *s;
    char err[512];
    CHECK_INT(backtest_session_open(&o, &s, err, sizeof err), EXIT_OK);
    int own = 0, iv = 0;
    CHECK_STR(backtest_session_strategy(s, &own, &iv), "counter");
    CHECK(own == 60 && iv == 60);
    CHECK_INT(backtest_session_data(s)->count, 6);
    backtest_result a, b;
    CHECK_INT(backtest_session_run(s, NULL, 0, 0, 0, &a), EXIT_OK);
    CHECK_INT(backtest_session_run(s, NULL, 0, 0, 0, &b), EXIT_OK);
    CHECK_INT(a.nfills, 1);
    CHECK_INT(b.nfills, 1);
    CHECK(a.nfills == 1 && b.nfills == 1 && a.fills[0].t == b.fills[0].t && a.fills[0].volume == 0.5);
    CHECK(a.m.final_equity == b.m.final_equity);
    CHECK_STR(b.fills[0].reason, "x");
    backtest_result_free(&a);
    backtest_result_free(&b);

    /* overrides of each kind, per run; the session's own options are untouched afterwards */
    param_setting set[] = {setting("qty", "0.25"), setting("tag", "12 words"), setting("bars", "3")};
    CHECK_INT(backtest_session_run(s, set, 3, 0, 0, &a), EXIT_OK);
    CHECK(a.nfills == 1 && a.fills[0].volume == 0.25 && a.fills[0].t == 1704078000);   /* 3rd call, 4th bar */
    CHECK_STR(a.nfills ? a.fills[0].reason : "", "12 words");
    backtest_result_free(&a);
    param_setting off[] = {setting("go", "false")};
    CHECK_INT(backtest_session_run(s, off, 1, 0, 0, &a), EXIT_OK);
    CHECK_INT(a.nfills, 0);
    backtest_result_free(&a);
    CHECK_INT(backtest_session_run(s, NULL, 0, 0, 0, &a), EXIT_OK);
    CHECK(a.nfills == 1 && a.fills[0].volume == 0.5);
    backtest_result_free(&a);

    /* a range per run: the same session decides on the last three bars only */
    CHECK_INT(backtest_session_run(s, NULL, 0, 1704074400000, 0, &a), EXIT_OK);
    CHECK_INT(a.start, 2);
    CHECK_INT(a.end, 5);
    backtest_result_free(&a);

    /* bad overrides: the run refuses them (exit 2) and says which and why */
    static const struct { const char *name, *text, *why; } bad[] = {
        {"qtty", "1", "params.qtty is not in the strategy's params"},
        {"qty", "abc", "params.qty is a number (got 'abc')"},
        {"bars", "2.5", "params.bars is an integer: give a whole number"},
        {"go", "1", "params.go is a boolean: give true or false"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        param_setting one = setting(bad[i].name, bad[i].text);
        CHECK_INT(backtest_session_run(s, &one, 1, 0, 0, &a), EXIT_USAGE);
        CHECK_MSG(strstr(a.error, bad[i].why) != NULL, bad[i].why);
        backtest_result_free(&a);
    }
    backtest_session_close(s);

    /* --set (the session's options) is checked when the session opens, and a run's own params win */
    param_setting fixed[] = {setting("qty", "0.125")};
    o.params = fixed;
    o.nparams = 1;
    CHECK_INT(backtest_session_open(&o, &s, err, sizeof err), EXIT_OK);
    CHECK_INT(backtest_session_run(s, NULL, 0, 0, 0, &a), EXIT_OK);
    CHECK(a.nfills == 1 && a.fills[0].volume == 0.125);
    backtest_result_free(&a);
    CHECK_INT(backtest_session_run(s, set, 1, 0, 0, &a), EXIT_OK);
    CHECK(a.nfills == 1 && a.fills[0].volume == 0.25);
    backtest_result_free(&a);
    backtest_session_close(s);
    param_setting typo[] = {setting("qtty", "1")};
    o.params = typo;
    CHECK_INT(backtest_session_open(&o, &s, err, sizeof err), EXIT_USAGE);
    CHECK(s == NULL && strstr(err, "params.qtty is not in the strategy's params") != NULL);
}

/* Written for 15-minute bars; asserts it is handed the interval it runs at. */
static const char fifteen_lua[] =
    "return { name = 'fifteen', pair = 'XBTUSD', interval = 15, on_cycle = function(ctx)\n"
    "  local c = ctx.market.ohlc(ctx.pair, ctx.interval, 2)\n"
    "  assert(ctx.interval == 60 and #c >= 1, 'ctx.interval is the run interval')\n"
    "  return {}\n"
    "end }\n";

static void test_interval_override(void)
{
    backtest_options o = options(write_tmp("fifteen.lua", fifteen_lua), FIX "rt_kraken.csv");
    backtest_result r;
    CHECK_INT(backtest_run(&o, &r), EXIT_USAGE);      /* hourly data cannot make 15-minute bars */
    CHECK_MSG(strstr(r.error, "--interval 60") != NULL, "the refusal suggests --interval");
    backtest_result_free(&r);
    o.interval = 60;
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    CHECK(r.interval == 60 && r.own_interval == 15);
    backtest_result_free(&r);
}

/* Each bar, intents that the gates refuse for different reasons. */
static const char refused_lua[] =
    "return { name = 'refused', pair = 'XBTUSD', interval = 60, risk = { max_orders_per_cycle = 3 },\n"
    "  on_cycle = function(ctx)\n"
    "  return {\n"
    "    { side = 'buy', type = 'market', volume = 0.00001, reason = 'under ordermin' },\n"
    "    { side = 'sell', type = 'market', volume = 1, reason = 'holds nothing' },\n"
    "    { side = 'buy', type = 'market', volume = 0.001, color = 'red' },\n"
    "    { side = 'buy', type = 'market', volume = 0.01, reason = 'accepted' },\n"
    "    { side = 'buy', type = 'market', volume = 0.01, reason = 'one too many' },\n"
    "  }\n"
    "end }\n";

static void test_rejected_by_reason(void)
{
    backtest_options o = options(write_tmp("refused.lua", refused_lua), FIX "flat.csv");
    risk_caps caps = {.max_order_quote = 1e9, .max_position_quote = 1e9, .max_orders_per_cycle = 1,
                      .max_daily_loss_quote = 1e9};
    o.caps = &caps;                                   /* not the environment's */
    backtest_result r;
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    int decided = 5;                                  /* 6 bars, the last is only marked */
    CHECK_INT(r.intents[INTENT_ACCEPTED], decided);
    CHECK_INT(r.rejected_by[RISK_REJECT_ORDERMIN], decided);
    CHECK_INT(r.rejected_by[RISK_REJECT_INSUFFICIENT_BASE], decided);
    CHECK_INT(r.rejected_by[RISK_REJECT_INVALID], decided);
    CHECK_INT(r.rejected_by[RISK_REJECT_MAX_ORDERS], decided);
    CHECK_INT(r.intents[INTENT_REJECTED], 4 * decided);
    CHECK(r.caps.max_orders_per_cycle == 1);          /* the strategy can tighten, never loosen */
    backtest_result_free(&r);
}

/* Every gate's verdict maps back to its code. */
static void test_reject_codes(void)
{
    const pair_rules xbt = {.ordermin = 0.0001, .costmin = 0.5, .lot_decimals = 8, .pair_decimals = 1, .tick_size = 0.1};
    const risk_caps caps = {.max_order_quote = 100, .max_position_quote = 500, .max_orders_per_cycle = 2,
                            .max_daily_loss_quote = 50};
    struct { order_side side; double volume, quote, price_ref; risk_book book; risk_reject want; } cases[] = {
        {SIDE_BUY, 0, 50, 50000, {.cash = 1000, .realized_today = -60}, RISK_REJECT_DAILY_LOSS},
        {SIDE_BUY, 0, 50, 0, {.cash = 1000}, RISK_REJECT_NO_PRICE},
        {SIDE_SELL, 1, 0, 50000, {.cash = 1000, .position = 0.5}, RISK_REJECT_INSUFFICIENT_BASE},
        {SIDE_BUY, 0.001, 0, 50000, {.cash = 1000, .position = 0.01}, RISK_REJECT_MAX_POSITION},
        {SIDE_BUY, 0.001, 0, 50000, {.cash = 10}, RISK_REJECT_INSUFFICIENT_QUOTE},
        {SIDE_BUY, 0.00005, 0, 50000, {.cash = 1000}, RISK_REJECT_ORDERMIN},
        {SIDE_BUY, 0.0001, 0, 1, {.cash = 1000}, RISK_REJECT_COSTMIN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        intent it = {.index = 1, .side = cases[i].side, .type = ORDER_MARKET, .volume = cases[i].volume,
                     .quote = cases[i].quote, .status = INTENT_PENDING};
        double p = cases[i].price_ref;
        risk_apply(&it, 1, &caps, &xbt, p, p, p, cases[i].book);
        CHECK_INT(it.status, INTENT_REJECTED);
        CHECK_MSG(risk_reject_reason(&it) == cases[i].want, it.verdict);
    }
    intent many[3];
    for (int i = 0; i < 3; i++)
        many[i] = (intent){.index = i + 1, .side = SIDE_BUY, .type = ORDER_MARKET, .volume = 0.001,
                           .status = INTENT_PENDING};
    risk_apply(many, 3, &caps, &xbt, 50000, 50000, 50000, (risk_book){.cash = 1000});
    CHECK(many[2].status == INTENT_REJECTED && risk_reject_reason(&many[2]) == RISK_REJECT_MAX_ORDERS);
    for (int r = 1; r < RISK_REJECT_COUNT; r++)        /* JSON keys: sorted */
        CHECK(strcmp(risk_reject_names[r - 1], risk_reject_names[r]) < 0);
}

/* Exposure from the round trip: 0.5 held over bars 2 and 3, recomputed from the closes. */
static void test_exposure(void)
{
    static const char rt_lua[] =
        "return { name = 'rt', pair = 'XBTUSD', interval = 60, on_cycle = function(ctx)\n"
        "  local c = ctx.market.ohlc(ctx.pair, ctx.interval, 720)\n"
        "  if #c == 2 then return { { side = 'buy', type = 'market', volume = 0.5 } } end\n"
        "  if #c == 4 then return { { side = 'sell', type = 'market', volume = ctx.portfolio.position } } end\n"
        "  return {}\n"
        "end }\n";
    backtest_options o = options(write_tmp("rt.lua", rt_lua), FIX "rt_kraken.csv");
    backtest_result r;
    CHECK_INT(backtest_run(&o, &r), EXIT_OK);
    double e2 = 0.5 * 110 / 10004, e3 = 0.5 * 120 / 10009;   /* closes 110 and 120 */
    CHECK(NEAR(r.m.exposure_avg, (e2 + e3) / 6));
    CHECK(NEAR(r.m.exposure_max, e3));
    backtest_result_free(&r);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    char bb[600];
    snprintf(bb, sizeof bb, "%s/blackbox.log", tmpdir);
    setenv("TITAN_BLACKBOX", bb, 1);
    unsetenv("TITAN_MAX_ORDER_QUOTE");
    unsetenv("TITAN_MAX_POSITION_QUOTE");
    unsetenv("TITAN_MAX_ORDERS_PER_CYCLE");
    unsetenv("TITAN_MAX_DAILY_LOSS_QUOTE");
    test_runs_do_not_leak();
    test_interval_override();
    test_rejected_by_reason();
    test_reject_codes();
    test_exposure();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return UNIT_DONE("test_backtest_session");
}
