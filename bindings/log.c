/* titan.log — levelled structured events into blackbox.log (redacted), echoed on stderr.
 * debug|info|warn|error(event, fields?) ; misuse (non-string event, fields that JSON cannot
 * encode) raises. */
#include <lauxlib.h>

#include "bindings.h"
#include "blackbox.h"

static int log_event(lua_State *L, blackbox_level level)
{
    const char *event = luaL_checkstring(L, 1);
    const char *fields = NULL;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        bindings_json_encode(L, 2);                    /* [ event, fields, text ] */
        fields = lua_tostring(L, -1);
        /* An empty Lua table encodes as {} — fine; an array has no members to merge. */
        if (!fields || fields[0] != '{') luaL_argerror(L, 2, "fields must be a table with string keys");
    }
    blackbox_log(level, event, fields);
    return 0;
}

static int log_debug(lua_State *L) { return log_event(L, BLACKBOX_DEBUG); }
static int log_info(lua_State *L) { return log_event(L, BLACKBOX_INFO); }
static int log_warn(lua_State *L) { return log_event(L, BLACKBOX_WARN); }
static int log_error(lua_State *L) { return log_event(L, BLACKBOX_ERROR); }

static const luaL_Reg log_functions[] = {
    {"debug", log_debug},
    {"error", log_error},
    {"info", log_info},
    {"warn", log_warn},
    {NULL, NULL},
};

int luaopen_titan_log(lua_State *L)
{
    luaL_newlib(L, log_functions);
    return 1;
}
