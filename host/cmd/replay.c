/* `titan-host replay CYCLE_ID|CAPSULE_FILE [--strategy FILE] [--set NAME=VALUE]... [--json]` and
 * `replay --since DATE [--until DATE] ...`: runs a strategy against recorded cycles (replay.c) and
 * says whether the decision is the recorded one, or how it changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blackbox.h"
#include "capsule.h"
#include "clock.h"
#include "cmd.h"
#include "console.h"
#include "jsondiff.h"
#include "replay.h"
#include "runtime.h"
#include "store.h"
#include "strategy.h"
#include "strbuf.h"

#define REPLAY_MAX_SETS 32
#define REPLAY_MAX_DIFFS 40

typedef struct replay_args {
    const char *target;                /* CYCLE_ID or CAPSULE_FILE */
    int64_t since_ms, until_ms;
    int ranged, json, verbose;
    replay_options opt;
    const char *sets[REPLAY_MAX_SETS + 1];
} replay_args;

/* Loads the capsule named by target: a file when one exists there, else a cycle id in the store. */
static int cmd_replay_load(const char *target, capsule *cap, char *where, size_t wherelen)
{
    char err[1024];
    if (access(target, F_OK) == 0) {
        snprintf(where, wherelen, "%s", target);
        if (capsule_read_file(target, cap, err, sizeof err) == 0) return 0;
        return cmd_usage_error("replay: %s", err), -1;
    }
    store *st = cmd_open_store();
    if (!st) return -1;
    store_capsule row;
    store_rc rc = store_capsule_get(st, target, &row, err, sizeof err);
    snprintf(where, wherelen, "%s", store_describe(st));
    store_close(st);
    if (rc != STORE_OK) {
        cmd_usage_error("replay: %s is neither a capsule file nor a cycle with a stored capsule: %s", target, err);
        return -1;
    }
    size_t len = 0;
    unsigned char *packed = capsule_unbase64(row.capsule_b64, &len);
    int ok = packed && capsule_unpack(packed, len, cap, err, sizeof err) == 0;
    if (!packed) snprintf(err, sizeof err, "its base64 text is damaged");
    free(packed);
    store_capsule_clear(&row);
    if (!ok) cmd_usage_error("replay: the stored capsule of %s is unreadable: %s", target, err);
    return ok ? 0 : -1;
}

/* The differences of the replayed decision record from the recorded one ("file" left out when
 * another strategy file was asked for: that difference is the point). */
static int cmd_replay_diff(const capsule *cap, const replay_result *r, jsondiff *d)
{
    static const char *const other_file[] = {"file", NULL};
    memset(d, 0, sizeof *d);
    if (!r->decision_json) return 0;
    return jsondiff_compare(cap->decision_json ? cap->decision_json : "null", r->decision_json,
                            r->recorded_strategy ? NULL : other_file, REPLAY_MAX_DIFFS, d);
}

static void cmd_replay_print_notes(const char *notes)
{
    for (const char *p = notes; p && *p;) {
        size_t n = strcspn(p, "\n");
        console_printf(stdout, "note      %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

static void cmd_replay_print(const capsule *cap, const char *where, const replay_args *a, const replay_result *r,
                             const jsondiff *d)
{
    char iso[CLOCK_ISO_SIZE], was[256], now[256];
    console_printf(stdout, "replay    %s  %s %s %dm, recorded %s by titan-host %s\n", cap->cycle_id, cap->mode, cap->pair,
                   cap->interval, clock_iso(cap->recorded_ms, iso), cap->host_version ? cap->host_version : "?");
    console_printf(stdout, "capsule   %s: %zu Kraken answers, %zu AI/HTTP exchanges, seed %lld\n", where,
                   cap->tape.n_kraken, cap->tape.n_http, (long long)cap->seed);
    if (!a->opt.strategy_path)
        console_printf(stdout, "strategy  the recorded one: %s (sha256 %.12s)\n", cap->file, r->sha256);
    else
        console_printf(stdout, "strategy  %s (sha256 %.12s; recorded: %s, sha256 %.12s)\n", r->file, r->sha256, cap->file,
                       cap->sha256 ? cap->sha256 : "?");
    for (size_t i = 0; a->sets[i]; i++) console_printf(stdout, "set       %s\n", a->sets[i]);
    if (r->status != REPLAY_RAN) {
        console_printf(stdout, "result    NOT REPLAYED: %s\n", r->error);
        cmd_replay_print_notes(r->notes);
        return;
    }
    replay_action_summary(cap->decision_json, was, sizeof was);
    replay_action_summary(r->decision_json, now, sizeof now);
    console_printf(stdout, "decision  recorded: %s; replayed: %s\n", was, now);
    if (r->failure) console_printf(stdout, "strategy  failed (%s): %s\n", r->failure, r->error);
    if (r->identical)
        console_printf(stdout, "result    REPRODUCED: the intents and the decision record are byte for byte the recorded "
                               "ones (%zu bytes)\n", strlen(r->decision_json));
    else if (d->total == 0)
        console_printf(stdout, "result    SAME DECISION: nothing differs but the strategy file's name\n");
    else
        console_printf(stdout, "result    %s: %zu difference%s from the recorded decision record\n",
                       r->recorded_strategy ? "NOT REPRODUCED" : "CHANGED", d->total, d->total == 1 ? "" : "s");
    for (size_t i = 0; i < d->n; i++)
        console_printf(stdout, "  %s: %s -> %s\n", d->items[i].path, d->items[i].a ? d->items[i].a : "(none)",
                       d->items[i].b ? d->items[i].b : "(none)");
    if (d->total > d->n) console_printf(stdout, "  ... and %zu more\n", d->total - d->n);
    cmd_replay_print_notes(r->notes);
}

static void cmd_replay_json(const capsule *cap, const char *where, const replay_args *a, const replay_result *r,
                            const jsondiff *d)
{
    char was[256], now[256];
    replay_action_summary(cap->decision_json, was, sizeof was);
    replay_action_summary(r->decision_json, now, sizeof now);
    strbuf b = {0};
    strbuf_puts(&b, "{");
    strbuf_json_str(&b, "cycle_id", cap->cycle_id);
    strbuf_json_str(&b, "capsule", where);
    strbuf_json_str(&b, "mode", cap->mode);
    strbuf_json_raw(&b, "strategy", "{");
    strbuf_json_str(&b, "file", r->file);
    strbuf_json_str(&b, "sha256", r->sha256);
    strbuf_json_bool(&b, "recorded", r->recorded_strategy);
    strbuf_puts(&b, "}");
    strbuf_json_raw(&b, "sets", "[");
    for (size_t i = 0; a->sets[i]; i++) strbuf_json_str(&b, NULL, a->sets[i]);
    strbuf_puts(&b, "]");
    strbuf_json_bool(&b, "replayed", r->status == REPLAY_RAN);
    strbuf_json_bool(&b, "reproduced", r->identical);
    strbuf_json_str(&b, "error", r->status != REPLAY_RAN || r->failure ? r->error : NULL);
    strbuf_json_str(&b, "failure", r->failure);
    strbuf_json_raw(&b, "recorded", "{");
    strbuf_json_str(&b, "action", was);
    strbuf_json_raw(&b, "decision", cap->decision_json ? cap->decision_json : "null");
    strbuf_puts(&b, "}");
    strbuf_json_raw(&b, "replay", "{");
    strbuf_json_str(&b, "action", now);
    strbuf_json_raw(&b, "decision", r->decision_json ? r->decision_json : "null");
    strbuf_puts(&b, "}");
    strbuf_json_int(&b, "difference_count", (long long)d->total);
    strbuf_json_raw(&b, "differences", "[");
    for (size_t i = 0; i < d->n; i++) {
        strbuf_json_raw(&b, NULL, "{");
        strbuf_json_str(&b, "path", d->items[i].path);
        strbuf_json_raw(&b, "recorded", d->items[i].a ? d->items[i].a : "null");
        strbuf_json_raw(&b, "replayed", d->items[i].b ? d->items[i].b : "null");
        strbuf_puts(&b, "}");
    }
    strbuf_puts(&b, "]");
    strbuf_json_raw(&b, "tape", "{");
    strbuf_json_int(&b, "unrecorded_calls", r->unrecorded);
    strbuf_json_int(&b, "changed_requests", r->changed_requests);
    strbuf_json_int(&b, "unrecorded_env", r->unrecorded_env);
    strbuf_json_str(&b, "notes", r->notes);
    strbuf_puts(&b, "}}\n");
    if (!b.oom) console_write(stdout, b.data, b.len);
    strbuf_free(&b);
}

/* The exit code of one replay: 0 it ran (reproduced, or changed as asked), 1 it could not be replayed
 * or the recorded strategy did not reproduce its record, 2 the strategy or a --set is wrong. */
static int cmd_replay_code(const replay_result *r, const jsondiff *d)
{
    if (r->status == REPLAY_USAGE) return EXIT_USAGE;
    if (r->status != REPLAY_RAN) return EXIT_FAILED;
    return r->recorded_strategy && !r->identical && d->total > 0 ? EXIT_FAILED : EXIT_OK;
}

static int cmd_replay_one(const replay_args *a)
{
    capsule cap;
    char where[4200];
    if (cmd_replay_load(a->target, &cap, where, sizeof where) != 0) return EXIT_USAGE;
    replay_result r;
    replay_run(&cap, &a->opt, &r);
    jsondiff d;
    cmd_replay_diff(&cap, &r, &d);
    if (r.status == REPLAY_USAGE) cmd_usage_error("replay: %s", r.error);
    else if (a->json) cmd_replay_json(&cap, where, a, &r, &d);
    else cmd_replay_print(&cap, where, a, &r, &d);
    int code = cmd_replay_code(&r, &d);
    jsondiff_free(&d);
    replay_result_free(&r);
    capsule_free(&cap);
    return code;
}

/* ---- --since: every stored cycle in a range --------------------------------------------------- */

typedef struct replay_tally {
    char label[200];
    int count;
} replay_tally;

/* "buy+sell" for "buy 0.001, sell 0.5": the sides of a summary (replay_action_summary), to tell a
 * resize from a change; "hold" and "no decision" stay as they are. */
static void cmd_replay_sides(const char *summary, char *out, size_t outlen)
{
    if (!strcmp(summary, "hold") || !strcmp(summary, "no decision")) {
        snprintf(out, outlen, "%s", summary);
        return;
    }
    size_t k = 0;
    out[0] = '\0';
    for (const char *p = summary; *p && k < outlen;) {
        int word = (int)strcspn(p, " ,");
        k += (size_t)snprintf(out + k, outlen - k, "%s%.*s", k ? "+" : "", word, p);
        p = strstr(p, ", ");
        if (!p) break;
        p += 2;
    }
}

static void cmd_replay_count(replay_tally *tallies, size_t *n, size_t cap, const char *label)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(tallies[i].label, label) == 0) { tallies[i].count++; return; }
    if (*n < cap) {
        snprintf(tallies[*n].label, sizeof tallies[*n].label, "%s", label);
        tallies[(*n)++].count = 1;
    }
}

static int cmd_replay_range(const replay_args *a)
{
    store *st = cmd_open_store();
    if (!st) return EXIT_USAGE;
    char err[1024];
    store_capsule *rows = NULL;
    size_t n = 0;
    /* with --strategy FILE, the cycles of the strategy that file names */
    char strategy[80] = "";
    if (a->opt.strategy_path) {
        runtime *rt = cmd_open_runtime(a->opt.strategy_path);
        strbuf problems = {0};
        int ok = rt && strategy_load(rt, a->opt.strategy_path, &problems) == STRATEGY_VALID;
        char pair[40];
        int interval;
        if (ok) strategy_identity(runtime_lua(rt), -1, strategy, sizeof strategy, pair, sizeof pair, &interval);
        else if (rt) cmd_usage_error("replay: %s: invalid strategy:\n%s", a->opt.strategy_path, strbuf_cstr(&problems));
        strbuf_free(&problems);
        runtime_close(rt);
        if (!ok) {
            store_close(st);
            return EXIT_USAGE;
        }
    }
    store_rc rc = store_capsule_list(st, strategy[0] ? strategy : NULL, a->since_ms, a->until_ms, 100000, &rows, &n, err,
                                     sizeof err);
    if (rc != STORE_OK) {
        store_close(st);
        return cmd_usage_error("replay: cannot list the stored capsules: %s", err);
    }
    replay_tally tallies[32];
    size_t n_tallies = 0;
    int unchanged = 0, changed = 0, unplayable = 0, asked_other = 0;
    int code = EXIT_OK;
    strbuf json = {0};
    strbuf_puts(&json, "{\"cycles\":[");
    for (size_t i = 0; i < n; i++) {
        store_capsule row;
        capsule cap;
        replay_result r = {0};
        jsondiff d = {0};
        char was[256] = "", now[256] = "", why[1024] = "";
        int loaded = store_capsule_get(st, rows[i].cycle_id, &row, why, sizeof why) == STORE_OK;
        size_t len = 0;
        unsigned char *packed = loaded ? capsule_unbase64(row.capsule_b64, &len) : NULL;
        loaded = packed && capsule_unpack(packed, len, &cap, why, sizeof why) == 0;
        free(packed);
        store_capsule_clear(&row);
        if (loaded) {
            replay_run(&cap, &a->opt, &r);
            asked_other = !r.recorded_strategy;
            cmd_replay_diff(&cap, &r, &d);
            replay_action_summary(cap.decision_json, was, sizeof was);
            replay_action_summary(r.decision_json, now, sizeof now);
            if (r.status != REPLAY_RAN) snprintf(why, sizeof why, "%s", r.error);
        }
        const char *verdict;
        if (!loaded || r.status != REPLAY_RAN) {
            verdict = "not replayed";
            unplayable++;
            code = r.status == REPLAY_USAGE ? EXIT_USAGE : EXIT_FAILED;
            if (!a->json) console_printf(stdout, "%-34s not replayed: %s\n", rows[i].cycle_id, why);
        } else if (r.identical || d.total == 0) {
            verdict = "unchanged";
            unchanged++;
        } else {
            verdict = "changed";
            changed++;
            char s1[64], s2[64], label[200];
            cmd_replay_sides(was, s1, sizeof s1);
            cmd_replay_sides(now, s2, sizeof s2);
            if (strcmp(s1, s2) != 0) snprintf(label, sizeof label, "%s -> %s", s1, s2);
            else if (strcmp(was, now) != 0) snprintf(label, sizeof label, "%s resized", s1);
            else snprintf(label, sizeof label, "same orders, other fields");
            cmd_replay_count(tallies, &n_tallies, sizeof tallies / sizeof tallies[0], label);
            if (!a->json)
                console_printf(stdout, "%-34s %s -> %s (%zu difference%s, first %s)\n", rows[i].cycle_id, was, now,
                               d.total, d.total == 1 ? "" : "s", d.n ? d.items[0].path : "?");
            if (r.recorded_strategy) code = EXIT_FAILED;   /* the recorded strategy must reproduce */
        }
        strbuf_json_raw(&json, NULL, "{");
        strbuf_json_str(&json, "cycle_id", rows[i].cycle_id);
        strbuf_json_str(&json, "verdict", verdict);
        strbuf_json_str(&json, "recorded", loaded ? was : NULL);
        strbuf_json_str(&json, "replayed", loaded && r.status == REPLAY_RAN ? now : NULL);
        strbuf_json_int(&json, "differences", (long long)d.total);
        strbuf_json_int(&json, "changed_requests", r.changed_requests);
        strbuf_json_int(&json, "unrecorded_calls", r.unrecorded);
        if (why[0] && strcmp(verdict, "not replayed") == 0) strbuf_json_str(&json, "error", why);
        strbuf_puts(&json, "}");
        jsondiff_free(&d);
        replay_result_free(&r);
        if (loaded) capsule_free(&cap);
    }
    strbuf_puts(&json, "]");
    char since[CLOCK_ISO_SIZE] = "the first", until[CLOCK_ISO_SIZE] = "the last";
    if (a->since_ms) clock_iso(a->since_ms, since);
    if (a->until_ms) clock_iso(a->until_ms, until);
    if (a->json) {
        strbuf_json_int(&json, "replayed", (long long)(n - (size_t)unplayable));
        strbuf_json_int(&json, "unchanged", unchanged);
        strbuf_json_int(&json, "changed", changed);
        strbuf_json_int(&json, "not_replayed", unplayable);
        strbuf_json_raw(&json, "changes", "{");
        for (size_t i = 0; i < n_tallies; i++) strbuf_json_int(&json, tallies[i].label, tallies[i].count);
        strbuf_puts(&json, "}}\n");
        if (!json.oom) console_write(stdout, json.data, json.len);
    } else {
        strbuf line = {0};
        for (size_t i = 0; i < n_tallies; i++)
            strbuf_printf(&line, "%s%s: %d", i ? ", " : " (", tallies[i].label, tallies[i].count);
        if (n_tallies) strbuf_puts(&line, ")");
        console_printf(stdout, "%zu cycle%s from %s to %s replayed with %s: %d unchanged, %d changed%s, %d not replayed\n",
                       n, n == 1 ? "" : "s", since, until,
                       asked_other || a->opt.strategy_path ? (a->opt.strategy_path ? a->opt.strategy_path : "--set")
                                                           : "the recorded strategies",
                       unchanged, changed, strbuf_cstr(&line), unplayable);
        strbuf_free(&line);
    }
    strbuf_free(&json);
    store_capsules_free(rows, n);
    store_close(st);
    return code;
}

static int cmd_replay(int argc, char **argv)
{
    replay_args a = {0};
    size_t n_sets = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(arg, "--strategy") || !strcmp(arg, "--set") || !strcmp(arg, "--since") ||
                    !strcmp(arg, "--until");
        if (takes && !val) return cmd_usage_error("replay: %s needs a value (see 'titan-host help replay')", arg);
        if (!strcmp(arg, "--json")) a.json = 1;
        else if (!strcmp(arg, "--verbose")) a.verbose = 1;
        else if (!strcmp(arg, "--strategy")) a.opt.strategy_path = argv[++i];
        else if (!strcmp(arg, "--set")) {
            if (n_sets == REPLAY_MAX_SETS) return cmd_usage_error("replay: at most %d --set", REPLAY_MAX_SETS);
            a.sets[n_sets++] = argv[++i];
        } else if (!strcmp(arg, "--since") || !strcmp(arg, "--until")) {
            int64_t ms;
            if (cmd_parse_date(val, &ms) != 0)
                return cmd_usage_error("replay: %s '%s' is not a date (YYYY-MM-DD, ISO-8601 UTC or Unix seconds)", arg, val);
            if (arg[2] == 's') a.since_ms = ms;
            else a.until_ms = ms;
            a.ranged = 1;
            i++;
        } else if (arg[0] == '-') return cmd_usage_error("replay: unknown option '%s' (see 'titan-host help replay')", arg);
        else if (!a.target) a.target = arg;
        else return cmd_usage_error("replay: one cycle at a time, or --since (see 'titan-host help replay')");
    }
    a.opt.sets = a.sets;
    if (a.ranged && a.target) return cmd_usage_error("replay: give a CYCLE_ID or CAPSULE_FILE, or --since, not both");
    if (a.ranged && !a.since_ms) return cmd_usage_error("replay: --until needs --since");
    if (!a.ranged && !a.target)
        return cmd_usage_error("usage: titan-host replay CYCLE_ID|CAPSULE_FILE [--strategy FILE] [--set NAME=VALUE]... "
                               "[--json], or replay --since DATE [--until DATE] [--strategy FILE]");
    /* the strategy's own events go to the blackbox; the console shows the replay's report */
    if (!a.verbose) blackbox_set_stderr_level(BLACKBOX_ERROR);
    return a.ranged ? cmd_replay_range(&a) : cmd_replay_one(&a);
}

const command cmd_replay_command = {
    "replay", cmd_replay,
    "replay CYCLE_ID|CAPSULE_FILE [--strategy FILE] [--set NAME=VALUE] [--json]   re-run a recorded cycle offline",
    "usage: titan-host replay CYCLE_ID|CAPSULE_FILE [--strategy FILE] [--set NAME=VALUE]... [--json] [--verbose]\n"
    "       titan-host replay --since DATE [--until DATE] [--strategy FILE] [--set NAME=VALUE]... [--json]\n\n"
    "Runs a strategy against a recorded cycle's capsule, offline, through the same ctx, intent validation and\n"
    "risk gates as `run`: the recorded settings, ctx.now, seed, book and ctx.state, and every Kraken and AI\n"
    "answer served from the capsule in order (a call it did not record fails with replay.unrecorded). No\n"
    "network, no store write, no order. With the recorded strategy it reproduces the recorded intents and\n"
    "decision record byte for byte and says so; with another file or --set it prints what changed (intents,\n"
    "sizes, reasons, the AI vote outcome). A capsule is a file (capsule-<cycle>.json.gz beside the blackbox)\n"
    "or a cycle id whose capsule the store keeps (TITAN_CAPSULE_DAYS, default 30 days).\n\n"
    "  --strategy FILE     run this file instead of the recorded text (an edit of the strategy)\n"
    "  --set NAME=VALUE    override params.NAME of the strategy (typed like its value); repeatable\n"
    "  --since DATE        replay every stored capsule recorded from DATE (YYYY-MM-DD, ISO-8601 or Unix s),\n"
    "  --until DATE        ... before DATE; with --strategy, only the cycles of that strategy's name.\n"
    "                      Prints the cycles whose decision changed and a summary (hold -> buy: 2, ...)\n"
    "  --json              the report as one JSON object\n"
    "  --verbose           echo the strategy's own events on stderr (they go to the blackbox either way)\n\n"
    "exit codes:\n"
    "  0  replayed: reproduced, or changed as asked (--strategy, --set)\n"
    "  1  not reproduced with the recorded strategy, or a capsule could not feed the strategy\n"
    "  2  usage error, an unreadable capsule, an unknown cycle, an invalid strategy or --set\n"};
