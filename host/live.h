/* LIVE execution on Kraken: validate, then place, with a deterministic client order id;
 * after an ambiguous failure, look the order up instead of sending it again. */
#ifndef TITAN_LIVE_H
#define TITAN_LIVE_H
#include <lua.h>

#include "intent.h"
#include "risk.h"

#define LIVE_CL_ORD_ID_SIZE 37      /* UUID text + NUL */

typedef enum {
    LIVE_PLACED,      /* Kraken accepted it (txid known) */
    LIVE_REJECTED,    /* Kraken refused it definitively (validate or place): nothing is open */
    LIVE_IN_DOUBT,    /* it may or may not exist: stop trading, exit 3, reconcile next run */
} live_outcome;

/* The client order id of intent `index` of `cycle_id`: a UUID made from SHA-256 of both, so a
 * rerun of the same cycle sends the same id (Kraken refuses a duplicate among open orders). */
void live_cl_ord_id(const char *cycle_id, int index, char out[LIVE_CL_ORD_ID_SIZE]);

/* Places one accepted intent on `pair`. Pushes one table describing the order (fields: state,
 * cl_ord_id, txid, vol_exec, avg_price, cost, fee, error_code, message) and returns the outcome. */
live_outcome live_place(lua_State *L, const char *pair, const intent *it, const pair_rules *rules,
                        const char *cl_ord_id);

/* Looks an order up by client order id in open then closed orders. Pushes a table as above with
 * state "open" | "closed" | "canceled" | "expired" | "absent" and returns 1, or returns 0 with
 * `nil, err` pushed (the lookup itself failed: fate still unknown). */
int live_lookup(lua_State *L, const char *cl_ord_id);
#endif
