/* Divergence figures (divergence.h). The model is what `run` would have booked in PAPER with the
 * same ticker and settings: a market order at the last trade moved by TITAN_PAPER_SLIPPAGE_BPS,
 * a limit order at the touch when marketable, TITAN_PAPER_FEE_BPS of the cost as fee. */
#include "divergence.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int divergence_has(double v) { return !isnan(v); }

int divergence_add(divergence_set *set, const char *strategy, const order_list *orders)
{
    set->cycles++;
    for (size_t i = 0; i < orders->n; i++) {
        const order_record *o = &orders->items[i];
        if (!o->txid[0] || !divergence_has(o->ref_price) || !divergence_has(o->requested_volume)) continue;
        if (set->n == set->cap) {
            size_t cap = set->cap ? set->cap * 2 : 16;
            divergence_sample *items = realloc(set->items, cap * sizeof *items);
            if (!items) return -1;
            set->items = items, set->cap = cap;
        }
        divergence_sample *d = &set->items[set->n++];
        memset(d, 0, sizeof *d);
        snprintf(d->strategy, sizeof d->strategy, "%s", strategy);
        d->buy = strcmp(o->side, "buy") == 0;
        d->limit = strcmp(o->type, "limit") == 0;
        d->requested = o->requested_volume;
        int traded = divergence_has(o->trade_volume) && o->trade_volume > 0;
        d->filled = traded ? o->trade_volume : divergence_has(o->vol_exec) && o->vol_exec > 0 ? o->vol_exec : 0;
        d->price = traded ? o->trade_price : o->avg_price;
        d->fee = traded ? o->trade_fee : o->fee;
        d->model_price = o->model_price;
        d->model_volume = o->model_volume;
        d->model_cost = o->model_cost;
        d->model_fee = o->model_fee;
        d->ref_price = o->ref_price;
    }
    return 0;
}

void divergence_set_free(divergence_set *set)
{
    free(set->items);
    memset(set, 0, sizeof *set);
}

/* Worse-than-reference in bps: a buy that paid more, a sell that got less. */
static double divergence_bps(int buy, double price, double reference)
{
    return (buy ? price / reference - 1 : 1 - price / reference) * 10000;
}

static int divergence_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

void divergence_compute(const divergence_set *set, const char *strategy, divergence_stats *out)
{
    memset(out, 0, sizeof *out);
    double *slips = set->n ? malloc(set->n * sizeof *slips) : NULL;
    double fee_model = 0, fee_actual = 0, ratio = 0, model_ratio = 0, ref_slip = 0;
    out->slip_worst_bps = -INFINITY;
    for (size_t i = 0; i < set->n; i++) {
        const divergence_sample *d = &set->items[i];
        if (strategy && strcmp(d->strategy, strategy) != 0) continue;
        out->orders++;
        if (d->limit && d->requested > 0) {
            out->limits++;
            ratio += d->filled / d->requested;
            model_ratio += (divergence_has(d->model_volume) ? d->model_volume : 0) / d->requested;
        }
        if (!(d->filled > 0) || !(d->price > 0)) continue;
        out->filled++;
        if (!d->limit && d->ref_price > 0) {
            out->market_filled++;
            ref_slip += divergence_bps(d->buy, d->price, d->ref_price);
        }
        if (!(d->model_price > 0) || !(d->model_cost > 0) || !slips) continue;
        double slip = divergence_bps(d->buy, d->price, d->model_price);
        slips[out->priced++] = slip;
        if (slip > out->slip_worst_bps) out->slip_worst_bps = slip;
        double model_rate = d->model_fee / d->model_cost, cost = d->price * d->filled;
        fee_model += model_rate * 10000;
        fee_actual += divergence_has(d->fee) ? d->fee / cost * 10000 : 0;
        out->fee_diff_quote += (divergence_has(d->fee) ? d->fee : 0) - model_rate * cost;
    }
    if (out->priced) {
        double sum = 0;
        for (size_t k = 0; k < out->priced; k++) sum += slips[k];
        qsort(slips, out->priced, sizeof *slips, divergence_cmp);
        size_t m = out->priced / 2;
        out->slip_mean_bps = sum / (double)out->priced;
        out->slip_median_bps = out->priced % 2 ? slips[m] : (slips[m - 1] + slips[m]) / 2;
        out->fee_model_bps = fee_model / (double)out->priced;
        out->fee_actual_bps = fee_actual / (double)out->priced;
        out->fee_diff_bps = out->fee_actual_bps - out->fee_model_bps;
    } else {
        out->slip_mean_bps = out->slip_median_bps = out->slip_worst_bps = NAN;
        out->fee_model_bps = out->fee_actual_bps = out->fee_diff_bps = out->fee_diff_quote = NAN;
    }
    out->limit_fill_ratio = out->limits ? ratio / (double)out->limits : NAN;
    out->limit_model_fill_ratio = out->limits ? model_ratio / (double)out->limits : NAN;
    out->ref_slip_mean_bps = out->market_filled ? ref_slip / (double)out->market_filled : NAN;
    out->backtest_slippage_bps =
        out->market_filled ? (out->ref_slip_mean_bps > 0 ? ceil(out->ref_slip_mean_bps * 10 - 1e-9) / 10 : 0) : NAN;
    free(slips);
}
