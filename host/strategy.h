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
/* Risk fields a strategy may set (to tighten the host's caps), NULL-terminated. */
extern const char *const strategy_risk_fields[];
#endif
