/* `titan-host backtest STRATEGY.lua DATA.csv [options]`: parses the options, runs the engine
 * (host/backtest.c) and writes the summary, --json, --trades and --report. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtest.h"
#include "clock.h"
#include "commands.h"
#include "console.h"
#include "kraken.h"
#include "report.h"

/* A date: YYYY-MM-DD (midnight UTC), an ISO-8601 UTC time, or Unix seconds. */
static int cmd_backtest_date(const char *s, int64_t *ms)
{
    char buf[64];
    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        snprintf(buf, sizeof buf, "%sT00:00Z", s);
        return clock_parse_iso(buf, ms);
    }
    if (clock_parse_iso(s, ms) == 0) return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || v < 0) return -1;
    *ms = (int64_t)v * 1000;
    return 0;
}

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
        commands_usage_error("--set '%s' is not NAME=VALUE (a name in the strategy's params table)", text);
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        if (strlen(settings[i].name) == len && strncmp(settings[i].name, text, len) == 0) {
            commands_usage_error("--set %.*s is given twice", (int)len, text);
            return -1;
        }
    }
    if (*n >= BACKTEST_MAX_SET) {
        commands_usage_error("more than %d --set options", BACKTEST_MAX_SET);
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
        commands_usage_error("%s; nothing was done", err);
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
        if (cmd_backtest_date(val, &ms) != 0) {
            commands_usage_error("%s: %s '%s' is not a date (YYYY-MM-DD, ISO-8601 UTC or Unix seconds)", who, a, val);
            return -1;
        }
        if (a[2] == 'f') opt->from_ms = ms;
        else opt->to_ms = ms;
    } else if (!strcmp(a, "--set")) {
        if (cmd_backtest_setting(val, settings, &opt->nparams) != 0) return -1;
    } else if (!strcmp(a, "--interval")) {
        if (cmd_backtest_number(val, 1, &num) != 0 || num != floor(num) || !kraken_valid_interval((int)num)) {
            commands_usage_error("%s: --interval '%s' is not one of Kraken's intervals (1, 5, 15, 30, 60, 240, 1440, "
                                 "10080, 21600 minutes)", who, val);
            return -1;
        }
        opt->interval = (int)num;
    } else if (!strcmp(a, "--cash") || !strcmp(a, "--fee-bps") || !strcmp(a, "--slippage-bps") ||
               !strcmp(a, "--ordermin") || !strcmp(a, "--costmin") || !strcmp(a, "--tick-size") ||
               !strcmp(a, "--lot-decimals") || !strcmp(a, "--pair-decimals")) {
        int is_cash = !strcmp(a, "--cash");
        int is_decimals = strstr(a, "decimals") != NULL;
        if (cmd_backtest_number(val, 0, &num) != 0 || (is_cash && num <= 0) ||
            (is_decimals && (num != floor(num) || num > 12)) || (!is_cash && !is_decimals && num > 1e12) ||
            ((!strcmp(a, "--fee-bps") || !strcmp(a, "--slippage-bps")) && num >= 10000)) {
            commands_usage_error("%s: %s '%s' is not a valid value (see 'titan-host help %s')", who, a, val, who);
            return -1;
        }
        if (is_cash) opt->paper.starting_cash = num;
        else if (!strcmp(a, "--fee-bps")) opt->paper.fee_rate = num / 10000;
        else if (!strcmp(a, "--slippage-bps")) opt->paper.slippage_rate = num / 10000;
        else if (!strcmp(a, "--ordermin")) opt->rules.ordermin = num;
        else if (!strcmp(a, "--costmin")) opt->rules.costmin = num;
        else if (!strcmp(a, "--tick-size")) opt->rules.tick_size = num;
        else if (!strcmp(a, "--lot-decimals")) opt->rules.lot_decimals = (int)num;
        else opt->rules.pair_decimals = (int)num;
    } else {
        return 0;
    }
    return 1;
}

int cmd_backtest(int argc, char **argv)
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
            else return commands_usage_error("backtest: unexpected argument '%s' (see 'titan-host help backtest')", a);
            continue;
        }
        if (!val) return commands_usage_error("backtest: %s needs a value (see 'titan-host help backtest')", a);
        i++;
        int used = cmd_backtest_option("backtest", a, val, &opt, settings);
        if (used < 0) return EXIT_USAGE;
        if (used) continue;
        if (!strcmp(a, "--json")) json = val;
        else if (!strcmp(a, "--trades")) trades = val;
        else if (!strcmp(a, "--report")) report = val;
        else {
            return commands_usage_error("backtest: unknown option '%s' (see 'titan-host help backtest')", a);
        }
    }
    if (!opt.strategy_path || !opt.data_path)
        return commands_usage_error("usage: titan-host backtest STRATEGY.lua DATA.csv [options] (see 'titan-host help "
                                    "backtest')");
    if (opt.from_ms && opt.to_ms && opt.to_ms <= opt.from_ms)
        return commands_usage_error("backtest: --to must be after --from");
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
