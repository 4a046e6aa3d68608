/* The table of built-in modules: add one line per binding. */
#include "modules.h"

#include "bindings.h"

const modules_entry modules_list[] = {
    {"titan.crypto", "crypto", luaopen_titan_crypto},
    {"titan.json", "json", luaopen_titan_json},
    {"cjson", NULL, luaopen_titan_json},
    {"titan.log", "log", luaopen_titan_log},
    {"titan.time", "time", luaopen_titan_time},
    {NULL, NULL, NULL},
};
