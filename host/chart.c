/* Page frame and SVG time charts for the HTML pages (chart.h). Prices and equity switch to a log
 * scale when they span 10x or more; ticks are 1-2-5 steps; dates are UTC. */
#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

void chart_escape(strbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': strbuf_puts(b, "&lt;"); break;
        case '>': strbuf_puts(b, "&gt;"); break;
        case '&': strbuf_puts(b, "&amp;"); break;
        case '"': strbuf_puts(b, "&quot;"); break;
        default: strbuf_append(b, s, 1);
        }
    }
}

double chart_x(const chart *c, int64_t t)
{
    double span = (double)(c->t1 - c->t0);
    return CHART_LEFT + (span > 0 ? (double)(t - c->t0) / span : 0.5) * (CHART_W - CHART_LEFT - CHART_RIGHT);
}

double chart_y(const chart *c, double v)
{
    double f;
    if (c->y.log) f = (log(v) - log(c->y.lo)) / (log(c->y.hi) - log(c->y.lo));
    else f = (v - c->y.lo) / (c->y.hi - c->y.lo);
    double h = c->height - CHART_TOP - CHART_BOTTOM;
    return CHART_TOP + h * (1 - f);
}

void chart_fit(chart_axis *a, double lo, double hi, int allow_log)
{
    if (!isfinite(lo) || !isfinite(hi)) lo = hi = 0;
    a->log = allow_log && lo > 0 && hi / lo >= 10;
    if (a->log) { a->lo = lo / 1.05; a->hi = hi * 1.05; return; }
    double pad = (hi - lo) * 0.05;
    if (pad <= 0) pad = fabs(hi) * 0.01 + 1e-9;
    a->lo = lo - pad;
    a->hi = hi + pad;
}

void chart_range(const chart_series *s, double *lo, double *hi)
{
    for (size_t k = 0; k < s->n; k++) {
        double x = s->value(s->ud, k) * s->scale;
        if (!isfinite(x)) continue;
        if (x < *lo) *lo = x;
        if (x > *hi) *hi = x;
    }
}

/* A tick label; `step` (0 on log axes) decides how many digits the ticks need. */
static void chart_number(char *out, size_t len, double v, double step)
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

void chart_frame(strbuf *b, const chart *c, int pct)
{
    int h = c->height;
    strbuf_printf(b, "<svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n",
                  CHART_W, h);
    strbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" stroke=\"#d0d7de\"/>\n", CHART_LEFT,
                  CHART_TOP, CHART_W - CHART_LEFT - CHART_RIGHT, h - CHART_TOP - CHART_BOTTOM);
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
        double y = chart_y(c, ticks[k]);
        char label[32];
        if (pct) chart_number(label, sizeof label, ticks[k] * 100, step * 100), strcat(label, "%");
        else chart_number(label, sizeof label, ticks[k], step);
        strbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>"
                         "<text x=\"%d\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%s</text>\n",
                      CHART_LEFT, CHART_W - CHART_RIGHT, y, y, CHART_LEFT - 6, y + 4, label);
    }
    for (int k = 0; k <= 5; k++) {
        int64_t t = c->t0 + (int64_t)((double)(c->t1 - c->t0) * k / 5);
        char iso[CLOCK_ISO_SIZE];
        clock_iso(t * 1000, iso);
        double x = chart_x(c, t);
        /* dates, or day and time when the whole chart spans less than five days */
        int short_span = c->t1 - c->t0 < 5 * 86400;
        if (short_span) iso[10] = ' ';
        strbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"ax\" text-anchor=\"%s\">%.*s</text>\n", x, h - 8,
                      k == 0 ? "start" : k == 5 ? "end" : "middle", short_span ? 11 : 10, iso + (short_span ? 5 : 0));
    }
    if (c->y.log)
        strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"ax\">log scale</text>\n", CHART_LEFT + 6, CHART_TOP + 14);
}

void chart_line(strbuf *b, const chart *c, const chart_series *s, const char *style)
{
    strbuf_printf(b, "<polyline %s points=\"", style);
    int column = -1;
    double lo = 0, hi = 0;
    size_t lo_k = 0, hi_k = 0;
    for (size_t k = 0; k <= s->n; k++) {
        int col = k < s->n ? (int)chart_x(c, s->time(s->ud, k)) : -2;
        if (col != column && column != -1) {
            /* emit the bucket's extremes in time order */
            size_t a = lo_k < hi_k ? lo_k : hi_k, z = lo_k < hi_k ? hi_k : lo_k;
            double va = a == lo_k ? lo : hi, vz = z == lo_k ? lo : hi;
            strbuf_printf(b, "%.1f,%.1f ", chart_x(c, s->time(s->ud, a)), chart_y(c, va));
            if (z != a) strbuf_printf(b, "%.1f,%.1f ", chart_x(c, s->time(s->ud, z)), chart_y(c, vz));
        }
        if (k == s->n) break;
        double val = s->value(s->ud, k) * s->scale;
        if (col != column) { column = col; lo = hi = val; lo_k = hi_k = k; }
        if (val < lo) { lo = val; lo_k = k; }
        if (val > hi) { hi = val; hi_k = k; }
    }
    strbuf_puts(b, "\"/>\n");
}

void chart_steps(strbuf *b, const chart *c, const chart_series *s, const char *style)
{
    strbuf_printf(b, "<polyline %s points=\"", style);
    for (size_t k = 0; k < s->n; k++) {
        double x = chart_x(c, s->time(s->ud, k)), y = chart_y(c, s->value(s->ud, k) * s->scale);
        if (k > 0) strbuf_printf(b, "%.1f,%.1f ", x, chart_y(c, s->value(s->ud, k - 1) * s->scale));
        strbuf_printf(b, "%.1f,%.1f ", x, y);
        if (k + 1 == s->n) strbuf_printf(b, "%.1f,%.1f ", chart_x(c, c->t1), y);
    }
    strbuf_puts(b, "\"/>\n");
}

void chart_pct(char *out, size_t len, double v)
{
    if (!isfinite(v)) snprintf(out, len, "n/a");
    else if (fabs(v) < 5e-7) snprintf(out, len, "0.00%%");
    else snprintf(out, len, "%+.2f%%", v * 100);
}

void chart_page_begin(strbuf *b, const char *title, const char *extra_css)
{
    strbuf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    chart_escape(b, title);
    strbuf_puts(b, "</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>\n"
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
                   ".up{color:#1a7f37}.down{color:#cf222e}\n"
                   ".ax{font-size:11px;fill:#59636e}.legend{font-size:12px;color:#59636e;margin:4px 0 0}\n"
                   ".sw{display:inline-block;width:18px;height:3px;vertical-align:middle;margin:0 4px 0 12px}\n"
                   ".note{color:#59636e;font-size:12px}\n");
    if (extra_css) strbuf_puts(b, extra_css);
    strbuf_puts(b, "</style></head><body><main>\n");
}

void chart_page_end(strbuf *b) { strbuf_puts(b, "</main></body></html>\n"); }

int chart_write_file(const strbuf *b, const char *path, char *err, size_t errlen)
{
    int rc = 0;
    FILE *f = b->oom ? NULL : fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len) {
        snprintf(err, errlen, "cannot write %s", path);
        rc = -1;
    }
    if (f && fclose(f) != 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %s", path);
        rc = -1;
    }
    return rc;
}
