/* `titan-host divergence [--strategy NAME] [--since DATE] [--limit N] [--json]`: Kraken's fills of
 * LIVE orders against the paper model recorded beside them (divergence.c), from the store. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cmd.h"
#include "console.h"
#include "divergence.h"
#include "orders.h"
#include "store.h"
#include "strbuf.h"

#define DIVERGENCE_DEFAULT_LIMIT 1000

/* "+4.95" or "n/a". */
static const char *cmd_divergence_bps(double v, char out[32])
{
    if (isnan(v)) snprintf(out, 32, "n/a");
    else snprintf(out, 32, "%+.2f", fabs(v) < 0.005 ? 0.0 : v);
    return out;
}

static void cmd_divergence_print(const char *name, const divergence_stats *s)
{
    char a[32], b[32], c[32];
    console_printf(stdout, "%s: %zu LIVE order%s with a paper model, %zu filled by Kraken (%zu market, %zu limit order%s)\n",
                   name, s->orders, s->orders == 1 ? "" : "s", s->filled, s->market_filled, s->limits,
                   s->limits == 1 ? "" : "s");
    if (s->priced)
        console_printf(stdout, "  slippage vs the model: mean %s bps, median %s bps, worst %s bps (%zu fill%s)\n",
                       cmd_divergence_bps(s->slip_mean_bps, a), cmd_divergence_bps(s->slip_median_bps, b),
                       cmd_divergence_bps(s->slip_worst_bps, c), s->priced, s->priced == 1 ? "" : "s");
    else
        console_printf(stdout, "  slippage vs the model: n/a (no fill the model also filled)\n");
    if (s->priced)
        console_printf(stdout, "  fees: model %.2f bps, Kraken %.2f bps (difference %s bps, %+.8g in quote)\n",
                       s->fee_model_bps, s->fee_actual_bps, cmd_divergence_bps(s->fee_diff_bps, a), s->fee_diff_quote);
    if (s->limits)
        console_printf(stdout, "  limit orders: Kraken filled %.1f%% of the volume asked, the model %.1f%%\n",
                       s->limit_fill_ratio * 100, s->limit_model_fill_ratio * 100);
    if (s->market_filled)
        console_printf(stdout, "  backtest: --slippage-bps %.1f (market fills against the last trade price: mean %s bps)\n",
                       s->backtest_slippage_bps, cmd_divergence_bps(s->ref_slip_mean_bps, a));
}

static int cmd_divergence_name_cmp(const void *a, const void *b) { return strcmp(a, b); }

static void cmd_divergence_json(strbuf *b, const char *key, const char *name, const divergence_stats *s)
{
    strbuf_json_raw(b, key, "{");
    if (name) strbuf_json_str(b, "strategy", name);
    strbuf_json_int(b, "orders", (long long)s->orders);
    strbuf_json_int(b, "filled", (long long)s->filled);
    strbuf_json_int(b, "market_filled", (long long)s->market_filled);
    strbuf_json_int(b, "limit_orders", (long long)s->limits);
    strbuf_json_int(b, "compared", (long long)s->priced);
    strbuf_json_num(b, "slippage_mean_bps", s->slip_mean_bps);
    strbuf_json_num(b, "slippage_median_bps", s->slip_median_bps);
    strbuf_json_num(b, "slippage_worst_bps", s->slip_worst_bps);
    strbuf_json_num(b, "fee_model_bps", s->fee_model_bps);
    strbuf_json_num(b, "fee_kraken_bps", s->fee_actual_bps);
    strbuf_json_num(b, "fee_difference_bps", s->fee_diff_bps);
    strbuf_json_num(b, "fee_difference_quote", s->fee_diff_quote);
    strbuf_json_num(b, "limit_fill_ratio", s->limit_fill_ratio);
    strbuf_json_num(b, "limit_model_fill_ratio", s->limit_model_fill_ratio);
    strbuf_json_num(b, "market_slippage_vs_last_bps", s->ref_slip_mean_bps);
    strbuf_json_num(b, "backtest_slippage_bps", s->backtest_slippage_bps);
    strbuf_puts(b, "}");
}

static int cmd_divergence(int argc, char **argv)
{
    const char *strategy = NULL;
    int64_t since_ms = 0;
    long limit = DIVERGENCE_DEFAULT_LIMIT;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (a[0] != '-')
            return cmd_usage_error("divergence: unexpected argument '%s' (see 'titan-host help divergence')", a);
        if (!val) return cmd_usage_error("divergence: %s needs a value (see 'titan-host help divergence')", a);
        i++;
        char *end = NULL;
        if (!strcmp(a, "--strategy")) strategy = val;
        else if (!strcmp(a, "--since")) {
            if (cmd_parse_date(val, &since_ms) != 0)
                return cmd_usage_error("divergence: --since '%s' is not a date (YYYY-MM-DD, ISO-8601 UTC or Unix "
                                       "seconds)", val);
        } else if (!strcmp(a, "--limit")) {
            limit = strtol(val, &end, 10);
            if (!end || *end || limit < 1 || limit > 100000)
                return cmd_usage_error("divergence: --limit must be a whole number from 1 to 100000");
        } else return cmd_usage_error("divergence: unknown option '%s' (see 'titan-host help divergence')", a);
    }
    store *st = cmd_open_store();
    if (!st) return EXIT_USAGE;
    store_cycle *rows = NULL;
    size_t n = 0;
    char err[1024];
    if (store_list_cycles(st, (int)limit, strategy, NULL, &rows, &n, err, sizeof err) != STORE_OK) {
        store_close(st);
        return cmd_usage_error("divergence: cannot read the cycles: %s", err);
    }
    store_close(st);
    divergence_set set = {0};
    char names[64][80];
    size_t n_names = 0;
    int code = EXIT_OK;
    for (size_t i = 0; i < n && code == EXIT_OK; i++) {
        if (!rows[i].mode || strcmp(rows[i].mode, "LIVE") != 0 || rows[i].started_ms < since_ms) continue;
        order_list orders;
        if (order_list_parse(rows[i].orders_json, &orders) != 0) continue;   /* unreadable: nothing to measure */
        size_t before = set.n;
        if (divergence_add(&set, rows[i].strategy, &orders) != 0) code = EXIT_FAILED;
        order_list_free(&orders);
        int known = 0;
        for (size_t k = 0; k < n_names; k++) known |= strcmp(names[k], rows[i].strategy) == 0;
        if (!known && set.n > before && n_names < 64) snprintf(names[n_names++], sizeof names[0], "%s", rows[i].strategy);
    }
    store_cycles_free(rows, n);
    if (code != EXIT_OK) {
        divergence_set_free(&set);
        return console_error("divergence: out of memory"), EXIT_FAILED;
    }
    qsort(names, n_names, sizeof names[0], cmd_divergence_name_cmp);   /* by name, not by recency */
    divergence_stats all;
    divergence_compute(&set, NULL, &all);
    if (json) {
        strbuf b = {0};
        strbuf_puts(&b, "{");
        strbuf_json_int(&b, "live_cycles", (long long)set.cycles);
        strbuf_json_raw(&b, "strategies", "[");
        for (size_t k = 0; k < n_names; k++) {
            divergence_stats s;
            divergence_compute(&set, names[k], &s);
            cmd_divergence_json(&b, NULL, names[k], &s);
        }
        strbuf_puts(&b, "]");
        cmd_divergence_json(&b, "overall", NULL, &all);
        strbuf_puts(&b, "}\n");
        if (!b.oom) console_write(stdout, b.data, b.len);
        strbuf_free(&b);
    } else if (all.orders == 0) {
        console_printf(stdout, "divergence: no LIVE order with a paper model in the %zu LIVE cycle%s read (orders "
                               "placed by this version record one)\n", set.cycles, set.cycles == 1 ? "" : "s");
    } else {
        console_printf(stdout, "divergence of Kraken's fills from the paper model, %zu LIVE cycle%s read\n", set.cycles,
                       set.cycles == 1 ? "" : "s");
        for (size_t k = 0; k < n_names; k++) {
            divergence_stats s;
            divergence_compute(&set, names[k], &s);
            cmd_divergence_print(names[k], &s);
        }
        if (n_names > 1) cmd_divergence_print("overall", &all);
    }
    divergence_set_free(&set);
    return EXIT_OK;
}

const command cmd_divergence_command = {
    "divergence", cmd_divergence,
    "divergence [--strategy NAME] [--since DATE] [--limit N] [--json]   LIVE fills against the paper model",
    "usage: titan-host divergence [--strategy NAME] [--since DATE] [--limit N] [--json]\n\n"
    "Paper beside live: each LIVE order records, beside Kraken's fill (price and fee from the order's own\n"
    "trades, volume executed), the fill the paper broker would have given it at decision time. This reports,\n"
    "per strategy and overall: the slippage of Kraken's price against the model in bps (mean, median, worst;\n"
    "positive = worse than the model), the fee difference, the share of limit orders' volume filled (Kraken's\n"
    "and the model's), and the --slippage-bps a backtest should use to match reality: the mean slippage of\n"
    "market fills against the last trade price the strategy saw, rounded up to 0.1 bps.\n\n"
    "  --strategy NAME   one strategy's cycles\n"
    "  --since DATE      cycles started from DATE (YYYY-MM-DD, ISO-8601 UTC or Unix seconds)\n"
    "  --limit N         read at most the N most recent cycles (default 1000)\n"
    "  --json            the figures as one JSON object\n\n"
    "exit codes: 0 reported (also when there is nothing to measure yet); 2 usage error or the store\n"
    "unreadable\n"};
