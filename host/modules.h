/* The Lua modules titan-host provides, one per file in bindings/. */
#ifndef TITAN_MODULES_H
#define TITAN_MODULES_H
#include <lua.h>

typedef struct {
    const char *name;        /* require name, e.g. "titan.crypto" */
    const char *field;       /* field of the global `titan` table, or NULL */
    lua_CFunction open;
} modules_entry;

/* NULL-terminated list. */
extern const modules_entry modules_list[];
#endif
