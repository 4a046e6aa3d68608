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
                                    char *err, size_t errlen);
    store_rc (*finish_cycle)(void *impl, const char *cycle_id, const char *holder, const char *status,
                             const char *decision_json, const char *orders_json, const char *error, char *err,
                             size_t errlen);
    store_rc (*resolve_in_doubt)(void *impl, const char *cycle_id, const char *new_status, const char *orders_json,
                                 const char *note, char *err, size_t errlen);
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

/* ---- a small JSON reader for PostgREST answers and for validating JSON text ---- */

/* 1 when text[0..len) is exactly one valid JSON value (surrounding whitespace allowed). */
int store_json_valid(const char *text, size_t len);
/* Iterates the elements of a JSON array: *pos starts at the text; each call stores the next
 * element's span in *val and *vlen and returns 1, returns 0 at the end, -1 when malformed. */
int store_json_array_next(const char *text, size_t len, size_t *pos, const char **val, size_t *vlen);
/* The raw span of member `key` of the JSON object obj[0..len). 1 found, 0 absent, -1 malformed. */
int store_json_member(const char *obj, size_t len, const char *key, const char **val, size_t *vlen);
/* A member as a malloc'd C string: strings decoded, null -> NULL (and *is_null = 1), other
 * values copied raw (JSON text). Returns -1 when malformed or out of memory, else 0. */
int store_json_member_dup(const char *obj, size_t len, const char *key, char **out);
/* A member holding JSON (a json/jsonb column) as its raw JSON text, malloc'd; null -> NULL.
 * Returns -1 when malformed or out of memory, else 0. */
int store_json_member_raw(const char *obj, size_t len, const char *key, char **out);
/* A member as a number (numbers, or strings holding a number). -1 when absent/null/not a number. */
int store_json_member_double(const char *obj, size_t len, const char *key, double *out);
/* A member holding an ISO time (or null -> 0). -1 when not a time. */
int store_json_member_time(const char *obj, size_t len, const char *key, int64_t *ms);
#endif
