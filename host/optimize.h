/* `titan-host optimize`: many backtests of one strategy over one data file, each with other values
 * for its params: a grid, or a seeded random sample (trial i depends on the seed and i alone, so a
 * trial set splits into disjoint shards and merges back into exactly one run's result). Trials run
 * in forked workers (host/workpool.c) that reuse the caller's Lua state, through the backtest
 * session (same fills, caps, fees, no look-ahead). With --walk-forward, K consecutive folds:
 * parameters chosen on each fold's training part, scored on its out-of-sample part. */
#ifndef TITAN_OPTIMIZE_H
#define TITAN_OPTIMIZE_H
#include <stddef.h>
#include <stdint.h>

#include "backtest.h"
#include "strategy.h"

#define OPT_MAX_PARAMS 8
#define OPT_MAX_VALUES 1000          /* values of one list or stepped range */
#define OPT_MAX_TRIALS 1000000
#define OPT_MAX_BACKTESTS 2000000    /* trials x folds in one run (their figures are kept in memory) */
#define OPT_MAX_FOLDS 20
#define OPT_ERROR_MAX 200

typedef enum { OBJ_SHARPE, OBJ_SORTINO, OBJ_RETURN, OBJ_CALMAR, OBJ_PROFIT_FACTOR, OBJ_COUNT } opt_objective;
extern const char *const optimize_objective_names[OBJ_COUNT];

/* One --param: a list (A,B,C), a stepped range (LO:HI:STEP, every value) or a plain range (LO:HI:
 * whole numbers when both ends are, for a grid and a sample alike; any real in between for a
 * random sample; refused in a grid otherwise). */
typedef struct opt_param {
    char name[64];
    char spec[160];                  /* as given, for the record (and for the merge to re-read) */
    param_value *values;             /* lists and stepped ranges; NULL for a plain range */
    size_t nvalues;
    double lo, hi;
    int whole;                       /* a plain range of whole numbers */
} opt_param;

/* What one backtest leaves for ranking and the record (counts are doubles: one layout). */
typedef struct opt_metrics {
    double total_return, cagr, sharpe, sortino, calmar, max_drawdown, profit_factor, win_rate;
    double exposure, time_in_market, fees, final_equity, years, round_trips, fills;
} opt_metrics;

typedef struct opt_outcome {
    int failed;                      /* the strategy failed in this backtest: error says how */
    opt_metrics m;
    char error[OPT_ERROR_MAX];
} opt_outcome;

typedef struct optimize_config {
    backtest_options bt;             /* strategy, data, cash, fee, slippage, rules, --interval, --set, caps */
    param_setting set[BACKTEST_MAX_SET];
    risk_caps caps;
    opt_param params[OPT_MAX_PARAMS];
    size_t nparams;
    size_t trials;                   /* --trials N (random); 0 = the whole grid */
    uint64_t seed;
    opt_objective objective;
    int min_trades;                  /* round trips a trial needs to be ranked */
    int folds;                       /* walk-forward folds; 0 = none */
    double train_fraction;
    int jobs;
    int shard_k, shard_n;            /* this run is slice K of N (1-based); 0 = the whole set */
    char strategy_sha256[65], data_sha256[65];
    char strategy_path[1024], data_path[1024];   /* the merge's copies of the shards' paths */
} optimize_config;

/* A fold's ranges: bar indices into the session's data, [from, to). */
typedef struct opt_fold {
    size_t train_from, train_to, test_from, test_to;
    long best;                       /* the trial chosen on the training part; -1 = none qualified */
    double in_sample_objective, out_of_sample_objective;   /* annualized where it matters (see .c) */
    opt_outcome in_sample, out_of_sample;
    double *oos_equity;              /* the test part's equity at each close (report), NULL if none */
    int64_t *oos_t;
    size_t oos_n;
} opt_fold;

typedef struct opt_trial {
    size_t index;                    /* its values: optimize_trial_params(cfg, index) */
    opt_outcome *outcomes;           /* one (the whole period), or one per fold (training parts) */
    int have;                        /* outcomes present (merge: every shard's trial exactly once) */
    int ranked;
    double score;                    /* the objective, or its mean over the folds' training parts */
    size_t rank;                     /* 1-based when ranked */
} opt_trial;

typedef struct optimize_result {
    const optimize_config *cfg;
    backtest_session *session;       /* open while trials or folds may still run */
    char strategy[80];
    int own_interval, interval;
    size_t bars;                     /* bars at the run interval */
    int64_t first_t, last_t;
    size_t ntrials, nranked;
    opt_trial *trials;
    opt_outcome *outcome_block;      /* every trial's outcomes, in one allocation */
    size_t *order;                   /* trial indices: ranked by score, then the rest by index */
    opt_fold folds[OPT_MAX_FOLDS];
    /* walk-forward summary */
    double is_mean, oos_mean, efficiency, oos_return;
    int overfit;
    char warning[320];
} optimize_result;

/* Parses one --param NAME=SPEC. Returns 0, or -1 with the problem in err. */
int optimize_parse_param(const char *text, opt_param *out, char *err, size_t errlen);
void optimize_param_free(opt_param *p);
/* Trials in the set: --trials, or the product of the grid (0 with err set when a plain range of
 * reals is in a grid, or the grid is over OPT_MAX_TRIALS). */
size_t optimize_trial_count(const optimize_config *cfg, char *err, size_t errlen);
/* Trial i's values, in --param order. */
void optimize_trial_params(const optimize_config *cfg, size_t index, param_setting *out);
/* The objective of a backtest's figures; NAN when undefined. annualized: a total return divided
 * by the years it took, so periods of other lengths compare (walk-forward). */
double optimize_objective(opt_objective obj, const opt_metrics *m, int annualized);
/* Folds over bars [start, end] (end inclusive): K equal parts, each split train | test. */
void optimize_folds(opt_fold *folds, int k, double train_fraction, size_t start, size_t end);

/* Runs the trial set (or this shard's slice) on cfg->jobs workers. Returns 0; 1 the run failed
 * (a worker died); 2 usage (bad data, strategy, params). res holds the trials (free it). */
int optimize_run(optimize_config *cfg, optimize_result *res, char *err, size_t errlen);
/* Ranks the trials; with walk-forward, chooses each fold's parameters on its training figures and
 * runs them on its test part (needs the session: opens one). Returns as optimize_run. */
int optimize_finish(optimize_result *res, char *err, size_t errlen);
void optimize_result_free(optimize_result *res);

/* Outputs (host/optimize_io.c). exact: numbers that read back bit for bit (shard files). Each
 * returns 0, or -1 with err set. */
int optimize_write_json(const optimize_result *res, const char *path, char *err, size_t errlen);
int optimize_write_shard(const optimize_result *res, const char *path, char *err, size_t errlen);
int optimize_write_csv(const optimize_result *res, const char *path, char *err, size_t errlen);
void optimize_print_summary(FILE *out, const optimize_result *res);
/* Reads shard files into cfg and res (trials as the shards ran them). Returns 0, or 2 with err
 * set: unreadable, not a shard, shards of different runs, a shard missing or given twice. */
int optimize_read_shards(char **paths, int n, optimize_config *cfg, optimize_result *res, char *err, size_t errlen);
void optimize_config_free(optimize_config *cfg);

/* The HTML report (host/optimize_report.c): ranked table, heatmap of two params (NULL: the first
 * two), the walk-forward's folds and out-of-sample equity. */
int optimize_write_report(const optimize_result *res, const char *path, const char *heat_x, const char *heat_y,
                          char *err, size_t errlen);
#endif
