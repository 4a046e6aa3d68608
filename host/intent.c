/* Intent validation: everything a strategy returns is untrusted. Unknown fields, NaN,
 * negative or missing sizes, a limit without price reject that intent with a reason. Reads are
 * raw and tables with metatables are refused: this runs outside the Lua budgets, so no
 * strategy code (a metamethod) may run here. */
#include "intent.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

const char *intent_side_name(order_side s) { return s == SIDE_BUY ? "buy" : "sell"; }
const char *intent_type_name(order_type t) { return t == ORDER_MARKET ? "market" : "limit"; }

const char *intent_status_name(intent_status s)
{
    static const char *const names[] = {"pending", "accepted", "resized", "rejected"};
    return names[s];
}

static const char *const intent_fields[] = {"side", "type", "volume", "quote", "price", "reason", NULL};

static int intent_reject(intent *it, const char *fmt, const char *detail)
{
    it->status = INTENT_REJECTED;
    snprintf(it->verdict, sizeof it->verdict, fmt, detail);
    return -1;
}

/* t[field] without metamethods. */
static int intent_rawfield(lua_State *L, int t, const char *field)
{
    lua_pushstring(L, field);
    return lua_rawget(L, t);
}

/* Reads a positive finite number field; 0 when absent; -1 when present but bad. */
static int intent_number(lua_State *L, int t, const char *field, double *out)
{
    int type = intent_rawfield(L, t, field);
    *out = 0;
    int rc = 0;
    if (type == LUA_TNIL) rc = 0;
    else if (type != LUA_TNUMBER) rc = -1;
    else {
        double v = lua_tonumber(L, -1);
        rc = (isfinite(v) && v > 0) ? 1 : -1;
        if (rc == 1) *out = v;
    }
    lua_pop(L, 1);
    return rc;
}

static int intent_read_one(lua_State *L, int t, intent *it)
{
    if (!lua_istable(L, t)) return intent_reject(it, "an intent must be a table (got %s)", luaL_typename(L, t));
    if (lua_getmetatable(L, t)) {
        lua_pop(L, 1);
        return intent_reject(it, "an intent must be a plain table (it has a metatable)%s", "");
    }
    lua_pushnil(L);
    while (lua_next(L, t)) {                          /* [ key, value ] */
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; intent_fields[i]; i++)
                if (strcmp(lua_tostring(L, -1), intent_fields[i]) == 0) known = 1;
        if (!known) {
            char name[64];
            snprintf(name, sizeof name, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(non-string key)");
            lua_pop(L, 1);
            return intent_reject(it, "unknown field '%s' (fields: side, type, volume, quote, price, reason)", name);
        }
    }
    intent_rawfield(L, t, "side");
    const char *side = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    int side_ok = 1;
    if (strcmp(side, "buy") == 0) it->side = SIDE_BUY;
    else if (strcmp(side, "sell") == 0) it->side = SIDE_SELL;
    else side_ok = 0;
    lua_pop(L, 1);
    if (!side_ok) return intent_reject(it, "side must be \"buy\" or \"sell\"%s", "");
    intent_rawfield(L, t, "type");
    const char *type = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    int type_ok = 1;
    if (strcmp(type, "market") == 0) it->type = ORDER_MARKET;
    else if (strcmp(type, "limit") == 0) it->type = ORDER_LIMIT;
    else type_ok = 0;
    lua_pop(L, 1);
    if (!type_ok) return intent_reject(it, "type must be \"market\" or \"limit\"%s", "");
    int has_volume = intent_number(L, t, "volume", &it->volume);
    int has_quote = intent_number(L, t, "quote", &it->quote);
    int has_price = intent_number(L, t, "price", &it->price);
    if (has_volume < 0) return intent_reject(it, "volume must be a positive finite number%s", "");
    if (has_quote < 0) return intent_reject(it, "quote must be a positive finite number%s", "");
    if (has_price < 0) return intent_reject(it, "price must be a positive finite number%s", "");
    if (has_volume == has_quote) return intent_reject(it, "give exactly one of volume (base) or quote (quote amount)%s", "");
    if (it->type == ORDER_LIMIT && !has_price) return intent_reject(it, "a limit order needs a price%s", "");
    if (it->type == ORDER_MARKET && has_price) return intent_reject(it, "price is only for limit orders%s", "");
    int rtype = intent_rawfield(L, t, "reason");
    if (rtype == LUA_TSTRING) snprintf(it->reason, sizeof it->reason, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    if (rtype != LUA_TSTRING && rtype != LUA_TNIL) return intent_reject(it, "reason must be a string%s", "");
    return 0;
}

int intent_read_list(lua_State *L, int idx, intent *out, int *count, char *why, size_t whylen)
{
    idx = lua_absindex(L, idx);
    *count = 0;
    if (!lua_istable(L, idx)) {
        snprintf(why, whylen, "on_cycle must return a list of intents ({} to hold), got %s", luaL_typename(L, idx));
        return -1;
    }
    if (lua_getmetatable(L, idx)) {
        lua_pop(L, 1);
        snprintf(why, whylen, "on_cycle must return a plain list of intents (the table has a metatable)");
        return -1;
    }
    /* A list has the keys 1..n and nothing else: count the other keys, then look for a hole
     * (the length operator would guess around one). */
    lua_Integer n = 0, keys = 0, other = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {                         /* [ key, value ] */
        lua_pop(L, 1);
        keys++;
        lua_Integer k = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        if (k >= 1) n = k > n ? k : n;
        else other++;
    }
    if (other > 0) {
        snprintf(why, whylen, "on_cycle must return a list (array) of intents; the table has %lld %s (1, 2, 3...)",
                 (long long)other, other == 1 ? "key that is not a list position" : "keys that are not list positions");
        return -1;
    }
    if (keys != n) {
        lua_Integer hole = 1;
        while (lua_rawgeti(L, idx, hole) != LUA_TNIL) { lua_pop(L, 1); hole++; }
        lua_pop(L, 1);
        snprintf(why, whylen, "on_cycle must return a list of intents without holes: index %lld is nil (leave an "
                              "intent out rather than put nil in its place)", (long long)hole);
        return -1;
    }
    if (n > INTENT_MAX) {
        snprintf(why, whylen, "on_cycle returned %lld intents; more than %d in one cycle is refused", (long long)n,
                 INTENT_MAX);
        return -1;
    }
    for (lua_Integer i = 1; i <= n; i++) {
        intent *it = &out[i - 1];
        memset(it, 0, sizeof *it);
        it->index = (int)i;
        it->status = INTENT_PENDING;
        lua_rawgeti(L, idx, i);
        intent_read_one(L, lua_gettop(L), it);
        lua_pop(L, 1);
    }
    *count = (int)n;
    return 0;
}
