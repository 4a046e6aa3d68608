/* Recovery: orders whose fate an earlier run left unknown are looked up on Kraken by client order
 * id before anything trades, whether that run recorded them in doubt, died holding its slot (a
 * running row whose lease expired), or died holding the slot this run has just taken over. */
#ifndef TITAN_RECOVERY_H
#define TITAN_RECOVERY_H
#include <stdint.h>

#include "orders.h"
#include "store.h"
#include "strbuf.h"

/* Absent from Kraken counts as "never placed" once the runner's lease expired this long ago:
 * the lease is renewed right before each send and a send gives up after 15 s, so by then any
 * send of that runner has ended. Earlier, not seeing an order proves nothing. */
#define RECOVERY_SEND_SETTLE_MS 60000

typedef struct recovery {
    store *st;
    const char *strategy;
    const char *holder;              /* this run's lock holder name */
    const char *current_cycle_id;    /* this run's own row is not an earlier one */
    const char *mode;                /* "PAPER" | "LIVE" */
    int lease_s;
    int can_look_up;                 /* LIVE with keys: lookups by cl_ord_id are possible */
    strbuf *error;                   /* problems are appended here ("; "-separated) */
} recovery;

/* Looks up every order of `orders` whose fate is unknown (order_fate_unknown) and records what
 * Kraken says. An order Kraken does not show is recorded not_placed only when absent_is_final.
 * Returns the number still unknown; *changed (may be NULL) counts the orders updated. */
int recovery_reconcile(order_list *orders, int absent_is_final, int can_look_up, int *changed);

/* 1 when a lookup that finds nothing proves the order was never placed, for a runner whose lease
 * ended at lease_until_ms (RECOVERY_SEND_SETTLE_MS). */
int recovery_absent_is_final(int64_t lease_until_ms);

/* Every earlier cycle of the strategy with orders of unknown fate: rows in_doubt, and rows left
 * running whose lease expired (taken over with a compare-and-set, then finished: done when their
 * orders are all known, failed when they planned none, in_doubt otherwise). A running row whose
 * lease is still live is never touched, but its orders in flight count as unresolved. Returns
 * the number of cycles still unresolved (> 0: nothing may trade), or -1 when the store failed. */
int recovery_earlier_cycles(const recovery *r);
#endif
