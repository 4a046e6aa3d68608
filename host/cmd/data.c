/* `titan-host data fetch PAIR --interval MIN ...` (Kraken history into an OHLCVT file, see
 * host/datafetch.c) and `titan-host data check FILE` (what the backtest loader would say). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blackbox.h"
#include "clock.h"
#include "cmd.h"
#include "console.h"
#include "csvdata.h"
#include "datafetch.h"

static const char cmd_data_synopsis[] = "data fetch PAIR --interval MIN | check FILE   history from Kraken; check a data file";

static const char cmd_data_help[] =
    "usage: titan-host data fetch PAIR --interval MIN [--since DATE] [--until DATE] [--out FILE]\n"
    "                             [--from-trades] [--pace-ms N]\n"
    "       titan-host data check FILE\n\n"
    "fetch writes Kraken's OHLCVT format (no header: time,open,high,low,close,volume,trades; the format\n"
    "`backtest` reads), default file PAIR_MIN.csv (XBTUSD_60.csv). Public endpoints only: no key needed.\n"
    "  - the recent window (Kraken's OHLC endpoint: the last 720 candles) comes from OHLC;\n"
    "  - older history, and intervals Kraken does not serve, are built from Kraken's public Trades, paged\n"
    "    with its since/last cursor: UTC-aligned buckets of MIN minutes, open/high/low/close/volume/count;\n"
    "    a bucket without trades is a gap (no row), as in Kraken's own export. --from-trades always does.\n"
    "Resumable and incremental: with an existing FILE, a run continues from its last row, first checking\n"
    "that row against Kraken (a file that does not continue Kraken's history is refused), then appends\n"
    "only complete candles, in order, never twice. The file is rewritten beside itself and renamed over\n"
    "(FILE.tmp): killed at any point it holds the old rows or the new ones, never half a row. A run that\n"
    "fails keeps what it fetched; run the same command again to resume.\n"
    "Polite: at most one request per --pace-ms (default 1000: Kraken's public limit is about one call per\n"
    "second); a rate limit (EAPI:Rate limit exceeded, EGeneral:Too many requests, HTTP 429) or a passing\n"
    "failure waits 1 s, 2 s, 4 s... (up to 60 s, 8 tries) and resumes from the last cursor. Progress on\n"
    "stderr: a bar with the time left on a terminal, a line every 10 s otherwise; each request is in the\n"
    "blackbox, and echoed on stderr only with TITAN_LOG_LEVEL=info.\n\n"
    "  --interval MIN    candle length in minutes (any whole number; OHLC only for 1, 5, 15, 30, 60, 240,\n"
    "                    1440, 10080, 21600)\n"
    "  --since DATE      first candle (YYYY-MM-DD, ISO-8601 UTC or Unix seconds; rounded up to a whole\n"
    "                    candle); older than the OHLC window means trades. Ignored when FILE has rows.\n"
    "  --until DATE      no candle ending after DATE (default: now; the candle in progress is never written)\n"
    "  --out FILE        the file to write or continue\n"
    "  --from-trades     build from trades even inside the OHLC window\n"
    "  --pace-ms N       least time between two requests (default 1000)\n\n"
    "check reads FILE with the backtest loader's rules and reports its format, rows, interval, range,\n"
    "gaps (the largest listed) and anomalies: an error names the line; bars without volume, and moves of\n"
    "more than 20% from one close to the next open, are counted as warnings.\n\n"
    "exit codes: 0 done (fetch: maybe nothing new; check: the file loads); 1 fetch: Kraken or the network\n"
    "failed (what was fetched is kept: run again to resume); 2 usage error, a file that cannot be\n"
    "continued or written, or (check) a file the loader refuses.\n";

static int cmd_data_date(const char *s, int64_t *out_s)
{
    char buf[64];
    int64_t ms;
    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        snprintf(buf, sizeof buf, "%sT00:00Z", s);
        if (clock_parse_iso(buf, &ms) != 0) return -1;
        *out_s = ms / 1000;
        return 0;
    }
    if (clock_parse_iso(s, &ms) == 0) { *out_s = ms / 1000; return 0; }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || v <= 0) return -1;
    *out_s = v;
    return 0;
}

static int cmd_data_pair_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 20) return 0;
    for (; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '/' || *p == '.'))
            return 0;
    return 1;
}

static int cmd_data_fetch(int argc, char **argv)
{
    datafetch_options o = {.pace_ms = DATAFETCH_PACE_MS};
    char default_out[96];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            if (o.pair) return cmd_usage_error("data fetch: unexpected argument '%s' (see 'titan-host help data')", a);
            o.pair = a;
            continue;
        }
        if (!strcmp(a, "--from-trades")) { o.from_trades = 1; continue; }
        if (!val) return cmd_usage_error("data fetch: %s needs a value (see 'titan-host help data')", a);
        i++;
        char *end = NULL;
        if (!strcmp(a, "--interval")) {
            long v = strtol(val, &end, 10);
            if (!*val || *end || v < 1 || v > 43200)
                return cmd_usage_error("data fetch: --interval '%s' is not a number of minutes (1 to 43200)", val);
            o.interval = (int)v;
        } else if (!strcmp(a, "--since") || !strcmp(a, "--until")) {
            int64_t t;
            if (cmd_data_date(val, &t) != 0)
                return cmd_usage_error("data fetch: %s '%s' is not a date (YYYY-MM-DD, ISO-8601 UTC or Unix seconds)",
                                            a, val);
            if (a[2] == 's') o.since_s = t;
            else o.until_s = t;
        } else if (!strcmp(a, "--out")) {
            o.out_path = val;
        } else if (!strcmp(a, "--pace-ms")) {
            long v = strtol(val, &end, 10);
            if (!*val || *end || v < 0 || v > 600000)
                return cmd_usage_error("data fetch: --pace-ms '%s' is not 0 to 600000", val);
            o.pace_ms = v;
        } else {
            return cmd_usage_error("data fetch: unknown option '%s' (see 'titan-host help data')", a);
        }
    }
    if (!o.pair || !o.interval)
        return cmd_usage_error("usage: titan-host data fetch PAIR --interval MIN [options] (see 'titan-host help data')");
    if (!cmd_data_pair_ok(o.pair)) return cmd_usage_error("data fetch: '%s' is not a Kraken pair name", o.pair);
    if (o.since_s && o.until_s && o.until_s <= o.since_s) return cmd_usage_error("data fetch: --until must be after --since");
    if (!o.out_path) {
        datafetch_default_name(o.pair, o.interval, default_out, sizeof default_out);
        o.out_path = default_out;
    }
    o.progress = 1;
    o.tty = isatty(STDERR_FILENO);
    /* thousands of requests: the blackbox records each one; stderr shows warnings and the progress */
    if (!getenv("TITAN_LOG_LEVEL")) {
        setenv("TITAN_LOG_LEVEL", "warn", 1);
        blackbox_init();
    }
    datafetch_report r;
    int code = datafetch_run(&o, &r);
    char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE];
    const char *source = r.source == DATAFETCH_OHLC ? "Kraken OHLC" : r.source == DATAFETCH_TRADES ? "Kraken Trades" : "";
    if (r.new_rows)
        console_printf(stdout, "data fetch: %s: %zu new %d-minute candles %.16s .. %.16s from %s (%zu requests, %zu "
                               "trades, %zu gaps, %zu rate-limit waits)%s\n",
                       o.out_path, r.new_rows, o.interval, clock_iso(r.first_new * 1000, a),
                       clock_iso(r.last_new * 1000, z), source, r.requests, r.trades, r.gaps, r.rate_limited,
                       r.overlap_checked ? "; the last row it had matched Kraken's" : "");
    else if (code == 0)
        console_printf(stdout, "data fetch: %s: nothing new (%zu rows; %zu requests)%s\n", o.out_path, r.existing_rows,
                       r.requests, r.overlap_checked ? "; the last row matched Kraken's" : "");
    if (code != 0) {
        console_printf(stderr, "titan-host: data fetch: %s\n", r.error);
        if (code == 1) console_printf(stderr, "titan-host: data fetch: run the same command again to resume%s\n",
                                      r.new_rows ? " (the candles above were saved)" : "");
    }
    return code;
}

/* The loader's verdict plus what a user checks before trusting a file. */
static int cmd_data_check(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return cmd_usage_error("usage: titan-host data check FILE (see 'titan-host help data')");
    const char *path = argv[1];
    csvdata d;
    char err[512];
    if (csvdata_load(path, &d, err, sizeof err) != 0) {
        console_printf(stderr, "titan-host: data check: %s\n", err);
        return EXIT_USAGE;
    }
    char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE];
    int64_t step = (int64_t)d.interval_min * 60;
    console_printf(stdout, "file      %s: %s%s\n", path, d.headered ? "headered CSV" : "Kraken OHLCVT (no header)",
                   d.millis ? ", times in milliseconds" : "");
    console_printf(stdout, "rows      %zu %d-minute bars, %.16s .. %.16s UTC\n", d.count, d.interval_min,
                   clock_iso(d.bars[0].t * 1000, a), clock_iso(d.bars[d.count - 1].t * 1000, z));
    size_t expected = (size_t)((d.bars[d.count - 1].t - d.bars[0].t) / step) + 1;
    console_printf(stdout, "coverage  %.2f%% of the %zu bars the range holds\n", 100.0 * (double)d.count / (double)expected,
                   expected);
    console_printf(stdout, "gaps      %zu (%zu missing bars)\n", d.gaps, d.missing);
    enum { SHOWN = 5 };
    size_t largest[SHOWN] = {0};
    int64_t size_of[SHOWN] = {0};
    size_t zero_volume = 0, jumps = 0, biggest_jump = 0;
    double biggest = 0;
    for (size_t i = 1; i < d.count; i++) {
        int64_t delta = d.bars[i].t - d.bars[i - 1].t;
        for (int k = 0; k < SHOWN && delta > step; k++) {
            if (delta > size_of[k]) {
                memmove(&largest[k + 1], &largest[k], (SHOWN - 1 - k) * sizeof largest[0]);
                memmove(&size_of[k + 1], &size_of[k], (SHOWN - 1 - k) * sizeof size_of[0]);
                largest[k] = i;
                size_of[k] = delta;
                break;
            }
        }
        double move = fabs(d.bars[i].o / d.bars[i - 1].c - 1);
        if (move > 0.2) jumps++;
        if (move > biggest) { biggest = move; biggest_jump = i; }
    }
    for (size_t i = 0; i < d.count; i++) zero_volume += d.bars[i].v == 0;
    for (int k = 0; k < SHOWN && size_of[k]; k++)
        console_printf(stdout, "          %.16s -> %.16s (%lld bars missing)\n",
                       clock_iso(d.bars[largest[k] - 1].t * 1000, a), clock_iso(d.bars[largest[k]].t * 1000, z),
                       (long long)(size_of[k] / step - 1));
    console_printf(stdout, "warnings  %zu bars without volume; %zu moves over 20%% from a close to the next open",
                   zero_volume, jumps);
    if (biggest_jump)
        console_printf(stdout, " (largest %.1f%% at %.16s)", biggest * 100, clock_iso(d.bars[biggest_jump].t * 1000, a));
    console_printf(stdout, "\nok        the backtest loader reads it\n");
    csvdata_free(&d);
    return EXIT_OK;
}

static int cmd_data(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "fetch")) return cmd_data_fetch(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "check")) return cmd_data_check(argc - 1, argv + 1);
    return cmd_usage_error("usage: titan-host data fetch PAIR --interval MIN [options] | data check FILE "
                                "(see 'titan-host help data')");
}

const command cmd_data_command = {"data", cmd_data, cmd_data_synopsis, cmd_data_help};
