/* `titan-host status [--strategy NAME] [--last N] [--json] [--markdown] [--html FILE]`: what the
 * bot is doing, read from the store only (no exchange, no network beyond the store). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cmd.h"
#include "console.h"
#include "history.h"
#include "settings.h"
#include "status_view.h"
#include "store.h"

#define STATUS_MAX_STRATEGIES 50

typedef struct status_options {
    const char *strategy, *html;
    int json, markdown, last;
} status_options;

static int status_parse(int argc, char **argv, status_options *o)
{
    *o = (status_options){.last = 10};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) o->json = 1;
        else if (strcmp(argv[i], "--markdown") == 0) o->markdown = 1;
        else if (strcmp(argv[i], "--strategy") == 0 && i + 1 < argc) o->strategy = argv[++i];
        else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc) o->html = argv[++i];
        else if (strcmp(argv[i], "--last") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > HISTORY_MAX_CYCLES) return cmd_usage_error("status: --last wants 1 to 1000");
            o->last = (int)v;
        } else {
            return cmd_usage_error("status: unknown argument '%s' (see 'titan-host help status')", argv[i]);
        }
    }
    if (o->json && o->markdown) return cmd_usage_error("status: --json or --markdown, not both");
    if (o->strategy && (!*o->strategy || strlen(o->strategy) > 200))
        return cmd_usage_error("status: --strategy wants a strategy name");
    return 0;
}

/* The histories of the strategies asked for; -1 with the reason printed. */
static int status_load(store *st, const status_options *o, int64_t now, history **out, size_t *n)
{
    char err[1024] = "", **names = NULL;
    size_t count = 0;
    if (o->strategy) {
        names = malloc(sizeof *names);
        if (names && (names[0] = strdup(o->strategy))) count = 1;
    } else if (history_strategies(st, &names, &count, STATUS_MAX_STRATEGIES, err, sizeof err) != 0) {
        console_error("status: cannot read the store: %s", err);
        return -1;
    }
    history *hs = calloc(count ? count : 1, sizeof *hs);
    int rc = hs ? 0 : -1;
    size_t loaded = 0;
    for (size_t i = 0; i < count && rc == 0; i++, loaded++) {
        if (history_load(st, names[i], now, &hs[i], err, sizeof err) != 0) {
            console_error("status: cannot read %s from the store: %s", names[i], err);
            rc = -1;
        } else if (o->strategy && hs[i].ncycles == 0) {
            console_error("status: no cycle of strategy '%s' in %s (see 'titan-host locks list')", names[i],
                          store_describe(st));
            rc = -1;
        }
    }
    for (size_t i = 0; i < count; i++) free(names[i]);
    free(names);
    if (rc != 0) {
        for (size_t i = 0; hs && i < loaded; i++) history_free(&hs[i]);
        free(hs);
        return -1;
    }
    *out = hs, *n = count;
    return 0;
}

static int cmd_status(int argc, char **argv)
{
    status_options o;
    if (status_parse(argc, argv, &o) != 0) return EXIT_USAGE;
    store *st = cmd_open_store();
    if (!st) return EXIT_USAGE;
    int64_t now = clock_now_ms();
    history *hs = NULL;
    size_t n = 0;
    int code = EXIT_FAILED;
    if (status_load(st, &o, now, &hs, &n) == 0) {
        char err[512];
        int halted = 0;
        status_view v = {.store = store_describe(st), .now_ms = now, .halt_env = settings_halted(NULL),
                         .strategies = hs, .n = n, .last = o.last};
        v.halt_store = store_halt_get(st, &halted, err, sizeof err) == STORE_OK ? halted : -1;
        strbuf out = {0};
        if (o.json) status_json(&v, &out);
        else if (o.markdown) status_markdown(&v, &out);
        else status_text(&v, &out);
        console_write(stdout, strbuf_cstr(&out), out.len);
        strbuf_free(&out);
        code = EXIT_OK;
        if (o.html && status_page_write(&v, o.html, err, sizeof err) != 0) {
            console_error("status: %s", err);
            code = EXIT_FAILED;
        }
        for (size_t i = 0; i < n; i++) history_free(&hs[i]);
        free(hs);
    }
    store_close(st);
    return code;
}

const command cmd_status_command = {
    "status", cmd_status,
    "status [--strategy NAME] [--json] [--html FILE]   equity, position, recent cycles, from the store",
    "usage: titan-host status [--strategy NAME] [--last N] [--json | --markdown] [--html FILE]\n\n"
    "What the bot is doing, from the store alone (SQLite at TITAN_DB, or Supabase): per strategy its\n"
    "mode, equity and its change today / 7 days / all time, cash, position and its value at the last\n"
    "recorded price, cost basis, realized PnL, fees, the last N cycles (status, intents, fills, the AI's\n"
    "part, errors), orders in doubt, the halt state and today's AI spend. Nothing contacts Kraken.\n\n"
    "  --strategy NAME  only this strategy (default: every strategy among the latest 1000 cycles, the\n"
    "                   most recently active first)\n"
    "  --last N         cycles listed per strategy (default 10, at most 1000)\n"
    "  --json           the same as JSON (stable; fields in README \"titan-host status\")\n"
    "  --markdown       a short table (the workflow writes it into the job summary)\n"
    "  --html FILE      also write one self-contained page: equity curve, position chart, recent cycles\n"
    "                   and fills (no script, nothing fetched)\n\n"
    "PAPER figures are the paper ledger's; LIVE ones are what the latest record says Kraken held. The\n"
    "equity history covers the latest 1000 cycles.\n\n"
    "exit codes: 0 shown; 1 the store failed, no such strategy, or FILE could not be written;\n"
    "2 usage error or the store could not be opened.\n"};
