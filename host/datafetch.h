/* `titan-host data fetch`: Kraken history into a Kraken OHLCVT file (the format `backtest` reads),
 * from the public OHLC endpoint for the recent window or by paging the public Trades endpoint and
 * building candles of any interval. Resumable and incremental: a re-run appends what is new after
 * checking that the file's last row is what Kraken says; the file only ever changes by a complete
 * rename, so a kill at any point leaves the old file or the new one. Polite: one request per
 * pace_ms at most, backing off on rate limits. */
#ifndef TITAN_DATAFETCH_H
#define TITAN_DATAFETCH_H
#include <stddef.h>
#include <stdint.h>

#define DATAFETCH_PACE_MS 1000       /* Kraken's public limit: about one call per second per IP */
#define DATAFETCH_OHLC_ROWS 720      /* the OHLC endpoint's window, the open candle included */

typedef struct datafetch_options {
    const char *pair;                /* as Kraken takes it: XBTUSD, XBT/USD, XXBTZUSD */
    int interval;                    /* minutes, > 0 (the OHLC endpoint only for Kraken's intervals) */
    int64_t since_s, until_s;        /* 0 = unset; until defaults to now */
    const char *out_path;
    int from_trades;                 /* always build from trades */
    int64_t pace_ms;
    int progress, tty;               /* progress on stderr: a bar on a terminal, else lines */
} datafetch_options;

typedef enum { DATAFETCH_NOTHING, DATAFETCH_OHLC, DATAFETCH_TRADES } datafetch_source;

typedef struct datafetch_report {
    datafetch_source source;
    size_t existing_rows, new_rows, requests, rate_limited, trades, gaps;
    int64_t first_new, last_new;     /* open times of the first and last rows appended */
    int overlap_checked;             /* the file's last row matched Kraken's */
    char error[768];
} datafetch_report;

/* Returns 0 (done; maybe nothing new), 1 Kraken or the network failed (rows fetched before are
 * kept: run again to resume), 2 usage or a file that cannot be continued (error set). */
int datafetch_run(const datafetch_options *o, datafetch_report *r);
/* The default file name: the pair without '/', an underscore, the interval: XBTUSD_60.csv. */
void datafetch_default_name(const char *pair, int interval, char *out, size_t len);
#endif
