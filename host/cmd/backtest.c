/* `titan-host backtest STRATEGY.lua DATA.csv [options]`: parses the options, runs the engine
 * (host/backtest.c) and writes the summary, --json, --trades and --report. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtest.h"
#include "backtest_options.h"
#include "clock.h"
#include "cmd.h"
#include "console.h"
#include "kraken.h"
#include "report.h"
#include "settings.h"

static int cmd_backtest_number(const char *s, double min, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min) return -1;
    *out = v;
    return 0;
}

/* --set NAME=VALUE into settings[*n]; a usage error (printed) returns -1. */
int cmd_backtest_setting(const char *text, param_setting *settings, size_t *n)
{
    const char *eq = strchr(text, '=');
    size_t len = eq ? (size_t)(eq - text) : 0;
    if (!eq || len == 0 || len >= sizeof settings->name || strlen(eq + 1) >= sizeof settings->value.text) {
        cmd_usage_error("--set '%s' is not NAME=VALUE (a name in the strategy's params table)", text);
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        if (strlen(settings[i].name) == len && strncmp(settings[i].name, text, len) == 0) {
            cmd_usage_error("--set %.*s is given twice", (int)len, text);
            return -1;
        }
    }
    if (*n >= BACKTEST_MAX_SET) {
        cmd_usage_error("more than %d --set options", BACKTEST_MAX_SET);
        return -1;
    }
    param_setting *s = &settings[(*n)++];
    snprintf(s->name, sizeof s->name, "%.*s", (int)len, text);
    param_value_parse(eq + 1, &s->value);
    return 0;
}

int cmd_backtest_defaults(backtest_options *opt, param_setting *settings)
{
    char err[512];
    memset(opt, 0, sizeof *opt);
    if (paper_config_from_env(&opt->paper, err, sizeof err) != 0) {
        cmd_usage_error("%s; nothing was done", err);
        return -1;
    }
    /* Kraken's XBTUSD rules (AssetPairs); other pairs: pass theirs */
    opt->rules = (pair_rules){.ordermin = 0.0001, .costmin = 0.5, .lot_decimals = 8, .pair_decimals = 1, .tick_size = 0.1};
    opt->params = settings;
    return 0;
}

int cmd_backtest_option(const char *who, const char *a, const char *val, backtest_options *opt,
                        param_setting *settings)
{
    double num = 0;
    if (!strcmp(a, "--from") || !strcmp(a, "--to")) {
        int64_t ms;
        if (cmd_parse_date(val, &ms) != 0) {
            cmd_usage_error("%s: %s '%s' is not a date (YYYY-MM-DD, ISO-8601 UTC or Unix seconds)", who, a, val);
            return -1;
        }
        if (a[2] == 'f') opt->from_ms = ms;
        else opt->to_ms = ms;
    } else if (!strcmp(a, "--set")) {
        if (cmd_backtest_setting(val, settings, &opt->nparams) != 0) return -1;
    } else if (!strcmp(a, "--interval")) {
        if (cmd_backtest_number(val, 1, &num) != 0 || num != floor(num) || !kraken_valid_interval((int)num)) {
            cmd_usage_error("%s: --interval '%s' is not one of Kraken's intervals (1, 5, 15, 30, 60, 240, 1440, "
                                 "10080, 21600 minutes)", who, val);
            return -1;
        }
        opt->interval = (int)num;
    } else if (!strcmp(a, "--cash") || !strcmp(a, "--fee-bps") || !strcmp(a, "--slippage-bps")) {
        /* the rule of the variable each option stands in for */
        const char *var = a[2] == 'c' ? "TITAN_PAPER_CASH" : a[2] == 'f' ? "TITAN_PAPER_FEE_BPS"
                                                                          : "TITAN_PAPER_SLIPPAGE_BPS";
        char err[512];
        if (settings_parse_number(var, a, val, &num, err, sizeof err) != 0) {
            cmd_usage_error("%s: %s (see 'titan-host help %s')", who, err, who);
            return -1;
        }
        if (a[2] == 'c') opt->paper.starting_cash = num;
        else if (a[2] == 'f') opt->paper.fee_rate = num / 10000;
        else opt->paper.slippage_rate = num / 10000;
    } else if (!strcmp(a, "--ordermin") || !strcmp(a, "--costmin") || !strcmp(a, "--tick-size") ||
               !strcmp(a, "--lot-decimals") || !strcmp(a, "--pair-decimals")) {
        int is_decimals = strstr(a, "decimals") != NULL;
        if (cmd_backtest_number(val, 0, &num) != 0 || (is_decimals && (num != floor(num) || num > 12)) ||
            (!is_decimals && num > 1e12)) {
            cmd_usage_error("%s: %s '%s' is not a valid value (see 'titan-host help %s')", who, a, val, who);
            return -1;
        }
        if (!strcmp(a, "--ordermin")) opt->rules.ordermin = num;
        else if (!strcmp(a, "--costmin")) opt->rules.costmin = num;
        else if (!strcmp(a, "--tick-size")) opt->rules.tick_size = num;
        else if (!strcmp(a, "--lot-decimals")) opt->rules.lot_decimals = (int)num;
        else opt->rules.pair_decimals = (int)num;
    } else {
        return 0;
    }
    return 1;
}

static int cmd_backtest(int argc, char **argv)
{
    backtest_options opt;
    char err[512];
    param_setting settings[BACKTEST_MAX_SET];
    if (cmd_backtest_defaults(&opt, settings) != 0) return EXIT_USAGE;
    const char *json = NULL, *trades = NULL, *report = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-' || a[1] == '\0') {
            if (!opt.strategy_path) opt.strategy_path = a;
            else if (!opt.data_path) opt.data_path = a;
            else return cmd_usage_error("backtest: unexpected argument '%s' (see 'titan-host help backtest')", a);
            continue;
        }
        if (!val) return cmd_usage_error("backtest: %s needs a value (see 'titan-host help backtest')", a);
        i++;
        int used = cmd_backtest_option("backtest", a, val, &opt, settings);
        if (used < 0) return EXIT_USAGE;
        if (used) continue;
        if (!strcmp(a, "--json")) json = val;
        else if (!strcmp(a, "--trades")) trades = val;
        else if (!strcmp(a, "--report")) report = val;
        else {
            return cmd_usage_error("backtest: unknown option '%s' (see 'titan-host help backtest')", a);
        }
    }
    if (!opt.strategy_path || !opt.data_path)
        return cmd_usage_error("usage: titan-host backtest STRATEGY.lua DATA.csv [options] (see 'titan-host help "
                                    "backtest')");
    if (opt.from_ms && opt.to_ms && opt.to_ms <= opt.from_ms)
        return cmd_usage_error("backtest: --to must be after --from");
    opt.progress = isatty(STDERR_FILENO);
    /* --json -: stdout carries the JSON alone; the table goes to stderr */
    FILE *table = json && !strcmp(json, "-") ? stderr : stdout;

    backtest_result res;
    int code = backtest_run(&opt, &res);
    if (code != EXIT_OK) {
        console_printf(stderr, "titan-host: backtest: %s\n", res.error);
        if (code == EXIT_USAGE) console_printf(stderr, "titan-host: nothing was run\n");
        backtest_result_free(&res);
        return code;
    }
    backtest_print_summary(table, &res, &opt);
    if (json && backtest_write_json(&res, &opt, json, err, sizeof err) != 0) code = EXIT_USAGE;
    else if (trades && backtest_write_trades(&res, trades, err, sizeof err) != 0) code = EXIT_USAGE;
    else if (report && report_write_html(&res, &opt, report, err, sizeof err) != 0) code = EXIT_USAGE;
    if (code != EXIT_OK) console_printf(stderr, "titan-host: backtest: %s\n", err);
    else {
        if (json && table == stdout) console_printf(stdout, "json      %s\n", json);
        if (trades) console_printf(table, "trades    %s\n", trades);
        if (report) console_printf(table, "report    %s\n", report);
    }
    backtest_result_free(&res);
    return code;
}

const command cmd_backtest_command = {
    "backtest", cmd_backtest,
    "backtest STRATEGY.lua DATA.csv [options]   the strategy over history, offline",
     "usage: titan-host backtest STRATEGY.lua DATA.csv [--from DATE] [--to DATE] [--cash N] [--fee-bps N]\n"
     "                           [--slippage-bps N] [--json FILE|-] [--trades FILE.csv] [--report FILE.html]\n"
     "                           [--set NAME=VALUE]... [--interval MIN]\n"
     "                           [--ordermin N] [--costmin N] [--lot-decimals N] [--pair-decimals N] [--tick-size N]\n\n"
     "Runs the strategy over candle history with the same ctx, intent validation, risk gates (TITAN_MAX_*) and\n"
     "paper-fill arithmetic as `run`, offline (ctx.mode = \"BACKTEST\", ctx.ai empty, ctx.state in memory).\n"
     "No look-ahead: after bar i closes the strategy sees bars up to i; its market orders fill at bar i+1's open\n"
     "moved by the slippage, its limit orders at their price if bar i+1 trades through it (buy: low <= price;\n"
     "sell: high >= price), else they are cancelled. Fees are charged on every fill.\n\n"
     "DATA.csv: Kraken's OHLCVT export (no header: time,open,high,low,close,volume,trades) or a headered CSV\n"
     "(timestamp,open,high,low,close,volume[,...]); times in seconds or milliseconds (headered: also ISO-8601).\n"
     "The interval is the most common step between bars; it must be the strategy's `interval`, or divide it\n"
     "(shorter bars are combined into the strategy's). Gaps are allowed and reported. Unsorted or duplicate\n"
     "times, non-numeric fields, high < low, a truncated last line: an error naming the line, nothing run.\n\n"
     "  --set NAME=VALUE         override an entry of the strategy's `params` table (repeatable); NAME must be\n"
     "                           in params and keep its kind (number, whole for integers; true/false; text)\n"
     "  --interval MIN           run at MIN-minute bars instead of the strategy's `interval` (a Kraken\n"
     "                           interval; the summary warns: periods counted in bars then span other times)\n"
     "  --from DATE, --to DATE   decide on bars opening in [from, to) (YYYY-MM-DD, ISO-8601 or Unix seconds);\n"
     "                           earlier bars are still visible to the strategy as history\n"
     "  --cash N                 starting quote balance (default TITAN_PAPER_CASH or 10000)\n"
     "  --fee-bps N              fee per fill (default TITAN_PAPER_FEE_BPS or 40)\n"
     "  --slippage-bps N         market-order slippage (default TITAN_PAPER_SLIPPAGE_BPS or 5)\n"
     "  --ordermin, --costmin, --lot-decimals, --pair-decimals, --tick-size\n"
     "                           the pair's rules (default Kraken's XBTUSD: 0.0001, 0.5, 8, 1, 0.1)\n"
     "  --json FILE              metrics and settings as JSON (sorted keys, same bytes for the same inputs);\n"
     "                           '-' writes it to stdout, and the table to stderr\n"
     "  --trades FILE.csv        every fill\n"
     "  --report FILE.html       one self-contained page: equity, drawdown, price with trades, metrics, fills\n\n"
     "exit codes: 0 the backtest ran; 1 the strategy failed (a Lua error, a budget, or a return value that\n"
     "is not a list of intents; the bar is named); 2 usage error, bad data, an invalid strategy or an interval\n"
     "mismatch (nothing was run), or an output file could not be written.\n"};
