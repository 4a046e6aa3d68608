/* A strategy's account read back from the store, offline: its recent cycles with what each
 * decided, its equity over time, its fills and its book now. `status` shows it; the daily
 * notification summarizes one UTC day of it. Nothing here talks to Kraken. */
#ifndef TITAN_HISTORY_H
#define TITAN_HISTORY_H
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define HISTORY_MAX_CYCLES 1000      /* Supabase answers at most 1000 rows by default */
#define HISTORY_TEXT_SIZE 240

/* One recorded cycle, as read from its row and its decision record. Numbers not recorded are NaN. */
typedef struct history_cycle {
    char cycle_id[200], status[16], mode[8];
    int64_t started_ms, finished_ms;
    int accepted, resized, rejected;     /* intents by verdict */
    int fills;                           /* orders that executed */
    int unknown_orders;                  /* orders whose fate is unknown */
    double price, cash, position;        /* decision.prices.last; decision.portfolio (the book the
                                            strategy decided on) moved by the cycle's fills */
    double ai_cost_usd;                  /* decision.strategy.ai.cost_usd (0 when none) */
    char ai[HISTORY_TEXT_SIZE];          /* the AI's part: its summary, "skipped: spend_cap", or "" */
    char error[HISTORY_TEXT_SIZE];
} history_cycle;

/* A fill: PAPER from the ledger's paper_fills, LIVE from the executed orders of the records. */
typedef struct history_fill {
    int64_t t_ms;
    char cycle_id[200], side[8];
    double volume, price, cost, fee, realized_pnl;
    char reason[HISTORY_TEXT_SIZE];
} history_fill;

/* Equity at one recorded cycle: cash + position x the cycle's last price. */
typedef struct history_point {
    int64_t t_ms;
    double equity, position, price;
} history_point;

typedef struct history {
    char strategy[200], mode[8], pair[40], quote[32];
    history_cycle *cycles;               /* most recent first, at most HISTORY_MAX_CYCLES */
    size_t ncycles;
    history_cycle *in_doubt;             /* cycles recorded in_doubt, not yet reconciled (newest first) */
    size_t n_in_doubt;
    history_point *points;               /* oldest first: the cycles that recorded a portfolio */
    size_t npoints;
    history_fill *fills;                 /* oldest first */
    size_t nfills;
    int fills_complete;                  /* every fill of the strategy was read (PAPER) */
    /* the book now (PAPER: the ledger; LIVE: the latest record) */
    double cash, position, price;        /* price: the last recorded one, NaN when none */
    int64_t price_ms;
    double equity, position_value, cost_basis, realized_pnl, fees;
    double initial_equity;               /* PAPER: the ledger's starting cash; LIVE: the first point */
    double ai_spend_today_usd;
    int have_book;                       /* cash and position are known */
} history;

/* Reads the strategy's history up to now_ms. 0, or -1 with err (the store failed). */
int history_load(store *st, const char *strategy, int64_t now_ms, history *h, char *err, size_t errlen);
void history_free(history *h);
/* Equity just before t_ms: the latest point before it, else the initial equity (NaN when unknown). */
double history_equity_before(const history *h, int64_t t_ms);
/* Equity now minus equity just before t_ms (t_ms 0: minus the initial equity); NaN when unknown. */
double history_change_since(const history *h, int64_t t_ms);
/* AI spend recorded by the cycles started in [from_ms, to_ms). */
double history_ai_spend(const history *h, int64_t from_ms, int64_t to_ms);
/* The strategies with cycles in the store, most recently active first (at most `max`), as one
 * malloc'd array of names (free each, then the array). */
int history_strategies(store *st, char ***names, size_t *n, size_t max, char *err, size_t errlen);
#endif
