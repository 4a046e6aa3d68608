/* ctx construction. Market reads are logged so the blackbox shows what the strategy saw. */
#include "ctx.h"

#include <string.h>

#include <lauxlib.h>

#include "bindings.h"
#include "blackbox.h"
#include "kraken.h"
#include "kraken_lua.h"
#include "secrets.h"
#include "strbuf.h"

#define CTX_MAX_CANDLES 720

static void ctx_log_market(const char *event, const char *pair, int interval, int count, double last_t, double last_c)
{
    strbuf f = {0};
    strbuf_puts(&f, "{\"pair\":");
    strbuf_json_string(&f, pair, strlen(pair));
    strbuf_printf(&f, ",\"interval\":%d,\"count\":%d,\"last_t\":%.0f,\"last_close\":%.10g}", interval, count, last_t,
                  last_c);
    blackbox_log(BLACKBOX_INFO, event, f.oom ? NULL : f.data);
    strbuf_free(&f);
}

/* market.ohlc(pair?, interval?, n?) -> closed candles oldest first | nil, err */
static int ctx_market_ohlc(lua_State *L)
{
    const char *pair = luaL_optstring(L, 1, lua_tostring(L, lua_upvalueindex(1)));
    int interval = (int)luaL_optinteger(L, 2, lua_tointeger(L, lua_upvalueindex(2)));
    int n = (int)luaL_optinteger(L, 3, CTX_MAX_CANDLES);
    luaL_argcheck(L, kraken_valid_interval(interval), 2, "not one of Kraken's intervals");
    luaL_argcheck(L, n > 0 && n <= CTX_MAX_CANDLES, 3, "must be between 1 and 720");
    if (!kraken_ohlc(L, pair, interval, NULL, n, kraken_timeout_ms())) return 2;
    lua_pop(L, 1);                                     /* [ candles ] */
    int count = (int)luaL_len(L, -1);
    double last_t = 0, last_c = 0;
    if (count > 0) {
        lua_geti(L, -1, count);
        lua_getfield(L, -1, "t");
        lua_getfield(L, -2, "c");
        last_t = lua_tonumber(L, -2);
        last_c = lua_tonumber(L, -1);
        lua_pop(L, 3);
    }
    ctx_log_market("market.ohlc", pair, interval, count, last_t, last_c);
    return 1;
}

/* market.ticker(pair?) -> {last, bid, ask, ...} | nil, err */
static int ctx_market_ticker(lua_State *L)
{
    const char *pair = luaL_optstring(L, 1, lua_tostring(L, lua_upvalueindex(1)));
    if (!kraken_ticker(L, pair, kraken_timeout_ms())) return 2;
    lua_pop(L, 1);
    lua_getfield(L, -1, "last");
    ctx_log_market("market.ticker", pair, 0, 1, 0, lua_tonumber(L, -1));
    lua_pop(L, 1);
    return 1;
}

void ctx_push_live_market(lua_State *L)
{
    lua_createtable(L, 0, 2);
    /* upvalues 1 and 2 (default pair and interval) are filled by ctx_push */
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushcclosure(L, ctx_market_ohlc, 2);
    lua_setfield(L, -2, "ohlc");
    lua_pushnil(L);
    lua_pushcclosure(L, ctx_market_ticker, 1);
    lua_setfield(L, -2, "ticker");
}

/* ctx.log(event, fields?) -> blackbox "strategy.<event>" */
static int ctx_log(lua_State *L)
{
    const char *event = luaL_checkstring(L, 1);
    const char *fields = NULL;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        bindings_json_encode(L, 2);
        fields = lua_tostring(L, -1);
        if (!fields || fields[0] != '{') luaL_argerror(L, 2, "fields must be a table with string keys");
    }
    /* every strategy event is under "strategy." (once, even when the strategy wrote it already) */
    lua_pushfstring(L, "%s%s", strncmp(event, "strategy.", 9) == 0 ? "" : "strategy.", event);
    blackbox_log(BLACKBOX_INFO, lua_tostring(L, -1), fields);
    return 0;
}

static void ctx_set_number(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static void ctx_set_string(lua_State *L, const char *key, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

/* Sets upvalue `n` of market function `name` (if it is one of ours) to the value on top. */
static void ctx_bind_default(lua_State *L, int market, const char *name, int n)
{
    if (lua_getfield(L, market, name) == LUA_TFUNCTION && lua_iscfunction(L, -1)) {
        lua_pushvalue(L, -2);
        if (!lua_setupvalue(L, -2, n)) lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

void ctx_push(lua_State *L, const ctx_info *info)
{
    lua_createtable(L, 0, 14);                         /* [ ctx ] */
    int ctx = lua_gettop(L);
    ctx_set_string(L, "mode", info->mode);
    ctx_set_string(L, "cycle_id", info->cycle_id);
    ctx_set_string(L, "pair", info->pair);
    lua_pushinteger(L, info->interval);
    lua_setfield(L, ctx, "interval");
    lua_pushinteger(L, info->now_ms);
    lua_setfield(L, ctx, "now");

    lua_createtable(L, 0, 8);                          /* [ ctx, portfolio ] */
    ctx_set_number(L, "cash", info->cash);
    ctx_set_number(L, "position", info->position);
    ctx_set_number(L, "position_value", info->position * info->price);
    ctx_set_number(L, "equity", info->cash + info->position * info->price);
    ctx_set_string(L, "base", info->base_asset);
    ctx_set_string(L, "quote", info->quote_asset);
    if (info->balances_idx) lua_pushvalue(L, info->balances_idx);
    else lua_newtable(L);
    lua_setfield(L, -2, "balances");
    if (info->open_orders_idx) lua_pushvalue(L, info->open_orders_idx);
    else lua_newtable(L);
    lua_setfield(L, -2, "open_orders");
    lua_setfield(L, ctx, "portfolio");

    lua_pushvalue(L, info->market_idx);
    lua_pushstring(L, info->pair);
    ctx_bind_default(L, info->market_idx, "ohlc", 1);
    ctx_bind_default(L, info->market_idx, "ticker", 1);
    lua_pop(L, 1);
    lua_pushinteger(L, info->interval);
    ctx_bind_default(L, info->market_idx, "ohlc", 2);
    lua_pop(L, 1);
    lua_setfield(L, ctx, "market");

    lua_pushvalue(L, info->state_idx);
    lua_setfield(L, ctx, "state");
    lua_pushcfunction(L, ctx_log);
    lua_setfield(L, ctx, "log");
    lua_newtable(L);
    lua_setfield(L, ctx, "decision");

    static const char *const providers[][2] = {
        {"OPENAI_API_KEY", "openai"}, {"GROQ_API_KEY", "groq"}, {"GEMINI_API_KEY", "gemini"}};
    lua_createtable(L, 3, 0);
    int n = 0;
    for (int i = 0; i < 3 && info->ai_enabled; i++) {
        if (!secrets_value(providers[i][0])) continue;
        lua_pushstring(L, providers[i][1]);
        lua_rawseti(L, -2, ++n);
    }
    lua_setfield(L, ctx, "ai");
}
