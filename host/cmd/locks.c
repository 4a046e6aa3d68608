/* `titan-host locks list|release`: inspect the cycle locks (execution_logs) of the active store
 * and delete a stuck one (the deployment rollback step "delete the stuck cycle_id"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blackbox.h"
#include "clock.h"
#include "cmd.h"
#include "console.h"
#include "store.h"
#include "store_impl.h" /* store_json_valid, to embed the stored JSON columns safely */
#include "strbuf.h"

/* "2026-11-27T05:15:00Z" (seconds precision) or "-" for no time. */
static const char *locks_time(int64_t ms, char out[CLOCK_ISO_SIZE])
{
    if (!ms) return "-";
    clock_iso(ms, out);
    char *dot = strchr(out, '.');
    if (dot) dot[0] = 'Z', dot[1] = '\0';
    return out;
}

static void locks_json_time(strbuf *b, const char *key, int64_t ms)
{
    char iso[CLOCK_ISO_SIZE];
    strbuf_printf(b, ",\"%s\":", key);
    if (ms) {
        clock_iso(ms, iso);
        strbuf_json_string(b, iso, strlen(iso));
    } else {
        strbuf_puts(b, "null");
    }
}

static void locks_json_text(strbuf *b, const char *key, const char *value, int raw_json)
{
    strbuf_printf(b, "%s\"%s\":", strcmp(key, "cycle_id") == 0 ? "" : ",", key);
    if (!value) strbuf_puts(b, "null");
    else if (raw_json && store_json_valid(value, strlen(value))) strbuf_puts(b, value);
    else strbuf_json_string(b, value, strlen(value));
}

static void locks_print_json(const store_cycle *rows, size_t n)
{
    strbuf b = {0};
    strbuf_puts(&b, "[");
    for (size_t i = 0; i < n; i++) {
        const store_cycle *c = &rows[i];
        strbuf_puts(&b, i ? ",\n{" : "\n{");
        locks_json_text(&b, "cycle_id", c->cycle_id, 0);
        locks_json_text(&b, "strategy", c->strategy, 0);
        locks_json_text(&b, "mode", c->mode, 0);
        locks_json_text(&b, "status", c->status, 0);
        locks_json_text(&b, "holder", c->holder, 0);
        locks_json_time(&b, "started_at", c->started_ms);
        locks_json_time(&b, "lease_until", c->lease_until_ms);
        locks_json_time(&b, "finished_at", c->finished_ms);
        locks_json_text(&b, "decision", c->decision_json, 1);
        locks_json_text(&b, "orders", c->orders_json, 1);
        locks_json_text(&b, "error", c->error, 0);
        locks_json_text(&b, "host_version", c->host_version, 0);
        strbuf_puts(&b, "}");
    }
    strbuf_puts(&b, n ? "\n]\n" : "]\n");
    console_write(stdout, strbuf_cstr(&b), b.len);
    strbuf_free(&b);
}

/* One table cell: control characters flattened, long text cut with "...". */
static void locks_cell(char *out, size_t outlen, const char *text, size_t max)
{
    size_t o = 0;
    for (const char *p = text ? text : "-"; *p && o + 1 < outlen; p++) {
        if (o == max && p[1]) {
            if (o >= 3) memcpy(out + o - 3, "...", 3);
            break;
        }
        out[o++] = (unsigned char)*p < 0x20 ? ' ' : *p;
    }
    out[o] = '\0';
}

static void locks_print_table(const store *st, const store_cycle *rows, size_t n)
{
    enum { COLS = 6, MAXW = 200 };
    static const char *const head[COLS] = {"CYCLE_ID", "STATUS", "HOLDER", "STARTED", "FINISHED", "ERROR"};
    static const size_t limit[COLS] = {60, 12, 40, 20, 40, 70};
    size_t width[COLS];
    for (int k = 0; k < COLS; k++) width[k] = strlen(head[k]);
    char(*cells)[COLS][MAXW] = calloc(n ? n : 1, sizeof *cells);
    if (!cells) {
        console_printf(stderr, "titan-host: out of memory\n");
        return;
    }
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < n; i++) {
        const store_cycle *c = &rows[i];
        char t1[CLOCK_ISO_SIZE], t2[CLOCK_ISO_SIZE], finished[MAXW];
        if (strcmp(c->status, STORE_STATUS_RUNNING) == 0)
            snprintf(finished, sizeof finished, c->lease_until_ms >= now ? "(lease until %s)" : "(lease expired %s)",
                     locks_time(c->lease_until_ms, t2));
        else
            snprintf(finished, sizeof finished, "%s", locks_time(c->finished_ms, t2));
        const char *values[COLS] = {c->cycle_id, c->status, c->holder, locks_time(c->started_ms, t1), finished,
                                    c->error ? c->error : "-"};
        for (int k = 0; k < COLS; k++) {
            locks_cell(cells[i][k], MAXW, values[k], limit[k]);
            size_t w = strlen(cells[i][k]);
            if (w > width[k]) width[k] = w;
        }
    }
    console_printf(stdout, "store: %s\n", store_describe(st));
    strbuf line = {0};
    for (size_t i = 0; i <= n; i++) {
        line.len = 0;
        for (int k = 0; k < COLS; k++) {
            const char *v = i == 0 ? head[k] : cells[i - 1][k];
            if (k < COLS - 1) strbuf_printf(&line, "%-*s  ", (int)width[k], v);
            else strbuf_printf(&line, "%s\n", v);
        }
        console_write(stdout, strbuf_cstr(&line), line.len);
    }
    if (n == 0) console_printf(stdout, "(no cycles recorded)\n");
    strbuf_free(&line);
    free(cells);
}

static int locks_list(int argc, char **argv)
{
    int limit = 20, json = 0;
    const char *status = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 10000) return cmd_usage_error("--limit wants a number from 1 to 10000");
            limit = (int)v;
        } else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
            status = argv[++i];
            static const char *const known[] = {STORE_STATUS_RUNNING, STORE_STATUS_DONE,    STORE_STATUS_FAILED,
                                                STORE_STATUS_HALTED,  STORE_STATUS_SKIPPED, STORE_STATUS_IN_DOUBT};
            int ok = 0;
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) ok |= strcmp(status, known[k]) == 0;
            if (!ok)
                return cmd_usage_error("--status '%.40s' is not one of running, done, failed, halted, skipped, "
                                            "in_doubt", status);
        } else {
            return cmd_usage_error("usage: titan-host locks list [--limit N] [--status STATUS] [--json]");
        }
    }
    char err[1024] = "";
    store *st = cmd_open_store();
    if (!st) return EXIT_USAGE;
    store_cycle *rows = NULL;
    size_t n = 0;
    int code = EXIT_OK;
    if (store_list_cycles(st, limit, NULL, status, &rows, &n, err, sizeof err) != STORE_OK) {
        console_printf(stderr, "titan-host: cannot list cycles: %s\n", err);
        code = EXIT_FAILED;
    } else if (json) {
        locks_print_json(rows, n);
    } else {
        locks_print_table(st, rows, n);
    }
    store_cycles_free(rows, n);
    store_close(st);
    return code;
}

static int locks_release(int argc, char **argv)
{
    const char *cycle_id = NULL;
    int force = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) force = 1;
        else if (!cycle_id && argv[i][0] != '-') cycle_id = argv[i];
        else return cmd_usage_error("usage: titan-host locks release CYCLE_ID [--force]");
    }
    if (!cycle_id) return cmd_usage_error("usage: titan-host locks release CYCLE_ID [--force]");
    char err[1024] = "";
    store *st = cmd_open_store();
    if (!st) return EXIT_USAGE;
    store_cycle row;
    store_rc rc = store_release_cycle(st, cycle_id, force, &row, err, sizeof err);
    int code = EXIT_FAILED;
    if (rc == STORE_OK) {
        char t1[CLOCK_ISO_SIZE], t2[CLOCK_ISO_SIZE];
        int live = strcmp(row.status, STORE_STATUS_RUNNING) == 0 && row.lease_until_ms >= clock_now_ms();
        console_printf(stdout,
                       "released %s: deleted its execution_logs row from %s (it was: status %s, holder %s, started %s, "
                       "lease until %s%s)\n",
                       cycle_id, store_describe(st), row.status, row.holder, locks_time(row.started_ms, t1),
                       locks_time(row.lease_until_ms, t2), live ? ", still live: forced" : "");
        if (strcmp(row.status, STORE_STATUS_IN_DOUBT) == 0 || (row.orders_json && strcmp(row.orders_json, "[]") != 0))
            console_printf(stdout, "warning: that cycle recorded orders %s — check them on the exchange\n",
                           row.orders_json ? row.orders_json : "(in doubt)");
        strbuf f = {0};
        strbuf_puts(&f, "{\"released\":");
        strbuf_json_string(&f, cycle_id, strlen(cycle_id));
        strbuf_puts(&f, ",\"status\":");
        strbuf_json_string(&f, row.status, strlen(row.status));
        strbuf_puts(&f, ",\"holder\":");
        strbuf_json_string(&f, row.holder, strlen(row.holder));
        strbuf_printf(&f, ",\"forced\":%s}", force ? "true" : "false");
        blackbox_log(BLACKBOX_WARN, "store.release", f.oom ? NULL : f.data);
        strbuf_free(&f);
        code = EXIT_OK;
    } else {
        console_printf(stderr, "titan-host: %s\n", err);
    }
    store_cycle_free(&row);
    store_close(st);
    return code;
}

static int cmd_locks(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0) return locks_list(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "release") == 0) return locks_release(argc, argv);
    return cmd_usage_error("usage: titan-host locks list [--limit N] [--json] | locks release CYCLE_ID [--force]");
}

const command cmd_locks_command = {
    "locks", cmd_locks,
    "locks list | release CYCLE_ID  inspect / flush cycle locks in the store",
     "usage: titan-host locks list [--limit N] [--status STATUS] [--json]\n"
     "       titan-host locks release CYCLE_ID [--force]\n\n"
     "list: the most recent cycles of the active store (Supabase when SUPABASE_URL and SUPABASE_KEY are\n"
     "set, else SQLite at TITAN_DB, default ./titan.db) as a table: id, status, holder, started, finished\n"
     "(or the lease of a running cycle), error. --json prints every column as a JSON array.\n"
     "release: deletes one cycle's row so its slot can run again (rollback step: delete the stuck\n"
     "cycle_id). A running cycle whose lease is still live is refused unless --force: only force it\n"
     "when that runner is gone. Prints exactly what it deleted.\n\n"
     "exit codes: 0 listed / released; 1 the store failed, the cycle does not exist, or release was\n"
     "refused; 2 usage error or the store could not be opened (configuration).\n"};
