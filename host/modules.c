/* The table of built-in modules: add one line per binding. */
#include "modules.h"

#include "bindings.h"

const modules_entry modules_list[] = {
    {"titan.crypto", "crypto", luaopen_titan_crypto},
    {"titan.json", "json", luaopen_titan_json},
    {"cjson", NULL, luaopen_titan_json},
    {"titan.http", "http", luaopen_titan_http},
    {"titan.kraken", "kraken", luaopen_titan_kraken},
    {"titan.lock", "lock", luaopen_titan_lock},
    {"titan.log", "log", luaopen_titan_log},
    {"titan.secret", "secret", luaopen_titan_secret},
    {"titan.time", "time", luaopen_titan_time},
    {NULL, NULL, NULL},
};
