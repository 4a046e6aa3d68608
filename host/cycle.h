/* One trading cycle, README "What one cycle does" step by step: slot and cycle id, lock,
 * recovery of earlier orders, halt check, market, strategy under budgets, intent validation and
 * risk gates, execution, record, exit code. */
#ifndef TITAN_CYCLE_H
#define TITAN_CYCLE_H
#include <lua.h>

typedef struct cycle_options {
    const char *strategy_path;
    const char *cycle_id;       /* --cycle-id, NULL = derived from the slot */
    int dry_run;                /* everything but orders and store writes */
    int retry;                  /* --retry: re-run a slot recorded failed whose record proves no
                                   order was sent; any other recorded slot is refused (exit 2) */
    /* Tests only (NULL in the program): called around each LIVE send, at point "before_send"
     * (the order recorded "sending") and "after_send"; it may raise a Lua error to exercise
     * the way out every other failure takes. */
    void (*fault)(lua_State *L, const char *point, const char *cl_ord_id);
} cycle_options;

/* Runs the cycle and returns the process exit code (0, 1, 2 or 3 as in `help run`). */
int cycle_run(const cycle_options *opt);
#endif
