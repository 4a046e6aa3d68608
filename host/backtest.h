/* `titan-host backtest`: a strategy over candle history with the same ctx, intent validation,
 * risk gates and paper-fill arithmetic as `run`, with no look-ahead, then metrics. */
#ifndef TITAN_BACKTEST_H
#define TITAN_BACKTEST_H
#include <stddef.h>
#include <stdint.h>

#include "csvdata.h"
#include "intent.h"
#include "paper.h"
#include "risk.h"

typedef struct backtest_options {
    const char *strategy_path;
    const char *data_path;
    int64_t from_ms, to_ms;        /* decide on bars with open time in [from, to); 0 = unbounded */
    paper_config paper;            /* cash, fee, slippage */
    pair_rules rules;
    int progress;                  /* draw a progress bar on stderr */
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
    double bh_return, bh_cagr;               /* buy and hold close[start] -> close[end], no fees */
    int open_at_end;                         /* a round trip still open at the end (not counted) */
} backtest_metrics;

typedef struct backtest_result {
    csvdata data;
    char strategy[80], pair[40], base[16], quote[16];
    int interval;
    size_t start, end;                       /* bars marked: data.bars[start..end] */
    double *equity;                          /* per marked bar: index k is bar start + k (the only
                                                per-bar array: 8 bytes beside the bar's 56) */
    size_t in_market;                        /* marked bars holding a position >= ordermin */
    backtest_fill *fills;
    size_t nfills;
    char **reasons;                          /* the fills' reasons, each text once */
    size_t nreasons;
    int intents[4];                          /* by intent_status */
    size_t limit_unfilled, refused, dropped_at_end;
    risk_caps caps;
    int resampled_from;                      /* data interval before resampling, 0 = none */
    backtest_metrics m;
    double seconds;                          /* engine wall time (not in the JSON) */
    char error[1024];
} backtest_result;

/* Runs the backtest. Returns 0 ok, 1 the strategy failed (error set), 2 usage or bad data
 * (error set, nothing run). The result must be freed with backtest_result_free either way. */
int backtest_run(const backtest_options *opt, backtest_result *res);
void backtest_result_free(backtest_result *res);
/* Metrics from the equity series and fills already in res (called by backtest_run). */
void backtest_compute_metrics(backtest_result *res, double ordermin);

/* Outputs. Each returns 0, or -1 with a message in err. */
int backtest_write_json(const backtest_result *res, const backtest_options *opt, const char *path, char *err,
                        size_t errlen);
int backtest_write_trades(const backtest_result *res, const char *path, char *err, size_t errlen);
void backtest_print_summary(const backtest_result *res, const backtest_options *opt);
#endif
