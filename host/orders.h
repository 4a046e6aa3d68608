/* A cycle's order records: what was planned, sent and learned of each order, kept in C from
 * before the first send to the record in the store, and read back from a stored record by the
 * run that recovers it. The record's JSON is written here and only here. */
#ifndef TITAN_ORDERS_H
#define TITAN_ORDERS_H
#include <stddef.h>
#include <stdint.h>

/* Order states. A LIVE order is "sending" from just before AddOrder until its fate is known. */
#define ORDER_SENDING "sending"         /* the send may be under way: fate unknown */
#define ORDER_IN_DOUBT "in_doubt"       /* may have reached Kraken; look it up by cl_ord_id */
#define ORDER_PLACED "placed"           /* Kraken gave a txid; its status was not read */
#define ORDER_REJECTED "rejected"       /* Kraken refused it (see stage: validate or place) */
#define ORDER_NOT_SENT "not_sent"       /* never sent */
#define ORDER_NOT_PLACED "not_placed"   /* looked up later and absent: Kraken never took it */
#define ORDER_SIMULATED "simulated"     /* dry run */
#define ORDER_FILLED "filled"           /* paper */
#define ORDER_CANCELED "canceled"       /* paper limit not marketable, or Kraken's status */
#define ORDER_REFUSED "refused"         /* paper: the ledger refused the fill */
#define ORDER_FAILED "failed"           /* paper: the fill could not be recorded */
/* Kraken's own statuses (pending, open, closed, canceled, expired) are kept as Kraken sent them. */

#define ORDER_TEXT_SIZE 512

/* Numbers not known are NaN. Strings not known are "". */
typedef struct order_record {
    int index;                      /* the intent's 1-based index */
    char cl_ord_id[64];
    char state[24];
    char side[8], type[8];          /* buy|sell, market|limit */
    double requested_volume, limit_price;
    char txid[64];
    double volume, vol_exec, avg_price, cost, fee, realized_pnl;
    /* LIVE, paper beside live: the fill the paper broker would have given at decision time
     * (model_volume 0 when it would not have filled), the reference price it started from (the
     * last trade for a market order, the touch for a limit), and Kraken's fill from the order's
     * own trades (QueryTrades): volume-weighted price, volume, fee and how many trades. */
    double model_price, model_volume, model_cost, model_fee, ref_price;
    double trade_price, trade_volume, trade_fee, trade_count;
    long long fill_id;              /* paper fill row, 0 = none */
    char stage[16];                 /* where a LIVE order was refused: validate | place */
    char error_code[48];
    char message[ORDER_TEXT_SIZE];
    char note[200];                 /* paper fill note */
    char reconciled[120];           /* how its fate was learned after the fact */
} order_record;

typedef struct order_list {
    order_record *items;
    size_t n, cap;
} order_list;

/* Appends a record (index, cl_ord_id, state set; every number NaN). NULL when out of memory. */
order_record *order_list_add(order_list *l, int index, const char *cl_ord_id, const char *state);
void order_list_free(order_list *l);
/* Sets a string field (truncated to its size). */
void order_set(char *field, size_t size, const char *value);
#define ORDER_SET(rec, field, value) order_set((rec)->field, sizeof (rec)->field, (value))

/* 1 when the order's fate is unknown: sending, in_doubt, or a state this version does not know
 * (a record from elsewhere is never assumed final). */
int order_fate_unknown(const order_record *o);
/* 1 when the order may have reached Kraken's book or the paper ledger: anything but never-sent,
 * refused at validate (validate never trades) and dry-run records. */
int order_may_have_executed(const order_record *o);

/* 1 when some of the order's volume executed (a paper fill, or Kraken's vol_exec above 0). */
int order_executed(const order_record *o);

/* The list as a JSON array, malloc'd; NULL when out of memory. */
char *order_list_json(const order_list *l);
/* Reads a stored orders document (NULL or "" = no orders). Fields of the wrong type are
 * ignored (a state that is not a string counts as unknown); returns 0, or -1 when the document
 * is not an array of objects (then *out is empty). Never raises. */
int order_list_parse(const char *json, order_list *out);
#endif
