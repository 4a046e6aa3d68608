/* The backtest's HTML report (see report.h): headline figures coloured by their sign, equity
 * against buy & hold, drawdown, price with a tooltip on every fill, monthly returns, metrics and
 * fills. Charts come from chart.c; prices and equity switch to a log scale when they span 10x. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chart.h"
#include "clock.h"
#include "strbuf.h"
#include "version.h"

#define RP_TRADE_ROWS 400            /* trade list rows (first and last halves beyond that) */
#define RP_TIP_REASON 80             /* characters of a fill's reason in its tooltip */

static void rp_pct(char *out, size_t len, double v)
{
    if (!isfinite(v)) snprintf(out, len, "n/a");
    else if (fabs(v) < 5e-7) snprintf(out, len, "0.00%%");
    else snprintf(out, len, "%+.2f%%", v * 100);
}

static void rp_ratio(char *out, size_t len, double v)
{
    if (!isfinite(v)) snprintf(out, len, "n/a");
    else snprintf(out, len, "%.2f", v);
}

/* The equity, cash or position series of the marked bars, timed by their bars. */
static chart_series_data rp_series_of(const backtest_result *res, const double *v, double scale)
{
    const csv_bar *bars = res->data.bars + res->start;
    return (chart_series_data){.t = &bars->t, .t_stride = sizeof *bars, .v = v ? (const void *)v : &bars->c,
                               .v_stride = v ? sizeof *v : sizeof *bars, .n = res->end - res->start + 1,
                               .scale = scale};
}

static void rp_head(strbuf *b, const backtest_result *res, const backtest_options *opt)
{
    const backtest_metrics *m = &res->m;
    const csv_bar *bars = res->data.bars;
    char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE];
    strbuf_puts(b, "<h1>Backtest: ");
    html_escape(b, res->strategy);
    strbuf_puts(b, " on ");
    html_escape(b, res->pair);
    strbuf_printf(b, ", %d-minute bars</h1>\n<p class=\"sub\">", res->interval);
    clock_iso(bars[res->start].t * 1000, a);
    clock_iso(bars[res->end].t * 1000, z);
    strbuf_printf(b, "%.16s &ndash; %.16s UTC &middot; %zu bars (%.2f years) &middot; ", a, z,
                  res->end - res->start + 1, m->years);
    html_escape(b, opt->strategy_path);
    strbuf_puts(b, " on ");
    html_escape(b, opt->data_path);
    strbuf_printf(b, "<br>cash %.2f %s &middot; fee %.4g bps &middot; slippage %.4g bps &middot; max order %.10g, "
                     "max position %.10g %s &middot; titan-host %s</p>\n",
                  opt->paper.starting_cash, res->quote, opt->paper.fee_rate * 10000, opt->paper.slippage_rate * 10000,
                  res->caps.max_order_quote, res->caps.max_position_quote, res->quote, TITAN_VERSION);
    if (res->interval != res->own_interval)
        strbuf_printf(b, "<p class=\"warn\">%s is written for %d-minute bars and ran on %d-minute bars (--interval): "
                         "its periods, counted in bars, span %.4gx the time.</p>\n",
                      res->strategy, res->own_interval, res->interval, (double)res->interval / res->own_interval);
}

static void rp_kpi(strbuf *b, const char *value, const char *cls, const char *label)
{
    strbuf_printf(b, "<div class=\"kpi\"><b class=\"%s\">%s</b><span>%s</span></div>", cls, value, label);
}

static void rp_kpis(strbuf *b, const backtest_result *res)
{
    const backtest_metrics *m = &res->m;
    char x[64], label[64];
    strbuf_puts(b, "<div class=\"kpis\">");
    rp_pct(x, sizeof x, m->total_return);
    rp_kpi(b, x, html_sign_class(m->total_return), "total return");
    rp_pct(x, sizeof x, m->bh_return);
    rp_kpi(b, x, html_sign_class(m->bh_return), "buy &amp; hold");
    rp_pct(x, sizeof x, -m->max_drawdown);
    rp_kpi(b, x, html_sign_class(-m->max_drawdown), "max drawdown");
    rp_ratio(x, sizeof x, m->sharpe);
    rp_kpi(b, x, html_sign_class(m->sharpe), "Sharpe");
    snprintf(x, sizeof x, "%zu", m->round_trips);
    snprintf(label, sizeof label, "round trips (%zu fills)", m->fills);
    rp_kpi(b, x, "", label);
    rp_pct(x, sizeof x, m->exposure_avg);
    rp_kpi(b, x + (x[0] == '+'), "", "average exposure");
    snprintf(x, sizeof x, "%.2f", m->fees);
    snprintf(label, sizeof label, "fees paid (%s)", res->quote);
    rp_kpi(b, x, "", label);
    strbuf_puts(b, "</div>\n");
}

/* Equity and buy & hold (the starting equity in the asset, no fees) on one scale. */
static int rp_equity(strbuf *b, const backtest_result *res)
{
    const backtest_metrics *m = &res->m;
    size_t n = res->end - res->start + 1;
    const csv_bar *bars = res->data.bars + res->start;
    double *hold = malloc(n * sizeof *hold);
    if (!hold) return -1;
    for (size_t k = 0; k < n; k++) hold[k] = m->start_equity * bars[k].c / bars[0].c;
    char title[64];
    snprintf(title, sizeof title, "equity (%s)", res->quote);
    chart c = {.height = 300, .t0 = bars[0].t, .t1 = bars[n - 1].t, .y_title = title};
    chart_series_data eq = rp_series_of(res, res->equity, 1), bh = rp_series_of(res, hold, 1);
    double lo = INFINITY, hi = -INFINITY;
    chart_range(&eq, &lo, &hi);
    chart_range(&bh, &lo, &hi);
    chart_fit(&c.y, lo, hi, 1);
    strbuf_puts(b, "<h2>Equity</h2><div class=\"card\">\n");
    chart_begin(b, &c);
    chart_hline(b, &c, m->start_equity, "stroke=\"#8c959f\" stroke-dasharray=\"4 3\"");
    chart_series(b, &c, &bh, "fill=\"none\" stroke=\"#bf8700\" stroke-width=\"1.2\" opacity=\"0.8\"");
    chart_series(b, &c, &eq, "fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.6\"");
    chart_end(b);
    free(hold);
    char x[64], y[64];
    rp_pct(x, sizeof x, m->total_return);
    rp_pct(y, sizeof y, m->bh_return);
    strbuf_printf(b, "<p class=\"legend\"><span class=\"sw\" style=\"background:#0969da\"></span>strategy "
                     "(cash + position at each close): <span class=\"%s\">%s</span>"
                     "<span class=\"sw\" style=\"background:#bf8700\"></span>buy &amp; hold (the starting %.2f in the "
                     "asset at the first close, no fees): <span class=\"%s\">%s</span>; dashed: the start.</p></div>\n",
                  html_sign_class(m->total_return), x, m->start_equity, html_sign_class(m->bh_return), y);
    return 0;
}

static int rp_drawdown(strbuf *b, const backtest_result *res)
{
    const backtest_metrics *m = &res->m;
    size_t n = res->end - res->start + 1;
    double *dd = malloc(n * sizeof *dd);
    if (!dd) return -1;
    double peak = res->equity[0], worst = 0;
    for (size_t k = 0; k < n; k++) {
        if (res->equity[k] > peak) peak = res->equity[k];
        dd[k] = peak > 0 ? res->equity[k] / peak - 1 : 0;
        if (dd[k] < worst) worst = dd[k];
    }
    const csv_bar *bars = res->data.bars;
    chart d = {.height = 190, .t0 = bars[res->start].t, .t1 = bars[res->end].t, .pct = 1,
               .y_title = "drawdown from the peak (%)"};
    chart_fit(&d.y, worst < 0 ? worst : -0.01, 0, 0);
    d.y.hi = 0.0;
    chart_series_data s = rp_series_of(res, dd, 1);
    strbuf_puts(b, "<h2>Drawdown</h2><div class=\"card\">\n");
    chart_begin(b, &d);
    chart_series(b, &d, &s, "fill=\"none\" stroke=\"#cf222e\" stroke-width=\"1.2\"");
    free(dd);
    if (m->max_drawdown > 0) {
        double x0 = chart_x(&d, m->dd_peak_t), x1 = chart_x(&d, m->dd_recovered_t ? m->dd_recovered_t : d.t1);
        strbuf_printf(b, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#cf222e\" opacity=\"0.07\"/>\n",
                      x0, CHART_TOP, x1 - x0 > 1 ? x1 - x0 : 1, d.height - CHART_TOP - CHART_BOTTOM);
    }
    chart_end(b);
    char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE], x[64];
    clock_iso(m->dd_peak_t * 1000, a);
    clock_iso(m->dd_trough_t * 1000, z);
    rp_pct(x, sizeof x, -m->max_drawdown);
    strbuf_printf(b, "<p class=\"legend\">deepest: <span class=\"%s\">%s</span>", html_sign_class(-m->max_drawdown), x);
    if (m->max_drawdown > 0) {
        strbuf_printf(b, " from the peak of %.10s to %.10s", a, z);
        if (m->dd_recovered_t) strbuf_printf(b, ", recovered %.10s", clock_iso(m->dd_recovered_t * 1000, a));
        else strbuf_puts(b, ", not recovered by the end");
        strbuf_puts(b, " (shaded)");
    }
    strbuf_puts(b, "</p></div>\n");
    return 0;
}

/* One marker per fill, with a tooltip saying what, how much, at what price, when and why. */
static void rp_fill_marker(strbuf *b, const chart *p, const backtest_result *res, const backtest_fill *f, int size)
{
    double fx = chart_x(p, f->t), fy = chart_y(p, f->price);
    int buy = f->side == SIDE_BUY;
    if (buy) strbuf_printf(b, "<path d=\"M%.1f %.1fl-%d %dh%dz\" fill=\"#1a7f37\" opacity=\"0.8\">", fx, fy + 2, size,
                           2 * size, 2 * size);
    else strbuf_printf(b, "<path d=\"M%.1f %.1fl-%d -%dh%dz\" fill=\"#cf222e\" opacity=\"0.8\">", fx, fy - 2, size,
                       2 * size, 2 * size);
    char t[CLOCK_ISO_SIZE], reason[RP_TIP_REASON + 4];
    clock_iso(f->t * 1000, t);
    snprintf(reason, sizeof reason, "%.*s%s", RP_TIP_REASON, f->reason, strlen(f->reason) > RP_TIP_REASON ? "..." : "");
    strbuf_printf(b, "<title>%s %.8g %s at %.10g %s, %.16s UTC", buy ? "buy" : "sell", f->volume, res->base, f->price,
                  res->quote, t);
    if (!buy) strbuf_printf(b, ", realized %+.2f", f->realized_pnl);
    if (reason[0]) {
        strbuf_puts(b, ": ");
        html_escape(b, reason);
    }
    strbuf_puts(b, "</title></path>\n");
}

static void rp_price(strbuf *b, const backtest_result *res)
{
    const csv_bar *bars = res->data.bars;
    char title[64];
    snprintf(title, sizeof title, "close (%s per %s)", res->quote, res->base);
    chart p = {.height = 330, .t0 = bars[res->start].t, .t1 = bars[res->end].t, .y_title = title};
    chart_series_data close = rp_series_of(res, NULL, 1);
    double lo = INFINITY, hi = -INFINITY;
    chart_range(&close, &lo, &hi);
    chart_fit(&p.y, lo, hi, 1);
    strbuf_puts(b, "<h2>Price and trades</h2><div class=\"card\">\n");
    chart_begin(b, &p);
    chart_series(b, &p, &close, "fill=\"none\" stroke=\"#57606a\" stroke-width=\"1\"");
    int size = res->nfills > 300 ? 2 : 4;              /* smaller markers when there are many */
    for (size_t i = 0; i < res->nfills; i++) rp_fill_marker(b, &p, res, &res->fills[i], size);
    chart_end(b);
    strbuf_printf(b, "<p class=\"legend\">close prices; <span class=\"up\">&#9650;</span> buys, "
                     "<span class=\"down\">&#9660;</span> sells at their fill price (%zu fills; hover one for its "
                     "details)</p></div>\n",
                  res->nfills);
}

/* Returns per calendar month (UTC) from the equity at each month's last close, the first month
 * from the starting equity; a year's figure compounds its months. */
static void rp_monthly(strbuf *b, const backtest_result *res)
{
    size_t n = res->end - res->start + 1;
    const csv_bar *bars = res->data.bars + res->start;
    static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    strbuf_puts(b, "<h2>Monthly returns</h2><div class=\"card\"><table><thead><tr><th>year</th>");
    for (int i = 0; i < 12; i++) strbuf_printf(b, "<th>%s</th>", names[i]);
    strbuf_puts(b, "<th>year</th></tr></thead><tbody>\n");
    double base = res->m.start_equity, year_base = base;
    int row_year = -1, next_month = 0;
    for (size_t k = 0; k < n; k++) {
        time_t t = (time_t)bars[k].t;
        struct tm tm;
        gmtime_r(&t, &tm);
        int last_of_month = 1;
        if (k + 1 < n) {
            time_t t2 = (time_t)bars[k + 1].t;
            struct tm tm2;
            gmtime_r(&t2, &tm2);
            last_of_month = tm2.tm_mon != tm.tm_mon || tm2.tm_year != tm.tm_year;
        }
        if (!last_of_month) continue;
        if (tm.tm_year != row_year) {
            if (row_year >= 0) {
                for (; next_month < 12; next_month++) strbuf_puts(b, "<td></td>");
                strbuf_puts(b, "<td></td></tr>\n");
            }
            row_year = tm.tm_year;
            next_month = 0;
            year_base = base;
            strbuf_printf(b, "<tr><th>%d</th>", tm.tm_year + 1900);
        }
        for (; next_month < tm.tm_mon; next_month++) strbuf_puts(b, "<td></td>");
        double r = base > 0 ? res->equity[k] / base - 1 : NAN;
        char x[64];
        rp_pct(x, sizeof x, r);
        strbuf_printf(b, "<td class=\"%s\">%s</td>", html_sign_class(r), x);
        next_month = tm.tm_mon + 1;
        base = res->equity[k];
        int year_ends = k + 1 == n;
        if (!year_ends) {
            time_t t2 = (time_t)bars[k + 1].t;
            struct tm tm2;
            gmtime_r(&t2, &tm2);
            year_ends = tm2.tm_year != tm.tm_year;
        }
        if (year_ends) {
            for (; next_month < 12; next_month++) strbuf_puts(b, "<td></td>");
            double yr = year_base > 0 ? base / year_base - 1 : NAN;
            rp_pct(x, sizeof x, yr);
            strbuf_printf(b, "<td class=\"%s\"><b>%s</b></td></tr>\n", html_sign_class(yr), x);
            row_year = -1;
        }
    }
    strbuf_puts(b, "</tbody></table><p class=\"note\">Equity at each month's last close against the month before "
                   "(the first month against the starting equity); a month the data only partly covers is a "
                   "partial month. The year column compounds its months.</p></div>\n");
}

static void rp_row(strbuf *b, const char *name, const char *cls, const char *strategy, const char *bh)
{
    strbuf_printf(b, "<tr><th>%s</th><td class=\"%s\">%s</td><td>%s</td></tr>\n", name, cls, strategy, bh);
}

static void rp_metrics(strbuf *b, const backtest_result *res)
{
    const backtest_metrics *m = &res->m;
    char x[64], y[64];
    strbuf_puts(b, "<h2>Metrics</h2><div class=\"card\"><table><thead><tr><th></th><th>strategy</th>"
                   "<th>buy &amp; hold</th></tr></thead><tbody>\n");
    rp_pct(x, sizeof x, m->total_return);
    rp_pct(y, sizeof y, m->bh_return);
    rp_row(b, "total return", html_sign_class(m->total_return), x, y);
    rp_pct(x, sizeof x, m->cagr);
    rp_pct(y, sizeof y, m->bh_cagr);
    rp_row(b, "CAGR", html_sign_class(m->cagr), x, y);
    snprintf(x, sizeof x, "%.2f", m->final_equity);
    snprintf(y, sizeof y, "%.2f", m->start_equity * (1 + m->bh_return));
    rp_row(b, "final equity", html_sign_class(m->final_equity - m->start_equity), x, y);
    rp_pct(x, sizeof x, -m->max_drawdown);
    rp_row(b, "max drawdown", html_sign_class(-m->max_drawdown), x, "");
    rp_ratio(x, sizeof x, m->sharpe);
    rp_row(b, "Sharpe (annualized)", html_sign_class(m->sharpe), x, "");
    rp_ratio(x, sizeof x, m->sortino);
    rp_row(b, "Sortino (annualized)", html_sign_class(m->sortino), x, "");
    rp_pct(x, sizeof x, m->win_rate);
    snprintf(y, sizeof y, "%zu won, %zu lost", m->wins, m->losses);
    rp_row(b, "win rate", "", x + (x[0] == '+'), y);
    rp_ratio(x, sizeof x, m->profit_factor);
    rp_row(b, "profit factor", isfinite(m->profit_factor) ? (m->profit_factor >= 1 ? "up" : "down") : "", x, "");
    snprintf(x, sizeof x, "%zu", m->round_trips);
    rp_row(b, "round trips", "", x, m->open_at_end ? "+1 open at the end" : "");
    snprintf(x, sizeof x, "%zu", m->fills);
    snprintf(y, sizeof y, "%zu buys, %zu sells", m->buys, m->sells);
    rp_row(b, "fills", "", x, y);
    snprintf(x, sizeof x, "%.2f", m->fees);
    rp_row(b, "fees paid", "", x, "");
    rp_pct(x, sizeof x, m->time_in_market);
    rp_row(b, "time in market", "", x + (x[0] == '+'), "");
    rp_pct(x, sizeof x, m->exposure_avg);
    rp_pct(y, sizeof y, m->exposure_max);
    strbuf_printf(b, "<tr><th>exposure: position value / equity</th><td>%s average</td><td>%s at most</td></tr>\n",
                  x + (x[0] == '+'), y + (y[0] == '+'));
    snprintf(x, sizeof x, "%d / %d / %d", res->intents[INTENT_ACCEPTED], res->intents[INTENT_RESIZED],
             res->intents[INTENT_REJECTED]);
    rp_row(b, "intents accepted / resized / rejected", "", x, "");
    strbuf reasons = {0};
    for (int r = 0; r < RISK_REJECT_COUNT; r++)
        if (res->rejected_by[r])
            strbuf_printf(&reasons, "%s%s %d", reasons.len ? ", " : "", risk_reject_names[r], res->rejected_by[r]);
    if (reasons.len) rp_row(b, "rejected by", "", strbuf_cstr(&reasons), "");
    strbuf_free(&reasons);
    snprintf(x, sizeof x, "%zu gaps, %zu missing bars", res->data.gaps, res->data.missing);
    rp_row(b, "gaps in the data file", "", x, "");
    strbuf_puts(b, "</tbody></table></div>\n");
}

static void rp_trade_row(strbuf *b, const backtest_fill *f)
{
    char t[CLOCK_ISO_SIZE];
    clock_iso(f->t * 1000, t);
    strbuf_printf(b, "<tr><td>%.16s</td><td class=\"%s\">%s %s</td><td>%.2f</td><td>%.8g</td><td>%.2f</td>"
                     "<td>%.2f</td>",
                  t, f->side == SIDE_BUY ? "up" : "down", f->side == SIDE_BUY ? "buy" : "sell",
                  f->type == ORDER_MARKET ? "market" : "limit", f->price, f->volume, f->cost, f->fee);
    if (f->side == SIDE_SELL)   /* realized PnL exists only for sells */
        strbuf_printf(b, "<td class=\"%s\">%+.2f</td>", html_sign_class(f->realized_pnl), f->realized_pnl);
    else
        strbuf_puts(b, "<td></td>");
    strbuf_puts(b, "<td class=\"why\">");
    html_escape(b, f->reason);
    strbuf_puts(b, "</td></tr>\n");
}

static void rp_trades(strbuf *b, const backtest_result *res)
{
    strbuf_printf(b, "<h2>Trades</h2><div class=\"card\">");
    if (res->nfills > RP_TRADE_ROWS)
        strbuf_printf(b, "<p class=\"note\">%zu fills: the first and last %d are listed (--trades writes them all).</p>",
                      res->nfills, RP_TRADE_ROWS / 2);
    strbuf_printf(b, "<table><thead><tr><th>time (UTC)</th><th>side</th><th>price (%s)</th><th>volume (%s)</th>"
                     "<th>cost</th><th>fee</th><th>realized</th><th style=\"text-align:left\">reason</th></tr>"
                     "</thead><tbody>\n", res->quote, res->base);
    for (size_t i = 0; i < res->nfills; i++) {
        if (res->nfills > RP_TRADE_ROWS && i == RP_TRADE_ROWS / 2) {
            strbuf_printf(b, "<tr><td colspan=\"8\" class=\"note\">&hellip; %zu more &hellip;</td></tr>\n",
                          res->nfills - RP_TRADE_ROWS);
            i = res->nfills - RP_TRADE_ROWS / 2;
        }
        rp_trade_row(b, &res->fills[i]);
    }
    if (!res->nfills) strbuf_puts(b, "<tr><td colspan=\"8\" class=\"note\">no fills</td></tr>\n");
    strbuf_puts(b, "</tbody></table></div>\n");
}

/* What an independent re-computation of these figures has to know. */
static void rp_conventions(strbuf *b)
{
    strbuf_puts(b, "<h2>How the figures are computed</h2><div class=\"card note\"><ul>"
                   "<li>No look-ahead: after a bar closes the strategy sees only closed bars. Market orders fill at the "
                   "next bar's open moved against the order by the slippage, not rounded to the tick; a limit order "
                   "fills at its own price when the next bar trades through it, even when that bar opens better.</li>"
                   "<li>Equity is cash + position &times; close at each close. Exposure is the position's value over "
                   "that equity; time in market counts the closes with a position of at least the pair's ordermin.</li>"
                   "<li>A round trip opens when the position rises from under ordermin and closes when it falls under "
                   "ordermin again; its profit is the average-cost realized PnL of its sells, fees included (each "
                   "sell's proceeds less its fee less the cost basis it releases, buys' fees in that basis).</li>"
                   "<li>Sharpe and Sortino come from per-bar returns of the equity (risk-free rate 0): the mean over "
                   "the sample standard deviation (n&minus;1) for Sharpe, over the downside deviation "
                   "&radic;(&Sigma; min(r, 0)&sup2; / n) for Sortino, each times &radic;(bars per year) with a year of "
                   "365.25 days.</li>"
                   "<li>Buy &amp; hold puts the starting equity into the asset at the first close, with no fees.</li>"
                   "</ul></div>\n");
}

int report_write_html(const backtest_result *res, const backtest_options *opt, const char *path, char *err,
                      size_t errlen)
{
    strbuf b = {0}, title = {0};
    strbuf_printf(&title, "Backtest: %s", res->strategy);
    html_page_begin(&b, strbuf_cstr(&title), NULL);
    strbuf_free(&title);
    rp_head(&b, res, opt);
    rp_kpis(&b, res);
    if (rp_equity(&b, res) != 0 || rp_drawdown(&b, res) != 0) {
        strbuf_free(&b);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rp_price(&b, res);
    rp_monthly(&b, res);
    rp_metrics(&b, res);
    rp_trades(&b, res);
    rp_conventions(&b);
    html_page_end(&b);
    int rc = html_write(&b, path, err, errlen);
    strbuf_free(&b);
    return rc;
}
