/* Risk gates: host caps (from the environment), tightened but never loosened by the
 * strategy's `risk` table, and Kraken's pair rules. Lua proposes; this disposes. */
#ifndef TITAN_RISK_H
#define TITAN_RISK_H
#include <stddef.h>

#include <lua.h>

#include "intent.h"

typedef struct risk_caps {
    double max_order_quote;         /* TITAN_MAX_ORDER_QUOTE, default 100 */
    double max_position_quote;      /* TITAN_MAX_POSITION_QUOTE, default 500 */
    double max_orders_per_cycle;    /* TITAN_MAX_ORDERS_PER_CYCLE, default 2 */
    double max_daily_loss_quote;    /* TITAN_MAX_DAILY_LOSS_QUOTE, default 50 */
} risk_caps;

typedef struct pair_rules {
    double ordermin;                /* minimum volume, base */
    double costmin;                 /* minimum cost, quote (0 = none) */
    int lot_decimals;
    int pair_decimals;
    double tick_size;               /* 0 = use pair_decimals */
} pair_rules;

typedef struct risk_book {
    double cash;                    /* quote available */
    double position;                /* base held */
    double realized_today;          /* realized PnL since 00:00 UTC (negative = loss) */
    double fee_rate;                /* expected taker fee, to reserve cash for buys */
} risk_book;

/* Host caps from the environment; on a malformed value returns -1 and explains in err. */
int risk_caps_from_env(risk_caps *caps, char *err, size_t errlen);
/* Tightens caps with the strategy table's `risk` field (table at idx); never loosens. */
void risk_caps_tighten(lua_State *L, int strategy_idx, risk_caps *caps);

/* Applies every gate to the intents in order, given reference prices (bid/ask/last) and
 * the book; later intents see the effect of earlier accepted ones. Sets status, verdict,
 * final_volume, final_price and est_cost on each intent. */
void risk_apply(intent *intents, int count, const risk_caps *caps, const pair_rules *rules, double bid, double ask,
                double last, risk_book book);

/* Why a rejected intent was rejected, as a stable code to count by (backtest, optimize). The
 * names are sorted: they are JSON keys. */
typedef enum {
    RISK_REJECT_COSTMIN, RISK_REJECT_DAILY_LOSS, RISK_REJECT_INSUFFICIENT_BASE, RISK_REJECT_INSUFFICIENT_QUOTE,
    RISK_REJECT_INVALID, RISK_REJECT_MAX_ORDERS, RISK_REJECT_MAX_POSITION, RISK_REJECT_NO_PRICE, RISK_REJECT_ORDERMIN,
    RISK_REJECT_COUNT
} risk_reject;
extern const char *const risk_reject_names[RISK_REJECT_COUNT];
/* The code of a rejected intent (a refusal by intent validation is RISK_REJECT_INVALID). */
risk_reject risk_reject_reason(const intent *it);

/* Rounds a volume down to the pair's lot; a price to the tick (down for buys, up for sells). */
double risk_round_volume(double volume, int lot_decimals);
double risk_round_price(double price, const pair_rules *rules, order_side side);
#endif
