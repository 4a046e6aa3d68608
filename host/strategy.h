/* Loading a strategy file and validating its table (design section 5). */
#ifndef TITAN_STRATEGY_H
#define TITAN_STRATEGY_H
#include "runtime.h"
#include "strbuf.h"

typedef enum {
    STRATEGY_VALID = 0,
    STRATEGY_INVALID,     /* loaded, but the table breaks the contract: problems listed */
    STRATEGY_LOAD_FAILED, /* syntax error, runtime error or budget while loading */
} strategy_result;

/* Loads and runs the file under budgets, then validates the returned table. Each problem
 * is appended to `problems` as one line ("interval 7 is not ..."). On STRATEGY_VALID the
 * strategy table is left on the Lua stack; otherwise nothing is. */
strategy_result strategy_load(runtime *rt, const char *path, strbuf *problems);
/* The same for the text of a strategy (a capsule's copy); messages name it `path`. */
strategy_result strategy_load_text(runtime *rt, const char *path, const char *text, size_t len, strbuf *problems);
/* The name, pair and interval of a loaded (valid) strategy table, read raw. */
void strategy_identity(lua_State *L, int strategy_idx, char *name, size_t name_size, char *pair, size_t pair_size,
                       int *interval);
/* Risk fields a strategy may set (to tighten the host's caps), NULL-terminated. */
extern const char *const strategy_risk_fields[];
#endif
