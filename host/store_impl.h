/* Private to the store: the backend table each backend (store_sqlite.c, store_supabase.c)
 * fills, and helpers they share from store.c. Callers use store.h only. Arguments reaching a
 * backend are already validated (non-empty ids, known statuses and modes, valid JSON). */
#ifndef TITAN_STORE_IMPL_H
#define TITAN_STORE_IMPL_H
#include "store.h"

typedef struct store_ops {
    void (*close)(void *impl);
    /* optional (NULL: every write is its own transaction already) */
    store_rc (*batch_begin)(void *impl, char *err, size_t errlen);
    store_rc (*batch_end)(void *impl, char *err, size_t errlen);
    store_acquire_result (*acquire_cycle)(void *impl, const char *cycle_id, const char *strategy, const char *mode,
                                          const char *holder, int lease_s, store_cycle *info, char *err,
                                          size_t errlen);
    store_rc (*renew_lease)(void *impl, const char *cycle_id, const char *holder, int lease_s, char *err,
                            size_t errlen);
    store_rc (*update_cycle_orders)(void *impl, const char *cycle_id, const char *holder, const char *orders_json,
                                    store_durability durability, char *err, size_t errlen);
    store_rc (*finish_cycle)(void *impl, const char *cycle_id, const char *holder, const char *status,
                             const char *decision_json, const char *orders_json, const char *error, char *err,
                             size_t errlen);
    store_rc (*resolve_cycle)(void *impl, const char *cycle_id, const char *from_status, const char *new_status,
                              const char *orders_json, const char *note, char *err, size_t errlen);
    store_rc (*retry_cycle)(void *impl, const char *cycle_id, const char *holder, int lease_s, char *err,
                            size_t errlen);
    store_rc (*get_cycle)(void *impl, const char *cycle_id, store_cycle *out, char *err, size_t errlen);
    store_rc (*list_cycles)(void *impl, int limit, const char *strategy, const char *status, store_cycle **rows,
                            size_t *n, char *err, size_t errlen);
    store_rc (*release_cycle)(void *impl, const char *cycle_id, int force, store_cycle *removed, char *err,
                              size_t errlen);
    store_rc (*paper_balances)(void *impl, const char *strategy, const char *seed_asset, double seed_amount,
                               store_balance **out, size_t *n, char *err, size_t errlen);
    store_rc (*paper_apply_fill)(void *impl, const char *strategy, const store_fill *fill, int64_t *id_out,
                                 char *err, size_t errlen);
    store_rc (*paper_fills)(void *impl, const char *strategy, const char *cycle_id, int64_t since_ms, int limit,
                            store_fill **rows, size_t *n, char *err, size_t errlen);
    store_rc (*state_get)(void *impl, const char *strategy, const char *key, char **value_json, char *err,
                          size_t errlen);
    store_rc (*state_set)(void *impl, const char *strategy, const char *key, const char *value_json, char *err,
                          size_t errlen);
    store_rc (*state_list)(void *impl, const char *strategy, store_kv **rows, size_t *n, char *err, size_t errlen);
    store_rc (*control_get)(void *impl, const char *key, char **value, int64_t *updated_ms, char *err,
                            size_t errlen);
    store_rc (*control_set)(void *impl, const char *key, const char *value, char *err, size_t errlen);
    store_rc (*lock_acquire)(void *impl, const char *name, const char *holder, int ttl_s, char *current_holder,
                             size_t current_holder_len, char *err, size_t errlen);
    store_rc (*lock_release)(void *impl, const char *name, const char *holder, char *err, size_t errlen);
    store_rc (*capsule_put)(void *impl, const store_capsule *c, char *err, size_t errlen);
    store_rc (*capsule_get)(void *impl, const char *cycle_id, store_capsule *out, char *err, size_t errlen);
    store_rc (*capsule_list)(void *impl, const char *strategy, int64_t since_ms, int64_t until_ms, int limit,
                             store_capsule **rows, size_t *n, char *err, size_t errlen);
    store_rc (*notify_claim)(void *impl, const char *key, const char *strategy, const char *cycle_id,
                             const char *event, char *err, size_t errlen);
    store_rc (*notify_record)(void *impl, const char *key, const char *result_json, char *err, size_t errlen);
} store_ops;

/* Wraps an opened backend into a store (takes impl; on failure closes it and returns NULL). */
store *store_wrap(const store_ops *ops, void *impl, store_backend backend, const char *describe, char *err,
                  size_t errlen);

/* Backend constructors. */
void *store_sqlite_open(const char *path, const store_ops **ops, char *err, size_t errlen);
void *store_supabase_open(const char *url, const char *key, const store_ops **ops, char *err, size_t errlen);

/* Writes "<prefix>: <formatted>" into err (err may be NULL). */
void store_errorf(char *err, size_t errlen, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Turns the result of re-reading a cycle after a holder-conditioned update changed nothing into
 * STORE_CONFLICT with the reason in err (released, taken over, or already finished); frees row.
 * load_rc is what reading the row returned (STORE_ERR passes through). */
store_rc store_explain_lost(store_rc load_rc, store_cycle *row, const char *prefix, const char *cycle_id,
                            const char *holder, const char *action, char *err, size_t errlen);
/* The same after a compare-and-set on the row's status (`wanted`) changed nothing: STORE_NOT_FOUND
 * or STORE_CONFLICT naming the status the row has; frees row. */
store_rc store_explain_status(store_rc load_rc, store_cycle *row, const char *prefix, const char *cycle_id,
                              const char *wanted, char *err, size_t errlen);
/* Room for one more element in a growing array: returns arr as is while count < *cap, else
 * the array reallocated to twice the capacity (*cap updated); NULL when out of memory (arr is
 * then untouched and still owned by the caller). */
void *store_grow(void *arr, size_t *cap, size_t count, size_t elem);
/* strdup that accepts NULL. */
char *store_strdup(const char *s);
/* A balance delta: negative results below this are refused, smaller ones clamped to zero. */
#define STORE_BALANCE_EPSILON 1e-9

/* 1 when status is one of the STORE_STATUS_* values. */
int store_status_known(const char *status);

/* ---- PostgREST answers and JSON text, read with the host's JSON parser (store_json.c) ---- */

/* A private Lua state that decodes answers with bindings_json_decode and a memory cap (0 =
 * STORE_JSON_MEM_LIMIT): an answer that needs more is refused, never a crash. NULL when out of
 * memory. */
#define STORE_JSON_MEM_LIMIT ((size_t)256 << 20)
typedef struct store_json store_json;
store_json *store_json_open(size_t mem_limit);
void store_json_close(store_json *j);
/* 1 when text[0..len) is exactly one JSON value, as the host's decoder reads it. */
int store_json_valid(const char *text, size_t len);

/* Readers of PostgREST answers (body[0..len), not NUL-terminated). Each returns 0 with malloc'd
 * rows, or -1 with nothing allocated and the reason in why ("row 2: column 'holder' is null").
 * Every row must be an object carrying every column (PostgREST sends null, never omits one);
 * json/jsonb columns are read as text (the query casts them: `decision::text`) and checked to be
 * JSON; numbers may come as JSON numbers or strings holding one. A duplicate key: the last one
 * wins (cjson). */
typedef enum {
    STORE_JSON_CYCLES,   /* *rows: store_cycle[] (execution_logs, select=SB_CYCLE_COLUMNS) */
    STORE_JSON_BALANCES, /* store_balance[] (paper_balances: asset, amount) */
    STORE_JSON_FILLS,    /* store_fill[] (paper_fills) */
    STORE_JSON_KVS,      /* store_kv[] (strategy_state: key, value::text) */
    STORE_JSON_CAPSULES, /* store_capsule[] (cycle_capsules; capsule optional: lists leave it out) */
} store_json_table;
/* Rows of `table`; `max` > 0 refuses an answer with more rows. */
int store_json_rows(store_json *j, store_json_table table, const char *body, size_t len, size_t max, void **rows,
                    size_t *n, char *why, size_t whylen);
/* Frees rows of `table` (store_cycles_free, free, store_fills_free, store_kvs_free or
 * store_capsules_free). */
void store_json_rows_free(store_json_table table, void *rows, size_t n);
/* The answer to a one-row query: 1 with the row's text `column` (JSON text when json_column) in
 * *value and, when time_column is not NULL, that time in *time_ms (null -> 0); 0 when there is
 * no row; -1 when malformed or more than one row. */
int store_json_one(store_json *j, const char *body, size_t len, const char *column, int json_column, char **value,
                   const char *time_column, int64_t *time_ms, char *why, size_t whylen);
/* The number of rows of an answer whose every row carries the text `column`. 0, or -1. */
int store_json_count(store_json *j, const char *body, size_t len, const char *column, size_t *n, char *why,
                     size_t whylen);
/* A PostgREST error body: 0 with its code, message and details (malloc'd; NULL when absent or
 * not strings), or -1 when the body is not a JSON object. */
int store_json_error(store_json *j, const char *body, size_t len, char **code, char **message, char **details);
/* The integer member `key` of an object answer (the id titan_apply_fill returns). 0, or -1. */
int store_json_object_int(store_json *j, const char *body, size_t len, const char *key, int64_t *out, char *why,
                          size_t whylen);
#endif
