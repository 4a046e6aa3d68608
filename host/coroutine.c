/* The sandbox's coroutine.resume, coroutine.wrap and coroutine.close: Lua 5.4's lcorolib.c
 * (MIT licence, Lua.org, PUC-Rio), with the thread they run reported to the runtime, so the
 * CPU-budget timer can stop the thread that loops (see runtime_thread_enter). */
#include "coroutine.h"

#include <lauxlib.h>
#include <lualib.h>

#include "runtime.h"

static lua_State *coroutine_check(lua_State *L, int arg)
{
    lua_State *co = lua_tothread(L, arg);
    luaL_argexpected(L, co, arg, "thread");
    return co;
}

/* lcorolib's auxresume: -1 with the error message on L, or the number of values moved. */
static int coroutine_resume_raw(lua_State *L, lua_State *co, int narg)
{
    int nres;
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    lua_xmove(L, co, narg);
    lua_State *outer = runtime_thread_enter(L, co);
    int status = lua_resume(co, L, narg, &nres);
    int r;
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            r = -1;
        } else {
            lua_xmove(co, L, nres);
            r = nres;
        }
    } else {
        lua_xmove(co, L, 1);
        r = -1;
    }
    runtime_thread_leave(L, outer, co);    /* raises here if a budget ran out meanwhile */
    return r;
}

/* lua_resetthread (runs co's pending __close handlers) on the tracked thread. A coroutine a
 * budget stopped is not reset: its hooks stay off after the kill, so its handlers would run
 * outside the budget; it reports the kill instead. Leaves the error, if any, on L. */
static int coroutine_reset(lua_State *L, lua_State *co)
{
    if (runtime_thread_killed(L, co)) {
        lua_pushliteral(L, "coroutine stopped by a budget (TITAN_LUA_CPU_S / TITAN_LUA_MEM_MB): its __close "
                           "handlers are not run");
        return LUA_ERRRUN;
    }
    lua_State *outer = runtime_thread_enter(L, co);
    int status = lua_resetthread(co);
    if (status != LUA_OK) lua_xmove(co, L, 1);
    runtime_thread_leave(L, outer, co);
    return status;
}

static int coroutine_resume(lua_State *L)
{
    lua_State *co = coroutine_check(L, 1);
    int r = coroutine_resume_raw(L, co, lua_gettop(L) - 1);
    if (r < 0) {
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;                                     /* false, error */
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -(r + 1));
    return r + 1;                                     /* true, results... */
}

static int coroutine_wrapped(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int r = coroutine_resume_raw(L, co, lua_gettop(L));
    if (r >= 0) return r;
    int status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD) {    /* an error in the coroutine: close it */
        status = coroutine_reset(L, co);
        if (status != LUA_OK) lua_remove(L, -2);      /* the closing's error replaces resume's */
    }
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);                             /* position of the caller, as lcorolib adds */
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int coroutine_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, coroutine_wrapped, 1);
    return 1;
}

/* lcorolib's auxstatus, for close's "cannot close a running coroutine". */
static const char *coroutine_status_name(lua_State *L, lua_State *co)
{
    if (L == co) return "running";
    switch (lua_status(co)) {
    case LUA_YIELD: return "suspended";
    case LUA_OK: {
        lua_Debug ar;
        if (lua_getstack(co, 0, &ar)) return "normal";
        return lua_gettop(co) == 0 ? "dead" : "suspended";
    }
    default: return "dead";
    }
}

static int coroutine_close(lua_State *L)
{
    lua_State *co = coroutine_check(L, 1);
    const char *status = coroutine_status_name(L, co);
    if (status[0] != 'd' && status[0] != 's') return luaL_error(L, "cannot close a %s coroutine", status);
    if (coroutine_reset(L, co) == LUA_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;                                         /* false, error */
}

int coroutine_open(lua_State *L)
{
    luaopen_coroutine(L);                             /* create, status, running, yield, isyieldable */
    static const luaL_Reg tracked[] = {
        {"resume", coroutine_resume},
        {"wrap", coroutine_wrap},
        {"close", coroutine_close},
        {NULL, NULL},
    };
    luaL_setfuncs(L, tracked, 0);
    return 1;
}
