/* Unit tests of the store's shared parts: the JSON reader the Supabase backend parses PostgREST
 * answers with, argument checks (misuse never reaches a database), opening rules, and the
 * single-process lock semantics on a real SQLite file in a temporary folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
                          "\"x\"", "0", "-0.5", "{\"k\":\"\\\"q\\\"\"}", NULL};
    const char *bad[] = {"", "[", "[1,]", "{\"a\"}", "{\"a\":}", "01", "1.", "tru", "\"\\x\"", "\"a", "[1] x",
                         "{'a':1}", "\"\\u12g4\"", "nul", "[\"tab\there\"]", NULL};
    for (int i = 0; good[i]; i++) CHECK_MSG(json_ok(good[i]), good[i]);
    for (int i = 0; bad[i]; i++) CHECK_MSG(!json_ok(bad[i]), bad[i]);
    char deep[300];
    memset(deep, '[', 150), memset(deep + 150, ']', 150), deep[sizeof deep - 1] = 0;
    deep[299] = '\0';
    CHECK_MSG(!json_ok(deep), "nesting deeper than 64 is refused");
}

static void test_json_rows(void)
{
    const char *body = "[{\"cycle_id\":\"c1\",\"n\":1.5,\"s\":\"a\\\"b\\u00e9\\ud83d\\ude00\",\"j\":{\"x\":[1,2]},"
                       "\"z\":null},{\"cycle_id\":\"c2\",\"n\":\"7\"}]";
    size_t len = strlen(body), pos = 0, vlen;
    const char *v;
    CHECK_INT(store_json_array_next(body, len, &pos, &v, &vlen), 1);
    char *s = NULL;
    CHECK_INT(store_json_member_dup(v, vlen, "cycle_id", &s), 0);
    CHECK_STR(s, "c1");
    free(s);
    CHECK_INT(store_json_member_dup(v, vlen, "s", &s), 0);
    CHECK_STR(s, "a\"b\xc3\xa9\xf0\x9f\x98\x80");
    free(s);
    CHECK_INT(store_json_member_raw(v, vlen, "j", &s), 0);
    CHECK_STR(s, "{\"x\":[1,2]}");
    free(s);
    CHECK_INT(store_json_member_raw(v, vlen, "s", &s), 0);
    CHECK_STR(s, "\"a\\\"b\\u00e9\\ud83d\\ude00\"");
    free(s);
    s = (char *)1;
    CHECK_INT(store_json_member_dup(v, vlen, "z", &s), 0);
    CHECK(s == NULL);
    CHECK_INT(store_json_member_dup(v, vlen, "absent", &s), 0);
    CHECK(s == NULL);
    double d = 0;
    CHECK_INT(store_json_member_double(v, vlen, "n", &d), 0);
    CHECK(d == 1.5);
    CHECK_INT(store_json_member_double(v, vlen, "s", &d), -1);
    CHECK_INT(store_json_array_next(body, len, &pos, &v, &vlen), 1);
    CHECK_INT(store_json_member_double(v, vlen, "n", &d), 0);
    CHECK(d == 7);
    CHECK_INT(store_json_array_next(body, len, &pos, &v, &vlen), 0);

    pos = 0;
    CHECK_INT(store_json_array_next("[]", 2, &pos, &v, &vlen), 0);
    pos = 0;
    CHECK_INT(store_json_array_next("{\"a\":1}", 7, &pos, &v, &vlen), -1);
    pos = 0;
    CHECK_INT(store_json_array_next("[1 2]", 5, &pos, &v, &vlen), -1);
    int64_t ms = -1;
    const char *t = "{\"a\":\"2026-11-27T05:15:00.123456+00:00\",\"b\":null,\"c\":\"soon\"}";
    CHECK_INT(store_json_member_time(t, strlen(t), "a", &ms), 0);
    CHECK_INT(ms, 1795756500123LL);
    CHECK_INT(store_json_member_time(t, strlen(t), "b", &ms), 0);
    CHECK_INT(ms, 0);
    CHECK_INT(store_json_member_time(t, strlen(t), "c", &ms), -1);
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
    CHECK_INT(store_resolve_in_doubt(st, "c", "skipped", NULL, NULL, err, sizeof err), STORE_ERR);
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
    CHECK_INT(store_update_cycle_orders(st, "c1", "a", "[{\"cl\":1}]", err, sizeof err), STORE_OK);
    CHECK_INT(store_update_cycle_orders(st, "c1", "b", "[]", err, sizeof err), STORE_CONFLICT);
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

int main(void)
{
    test_json_valid();
    test_json_rows();
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
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return UNIT_DONE("test_store");
}
