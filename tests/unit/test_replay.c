/* Unit tests of replay's parts: the canonical JSON a replay compares (sorted keys, cjson's numbers),
 * the structural diff of two decision records, --set on a strategy's params (typed, refused when
 * misspelled), the summary of a decision, and the divergence figures checked against a hand
 * computation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "divergence.h"
#include "jsondiff.h"
#include "jsondoc.h"
#include "orders.h"
#include "params.h"
#include "replay.h"
#include "unit.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void test_canonical(void)
{
    char *c = jsondoc_canonical("{\"b\":[1,2.5,{\"z\":null,\"a\":true}],\"a\":\"x\\/y\",\"n\":1e2}", 52);
    CHECK_STR(c, "{\"a\":\"x/y\",\"b\":[1,2.5,{\"a\":true,\"z\":null}],\"n\":100}");
    free(c);
    c = jsondoc_canonical("0.1", 3);
    CHECK_STR(c, "0.1");
    free(c);
    c = jsondoc_canonical("{}", 2);
    CHECK_STR(c, "{}");
    free(c);
    CHECK(jsondoc_canonical("{\"a\":", 5) == NULL);
    CHECK(jsondoc_canonical("[1] x", 5) == NULL);
}

static void test_jsondiff(void)
{
    jsondiff d;
    const char *a = "{\"intents\":[{\"side\":\"buy\",\"status\":\"accepted\"}],\"strategy\":{\"ai\":{\"action\":\"buy\"}},"
                    "\"file\":\"a.lua\",\"same\":[1,2]}";
    const char *b = "{\"same\":[1,2],\"file\":\"b.lua\",\"strategy\":{\"ai\":{\"action\":\"hold\"}},\"intents\":[]}";
    CHECK_INT(jsondiff_compare(a, b, NULL, 10, &d), 0);
    CHECK_INT(d.total, 3);
    if (d.n == 3) {
        CHECK_STR(d.items[0].path, "file");
        CHECK_STR(d.items[0].a, "\"a.lua\"");
        CHECK_STR(d.items[1].path, "intents[0]");
        CHECK_STR(d.items[1].a, "{\"side\":\"buy\",\"status\":\"accepted\"}");
        CHECK(d.items[1].b == NULL);
        CHECK_STR(d.items[2].path, "strategy.ai.action");
        CHECK_STR(d.items[2].b, "\"hold\"");
    }
    jsondiff_free(&d);
    static const char *const ignore[] = {"file", NULL};
    CHECK_INT(jsondiff_compare(a, b, ignore, 1, &d), 0);
    CHECK_INT(d.total, 2);
    CHECK_INT(d.n, 1);                                 /* at most `max` kept, all counted */
    jsondiff_free(&d);
    CHECK_INT(jsondiff_compare(a, a, NULL, 10, &d), 0);
    CHECK_INT(d.total, 0);
    jsondiff_free(&d);
    CHECK_INT(jsondiff_compare("{\"x\":1}", "{\"x\":1.0}", NULL, 10, &d), 0);
    CHECK_INT(d.total, 0);                             /* the same number */
    jsondiff_free(&d);
    CHECK_INT(jsondiff_compare("1", "2", NULL, 10, &d), 0);
    CHECK_STR(d.n ? d.items[0].path : "", "(the whole document)");
    jsondiff_free(&d);
    CHECK_INT(jsondiff_compare("{", "{}", NULL, 10, &d), -1);
}

static void test_params(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    CHECK_INT(luaL_dostring(L, "return { name = 'p', params = { fast = 21, ratio = 0.5, on = true, label = 'x', nested = {} } }"), 0);
    int t = lua_gettop(L);
    char err[300];
    CHECK_INT(params_apply(L, t, "fast=30", err, sizeof err), 0);
    CHECK_INT(params_apply(L, t, "ratio=0.25", err, sizeof err), 0);
    CHECK_INT(params_apply(L, t, "on=false", err, sizeof err), 0);
    CHECK_INT(params_apply(L, t, "label=a=b", err, sizeof err), 0);
    CHECK_INT(params_apply(L, t, "fast=22.5", err, sizeof err), -1);  /* an integer stays whole */
    CHECK(strstr(err, "whole number") != NULL);
    CHECK_INT(params_apply(L, t, "ratio=22.5", err, sizeof err), 0);
    lua_getfield(L, t, "params");
    lua_getfield(L, -1, "ratio");
    CHECK(lua_tonumber(L, -1) == 22.5);
    lua_getfield(L, -2, "on");
    CHECK(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_getfield(L, -3, "label");
    CHECK_STR(lua_tostring(L, -1), "a=b");
    lua_getfield(L, -4, "fast");
    CHECK(lua_isinteger(L, -1) && lua_tointeger(L, -1) == 30);
    lua_settop(L, t);
    CHECK_INT(params_apply(L, t, "fast=31", err, sizeof err), 0);
    lua_getfield(L, t, "params");
    lua_getfield(L, -1, "fast");
    CHECK(lua_isinteger(L, -1) || lua_tonumber(L, -1) == 31);
    lua_settop(L, t);
    /* refused: unknown name (the message lists the known ones), wrong type, bad shape */
    CHECK_INT(params_apply(L, t, "fsat=30", err, sizeof err), -1);
    CHECK(strstr(err, "params.fsat is not in the strategy's params") && strstr(err, "fast"));
    CHECK_INT(params_apply(L, t, "fast=abc", err, sizeof err), -1);
    CHECK(strstr(err, "is a number") != NULL);
    CHECK_INT(params_apply(L, t, "fast=1e999", err, sizeof err), -1);
    CHECK_INT(params_apply(L, t, "on=yes", err, sizeof err), -1);
    CHECK_INT(params_apply(L, t, "nested=1", err, sizeof err), -1);
    CHECK_INT(params_apply(L, t, "fast", err, sizeof err), -1);
    CHECK_INT(params_apply(L, t, "=3", err, sizeof err), -1);
    CHECK_INT(lua_gettop(L), t);                        /* the stack as it was */
    CHECK_INT(luaL_dostring(L, "return { name = 'q' }"), 0);
    CHECK_INT(params_apply(L, -1, "fast=1", err, sizeof err), -1);
    CHECK(strstr(err, "no params table") != NULL);
    lua_close(L);
}

static void test_action_summary(void)
{
    char out[128];
    replay_action_summary("{\"intents\":[{\"side\":\"buy\",\"status\":\"accepted\",\"final_volume\":0.00094},"
                          "{\"side\":\"sell\",\"status\":\"rejected\"},{\"side\":\"sell\",\"status\":\"resized\","
                          "\"final_volume\":0.5}]}", out, sizeof out);
    CHECK_STR(out, "buy 0.00094, sell 0.5");
    replay_action_summary("{\"intents\":[]}", out, sizeof out);
    CHECK_STR(out, "hold");
    replay_action_summary("{\"file\":\"x\"}", out, sizeof out);
    CHECK_STR(out, "no decision");
    replay_action_summary(NULL, out, sizeof out);
    CHECK_STR(out, "no decision");
}

/* One LIVE order record as cycle.c and live.c fill it. */
static order_record *live_order(order_list *l, const char *side, const char *type, double requested, double model_price,
                                double ref)
{
    order_record *o = order_list_add(l, (int)l->n + 1, "cl", "closed");
    ORDER_SET(o, side, side);
    ORDER_SET(o, type, type);
    ORDER_SET(o, txid, "OTX");
    o->requested_volume = requested;
    o->ref_price = ref;
    o->model_volume = model_price > 0 ? requested : 0;
    if (model_price > 0) {
        o->model_price = model_price;
        o->model_cost = model_price * requested;
        o->model_fee = o->model_cost * 0.004;
    }
    return o;
}

static void test_divergence(void)
{
    divergence_set set = {0};
    order_list a = {0}, b = {0};
    /* buy 0.5 at a model of 100.05 (last 100 + 5 bps), filled at 100.15 (two trades), fee 0.13 */
    order_record *o = live_order(&a, "buy", "market", 0.5, 100.05, 100);
    o->vol_exec = 0.5, o->avg_price = 100.2, o->fee = 1;               /* the order's own figures lose */
    o->trade_volume = 0.5, o->trade_price = 100.15, o->trade_fee = 0.13, o->trade_count = 2;
    /* sell 1 at a model of 99.95, filled at 99.90 without trades read: the order's figures */
    o = live_order(&a, "sell", "market", 1, 99.95, 100);
    o->vol_exec = 1, o->avg_price = 99.90, o->fee = 0.2597;
    /* limit buy: the model fills all at 100.02, Kraken 40% at 100.02 */
    o = live_order(&b, "buy", "limit", 2, 100.02, 100.02);
    o->vol_exec = 0.8, o->avg_price = 100.02, o->fee = 0.208;
    /* limit buy the model would not fill and Kraken did not either */
    live_order(&b, "buy", "limit", 1, 0, 100.02);
    /* not sent, no model: ignored */
    order_list_add(&b, 9, "cl9", "not_sent");
    CHECK_INT(divergence_add(&set, "alpha", &a), 0);
    CHECK_INT(divergence_add(&set, "beta", &b), 0);
    CHECK_INT(set.n, 4);
    CHECK_INT(set.cycles, 2);

    divergence_stats s;
    divergence_compute(&set, "alpha", &s);
    double s1 = (100.15 / 100.05 - 1) * 1e4, s2 = (1 - 99.90 / 99.95) * 1e4;
    CHECK_INT(s.orders, 2);
    CHECK_INT(s.filled, 2);
    CHECK_INT(s.priced, 2);
    CHECK(NEAR(s.slip_mean_bps, (s1 + s2) / 2));
    CHECK(NEAR(s.slip_median_bps, (s1 + s2) / 2));
    CHECK(NEAR(s.slip_worst_bps, fmax(s1, s2)));
    CHECK(NEAR(s.fee_model_bps, 40));
    double f1 = 0.13 / (100.15 * 0.5) * 1e4, f2 = 0.2597 / 99.90 * 1e4;
    CHECK(NEAR(s.fee_actual_bps, (f1 + f2) / 2));
    CHECK(NEAR(s.fee_diff_bps, (f1 + f2) / 2 - 40));
    CHECK(NEAR(s.fee_diff_quote, (0.13 - 0.004 * 100.15 * 0.5) + (0.2597 - 0.004 * 99.90)));
    double r1 = (100.15 / 100 - 1) * 1e4, r2 = (1 - 99.90 / 100) * 1e4;
    CHECK(NEAR(s.ref_slip_mean_bps, (r1 + r2) / 2));
    CHECK(NEAR(s.backtest_slippage_bps, ceil((r1 + r2) / 2 * 10) / 10));
    CHECK(isnan(s.limit_fill_ratio));

    divergence_compute(&set, "beta", &s);
    CHECK_INT(s.orders, 2);
    CHECK_INT(s.limits, 2);
    CHECK_INT(s.filled, 1);
    CHECK_INT(s.market_filled, 0);
    CHECK(NEAR(s.limit_fill_ratio, (0.4 + 0) / 2));
    CHECK(NEAR(s.limit_model_fill_ratio, (1 + 0) / 2.0));
    CHECK(NEAR(s.slip_mean_bps, 0));
    CHECK(isnan(s.backtest_slippage_bps));

    divergence_compute(&set, NULL, &s);
    CHECK_INT(s.orders, 4);
    CHECK_INT(s.priced, 3);
    CHECK(NEAR(s.slip_median_bps, s2));                /* sorted: 0 (the limit), s2 (5.0), s1 (10.0) */
    CHECK(NEAR(s.slip_worst_bps, fmax(s1, s2)));

    divergence_compute(&set, "nobody", &s);
    CHECK_INT(s.orders, 0);
    CHECK(isnan(s.slip_mean_bps) && isnan(s.backtest_slippage_bps));
    order_list_free(&a);
    order_list_free(&b);
    divergence_set_free(&set);
}

int main(void)
{
    test_canonical();
    test_jsondiff();
    test_params();
    test_action_summary();
    test_divergence();
    return UNIT_DONE("replay");
}
