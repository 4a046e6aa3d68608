/* Candles from trades, as Kraken builds its OHLCVT export: UTC-aligned buckets of any number of
 * minutes; open = first trade, high, low, close = last trade, volume summed, count of trades; a
 * bucket without trades is a gap (no row). Streaming: feed trades page by page, take the candles
 * that no later trade can change. */
#ifndef TITAN_CANDLES_H
#define TITAN_CANDLES_H
#include <stddef.h>
#include <stdint.h>

typedef struct trade {
    double t;                        /* Unix seconds, with Kraken's fraction */
    double price, volume;
} trade;

typedef struct candle {
    int64_t t;                       /* bucket open time, Unix seconds */
    double o, h, l, c;
    double v, v_error;               /* volume as a compensated sum (Neumaier): v + v_error */
    int64_t n;                       /* trades */
} candle;

typedef struct candle_builder {
    int64_t step;                    /* bucket length, seconds */
    int64_t from, until;             /* emit buckets opening at >= from and ending at <= until (0 = no end) */
    candle cur;
    int has_cur;
    double last_t;                   /* the previous trade's time: trades come in time order */
    int reached_until;               /* a trade at or after `until` arrived: nothing more to build */
    candle *done;                    /* completed candles not taken yet */
    size_t ndone, cap;
} candle_builder;

void candles_init(candle_builder *b, int interval_min, int64_t from_s, int64_t until_s);
/* Adds n trades. Returns 0; -1 on out of memory; -2 when trade *bad (index) is not a trade
 * (time not finite, price <= 0, negative volume) or is earlier than the one before it. */
int candles_add(candle_builder *b, const trade *trades, size_t n, size_t *bad);
/* Completes the bucket in progress if it ended at or before t (no trade can land in it any more:
 * the feed has caught up to t). Returns -1 on out of memory. */
int candles_close_before(candle_builder *b, int64_t t);
/* Moves the completed candles out: *out (the caller frees it) and *n; the builder keeps going. */
void candles_take(candle_builder *b, candle **out, size_t *n);
void candles_free(candle_builder *b);

/* One Kraken OHLCVT row, "time,open,high,low,close,volume,trades\n": numbers in plain decimals,
 * up to 15 significant digits (a decimal price reads back as itself). Returns the length. */
int candles_format_row(const candle *c, char *out, size_t len);
/* A number as candles_format_row writes it. */
char *candles_format_number(double v, char out[48]);
#endif
