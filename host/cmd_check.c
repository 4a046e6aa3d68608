/* `titan-host check STRATEGY.lua`: load and validate a strategy, print a short report. */
#include <string.h>

#include <lauxlib.h>

#include "commands.h"
#include "console.h"
#include "runtime.h"
#include "strategy.h"

static void check_print_report(lua_State *L, const char *path)
{
    int t = lua_gettop(L);
    lua_getfield(L, t, "name");
    lua_getfield(L, t, "pair");
    lua_getfield(L, t, "interval");
    console_printf(stdout, "%s: valid strategy\n  name      %s\n  pair      %s\n  interval  %s min\n", path,
                   lua_tostring(L, -3), lua_tostring(L, -2), lua_tostring(L, -1));
    lua_pop(L, 3);
    if (lua_getfield(L, t, "risk") == LUA_TTABLE) {
        console_printf(stdout, "  risk     ");
        for (int i = 0; strategy_risk_fields[i]; i++) {
            if (lua_getfield(L, -1, strategy_risk_fields[i]) != LUA_TNIL)
                console_printf(stdout, " %s=%s", strategy_risk_fields[i], luaL_tolstring(L, -1, NULL)), lua_pop(L, 1);
            lua_pop(L, 1);
        }
        console_printf(stdout, "\n");
    } else {
        console_printf(stdout, "  risk      (host caps only)\n");
    }
    lua_pop(L, 1);
}

int cmd_check(int argc, char **argv)
{
    if (argc != 2) return commands_usage_error("usage: titan-host check STRATEGY.lua");
    const char *path = argv[1];
    runtime *rt = commands_open_runtime(path);
    if (!rt) return EXIT_USAGE;
    strbuf problems = {0};
    strategy_result r = strategy_load(rt, path, &problems);
    int code = EXIT_OK;
    if (r == STRATEGY_VALID) {
        check_print_report(runtime_lua(rt), path);
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
