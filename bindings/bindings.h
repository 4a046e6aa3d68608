/* Entry points of the titan.* Lua modules and helpers they share. */
#ifndef TITAN_BINDINGS_H
#define TITAN_BINDINGS_H
#include <lua.h>

int luaopen_titan_crypto(lua_State *L);
int luaopen_titan_json(lua_State *L);
int luaopen_titan_log(lua_State *L);
int luaopen_titan_time(lua_State *L);

/* Pushes nil and an error table {code=, message=, retryable=}; returns 2 — the
 * outside-world failure convention of every binding. */
int bindings_push_error(lua_State *L, const char *code, const char *message, int retryable);
/* Encodes the value at idx as JSON with lua-cjson (pushes the string). Raises on failure. */
void bindings_json_encode(lua_State *L, int idx);
#endif
