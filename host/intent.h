/* Orders a strategy proposes ("intents"), read from Lua and checked field by field. */
#ifndef TITAN_INTENT_H
#define TITAN_INTENT_H
#include <lua.h>

#define INTENT_MAX 32               /* more than this in one cycle is garbage, not a plan */
#define INTENT_REASON_MAX 240

typedef enum { SIDE_BUY, SIDE_SELL } order_side;
typedef enum { ORDER_MARKET, ORDER_LIMIT } order_type;
typedef enum { INTENT_PENDING, INTENT_ACCEPTED, INTENT_RESIZED, INTENT_REJECTED } intent_status;

typedef struct intent {
    int index;                      /* 1-based position in the returned list */
    order_side side;
    order_type type;
    double volume;                  /* base amount asked, 0 when `quote` was given */
    double quote;                   /* quote amount asked, 0 when `volume` was given */
    double price;                   /* limit price, 0 for market */
    char reason[INTENT_REASON_MAX + 1];
    intent_status status;
    char verdict[256];              /* why rejected / resized (empty when accepted as asked) */
    double final_volume;            /* after risk gates and lot rounding */
    double final_price;             /* limit price after tick rounding, or reference price */
    double est_cost;                /* final_volume * final_price */
} intent;

const char *intent_side_name(order_side s);
const char *intent_type_name(order_type t);
const char *intent_status_name(intent_status s);

/* Reads the list at stack index idx into out[0..*count). Problems with a single intent mark
 * that intent INTENT_REJECTED with a verdict; a value that is not a list at all returns -1
 * with the reason in why (nothing is read). */
int intent_read_list(lua_State *L, int idx, intent *out, int *count, char *why, size_t whylen);
#endif
