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
    double slippage_rate;           /* allowance: market buys are sized at the worse of ask and last
                                     * plus this, so the caps still hold at the fill */
} risk_book;

/* Host caps from the environment (settings.c); on a malformed value returns -1 and explains in err. */
int risk_caps_from_env(risk_caps *caps, char *err, size_t errlen);
/* Tightens caps with the strategy table's `risk` field (table at idx); never loosens. The field
 * was checked by strategy_load (which `check` and `run` both call): a plain table, no metatable. */
void risk_caps_tighten(lua_State *L, int strategy_idx, risk_caps *caps);

/* Applies every gate to the intents in order, given reference prices (bid/ask/last) and
 * the book; later intents see the effect of earlier accepted ones. Sets status, verdict,
 * final_volume, final_price and est_cost on each intent. Buys are bounded by the caps at the
 * price plus the slippage allowance; sells only reduce the position (spot, long only), so
 * neither max_order_quote nor max_position_quote limits them, and a sell of (all but noise of)
 * the position sells all of it. Kraken's minimums and max_orders_per_cycle apply to both. */
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

/* The largest volume, at most `volume`, that a buy filling at `price` may have: the order
 * within max_order_quote and the position (already `position`) within max_position_quote,
 * rounded down to the lot. The paper broker and the backtest clip their fills with it. */
double risk_buy_volume_at_fill(const risk_caps *caps, const pair_rules *rules, double volume, double price,
                               double position);

/* Rounds a volume down to the pair's lot, in decimal: the double is read as the decimal it
 * stands for (15 significant digits), so 9.80392156 stays 9.80392156 at 8 decimals; a price to
 * the tick (down for buys, up for sells). */
double risk_round_volume(double volume, int lot_decimals);
double risk_round_price(double price, const pair_rules *rules, order_side side);
#endif
