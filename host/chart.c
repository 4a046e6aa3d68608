/* SVG charts and the HTML page frame of the reports (see chart.h). */
#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"

static const char *const chart_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

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

static int64_t chart_t(const chart_series_data *s, size_t k)
{
    int64_t t = *(const int64_t *)((const char *)s->t + k * s->t_stride);
    return s->t_ms ? t / 1000 : t;
}

static double chart_v(const chart_series_data *s, size_t k)
{
    return *(const double *)((const char *)s->v + k * s->v_stride) * s->scale;
}

void chart_range(const chart_series_data *s, double *lo, double *hi)
{
    for (size_t k = 0; k < s->n; k++) {
        double x = chart_v(s, k);
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

static void chart_y_ticks(strbuf *b, const chart *c)
{
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
        for (double v = ceil(c->y.lo / step) * step; v <= c->y.hi && n < 14; v += step)
            ticks[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    }
    for (int k = 0; k < n; k++) {
        double y = chart_y(c, ticks[k]);
        char label[40];
        if (c->pct) {
            chart_number(label, sizeof label - 1, ticks[k] * 100, step * 100);
            strcat(label, "%");
        } else {
            chart_number(label, sizeof label, ticks[k], step);
        }
        strbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>"
                         "<text x=\"%d\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%s</text>\n",
                      CHART_LEFT, CHART_W - CHART_RIGHT, y, y, CHART_LEFT - 6, y + 4, label);
    }
}

/* The start of the calendar unit after t: a step of `minutes` within the day (aligned to
 * midnight UTC), or a month stepped by `months`. */
static int64_t chart_next_boundary(int64_t t, int minutes, int months)
{
    if (minutes > 0) {
        int64_t step = (int64_t)minutes * 60;
        return (t >= 0 ? t / step : (t - step + 1) / step) * step + step;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mday = 1;
    int index = tm.tm_year * 12 + tm.tm_mon;
    index = (index / months + 1) * months;            /* aligned: quarters start in Jan, Apr, ... */
    tm.tm_year = index / 12;
    tm.tm_mon = index % 12;
    return (int64_t)timegm(&tm);
}

/* Vertical ticks at calendar boundaries: minutes or hours (a status page a few cycles old) under
 * two days, days under two months, else months (or every 3, 6, 12, 24... months); at most about
 * 14 are labelled. A tick at midnight says the day, one on the 1st of January the year. */
static void chart_x_ticks(strbuf *b, const chart *c)
{
    static const int minute_steps[] = {5, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 4320, 7200, 14400};
    static const int month_steps[] = {1, 3, 6, 12, 24, 60, 120};
    int64_t span = c->t1 - c->t0;
    int minutes = 0, months = 120;
    if (span < 62 * 86400) {
        minutes = minute_steps[sizeof minute_steps / sizeof minute_steps[0] - 1];
        for (size_t i = 0; i < sizeof minute_steps / sizeof minute_steps[0]; i++)
            if (span / (minute_steps[i] * 60) <= 14) { minutes = minute_steps[i]; break; }
    } else {
        double spanned = (double)span / (30.44 * 86400);
        for (size_t i = 0; i < sizeof month_steps / sizeof month_steps[0]; i++)
            if (spanned / month_steps[i] <= 14) { months = month_steps[i]; break; }
    }
    int y0 = CHART_TOP, y1 = c->height - CHART_BOTTOM;
    for (int64_t t = chart_next_boundary(c->t0 - 1, minutes, months); t <= c->t1;
         t = chart_next_boundary(t, minutes, months)) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char label[16];
        int midnight = tm.tm_hour == 0 && tm.tm_min == 0;
        if (minutes && !midnight) snprintf(label, sizeof label, "%02d:%02d", tm.tm_hour, tm.tm_min);
        else if (minutes) snprintf(label, sizeof label, "%s %d", chart_months[tm.tm_mon], tm.tm_mday);
        else if (tm.tm_mon == 0 || months >= 12) snprintf(label, sizeof label, "%d", tm.tm_year + 1900);
        else snprintf(label, sizeof label, "%s", chart_months[tm.tm_mon]);
        double x = chart_x(c, t);
        int bold_line = minutes ? midnight && minutes < 1440 : tm.tm_mon == 0;
        strbuf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\"/>"
                         "<text x=\"%.1f\" y=\"%d\" class=\"ax%s\" text-anchor=\"middle\">%s</text>\n",
                      x, x, y0, y1 + 4, bold_line ? "#d0d7de" : "#f0f2f4", x, y1 + 16, bold_line ? " yr" : "", label);
    }
}

void chart_begin(strbuf *b, const chart *c)
{
    int h = c->height;
    strbuf_printf(b, "<svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n",
                  CHART_W, h);
    strbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" stroke=\"#d0d7de\"/>\n",
                  CHART_LEFT, CHART_TOP, CHART_W - CHART_LEFT - CHART_RIGHT, h - CHART_TOP - CHART_BOTTOM);
    chart_x_ticks(b, c);
    chart_y_ticks(b, c);
    double mid = CHART_TOP + (h - CHART_TOP - CHART_BOTTOM) / 2.0;
    strbuf_printf(b, "<text x=\"14\" y=\"%.1f\" class=\"at\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">",
                  mid, mid);
    html_escape(b, c->y_title ? c->y_title : "");
    if (c->y.log) strbuf_puts(b, ", log scale");
    strbuf_printf(b, "</text>\n<text x=\"%d\" y=\"%d\" class=\"at\" text-anchor=\"middle\">time (UTC)</text>\n",
                  CHART_LEFT + (CHART_W - CHART_LEFT - CHART_RIGHT) / 2, h - 6);
}

void chart_series(strbuf *b, const chart *c, const chart_series_data *s, const char *style)
{
    strbuf_printf(b, "<polyline %s points=\"", style);
    int column = -1;
    double lo = 0, hi = 0;
    size_t lo_k = 0, hi_k = 0;
    for (size_t k = 0; k <= s->n; k++) {
        int col = k < s->n ? (int)chart_x(c, chart_t(s, k)) : -2;
        if (col != column && column != -1) {
            /* emit the column's extremes in time order */
            size_t a = lo_k < hi_k ? lo_k : hi_k, z = lo_k < hi_k ? hi_k : lo_k;
            double va = a == lo_k ? lo : hi, vz = z == lo_k ? lo : hi;
            strbuf_printf(b, "%.1f,%.1f ", chart_x(c, chart_t(s, a)), chart_y(c, va));
            if (z != a) strbuf_printf(b, "%.1f,%.1f ", chart_x(c, chart_t(s, z)), chart_y(c, vz));
        }
        if (k == s->n) break;
        double val = chart_v(s, k);
        if (col != column) { column = col; lo = hi = val; lo_k = hi_k = k; }
        if (val < lo) { lo = val; lo_k = k; }
        if (val > hi) { hi = val; hi_k = k; }
    }
    strbuf_puts(b, "\"/>\n");
}

void chart_steps(strbuf *b, const chart *c, const chart_series_data *s, const char *style)
{
    strbuf_printf(b, "<polyline %s points=\"", style);
    for (size_t k = 0; k < s->n; k++) {
        double x = chart_x(c, chart_t(s, k)), y = chart_y(c, chart_v(s, k));
        if (k > 0) strbuf_printf(b, "%.1f,%.1f ", x, chart_y(c, chart_v(s, k - 1)));
        strbuf_printf(b, "%.1f,%.1f ", x, y);
        if (k + 1 == s->n) strbuf_printf(b, "%.1f,%.1f ", chart_x(c, c->t1), y);
    }
    strbuf_puts(b, "\"/>\n");
}

void chart_hline(strbuf *b, const chart *c, double v, const char *style)
{
    double y = chart_y(c, v);
    strbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" %s/>\n", CHART_LEFT, CHART_W - CHART_RIGHT, y, y,
                  style);
}

void chart_end(strbuf *b) { strbuf_puts(b, "</svg>\n"); }

/* ---- the page ------------------------------------------------------------------------------ */

void html_escape(strbuf *b, const char *s)
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

const char *html_sign_class(double v)
{
    return !isfinite(v) || fabs(v) < 5e-7 ? "" : v > 0 ? "up" : "down";
}

void html_page_begin(strbuf *b, const char *title, const char *extra_css)
{
    strbuf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    html_escape(b, title);
    strbuf_puts(b, "</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>\n"
                   "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
                   "color:#1f2328;background:#f6f8fa;margin:0}\n"
                   "main{max-width:1080px;margin:0 auto;padding:24px}\n"
                   "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}\n"
                   ".sub{color:#59636e;margin:0 0 16px}\n"
                   ".card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;margin:0 0 12px;"
                   "overflow-x:auto}\n"
                   ".kpis{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 12px}\n"
                   ".kpi{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;flex:1;min-width:110px}\n"
                   ".kpi b{display:block;font-size:20px}.kpi span{color:#59636e;font-size:12px}\n"
                   "table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;"
                   "text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
                   "th:first-child,td:first-child{text-align:left}td.why{text-align:left;color:#59636e;font-size:12px;"
                   "white-space:normal}\n"
                   "thead th{color:#59636e;font-weight:600}\n"
                   ".up{color:#1a7f37}.down{color:#cf222e}\n"
                   ".ax{font-size:11px;fill:#59636e}.ax.yr{font-weight:600}.at{font-size:12px;fill:#1f2328}\n"
                   ".legend{font-size:12px;color:#59636e;margin:4px 0 0}\n"
                   ".sw{display:inline-block;width:18px;height:3px;vertical-align:middle;margin:0 4px 0 12px}\n"
                   ".note{color:#59636e;font-size:12px}.warn{color:#9a6700;font-weight:600}\n");
    if (extra_css) strbuf_puts(b, extra_css);
    strbuf_puts(b, "</style></head><body><main>\n");
}

void html_page_end(strbuf *b) { strbuf_puts(b, "</main></body></html>\n"); }

int html_write(const strbuf *b, const char *path, char *err, size_t errlen)
{
    if (b->oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return jsonw_write_file(path, b->data, b->len, err, errlen);
}
