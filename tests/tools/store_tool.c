/* store_tool: drives the store API (host/store.h) from shell tests, one operation per process,
 * so the e2e suites can race real processes, SIGKILL a holder, and inject faults. Not a unit
 * suite (tests/run does not run it on its own). Exit: 0 ok (acquired/done/held/taken_over
 * included), 1 store error, 2 usage, 3 conflict, 4 not found. Prints err text unredacted on
 * purpose: the tests grep it for the key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "blackbox.h"
#include "clock.h"
#include "secrets.h"
#include "store.h"

static int tool_rc(store_rc rc, const char *err)
{
    switch (rc) {
    case STORE_OK: printf("ok\n"); return 0;
    case STORE_CONFLICT: printf("conflict: %s\n", err); return 3;
    case STORE_NOT_FOUND: printf("not_found: %s\n", err); return 4;
    case STORE_ERR: break;
    }
    printf("error: %s\n", err);
    return 1;
}

static void tool_print_cycle(const store_cycle *c)
{
    char a[CLOCK_ISO_SIZE], b[CLOCK_ISO_SIZE], f[CLOCK_ISO_SIZE];
    printf("cycle=%s strategy=%s mode=%s status=%s holder=%s started=%s lease_until=%s finished=%s orders=%s "
           "decision=%s error=%s version=%s\n",
           c->cycle_id, c->strategy ? c->strategy : "-", c->mode ? c->mode : "-", c->status, c->holder,
           c->started_ms ? clock_iso(c->started_ms, a) : "-", c->lease_until_ms ? clock_iso(c->lease_until_ms, b) : "-",
           c->finished_ms ? clock_iso(c->finished_ms, f) : "-", c->orders_json ? c->orders_json : "-",
           c->decision_json ? c->decision_json : "-", c->error ? c->error : "-",
           c->host_version ? c->host_version : "-");
}

/* Waits for a start file so racing processes begin together. */
static void tool_wait_file(const char *path)
{
    for (int i = 0; i < 3000 && access(path, F_OK) != 0; i++) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int tool_acquire(store *st, int argc, char **argv, int hold_s)
{
    if (argc < 6) return 2;
    char err[1024] = "";
    store_cycle info;
    store_acquire_result r = store_acquire_cycle(st, argv[1], argv[2], argv[3], argv[4], atoi(argv[5]), &info, err,
                                                 sizeof err);
    switch (r) {
    case STORE_ACQUIRED: printf("acquired\n"); break;
    case STORE_DONE: printf("done status=%s\n", info.status); break;
    case STORE_HELD: printf("held holder=%s lease_until_ms=%lld\n", info.holder, (long long)info.lease_until_ms); break;
    case STORE_TAKEN_OVER:
        printf("taken_over previous=%s orders=%s\n", info.holder, info.orders_json ? info.orders_json : "-");
        break;
    case STORE_ACQUIRE_ERROR: printf("error: %s\n", err); break;
    }
    fflush(stdout);
    store_cycle_free(&info);
    if (r == STORE_ACQUIRE_ERROR) return 1;
    if (hold_s > 0 && (r == STORE_ACQUIRED || r == STORE_TAKEN_OVER)) sleep((unsigned)hold_s);
    return 0;
}

static int tool_run(store *st, int argc, char **argv)
{
    const char *op = argv[0];
    char err[1024] = "";
    if (strcmp(op, "describe") == 0) {
        printf("%s\n", store_describe(st));
        return 0;
    }
    if (strcmp(op, "acquire") == 0) return tool_acquire(st, argc, argv, 0);
    if (strcmp(op, "hold") == 0 && argc >= 7) return tool_acquire(st, argc, argv, atoi(argv[6]));
    if (strcmp(op, "finish") == 0 && argc >= 4)
        return tool_rc(store_finish_cycle(st, argv[1], argv[2], argv[3], argc > 5 ? argv[5] : NULL,
                                          argc > 4 ? argv[4] : NULL, argc > 6 ? argv[6] : NULL, err, sizeof err),
                       err);
    if (strcmp(op, "renew") == 0 && argc >= 4)
        return tool_rc(store_renew_lease(st, argv[1], argv[2], atoi(argv[3]), err, sizeof err), err);
    if (strcmp(op, "orders") == 0 && argc >= 4)
        return tool_rc(store_update_cycle_orders(st, argv[1], argv[2], argv[3], STORE_DURABLE, err, sizeof err), err);
    if (strcmp(op, "resolve") == 0 && argc >= 3)
        return tool_rc(store_resolve_cycle(st, argv[1], STORE_STATUS_IN_DOUBT, argv[2], argc > 3 ? argv[3] : NULL,
                                           argc > 4 ? argv[4] : NULL, err, sizeof err),
                       err);
    if (strcmp(op, "get") == 0 && argc >= 2) {
        store_cycle c;
        store_rc rc = store_get_cycle(st, argv[1], &c, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        tool_print_cycle(&c);
        store_cycle_free(&c);
        return 0;
    }
    if (strcmp(op, "list") == 0) {
        store_cycle *rows;
        size_t n;
        store_rc rc = store_list_cycles(st, argc > 1 ? atoi(argv[1]) : 20, argc > 3 && *argv[3] ? argv[3] : NULL,
                                        argc > 2 && *argv[2] ? argv[2] : NULL, &rows, &n, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        for (size_t i = 0; i < n; i++) tool_print_cycle(&rows[i]);
        printf("rows=%zu\n", n);
        store_cycles_free(rows, n);
        return 0;
    }
    if (strcmp(op, "release") == 0 && argc >= 2) {
        store_cycle c;
        store_rc rc = store_release_cycle(st, argv[1], argc > 2 && strcmp(argv[2], "force") == 0, &c, err, sizeof err);
        if (c.cycle_id) printf("row status=%s holder=%s\n", c.status, c.holder);
        store_cycle_free(&c);
        return tool_rc(rc, err);
    }
    if (strcmp(op, "balances") == 0 && argc >= 3) {
        store_balance *b;
        size_t n;
        store_rc rc = store_paper_balances(st, argv[1], "USD", atof(argv[2]), &b, &n, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        for (size_t i = 0; i < n; i++) printf("%s%s=%.10g", i ? " " : "", b[i].asset, b[i].amount);
        printf("\n");
        free(b);
        return 0;
    }
    if (strcmp(op, "fill") == 0 && argc >= 9) {
        /* fill STRATEGY CYCLE REF|- SIDE VOLUME PRICE FEE PNL [TS_MS] */
        double volume = atof(argv[5]), price = atof(argv[6]);
        store_fill f = {.cycle_id = argv[2],
                        .order_ref = strcmp(argv[3], "-") ? argv[3] : NULL,
                        .ts_ms = argc > 9 ? atoll(argv[9]) : clock_now_ms(),
                        .pair = "XBTUSD",
                        .side = argv[4],
                        .order_type = "market",
                        .volume = volume,
                        .price = price,
                        .cost = volume * price,
                        .fee = atof(argv[7]),
                        .base_asset = "XBT",
                        .quote_asset = "USD",
                        .realized_pnl = atof(argv[8]),
                        .reason = "store_tool"};
        int64_t id = 0;
        store_rc rc = store_paper_apply_fill(st, argv[1], &f, &id, err, sizeof err);
        if (rc == STORE_OK) printf("id=%lld\n", (long long)id);
        return tool_rc(rc, err);
    }
    if (strcmp(op, "fills") == 0 && argc >= 2) {
        store_fill *rows;
        size_t n;
        store_rc rc = store_paper_fills(st, argv[1], argc > 3 ? argv[3] : NULL, argc > 2 ? atoll(argv[2]) : 0, 0,
                                        &rows, &n, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        for (size_t i = 0; i < n; i++)
            printf("fill cycle=%s ref=%s side=%s volume=%.10g price=%.10g cost=%.10g fee=%.10g pnl=%.10g ts=%lld\n",
                   rows[i].cycle_id, rows[i].order_ref ? rows[i].order_ref : "-", rows[i].side, rows[i].volume,
                   rows[i].price, rows[i].cost, rows[i].fee, rows[i].realized_pnl, (long long)rows[i].ts_ms);
        printf("fills=%zu\n", n);
        store_fills_free(rows, n);
        return 0;
    }
    if (strcmp(op, "pnl") == 0 && argc >= 3) {
        double sum;
        store_rc rc = store_realized_pnl_since(st, argv[1], atoll(argv[2]), &sum, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        printf("pnl=%.10g\n", sum);
        return 0;
    }
    if (strcmp(op, "state-set") == 0 && argc >= 4)
        return tool_rc(store_state_set(st, argv[1], argv[2], strcmp(argv[3], "-") ? argv[3] : NULL, err, sizeof err),
                       err);
    if (strcmp(op, "state-get") == 0 && argc >= 3) {
        char *v;
        store_rc rc = store_state_get(st, argv[1], argv[2], &v, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        printf("value=%s\n", v);
        free(v);
        return 0;
    }
    if (strcmp(op, "state-list") == 0 && argc >= 2) {
        store_kv *kv;
        size_t n;
        store_rc rc = store_state_list(st, argv[1], &kv, &n, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        for (size_t i = 0; i < n; i++) printf("%s=%s\n", kv[i].key, kv[i].value);
        printf("keys=%zu\n", n);
        store_kvs_free(kv, n);
        return 0;
    }
    if (strcmp(op, "control-set") == 0 && argc >= 3)
        return tool_rc(store_control_set(st, argv[1], argv[2], err, sizeof err), err);
    if (strcmp(op, "control-get") == 0 && argc >= 2) {
        char *v;
        int64_t at;
        store_rc rc = store_control_get(st, argv[1], &v, &at, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        printf("value=%s at=%lld\n", v, (long long)at);
        free(v);
        return 0;
    }
    if (strcmp(op, "capsule-put") == 0 && argc >= 6) {
        /* capsule-put CYCLE STRATEGY RECORDED_MS EXPIRES_MS TEXT */
        store_capsule c = {argv[1], argv[2], atoll(argv[3]), atoll(argv[4]), argv[5]};
        return tool_rc(store_capsule_put(st, &c, err, sizeof err), err);
    }
    if (strcmp(op, "capsule-get") == 0 && argc >= 2) {
        store_capsule c;
        store_rc rc = store_capsule_get(st, argv[1], &c, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        printf("cycle=%s strategy=%s recorded=%lld expires=%lld capsule=%s\n", c.cycle_id, c.strategy,
               (long long)c.recorded_ms, (long long)c.expires_ms, c.capsule_b64);
        store_capsule_clear(&c);
        return 0;
    }
    if (strcmp(op, "capsule-list") == 0) {
        /* capsule-list [STRATEGY|-] [SINCE_MS] [UNTIL_MS] */
        store_capsule *rows;
        size_t n;
        store_rc rc = store_capsule_list(st, argc > 1 && strcmp(argv[1], "-") ? argv[1] : NULL,
                                         argc > 2 ? atoll(argv[2]) : 0, argc > 3 ? atoll(argv[3]) : 0, 0, &rows, &n,
                                         err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        for (size_t i = 0; i < n; i++) printf("%s%s", i ? " " : "", rows[i].cycle_id);
        printf("\nrows=%zu\n", n);
        store_capsules_free(rows, n);
        return 0;
    }
    if (strcmp(op, "halted") == 0) {
        int halted;
        store_rc rc = store_halt_get(st, &halted, err, sizeof err);
        if (rc != STORE_OK) return tool_rc(rc, err);
        printf("halted=%d\n", halted);
        return 0;
    }
    if (strcmp(op, "lock") == 0 && argc >= 4) {
        char cur[256];
        store_rc rc = store_lock_acquire(st, argv[1], argv[2], atoi(argv[3]), cur, sizeof cur, err, sizeof err);
        if (rc == STORE_CONFLICT) printf("holder=%s\n", cur);
        return tool_rc(rc, err);
    }
    if (strcmp(op, "unlock") == 0 && argc >= 3) return tool_rc(store_lock_release(st, argv[1], argv[2], err, sizeof err), err);
    /* notify-claim KEY STRATEGY CYCLE|- EVENT; notify-record KEY RESULT_JSON */
    if (strcmp(op, "notify-claim") == 0 && argc >= 5)
        return tool_rc(store_notify_claim(st, argv[1], argv[2], strcmp(argv[3], "-") ? argv[3] : NULL, argv[4], err,
                                          sizeof err), err);
    if (strcmp(op, "notify-record") == 0 && argc >= 3)
        return tool_rc(store_notify_record(st, argv[1], argv[2], err, sizeof err), err);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: store_tool [--wait-file F] OP ARGS...\n");
        return 2;
    }
    int first = 1;
    const char *wait_file = NULL;
    if (strcmp(argv[1], "--wait-file") == 0 && argc > 3) wait_file = argv[2], first = 3;
    secrets_init();
    blackbox_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char err[1024] = "";
    store *st = store_open_from_env(err, sizeof err);
    int code;
    if (!st) {
        printf("open error: %s\n", err);
        code = 1;
    } else {
        if (wait_file) tool_wait_file(wait_file);
        code = tool_run(st, argc - first, argv + first);
        if (code == 2) fprintf(stderr, "store_tool: bad arguments for '%s'\n", argv[first]);
        store_close(st);
    }
    blackbox_close();
    curl_global_cleanup();
    secrets_shutdown();
    return code;
}
