/* host/runtime.c from C: the sandbox opens, budgets name their limit, and the host can still
 * allocate after a script stopped just under the memory cap (it used to panic). */
#include <stdlib.h>

#include <lauxlib.h>

#include "runtime.h"
#include "unit.h"

static runtime_status run_chunk(runtime *rt, const char *code)
{
    lua_State *L = runtime_lua(rt);
    if (luaL_loadstring(L, code) != LUA_OK) return RUNTIME_ERR_LUA;
    return runtime_call(rt, 0, 0);
}

/* A runtime with these budgets (environment variables, as the host reads them); NULL on failure. */
static runtime *open_with(const char *mem_mb, const char *cpu_s)
{
    char err[256];
    setenv("TITAN_LUA_MEM_MB", mem_mb, 1);
    setenv("TITAN_LUA_CPU_S", cpu_s, 1);
    runtime *rt = runtime_open(NULL, err, sizeof err);
    CHECK_MSG(rt != NULL, err);
    return rt;
}

/* A protected host-side allocation of n bytes, as cycle code does between calls. */
static int host_push(lua_State *L)
{
    size_t n = (size_t)lua_tointeger(L, 1);
    char *big = lua_newuserdatauv(L, n, 0);
    big[0] = 1;
    lua_newtable(L);
    return 2;
}

int main(void)
{
    char err[256];
    runtime *rt = open_with("16", "2");
    if (!rt) return UNIT_DONE("test_runtime");
    lua_State *L = runtime_lua(rt);

    CHECK_INT(run_chunk(rt, "local x = 1 + 1"), RUNTIME_OK);
    CHECK_INT(run_chunk(rt, "error('plain')"), RUNTIME_ERR_LUA);
    CHECK(strstr(lua_tostring(L, -1), "plain") != NULL);
    CHECK(strstr(lua_tostring(L, -1), "stack traceback") != NULL);
    lua_pop(L, 1);
    CHECK_INT(run_chunk(rt, "local t = {} while true do t[#t + 1] = {} end"), RUNTIME_ERR_MEMORY);
    CHECK(strstr(lua_tostring(L, -1), "TITAN_LUA_MEM_MB") != NULL);
    lua_pop(L, 1);
    CHECK_INT(run_chunk(rt, "pcall(function() while true do end end)"), RUNTIME_ERR_CPU);
    CHECK(strstr(lua_tostring(L, -1), "TITAN_LUA_CPU_S") != NULL);
    lua_pop(L, 1);

    /* a script keeps what it allocated until the cap refused it: the state ends the call just
     * under the cap (within the size of the refused allocation, under 512 KiB here) */
    CHECK_INT(run_chunk(rt, "local keep = {}\n"
                            "rawset(_G, 'keep', keep)\n"
                            "while true do keep[#keep + 1] = ('x'):rep(1000) end\n"),
              RUNTIME_ERR_MEMORY);
    lua_settop(L, 0);
    /* the host, between calls, builds what it needs (900 KiB here): granted from the reserve,
     * where it used to be refused outside any protected call, a panic and an abort */
    lua_pushcfunction(L, host_push);
    lua_pushinteger(L, 900 * 1024);
    int rc = lua_pcall(L, 1, 2, 0);
    CHECK_INT(rc, LUA_OK);
    lua_settop(L, 0);
    /* the next call is still capped */
    CHECK_INT(run_chunk(rt, "local s = ('y'):rep(64 * 1024 * 1024)"), RUNTIME_ERR_MEMORY);
    lua_settop(L, 0);
    CHECK_INT(run_chunk(rt, "keep = nil"), RUNTIME_OK); /* existing global: allowed */
    runtime_close(rt);

    /* Small blocks are reused through the allocator's free lists: millions of short-lived tables
     * of every small size, arrays grown and shrunk across the size classes, all under the cap,
     * with every value read back intact; what is still held afterwards is counted as before. The
     * CPU budget is not under test: 20 s leaves room for a sanitizer build on a busy machine. */
    rt = open_with("16", "20");
    if (!rt) return UNIT_DONE("test_runtime");
    L = runtime_lua(rt);
    CHECK_INT(run_chunk(rt, "collectgarbage()\n"
                            "local base = collectgarbage('count')\n"
                            "for i = 1, 300000 do\n"
                            "  local t = { i, i + 1, x = i, y = tostring(i) }\n"
                            "  for k = 1, i % 40 do t[k] = k * i end\n"
                            "  for k = i % 40, 1, -1 do t[k] = nil end\n"
                            "  assert(t.x == i and t.y == tostring(i))\n"
                            "end\n"
                            "collectgarbage()\n"
                            "assert(collectgarbage('count') < base + 64, 'garbage was counted as live')\n"
                            "local keep = {}\n"
                            "for i = 1, 1000 do keep[i] = { i } end\n"
                            "for i = 1, 1000 do assert(keep[i][1] == i) end\n"),
              RUNTIME_OK);
    CHECK_MSG(lua_gettop(L) == 0, lua_tostring(L, -1));
    CHECK_INT(run_chunk(rt, "local t = {} while true do t[#t + 1] = { 1, 2, 3 } end"), RUNTIME_ERR_MEMORY);
    lua_settop(L, 0);
    runtime_close(rt);

    /* A coroutine the CPU budget stopped in one call keeps its hooks off (Lua leaves them off in
     * a thread that died in a hook), so a later call must not run its __close handlers: closing
     * it, or calling its wrap function again, reports the kill at once instead of looping
     * until the process is ended. */
    rt = open_with("64", "1");
    if (!rt) return UNIT_DONE("test_runtime");
    L = runtime_lua(rt);
    CHECK_INT(run_chunk(rt, "rawset(_G, 'keep', {})\n"
                            "local function looping_close() while true do end end\n"
                            "keep.c = coroutine.create(function()\n"
                            "  local x <close> = setmetatable({}, { __close = looping_close })\n"
                            "  while true do end\n"
                            "end)\n"
                            "keep.w = coroutine.wrap(function()\n"
                            "  local x <close> = setmetatable({}, { __close = looping_close })\n"
                            "  coroutine.yield()\n"
                            "  while true do end\n"
                            "end)\n"
                            "keep.w()\n"
                            "coroutine.resume(keep.c)\n"),
              RUNTIME_ERR_CPU);
    lua_settop(L, 0);
    CHECK_INT(run_chunk(rt, "keep.w()"), RUNTIME_ERR_CPU);        /* the wrapped one dies now */
    lua_settop(L, 0);
    CHECK_INT(run_chunk(rt, "local ok, e = coroutine.close(keep.c)\n"
                            "assert(ok == false and e:find('stopped by a budget'), e)\n"
                            "local ok2, e2 = pcall(keep.w)\n"
                            "assert(ok2 == false and e2:find('stopped by a budget'), e2)\n"
                            "assert(coroutine.status(keep.c) == 'dead')\n"),
              RUNTIME_OK);
    const char *msg = lua_tostring(L, -1);
    CHECK_MSG(lua_gettop(L) == 0, msg ? msg : "");
    lua_settop(L, 0);
    /* an ordinary coroutine in the same state still closes normally */
    CHECK_INT(run_chunk(rt, "local closed = false\n"
                            "local c = coroutine.create(function()\n"
                            "  local x <close> = setmetatable({}, { __close = function() closed = true end })\n"
                            "  coroutine.yield()\n"
                            "end)\n"
                            "coroutine.resume(c)\n"
                            "assert(coroutine.close(c) == true and closed)\n"),
              RUNTIME_OK);
    lua_settop(L, 0);
    runtime_close(rt);

    /* bad budget values are refused with the variable named */
    setenv("TITAN_LUA_MEM_MB", "lots", 1);
    CHECK(runtime_open(NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "TITAN_LUA_MEM_MB='lots'") != NULL);
    return UNIT_DONE("test_runtime");
}
