/* Inline SVG time-series charts and the page frame of the self-contained HTML pages (the backtest
 * and optimize reports, the status page): no scripts, no external resources. Long series are
 * reduced to the min and max of each pixel column, so a decade of bars stays a small file. */
#ifndef TITAN_CHART_H
#define TITAN_CHART_H
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define CHART_W 1000                 /* SVG width in user units */
#define CHART_LEFT 84
#define CHART_RIGHT 12
#define CHART_TOP 12
#define CHART_BOTTOM 44

typedef struct chart_axis {
    double lo, hi;
    int log;
} chart_axis;

typedef struct chart {
    int height;
    int64_t t0, t1;                  /* x range, Unix seconds (UTC) */
    chart_axis y;
    int pct;                         /* y values are fractions, labelled in % */
    const char *y_title;             /* with its unit, e.g. "equity (USD)" */
} chart;

/* A series: n points, point k at time *(int64_t *)(t + k * t_stride), value *(double *)(v + k *
 * v_stride) times scale (strides in bytes, so arrays of structs work as they are). Times are
 * Unix seconds, or milliseconds when t_ms is set (the store's records). */
typedef struct chart_series_data {
    const void *t;
    size_t t_stride;
    int t_ms;
    const void *v;
    size_t v_stride;
    size_t n;
    double scale;
} chart_series_data;

/* Fits the axis to [lo, hi] with a little room; log when positive, allowed and spanning 10x. */
void chart_fit(chart_axis *a, double lo, double hi, int allow_log);
/* Widens [*lo, *hi] to hold the series. */
void chart_range(const chart_series_data *s, double *lo, double *hi);
double chart_x(const chart *c, int64_t t);
double chart_y(const chart *c, double v);
/* <svg> with the frame, the y grid and labels, ticks at month boundaries (or hours, days,
 * quarters, years as the span asks), and both axis titles. */
void chart_begin(strbuf *b, const chart *c);
/* A polyline of the series, min/max per pixel column; `style` holds its SVG attributes. */
void chart_series(strbuf *b, const chart *c, const chart_series_data *s, const char *style);
/* A step line: each value holds until the next point's time, the last one until t1. */
void chart_steps(strbuf *b, const chart *c, const chart_series_data *s, const char *style);
void chart_hline(strbuf *b, const chart *c, double v, const char *style);
void chart_end(strbuf *b);

/* HTML text, escaped. */
void html_escape(strbuf *b, const char *s);
/* The page head (title escaped, shared CSS plus extra_css) and <main>; the end closes both. */
void html_page_begin(strbuf *b, const char *title, const char *extra_css);
void html_page_end(strbuf *b);
/* "up" for > 0, "down" for < 0, "" otherwise: a class that colours a figure by its sign. */
const char *html_sign_class(double v);
/* Writes the page to path; 0, or -1 with err set. */
int html_write(const strbuf *b, const char *path, char *err, size_t errlen);
#endif
