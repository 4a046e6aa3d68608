/* Paper fills. Cost basis is carried in quote currency so realized PnL needs no fill history:
 * a sell releases the held basis in proportion to the volume sold. Buys are cut at the fill to
 * what the caps allow at the fill price, so a cap holds whatever the price did since the decision. */
#include "paper.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"

int paper_config_from_env(paper_config *cfg, char *err, size_t errlen)
{
    double fee_bps = 0, slip_bps = 0;
    int rc = settings_number("TITAN_PAPER_FEE_BPS", &fee_bps, err, errlen) ||
             settings_number("TITAN_PAPER_SLIPPAGE_BPS", &slip_bps, err, errlen) ||
             settings_number("TITAN_PAPER_CASH", &cfg->starting_cash, err, errlen);
    cfg->fee_rate = fee_bps / 10000;
    cfg->slippage_rate = slip_bps / 10000;
    return rc ? -1 : 0;
}

static void paper_book(const paper_config *cfg, order_side side, double volume, double price, double position,
                       double cost_basis, paper_fill *out)
{
    out->filled = 1;
    out->price = price;
    out->volume = volume;
    out->cost = volume * price;
    out->fee = out->cost * cfg->fee_rate;
    if (side == SIDE_BUY) {
        out->realized_pnl = 0;
        out->basis_delta = out->cost + out->fee;
    } else {
        double released = position > 0 ? cost_basis * fmin(volume / position, 1.0) : 0;
        out->realized_pnl = out->cost - out->fee - released;
        out->basis_delta = -released;
    }
}

/* The caps hold at the fill: a buy that would cost more than they allow at `price` is cut to
 * the largest lot that fits. Returns 0 when none fits the pair's minimums (not filled, note set). */
static int paper_fit_caps(const paper_limits *limits, order_side side, double *volume, double price, double position,
                          paper_fill *out)
{
    if (!limits || side != SIDE_BUY) return 1;
    double fit = risk_buy_volume_at_fill(limits->caps, limits->rules, *volume, price, position);
    if (fit >= *volume) return 1;
    const pair_rules *r = limits->rules;
    if (fit <= 0 || fit < r->ordermin || (r->costmin > 0 && fit * price < r->costmin)) {
        out->capped = -1;
        snprintf(out->note, sizeof out->note,
                 "buy of %.8g at %.10g refused: over max_order_quote %.10g or max_position_quote %.10g at the fill "
                 "price, and what fits is under the pair's minimums", *volume, price, limits->caps->max_order_quote,
                 limits->caps->max_position_quote);
        return 0;
    }
    out->capped = 1;
    *volume = fit;
    return 1;
}

/* " (volume cut to fit the caps at this price)" when paper_fit_caps cut it. */
static const char *paper_cut_note(const paper_fill *f)
{
    return f->capped > 0 ? "; volume cut to fit the caps at this price" : "";
}

void paper_fill_market(const paper_config *cfg, const paper_limits *limits, order_side side, double volume,
                       double price, double position, double cost_basis, paper_fill *out)
{
    memset(out, 0, sizeof *out);
    double slipped = side == SIDE_BUY ? price * (1 + cfg->slippage_rate) : price * (1 - cfg->slippage_rate);
    if (!paper_fit_caps(limits, side, &volume, slipped, position, out)) return;
    paper_book(cfg, side, volume, slipped, position, cost_basis, out);
    snprintf(out->note, sizeof out->note, "market %s filled at %.10g (reference %.10g, slippage %.2f bps)%s",
             side == SIDE_BUY ? "buy" : "sell", slipped, price, cfg->slippage_rate * 10000, paper_cut_note(out));
}

void paper_fill_limit(const paper_config *cfg, const paper_limits *limits, order_side side, double volume,
                      double limit, double bid, double ask, double position, double cost_basis, paper_fill *out)
{
    memset(out, 0, sizeof *out);
    double touch = side == SIDE_BUY ? ask : bid;
    int marketable = touch > 0 && (side == SIDE_BUY ? limit >= touch : limit <= touch);
    if (!marketable) {
        snprintf(out->note, sizeof out->note,
                 "limit %s at %.10g not marketable (touch %.10g): cancelled, paper limits are immediate-or-cancel",
                 side == SIDE_BUY ? "buy" : "sell", limit, touch);
        return;
    }
    double price = side == SIDE_BUY ? fmin(limit, touch * (1 + cfg->slippage_rate))
                                    : fmax(limit, touch * (1 - cfg->slippage_rate));
    if (!paper_fit_caps(limits, side, &volume, price, position, out)) return;
    paper_book(cfg, side, volume, price, position, cost_basis, out);
    snprintf(out->note, sizeof out->note, "limit %s at %.10g filled at %.10g (touch %.10g)%s",
             side == SIDE_BUY ? "buy" : "sell", limit, price, touch, paper_cut_note(out));
}
