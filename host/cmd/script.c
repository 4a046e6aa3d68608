/* `titan-host script FILE.lua [ARGS...]`: a Lua file with the bindings, in the sandbox, no cycle. */
#include <lauxlib.h>

#include "cmd.h"
#include "console.h"
#include "runtime.h"

static int cmd_script(int argc, char **argv)
{
    if (argc < 2) return cmd_usage_error("usage: titan-host script FILE.lua [ARGS...]");
    const char *path = argv[1];
    runtime *rt = cmd_open_runtime(path);
    if (!rt) return EXIT_USAGE;
    lua_State *L = runtime_lua(rt);
    lua_createtable(L, argc - 2, 1);                   /* [ arg ] */
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    runtime_set_global(rt, "arg");
    int code = EXIT_OK;
    if (runtime_load_file(rt, path) != RUNTIME_OK) {
        console_printf(stderr, "titan-host: %s\n", lua_tostring(L, -1));
        code = EXIT_FAILED;
    } else {
        for (int i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
        if (runtime_call(rt, argc - 2, 0) != RUNTIME_OK) {
            console_printf(stderr, "titan-host: %s\n", lua_tostring(L, -1));
            code = EXIT_FAILED;
        }
    }
    runtime_close(rt);
    return code;
}

const command cmd_script_command = {
    "script", cmd_script,
    "script FILE.lua [ARGS...]   run a Lua file with the titan bindings, no cycle",
     "usage: titan-host script FILE.lua [ARGS...]\n\n"
     "Runs FILE.lua in the same sandbox and budgets as strategies, with the titan.* bindings and\n"
     "no trading cycle. The global `arg` holds ARGS (arg[0] is the file).\n\n"
     "exit codes: 0 the script finished; 1 a Lua error or a budget ran out (printed with a\n"
     "traceback); 2 usage error.\n"};
