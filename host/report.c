/* The backtest's HTML report (see report.h). Charts are inline SVG drawn here: long series
 * are reduced to the min and max of each pixel column, so a decade of bars stays a small file
 * with the same shape. Prices and equity switch to a log scale when they span 10x or more. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "strbuf.h"
#include "version.h"

#define RP_W 1000                    /* SVG width in user units */
#define RP_LEFT 74
#define RP_RIGHT 12
#define RP_TOP 12
#define RP_BOTTOM 26
#define RP_TRADE_ROWS 400            /* trade list rows (first and last halves beyond that) */

typedef struct rp_axis {
    double lo, hi;
    int log;
} rp_axis;

typedef struct rp_chart {
    int height;
    int64_t t0, t1;                  /* x range, Unix seconds */
    rp_axis y;
} rp_chart;

static void rp_escape(strbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': strbuf_puts(b, "&lt;"); break;
        case '>': strbuf_puts(b, "&gt;"); break;
        case '&': strbuf_puts(b, "&amp;"); break;
        case '"': strbuf_puts(b, "&quot;"); break;
        default: strbuf_append(b, s, 1);
        }
    }
}

static double rp_x(const rp_chart *c, int64_t t)
{
    double span = (double)(c->t1 - c->t0);
    return RP_LEFT + (span > 0 ? (double)(t - c->t0) / span : 0.5) * (RP_W - RP_LEFT - RP_RIGHT);
}

static double rp_y(const rp_chart *c, double v)
{
    double f;
    if (c->y.log) f = (log(v) - log(c->y.lo)) / (log(c->y.hi) - log(c->y.lo));
    else f = (v - c->y.lo) / (c->y.hi - c->y.lo);
    double h = c->height - RP_TOP - RP_BOTTOM;
    return RP_TOP + h * (1 - f);
}

/* Fits the axis to [lo, hi] with a little room; log when positive and spanning 10x. */
static void rp_fit(rp_axis *a, double lo, double hi, int allow_log)
{
    a->log = allow_log && lo > 0 && hi / lo >= 10;
    if (a->log) { a->lo = lo / 1.05; a->hi = hi * 1.05; return; }
    double pad = (hi - lo) * 0.05;
    if (pad <= 0) pad = fabs(hi) * 0.01 + 1e-9;
    a->lo = lo - pad;
    a->hi = hi + pad;
}

/* A tick label; `step` (0 on log axes) decides how many digits the ticks need. */
static void rp_number(char *out, size_t len, double v, double step)
{
    double a = fabs(v);
    if (step > 0 && step < 1000) {
        int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(out, len, "%.*f", decimals, v);
        return;
    }
    if (a >= 1e6) snprintf(out, len, "%.3gM", v / 1e6);
    else if (a >= 1e4) snprintf(out, len, "%.0fk", v / 1e3);
    else if (a >= 100) snprintf(out, len, "%.0f", v);
    else snprintf(out, len, "%.3g", v);
}

/* Frame, grid, y labels (fmt "pct" for fractions) and x date labels. */
static void rp_frame(strbuf *b, const rp_chart *c, int pct)
{
    int h = c->height;
    strbuf_printf(b, "<svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n",
                  RP_W, h);
    strbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" stroke=\"#d0d7de\"/>\n", RP_LEFT,
                  RP_TOP, RP_W - RP_LEFT - RP_RIGHT, h - RP_TOP - RP_BOTTOM);
    double ticks[16], step = 0;
    int n = 0;
    if (c->y.log) {
        for (double p = pow(10, floor(log10(c->y.lo))); p <= c->y.hi && n < 14; p *= 10) {
            static const double mult[] = {1, 2, 5};
            for (int k = 0; k < 3 && n < 14; k++)
                if (p * mult[k] >= c->y.lo && p * mult[k] <= c->y.hi) ticks[n++] = p * mult[k];
        }
        if (n > 7) {                                   /* too dense: powers of ten only */
            int m = 0;
            for (int k = 0; k < n; k++)
                if (fabs(log10(ticks[k]) - round(log10(ticks[k]))) < 1e-9) ticks[m++] = ticks[k];
            n = m;
        }
    } else {
        double range = c->y.hi - c->y.lo, raw = range / 5, mag = pow(10, floor(log10(raw)));
        step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        for (double v = ceil(c->y.lo / step) * step; v <= c->y.hi && n < 14; v += step) ticks[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    }
    for (int k = 0; k < n; k++) {
        double y = rp_y(c, ticks[k]);
        char label[32];
        if (pct) rp_number(label, sizeof label, ticks[k] * 100, step * 100), strcat(label, "%");
        else rp_number(label, sizeof label, ticks[k], step);
        strbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>"
                         "<text x=\"%d\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%s</text>\n",
                      RP_LEFT, RP_W - RP_RIGHT, y, y, RP_LEFT - 6, y + 4, label);
    }
    for (int k = 0; k <= 5; k++) {
        int64_t t = c->t0 + (int64_t)((double)(c->t1 - c->t0) * k / 5);
        char iso[CLOCK_ISO_SIZE];
        clock_iso(t * 1000, iso);
        double x = rp_x(c, t);
        /* dates, or day and time when the whole chart spans less than five days */
        int short_span = c->t1 - c->t0 < 5 * 86400;
        if (short_span) iso[10] = ' ';
        strbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"ax\" text-anchor=\"%s\">%.*s</text>\n", x, h - 8,
                      k == 0 ? "start" : k == 5 ? "end" : "middle", short_span ? 11 : 10, iso + (short_span ? 5 : 0));
    }
    if (c->y.log)
        strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"ax\">log scale</text>\n", RP_LEFT + 6, RP_TOP + 14);
}

/* A polyline of values v[k] at times t(bar start + k), reduced to min/max per pixel column. */
static void rp_series(strbuf *b, const rp_chart *c, const backtest_result *res, const double *v, double scale,
                      const char *style)
{
    size_t n = res->end - res->start + 1;
    const csv_bar *bars = res->data.bars + res->start;
    strbuf_printf(b, "<polyline %s points=\"", style);
    int column = -1;
    double lo = 0, hi = 0;
    size_t lo_k = 0, hi_k = 0;
    for (size_t k = 0; k <= n; k++) {
        int col = k < n ? (int)rp_x(c, bars[k].t) : -2;
        if (col != column && column != -1) {
            /* emit the bucket's extremes in time order */
            size_t a = lo_k < hi_k ? lo_k : hi_k, z = lo_k < hi_k ? hi_k : lo_k;
            double va = a == lo_k ? lo : hi, vz = z == lo_k ? lo : hi;
            strbuf_printf(b, "%.1f,%.1f ", rp_x(c, bars[a].t), rp_y(c, va));
            if (z != a) strbuf_printf(b, "%.1f,%.1f ", rp_x(c, bars[z].t), rp_y(c, vz));
        }
        if (k == n) break;
        double val = v ? v[k] * scale : bars[k].c * scale;
        if (col != column) { column = col; lo = hi = val; lo_k = hi_k = k; }
        if (val < lo) { lo = val; lo_k = k; }
        if (val > hi) { hi = val; hi_k = k; }
    }
    strbuf_puts(b, "\"/>\n");
}

static void rp_range(const backtest_result *res, const double *v, double scale, double *lo, double *hi)
{
    size_t n = res->end - res->start + 1;
    const csv_bar *bars = res->data.bars + res->start;
    for (size_t k = 0; k < n; k++) {
        double x = v ? v[k] * scale : bars[k].c * scale;
        if (x < *lo) *lo = x;
        if (x > *hi) *hi = x;
    }
}

static void rp_metric_row(strbuf *b, const char *name, const char *strategy, const char *bh)
{
    strbuf_printf(b, "<tr><th>%s</th><td>%s</td><td>%s</td></tr>\n", name, strategy, bh);
}

static void rp_pct(char *out, size_t len, double v)
{
    if (!isfinite(v)) snprintf(out, len, "n/a");
    else if (fabs(v) < 5e-7) snprintf(out, len, "0.00%%");
    else snprintf(out, len, "%+.2f%%", v * 100);
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
    rp_escape(b, f->reason);
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
    strbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Backtest: ");
    rp_escape(&b, res->strategy);
    strbuf_puts(&b, "</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>\n"
                    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
                    "color:#1f2328;background:#f6f8fa;margin:0}\n"
                    "main{max-width:1080px;margin:0 auto;padding:24px}\n"
                    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}\n"
                    ".sub{color:#59636e;margin:0 0 16px}\n"
                    ".card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;margin:0 0 12px}\n"
                    ".kpis{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 12px}\n"
                    ".kpi{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;flex:1;min-width:110px}\n"
                    ".kpi b{display:block;font-size:20px}.kpi span{color:#59636e;font-size:12px}\n"
                    "table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;"
                    "text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
                    "th:first-child,td:first-child{text-align:left}td.why{text-align:left;color:#59636e;font-size:12px;white-space:normal}\n"
                    "thead th{color:#59636e;font-weight:600}\n"
                    ".up{color:#1a7f37}.down{color:#cf222e}tr.b td:nth-child(2){color:#1a7f37}"
                    "tr.s td:nth-child(2){color:#cf222e}\n"
                    ".ax{font-size:11px;fill:#59636e}.legend{font-size:12px;color:#59636e;margin:4px 0 0}\n"
                    ".sw{display:inline-block;width:18px;height:3px;vertical-align:middle;margin:0 4px 0 12px}\n"
                    ".note{color:#59636e;font-size:12px}\n"
                    "</style></head><body><main>\n<h1>Backtest: ");
    rp_escape(&b, res->strategy);
    strbuf_puts(&b, " on ");
    rp_escape(&b, res->pair);                          /* the quote is one of a fixed list: no escaping */
    strbuf_printf(&b, ", %d-minute bars</h1>\n<p class=\"sub\">", res->interval);
    clock_iso(bars[res->start].t * 1000, a);
    clock_iso(bars[res->end].t * 1000, z);
    strbuf_printf(&b, "%.16s &ndash; %.16s UTC &middot; %zu bars (%.2f years) &middot; ", a, z, n, m->years);
    rp_escape(&b, opt->strategy_path);
    strbuf_puts(&b, " on ");
    rp_escape(&b, opt->data_path);
    strbuf_printf(&b, "<br>cash %.2f %s &middot; fee %.4g bps &middot; slippage %.4g bps &middot; max order %.10g, "
                      "max position %.10g %s &middot; titan-host %s</p>\n",
                  opt->paper.starting_cash, res->quote, opt->paper.fee_rate * 10000, opt->paper.slippage_rate * 10000,
                  res->caps.max_order_quote, res->caps.max_position_quote, res->quote, TITAN_VERSION);

    /* headline figures */
    strbuf_puts(&b, "<div class=\"kpis\">");
    rp_pct(x, sizeof x, m->total_return);
    strbuf_printf(&b, "<div class=\"kpi\"><b class=\"%s\">%s</b><span>total return</span></div>",
                  m->total_return >= 0 ? "up" : "down", x);
    rp_pct(x, sizeof x, m->bh_return);
    strbuf_printf(&b, "<div class=\"kpi\"><b>%s</b><span>buy &amp; hold</span></div>", x);
    rp_pct(x, sizeof x, -m->max_drawdown);
    strbuf_printf(&b, "<div class=\"kpi\"><b class=\"down\">%s</b><span>max drawdown</span></div>", x);
    if (isfinite(m->sharpe)) snprintf(x, sizeof x, "%.2f", m->sharpe);
    else snprintf(x, sizeof x, "n/a");
    strbuf_printf(&b, "<div class=\"kpi\"><b>%s</b><span>Sharpe</span></div>", x);
    strbuf_printf(&b, "<div class=\"kpi\"><b>%zu</b><span>round trips (%zu fills)</span></div>", m->round_trips, m->fills);
    strbuf_printf(&b, "<div class=\"kpi\"><b>%.2f</b><span>fees paid (%s)</span></div></div>\n", m->fees, res->quote);

    /* equity on its own scale: buy & hold would flatten a strategy that trades a small part of
     * its cash (its figures are in the table) */
    rp_chart c = {.height = 280, .t0 = bars[res->start].t, .t1 = bars[res->end].t};
    double lo = INFINITY, hi = -INFINITY;
    rp_range(res, res->equity, 1, &lo, &hi);
    rp_fit(&c.y, lo, hi, 1);
    strbuf_puts(&b, "<h2>Equity</h2><div class=\"card\">\n");
    rp_frame(&b, &c, 0);
    strbuf_printf(&b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#8c959f\" stroke-dasharray=\"4 3\"/>\n",
                  RP_LEFT, RP_W - RP_RIGHT, rp_y(&c, m->start_equity), rp_y(&c, m->start_equity));
    rp_series(&b, &c, res, res->equity, 1, "fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.6\"");
    rp_pct(x, sizeof x, m->bh_return);
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
    rp_chart d = {.height = 170, .t0 = c.t0, .t1 = c.t1};
    rp_fit(&d.y, worst < 0 ? worst : -0.01, 0, 0);
    d.y.hi = 0.0;
    strbuf_puts(&b, "<h2>Drawdown</h2><div class=\"card\">\n");
    rp_frame(&b, &d, 1);
    rp_series(&b, &d, res, dd, 1, "fill=\"none\" stroke=\"#cf222e\" stroke-width=\"1.2\"");
    free(dd);
    if (m->max_drawdown > 0) {
        double x0 = rp_x(&d, m->dd_peak_t), x1 = rp_x(&d, m->dd_recovered_t ? m->dd_recovered_t : d.t1);
        strbuf_printf(&b, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#cf222e\" opacity=\"0.07\"/>\n",
                      x0, RP_TOP, x1 - x0 > 1 ? x1 - x0 : 1, d.height - RP_TOP - RP_BOTTOM);
    }
    clock_iso(m->dd_peak_t * 1000, a);
    clock_iso(m->dd_trough_t * 1000, z);
    rp_pct(x, sizeof x, -m->max_drawdown);
    strbuf_printf(&b, "</svg>\n<p class=\"legend\">deepest: %s", x);
    if (m->max_drawdown > 0) {
        strbuf_printf(&b, " from the peak of %.10s to %.10s", a, z);
        if (m->dd_recovered_t) strbuf_printf(&b, ", recovered %.10s", clock_iso(m->dd_recovered_t * 1000, a));
        else strbuf_puts(&b, ", not recovered by the end");
        strbuf_puts(&b, " (shaded)");
    }
    strbuf_puts(&b, "</p></div>\n");

    /* price with the fills */
    rp_chart p = {.height = 320, .t0 = c.t0, .t1 = c.t1};
    lo = INFINITY, hi = -INFINITY;
    rp_range(res, NULL, 1, &lo, &hi);
    rp_fit(&p.y, lo, hi, 1);
    strbuf_printf(&b, "<h2>Price and trades</h2><div class=\"card\">\n");
    rp_frame(&b, &p, 0);
    rp_series(&b, &p, res, NULL, 1, "fill=\"none\" stroke=\"#57606a\" stroke-width=\"1\"");
    int s = res->nfills > 300 ? 2 : 4;                 /* smaller markers when there are many */
    for (size_t i = 0; i < res->nfills; i++) {
        const backtest_fill *f = &res->fills[i];
        double fx = rp_x(&p, f->t), fy = rp_y(&p, f->price);
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
    rp_pct(x, sizeof x, m->total_return);
    rp_pct(y, sizeof y, m->bh_return);
    rp_metric_row(&b, "total return", x, y);
    rp_pct(x, sizeof x, m->cagr);
    rp_pct(y, sizeof y, m->bh_cagr);
    rp_metric_row(&b, "CAGR", x, y);
    snprintf(x, sizeof x, "%.2f", m->final_equity);
    snprintf(y, sizeof y, "%.2f", m->start_equity * (1 + m->bh_return));
    rp_metric_row(&b, "final equity", x, y);
    rp_pct(x, sizeof x, -m->max_drawdown);
    rp_metric_row(&b, "max drawdown", x, "");
    snprintf(x, sizeof x, isfinite(m->sharpe) ? "%.2f" : "n/a", m->sharpe);
    rp_metric_row(&b, "Sharpe (annualized)", x, "");
    snprintf(x, sizeof x, isfinite(m->sortino) ? "%.2f" : "n/a", m->sortino);
    rp_metric_row(&b, "Sortino (annualized)", x, "");
    rp_pct(x, sizeof x, m->win_rate);
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
    rp_pct(x, sizeof x, m->time_in_market);
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
                    "at their price when the next bar trades through it. Equity is marked at each close.</p>\n"
                    "</main></body></html>\n");
    int rc = 0;
    FILE *f = b.oom ? NULL : fopen(path, "wb");
    if (!f || fwrite(b.data, 1, b.len, f) != b.len) {
        snprintf(err, errlen, "cannot write %s", path);
        rc = -1;
    }
    if (f && fclose(f) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %s", path);
        rc = -1;
    }
    strbuf_free(&b);
    return rc;
}
