/* Unit tests of the store's shared parts: the JSON reader the Supabase backend parses PostgREST
 * answers with, argument checks (misuse never reaches a database), opening rules, the
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
    test_batch(dir);
    test_reopen(dir);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return UNIT_DONE("test_store");
}
