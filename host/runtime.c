/* The sandboxed Lua runtime (after Redis's scripting engine and lua.c): allow-listed
 * libraries, a require that only searches the script's folder and strategies/, a budgeted
 * allocator, and a CPU budget that pcall cannot swallow: a CPU-time timer arms a hook on the
 * running Lua thread when the budget runs out (lua.c stops a script on SIGINT the same way),
 * so a script pays nothing for the budget until it exceeds it. */
#include "runtime.h"

#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "clock.h"
#include "console.h"
#include "coroutine.h"
#include "modules.h"
#include "secrets.h"
#include "settings.h"
#include "strbuf.h"
#include "tape.h"

#define RUNTIME_MEM_RESERVE (1024 * 1024)  /* headroom to unwind once the cap is hit */
#define RUNTIME_CPU_GRACE_MS 2000          /* the CPU backstop fires this long after the budget */
#define RUNTIME_WALL_GRACE_MS 30000        /* the wall-clock backstop: a store call (15 s) may end first */

enum { KILL_NONE, KILL_CPU, KILL_MEMORY, KILL_WALL, KILL_STOP };

/* Blocks of up to RUNTIME_SMALL_MAX bytes (tables, short strings, closures: what a backtest makes
 * and frees by the million) come from per-size free lists of 16-byte classes, up to
 * RUNTIME_SMALL_KEEP blocks each, instead of a malloc and a free each time. Off under
 * AddressSanitizer, which must see every free. */
#define RUNTIME_SMALL_MAX 256
#define RUNTIME_SMALL_CLASSES (RUNTIME_SMALL_MAX / 16)
#define RUNTIME_SMALL_KEEP 1024
#if defined(__SANITIZE_ADDRESS__)
#define RUNTIME_SMALL_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUNTIME_SMALL_CACHE 0
#endif
#endif
#ifndef RUNTIME_SMALL_CACHE
#define RUNTIME_SMALL_CACHE 1
#endif

typedef struct runtime_block {
    struct runtime_block *next;
} runtime_block;

struct runtime {
    lua_State *L;
    size_t mem_used, mem_limit;
    int64_t cpu_budget_ms, wall_budget_ms;
    int64_t wall_deadline_ms;      /* monotonic: when the current call's wall-clock budget ends */
    /* Written by the CPU timer's signal handler too. */
    volatile sig_atomic_t kill;
    volatile sig_atomic_t in_call;
    volatile sig_atomic_t cpu_fired, wall_fired;   /* signals in this call: 1 arms the kill, 2 ends the process */
    volatile sig_atomic_t stop_signal;             /* runtime_stop_current's signal, for the message */
    lua_State *volatile running;   /* the Lua thread executing now: L, or a coroutine it resumed */
    char *script_dir;
    char *home;
    runtime_block *small_free[RUNTIME_SMALL_CLASSES];   /* see runtime_alloc */
    unsigned small_kept[RUNTIME_SMALL_CLASSES];
};

static const char runtime_loaded_key[] = "titan.runtime.loaded";

static void runtime_arm_kill(lua_State *L);

/* ---- memory budget ---------------------------------------------------------------- */

/* The small-block lists. Every block Lua holds at a size of up to RUNTIME_SMALL_MAX was made by
 * runtime_small_get for that size's class (so it is at least the class's size). */
static int runtime_small(size_t n)
{
    return RUNTIME_SMALL_CACHE && n > 0 && n <= RUNTIME_SMALL_MAX;
}

static void *runtime_small_get(runtime *rt, size_t n)
{
    size_t c = (n - 1) / 16;
    runtime_block *b = rt->small_free[c];
    if (!b) return malloc((c + 1) * 16);
    rt->small_free[c] = b->next;
    rt->small_kept[c]--;
    return b;
}

static void runtime_small_put(runtime *rt, void *p, size_t n)
{
    size_t c = (n - 1) / 16;
    if (rt->small_kept[c] >= RUNTIME_SMALL_KEEP) {
        free(p);
        return;
    }
    runtime_block *b = p;
    b->next = rt->small_free[c];
    rt->small_free[c] = b;
    rt->small_kept[c]++;
}

static void runtime_small_release(runtime *rt)
{
    for (int c = 0; c < RUNTIME_SMALL_CLASSES; c++) {
        for (runtime_block *b = rt->small_free[c], *next; b; b = next) {
            next = b->next;
            free(b);
        }
        rt->small_free[c] = NULL;
        rt->small_kept[c] = 0;
    }
}

/* realloc for Lua's blocks, small ones through the lists. */
static void *runtime_realloc(runtime *rt, void *ptr, size_t osize, size_t nsize)
{
    int was_small = ptr && runtime_small(osize), small = runtime_small(nsize);
    if (!was_small && !small) return realloc(ptr, nsize);
    if (was_small && small && (osize - 1) / 16 == (nsize - 1) / 16) return ptr;   /* the same class */
    void *p = small ? runtime_small_get(rt, nsize) : malloc(nsize);
    if (!p) return NULL;
    if (ptr) {
        memcpy(p, ptr, osize < nsize ? osize : nsize);
        if (was_small) runtime_small_put(rt, ptr, osize);
        else free(ptr);
    }
    return p;
}

static void *runtime_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    runtime *rt = ud;
    if (ptr == NULL) osize = 0;
    if (nsize == 0) {
        if (ptr && runtime_small(osize)) runtime_small_put(rt, ptr, osize);
        else free(ptr);
        rt->mem_used -= osize;
        return NULL;
    }
    size_t limit = rt->mem_limit + (rt->kill == KILL_MEMORY ? RUNTIME_MEM_RESERVE : 0);
    /* The cap is for scripts. Outside a call only the host allocates (building ctx, reading
     * results, the kill message), unprotected: a refusal there would be a panic, and a killed
     * script may have left the state at the cap. */
    if (rt->in_call && nsize > osize && rt->mem_used - osize + nsize > limit) {
        /* the hook raises a named error from the next instruction on */
        if (rt->kill == KILL_NONE) {
            rt->kill = KILL_MEMORY;
            runtime_arm_kill(rt->running);
        }
        return NULL;
    }
    void *p = runtime_realloc(rt, ptr, osize, nsize);
    if (p) rt->mem_used = rt->mem_used - osize + nsize;
    return p;
}

/* ---- CPU budget ------------------------------------------------------------------- */

/* The runtime of L, or NULL for a state the runtime did not make (bindings also run in plain
 * states: unit tests, tools); told apart by the allocator, which is the runtime's own. */
static runtime *runtime_of(lua_State *L)
{
    void *ud = NULL;
    return lua_getallocf(L, &ud) == runtime_alloc ? ud : NULL;
}

static void runtime_hook(lua_State *L, lua_Debug *ar);

/* Makes thread L raise the kill at its next instruction. Safe from a signal handler and from
 * the allocator: lua_sethook only stores fields (lua.c calls it from its SIGINT handler). */
static void runtime_arm_kill(lua_State *L) { lua_sethook(L, runtime_hook, LUA_MASKCOUNT, 1); }

/* Pushes the message of the budget that ran out (rt->kill). */
static const char *runtime_push_kill_message(lua_State *L, runtime *rt, int kill)
{
    if (kill == KILL_CPU)
        return lua_pushfstring(L, "CPU budget exceeded: the script ran longer than %d s of CPU time (TITAN_LUA_CPU_S)",
                               (int)(rt->cpu_budget_ms / 1000));
    if (kill == KILL_WALL)
        return lua_pushfstring(L, "time budget exceeded: the call took longer than %d s of wall-clock time "
                                  "(TITAN_LUA_WALL_S)", (int)(rt->wall_budget_ms / 1000));
    if (kill == KILL_STOP)
        return lua_pushfstring(L, "stopped: the process was asked to end (%s)",
                               rt->stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    return lua_pushfstring(L, "memory budget exceeded: the script used more than %d MiB (TITAN_LUA_MEM_MB)",
                           (int)(rt->mem_limit / (1024 * 1024)));
}

static void runtime_raise_kill(lua_State *L, runtime *rt)
{
    /* The hook stays armed with count 1: a pcall inside the script catches the error, and the
     * very next instruction raises it again, until the stack is unwound to the host. */
    runtime_arm_kill(L);
    luaL_where(L, 1);
    runtime_push_kill_message(L, rt, rt->kill);
    lua_concat(L, 2);
    lua_error(L);
}

static void runtime_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    runtime *rt = runtime_of(L);
    if (rt->in_call && rt->kill != KILL_NONE) runtime_raise_kill(L, rt);
    lua_sethook(L, NULL, 0, 0);    /* armed for a kill that is over: a coroutine left suspended */
    if (rt->in_call && rt->kill != KILL_NONE) runtime_raise_kill(L, rt);   /* the timer fired in between */
}

/* The runtime whose call the timers are measuring (one call into Lua at a time). */
static runtime *volatile runtime_timed;

/* SIGPROF (process CPU time) and SIGALRM (wall-clock time): the call has used that budget.
 * The first signal arms the kill hook on the running thread; blocking bindings also check for
 * it before they wait (runtime_budget_left_ms). The hook cannot run while Lua sits inside one
 * C function (a pathological string.find pattern can run for hours), so a second signal, a
 * grace period later, ends the process. */
static void runtime_timer_fired(int sig)
{
    runtime *rt = runtime_timed;
    if (!rt || !rt->in_call) return;
    int cpu = sig == SIGPROF;
    volatile sig_atomic_t *fired = cpu ? &rt->cpu_fired : &rt->wall_fired;
    if ((*fired)++ == 0) {
        if (rt->kill == KILL_NONE) rt->kill = cpu ? KILL_CPU : KILL_WALL;
        runtime_arm_kill(rt->running);
        return;
    }
    static const char cpu_msg[] = "titan-host: CPU budget exceeded inside a C function (a pathological string "
                                  "pattern?) that the budget hook cannot interrupt; stopping (TITAN_LUA_CPU_S)\n";
    static const char wall_msg[] = "titan-host: wall-clock budget exceeded and the script could not be stopped; "
                                   "stopping (TITAN_LUA_WALL_S)\n";
    ssize_t ignored = cpu ? write(STDERR_FILENO, cpu_msg, sizeof cpu_msg - 1)
                          : write(STDERR_FILENO, wall_msg, sizeof wall_msg - 1);
    (void)ignored;
    _exit(1);
}

/* Timer `which` (ITIMER_PROF or ITIMER_REAL): first at the budget, then every grace period;
 * a budget of 0 disarms. */
static void runtime_timer_arm(int which, int64_t budget_ms, int64_t grace_ms)
{
    struct itimerval t;
    memset(&t, 0, sizeof t);
    if (budget_ms > 0) {
        t.it_value.tv_sec = (time_t)(budget_ms / 1000);
        t.it_value.tv_usec = (suseconds_t)(budget_ms % 1000) * 1000;
        t.it_interval.tv_sec = (time_t)(grace_ms / 1000);
        t.it_interval.tv_usec = (suseconds_t)(grace_ms % 1000) * 1000;
    }
    setitimer(which, &t, NULL);
}

void runtime_stop_current(int sig)
{
    runtime *rt = runtime_timed;
    if (!rt || !rt->in_call || rt->kill != KILL_NONE) return;
    rt->stop_signal = sig;
    rt->kill = KILL_STOP;
    runtime_arm_kill(rt->running);
}

int64_t runtime_budget_left_ms(lua_State *L)
{
    runtime *rt = runtime_of(L);
    if (!rt || !rt->in_call) return INT64_MAX;
    if (rt->kill != KILL_NONE) runtime_raise_kill(L, rt);
    int64_t left = rt->wall_deadline_ms - clock_monotonic_ms();
    return left > 1 ? left : 1;
}

size_t runtime_memory_left(lua_State *L)
{
    runtime *rt = runtime_of(L);
    if (!rt || !rt->in_call) return SIZE_MAX;
    return rt->mem_used < rt->mem_limit ? rt->mem_limit - rt->mem_used : 0;
}

/* ---- the running thread (host/coroutine.c reports it) ------------------------------ */

static const char runtime_killed_key[] = "titan.runtime.killed";

lua_State *runtime_thread_enter(lua_State *L, lua_State *co)
{
    runtime *rt = runtime_of(L);
    lua_State *outer = rt->running;
    rt->running = co;
    if (rt->kill != KILL_NONE) runtime_arm_kill(co);   /* the kill came before `running` moved */
    return outer;
}

void runtime_thread_leave(lua_State *L, lua_State *outer, lua_State *co)
{
    runtime *rt = runtime_of(L);
    rt->running = outer;
    if (!rt->in_call || rt->kill == KILL_NONE) return;
    int status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD) {     /* the kill ended it: remember (weak keys) */
        lua_getfield(L, LUA_REGISTRYINDEX, runtime_killed_key);
        lua_pushthread(co);
        lua_xmove(co, L, 1);
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    }
    runtime_raise_kill(L, rt);
}

int runtime_thread_killed(lua_State *L, lua_State *co)
{
    lua_getfield(L, LUA_REGISTRYINDEX, runtime_killed_key);
    lua_pushthread(co);
    lua_xmove(co, L, 1);
    int killed = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return killed;
}

/* ---- the one call helper ---------------------------------------------------------- */

/* Message handler: adds a traceback; copes with non-string error objects (lua.c's msghandler). */
static int runtime_traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

runtime_status runtime_call(runtime *rt, int nargs, int nresults)
{
    lua_State *L = rt->L;
    int base = lua_gettop(L) - nargs;             /* index of the function */
    lua_pushcfunction(L, runtime_traceback);
    lua_insert(L, base);                          /* [ handler, fn, args... ] */
    int outer = rt->in_call;
    if (!outer) {
        rt->kill = KILL_NONE;
        rt->cpu_fired = rt->wall_fired = 0;
        rt->running = L;
        runtime_timed = rt;
        rt->in_call = 1;
        runtime_timer_arm(ITIMER_PROF, rt->cpu_budget_ms, RUNTIME_CPU_GRACE_MS);
        rt->wall_deadline_ms = clock_monotonic_ms() + rt->wall_budget_ms;
        runtime_timer_arm(ITIMER_REAL, rt->wall_budget_ms, RUNTIME_WALL_GRACE_MS);
    }
    int status = lua_pcall(L, nargs, nresults, base);
    int kill = rt->kill;
    if (!outer && status == LUA_OK && kill != KILL_NONE) {
        /* The kill was caught by a pcall with nothing after it to re-raise it (`return
         * pcall(spin)` in tail position): the call still ran out of its budget. */
        lua_settop(L, base);
        runtime_push_kill_message(L, rt, kill);
        status = LUA_ERRRUN;
    }
    if (!outer) {
        runtime_timer_arm(ITIMER_PROF, 0, 0);
        runtime_timer_arm(ITIMER_REAL, 0, 0);
        rt->in_call = 0;
        runtime_timed = NULL;
        lua_sethook(L, NULL, 0, 0);
        rt->kill = KILL_NONE;
    }
    lua_remove(L, base);                          /* drop the handler */
    if (status == LUA_OK) return RUNTIME_OK;
    if (kill == KILL_CPU) return RUNTIME_ERR_CPU;
    if (kill == KILL_WALL) return RUNTIME_ERR_TIME;
    if (kill == KILL_STOP) return RUNTIME_ERR_STOPPED;
    if (kill == KILL_MEMORY || status == LUA_ERRMEM) {
        if (status == LUA_ERRMEM) {
            /* The allocator refused before the hook could name the limit. */
            lua_pop(L, 1);
            lua_pushfstring(L, "memory budget exceeded: the script used more than %d MiB (TITAN_LUA_MEM_MB)",
                            (int)(rt->mem_limit / (1024 * 1024)));
        }
        lua_gc(L, LUA_GCCOLLECT);
        return RUNTIME_ERR_MEMORY;
    }
    return RUNTIME_ERR_LUA;
}

/* ---- sandboxed globals ------------------------------------------------------------ */

/* print: like Lua's, but through the redacting console. */
static int runtime_print(lua_State *L)
{
    int n = lua_gettop(L);
    strbuf b = {0};
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1) strbuf_append(&b, "\t", 1);
        strbuf_append(&b, s, len);
        lua_pop(L, 1);
    }
    strbuf_append(&b, "\n", 1);
    if (!b.oom) console_write(stdout, b.data, b.len);
    strbuf_free(&b);
    return 0;
}

/* Names that credentials go by in CI and cloud environments (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY,
 * DB_PASSWORD, MYSQL_PWD, CI_JOB_JWT, GH_PAT, ...): such variables are not the bot's, and
 * redaction knows only the six of the deployment contract, so Lua is not shown them at all. */
static int runtime_credential_name(const char *name)
{
    static const char *const parts[] = {"TOKEN",   "SECRET",  "PASS",    "_PWD",         "KEY", "CREDENTIAL", "AUTH",
                                        "PRIVATE", "COOKIE",  "SESSION", "DATABASE_URL", "DSN", "JWT",        "WEBHOOK"};
    char upper[256];
    size_t n = strlen(name);
    if (n >= sizeof upper) return 1;                 /* no real variable name is that long */
    for (size_t i = 0; i <= n; i++) upper[i] = (char)toupper((unsigned char)name[i]);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strstr(upper, parts[i])) return 1;
    return n >= 4 && strcmp(upper + n - 4, "_PAT") == 0;   /* a personal access token; not _PATH */
}

/* A value carrying a password in a URL (redis://user:pass@host, postgres://u:p@h/db). */
static int runtime_credential_value(const char *v)
{
    const char *scheme_end = strstr(v, "://");
    if (!scheme_end) return 0;
    const char *authority = scheme_end + 3;
    size_t len = strcspn(authority, "/?#");
    const char *at = memchr(authority, '@', len);
    return at && memchr(authority, ':', (size_t)(at - authority)) != NULL;
}

/* os.getenv: the secret variables, anything named like a credential, and URLs with a password
 * do not exist as far as Lua can tell. */
static int runtime_getenv(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *v = secrets_is_secret_name(name) || runtime_credential_name(name) ? NULL : getenv(name);
    if (v && runtime_credential_value(v)) v = NULL;
    v = tape_getenv(name, v);                          /* a cycle records it; a replay reads it back */
    if (v) lua_pushstring(L, v);
    else luaL_pushfail(L);
    return 1;
}

/* load: text chunks only, whatever mode the caller asks for. Lua shortens long chunk names
 * (`[string "local k = 'abc..."]`) in messages, which could print a fragment of a secret that
 * redaction cannot recognise: a default or long name becomes "=(load)". */
static int runtime_load(lua_State *L)
{
    int has_env = !lua_isnone(L, 4);
    lua_settop(L, 4);
    size_t name_len = 0;
    const char *name = lua_tolstring(L, 2, &name_len);
    int keep_name = name ? name_len <= 40 && !strchr(name, '\n') : !lua_isnil(L, 2); /* bad types: load says so */
    lua_pushvalue(L, lua_upvalueindex(1));  /* the original load */
    lua_pushvalue(L, 1);
    if (keep_name) lua_pushvalue(L, 2);
    else lua_pushliteral(L, "=(load)");
    lua_pushliteral(L, "t");
    if (has_env) lua_pushvalue(L, 4);
    lua_call(L, has_env ? 4 : 3, 2);
    return 2;
}

/* setmetatable: no __gc. Finalizers run with hooks off, so one could loop forever outside
 * the CPU budget; a metatable that has any __gc value when set is refused. */
static int runtime_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_argerror(L, 2, "__gc metamethods are not allowed in the titan-host sandbox");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));  /* the original setmetatable */
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* xpcall: a budget kill is raised from the count hook, and Lua keeps hooks off until that
 * error unwinds, so a script's message handler would run unbudgeted (an endless handler hung
 * the process). After a kill the handler is skipped and the error passes through. */
static int runtime_xpcall_handler(lua_State *L)
{
    if (runtime_of(L)->kill != KILL_NONE) return 1;    /* [ err ] */
    lua_pushvalue(L, lua_upvalueindex(1));             /* [ err, handler ] */
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* The rest is lbaselib.c's xpcall, yieldable like the original. */
static int runtime_finish_xpcall(lua_State *L, int status, lua_KContext extra)
{
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - (int)extra;
}

static int runtime_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, runtime_xpcall_handler, 1);
    lua_replace(L, 2);                                 /* [ f, wrapped handler, args... ] */
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);                               /* [ f, handler, true, f, args... ] */
    int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, runtime_finish_xpcall);
    return runtime_finish_xpcall(L, status, 2);
}

static int runtime_denied(lua_State *L)
{
    return luaL_error(L, "%s is not available in the titan-host sandbox", lua_tostring(L, lua_upvalueindex(1)));
}

static void runtime_deny(lua_State *L, int table, const char *field, const char *shown)
{
    lua_pushstring(L, shown);
    lua_pushcclosure(L, runtime_denied, 1);
    lua_setfield(L, table, field);
}

static int runtime_global_newindex(lua_State *L)
{
    return luaL_error(L, "assignment to undeclared global '%s' (declare it local)", luaL_tolstring(L, 2, NULL));
}

/* ---- require ---------------------------------------------------------------------- */

static int runtime_file_exists(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    fclose(f);
    return 1;
}

/* Finds a module's file: the script's folder, then <home>/strategies and <home>/strategies/lib. */
static int runtime_find_module(runtime *rt, const char *name, strbuf *found, strbuf *tried)
{
    strbuf rel = {0};
    for (const char *p = name; *p; p++) strbuf_append(&rel, *p == '.' ? "/" : p, 1);
    const char *dirs[3] = {rt->script_dir, NULL, NULL};
    strbuf s1 = {0}, s2 = {0};
    if (rt->home) {
        strbuf_printf(&s1, "%s/strategies", rt->home);
        strbuf_printf(&s2, "%s/strategies/lib", rt->home);
        dirs[1] = strbuf_cstr(&s1);
        dirs[2] = strbuf_cstr(&s2);
    }
    static const char *const patterns[] = {"%s/%s.lua", "%s/%s/init.lua"};
    int ok = 0;
    for (int d = 0; d < 3 && !ok; d++) {
        if (!dirs[d]) continue;
        for (int p = 0; p < 2 && !ok; p++) {
            found->len = 0;
            strbuf_printf(found, patterns[p], dirs[d], strbuf_cstr(&rel));
            if (runtime_file_exists(strbuf_cstr(found))) ok = 1;
            else strbuf_printf(tried, "\n\tno file '%s'", strbuf_cstr(found));
        }
    }
    strbuf_free(&rel);
    strbuf_free(&s1);
    strbuf_free(&s2);
    return ok;
}

/* A missing lib.* module: where titan-host looked for its library and how to point it there. */
static void runtime_explain_home(const runtime *rt, strbuf *out)
{
    const char *env = NULL;
    char ignored[256];
    settings_text("TITAN_HOME", &env, ignored, sizeof ignored);
    if (rt->home)
        strbuf_printf(out, "\n\ttitan-host's Lua library is looked for in %s/strategies/lib (%s); reinstall it with "
                           "`make install`, or set TITAN_HOME to the folder that holds strategies/lib",
                      rt->home, env ? "from TITAN_HOME" : "found from the binary's location");
    else
        strbuf_puts(out, "\n\ttitan-host found no Lua library: TITAN_HOME is not set, and neither "
                         "../share/titan-host/strategies/lib nor strategies/lib is next to the binary; install it with "
                         "`make install` (into PREFIX/share/titan-host), or set TITAN_HOME to the folder that holds "
                         "strategies/lib (such as your clone of titan-host)");
}

static int runtime_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    runtime *rt = runtime_of(L);
    lua_settop(L, 1);                                          /* extra arguments would shift the slots below */
    lua_getfield(L, LUA_REGISTRYINDEX, runtime_loaded_key);    /* [ name, loaded ] */
    if (lua_getfield(L, 2, name) != LUA_TNIL) return 1;        /* [ name, loaded, mod ] */
    lua_pop(L, 1);
    for (const modules_entry *m = modules_list; m->name; m++) {
        if (strcmp(m->name, name) == 0) {
            luaL_requiref(L, name, m->open, 0);
            lua_pushvalue(L, -1);
            lua_setfield(L, 2, name);
            return 1;
        }
    }
    luaL_argcheck(L, strstr(name, "..") == NULL && strchr(name, '/') == NULL && name[0] != '.', 1,
                  "module names are dotted paths like 'lib.ta'");
    strbuf path = {0}, tried = {0};
    if (!runtime_find_module(rt, name, &path, &tried)) {
        if (strncmp(name, "lib.", 4) == 0) runtime_explain_home(rt, &tried);
        lua_pushfstring(L, "module '%s' not found:%s", name, strbuf_cstr(&tried));
        strbuf_free(&path);
        strbuf_free(&tried);
        return lua_error(L);
    }
    strbuf_free(&tried);
    lua_pushstring(L, strbuf_cstr(&path));                     /* [ name, loaded, path ] */
    strbuf_free(&path);
    const char *p = lua_tostring(L, -1);
    if (luaL_loadfilex(L, p, "t") != LUA_OK)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, p, lua_tostring(L, -1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 3);
    lua_call(L, 2, 1);                                         /* [ name, loaded, path, mod ] */
    if (lua_isnil(L, -1)) { lua_pop(L, 1); lua_pushboolean(L, 1); }
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name);
    return 1;
}

/* ---- set-up ----------------------------------------------------------------------- */

static int runtime_has_lib(const char *home)
{
    strbuf probe = {0};
    strbuf_printf(&probe, "%s/strategies/lib", home);
    FILE *f = fopen(strbuf_cstr(&probe), "r");
    strbuf_free(&probe);
    if (f) fclose(f);
    return f != NULL;
}

/* The folder that holds strategies/lib: TITAN_HOME; else, for an installed binary
 * (PREFIX/bin/titan-host), PREFIX/share/titan-host; else the executable's folder or one of its
 * parents (a build tree: the binary may live in build/<variant>/). */
static char *runtime_find_home(void)
{
    const char *env = NULL;
    char ignored[256];
    settings_text("TITAN_HOME", &env, ignored, sizeof ignored);   /* an empty one is refused at start-up */
    if (env) return strdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = '\0';                                            /* the binary's folder */
    strbuf installed = {0};
    strbuf_printf(&installed, "%s/../share/titan-host", exe);
    if (runtime_has_lib(strbuf_cstr(&installed))) return strbuf_take(&installed);
    strbuf_free(&installed);
    for (int up = 0; up < 4; up++) {
        if (runtime_has_lib(exe)) return strdup(exe);
        if (!(slash = strrchr(exe, '/'))) break;
        *slash = '\0';
    }
    return NULL;
}

static void runtime_open_sandbox(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},         {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math},   {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, coroutine_open},
        {LUA_OSLIBNAME, luaopen_os},       {NULL, NULL},
    };
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lua_pushglobaltable(L);                                    /* [ G ] */
    lua_getfield(L, -1, "load");
    lua_pushcclosure(L, runtime_load, 1);
    lua_setfield(L, -2, "load");
    lua_getfield(L, -1, "setmetatable");
    lua_pushcclosure(L, runtime_setmetatable, 1);
    lua_setfield(L, -2, "setmetatable");
    lua_pushcfunction(L, runtime_xpcall);
    lua_setfield(L, -2, "xpcall");
    lua_pushcfunction(L, runtime_print);
    lua_setfield(L, -2, "print");
    lua_pushcfunction(L, runtime_require);
    lua_setfield(L, -2, "require");
    lua_getfield(L, -1, "string");                             /* [ G, string ] */
    lua_pushnil(L); lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_getfield(L, -1, "os");                                 /* [ G, os ] */
    int os = lua_gettop(L);
    runtime_deny(L, os, "execute", "os.execute");
    runtime_deny(L, os, "exit", "os.exit");
    runtime_deny(L, os, "remove", "os.remove");
    runtime_deny(L, os, "rename", "os.rename");
    runtime_deny(L, os, "tmpname", "os.tmpname");
    runtime_deny(L, os, "setlocale", "os.setlocale");
    lua_pushcfunction(L, runtime_getenv);
    lua_setfield(L, os, "getenv");
    lua_pop(L, 1);                                             /* [ G ] */
    /* io, debug, package and io.popen are simply never opened; the names explain themselves. */
    runtime_deny(L, lua_gettop(L), "dofile", "dofile");
    runtime_deny(L, lua_gettop(L), "loadfile", "loadfile");
    lua_pop(L, 1);
}

/* The global `titan` table: every built-in module that names a field. */
static void runtime_open_titan(lua_State *L)
{
    lua_newtable(L);                                           /* [ titan ] */
    for (const modules_entry *m = modules_list; m->name; m++) {
        if (!m->field) continue;
        lua_getglobal(L, "require");
        lua_pushstring(L, m->name);
        lua_call(L, 1, 1);                                     /* [ titan, mod ] */
        lua_setfield(L, -2, m->field);
    }
    lua_setglobal(L, "titan");
}

static int runtime_setup(lua_State *L)
{
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, runtime_loaded_key);
    lua_newtable(L);                                           /* coroutines a budget stopped */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, runtime_killed_key);
    runtime_open_sandbox(L);
    runtime_open_titan(L);
    /* Strict globals: assigning an undeclared global raises (catches typos in strategies). */
    lua_pushglobaltable(L);
    lua_newtable(L);
    lua_pushcfunction(L, runtime_global_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    return 0;
}

static int runtime_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    console_printf(stderr, "titan-host: unprotected Lua error: %s\n", msg ? msg : "?");
    abort();
}

runtime *runtime_open(const char *script_path, char *err, size_t errlen)
{
    long long cpu_s, wall_s, mem_mb;
    if (settings_integer("TITAN_LUA_CPU_S", &cpu_s, err, errlen) ||
        settings_integer("TITAN_LUA_WALL_S", &wall_s, err, errlen) ||
        settings_integer("TITAN_LUA_MEM_MB", &mem_mb, err, errlen))
        return NULL;
    runtime *rt = calloc(1, sizeof *rt);
    if (!rt) { snprintf(err, errlen, "out of memory"); return NULL; }
    rt->cpu_budget_ms = (int64_t)cpu_s * 1000;
    rt->wall_budget_ms = (int64_t)wall_s * 1000;
    rt->mem_limit = (size_t)mem_mb * 1024 * 1024;
    rt->home = runtime_find_home();
    const char *slash = script_path ? strrchr(script_path, '/') : NULL;
    rt->script_dir = slash ? strndup(script_path, (size_t)(slash - script_path == 0 ? 1 : slash - script_path))
                           : strdup(".");
    rt->L = lua_newstate(runtime_alloc, rt);
    if (!rt->L || !rt->script_dir) {
        snprintf(err, errlen, "cannot create the Lua state: out of memory");
        runtime_close(rt);
        return NULL;
    }
    lua_atpanic(rt->L, runtime_panic);
    struct sigaction timer;
    memset(&timer, 0, sizeof timer);
    timer.sa_handler = runtime_timer_fired;
    sigemptyset(&timer.sa_mask);
    timer.sa_flags = SA_RESTART;         /* the timers must not fail a read or write with EINTR */
    sigaction(SIGPROF, &timer, NULL);
    sigaction(SIGALRM, &timer, NULL);
    lua_pushcfunction(rt->L, runtime_setup);
    if (runtime_call(rt, 0, 0) != RUNTIME_OK) {
        snprintf(err, errlen, "cannot set up the Lua sandbox: %s", lua_tostring(rt->L, -1));
        runtime_close(rt);
        return NULL;
    }
    return rt;
}

void runtime_close(runtime *rt)
{
    if (!rt) return;
    if (rt->L) lua_close(rt->L);
    runtime_small_release(rt);
    free(rt->script_dir);
    free(rt->home);
    free(rt);
}

lua_State *runtime_lua(runtime *rt) { return rt->L; }

const char *runtime_home(const runtime *rt) { return rt->home; }

runtime_status runtime_load_file(runtime *rt, const char *path)
{
    if (luaL_loadfilex(rt->L, path, "t") != LUA_OK) return RUNTIME_ERR_LUA;
    return RUNTIME_OK;
}

runtime_status runtime_load_text(runtime *rt, const char *text, size_t len, const char *chunkname)
{
    if (luaL_loadbufferx(rt->L, text, len, chunkname, "t") != LUA_OK) return RUNTIME_ERR_LUA;
    return RUNTIME_OK;
}

static int runtime_seed_protected(lua_State *L)
{
    lua_getglobal(L, "math");
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, (lua_Integer)lua_tointeger(L, 1));
    lua_call(L, 1, 0);
    return 0;
}

int runtime_seed_random(runtime *rt, int64_t seed)
{
    lua_State *L = rt->L;
    lua_pushcfunction(L, runtime_seed_protected);
    lua_pushinteger(L, (lua_Integer)seed);
    int rc = lua_pcall(L, 1, 0, 0) == LUA_OK ? 0 : -1;
    if (rc) lua_pop(L, 1);
    return rc;
}

void runtime_set_global(runtime *rt, const char *name)
{
    lua_State *L = rt->L;
    lua_pushglobaltable(L);                            /* [ value, G ] */
    lua_pushstring(L, name);
    lua_pushvalue(L, -3);                              /* [ value, G, name, value ] */
    lua_rawset(L, -3);
    lua_pop(L, 2);
}
