/* The paper broker's arithmetic: fills, fees, slippage and realized PnL, with no I/O, so
 * `run` (PAPER) and `backtest` share one implementation. */
#ifndef TITAN_PAPER_H
#define TITAN_PAPER_H
#include <stddef.h>

#include "intent.h"

typedef struct paper_config {
    double fee_rate;        /* taker fee, TITAN_PAPER_FEE_BPS (default 40 = 0.40%) */
    double slippage_rate;   /* TITAN_PAPER_SLIPPAGE_BPS (default 5 = 0.05%) */
    double starting_cash;   /* TITAN_PAPER_CASH (default 10000, quote currency) */
} paper_config;

typedef struct paper_fill {
    int filled;             /* 0: not filled (see note) */
    double price, volume, cost, fee;
    double realized_pnl;    /* sells: proceeds - fee - released cost basis; buys: 0 */
    double basis_delta;     /* change of the position's cost basis (quote) */
    char note[160];
} paper_fill;

int paper_config_from_env(paper_config *cfg, char *err, size_t errlen);

/* Market order of `volume` at reference `price` moved against the order by the slippage. */
void paper_fill_market(const paper_config *cfg, order_side side, double volume, double price, double position,
                       double cost_basis, paper_fill *out);
/* Limit order checked against the touch: fills only when marketable now (buy: limit >= ask;
 * sell: limit <= bid), at the touch plus slippage but never worse than the limit;
 * otherwise not filled (treated as immediate-or-cancel). */
void paper_fill_limit(const paper_config *cfg, order_side side, double volume, double limit, double bid, double ask,
                      double position, double cost_basis, paper_fill *out);
#endif
