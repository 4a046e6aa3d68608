/* `titan-host optimize STRATEGY DATA --param ... [options]` and `optimize --merge SHARD...`: the
 * options, then host/optimize.c's engine, then the files (host/optimize_io.c, optimize_report.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "backtest_options.h"
#include "codec.h"
#include "console.h"
#include "optimize.h"
#include "workpool.h"

static const char cmd_optimize_synopsis[] =
    "optimize STRATEGY.lua DATA.csv --param ... [options]   sweep params, walk-forward; --merge shards";

static const char cmd_optimize_help[] =
    "usage: titan-host optimize STRATEGY.lua DATA.csv --param NAME=LO:HI[:STEP] | NAME=A,B,C ... [--trials N]\n"
    "           [--seed S] [--objective sharpe|sortino|return|calmar|profit_factor] [--min-trades N]\n"
    "           [--walk-forward K[:TRAIN_FRACTION]] [--jobs N] [--shard K/N] [--json FILE|-] [--csv FILE]\n"
    "           [--report FILE.html] [--heatmap X,Y] [backtest options]\n"
    "       titan-host optimize --merge SHARD.json... [--json FILE|-] [--csv FILE] [--report FILE.html] [--heatmap X,Y]\n\n"
    "Runs the strategy over DATA once per trial, each with other values in its `params` table, through the\n"
    "backtest engine (same fills, caps, fees, no look-ahead; the backtest options --from, --to, --cash,\n"
    "--fee-bps, --slippage-bps, --interval, --set and the pair rules apply to every trial), and ranks them.\n"
    "  --param NAME=A,B,C        these values (numbers, true/false or text)\n"
    "  --param NAME=LO:HI:STEP   LO, LO+STEP, ... up to HI\n"
    "  --param NAME=LO:HI        whole numbers when LO and HI are; else (random search only) any real between\n"
    "  --trials N                a seeded random sample of N trials (default: the whole grid, every combination,\n"
    "                            the last --param varying fastest); trial i depends on the seed and i alone\n"
    "  --seed S                  the sample's seed, 0 to 2^53-1 (default 1)\n"
    "  --objective NAME          what ranks the trials (default sharpe): sharpe, sortino (annualized),\n"
    "                            return (total), calmar (annualized return / max drawdown), profit_factor\n"
    "  --min-trades N            round trips a trial needs to be ranked (default 5); fewer: listed, not ranked\n"
    "  --walk-forward K[:F]      K consecutive folds (2..20), each split into a training part (fraction F,\n"
    "                            default 0.7) and the test part after it: each fold's parameters are the best\n"
    "                            on its training part alone, then run on its test part. The result shows the\n"
    "                            in-sample and out-of-sample figures side by side, the parameters per fold and\n"
    "                            the test parts' equity chained, and warns when out-of-sample is under half of\n"
    "                            in-sample (overfitting). Trials are ranked by their mean training score.\n"
    "  --jobs N                  worker processes (default: one per core); the result is the same for any N\n"
    "  --shard K/N               run only trials K-1, K-1+N, ... (slice K of N) and write them with --json;\n"
    "                            --merge SHARD.json... combines all N into exactly the result one run gives\n"
    "  --json FILE               every trial and the choice, sorted keys, the same bytes for the same inputs;\n"
    "                            '-' writes it to stdout, and the table to stderr\n"
    "  --csv FILE                one row per trial (per fold's training part with --walk-forward)\n"
    "  --report FILE.html        one self-contained page: ranked trials, a heatmap of the best score over two\n"
    "                            params (--heatmap X,Y; default the first two --param), the walk-forward's folds\n"
    "                            and out-of-sample equity\n\n"
    "Workers are forked processes, each reusing one Lua state (the strategy file runs afresh for each trial).\n"
    "Progress on stderr: a bar with the time left on a terminal, a line every 10 s otherwise.\n\n"
    "exit codes: 0 done; 1 a worker process died, or the walk-forward's out-of-sample runs failed; 2 usage\n"
    "error, bad data, an invalid strategy, a --param its params table does not have, shards that do not\n"
    "belong together, or an output that could not be written.\n";

static int cmd_optimize_count(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || !end || *end || errno || v < lo || v > hi) return -1;
    *out = (long)v;
    return 0;
}

typedef struct cmd_optimize_files {
    const char *json, *csv, *report;
    char heat_x[64], heat_y[64];
} cmd_optimize_files;

/* Options that both a run and a merge take; 1 used, 0 not one, -1 usage error (printed). */
static int cmd_optimize_output(const char *a, const char *val, cmd_optimize_files *out)
{
    if (!strcmp(a, "--json")) out->json = val;
    else if (!strcmp(a, "--csv")) out->csv = val;
    else if (!strcmp(a, "--report")) out->report = val;
    else if (!strcmp(a, "--heatmap")) {
        const char *comma = strchr(val, ',');
        if (!comma || comma == val || !comma[1] || (size_t)(comma - val) >= sizeof out->heat_x ||
            strlen(comma + 1) >= sizeof out->heat_y) {
            cmd_usage_error("optimize: --heatmap '%s' is not X,Y (two --param names)", val);
            return -1;
        }
        snprintf(out->heat_x, sizeof out->heat_x, "%.*s", (int)(comma - val), val);
        snprintf(out->heat_y, sizeof out->heat_y, "%s", comma + 1);
    } else {
        return 0;
    }
    return 1;
}

static int cmd_optimize_write(const optimize_result *res, const cmd_optimize_files *out)
{
    char err[512];
    FILE *table = out->json && !strcmp(out->json, "-") ? stderr : stdout;
    optimize_print_summary(table, res);
    int rc = 0;
    if (out->json && optimize_write_json(res, out->json, err, sizeof err) != 0) rc = -1;
    else if (out->csv && optimize_write_csv(res, out->csv, err, sizeof err) != 0) rc = -1;
    else if (out->report && optimize_write_report(res, out->report, out->heat_x[0] ? out->heat_x : NULL,
                                                  out->heat_y[0] ? out->heat_y : NULL, err, sizeof err) != 0) rc = -1;
    if (rc != 0) {
        console_printf(stderr, "titan-host: optimize: %s\n", err);
        return EXIT_USAGE;
    }
    if (out->json && table == stdout) console_printf(stdout, "json      %s\n", out->json);
    if (out->csv) console_printf(table, "csv       %s\n", out->csv);
    if (out->report) console_printf(table, "report    %s\n", out->report);
    return EXIT_OK;
}

static int cmd_optimize_merge(int argc, char **argv, int first)
{
    cmd_optimize_files out = {0};
    char **shards = calloc((size_t)argc, sizeof *shards);
    int n = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') { shards[n++] = argv[i]; continue; }
        if (i + 1 >= argc) { free(shards); return cmd_usage_error("optimize: %s needs a value", a); }
        int used = cmd_optimize_output(a, argv[++i], &out);
        if (used <= 0) {
            free(shards);
            return used < 0 ? EXIT_USAGE : cmd_usage_error("optimize --merge: '%s' is not an option of a merge", a);
        }
    }
    if (n == 0) {
        free(shards);
        return cmd_usage_error("usage: titan-host optimize --merge SHARD.json... [--json FILE] [--csv FILE] "
                                    "[--report FILE.html]");
    }
    optimize_config cfg;
    memset(&cfg, 0, sizeof cfg);
    optimize_result res;
    char err[768] = "";
    int code = optimize_read_shards(shards, n, &cfg, &res, err, sizeof err);
    free(shards);
    if (code == EXIT_OK && cfg.folds) {
        /* the out-of-sample runs need the very strategy and data the shards ran on */
        char sha[65];
        if (codec_file_sha256(cfg.bt.strategy_path, sha) != 0 || strcmp(sha, cfg.strategy_sha256) != 0 ||
            codec_file_sha256(cfg.bt.data_path, sha) != 0 || strcmp(sha, cfg.data_sha256) != 0) {
            snprintf(err, sizeof err, "the walk-forward's test runs need %s and %s as the shards ran them: one is "
                     "missing or has changed (sha256 differs)", cfg.bt.strategy_path, cfg.bt.data_path);
            code = EXIT_USAGE;
        }
    }
    if (code == EXIT_OK) code = optimize_finish(&res, err, sizeof err);
    if (code == EXIT_OK) code = cmd_optimize_write(&res, &out);
    else console_printf(stderr, "titan-host: optimize: %s\n", err);
    optimize_result_free(&res);
    optimize_config_free(&cfg);
    return code;
}

/* The options of a run (not a merge): 1 used, 0 not one of them, -1 usage error (printed). */
static int cmd_optimize_option(const char *a, const char *val, optimize_config *cfg)
{
    static const struct { const char *name; long lo, hi; } counts[] = {
        {"--trials", 1, OPT_MAX_TRIALS}, {"--min-trades", 0, 1000000}, {"--jobs", 1, WORKPOOL_MAX_JOBS}};
    char err[512];
    long n = 0;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        if (strcmp(a, counts[i].name) != 0) continue;
        if (cmd_optimize_count(val, counts[i].lo, counts[i].hi, &n) != 0) {
            cmd_usage_error("optimize: %s '%s' is not a whole number from %ld to %ld", a, val, counts[i].lo,
                                 counts[i].hi);
            return -1;
        }
        if (i == 0) cfg->trials = (size_t)n;
        else if (i == 1) cfg->min_trades = (int)n;
        else cfg->jobs = (int)n;
        return 1;
    }
    if (!strcmp(a, "--param")) {
        if (cfg->nparams >= OPT_MAX_PARAMS) {
            cmd_usage_error("optimize: at most %d --param", OPT_MAX_PARAMS);
            return -1;
        }
        if (optimize_parse_param(val, &cfg->params[cfg->nparams], err, sizeof err) != 0) {
            cmd_usage_error("optimize: %s", err);
            return -1;
        }
        cfg->nparams++;
    } else if (!strcmp(a, "--seed")) {
        char *end = NULL;
        errno = 0;
        unsigned long long s = strtoull(val, &end, 10);
        if (!*val || *end || errno || val[0] == '-' || s > 9007199254740991ULL) {
            cmd_usage_error("optimize: --seed '%s' is not a whole number from 0 to 2^53-1", val);
            return -1;
        }
        cfg->seed = s;
    } else if (!strcmp(a, "--objective")) {
        int found = -1;
        for (int o = 0; o < OBJ_COUNT; o++)
            if (!strcmp(val, optimize_objective_names[o])) found = o;
        if (found < 0) {
            cmd_usage_error("optimize: --objective '%s' is not sharpe, sortino, return, calmar or profit_factor", val);
            return -1;
        }
        cfg->objective = (opt_objective)found;
    } else if (!strcmp(a, "--walk-forward")) {
        char k[32];
        const char *colon = strchr(val, ':');
        snprintf(k, sizeof k, "%.*s", colon ? (int)(colon - val) : (int)strlen(val), val);
        double f = 0.7;
        char *end = NULL;
        if (colon) f = strtod(colon + 1, &end);
        if (cmd_optimize_count(k, 2, OPT_MAX_FOLDS, &n) != 0 || (colon && (!colon[1] || *end || !(f > 0 && f < 1)))) {
            cmd_usage_error("optimize: --walk-forward '%s' is not K[:TRAIN_FRACTION] (K 2 to %d, the fraction "
                                 "between 0 and 1)", val, OPT_MAX_FOLDS);
            return -1;
        }
        cfg->folds = (int)n;
        cfg->train_fraction = f;
    } else if (!strcmp(a, "--shard")) {
        long k = 0, of = 0;
        char left[32];
        const char *slash = strchr(val, '/');
        snprintf(left, sizeof left, "%.*s", slash ? (int)(slash - val) : 0, val);
        if (!slash || cmd_optimize_count(left, 1, 10000, &k) != 0 || cmd_optimize_count(slash + 1, 1, 10000, &of) != 0 ||
            k > of) {
            cmd_usage_error("optimize: --shard '%s' is not K/N with 1 <= K <= N", val);
            return -1;
        }
        cfg->shard_k = (int)k;
        cfg->shard_n = (int)of;
    } else {
        return 0;
    }
    return 1;
}

/* Refusals that need every option: what is missing, and combinations that cannot work. */
static int cmd_optimize_check(const optimize_config *cfg, const cmd_optimize_files *out)
{
    if (!cfg->bt.strategy_path || !cfg->bt.data_path || !cfg->nparams)
        return cmd_usage_error("usage: titan-host optimize STRATEGY.lua DATA.csv --param NAME=SPEC... [options] "
                                    "(see 'titan-host help optimize')");
    if (cfg->bt.from_ms && cfg->bt.to_ms && cfg->bt.to_ms <= cfg->bt.from_ms)
        return cmd_usage_error("optimize: --to must be after --from");
    if (cfg->shard_n && !out->json)
        return cmd_usage_error("optimize: --shard writes its trials with --json FILE (for --merge)");
    if (cfg->shard_n && (out->csv || out->report))
        return cmd_usage_error("optimize: a shard writes --json only; --csv and --report come from --merge");
    return EXIT_OK;
}

static int cmd_optimize(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--merge")) {
            if (i != 1) return cmd_usage_error("optimize: --merge comes first: optimize --merge SHARD.json...");
            return cmd_optimize_merge(argc, argv, 2);
        }
    optimize_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return EXIT_FAILED;
    cmd_optimize_files out = {0};
    int code = EXIT_USAGE;
    char err[768];
    if (cmd_backtest_defaults(&cfg->bt, cfg->set) != 0) goto done;
    cfg->seed = 1;
    cfg->min_trades = 5;
    cfg->objective = OBJ_SHARPE;
    cfg->jobs = workpool_cores();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            if (!cfg->bt.strategy_path) cfg->bt.strategy_path = a;
            else if (!cfg->bt.data_path) cfg->bt.data_path = a;
            else { cmd_usage_error("optimize: unexpected argument '%s' (see 'titan-host help optimize')", a); goto done; }
            continue;
        }
        if (!val) { cmd_usage_error("optimize: %s needs a value (see 'titan-host help optimize')", a); goto done; }
        i++;
        int used = cmd_backtest_option("optimize", a, val, &cfg->bt, cfg->set);
        if (!used) used = cmd_optimize_output(a, val, &out);
        if (!used) used = cmd_optimize_option(a, val, cfg);
        if (used < 0) goto done;
        if (!used) {
            cmd_usage_error("optimize: unknown option '%s' (see 'titan-host help optimize')", a);
            goto done;
        }
    }
    if (cmd_optimize_check(cfg, &out) != EXIT_OK) goto done;
    if (risk_caps_from_env(&cfg->caps, err, sizeof err) != 0) {
        cmd_usage_error("%s; nothing was done", err);
        goto done;
    }
    optimize_result res;
    err[0] = '\0';
    code = optimize_run(cfg, &res, err, sizeof err);
    if (code == EXIT_OK && cfg->shard_n) {
        if (optimize_write_shard(&res, out.json, err, sizeof err) != 0) code = EXIT_USAGE;
        else {
            size_t mine = 0;
            for (size_t i = 0; i < res.ntrials; i++) mine += res.trials[i].have;
            console_printf(!strcmp(out.json, "-") ? stderr : stdout,
                           "optimize: shard %d/%d: %zu of %zu trials written to %s (merge every shard with "
                           "'titan-host optimize --merge')\n", cfg->shard_k, cfg->shard_n, mine, res.ntrials, out.json);
        }
    } else if (code == EXIT_OK) {
        code = optimize_finish(&res, err, sizeof err);
        if (code == EXIT_OK) code = cmd_optimize_write(&res, &out);
    }
    if (code != EXIT_OK && err[0]) console_printf(stderr, "titan-host: optimize: %s\n", err);
    optimize_result_free(&res);
done:
    optimize_config_free(cfg);
    free(cfg);
    return code;
}

const command cmd_optimize_command = {"optimize", cmd_optimize, cmd_optimize_synopsis, cmd_optimize_help};
