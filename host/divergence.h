/* Paper beside live: how far Kraken's fills of LIVE orders were from the fills the paper broker
 * modelled at decision time (recorded beside each order, orders.h), per strategy and overall —
 * slippage against the model, fees, limit fill ratios — and the --slippage-bps a backtest should
 * use to match reality. Pure arithmetic over order records. */
#ifndef TITAN_DIVERGENCE_H
#define TITAN_DIVERGENCE_H
#include <stddef.h>

#include "orders.h"

/* One LIVE order that reached Kraken with a model beside it. */
typedef struct divergence_sample {
    char strategy[80];
    int buy, limit;
    double requested, filled;          /* volume asked; executed by Kraken (0 when none) */
    double price, fee;                 /* Kraken's: from the order's trades when read, else the order's */
    double model_price, model_volume, model_cost, model_fee, ref_price;
} divergence_sample;

typedef struct divergence_set {
    divergence_sample *items;
    size_t n, cap;
    size_t cycles;                     /* LIVE cycles read */
} divergence_set;

/* Adds the orders of one LIVE cycle of `strategy` that carry a model and a txid. 0, or -1 when out
 * of memory. */
int divergence_add(divergence_set *set, const char *strategy, const order_list *orders);
void divergence_set_free(divergence_set *set);

/* Figures over the samples of `strategy` (NULL = all). Bps are positive when Kraken did worse than
 * the model (paid more for a buy, got less for a sell); NAN when there is nothing to measure. */
typedef struct divergence_stats {
    size_t orders, filled, market_filled, limits;
    size_t priced;                     /* fills with a model price to compare with */
    double slip_mean_bps, slip_median_bps, slip_worst_bps;
    double fee_model_bps, fee_actual_bps, fee_diff_bps;   /* mean fee / cost of the priced fills */
    double fee_diff_quote;             /* sum over them of Kraken's fee - the model's rate on Kraken's fill */
    double limit_fill_ratio, limit_model_fill_ratio;      /* mean volume filled / asked, over limit orders */
    double ref_slip_mean_bps;          /* market fills against the last trade price at decision time */
    double backtest_slippage_bps;      /* max(0, ref_slip_mean_bps) rounded up to 0.1 bps */
} divergence_stats;
void divergence_compute(const divergence_set *set, const char *strategy, divergence_stats *out);
#endif
