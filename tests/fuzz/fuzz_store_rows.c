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

    store_cycle *cycles;
    for (size_t max = 0; max <= 1; max++) {
        if (store_json_cycles(j, body, size, max, &cycles, &n, why, sizeof why) != 0) {
            FUZZ_CHECK(cycles == NULL && n == 0 && why[0], "a refusal keeps nothing and says why");
            continue;
        }
        FUZZ_CHECK(!max || n <= max, "no more rows than asked for");
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(cycles[i].cycle_id && cycles[i].holder && store_status_known(cycles[i].status), "cycle row");
            if (cycles[i].orders_json) FUZZ_CHECK(store_json_valid(cycles[i].orders_json, strlen(cycles[i].orders_json)), "orders is JSON");
        }
        store_cycles_free(cycles, n);
    }

    store_balance *balances;
    if (store_json_balances(j, body, size, &balances, &n, why, sizeof why) == 0) {
        for (size_t i = 0; i < n; i++) FUZZ_CHECK(memchr(balances[i].asset, '\0', sizeof balances[i].asset), "asset");
        free(balances);
    }

    store_fill *fills;
    if (store_json_fills(j, body, size, &fills, &n, why, sizeof why) == 0) {
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(fills[i].cycle_id && fills[i].pair && fills[i].side && fills[i].order_type &&
                           fills[i].base_asset && fills[i].quote_asset,
                       "fill row");
        store_fills_free(fills, n);
    }

    store_kv *kvs;
    if (store_json_kvs(j, body, size, &kvs, &n, why, sizeof why) == 0) {
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(kvs[i].key && kvs[i].value && store_json_valid(kvs[i].value, strlen(kvs[i].value)), "kv row");
        store_kvs_free(kvs, n);
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
