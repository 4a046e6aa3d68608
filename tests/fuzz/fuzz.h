/* What every fuzz target shares: libFuzzer's entry point (one per tests/fuzz/fuzz_*.c), a check
 * that stops the run on a broken property, and the Lua state the targets on Lua values use. */
#ifndef TITAN_FUZZ_H
#define TITAN_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* Runs one input. 0 always (libFuzzer's contract); a crash, a sanitizer report or a failed
 * FUZZ_CHECK is the finding. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code under test must keep: abort (libFuzzer saves the input) when it does not. */
#define FUZZ_CHECK(cond, what)                                                                   \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz: %s:%d: %s (%s)\n", __FILE__, __LINE__, (what), #cond);       \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* One Lua state per process with the standard libraries, emptied before each input. */
static inline lua_State *fuzz_lua(void)
{
    static lua_State *L;
    if (!L) {
        L = luaL_newstate();
        FUZZ_CHECK(L != NULL, "out of memory");
        luaL_openlibs(L);
    }
    lua_settop(L, 0);
    return L;
}

/* Calls fn(L) with the light userdata arg in a protected call: the code under test may raise
 * only on out-of-memory, so any error is a finding. */
static inline void fuzz_protected(lua_State *L, lua_CFunction fn, void *arg)
{
    lua_pushcfunction(L, fn);
    lua_pushlightuserdata(L, arg);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        fprintf(stderr, "fuzz: raised: %s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(not a string)");
        abort();
    }
    lua_settop(L, 0);
}
#endif
