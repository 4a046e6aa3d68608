/* What the HTML pages share (the backtest report, the status page): one self-contained page
 * frame (inline CSS, no scripts, no network) and inline SVG time charts whose long series are
 * reduced to the min and max of each pixel column. */
#ifndef TITAN_CHART_H
#define TITAN_CHART_H
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define CHART_W 1000                 /* SVG width in user units */
#define CHART_LEFT 74
#define CHART_RIGHT 12
#define CHART_TOP 12
#define CHART_BOTTOM 26

typedef struct chart_axis {
    double lo, hi;
    int log;
} chart_axis;

typedef struct chart {
    int height;
    int64_t t0, t1;                  /* x range, Unix seconds */
    chart_axis y;
} chart;

/* A series of n values at times, read through the accessors (so any array of structs can be
 * drawn without copying); value(k) is multiplied by scale. */
typedef struct chart_series {
    size_t n;
    int64_t (*time)(const void *ud, size_t k);   /* Unix seconds */
    double (*value)(const void *ud, size_t k);
    const void *ud;
    double scale;
} chart_series;

/* HTML-escapes s (<, >, &, ") into b. */
void chart_escape(strbuf *b, const char *s);
double chart_x(const chart *c, int64_t t);
double chart_y(const chart *c, double v);
/* Fits the axis to [lo, hi] with a little room; log when positive and spanning 10x. */
void chart_fit(chart_axis *a, double lo, double hi, int allow_log);
/* The series' smallest and largest value, folded into *lo and *hi. */
void chart_range(const chart_series *s, double *lo, double *hi);
/* Opens the <svg>: frame, grid, y labels (percent when pct: values are fractions), x date labels. */
void chart_frame(strbuf *b, const chart *c, int pct);
/* A polyline of the series, min/max per pixel column; `style` holds its SVG attributes. */
void chart_line(strbuf *b, const chart *c, const chart_series *s, const char *style);
/* A step line: each value holds until the next time, the last until t1. */
void chart_steps(strbuf *b, const chart *c, const chart_series *s, const char *style);
/* "+1.23%" ("n/a" when not finite; "0.00%" for a zero). */
void chart_pct(char *out, size_t len, double v);
/* The page up to <main> (title escaped, the shared style sheet plus `extra_css`) and its end. */
void chart_page_begin(strbuf *b, const char *title, const char *extra_css);
void chart_page_end(strbuf *b);
/* Writes the page to path: 0, or -1 with "cannot write PATH" in err. */
int chart_write_file(const strbuf *b, const char *path, char *err, size_t errlen);
#endif
