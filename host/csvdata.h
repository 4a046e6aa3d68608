/* Candle history for `backtest`: a Kraken OHLCVT CSV (no header) or a headered CSV, read in
 * blocks into bars (the text is not kept), validated row by row (errors name the line), with the
 * bar interval inferred. */
#ifndef TITAN_CSVDATA_H
#define TITAN_CSVDATA_H
#include <stddef.h>
#include <stdint.h>

typedef struct csv_bar {
    int64_t t;                  /* bar open time, Unix seconds (as Kraken's OHLC `t`) */
    double o, h, l, c, v;
    double trades;              /* 0 when the file has no trades column */
} csv_bar;

typedef struct csvdata {
    csv_bar *bars;
    size_t count;
    int interval_min;           /* most common step between bars, minutes */
    int headered;               /* 1: headered CSV; 0: Kraken OHLCVT */
    int millis;                 /* times were in milliseconds */
    size_t gaps;                /* steps longer than the interval */
    size_t missing;             /* bars missing in those gaps */
    int64_t largest_gap_from, largest_gap_to;   /* open times around the largest gap */
} csvdata;

/* Loads and validates `path` (a UTF-8 byte order mark is skipped). On error returns -1 with
 * "FILE:LINE: what" in err and nothing allocated. Unsorted or duplicate times, fields that are
 * not plain decimals (hex, inf, nan, junk), a column named twice in the header, high < low,
 * open/close outside low..high, non-positive prices, prices above 1e12, negative volume or
 * volume above 1e15, a truncated last line are all errors. */
int csvdata_load(const char *path, csvdata *out, char *err, size_t errlen);
/* Aggregates bars into buckets of `minutes` (a multiple of the data's interval) aligned to
 * UTC like Kraken's candles. Returns -1 (err set) when it is not a multiple. */
int csvdata_resample(csvdata *d, int minutes, char *err, size_t errlen);
/* Recomputes gaps/missing for d->interval_min. */
void csvdata_scan_gaps(csvdata *d);
void csvdata_free(csvdata *d);
#endif
