/* Helpers shared by the bindings: the nil, err convention and JSON encoding via lua-cjson. */
#include "bindings.h"

#include <lauxlib.h>

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
    lua_getglobal(L, "require");
    lua_pushliteral(L, "titan.json");
    lua_call(L, 1, 1);                  /* [ json ] */
    lua_getfield(L, -1, "encode");      /* [ json, encode ] */
    lua_remove(L, -2);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);                  /* [ text ] */
}
