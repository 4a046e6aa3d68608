/* Fuzz target: the Supabase store's readers of PostgREST answers (store_json.c), each fed the
 * same body. A reader either refuses the body whole or returns rows whose required columns are
 * there; nothing leaks either way (LeakSanitizer). */
#include <string.h>

#include "fuzz.h"
#include "store_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static store_json *j;
    if (!j) j = store_json_open((size_t)64 << 20);
    FUZZ_CHECK(j != NULL, "store_json_open");
    const char *body = (const char *)data;
    char why[400];
    size_t n;

    void *rows;
    for (size_t max = 0; max <= 1; max++) {
        if (store_json_rows(j, STORE_JSON_CYCLES, body, size, max, &rows, &n, why, sizeof why) != 0) {
            FUZZ_CHECK(rows == NULL && n == 0 && why[0], "a refusal keeps nothing and says why");
            continue;
        }
        FUZZ_CHECK(!max || n <= max, "no more rows than asked for");
        const store_cycle *c = rows;
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(c[i].cycle_id && c[i].holder && store_status_known(c[i].status), "cycle row");
            if (c[i].orders_json) FUZZ_CHECK(store_json_valid(c[i].orders_json, strlen(c[i].orders_json)), "orders");
        }
        store_cycles_free(rows, n);
    }

    if (store_json_rows(j, STORE_JSON_BALANCES, body, size, 0, &rows, &n, why, sizeof why) == 0) {
        const store_balance *b = rows;
        for (size_t i = 0; i < n; i++) FUZZ_CHECK(memchr(b[i].asset, '\0', sizeof b[i].asset), "asset");
        free(rows);
    }

    if (store_json_rows(j, STORE_JSON_FILLS, body, size, 0, &rows, &n, why, sizeof why) == 0) {
        const store_fill *f = rows;
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(f[i].cycle_id && f[i].pair && f[i].side && f[i].order_type && f[i].base_asset && f[i].quote_asset,
                       "fill row");
        store_fills_free(rows, n);
    }

    if (store_json_rows(j, STORE_JSON_KVS, body, size, 0, &rows, &n, why, sizeof why) == 0) {
        const store_kv *kv = rows;
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(kv[i].key && kv[i].value && store_json_valid(kv[i].value, strlen(kv[i].value)), "kv row");
        store_kvs_free(rows, n);
    }

    char *value;
    int64_t t;
    for (int json_column = 0; json_column <= 1; json_column++) {
        int found = store_json_one(j, body, size, "value", json_column, &value, "updated_at", &t, why, sizeof why);
        FUZZ_CHECK(found == 1 ? value != NULL : value == NULL, "one value");
        free(value);
    }

    store_json_count(j, body, size, "holder", &n, why, sizeof why);
    char *code, *message, *details;
    store_json_error(j, body, size, &code, &message, &details);
    free(code), free(message), free(details);
    int64_t id;
    store_json_object_int(j, body, size, "id", &id, why, sizeof why);
    return 0;
}
