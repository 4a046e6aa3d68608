/* --set NAME=VALUE on a strategy's params table. */
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "strbuf.h"

/* The names of params' string keys, comma-separated, for a message. */
static void params_names(lua_State *L, int params, strbuf *out)
{
    lua_pushnil(L);
    while (lua_next(L, params)) {
        if (lua_type(L, -2) == LUA_TSTRING) strbuf_printf(out, "%s%s", out->len ? ", " : "", lua_tostring(L, -2));
        lua_pop(L, 1);
    }
}

/* Pushes `text` typed like the value at idx; 0, or -1 with why. */
static int params_push_typed(lua_State *L, int idx, const char *text, char *why, size_t whylen)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER: {
        char *end = NULL;
        errno = 0;
        double v = strtod(text, &end);
        if (!*text || errno || !end || *end || !isfinite(v)) {
            snprintf(why, whylen, "it is a number and '%s' is not one", text);
            return -1;
        }
        if (lua_isinteger(L, idx) && v == floor(v) && fabs(v) < 9007199254740992.0) lua_pushinteger(L, (lua_Integer)v);
        else lua_pushnumber(L, v);
        return 0;
    }
    case LUA_TBOOLEAN:
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0) {
            snprintf(why, whylen, "it is a boolean: give true or false, not '%s'", text);
            return -1;
        }
        lua_pushboolean(L, strcmp(text, "true") == 0);
        return 0;
    case LUA_TSTRING:
        lua_pushstring(L, text);
        return 0;
    default:
        snprintf(why, whylen, "it is a %s, which --set cannot replace", luaL_typename(L, idx));
        return -1;
    }
}

int params_apply(lua_State *L, int strategy_idx, const char *assignment, char *err, size_t errlen)
{
    int top = lua_gettop(L);
    strategy_idx = lua_absindex(L, strategy_idx);
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) {
        snprintf(err, errlen, "--set %s: write NAME=VALUE", assignment);
        return -1;
    }
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(eq - assignment < 127 ? eq - assignment : 127), assignment);
    lua_pushliteral(L, "params");
    if (lua_rawget(L, strategy_idx) != LUA_TTABLE) {
        snprintf(err, errlen, "--set %s: the strategy has no params table", assignment);
        lua_settop(L, top);
        return -1;
    }
    int params = lua_gettop(L);
    lua_pushstring(L, name);
    if (lua_rawget(L, params) == LUA_TNIL) {
        strbuf names = {0};
        params_names(L, params, &names);
        snprintf(err, errlen, "--set %s: params has no field '%s' (it has: %s)", assignment, name,
                 names.len ? strbuf_cstr(&names) : "nothing");
        strbuf_free(&names);
        lua_settop(L, top);
        return -1;
    }
    char why[200];
    if (params_push_typed(L, -1, eq + 1, why, sizeof why) != 0) {
        snprintf(err, errlen, "--set %s: params.%s was not changed: %s", assignment, name, why);
        lua_settop(L, top);
        return -1;
    }
    lua_pushstring(L, name);
    lua_insert(L, -2);
    lua_rawset(L, params);                             /* params[name] = value */
    lua_settop(L, top);
    return 0;
}
