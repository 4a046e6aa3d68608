/* cycle_run driven from C against the loopback fake Kraken (tests/fakes/kraken_fake.py, real
 * sockets) and a real SQLite file: a PAPER cycle, the slot lock, a LIVE cycle, and the way out
 * of an internal error raised around a send (cycle_options.fault), which must keep every order
 * record and end in doubt while one's fate is unknown, for the next run to reconcile. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "blackbox.h"
#include "cycle.h"
#include "exit_codes.h"
#include "http.h"
#include "kraken.h"
#include "orders.h"
#include "secrets.h"
#include "store.h"
#include "unit.h"

#define TEST_DAY0 1794960000000LL   /* 2026-11-18T00:00Z */

static char test_dir[256], test_db[300], test_url[64];
static pid_t test_fake;

static int test_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(s);
    return ntohs(a.sin_port);
}

static int test_port_open(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0) close(s);
    return ok;
}

static int test_start_fake(void)
{
    int port = test_free_port();
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    test_fake = fork();
    if (test_fake == 0) {
        execlp("python3", "python3", "tests/fakes/kraken_fake.py", "--port", port_text, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && !test_port_open(port); i++) usleep(100000);
    snprintf(test_url, sizeof test_url, "http://127.0.0.1:%d", port);
    setenv("KRAKEN_API_URL", test_url, 1);
    return test_port_open(port) ? 0 : -1;
}

/* POST /__control with a JSON command. */
static void test_control(const char *json)
{
    char url[128];
    snprintf(url, sizeof url, "%s/__control", test_url);
    const char *headers[] = {"Content-Type: application/json"};
    http_request req = {.method = "POST", .url = url, .headers = headers, .header_count = 1, .body = json,
                        .body_len = strlen(json)};
    http_response res;
    http_perform(&req, &res);
    CHECK_MSG(res.status == 200, json);
    http_response_free(&res);
}

static int test_booked_orders(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/__orders", test_url);
    http_request req = {.method = "GET", .url = url};
    http_response res;
    http_perform(&req, &res);
    int n = 0;
    for (const char *p = res.body; p && (p = strstr(p, "\"txid\"")); p++) n++;
    http_response_free(&res);
    return n;
}

static const char *test_strategy(const char *name, const char *body)
{
    static char path[400];
    snprintf(path, sizeof path, "%s/%s.lua", test_dir, name);
    FILE *f = fopen(path, "w");
    fprintf(f, "return { name = \"%s\", pair = \"XBTUSD\", interval = 15,\n"
               "  on_cycle = function(ctx) %s end }\n", name, body);
    fclose(f);
    return path;
}

static int test_run(const char *path, int slot, void (*fault)(lua_State *, const char *, const char *))
{
    char now[32];
    snprintf(now, sizeof now, "%lld", TEST_DAY0 + slot * 900000LL + 30000);
    setenv("TITAN_FAKE_NOW_MS", now, 1);
    cycle_options opt = {.strategy_path = path, .fault = fault};
    return cycle_run(&opt);
}

/* The row of `cycle_id` and its orders (parsed); returns the status, "" when absent. */
static const char *test_row(const char *cycle_id, order_list *orders)
{
    static char status[32];
    char err[256];
    store *st = store_open_sqlite(test_db, err, sizeof err);
    store_cycle row;
    status[0] = '\0';
    memset(orders, 0, sizeof *orders);
    if (st && store_get_cycle(st, cycle_id, &row, err, sizeof err) == STORE_OK) {
        snprintf(status, sizeof status, "%s", row.status);
        CHECK_MSG(order_list_parse(row.orders_json, orders) == 0, "orders readable");
        store_cycle_free(&row);
    }
    if (st) store_close(st);
    return status;
}

static void test_paper(void)
{
    setenv("SYSTEM_MODE", "PAPER", 1);
    const char *path = test_strategy("c_paper", "return { { side = 'buy', type = 'market', quote = 20 } }");
    order_list o;
    CHECK_INT(test_run(path, 1, NULL), EXIT_OK);
    CHECK_STR(test_row("c_paper@2026-11-18T00:15Z", &o), "done");
    CHECK_INT(o.n, 1);
    if (o.n) CHECK_STR(o.items[0].state, ORDER_FILLED);
    order_list_free(&o);
    /* the same slot again: skipped, nothing more filled */
    CHECK_INT(test_run(path, 1, NULL), EXIT_OK);
    CHECK_STR(test_row("c_paper@2026-11-18T00:15Z", &o), "done");
    order_list_free(&o);
    char err[256];
    store *st = store_open_sqlite(test_db, err, sizeof err);
    store_fill *fills = NULL;
    size_t n = 0;
    CHECK(st && store_paper_fills(st, "c_paper", NULL, 0, 0, &fills, &n, err, sizeof err) == STORE_OK);
    CHECK_INT(n, 1);
    store_fills_free(fills, n);
    if (st) store_close(st);
}

static void test_live(void)
{
    setenv("SYSTEM_MODE", "LIVE", 1);
    const char *path = test_strategy("c_live", "return { { side = 'buy', type = 'market', volume = 0.0001 } }");
    order_list o;
    int before = test_booked_orders();
    CHECK_INT(test_run(path, 2, NULL), EXIT_OK);
    CHECK_STR(test_row("c_live@2026-11-18T00:30Z", &o), "done");
    CHECK_INT(o.n, 1);
    if (o.n) {
        CHECK_STR(o.items[0].state, "closed");
        CHECK(o.items[0].txid[0] == 'O');
    }
    order_list_free(&o);
    CHECK_INT(test_booked_orders(), before + 1);
}

static void test_fault_after_send(lua_State *L, const char *point, const char *cl_ord_id)
{
    (void)cl_ord_id;
    if (strcmp(point, "after_send") == 0) luaL_error(L, "injected fault after the first send");
}

static void test_fault_before_send(lua_State *L, const char *point, const char *cl_ord_id)
{
    (void)cl_ord_id;
    if (strcmp(point, "before_send") == 0) luaL_error(L, "injected fault before the send");
}

static void test_internal_errors(void)
{
    setenv("SYSTEM_MODE", "LIVE", 1);
    const char *two = test_strategy("c_two", "return { { side = 'buy', type = 'market', volume = 0.0001 }, "
                                             "{ side = 'buy', type = 'market', volume = 0.0002 } }");
    order_list o;
    int before = test_booked_orders();
    /* raised after the first order was placed: its record keeps the txid; the second, planned and
     * never confirmed unsent, keeps the cycle in doubt */
    CHECK_INT(test_run(two, 3, test_fault_after_send), EXIT_IN_DOUBT);
    CHECK_STR(test_row("c_two@2026-11-18T00:45Z", &o), "in_doubt");
    CHECK_INT(o.n, 2);
    if (o.n == 2) {
        CHECK_STR(o.items[0].state, ORDER_PLACED);
        CHECK(o.items[0].txid[0] == 'O');
        CHECK_STR(o.items[1].state, ORDER_SENDING);
    }
    order_list_free(&o);
    CHECK_INT(test_booked_orders(), before + 1);
    /* the next run reconciles the second (absent: never placed), then trades */
    CHECK_INT(test_run(two, 4, NULL), EXIT_OK);
    CHECK_STR(test_row("c_two@2026-11-18T00:45Z", &o), "done");
    if (o.n == 2) CHECK_STR(o.items[1].state, ORDER_NOT_PLACED);
    order_list_free(&o);
    /* raised with the only order recorded "sending": in doubt, never "failed" */
    const char *one = test_strategy("c_one", "return { { side = 'buy', type = 'market', volume = 0.0001 } }");
    before = test_booked_orders();
    CHECK_INT(test_run(one, 5, test_fault_before_send), EXIT_IN_DOUBT);
    CHECK_STR(test_row("c_one@2026-11-18T01:15Z", &o), "in_doubt");
    if (o.n == 1) CHECK_STR(o.items[0].state, ORDER_SENDING);
    CHECK_INT(o.n, 1);
    order_list_free(&o);
    CHECK_INT(test_booked_orders(), before);
}

/* Odd stored order records are read without raising; anything but an array of objects is unreadable. */
static void test_orders_documents(void)
{
    order_list o;
    CHECK_INT(order_list_parse(NULL, &o), 0);
    CHECK_INT(o.n, 0);
    CHECK_INT(order_list_parse("[]", &o), 0);
    static const char *const unreadable[] = {"5", "\"x\"", "null", "[1]", "[{}, 2]", "{\"a\": 1}", "[[", "{", "[null]"};
    for (size_t i = 0; i < sizeof unreadable / sizeof unreadable[0]; i++)
        CHECK_MSG(order_list_parse(unreadable[i], &o) == -1 && o.n == 0, unreadable[i]);
    CHECK_INT(order_list_parse("[{\"state\": 5, \"cl_ord_id\": [1], \"index\": \"x\", \"cost\": \"7\"}]", &o), 0);
    CHECK_INT(o.n, 1);
    if (o.n) {
        CHECK(order_fate_unknown(&o.items[0]));         /* no state: never assumed final */
        CHECK_STR(o.items[0].cl_ord_id, "");
    }
    order_list_free(&o);
    CHECK_INT(order_list_parse("[{\"index\": 2, \"cl_ord_id\": \"a\", \"state\": \"closed\", \"txid\": \"T\", "
                               "\"vol_exec\": 0.5, \"fill_id\": 3}]", &o), 0);
    if (o.n) {
        CHECK(!order_fate_unknown(&o.items[0]));
        CHECK_INT(o.items[0].index, 2);
        CHECK(o.items[0].vol_exec == 0.5);
        char *json = order_list_json(&o);
        CHECK_STR(json, "[{\"index\":2,\"cl_ord_id\":\"a\",\"state\":\"closed\",\"txid\":\"T\",\"vol_exec\":0.5,"
                        "\"fill_id\":3}]");
        free(json);
    }
    order_list_free(&o);
}

int main(void)
{
    snprintf(test_dir, sizeof test_dir, "%s/titan-cycle.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(test_dir)) return 1;
    snprintf(test_db, sizeof test_db, "%s/cycle.db", test_dir);
    char blackbox[300];
    snprintf(blackbox, sizeof blackbox, "%s/blackbox.log", test_dir);
    setenv("TITAN_DB", test_db, 1);
    setenv("TITAN_BLACKBOX", blackbox, 1);
    setenv("TITAN_LOG_LEVEL", "error", 1);
    setenv("KRAKEN_API_KEY", "cycle-test-key", 1);
    setenv("KRAKEN_SECRET", "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==", 1);
    unsetenv("SUPABASE_URL");
    unsetenv("SUPABASE_KEY");
    unsetenv("TITAN_HALT");
    secrets_init();
    blackbox_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CHECK_MSG(test_start_fake() == 0, "the fake Kraken started");
    test_orders_documents();
    if (test_fake > 0 && unit_failed == 0) {
        test_control("{\"reset\": true, \"balances\": {\"ZUSD\": \"10000.0000\", \"XXBT\": \"0.0\"}}");
        test_paper();
        test_live();
        test_internal_errors();
    }
    if (test_fake > 0) {
        kill(test_fake, SIGTERM);
        waitpid(test_fake, NULL, 0);
    }
    blackbox_close();
    http_shutdown();
    curl_global_cleanup();
    kraken_shutdown();
    secrets_shutdown();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", test_dir);
    return UNIT_DONE("test_cycle");
}
