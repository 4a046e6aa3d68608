/* The sandbox's coroutine library: Lua's, with resume/wrap/close tracked for the CPU budget. */
#ifndef TITAN_COROUTINE_H
#define TITAN_COROUTINE_H
#include <lua.h>

/* luaopen-style: pushes the coroutine table. */
int coroutine_open(lua_State *L);
#endif
