/* `titan-host check STRATEGY.lua`: load and validate a strategy, print a short report. */
#include <string.h>

#include <lauxlib.h>

#include "cmd.h"
#include "console.h"
#include "kraken_lua.h"
#include "preflight.h"
#include "runtime.h"
#include "strategy.h"

/* Raw reads, as in the validation: a metamethod must not run outside a budgeted call. */
static int check_rawfield(lua_State *L, int t, const char *field)
{
    lua_pushstring(L, field);
    return lua_rawget(L, t);
}

static void check_print_report(lua_State *L, const char *path)
{
    int t = lua_gettop(L);
    check_rawfield(L, t, "name");
    check_rawfield(L, t, "pair");
    check_rawfield(L, t, "interval");
    console_printf(stdout, "%s: valid strategy\n  name      %s\n  pair      %s\n  interval  %s min\n", path,
                   lua_tostring(L, -3), lua_tostring(L, -2), lua_tostring(L, -1));
    lua_pop(L, 3);
    if (check_rawfield(L, t, "risk") == LUA_TTABLE) {
        console_printf(stdout, "  risk     ");
        for (int i = 0; strategy_risk_fields[i]; i++) {
            if (check_rawfield(L, lua_gettop(L), strategy_risk_fields[i]) != LUA_TNIL)
                console_printf(stdout, " %s=%s", strategy_risk_fields[i], luaL_tolstring(L, -1, NULL)), lua_pop(L, 1);
            lua_pop(L, 1);
        }
        console_printf(stdout, "\n");
    } else {
        console_printf(stdout, "  risk      (host caps only)\n");
    }
    lua_pop(L, 1);
}

static int cmd_check(int argc, char **argv)
{
    const char *path = NULL;
    int online = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--online") == 0) online = 1;
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else return cmd_usage_error("usage: titan-host check STRATEGY.lua [--online]");
    }
    if (!path) return cmd_usage_error("usage: titan-host check STRATEGY.lua [--online]");
    kraken_set_lua_writes_allowed(0);   /* checking a strategy never trades, whatever its top level tries */
    runtime *rt = cmd_open_runtime(path);
    if (!rt) return EXIT_USAGE;
    strbuf problems = {0};
    strategy_result r = strategy_load(rt, path, &problems);
    int code = EXIT_OK;
    if (r == STRATEGY_VALID) {
        check_print_report(runtime_lua(rt), path);
        if (online) {
            lua_getfield(runtime_lua(rt), -1, "pair");
            char pair[64];
            snprintf(pair, sizeof pair, "%s", lua_tostring(runtime_lua(rt), -1));
            lua_pop(runtime_lua(rt), 1);
            code = preflight_run(rt, pair);
        }
    } else {
        console_printf(stderr, "%s: %s\n", path, r == STRATEGY_INVALID ? "invalid strategy" : "cannot load strategy");
        /* one problem per line, each indented */
        const char *line = strbuf_cstr(&problems);
        while (*line) {
            const char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);
            console_printf(stderr, "  - %.*s\n", (int)n, line);
            line += n + (nl ? 1 : 0);
        }
        code = EXIT_USAGE;
    }
    strbuf_free(&problems);
    runtime_close(rt);
    return code;
}

const command cmd_check_command = {
    "check", cmd_check,
    "check STRATEGY.lua [--online]   validate a strategy; --online: the pre-LIVE preflight",
     "usage: titan-host check STRATEGY.lua [--online]\n\n"
     "Loads the strategy in the sandbox and checks its table: name, pair, interval (one of Kraken's\n"
     "1, 5, 15, 30, 60, 240, 1440, 10080, 21600 minutes), on_cycle a function, risk a plain table (no\n"
     "metatable) of positive numbers. Prints a short report.\n\n"
     "--online adds the preflight to run before switching to LIVE, one line per check: Kraken reachable\n"
     "and the clock skew against Kraken's Time under 5 s, the strategy's pair known, the keys accepted for\n"
     "each private read the bot needs (Balance, OpenOrders, ClosedOrders), the store reachable with its\n"
     "schema, the halt flag, and each configured AI key accepted (a model-list request). Read calls only.\n\n"
     "exit codes: 0 valid (and, with --online, every requirement of SYSTEM_MODE met); 1 a preflight\n"
     "check failed; 2 invalid (every problem is listed) or the file could not be loaded.\n"};
