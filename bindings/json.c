/* titan.json — lua-cjson, linked in, also reachable as require "cjson". Nesting is limited so
 * a hostile body cannot exhaust the C stack; decode_safe is the host's strict decoder and turns
 * bad JSON into nil, err. */
#include <lauxlib.h>
#include <lua-cjson.h>

#include "bindings.h"

#define JSON_MAX_DEPTH 64

static const char json_registry_key[] = "titan.json.module";

/* decode_safe(text) -> value | nil, err{code="json.invalid", message}: the host's own strict
 * decoder (bindings_json_decode), the one Kraken and store answers go through, for what a
 * script reads from the outside world (AI answers): no NaN, Infinity, hex or 1e400. */
static int json_decode_safe(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    char why[200];
    if (!bindings_json_decode_why(L, text, len, why, sizeof why))
        return bindings_push_error(L, "json.invalid", why, 0);
    return 1;
}

static void json_configure(lua_State *L, const char *setter, int value)
{
    lua_getfield(L, -1, setter);
    lua_pushinteger(L, value);
    lua_call(L, 1, 0);
}

static int json_denied(lua_State *L)
{
    return luaL_error(L, "%s is not available in the titan-host sandbox (JSON nesting is capped at %d)",
                      lua_tostring(L, lua_upvalueindex(1)), JSON_MAX_DEPTH);
}

/* A script must not lift the nesting cap (deep input would overflow the C stack), neither
 * directly nor through a fresh instance from cjson.new(). */
static void json_deny(lua_State *L, const char *field)
{
    lua_pushfstring(L, "cjson.%s", field);
    lua_pushcclosure(L, json_denied, 1);
    lua_setfield(L, -2, field);
}

int luaopen_titan_json(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, json_registry_key) == LUA_TTABLE) return 1;
    lua_pop(L, 1);
    luaopen_cjson(L);                                  /* [ cjson ] */
    json_configure(L, "decode_max_depth", JSON_MAX_DEPTH);
    json_configure(L, "encode_max_depth", JSON_MAX_DEPTH);
    json_deny(L, "decode_max_depth");
    json_deny(L, "encode_max_depth");
    json_deny(L, "new");
    /* The host's own encoder (titan.log, bindings_json_encode) comes from a private instance:
     * a script can replace titan.json.encode or change its settings (number precision, invalid
     * numbers, sparse arrays), not this one's. */
    luaopen_cjson(L);                                  /* [ cjson, host_cjson ] */
    json_configure(L, "encode_max_depth", JSON_MAX_DEPTH);
    lua_getfield(L, -1, "encode");
    lua_setfield(L, LUA_REGISTRYINDEX, BINDINGS_JSON_ENCODE_KEY);
    lua_pop(L, 1);                                     /* [ cjson ] */
    lua_pushcfunction(L, json_decode_safe);
    lua_setfield(L, -2, "decode_safe");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, json_registry_key);
    return 1;
}
