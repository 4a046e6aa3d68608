/* The paper broker's arithmetic: fills, fees, slippage and realized PnL, with no I/O, so
 * `run` (PAPER) and `backtest` share one implementation. */
#ifndef TITAN_PAPER_H
#define TITAN_PAPER_H
#include <stddef.h>

#include "intent.h"
#include "risk.h"

typedef struct paper_config {
    double fee_rate;        /* taker fee, TITAN_PAPER_FEE_BPS (default 40 = 0.40%) */
    double slippage_rate;   /* TITAN_PAPER_SLIPPAGE_BPS (default 5 = 0.05%) */
    double starting_cash;   /* TITAN_PAPER_CASH (default 10000, quote currency) */
} paper_config;

/* The caps a buy may not exceed at its fill price, and the pair's rules (its lot and minimums). */
typedef struct paper_limits {
    const risk_caps *caps;
    const pair_rules *rules;
} paper_limits;

typedef struct paper_fill {
    int filled;             /* 0: not filled (see note) */
    int capped;             /* a buy over the caps at its fill price: 1 cut to fit, -1 refused (nothing fits) */
    double price, volume, cost, fee;
    double realized_pnl;    /* sells: proceeds - fee - released cost basis; buys: 0 */
    double basis_delta;     /* change of the position's cost basis (quote) */
    char note[256];
} paper_fill;

int paper_config_from_env(paper_config *cfg, char *err, size_t errlen);

/* Market order of `volume` at reference `price` moved against the order by the slippage. A buy
 * whose cost at that price would exceed max_order_quote, or take the position over
 * max_position_quote, is cut to fit (`limits`; NULL: no cut): caps hold at the fill price. */
void paper_fill_market(const paper_config *cfg, const paper_limits *limits, order_side side, double volume,
                       double price, double position, double cost_basis, paper_fill *out);
/* Limit order checked against the touch: fills only when marketable now (buy: limit >= ask;
 * sell: limit <= bid), at the touch plus slippage but never worse than the limit, cut to the
 * caps like a market buy; otherwise not filled (treated as immediate-or-cancel). */
void paper_fill_limit(const paper_config *cfg, const paper_limits *limits, order_side side, double volume,
                      double limit, double bid, double ask, double position, double cost_basis, paper_fill *out);
#endif
