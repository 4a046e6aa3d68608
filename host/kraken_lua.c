/* Kraken answers as Lua tables for strategies and tools, pushed from the C structs of
 * kraken_parse.c (the one parse of each answer), and Lua params tables turned into C params. */
#include "kraken_lua.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings.h"
#include "settings.h"

static int kraken_writes_from_lua = -1;     /* -1: not set by the host, the environment decides */

int kraken_lua_writes_allowed(void)
{
    if (kraken_writes_from_lua >= 0) return kraken_writes_from_lua;
    int allowed = 0;
    char ignored[256];
    return settings_choice("TITAN_KRAKEN_LUA_WRITES", &allowed, ignored, sizeof ignored) == 0 && allowed;
}

int kraken_set_lua_writes_allowed(int allowed)
{
    int previous = kraken_lua_writes_allowed();
    kraken_writes_from_lua = allowed != 0;
    return previous;
}

/* ---- params tables ------------------------------------------------------------------------ */

/* A Lua number as a plain decimal: the shortest fixed notation that reads back exactly. */
static int kraken_format_number(lua_State *L, int idx, strbuf *out, char *why, size_t whylen)
{
    if (lua_isinteger(L, idx)) {
        strbuf_printf(out, "%lld", (long long)lua_tointeger(L, idx));
        return 0;
    }
    double x = lua_tonumber(L, idx);
    if (!isfinite(x) || fabs(x) >= 1e15) {
        snprintf(why, whylen, "number %g cannot be sent as a plain decimal (pass a string)", x);
        return -1;
    }
    char buf[64];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*f", prec, x);
        if (strtod(buf, NULL) == x) {
            strbuf_puts(out, strcmp(buf, "-0") == 0 ? "0" : buf);
            return 0;
        }
    }
    snprintf(why, whylen, "number %.17g needs more than 17 decimals (pass a decimal string)", x);
    return -1;
}

static int kraken_scalar(lua_State *L, int idx, strbuf *out, char *why, size_t whylen)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (strlen(s) != len) { snprintf(why, whylen, "string contains a NUL byte"); return -1; }
        strbuf_append(out, s, len);
        return 0;
    }
    case LUA_TNUMBER: return kraken_format_number(L, idx, out, why, whylen);
    case LUA_TBOOLEAN: strbuf_puts(out, lua_toboolean(L, idx) ? "true" : "false"); return 0;
    default: snprintf(why, whylen, "a %s cannot be sent", luaL_typename(L, idx)); return -1;
    }
}

/* One value of a params table (a scalar, or an array of scalars sent comma-joined) into v. */
static int kraken_param_value(lua_State *L, strbuf *v, char *detail, size_t detaillen)
{
    if (!lua_istable(L, -1)) return kraken_scalar(L, -1, v, detail, detaillen);
    lua_Integer n = luaL_len(L, -1);
    int bad = 0;
    for (lua_Integer i = 1; i <= n && !bad; i++) {
        lua_rawgeti(L, -1, i);
        if (i > 1) strbuf_puts(v, ",");
        if (lua_istable(L, -1)) {
            snprintf(detail, detaillen, "nested tables cannot be sent");
            bad = 1;
        } else {
            bad = kraken_scalar(L, -1, v, detail, detaillen) != 0;
        }
        lua_pop(L, 1);
    }
    return bad ? -1 : 0;
}

/* Reads the params table at idx (0 = none) into p. 0, or -1 with a reason in why. */
static int kraken_params_from_lua(lua_State *L, int idx, kraken_params *p, char *why, size_t whylen)
{
    if (idx == 0) return 0;
    if (!lua_istable(L, idx)) { snprintf(why, whylen, "params must be a table"); return -1; }
    lua_pushnil(L);
    while (lua_next(L, idx)) {                         /* [ key, value ] */
        char detail[160] = "";
        if (lua_type(L, -2) != LUA_TSTRING) {
            snprintf(why, whylen, "params keys must be strings (got a %s)", luaL_typename(L, -2));
            lua_pop(L, 2);
            return -1;
        }
        const char *key = lua_tostring(L, -2);
        if (!*key || strcmp(key, "nonce") == 0 || strlen(key) > 64) {
            snprintf(why, whylen, "params key '%.64s' is not allowed (the nonce is set by the host)", key);
            lua_pop(L, 2);
            return -1;
        }
        if (p->count >= KRAKEN_MAX_PARAMS) {
            snprintf(why, whylen, "too many params (more than %d)", KRAKEN_MAX_PARAMS);
            lua_pop(L, 2);
            return -1;
        }
        strbuf v = {0};
        int bad = kraken_param_value(L, &v, detail, sizeof detail);
        if (!bad && (v.oom || kraken_params_add(p, key, strbuf_cstr(&v)) != 0)) {
            bad = 1;
            snprintf(detail, sizeof detail, "out of memory");
        }
        strbuf_free(&v);
        if (bad) {
            snprintf(why, whylen, "params.%.64s: %s", key, detail);
            lua_pop(L, 2);
            return -1;
        }
        lua_pop(L, 1);                                 /* [ key ] */
    }
    return 0;
}

/* ---- pushing answers -------------------------------------------------------------------------- */

int kraken_push_failure(lua_State *L, const kraken_answer *a, const char *method)
{
    const kraken_outcome *o = &a->outcome;
    bindings_push_error(L, o->code ? o->code : "kraken.error", o->message, o->retryable);   /* [ nil, err ] */
    lua_pushboolean(L, o->sent);
    lua_setfield(L, -2, "sent");
    lua_pushinteger(L, o->status);
    lua_setfield(L, -2, "status");
    lua_pushstring(L, method ? method : "");
    lua_setfield(L, -2, "method");
    lua_createtable(L, (int)a->n_texts, 0);
    for (size_t i = 0; i < a->n_texts; i++) {
        lua_pushstring(L, a->texts[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "errors");
    return 2;
}

/* `nil, err` for a failed typed call; frees the answer; returns 0 (kraken_call's convention). */
static int kraken_failed(lua_State *L, kraken_answer *a, const char *method)
{
    kraken_push_failure(L, a, method);
    kraken_answer_free(a);
    return 0;
}

static void kraken_push_warnings(lua_State *L, const kraken_answer *a)
{
    lua_newtable(L);
    lua_Integer n = 0;
    for (size_t i = 0; i < a->n_texts; i++) {
        if (!kraken_text_is_warning(a->texts[i])) continue;
        lua_pushstring(L, a->texts[i]);
        lua_rawseti(L, -2, ++n);
    }
}

/* Finishes a typed call that succeeded: `value, meta` (meta on top) gets meta.warnings; frees
 * the answer; returns 1. */
static int kraken_finish(lua_State *L, kraken_answer *a)
{
    kraken_push_warnings(L, a);
    lua_setfield(L, -2, "warnings");
    kraken_answer_free(a);
    return 1;
}

static void kraken_set_number(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static void kraken_set_integer(lua_State *L, const char *key, long long v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, key);
}

static void kraken_set_string(lua_State *L, const char *key, const char *v)
{
    if (!v || !*v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

/* Pushes `result, warnings` of an answer whose envelope was read (decoded again, here in L: a
 * null or absent result is an empty table), or `nil, err`. Returns 1 or 0; frees the answer. */
static int kraken_push_answer(lua_State *L, int parsed, const char *body, size_t len, kraken_answer *a,
                              const char *method)
{
    if (parsed == 0 && bindings_json_decode(L, body, len)) {   /* [ env ] */
        int t = LUA_TNIL;
        if (lua_istable(L, -1)) {
            lua_pushliteral(L, "result");
            t = lua_rawget(L, -2);
        } else {
            lua_pushnil(L);
        }
        if (t == LUA_TNIL || t == LUA_TLIGHTUSERDATA) {   /* absent or JSON null */
            lua_pop(L, 1);
            lua_newtable(L);
        }
        lua_remove(L, -2);                             /* [ result ] */
        kraken_push_warnings(L, a);
        kraken_answer_free(a);
        return 1;
    }
    if (parsed == 0) kraken_fail(&a->outcome, "kraken.error", 0, 0, "Kraken %s: the answer could not be read again", method);
    return kraken_failed(L, a, method);
}

int kraken_call(lua_State *L, const char *method, int params_idx, int is_private, long timeout_ms)
{
    luaL_checkstack(L, 24, "kraken_call");
    if (params_idx) params_idx = lua_absindex(L, params_idx);
    const char *shown = method ? method : "(null)";
    kraken_params p = {0};
    kraken_answer a;
    char why[256];
    if (kraken_valid_method(method) && kraken_params_from_lua(L, params_idx, &p, why, sizeof why) != 0) {
        kraken_params_free(&p);
        memset(&a, 0, sizeof a);
        kraken_fail(&a.outcome, "kraken.bad_request", 0, 0, "Kraken %s: %s", method, why);
        return kraken_failed(L, &a, shown);
    }
    strbuf raw = {0};
    int rc = kraken_request(method, &p, is_private, timeout_ms, NULL, &a, &raw);
    kraken_params_free(&p);
    if (raw.oom && rc == 0) {
        kraken_fail(&a.outcome, "kraken.error", 0, 0, "Kraken %s: out of memory", shown);
        rc = -1;
    }
    int ok = kraken_push_answer(L, rc, strbuf_cstr(&raw), raw.len, &a, shown);
    strbuf_free(&raw);
    return ok;
}

int kraken_interpret_answer(lua_State *L, const char *method, long status, const char *body, size_t len, int write)
{
    luaL_checkstack(L, 24, "kraken_interpret_answer");
    kraken_answer a;
    int rc = kraken_parse_answer(method, write, status, body, len, NULL, &a);
    return kraken_push_answer(L, rc, body ? body : "", body ? len : 0, &a, method ? method : "(null)");
}

int kraken_prepare_private(lua_State *L, const char *method, int params_idx, strbuf *body,
                           char sign[KRAKEN_SIGN_SIZE], char *why, size_t whylen)
{
    kraken_params p = {0};
    sign[0] = '\0';
    if (params_idx) params_idx = lua_absindex(L, params_idx);
    int rc = -1;
    if (!kraken_valid_method(method)) snprintf(why, whylen, "not a Kraken method name");
    else if (kraken_params_from_lua(L, params_idx, &p, why, whylen) == 0)
        rc = kraken_sign_private(method, &p, body, sign, why, whylen);
    kraken_params_free(&p);
    return rc;
}

int kraken_ohlc(lua_State *L, const char *pair, int interval, const char *since, int count, long timeout_ms)
{
    luaL_checkstack(L, 8, "kraken_ohlc");
    kraken_candles c;
    kraken_answer a;
    if (kraken_get_ohlc(pair, interval, since, count, timeout_ms, &c, &a) != 0) return kraken_failed(L, &a, "OHLC");
    static const char *const names[] = {"o", "h", "l", "c", "vwap", "v"};
    lua_createtable(L, (int)c.n, 0);                   /* [ candles ] */
    for (size_t i = 0; i < c.n; i++) {
        const kraken_candle *k = &c.items[i];
        const double v[6] = {k->o, k->h, k->l, k->c, k->vwap, k->v};
        lua_createtable(L, 0, 8);
        kraken_set_integer(L, "t", k->t);
        for (int f = 0; f < 6; f++) kraken_set_number(L, names[f], v[f]);
        kraken_set_integer(L, "n", k->n);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_createtable(L, 0, 3);                          /* [ candles, meta ] */
    kraken_set_string(L, "pair_key", c.pair_key);
    if (c.last >= 0) kraken_set_integer(L, "last", c.last);
    kraken_candles_free(&c);
    return kraken_finish(L, &a);
}

int kraken_ticker(lua_State *L, const char *pair, long timeout_ms)
{
    luaL_checkstack(L, 8, "kraken_ticker");
    kraken_ticker_info t;
    kraken_answer a;
    if (kraken_get_ticker(pair, timeout_ms, &t, &a) != 0) return kraken_failed(L, &a, "Ticker");
    lua_createtable(L, 0, 16);                         /* [ ticker ] */
    for (int i = 0; i < KRAKEN_TICKER_FIELDS; i++) {
        if (!t.has[i]) continue;
        int count = i == KRAKEN_TICKER_TRADES || i == KRAKEN_TICKER_TRADES_24H;
        if (count && t.value[i] == floor(t.value[i]) && fabs(t.value[i]) < 9e15)
            kraken_set_integer(L, kraken_ticker_names[i], (long long)t.value[i]);
        else
            kraken_set_number(L, kraken_ticker_names[i], t.value[i]);
    }
    kraken_set_string(L, "pair_key", t.pair_key);
    lua_createtable(L, 0, 2);                          /* [ ticker, meta ] */
    kraken_set_string(L, "pair_key", t.pair_key);
    return kraken_finish(L, &a);
}

int kraken_asset_pair(lua_State *L, const char *pair, long timeout_ms)
{
    luaL_checkstack(L, 8, "kraken_asset_pair");
    kraken_pair_info p;
    kraken_answer a;
    int cached = 0;
    if (kraken_get_asset_pair(pair, timeout_ms, &p, &cached, &a) != 0) return kraken_failed(L, &a, "AssetPairs");
    lua_createtable(L, 0, 12);                         /* [ info ] (a fresh copy: the cache is C) */
    kraken_set_string(L, "pair_key", p.pair_key);
    kraken_set_string(L, "altname", p.altname);
    kraken_set_string(L, "wsname", p.wsname);
    kraken_set_string(L, "base", p.base);
    kraken_set_string(L, "quote", p.quote);
    kraken_set_string(L, "status", p.status);
    kraken_set_integer(L, "pair_decimals", p.pair_decimals);
    kraken_set_integer(L, "lot_decimals", p.lot_decimals);
    if (p.cost_decimals >= 0) kraken_set_integer(L, "cost_decimals", p.cost_decimals);
    kraken_set_number(L, "ordermin", p.ordermin);
    if (p.costmin >= 0) kraken_set_number(L, "costmin", p.costmin);
    if (p.tick_size >= 0) kraken_set_number(L, "tick_size", p.tick_size);
    lua_createtable(L, 0, 3);                          /* [ info, meta ] */
    kraken_set_string(L, "pair_key", p.pair_key);
    lua_pushboolean(L, cached);
    lua_setfield(L, -2, "cached");
    return kraken_finish(L, &a);
}

int kraken_balance(lua_State *L, long timeout_ms)
{
    luaL_checkstack(L, 8, "kraken_balance");
    kraken_balances b;
    kraken_answer a;
    if (kraken_get_balance(timeout_ms, &b, &a) != 0) return kraken_failed(L, &a, "Balance");
    lua_createtable(L, 0, (int)b.n);                   /* [ balances ] */
    for (size_t i = 0; i < b.n; i++) kraken_set_number(L, b.items[i].asset, b.items[i].amount);
    lua_createtable(L, 0, 2);                          /* [ balances, meta ] */
    lua_createtable(L, 0, (int)b.n);
    for (size_t i = 0; i < b.n; i++) kraken_set_string(L, b.items[i].asset, b.items[i].raw);
    lua_setfield(L, -2, "raw");
    kraken_balances_free(&b);
    return kraken_finish(L, &a);
}

void kraken_push_orders(lua_State *L, const kraken_orders *orders)
{
    lua_createtable(L, 0, (int)orders->n);
    for (size_t i = 0; i < orders->n; i++) {
        const kraken_order *o = &orders->items[i];
        lua_createtable(L, 0, 10);
        kraken_set_string(L, "status", o->status);
        kraken_set_string(L, "cl_ord_id", o->cl_ord_id);
        static const struct { const char *name; size_t offset; } numbers[] = {
            {"vol", offsetof(kraken_order, vol)},   {"vol_exec", offsetof(kraken_order, vol_exec)},
            {"cost", offsetof(kraken_order, cost)}, {"fee", offsetof(kraken_order, fee)},
            {"price", offsetof(kraken_order, avg_price)}, {"opentm", offsetof(kraken_order, opentm)},
        };
        for (size_t k = 0; k < sizeof numbers / sizeof numbers[0]; k++) {
            double v = *(const double *)((const char *)o + numbers[k].offset);
            if (!isnan(v)) kraken_set_number(L, numbers[k].name, v);
        }
        kraken_set_integer(L, "userref", o->userref);
        lua_createtable(L, 0, 4);
        kraken_set_string(L, "type", o->side);
        kraken_set_string(L, "ordertype", o->ordertype);
        kraken_set_string(L, "pair", o->pair);
        if (!isnan(o->limit_price)) kraken_set_number(L, "price", o->limit_price);
        lua_setfield(L, -2, "descr");
        lua_setfield(L, -2, o->txid);
    }
}
