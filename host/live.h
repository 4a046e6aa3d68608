/* LIVE execution on Kraken: validate, then place, with a deterministic client order id;
 * after an ambiguous failure, look the order up instead of sending it again. */
#ifndef TITAN_LIVE_H
#define TITAN_LIVE_H
#include "intent.h"
#include "kraken_parse.h"
#include "orders.h"
#include "risk.h"

#define LIVE_CL_ORD_ID_SIZE 37      /* UUID text + NUL */

typedef enum {
    LIVE_PLACED,      /* Kraken has it (txid known) */
    LIVE_REJECTED,    /* Kraken refused it definitively (validate or place): nothing is open */
    LIVE_NOT_SENT,    /* the real AddOrder never left the host (connection refused, connect timeout,
                         TLS): nothing is open, and Kraken is out of reach */
    LIVE_IN_DOUBT,    /* it may or may not exist: stop trading, exit 3, reconcile next run */
} live_outcome;

/* The client order id of intent `index` of `cycle_id`: a UUID made from SHA-256 of both, so a
 * rerun of the same cycle sends the same id (Kraken refuses a duplicate among open orders). */
void live_cl_ord_id(const char *cycle_id, int index, char out[LIVE_CL_ORD_ID_SIZE]);

/* Places one accepted intent on `pair_key`, sent once: rec (whose cl_ord_id is used) gets the
 * state (placed, Kraken's status after a lookup, rejected, not_sent, in_doubt), txid, stage,
 * error_code and message. Logs order.placed with its fields. Never raises. */
live_outcome live_place(const char *pair_key, const intent *it, const pair_rules *rules, order_record *rec);

/* Reads a placed order's status, executed volume, average price, cost and fee (QueryOrders by
 * txid) and its trades (QueryTrades: rec's trade_*) into rec. An answer that cannot be read leaves
 * rec as it was (placed). */
void live_query_placed(order_record *rec);

typedef enum { LIVE_FOUND, LIVE_ABSENT, LIVE_LOOKUP_FAILED } live_lookup_result;
/* Looks an order up by client order id in open, then closed orders. FOUND copies Kraken's state
 * and fields into rec; LOOKUP_FAILED leaves the reason in why (the fate is still unknown). */
live_lookup_result live_lookup(order_record *rec, kraken_outcome *why);
#endif
