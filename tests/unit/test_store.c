/* Unit tests of the store's shared parts: the readers of PostgREST answers (store_json.c, the
 * host's lua-cjson decoder), argument checks (misuse never reaches a database), opening rules, the
 * single-process lock semantics on a real SQLite file in a temporary folder, batches, and a file
 * that is opened again (or written by an older release). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_impl.h"
#include "unit.h"

static int json_ok(const char *s)
{
    return store_json_valid(s, strlen(s));
}

static void test_json_valid(void)
{
    const char *good[] = {"[]", "{}", " [ 1 , -2.5e3 , \"a\\u00e9\\n\" , true , false , null ] ", "{\"a\":{\"b\":[{}]}}",
                          "\"x\"", "0", "-0.5", "{\"k\":\"\\\"q\\\"\"}", "\"\\ud83d\\ude00\"", "1e308", NULL};
    const char *bad[] = {"", " ", "[", "[1,]", "{\"a\"}", "{\"a\":}", "01", "tru", "\"\\x\"", "\"a", "[1] x",
                         "{'a':1}", "\"\\u12g4\"", "nul", "0x10", "NaN", "-Infinity", "1e400", "[-1e999]",
                         "\"\\ud83d\"", "\"\\ude00x\"", "{\"a\":1,}", "[1 2]", NULL};
    for (int i = 0; good[i]; i++) CHECK_MSG(json_ok(good[i]), good[i]);
    for (int i = 0; bad[i]; i++) CHECK_MSG(!json_ok(bad[i]), bad[i]);
    /* Where lua-cjson is laxer than RFC 8259 — a number ending in '.', a raw tab inside a string —
     * it reads the obvious value; the databases refuse such text on write anyway. */
    CHECK(json_ok("1.") && json_ok("[\"tab\there\"]"));
    char deep[300];
    memset(deep, '[', 150), memset(deep + 150, ']', 150), deep[sizeof deep - 1] = 0;
    deep[299] = '\0';
    CHECK_MSG(!json_ok(deep), "nesting deeper than 64 is refused");
    memset(deep, 0, sizeof deep);
    memset(deep, '[', 64), memset(deep + 64, ']', 64);
    CHECK_MSG(json_ok(deep), "64 levels are fine");
    CHECK_MSG(!store_json_valid("[1]\0[2]", 7), "a NUL byte ends the value");
}

/* One execution_logs row as PostgREST sends it with select=SB_CYCLE_COLUMNS; `extra` is spliced
 * in (or replaces a member when it names one: the duplicate comes last). */
static char *cycle_row(char *buf, size_t n, const char *extra)
{
    snprintf(buf, n,
             "{\"cycle_id\":\"c1\",\"strategy\":\"s\",\"mode\":\"LIVE\",\"status\":\"running\",\"holder\":\"h:1\","
             "\"started_at\":\"2026-11-27T05:15:00.123456+00:00\",\"lease_until\":\"2026-11-27T05:25:00+00:00\","
             "\"finished_at\":null,\"decision\":null,\"orders\":\"[{\\\"cl_ord_id\\\": \\\"a1\\\"}]\","
             "\"error\":null,\"host_version\":\"0.1.0\"%s}",
             extra);
    return buf;
}

static int read_table(store_json *j, store_json_table table, const char *body, size_t len, size_t max, void *rows,
                      size_t *n, char *why, size_t whylen)
{
    void *out = (void *)1;
    int r = store_json_rows(j, table, body, len, max, &out, n, why, whylen);
    memcpy(rows, &out, sizeof out); /* into the caller's typed pointer */
    return r;
}

static int read_cycles(store_json *j, const char *body, size_t max, store_cycle **rows, size_t *n, char *why,
                       size_t whylen)
{
    return read_table(j, STORE_JSON_CYCLES, body, strlen(body), max, rows, n, why, whylen);
}

static void test_json_cycles(store_json *j)
{
    char row[1500], body[4000], why[400];
    store_cycle *rows = NULL;
    size_t n = 0;
    snprintf(body, sizeof body, " [ %s ] ", cycle_row(row, sizeof row, ""));
    CHECK_INT(read_cycles(j, body, 1, &rows, &n, why, sizeof why), 0);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_STR(rows[0].cycle_id, "c1");
        CHECK_STR(rows[0].holder, "h:1");
        CHECK_INT(rows[0].started_ms, 1795756500123LL);
        CHECK_INT(rows[0].lease_until_ms, 1795757100000LL);
        CHECK_INT(rows[0].finished_ms, 0);
        CHECK(rows[0].decision_json == NULL && rows[0].error == NULL);
        CHECK_STR(rows[0].orders_json, "[{\"cl_ord_id\": \"a1\"}]"); /* the stored text, exactly */
    }
    store_cycles_free(rows, n);

    /* escapes and \u sequences, a surrogate pair among them, decode to UTF-8 */
    snprintf(body, sizeof body, "[%s]",
             cycle_row(row, sizeof row, ",\"error\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\u20ac\\ud83d\\ude00\""));
    CHECK_INT(read_cycles(j, body, 1, &rows, &n, why, sizeof why), 0);
    if (n == 1) CHECK_STR(rows[0].error, "a\"b\\c/d\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    store_cycles_free(rows, n);

    /* a duplicate key: the last one wins, as in JavaScript's JSON.parse and Python's json */
    snprintf(body, sizeof body, "[%s]", cycle_row(row, sizeof row, ",\"holder\":\"second\""));
    CHECK_INT(read_cycles(j, body, 1, &rows, &n, why, sizeof why), 0);
    if (n == 1) CHECK_STR(rows[0].holder, "second");
    store_cycles_free(rows, n);

    /* a nested JSON column whose text holds deep nesting, escapes and big numbers is kept as is */
    snprintf(body, sizeof body, "[%s]",
             cycle_row(row, sizeof row, ",\"decision\":\"{\\\"a\\\": [[[{\\\"b\\\": \\\"\\\\u00e9\\\"}]]], "
                                        "\\\"n\\\": 123456789012345678901234567890}\""));
    CHECK_INT(read_cycles(j, body, 1, &rows, &n, why, sizeof why), 0);
    if (n == 1) CHECK_STR(rows[0].decision_json, "{\"a\": [[[{\"b\": \"\\u00e9\"}]]], \"n\": 123456789012345678901234567890}");
    store_cycles_free(rows, n);

    CHECK_INT(read_cycles(j, "[]", 1, &rows, &n, why, sizeof why), 0);
    CHECK_INT(n, 0);
    store_cycles_free(rows, n);

    /* refused whole, with the reason */
    struct {
        const char *extra; /* spliced into the row; NULL: `body` is the whole answer */
        const char *body;
        const char *reason;
    } bad[] = {
        {",\"holder\":null", NULL, "row 1: column 'holder' is null"},
        {",\"holder\":5", NULL, "column 'holder' is not a string"},
        {",\"status\":\"exploded\"", NULL, "is not a cycle status"},
        {",\"error\":\"a\\u0000b\"", NULL, "holds a NUL character"},
        {",\"error\":\"\\ud83d\"", NULL, "is not JSON"},
        {",\"started_at\":\"soon\"", NULL, "column 'started_at' is not an ISO time"},
        {",\"started_at\":1795756500", NULL, "column 'started_at' is not a string"},
        {",\"orders\":[{\"cl_ord_id\":\"a1\"}]", NULL, "column 'orders' is not a string"},
        {",\"orders\":\"[1,\"", NULL, "column 'orders' is not JSON"},
        {",\"decision\":\"{\\\"x\\\":1e999}\"", NULL, "column 'decision' is not JSON (a number is out of range"},
        {",\"x\":1e400", NULL, "out of range"},
        {",\"x\":NaN", NULL, "is not JSON"},
        {NULL, "{\"cycle_id\":\"c1\"}", "not a JSON array of rows"},
        {NULL, "{}", "not a JSON array of rows"},
        {NULL, "[5]", "row 1 is not an object"},
        {NULL, "[[]]", "row 1: column 'cycle_id' is missing"},
        {NULL, "[{\"cycle_id\":\"c1\",\"status\":\"done\",\"holder\":\"h\"}]", "column 'strategy' is missing"},
        {NULL, "[{\"unexpected\":1}]", "column 'cycle_id' is missing"},
        {NULL, "", "the answer is not JSON"},
        {NULL, "<html>this is not json", "the answer is not JSON"},
        {NULL, "[{\"cycle_id\":\"c1\",", "the answer is not JSON"},
        {NULL, "[] []", "the answer is not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i].extra) snprintf(body, sizeof body, "[%s]", cycle_row(row, sizeof row, bad[i].extra));
        else snprintf(body, sizeof body, "%s", bad[i].body);
        rows = (store_cycle *)1, n = 7;
        CHECK_MSG(read_cycles(j, body, 1, &rows, &n, why, sizeof why) == -1, body);
        CHECK(rows == NULL && n == 0);
        CHECK_MSG(strstr(why, bad[i].reason) != NULL, why);
    }
    /* a truncated body, at every length */
    snprintf(body, sizeof body, "[%s]", cycle_row(row, sizeof row, ""));
    int refused = 0, len = (int)strlen(body);
    for (int cut = 0; cut < len; cut++)
        refused += read_table(j, STORE_JSON_CYCLES, body, (size_t)cut, 1, &rows, &n, why, sizeof why) == -1;
    CHECK_INT(refused, len);
    /* two rows where one was asked for */
    snprintf(body, sizeof body, "[%s,%s]", row, row);
    CHECK_INT(read_cycles(j, body, 1, &rows, &n, why, sizeof why), -1);
    CHECK_MSG(strstr(why, "2 rows where at most 1") != NULL, why);
    CHECK_INT(read_cycles(j, body, 2, &rows, &n, why, sizeof why), 0);
    CHECK_INT(n, 2);
    store_cycles_free(rows, n);
    /* the second row's problem fails the first too */
    char row2[1500];
    snprintf(body, sizeof body, "[%s,%s]", row, cycle_row(row2, sizeof row2, ",\"mode\":[]"));
    CHECK_INT(read_cycles(j, body, 0, &rows, &n, why, sizeof why), -1);
    CHECK_MSG(strstr(why, "row 2: column 'mode' is not a string") != NULL, why);
}

static void test_json_ledger(store_json *j)
{
    char why[400];
    store_balance *b = NULL;
    size_t n = 0;
    const char *bal = "[{\"asset\":\"USD\",\"amount\":9987.5},{\"asset\":\"XBT\",\"amount\":\"0.10000000\"},"
                      "{\"asset\":\"ETH\",\"amount\":-0.0}]";
    CHECK_INT(read_table(j, STORE_JSON_BALANCES, bal, strlen(bal), 0, &b, &n, why, sizeof why), 0);
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(b[0].asset, "USD");
        CHECK(b[0].amount == 9987.5 && b[1].amount == 0.1 && b[2].amount == 0);
    }
    free(b);
    const char *bad_bal[] = {"[{\"asset\":\"USD\",\"amount\":\"ten\"}]", "[{\"asset\":\"USD\",\"amount\":\"0x10\"}]",
                             "[{\"asset\":\"USD\",\"amount\":true}]", "[{\"asset\":\"USD\",\"amount\":null}]",
                             "[{\"asset\":\"USD\"}]", "[{\"asset\":\"USD\",\"amount\":\"1e400\"}]",
                             "[{\"asset\":\"AN_ASSET_NAME_OF_MORE_THAN_31_BYTES\",\"amount\":1}]", NULL};
    for (int i = 0; bad_bal[i]; i++) {
        CHECK_MSG(read_table(j, STORE_JSON_BALANCES, bad_bal[i], strlen(bad_bal[i]), 0, &b, &n, why, sizeof why) == -1, bad_bal[i]);
        CHECK(b == NULL && n == 0);
    }
    CHECK_INT(read_table(j, STORE_JSON_BALANCES, bad_bal[0], strlen(bad_bal[0]), 0, &b, &n, why, sizeof why), -1);
    CHECK_STR(why, "row 1: column 'amount' is not a number");

    store_fill *f = NULL;
    const char *fill = "[{\"id\":42,\"strategy\":\"s1\",\"cycle_id\":\"c1\",\"order_ref\":null,"
                       "\"ts\":\"2026-11-27T05:15:00+00:00\",\"pair\":\"XBTUSD\",\"side\":\"buy\",\"order_type\":\"market\","
                       "\"volume\":0.1,\"price\":50000,\"cost\":5000,\"fee\":13,\"base_asset\":\"XBT\","
                       "\"quote_asset\":\"USD\",\"realized_pnl\":-1.25e-3,\"reason\":\"ema\"}]";
    CHECK_INT(read_table(j, STORE_JSON_FILLS, fill, strlen(fill), 0, &f, &n, why, sizeof why), 0);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_INT(f[0].id, 42);
        CHECK(f[0].order_ref == NULL);
        CHECK_STR(f[0].reason, "ema");
        CHECK(f[0].realized_pnl == -1.25e-3 && f[0].price == 50000);
    }
    store_fills_free(f, n);
    /* an id a double cannot hold exactly, or not an integer: refused (never cast past int64) */
    const char *ids[] = {"1e300", "9007199254740993", "1.5", "-1e19", "\"7x\""};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char body[1200];
        snprintf(body, sizeof body, "[{\"id\":%s%s", ids[i], strchr(fill, ',') );
        CHECK_MSG(read_table(j, STORE_JSON_FILLS, body, strlen(body), 0, &f, &n, why, sizeof why) == -1, body);
        CHECK(f == NULL && n == 0);
    }

    int64_t id = 0;
    const char *ok_id = "{\"id\": 7, \"base_amount\": 0.1}";
    CHECK_INT(store_json_object_int(j, ok_id, strlen(ok_id), "id", &id, why, sizeof why), 0);
    CHECK_INT(id, 7);
    CHECK_INT(store_json_object_int(j, "[{\"id\":7}]", 10, "id", &id, why, sizeof why), -1);
    CHECK_INT(store_json_object_int(j, "{\"id\":null}", 11, "id", &id, why, sizeof why), -1);
    CHECK_INT(store_json_object_int(j, "{}", 2, "id", &id, why, sizeof why), -1);
    CHECK_MSG(strstr(why, "column 'id' is missing") != NULL, why);
}

static void test_json_state(store_json *j)
{
    char why[400], *value = NULL;
    store_kv *kv = NULL;
    size_t n = 0;
    const char *kvs = "[{\"key\":\"a\",\"value\":\"{\\\"ema\\\": [1.5, 2]}\"},{\"key\":\"b\",\"value\":\"\\\"text\\\"\"}]";
    CHECK_INT(read_table(j, STORE_JSON_KVS, kvs, strlen(kvs), 0, &kv, &n, why, sizeof why), 0);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(kv[0].value, "{\"ema\": [1.5, 2]}");
        CHECK_STR(kv[1].value, "\"text\"");
    }
    store_kvs_free(kv, n);
    const char *raw = "[{\"key\":\"a\",\"value\":{\"ema\":1}}]"; /* not cast to text: wrong shape */
    CHECK_INT(read_table(j, STORE_JSON_KVS, raw, strlen(raw), 0, &kv, &n, why, sizeof why), -1);

    int64_t t = -1;
    const char *ctl = "[{\"value\":\"1\",\"updated_at\":\"2026-11-27T05:15:00Z\"}]";
    CHECK_INT(store_json_one(j, ctl, strlen(ctl), "value", 0, &value, "updated_at", &t, why, sizeof why), 1);
    CHECK_STR(value, "1");
    CHECK_INT(t, 1795756500000LL);
    free(value);
    CHECK_INT(store_json_one(j, "[]", 2, "value", 0, &value, "updated_at", &t, why, sizeof why), 0);
    CHECK(value == NULL && t == 0);
    const char *two = "[{\"value\":\"1\"},{\"value\":\"2\"}]";
    CHECK_INT(store_json_one(j, two, strlen(two), "value", 0, &value, NULL, NULL, why, sizeof why), -1);
    const char *bad_time = "[{\"value\":\"1\",\"updated_at\":\"yesterday\"}]";
    CHECK_INT(store_json_one(j, bad_time, strlen(bad_time), "value", 0, &value, "updated_at", &t, why, sizeof why), -1);
    CHECK(value == NULL);

    size_t count = 9;
    const char *locks = "[{\"name\":\"n\",\"holder\":\"h\"},{\"name\":\"m\",\"holder\":\"h\"}]";
    CHECK_INT(store_json_count(j, locks, strlen(locks), "holder", &count, why, sizeof why), 0);
    CHECK_INT(count, 2);
    CHECK_INT(store_json_count(j, "[{}]", 4, "holder", &count, why, sizeof why), -1);
    CHECK_INT(store_json_count(j, "{}", 2, "holder", &count, why, sizeof why), -1);

    char *code, *message, *details;
    const char *e = "{\"code\":\"23505\",\"message\":\"duplicate key\",\"details\":null,\"hint\":null}";
    CHECK_INT(store_json_error(j, e, strlen(e), &code, &message, &details), 0);
    CHECK_STR(code, "23505");
    CHECK_STR(message, "duplicate key");
    CHECK(details == NULL);
    free(code), free(message), free(details);
    const char *odd = "{\"code\":5,\"message\":{\"a\":1}}";
    CHECK_INT(store_json_error(j, odd, strlen(odd), &code, &message, &details), 0);
    CHECK(code == NULL && message == NULL && details == NULL);
    CHECK_INT(store_json_error(j, "<html>", 6, &code, &message, &details), -1);
    CHECK_INT(store_json_error(j, NULL, 0, &code, &message, &details), -1);
}

/* An answer too big for the state's memory cap is refused like a malformed one, and the state
 * serves the next answer. */
static void test_json_memory_cap(void)
{
    store_json *j = store_json_open(256 << 10);
    CHECK(j != NULL);
    if (!j) return;
    size_t rows = 20000, len = 0;
    char *body = malloc(rows * 40 + 8);
    body[len++] = '[';
    for (size_t i = 0; i < rows; i++) len += (size_t)sprintf(body + len, "%s{\"key\":\"k%zu\",\"value\":\"1\"}", i ? "," : "", i);
    body[len++] = ']';
    char why[400];
    store_kv *kv = NULL;
    size_t n = 0;
    CHECK_INT(read_table(j, STORE_JSON_KVS, body, len, 0, &kv, &n, why, sizeof why), -1);
    CHECK_MSG(strstr(why, "the answer needs more than 256 KiB to decode") != NULL, why);
    const char *small = "[{\"key\":\"a\",\"value\":\"1\"}]";
    CHECK_INT(read_table(j, STORE_JSON_KVS, small, strlen(small), 0, &kv, &n, why, sizeof why), 0);
    CHECK_INT(n, 1);
    store_kvs_free(kv, n);
    free(body);
    store_json_close(j);
}

static void test_json_readers(void)
{
    store_json *j = store_json_open(0);
    CHECK(j != NULL);
    if (!j) return;
    test_json_cycles(j);
    test_json_ledger(j);
    test_json_state(j);
    store_json_close(j);
    test_json_memory_cap();
}

static void test_misuse(store *st)
{
    char err[512];
    store_cycle info;
    CHECK_INT(store_acquire_cycle(st, "", "s", "PAPER", "h", 10, &info, err, sizeof err), STORE_ACQUIRE_ERROR);
    CHECK(strstr(err, "cycle_id is empty") != NULL);
    CHECK_INT(store_acquire_cycle(st, "c", "s", "paper", "h", 10, &info, err, sizeof err), STORE_ACQUIRE_ERROR);
    CHECK(strstr(err, "PAPER or LIVE") != NULL);
    CHECK_INT(store_acquire_cycle(st, "c", "s", "LIVE", "h", 0, &info, err, sizeof err), STORE_ACQUIRE_ERROR);
    CHECK_INT(store_acquire_cycle(st, "c\n", "s", "LIVE", "h", 10, &info, err, sizeof err), STORE_ACQUIRE_ERROR);
    CHECK(strstr(err, "control character") != NULL);
    CHECK_INT(store_finish_cycle(st, "c", "h", "weird", NULL, NULL, NULL, err, sizeof err), STORE_ERR);
    CHECK_INT(store_finish_cycle(st, "c", "h", "done", "{", NULL, NULL, err, sizeof err), STORE_ERR);
    CHECK_INT(store_resolve_cycle(st, "c", "in_doubt", "skipped", NULL, NULL, err, sizeof err), STORE_ERR);
    CHECK_INT(store_resolve_cycle(st, "c", "running", "done", NULL, NULL, err, sizeof err), STORE_ERR);
    CHECK(strstr(err, "in_doubt or failed") != NULL);
    store_fill f = {.cycle_id = "c", .ts_ms = 1, .pair = "XBTUSD", .side = "buy", .order_type = "market",
                    .volume = -1, .price = 1, .cost = 1, .fee = 0, .base_asset = "XBT", .quote_asset = "USD"};
    CHECK_INT(store_paper_apply_fill(st, "s", &f, NULL, err, sizeof err), STORE_ERR);
    f.volume = 1, f.side = "short";
    CHECK_INT(store_paper_apply_fill(st, "s", &f, NULL, err, sizeof err), STORE_ERR);
    f.side = "buy", f.quote_asset = "XBT";
    CHECK_INT(store_paper_apply_fill(st, "s", &f, NULL, err, sizeof err), STORE_ERR);
    CHECK_INT(store_state_set(st, "s", "k", "not json", err, sizeof err), STORE_ERR);
    store_balance *b;
    size_t n;
    CHECK_INT(store_paper_balances(st, "s", "USD", -5, &b, &n, err, sizeof err), STORE_ERR);
    CHECK_INT(store_lock_acquire(st, "n", "h", 0, NULL, 0, err, sizeof err), STORE_ERR);
    /* nothing reached the database */
    store_cycle *rows;
    CHECK_INT(store_list_cycles(st, 10, NULL, NULL, &rows, &n, err, sizeof err), STORE_OK);
    CHECK_INT(n, 0);
    store_cycles_free(rows, n);
    CHECK_INT(store_list_cycles(st, 10, NULL, "bogus", &rows, &n, err, sizeof err), STORE_ERR);
}

static void test_cycle(store *st)
{
    char err[512];
    store_cycle info;
    CHECK_INT(store_acquire_cycle(st, "c1", "s", "PAPER", "a", 60, &info, err, sizeof err), STORE_ACQUIRED);
    CHECK(info.cycle_id == NULL);
    CHECK_INT(store_acquire_cycle(st, "c1", "s", "PAPER", "b", 60, &info, err, sizeof err), STORE_HELD);
    CHECK_STR(info.holder, "a");
    store_cycle_free(&info);
    CHECK_INT(store_update_cycle_orders(st, "c1", "a", "[{\"cl\":1}]", STORE_DURABLE, err, sizeof err), STORE_OK);
    CHECK_INT(store_update_cycle_orders(st, "c1", "b", "[]", STORE_DURABLE, err, sizeof err), STORE_CONFLICT);
    CHECK_INT(store_finish_cycle(st, "c1", "a", "skipped", NULL, NULL, "no signal", err, sizeof err), STORE_OK);
    CHECK_INT(store_acquire_cycle(st, "c1", "s", "PAPER", "b", 60, &info, err, sizeof err), STORE_DONE);
    CHECK_STR(info.status, "skipped");
    CHECK_STR(info.orders_json, "[{\"cl\":1}]");
    CHECK_STR(info.error, "no signal");
    CHECK(info.finished_ms > 0 && info.started_ms > 0);
    store_cycle_free(&info);
    store_cycle_free(&info); /* twice is safe */
    CHECK_STR(store_acquire_result_name(STORE_TAKEN_OVER), "taken_over");
    int halted = -1;
    CHECK_INT(store_halt_get(st, &halted, err, sizeof err), STORE_OK);
    CHECK_INT(halted, 0);
    CHECK_INT(store_control_set(st, STORE_HALT_KEY, "off", err, sizeof err), STORE_OK);
    CHECK_INT(store_halt_get(st, &halted, err, sizeof err), STORE_OK);
    CHECK_INT(halted, 0);
    CHECK_INT(store_control_set(st, STORE_HALT_KEY, "1", err, sizeof err), STORE_OK);
    CHECK_INT(store_halt_get(st, &halted, err, sizeof err), STORE_OK);
    CHECK_INT(halted, 1);
}

static void test_open_rules(const char *dir)
{
    char err[512], path[600];
    unsetenv("SUPABASE_URL"), unsetenv("SUPABASE_KEY");
    snprintf(path, sizeof path, "%s/nope/titan.db", dir);
    setenv("TITAN_DB", path, 1);
    CHECK(store_open_from_env(err, sizeof err) == NULL);
    CHECK(strstr(err, "does not exist") != NULL);
    setenv("SUPABASE_KEY", "sb_secret_x", 1);
    CHECK(store_open_from_env(err, sizeof err) == NULL);
    CHECK(strstr(err, "SUPABASE_URL is not set") != NULL || strstr(err, "SUPABASE_KEY is set") != NULL);
    setenv("SUPABASE_URL", "https://abc.supabase.co/rest/v1/", 1);
    store *st = store_open_from_env(err, sizeof err);
    CHECK(st != NULL);
    if (st) {
        CHECK_STR(store_describe(st), "supabase https://abc.supabase.co");
        CHECK_INT(store_backend_of(st), STORE_BACKEND_SUPABASE);
        store_close(st);
    }
    setenv("SUPABASE_URL", "https://user:pw@abc.supabase.co", 1);
    CHECK(store_open_from_env(err, sizeof err) == NULL);
    CHECK(strstr(err, "pw") == NULL);
    unsetenv("SUPABASE_URL"), unsetenv("SUPABASE_KEY"), unsetenv("TITAN_DB");
}


static store_fill test_fill(const char *ref, double volume)
{
    return (store_fill){.cycle_id = "b1", .order_ref = ref, .ts_ms = 1794960000000, .pair = "XBTUSD", .side = "buy",
                        .order_type = "market", .volume = volume, .price = 100, .cost = volume * 100, .fee = 0,
                        .base_asset = "XBT", .quote_asset = "USD", .reason = "test"};
}

static size_t fill_count(store *st, const char *strategy)
{
    char err[512];
    store_fill *rows = NULL;
    size_t n = 0;
    if (store_paper_fills(st, strategy, NULL, 0, 100, &rows, &n, err, sizeof err) != STORE_OK) return (size_t)-1;
    store_fills_free(rows, n);
    return n;
}

/* A batch: one transaction around the cycle's last writes; a refused write inside changes
 * nothing of its own and leaves the others; closing inside a batch discards it. */
static void test_batch(const char *dir)
{
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/batch.db", dir);
    store *st = store_open_sqlite(path, err, sizeof err);
    CHECK_MSG(st != NULL, err);
    if (!st) return;
    store_balance *b = NULL;
    size_t n = 0;
    CHECK_INT(store_paper_balances(st, "bs", "USD", 1000, &b, &n, err, sizeof err), STORE_OK);
    free(b);
    CHECK_INT(store_acquire_cycle(st, "b1", "bs", "PAPER", "h", 60, NULL, err, sizeof err), STORE_ACQUIRED);
    CHECK_INT(store_batch_begin(st, err, sizeof err), STORE_OK);
    CHECK_INT(store_batch_begin(st, err, sizeof err), STORE_OK);   /* a second begin: the same batch */
    store_fill f = test_fill("o1", 1);
    CHECK_INT(store_paper_apply_fill(st, "bs", &f, NULL, err, sizeof err), STORE_OK);
    CHECK_INT(store_paper_apply_fill(st, "bs", &f, NULL, err, sizeof err), STORE_CONFLICT);   /* the same ref */
    store_fill big = test_fill("o2", 100);                                                    /* 10000 > cash */
    CHECK_INT(store_paper_apply_fill(st, "bs", &big, NULL, err, sizeof err), STORE_CONFLICT);
    CHECK_INT(store_state_set(st, "bs", "k", "{\"a\":1}", err, sizeof err), STORE_OK);
    CHECK_INT((int)fill_count(st, "bs"), 1);                                  /* the batch reads its own writes */
    CHECK_INT(store_finish_cycle(st, "b1", "h", "done", NULL, "[]", NULL, err, sizeof err), STORE_OK);
    CHECK_INT(store_batch_end(st, err, sizeof err), STORE_OK);
    CHECK_INT(store_batch_end(st, err, sizeof err), STORE_OK);                /* no batch: nothing to do */
    store_close(st);

    st = store_open_sqlite(path, err, sizeof err);
    CHECK_MSG(st != NULL, err);
    if (!st) return;
    CHECK_INT((int)fill_count(st, "bs"), 1);
    CHECK_INT(store_paper_balances(st, "bs", NULL, 0, &b, &n, err, sizeof err), STORE_OK);
    CHECK_MSG(n == 2 && store_balance_of(b, n, "USD") == 900 && store_balance_of(b, n, "XBT") == 1,
              "the refused fills changed no balance");
    free(b);
    char *v = NULL;
    CHECK_INT(store_state_get(st, "bs", "k", &v, err, sizeof err), STORE_OK);
    free(v);
    store_cycle row;
    CHECK_INT(store_get_cycle(st, "b1", &row, err, sizeof err), STORE_OK);
    CHECK_STR(row.status, "done");
    store_cycle_free(&row);
    /* a batch that never ends (the process died) leaves nothing */
    CHECK_INT(store_batch_begin(st, err, sizeof err), STORE_OK);
    CHECK_INT(store_state_set(st, "bs", "lost", "1", err, sizeof err), STORE_OK);
    store_fill f3 = test_fill("o3", 1);
    CHECK_INT(store_paper_apply_fill(st, "bs", &f3, NULL, err, sizeof err), STORE_OK);
    store_close(st);
    st = store_open_sqlite(path, err, sizeof err);
    CHECK_MSG(st != NULL, err);
    if (!st) return;
    CHECK_INT(store_state_get(st, "bs", "lost", &v, err, sizeof err), STORE_NOT_FOUND);
    CHECK_INT((int)fill_count(st, "bs"), 1);
    /* the same query many times: the statement is prepared once and reset between uses */
    int same = 1;
    for (int i = 0; i < 200; i++) {
        same &= store_state_get(st, "bs", "k", &v, err, sizeof err) == STORE_OK && strcmp(v, "{\"a\":1}") == 0;
        free(v);
    }
    CHECK_MSG(same, "200 reads of one key");
    store_close(st);
}

/* Size and modification time (ns) of a file, -1 when absent: what a write would change. */
static long long file_stamp(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size * 1000003 + sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec
                                : -1;
}

/* Opening a file already at the schema writes nothing; a file of an older release (another
 * user_version) is brought up to date once: its missing tables are created. */
static void test_reopen(const char *dir)
{
    char path[600], wal[610], err[512];
    snprintf(path, sizeof path, "%s/reopen.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    store *st = store_open_sqlite(path, err, sizeof err);
    CHECK_MSG(st != NULL, err);
    store_close(st);
    long long db_before = file_stamp(path), wal_before = file_stamp(wal);
    usleep(20000);   /* past the file system's time resolution */
    for (int i = 0; i < 3; i++) store_close(store_open_sqlite(path, err, sizeof err));
    CHECK_MSG(file_stamp(path) == db_before && file_stamp(wal) == wal_before, "opening a current file again writes nothing");

    sqlite3 *db = NULL;
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "DROP TABLE locks; PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    st = store_open_sqlite(path, err, sizeof err);
    CHECK_MSG(st != NULL, err);
    char holder[200] = "";
    CHECK_INT(store_lock_acquire(st, "n", "me", 10, holder, sizeof holder, err, sizeof err), STORE_OK);
    store_close(st);
}

int main(void)
{
    test_json_valid();
    test_json_readers();
    char dir[] = "/tmp/titan-store-unit.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/t.db", dir);
    store *st = store_open_sqlite(path, err, sizeof err);
    CHECK_MSG(st != NULL, err);
    if (st) {
        char want[700];
        snprintf(want, sizeof want, "sqlite %s", path);
        CHECK_STR(store_describe(st), want);
        test_misuse(st);
        test_cycle(st);
        store_close(st);
    }
    test_open_rules(dir);
    test_batch(dir);
    test_reopen(dir);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return UNIT_DONE("test_store");
}
