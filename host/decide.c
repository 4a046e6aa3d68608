/* The decision step of `run` and `replay`: Kraken's market and book answers read through the
 * typed calls (a replay's come from the capsule's tape, through the same parse), ctx, on_cycle
 * under the budgets, intents, risk gates, and the decision record. */
#include "decide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings.h"
#include "blackbox.h"
#include "clock.h"
#include "ctx.h"
#include "kraken.h"
#include "jsondoc.h"
#include "kraken_lua.h"
#include "strbuf.h"


void decide_result_free(decide_result *r)
{
    free(r->strategy_decision);
    free(r->state_json);
    r->strategy_decision = r->state_json = NULL;
}

/* ---- the market and the book -------------------------------------------------------------- */

int decide_read_market(decide_inputs *in, char *why, size_t whylen)
{
    kraken_pair_info info;
    kraken_ticker_info t;
    kraken_answer a;
    if (kraken_get_asset_pair(in->pair, kraken_timeout_ms(), &info, NULL, &a) != 0) {
        snprintf(why, whylen, "Kraken unreachable or refused AssetPairs for %s (%s: %s)", in->pair, a.outcome.code,
                 a.outcome.message);
        kraken_answer_free(&a);
        return -1;
    }
    kraken_answer_free(&a);
    if (!info.base[0] || !info.quote[0]) {
        snprintf(why, whylen, "Kraken's AssetPairs entry for %s names no base or quote asset", in->pair);
        return -1;
    }
    in->rules = (pair_rules){.ordermin = info.ordermin, .costmin = info.costmin > 0 ? info.costmin : 0,
                             .lot_decimals = info.lot_decimals, .pair_decimals = info.pair_decimals,
                             .tick_size = info.tick_size > 0 ? info.tick_size : 0};
    snprintf(in->pair_key, sizeof in->pair_key, "%s", info.pair_key);
    snprintf(in->base, sizeof in->base, "%s", info.base);
    snprintf(in->quote, sizeof in->quote, "%s", info.quote);
    if (kraken_get_ticker(in->pair, kraken_timeout_ms(), &t, &a) != 0) {
        snprintf(why, whylen, "Kraken unreachable or refused Ticker for %s (%s: %s)", in->pair, a.outcome.code,
                 a.outcome.message);
        kraken_answer_free(&a);
        return -1;
    }
    kraken_answer_free(&a);
    in->bid = t.value[KRAKEN_TICKER_BID];               /* the parser guarantees all three > 0 */
    in->ask = t.value[KRAKEN_TICKER_ASK];
    in->last = t.value[KRAKEN_TICKER_LAST];
    return 0;
}

int decide_read_live_book(decide_inputs *in, kraken_balances *balances, kraken_orders *open, char *why, size_t whylen)
{
    kraken_answer a;
    if (kraken_get_balance(kraken_timeout_ms(), balances, &a) != 0) {
        snprintf(why, whylen, "cannot read Kraken balances (%s: %s)", a.outcome.code, a.outcome.message);
        kraken_answer_free(&a);
        return -1;
    }
    kraken_answer_free(&a);
    const kraken_balance_entry *cash = kraken_balance_find(balances, in->quote);
    const kraken_balance_entry *held = kraken_balance_find(balances, in->base);
    /* A spot account never holds less than nothing: a negative figure means the answer or the
     * account is not what the risk gates assume, and a wrong position is what they guard. */
    if ((cash && cash->amount < 0) || (held && held->amount < 0)) {
        snprintf(why, whylen, "Kraken reports a negative balance (%s %s, %s %s); failing closed", in->quote,
                 cash ? cash->raw : "0", in->base, held ? held->raw : "0");
        return -1;
    }
    in->cash = cash ? cash->amount : 0;
    in->position = held ? held->amount : 0;
    in->balances = balances;
    if (kraken_get_orders("OpenOrders", NULL, kraken_timeout_ms(), open, &a) != 0) {
        snprintf(why, whylen, "cannot read Kraken open orders (%s: %s)", a.outcome.code, a.outcome.message);
        kraken_answer_free(&a);
        return -1;
    }
    kraken_answer_free(&a);
    in->open_orders = open;
    return 0;
}

/* ---- the strategy ------------------------------------------------------------------------ */

static int decide_encode_protected(lua_State *L)
{
    bindings_json_encode(L, 1);
    return 1;
}

/* JSON of the value at idx, malloc'd; an unencodable value becomes an object that says why (a
 * strategy may put anything in ctx.decision or ctx.state). NULL only when out of memory. */
static char *decide_encode(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, decide_encode_protected);
    lua_pushvalue(L, idx);
    char *out;
    if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
        size_t len;
        const char *json = lua_tolstring(L, -1, &len);
        out = jsondoc_canonical(json, len);            /* keys sorted: the same bytes in a replay */
        if (!out) out = strdup(json);
    } else {
        strbuf b = {0};
        strbuf_puts(&b, "{");
        strbuf_json_str(&b, "unencodable", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
        strbuf_puts(&b, "}");
        out = strbuf_take(&b);
    }
    lua_pop(L, 1);
    return out;
}

/* Pushes ctx.state decoded from json (an empty table when absent or not an object). */
static void decide_push_state(lua_State *L, const char *json)
{
    if (!json) {
        lua_newtable(L);
        return;
    }
    if (!bindings_json_decode(L, json, strlen(json))) lua_pushnil(L);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        blackbox_log(BLACKBOX_WARN, "state.unreadable",
                     "{\"note\":\"stored ctx.state is not a JSON object; starting empty\"}");
    }
}

/* Pushes ctx.portfolio.balances ({asset = amount}) and open_orders. */
static void decide_push_book(lua_State *L, const decide_inputs *in)
{
    if (in->balances) {
        lua_createtable(L, 0, (int)in->balances->n);
        for (size_t i = 0; i < in->balances->n; i++) {
            lua_pushnumber(L, in->balances->items[i].amount);
            lua_setfield(L, -2, in->balances->items[i].asset);
        }
    } else {
        lua_createtable(L, 0, (int)in->ledger_n + 1);
        for (size_t i = 0; i < in->ledger_n; i++) {
            lua_pushnumber(L, in->ledger[i].amount);
            lua_setfield(L, -2, in->ledger[i].asset);
        }
        if (in->ledger_n == 0) {
            lua_pushnumber(L, in->cash);
            lua_setfield(L, -2, in->quote);
        }
    }
    if (in->open_orders) kraken_push_orders(L, in->open_orders);
    else lua_newtable(L);                              /* paper orders never rest */
}

static const char *decide_failure_kind(runtime_status rs)
{
    return rs == RUNTIME_ERR_CPU ? "cpu_budget" : rs == RUNTIME_ERR_TIME ? "time_budget"
         : rs == RUNTIME_ERR_MEMORY ? "memory_budget" : rs == RUNTIME_ERR_STOPPED ? "stopped" : "error";
}

/* on_cycle(ctx) under the budgets; leaves its return value on the stack. */
static int decide_call_strategy(runtime *rt, int strategy_idx, const decide_inputs *in, int keep_state,
                                decide_result *r)
{
    lua_State *L = runtime_lua(rt);
    decide_push_book(L, in);                           /* [ ..., balances, open ] */
    int balances_idx = lua_gettop(L) - 1, open_idx = lua_gettop(L);
    decide_push_state(L, in->state_json);
    int state_idx = lua_gettop(L);
    ctx_push_live_market(L);
    ctx_info ci = {
        .mode = in->mode, .cycle_id = in->cycle_id, .pair = in->pair, .interval = in->interval,
        .now_ms = in->now_ms, .cash = in->cash, .position = in->position, .price = in->last, .base_asset = in->base,
        .quote_asset = in->quote, .balances_idx = balances_idx, .open_orders_idx = open_idx, .state_idx = state_idx,
        .market_idx = lua_gettop(L), .ai_enabled = 1,
    };
    lua_pushliteral(L, "on_cycle");
    lua_rawget(L, strategy_idx);
    ctx_push(L, &ci);                                  /* [ ..., market, on_cycle, ctx ] */
    lua_pushvalue(L, -1);
    lua_insert(L, -3);                                 /* [ ..., market, ctx, on_cycle, ctx ] */
    int ctx_idx = lua_gettop(L) - 2;
    int64_t t0 = clock_monotonic_ms();
    runtime_status rs = runtime_call(rt, 1, 1);        /* [ ..., market, ctx, result ] */
    r->strategy_ms = clock_monotonic_ms() - t0;
    r->strategy_ran = 1;
    lua_pushliteral(L, "decision");                    /* raw: the strategy may have given ctx a metatable */
    if (lua_rawget(L, ctx_idx) == LUA_TTABLE && !lua_getmetatable(L, -1)) r->strategy_decision = decide_encode(L, -1);
    else if (lua_istable(L, -1)) lua_pop(L, 1);        /* its metatable */
    lua_pop(L, 1);
    if (rs != RUNTIME_OK) {
        const char *msg = lua_tostring(L, -1) ? lua_tostring(L, -1) : "?";
        r->failure = decide_failure_kind(rs);
        snprintf(r->error, sizeof r->error, "%.*s", (int)strcspn(msg, "\n"), msg);
        strbuf f = {0};
        strbuf_puts(&f, "{");
        strbuf_json_str(&f, "kind", r->failure);
        strbuf_json_str(&f, "message", msg);
        blackbox_emit(BLACKBOX_ERROR, "strategy.error", &f);
        return -1;
    }
    if (keep_state) r->state_json = decide_encode(L, state_idx);
    return 0;
}

int decide_run(runtime *rt, int strategy_idx, const decide_inputs *in, int keep_state, decide_result *r)
{
    lua_State *L = runtime_lua(rt);
    int top = lua_gettop(L);
    int rc = decide_call_strategy(rt, strategy_idx, in, keep_state, r);
    char why[256];
    if (rc == 0 && intent_read_list(L, -1, r->intents, &r->n_intents, why, sizeof why) != 0) {
        free(r->state_json);
        r->state_json = NULL;                          /* not saved, as for a failed strategy */
        r->failure = "garbage";
        snprintf(r->error, sizeof r->error, "%s", why);
        strbuf f = {0};
        strbuf_puts(&f, "{");
        strbuf_json_str(&f, "why", why);
        blackbox_emit(BLACKBOX_ERROR, "strategy.garbage", &f);
        rc = -1;
    }
    lua_settop(L, top);
    if (rc != 0) return -1;
    risk_book book = {.cash = in->cash, .position = in->position, .realized_today = in->realized_today,
                      .fee_rate = in->paper.fee_rate, .slippage_rate = in->paper.slippage_rate};
    risk_apply(r->intents, r->n_intents, &in->caps, &in->rules, in->bid, in->ask, in->last, book);
    r->have_intents = 1;
    for (int i = 0; i < r->n_intents; i++) {
        const intent *it = &r->intents[i];
        r->counts[it->status]++;
        strbuf f = {0};
        strbuf_puts(&f, "{");
        strbuf_json_int(&f, "index", it->index);
        strbuf_json_str(&f, "status", intent_status_name(it->status));
        strbuf_json_str(&f, "verdict", it->verdict);
        strbuf_json_str(&f, "reason", it->reason);
        strbuf_json_num(&f, "final_volume", it->final_volume);
        strbuf_json_num(&f, "final_price", it->final_price);
        blackbox_emit(it->status == INTENT_REJECTED ? BLACKBOX_WARN : BLACKBOX_INFO, "risk.decision", &f);
    }
    return 0;
}

/* ---- the record ------------------------------------------------------------------------------- */

static void decide_intent_json(strbuf *b, const intent *it)
{
    strbuf_json_raw(b, NULL, "{");
    strbuf_json_int(b, "index", it->index);
    if (it->status != INTENT_REJECTED || it->final_volume > 0 || it->volume > 0 || it->quote > 0) {
        strbuf_json_str(b, "side", intent_side_name(it->side));
        strbuf_json_str(b, "type", intent_type_name(it->type));
    }
    if (it->volume > 0) strbuf_json_num(b, "volume", it->volume);
    if (it->quote > 0) strbuf_json_num(b, "quote", it->quote);
    if (it->price > 0) strbuf_json_num(b, "price", it->price);
    if (it->reason[0]) strbuf_json_str(b, "reason", it->reason);
    strbuf_json_str(b, "status", intent_status_name(it->status));
    if (it->verdict[0]) strbuf_json_str(b, "verdict", it->verdict);
    if (it->final_volume > 0) {
        strbuf_json_num(b, "final_volume", it->final_volume);
        strbuf_json_num(b, "final_price", it->final_price);
        strbuf_json_num(b, "est_cost", it->est_cost);
    }
    strbuf_puts(b, "}");
}

char *decide_record_json(const decide_inputs *in, const decide_result *r, int have_market, int with_timing)
{
    strbuf b = {0};
    strbuf_puts(&b, "{");
    strbuf_json_str(&b, "file", in->file);
    strbuf_json_str(&b, "mode", in->mode);
    strbuf_json_str(&b, "pair", in->pair);
    strbuf_json_bool(&b, "dry_run", in->dry_run);
    if (have_market) {
        strbuf_json_raw(&b, "prices", "{");
        strbuf_json_num(&b, "bid", in->bid);
        strbuf_json_num(&b, "ask", in->ask);
        strbuf_json_num(&b, "last", in->last);
        strbuf_puts(&b, "}");
        strbuf_json_raw(&b, "portfolio", "{");
        strbuf_json_num(&b, "cash", in->cash);
        strbuf_json_num(&b, "position", in->position);
        strbuf_json_num(&b, "realized_today", in->realized_today);
        strbuf_puts(&b, "}");
        strbuf_json_raw(&b, "caps", "{");
        strbuf_json_num(&b, "max_order_quote", in->caps.max_order_quote);
        strbuf_json_num(&b, "max_position_quote", in->caps.max_position_quote);
        strbuf_json_num(&b, "max_orders_per_cycle", in->caps.max_orders_per_cycle);
        strbuf_json_num(&b, "max_daily_loss_quote", in->caps.max_daily_loss_quote);
        strbuf_puts(&b, "}");
    }
    if (r->strategy_ran) {
        if (r->strategy_decision) strbuf_json_raw(&b, "strategy", r->strategy_decision);
        if (with_timing) strbuf_json_int(&b, "strategy_ms", r->strategy_ms);
    }
    if (r->have_intents) {
        strbuf_json_raw(&b, "intents", "[");
        for (int i = 0; i < r->n_intents; i++) decide_intent_json(&b, &r->intents[i]);
        strbuf_puts(&b, "]");
    }
    strbuf_puts(&b, "}");
    return strbuf_take(&b);
}
