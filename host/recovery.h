/* Recovery: orders whose fate an earlier run left unknown are looked up by client order id before
 * anything trades (LIVE rows on Kraken, PAPER rows in the paper ledger), whether that run recorded
 * them in doubt, died holding its slot (a running row whose lease expired), died holding the slot
 * this run has just taken over, or was an older titan-host that recorded them under `failed`. */
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
#define RECOVERY_MAX_ROWS 50

typedef struct recovery {
    store *st;
    const char *strategy;
    const char *holder;              /* this run's lock holder name */
    const char *current_cycle_id;    /* this run's own row is not an earlier one */
    const char *mode;                /* "PAPER" | "LIVE" */
    int lease_s;
    int can_look_up;                 /* LIVE with keys: lookups on Kraken by cl_ord_id are possible
                                        (PAPER rows are looked up in the ledger whatever the mode) */
    strbuf *error;                   /* problems are appended here ("; "-separated) */
} recovery;

/* Looks up every order of `orders` (those of `row`, whose mode says where) whose fate is unknown
 * (order_fate_unknown) and records what Kraken or the ledger says. An order not found is recorded
 * not_placed only when absent_is_final. Returns the number still unknown; *changed (may be NULL)
 * counts the orders updated. */
int recovery_reconcile(const recovery *r, const store_cycle *row, order_list *orders, int absent_is_final,
                       int *changed);

/* 1 when a lookup that finds nothing proves the order was never placed, for a runner whose lease
 * ended at lease_until_ms (RECOVERY_SEND_SETTLE_MS). */
int recovery_absent_is_final(int64_t lease_until_ms);

/* Every earlier cycle of the strategy with orders of unknown fate: rows in_doubt (done once
 * resolved), rows recorded failed with such orders by an older titan-host (they stay failed, with
 * the orders' fate), and rows left running whose lease expired (taken over with a compare-and-set,
 * then finished: done when their orders are all known, failed when they planned none, in_doubt
 * otherwise). A running row whose lease is still live is never touched, but its orders in flight
 * count as unresolved. The most recent RECOVERY_MAX_ROWS rows of each status are looked at.
 * Returns the number of cycles still unresolved (> 0: nothing may trade), or -1 when the store
 * failed. */
int recovery_earlier_cycles(const recovery *r);
#endif
