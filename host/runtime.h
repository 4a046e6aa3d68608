/* The Lua runtime: one lua_State per run, sandboxed, with CPU and memory budgets.
 * Every call into Lua goes through runtime_call. */
#ifndef TITAN_RUNTIME_H
#define TITAN_RUNTIME_H
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

typedef struct runtime runtime;

typedef enum {
    RUNTIME_OK = 0,
    RUNTIME_ERR_LUA,    /* a Lua error (message + traceback on the stack) */
    RUNTIME_ERR_CPU,    /* the CPU budget ran out */
    RUNTIME_ERR_MEMORY, /* the memory budget ran out */
    RUNTIME_ERR_TIME,   /* the wall-clock budget ran out */
    RUNTIME_ERR_STOPPED, /* runtime_stop_current ended it (SIGINT/SIGTERM) */
} runtime_status;

/* Budgets of each call from TITAN_LUA_CPU_S (default 30), TITAN_LUA_WALL_S (default 300) and
 * TITAN_LUA_MEM_MB (default 256).
 * `script_path` decides the require path (its folder first). On failure returns NULL and
 * writes a message to err (size errlen). */
runtime *runtime_open(const char *script_path, char *err, size_t errlen);
void runtime_close(runtime *rt);
lua_State *runtime_lua(runtime *rt);

/* Loads a Lua source file (text only) and pushes it as a function; on failure pushes the
 * error message and returns RUNTIME_ERR_LUA. */
runtime_status runtime_load_file(runtime *rt, const char *path);
/* The same for source text; chunkname is what messages call it ("@path" reads as a file name). */
runtime_status runtime_load_text(runtime *rt, const char *text, size_t len, const char *chunkname);
/* Seeds math.random (Lua seeds it from the time and an address when the state opens): a cycle
 * records its seed in the capsule and a replay sets the same one, so a strategy that draws
 * numbers draws the same ones. Call before the strategy loads. 0, or -1 when math.randomseed
 * failed (out of memory). */
int runtime_seed_random(runtime *rt, int64_t seed);
/* Calls the function below nargs arguments with budgets armed and a traceback handler.
 * On success leaves nresults values; on failure leaves one string: the message and
 * traceback (budget errors name the limit). */
runtime_status runtime_call(runtime *rt, int nargs, int nresults);
/* For bindings that block (sleep, HTTP, the store): raises the budget error when a budget has
 * run out, else returns the milliseconds left of the call's wall-clock budget, to bound the
 * wait by (INT64_MAX outside a call). C code that calls them in a loop (table.sort with a
 * binding as comparator) is stopped this way, where the kill hook cannot run. */
int64_t runtime_budget_left_ms(lua_State *L);
/* Bytes the running call may still allocate under TITAN_LUA_MEM_MB (SIZE_MAX outside a call or
 * in a plain Lua state): bindings that hold C buffers for Lua (HTTP responses) count them in it. */
size_t runtime_memory_left(lua_State *L);
/* Ends the call into Lua that is running now, as a budget would (its next instruction, or the
 * next blocking binding, raises "stopped: ..."); nothing when no call runs. Async-signal-safe:
 * for SIGINT/SIGTERM handlers (sig names the signal in the message). */
void runtime_stop_current(int sig);
/* Pops the value on top of the stack into global `name` (bypassing the strict-globals guard). */
void runtime_set_global(runtime *rt, const char *name);
/* The Lua thread that runs, for the CPU-budget timer (host/coroutine.c): enter before running
 * coroutine co from L, returning the thread to restore; leave after, which raises the kill in
 * L if a budget ran out meanwhile (and remembers co if that ended it); killed says whether a
 * budget ended co (its __close handlers must not run: hooks stay off in a killed thread). */
lua_State *runtime_thread_enter(lua_State *L, lua_State *co);
void runtime_thread_leave(lua_State *L, lua_State *outer, lua_State *co);
int runtime_thread_killed(lua_State *L, lua_State *co);
/* The folder holding strategies/ (where lib/ modules come from). */
const char *runtime_home(const runtime *rt);
#endif
