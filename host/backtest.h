/* `titan-host backtest`: a strategy over candle history with the same ctx, intent validation,
 * risk gates and paper-fill arithmetic as `run`, with no look-ahead, then metrics. */
#ifndef TITAN_BACKTEST_H
#define TITAN_BACKTEST_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "csvdata.h"
#include "intent.h"
#include "paper.h"
#include "risk.h"
#include "strategy.h"

#define BACKTEST_MAX_SET 64          /* --set options in one command */

typedef struct backtest_options {
    const char *strategy_path;
    const char *data_path;
    int64_t from_ms, to_ms;        /* decide on bars with open time in [from, to); 0 = unbounded */
    paper_config paper;            /* cash, fee, slippage */
    pair_rules rules;
    int progress;                  /* draw a progress bar on stderr */
    int interval;                  /* run at this interval (minutes), not the strategy's own; 0 = its own */
    const param_setting *params;   /* --set: entries of the strategy's params table to override */
    size_t nparams;
    const risk_caps *caps;         /* the host caps to use; NULL = from the environment (TITAN_MAX_*) */
    int quiet;                     /* no blackbox event per backtest (the optimizer runs thousands) */
} backtest_options;

typedef struct backtest_fill {
    int64_t t;                     /* fill time (the open of the bar it filled in), Unix seconds */
    int64_t decided_t;             /* close time of the bar whose decision it was, Unix seconds */
    order_side side;
    order_type type;
    double price, volume, cost, fee, realized_pnl;
    double cash_after, position_after;
    const char *reason;            /* the intent's reason (owned by the result, shared by equal ones) */
} backtest_fill;

typedef struct backtest_metrics {
    double start_equity, final_equity;
    double total_return, cagr, years;        /* NAN when undefined */
    double max_drawdown;                     /* fraction, >= 0 */
    int64_t dd_peak_t, dd_trough_t, dd_recovered_t;   /* Unix seconds; recovered 0 = not yet */
    double sharpe, sortino;                  /* annualized from the bar interval; NAN when undefined */
    size_t round_trips, wins, losses;
    double win_rate, profit_factor;          /* NAN when undefined */
    double gross_profit, gross_loss;
    size_t fills, buys, sells;
    double fees;
    double time_in_market;                   /* fraction of bars with a position >= ordermin */
    double exposure_avg, exposure_max;       /* position value / equity at the closes: mean, maximum */
    double bh_return, bh_cagr;               /* buy and hold close[start] -> close[end], no fees */
    int open_at_end;                         /* a round trip still open at the end (not counted) */
} backtest_metrics;

typedef struct backtest_session backtest_session;

typedef struct backtest_result {
    csvdata data;                            /* the session's bars (shared: not freed with the result) */
    char strategy[80], pair[40], base[16], quote[16];
    int interval;                            /* the bars it ran on, minutes */
    int own_interval;                        /* the strategy's `interval` (differs with --interval) */
    size_t start, end;                       /* bars marked: data.bars[start..end] */
    double *equity;                          /* per marked bar: index k is bar start + k (the only
                                                per-bar array: 8 bytes beside the bar's 56) */
    size_t in_market;                        /* marked bars holding a position >= ordermin */
    double exposure_sum, exposure_max;       /* position value / equity at the marked closes */
    backtest_fill *fills;
    size_t nfills;
    char **reasons;                          /* the fills' reasons, each text once */
    size_t nreasons;
    int intents[4];                          /* by intent_status */
    int rejected_by[RISK_REJECT_COUNT];      /* rejected intents by reason */
    size_t limit_unfilled, refused, dropped_at_end;
    risk_caps caps;
    int resampled_from;                      /* data interval before resampling, 0 = none */
    backtest_metrics m;
    double seconds;                          /* engine wall time (not in the JSON) */
    char error[1024];
    backtest_session *owner;                 /* closed with the result (backtest_run) */
} backtest_result;

/* A session loads the data and the strategy once and runs any number of backtests over them in
 * one Lua state: each run executes the strategy file afresh (no state leaks from one run to the
 * next), applies the params overrides, and decides on bars [from, to). Returns 0, or 2 (usage,
 * bad data, invalid strategy, interval mismatch: err set, *out NULL). The options must outlive
 * the session. */
int backtest_session_open(const backtest_options *opt, backtest_session **out, char *err, size_t errlen);
/* One backtest: opt->params, then `params` (n of them) override the strategy's params; from/to
 * as in backtest_options (0 = unbounded). Returns 0 ok, 1 the strategy failed, 2 a bad override
 * or an empty range (error set). res->data is the session's: free res before closing it. */
int backtest_session_run(backtest_session *s, const param_setting *params, size_t n, int64_t from_ms, int64_t to_ms,
                         backtest_result *res);
void backtest_session_close(backtest_session *s);
/* Checks that params (n) apply to the strategy (names in its params, kinds kept) without running
 * a backtest. Returns 0, or -1 with the problem in err. */
int backtest_session_check_params(backtest_session *s, const param_setting *params, size_t n, char *err,
                                  size_t errlen);
/* The loaded bars (already at the run interval) and the strategy's name and own interval. */
const csvdata *backtest_session_data(const backtest_session *s);
const char *backtest_session_strategy(const backtest_session *s, int *own_interval, int *interval);

/* Runs one backtest (a session opened and closed for it). Returns as backtest_session_run; the
 * result must be freed with backtest_result_free either way. */
int backtest_run(const backtest_options *opt, backtest_result *res);
void backtest_result_free(backtest_result *res);
/* Metrics from the equity series and fills already in res (called by backtest_run). */
void backtest_compute_metrics(backtest_result *res, double ordermin);

/* Outputs. Each returns 0, or -1 with a message in err. */
int backtest_write_json(const backtest_result *res, const backtest_options *opt, const char *path, char *err,
                        size_t errlen);
int backtest_write_trades(const backtest_result *res, const char *path, char *err, size_t errlen);
/* The human table, to `out` (stdout, or stderr when the JSON goes to stdout). */
void backtest_print_summary(FILE *out, const backtest_result *res, const backtest_options *opt);
#endif
