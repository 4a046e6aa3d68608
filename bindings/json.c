/* titan.json — lua-cjson, linked in, also reachable as require "cjson". Nesting is limited so
 * a hostile body cannot exhaust the C stack; decode_safe turns bad JSON into nil, err. */
#include <lauxlib.h>
#include <lua-cjson.h>

#include "bindings.h"

#define JSON_MAX_DEPTH 64

static const char json_registry_key[] = "titan.json.module";

/* Debian's lua-cjson 2.1.0 leaks its 32-byte decode buffer on every json.decode (strbuf_new in
 * the library, not our code). An AddressSanitizer build carries the suppression itself, so a good
 * run exits 0 with no suppressions file; anything leaked from our code is still reported. This
 * file is always linked (every state opens titan.json), so LeakSanitizer finds the definition. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JSON_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(JSON_UNDER_ASAN)
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:liblua5.4-cjson.so\n"; }
/* and without a "Suppressions used" table on stderr after every run (LSAN_OPTIONS still wins) */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void) { return "print_suppressions=0"; }
#endif

/* decode_safe(text) -> value | nil, err{code="json.invalid", message} */
static int json_decode_safe(lua_State *L)
{
    luaL_checkstring(L, 1);
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));  /* [ text, decode ] */
    lua_insert(L, 1);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        return bindings_push_error(L, "json.invalid", msg ? msg : "invalid JSON", 0);
    }
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
    lua_getfield(L, -1, "decode");
    lua_pushcclosure(L, json_decode_safe, 1);
    lua_setfield(L, -2, "decode_safe");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, json_registry_key);
    return 1;
}
