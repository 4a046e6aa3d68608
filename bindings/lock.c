/* titan.lock — named locks on the active store (the cycle engine's, or one opened from the
 * environment on first use and closed with the Lua state), for strategies that coordinate work
 * across runners. Misuse raises; store failures return nil, err{code, message, retryable}. */
#include <lauxlib.h>
#include <string.h>

#include "bindings.h"
#include "runtime.h"
#include "store.h"

#define LOCK_STORE_KEY "titan.lock.store"
#define LOCK_MAX_TTL_S (7 * 24 * 3600)

typedef struct {
    store *st;
} lock_owned_store;

static int lock_store_gc(lua_State *L)
{
    lock_owned_store *o = lua_touserdata(L, 1);
    if (o && o->st) {
        store_close(o->st);
        o->st = NULL;
    }
    return 0;
}

/* The store to use, or NULL with an error message pushed. */
static store *lock_store(lua_State *L)
{
    store *active = store_get_active();
    if (active) return active;
    if (lua_getfield(L, LUA_REGISTRYINDEX, LOCK_STORE_KEY) == LUA_TUSERDATA) { /* [ ud ] */
        store *st = ((lock_owned_store *)lua_touserdata(L, -1))->st;
        lua_pop(L, 1);
        return st;
    }
    lua_pop(L, 1);
    lock_owned_store *o = lua_newuserdatauv(L, sizeof *o, 0); /* [ ud ] */
    o->st = NULL;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, lock_store_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    char err[1024] = "";
    o->st = store_open_from_env(err, sizeof err);
    if (!o->st) {
        lua_pop(L, 1);
        lua_pushstring(L, err);
        return NULL;
    }
    lua_setfield(L, LUA_REGISTRYINDEX, LOCK_STORE_KEY); /* [ ] */
    return o->st;
}

static const char *lock_check_name(lua_State *L)
{
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, len > 0 && len <= 200 && strlen(name) == len, 1, "lock name must be 1..200 bytes, no NUL");
    return name;
}

/* acquire(name, ttl_s) -> true | false, holder | nil, err
 * true: the lock is ours until now + ttl_s (re-acquiring our own lock extends it);
 * false, holder: someone else holds a live lease. */
static int lock_acquire(lua_State *L)
{
    const char *name = lock_check_name(L);
    lua_Integer ttl = luaL_checkinteger(L, 2);
    luaL_argcheck(L, ttl >= 1 && ttl <= LOCK_MAX_TTL_S, 2, "ttl_s must be 1..604800 seconds");
    runtime_budget_left_ms(L);                          /* a store call blocks: not once a budget is spent */
    store *st = lock_store(L);
    if (!st) return bindings_push_error(L, "lock.store_unavailable", lua_tostring(L, -1), 0);
    char holder[300], current[300], err[1024] = "";
    store_default_holder(holder, sizeof holder);
    store_rc rc = store_lock_acquire(st, name, holder, (int)ttl, current, sizeof current, err, sizeof err);
    if (rc == STORE_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (rc == STORE_CONFLICT) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, current);
        return 2;
    }
    return bindings_push_error(L, "lock.store_error", err, 1);
}

/* release(name) -> true (released) | false (not ours: free, expired and taken, or another's) | nil, err */
static int lock_release(lua_State *L)
{
    const char *name = lock_check_name(L);
    runtime_budget_left_ms(L);
    store *st = lock_store(L);
    if (!st) return bindings_push_error(L, "lock.store_unavailable", lua_tostring(L, -1), 0);
    char holder[300], err[1024] = "";
    store_default_holder(holder, sizeof holder);
    store_rc rc = store_lock_release(st, name, holder, err, sizeof err);
    if (rc == STORE_OK || rc == STORE_NOT_FOUND) {
        lua_pushboolean(L, rc == STORE_OK);
        return 1;
    }
    return bindings_push_error(L, "lock.store_error", err, 1);
}

/* holder() -> the name this process holds locks under ("<host>:<pid>[:gh<run id>]") */
static int lock_holder(lua_State *L)
{
    char holder[300];
    store_default_holder(holder, sizeof holder);
    lua_pushstring(L, holder);
    return 1;
}

static const luaL_Reg lock_functions[] = {
    {"acquire", lock_acquire},
    {"holder", lock_holder},
    {"release", lock_release},
    {NULL, NULL},
};

int luaopen_titan_lock(lua_State *L)
{
    luaL_newlib(L, lock_functions);
    return 1;
}
