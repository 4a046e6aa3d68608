/* The backtest's HTML report (see report.h), drawn with chart.c: long series are reduced to the
 * min and max of each pixel column, so a decade of bars stays a small file with the same shape. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "clock.h"
#include "strbuf.h"
#include "version.h"

#define RP_TRADE_ROWS 400            /* trade list rows (first and last halves beyond that) */

/* A per-bar series of the run: v[k] (or the close when v is NULL) at bar start + k. */
typedef struct rp_bars {
    const backtest_result *res;
    const double *v;
} rp_bars;

static int64_t rp_bar_time(const void *ud, size_t k)
{
    const rp_bars *s = ud;
    return s->res->data.bars[s->res->start + k].t;
}

static double rp_bar_value(const void *ud, size_t k)
{
    const rp_bars *s = ud;
    return s->v ? s->v[k] : s->res->data.bars[s->res->start + k].c;
}

static chart_series rp_series(const rp_bars *bars)
{
    return (chart_series){.n = bars->res->end - bars->res->start + 1, .time = rp_bar_time, .value = rp_bar_value,
                          .ud = bars, .scale = 1};
}

static void rp_metric_row(strbuf *b, const char *name, const char *strategy, const char *bh)
{
    strbuf_printf(b, "<tr><th>%s</th><td>%s</td><td>%s</td></tr>\n", name, strategy, bh);
}


static void rp_trade_row(strbuf *b, const backtest_fill *f)
{
    char t[CLOCK_ISO_SIZE];
    clock_iso(f->t * 1000, t);
    strbuf_printf(b, "<tr class=\"%s\"><td>%.16s</td><td>%s %s</td><td>%.2f</td><td>%.8g</td><td>%.2f</td><td>%.2f</td>",
                  f->side == SIDE_BUY ? "b" : "s", t, f->side == SIDE_BUY ? "buy" : "sell",
                  f->type == ORDER_MARKET ? "market" : "limit", f->price, f->volume, f->cost, f->fee);
    if (f->side == SIDE_SELL)   /* realized PnL exists only for sells */
        strbuf_printf(b, "<td class=\"%s\">%+.2f</td>", f->realized_pnl >= 0 ? "up" : "down", f->realized_pnl);
    else
        strbuf_puts(b, "<td></td>");
    strbuf_puts(b, "<td class=\"why\">");
    chart_escape(b, f->reason);
    strbuf_puts(b, "</td></tr>\n");
}

int report_write_html(const backtest_result *res, const backtest_options *opt, const char *path, char *err,
                      size_t errlen)
{
    const backtest_metrics *m = &res->m;
    const csv_bar *bars = res->data.bars;
    size_t n = res->end - res->start + 1;
    char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE], x[64], y[64];
    strbuf b = {0};
    strbuf title = {0};
    strbuf_puts(&title, "Backtest: ");
    strbuf_puts(&title, res->strategy);
    chart_page_begin(&b, strbuf_cstr(&title), "tr.b td:nth-child(2){color:#1a7f37}tr.s td:nth-child(2){color:#cf222e}\n");
    strbuf_free(&title);
    strbuf_puts(&b, "<h1>Backtest: ");
    chart_escape(&b, res->strategy);
    strbuf_puts(&b, " on ");
    chart_escape(&b, res->pair);                          /* the quote is one of a fixed list: no escaping */
    strbuf_printf(&b, ", %d-minute bars</h1>\n<p class=\"sub\">", res->interval);
    clock_iso(bars[res->start].t * 1000, a);
    clock_iso(bars[res->end].t * 1000, z);
    strbuf_printf(&b, "%.16s &ndash; %.16s UTC &middot; %zu bars (%.2f years) &middot; ", a, z, n, m->years);
    chart_escape(&b, opt->strategy_path);
    strbuf_puts(&b, " on ");
    chart_escape(&b, opt->data_path);
    strbuf_printf(&b, "<br>cash %.2f %s &middot; fee %.4g bps &middot; slippage %.4g bps &middot; max order %.10g, "
                      "max position %.10g %s &middot; titan-host %s</p>\n",
                  opt->paper.starting_cash, res->quote, opt->paper.fee_rate * 10000, opt->paper.slippage_rate * 10000,
                  res->caps.max_order_quote, res->caps.max_position_quote, res->quote, TITAN_VERSION);

    /* headline figures */
    strbuf_puts(&b, "<div class=\"kpis\">");
    chart_pct(x, sizeof x, m->total_return);
    strbuf_printf(&b, "<div class=\"kpi\"><b class=\"%s\">%s</b><span>total return</span></div>",
                  m->total_return >= 0 ? "up" : "down", x);
    chart_pct(x, sizeof x, m->bh_return);
    strbuf_printf(&b, "<div class=\"kpi\"><b>%s</b><span>buy &amp; hold</span></div>", x);
    chart_pct(x, sizeof x, -m->max_drawdown);
    strbuf_printf(&b, "<div class=\"kpi\"><b class=\"down\">%s</b><span>max drawdown</span></div>", x);
    if (isfinite(m->sharpe)) snprintf(x, sizeof x, "%.2f", m->sharpe);
    else snprintf(x, sizeof x, "n/a");
    strbuf_printf(&b, "<div class=\"kpi\"><b>%s</b><span>Sharpe</span></div>", x);
    strbuf_printf(&b, "<div class=\"kpi\"><b>%zu</b><span>round trips (%zu fills)</span></div>", m->round_trips, m->fills);
    strbuf_printf(&b, "<div class=\"kpi\"><b>%.2f</b><span>fees paid (%s)</span></div></div>\n", m->fees, res->quote);

    /* equity on its own scale: buy & hold would flatten a strategy that trades a small part of
     * its cash (its figures are in the table) */
    chart c = {.height = 280, .t0 = bars[res->start].t, .t1 = bars[res->end].t};
    double lo = INFINITY, hi = -INFINITY;
    rp_bars equity = {res, res->equity}, drawdown = {res, NULL}, closes = {res, NULL};
    chart_series equity_s = rp_series(&equity);
    chart_range(&equity_s, &lo, &hi);
    chart_fit(&c.y, lo, hi, 1);
    strbuf_puts(&b, "<h2>Equity</h2><div class=\"card\">\n");
    chart_frame(&b, &c, 0);
    strbuf_printf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#8c959f\" stroke-dasharray=\"4 3\"/>\n",
                  CHART_LEFT, CHART_W - CHART_RIGHT, chart_y(&c, m->start_equity), chart_y(&c, m->start_equity));
    chart_line(&b, &c, &equity_s, "fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.6\"");
    chart_pct(x, sizeof x, m->bh_return);
    strbuf_printf(&b, "</svg>\n<p class=\"legend\"><span class=\"sw\" style=\"background:#0969da\"></span>equity "
                      "(cash + position at each close), %s; dashed: the starting %.2f. Buy &amp; hold over the same "
                      "bars: %s.</p></div>\n", res->quote, m->start_equity, x);

    /* drawdown from the running peak */
    double *dd = malloc(n * sizeof *dd);
    if (!dd) { strbuf_free(&b); snprintf(err, errlen, "out of memory"); return -1; }
    double peak = res->equity[0], worst = 0;
    for (size_t k = 0; k < n; k++) {
        if (res->equity[k] > peak) peak = res->equity[k];
        dd[k] = peak > 0 ? res->equity[k] / peak - 1 : 0;
        if (dd[k] < worst) worst = dd[k];
    }
    chart d = {.height = 170, .t0 = c.t0, .t1 = c.t1};
    chart_fit(&d.y, worst < 0 ? worst : -0.01, 0, 0);
    d.y.hi = 0.0;
    strbuf_puts(&b, "<h2>Drawdown</h2><div class=\"card\">\n");
    chart_frame(&b, &d, 1);
    drawdown.v = dd;
    chart_series drawdown_s = rp_series(&drawdown);
    chart_line(&b, &d, &drawdown_s, "fill=\"none\" stroke=\"#cf222e\" stroke-width=\"1.2\"");
    free(dd);
    if (m->max_drawdown > 0) {
        double x0 = chart_x(&d, m->dd_peak_t), x1 = chart_x(&d, m->dd_recovered_t ? m->dd_recovered_t : d.t1);
        strbuf_printf(&b, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#cf222e\" opacity=\"0.07\"/>\n",
                      x0, CHART_TOP, x1 - x0 > 1 ? x1 - x0 : 1, d.height - CHART_TOP - CHART_BOTTOM);
    }
    clock_iso(m->dd_peak_t * 1000, a);
    clock_iso(m->dd_trough_t * 1000, z);
    chart_pct(x, sizeof x, -m->max_drawdown);
    strbuf_printf(&b, "</svg>\n<p class=\"legend\">deepest: %s", x);
    if (m->max_drawdown > 0) {
        strbuf_printf(&b, " from the peak of %.10s to %.10s", a, z);
        if (m->dd_recovered_t) strbuf_printf(&b, ", recovered %.10s", clock_iso(m->dd_recovered_t * 1000, a));
        else strbuf_puts(&b, ", not recovered by the end");
        strbuf_puts(&b, " (shaded)");
    }
    strbuf_puts(&b, "</p></div>\n");

    /* price with the fills */
    chart p = {.height = 320, .t0 = c.t0, .t1 = c.t1};
    lo = INFINITY, hi = -INFINITY;
    chart_series closes_s = rp_series(&closes);
    chart_range(&closes_s, &lo, &hi);
    chart_fit(&p.y, lo, hi, 1);
    strbuf_printf(&b, "<h2>Price and trades</h2><div class=\"card\">\n");
    chart_frame(&b, &p, 0);
    chart_line(&b, &p, &closes_s, "fill=\"none\" stroke=\"#57606a\" stroke-width=\"1\"");
    int s = res->nfills > 300 ? 2 : 4;                 /* smaller markers when there are many */
    for (size_t i = 0; i < res->nfills; i++) {
        const backtest_fill *f = &res->fills[i];
        double fx = chart_x(&p, f->t), fy = chart_y(&p, f->price);
        if (f->side == SIDE_BUY)
            strbuf_printf(&b, "<path d=\"M%.1f %.1fl-%d %dh%dz\" fill=\"#1a7f37\" opacity=\"0.8\"/>", fx, fy + 2, s,
                          2 * s, 2 * s);
        else
            strbuf_printf(&b, "<path d=\"M%.1f %.1fl-%d -%dh%dz\" fill=\"#cf222e\" opacity=\"0.8\"/>", fx, fy - 2, s,
                          2 * s, 2 * s);
        if (i % 8 == 7) strbuf_puts(&b, "\n");
    }
    strbuf_printf(&b, "</svg>\n<p class=\"legend\">close prices; <span class=\"up\">&#9650;</span> buys, "
                      "<span class=\"down\">&#9660;</span> sells at their fill price (%zu fills)</p></div>\n",
                  res->nfills);

    /* the metrics */
    strbuf_puts(&b, "<h2>Metrics</h2><div class=\"card\"><table><thead><tr><th></th><th>strategy</th>"
                    "<th>buy &amp; hold</th></tr></thead><tbody>\n");
    chart_pct(x, sizeof x, m->total_return);
    chart_pct(y, sizeof y, m->bh_return);
    rp_metric_row(&b, "total return", x, y);
    chart_pct(x, sizeof x, m->cagr);
    chart_pct(y, sizeof y, m->bh_cagr);
    rp_metric_row(&b, "CAGR", x, y);
    snprintf(x, sizeof x, "%.2f", m->final_equity);
    snprintf(y, sizeof y, "%.2f", m->start_equity * (1 + m->bh_return));
    rp_metric_row(&b, "final equity", x, y);
    chart_pct(x, sizeof x, -m->max_drawdown);
    rp_metric_row(&b, "max drawdown", x, "");
    snprintf(x, sizeof x, isfinite(m->sharpe) ? "%.2f" : "n/a", m->sharpe);
    rp_metric_row(&b, "Sharpe (annualized)", x, "");
    snprintf(x, sizeof x, isfinite(m->sortino) ? "%.2f" : "n/a", m->sortino);
    rp_metric_row(&b, "Sortino (annualized)", x, "");
    chart_pct(x, sizeof x, m->win_rate);
    snprintf(y, sizeof y, "%zu won, %zu lost", m->wins, m->losses);
    rp_metric_row(&b, "win rate", x + (x[0] == '+'), y);
    snprintf(x, sizeof x, isfinite(m->profit_factor) ? "%.2f" : "n/a", m->profit_factor);
    rp_metric_row(&b, "profit factor", x, "");
    snprintf(x, sizeof x, "%zu", m->round_trips);
    rp_metric_row(&b, "round trips", x, m->open_at_end ? "+1 open at the end" : "");
    snprintf(x, sizeof x, "%zu", m->fills);
    snprintf(y, sizeof y, "%zu buys, %zu sells", m->buys, m->sells);
    rp_metric_row(&b, "fills", x, y);
    snprintf(x, sizeof x, "%.2f", m->fees);
    rp_metric_row(&b, "fees paid", x, "");
    chart_pct(x, sizeof x, m->time_in_market);
    rp_metric_row(&b, "time in market", x + (x[0] == '+'), "");
    snprintf(x, sizeof x, "%d / %d / %d", res->intents[INTENT_ACCEPTED], res->intents[INTENT_RESIZED],
             res->intents[INTENT_REJECTED]);
    rp_metric_row(&b, "intents accepted / resized / rejected", x, "");
    snprintf(x, sizeof x, "%zu gaps, %zu missing bars", res->data.gaps, res->data.missing);
    rp_metric_row(&b, "gaps in the data file", x, "");
    strbuf_puts(&b, "</tbody></table></div>\n");

    /* the fills */
    strbuf_printf(&b, "<h2>Trades</h2><div class=\"card\">");
    if (res->nfills > RP_TRADE_ROWS)
        strbuf_printf(&b, "<p class=\"note\">%zu fills: the first and last %d are listed (--trades writes them all).</p>",
                      res->nfills, RP_TRADE_ROWS / 2);
    strbuf_puts(&b, "<table><thead><tr><th>time (UTC)</th><th>side</th><th>price</th><th>volume</th><th>cost</th>"
                    "<th>fee</th><th>realized</th><th style=\"text-align:left\">reason</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < res->nfills; i++) {
        if (res->nfills > RP_TRADE_ROWS && i == RP_TRADE_ROWS / 2) {
            strbuf_printf(&b, "<tr><td colspan=\"8\" class=\"note\">&hellip; %zu more &hellip;</td></tr>\n",
                          res->nfills - RP_TRADE_ROWS);
            i = res->nfills - RP_TRADE_ROWS / 2;
        }
        rp_trade_row(&b, &res->fills[i]);
    }
    if (!res->nfills) strbuf_puts(&b, "<tr><td colspan=\"8\" class=\"note\">no fills</td></tr>\n");
    strbuf_puts(&b, "</tbody></table></div>\n<p class=\"note\">No look-ahead: after each bar closes the strategy sees "
                    "only closed bars; market orders fill at the next bar's open moved by the slippage, limit orders "
                    "at their price when the next bar trades through it. Equity is marked at each close.</p>\n");
    chart_page_end(&b);
    int rc = chart_write_file(&b, path, err, errlen);
    strbuf_free(&b);
    return rc;
}
