/* Helpers shared by the bindings: the nil, err convention and JSON encoding via lua-cjson. */
#include "bindings.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua-cjson.h>

int bindings_push_error(lua_State *L, const char *code, const char *message, int retryable)
{
    lua_pushnil(L);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
    lua_pushboolean(L, retryable);
    lua_setfield(L, -2, "retryable");
    return 2;
}

void bindings_json_encode(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    /* The pristine encoder from the registry: a script may replace titan.json.encode or
     * `require`, and its stand-in could return a non-string or forge blackbox lines. */
    if (lua_getfield(L, LUA_REGISTRYINDEX, BINDINGS_JSON_ENCODE_KEY) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        luaL_requiref(L, "titan.json", luaopen_titan_json, 0);
        lua_pop(L, 1);
        lua_getfield(L, LUA_REGISTRYINDEX, BINDINGS_JSON_ENCODE_KEY);
    }                                   /* [ encode ] */
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);                  /* [ text ] */
}

#define BINDINGS_JSON_MAX_DEPTH 64
static const char bindings_decode_key[] = "titan.json.decode.private";

/* 1 when every number in the value at idx is finite. cjson turns a literal too large for a
 * double (1e400) into infinity, which no JSON encoder can write back. */
static int bindings_json_finite(lua_State *L, int idx, int depth)
{
    int type = lua_type(L, idx);
    if (type == LUA_TNUMBER) return lua_isinteger(L, idx) || isfinite(lua_tonumber(L, idx));
    if (type != LUA_TTABLE) return 1;
    if (depth > BINDINGS_JSON_MAX_DEPTH || !lua_checkstack(L, 3)) return 0;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {                         /* [ key, value ] */
        if (!bindings_json_finite(L, -1, depth + 1)) {
            lua_pop(L, 2);
            return 0;
        }
        lua_pop(L, 1);
    }
    return 1;
}

int bindings_json_decode_why(lua_State *L, const char *text, size_t len, char *why, size_t whylen)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, bindings_decode_key) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        luaopen_cjson(L);                              /* [ cjson ] — an instance of our own */
        lua_getfield(L, -1, "decode_max_depth");
        lua_pushinteger(L, BINDINGS_JSON_MAX_DEPTH);
        lua_call(L, 1, 0);
        /* strict numbers: no hex, no leading zeros, no NaN or Infinity */
        lua_getfield(L, -1, "decode_invalid_numbers");
        lua_pushboolean(L, 0);
        lua_call(L, 1, 0);
        lua_getfield(L, -1, "decode");                 /* [ cjson, decode ] */
        lua_remove(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, bindings_decode_key);
    }                                                  /* [ decode ] */
    if (memchr(text, '\0', len)) {                     /* cjson would stop reading there */
        if (why && whylen) snprintf(why, whylen, "a NUL byte inside the text");
        lua_pop(L, 1);
        return 0;
    }
    lua_pushlstring(L, text, len);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        if (why && whylen) snprintf(why, whylen, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error");
        lua_pop(L, 1);
        return 0;
    }
    if (!bindings_json_finite(L, -1, 0)) {
        if (why && whylen) snprintf(why, whylen, "a number is out of range (beyond a double)");
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

int bindings_json_decode(lua_State *L, const char *text, size_t len)
{
    return bindings_json_decode_why(L, text, len, NULL, 0);
}
