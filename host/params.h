/* `--set NAME=VALUE`: a strategy's tunable parameters (its `params` table) overridden for one run
 * (`replay --set`), each value typed like the one it replaces, so a typo in a name or a value is
 * an error, never a silent new field. */
#ifndef TITAN_PARAMS_H
#define TITAN_PARAMS_H
#include <stddef.h>

#include <lua.h>

/* Applies one "NAME=VALUE" to params of the strategy table at strategy_idx: a number replaces a
 * number (a whole number stays an integer), true/false a boolean, any text a string. 0, or -1
 * with the reason in err (nothing changed). Raw reads and writes: no metamethod runs. */
int params_apply(lua_State *L, int strategy_idx, const char *assignment, char *err, size_t errlen);
#endif
