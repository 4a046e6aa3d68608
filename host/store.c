/* The store interface (store.h): argument checks shared by both backends, dispatch to the
 * SQLite or Supabase backend, and ownership helpers. */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "codec.h"
#include "settings.h"
#include "store_impl.h"

struct store {
    const store_ops *ops;
    void *impl;
    store_backend backend;
    char *describe;
};

static store *store_active_store;

static const char *const store_statuses[] = {STORE_STATUS_RUNNING, STORE_STATUS_DONE,    STORE_STATUS_FAILED,
                                             STORE_STATUS_HALTED,  STORE_STATUS_SKIPPED, STORE_STATUS_IN_DOUBT,
                                             NULL};

void store_errorf(char *err, size_t errlen, const char *prefix, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (prefix && *prefix) snprintf(err, errlen, "%s: %s", prefix, msg);
    else snprintf(err, errlen, "%s", msg);
}

char *store_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

store *store_wrap(const store_ops *ops, void *impl, store_backend backend, const char *describe, char *err,
                  size_t errlen)
{
    store *st = calloc(1, sizeof *st);
    char *d = strdup(describe);
    if (!st || !d) {
        free(st), free(d);
        ops->close(impl);
        store_errorf(err, errlen, describe, "out of memory");
        return NULL;
    }
    st->ops = ops, st->impl = impl, st->backend = backend, st->describe = d;
    return st;
}

store *store_open_sqlite(const char *path, char *err, size_t errlen)
{
    const store_ops *ops = NULL;
    void *impl = store_sqlite_open(path, &ops, err, errlen);
    if (!impl) return NULL;
    char describe[4200];
    snprintf(describe, sizeof describe, "sqlite %s", path);
    return store_wrap(ops, impl, STORE_BACKEND_SQLITE, describe, err, errlen);
}

int store_timeout_ms(void)
{
    long long ms = 0;
    char ignored[256];   /* a malformed value was refused before the command started (settings.c) */
    settings_integer("TITAN_STORE_TIMEOUT_MS", &ms, ignored, sizeof ignored);
    return (int)ms;
}

store *store_open_from_env(char *err, size_t errlen)
{
    /* half a Supabase configuration, an empty TITAN_DB: refused, never a database somewhere else */
    const char *url = NULL, *path = NULL;
    if (settings_store(&url, &path, err, errlen) != 0) return NULL;
    if (url) return store_open_supabase(url, getenv("SUPABASE_KEY"), err, errlen);
    return store_open_sqlite(path, err, errlen);
}

void store_close(store *st)
{
    if (!st) return;
    if (store_active_store == st) store_active_store = NULL;
    st->ops->close(st->impl);
    free(st->describe);
    free(st);
}

store_rc store_batch_begin(store *st, char *err, size_t errlen)
{
    return st->ops->batch_begin ? st->ops->batch_begin(st->impl, err, errlen) : STORE_OK;
}

store_rc store_batch_end(store *st, char *err, size_t errlen)
{
    return st->ops->batch_end ? st->ops->batch_end(st->impl, err, errlen) : STORE_OK;
}

const char *store_describe(const store *st)
{
    return st->describe;
}

store_backend store_backend_of(const store *st)
{
    return st->backend;
}

void store_set_active(store *st)
{
    store_active_store = st;
}

store *store_get_active(void)
{
    return store_active_store;
}

void store_default_holder(char *out, size_t outlen)
{
    /* One name per process: its own locks must be recognised as its own. */
    static char cached[512];
    if (cached[0]) {
        snprintf(out, outlen, "%s", cached);
        return;
    }
    char host[256] = "host";
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    /* hostname and pid repeat across containers (pid 1) and GitHub re-runs keep the run id:
     * a random part makes two runners never share a holder name. */
    unsigned char nonce[4] = {0};
    /* the kernel's generator: uniqueness, not secrecy (and OpenSSL need not start for it) */
    if (getrandom(nonce, sizeof nonce, GRND_NONBLOCK) != (ssize_t)sizeof nonce) {
        int64_t t = clock_monotonic_ms();
        memcpy(nonce, &t, sizeof nonce);
    }
    char hex[9];
    codec_hex_encode(nonce, sizeof nonce, hex);
    const char *run = getenv("GITHUB_RUN_ID");
    if (run && *run)
        snprintf(cached, sizeof cached, "%s:%ld:gh%s:%s", host, (long)getpid(), run, hex);
    else
        snprintf(cached, sizeof cached, "%s:%ld:%s", host, (long)getpid(), hex);
    snprintf(out, outlen, "%s", cached);
}

/* ---- ownership ---- */

void store_cycle_free(store_cycle *c)
{
    if (!c) return;
    free(c->cycle_id), free(c->strategy), free(c->mode), free(c->status), free(c->holder);
    free(c->decision_json), free(c->orders_json), free(c->error), free(c->host_version);
    memset(c, 0, sizeof *c);
}

void store_cycles_free(store_cycle *rows, size_t n)
{
    if (!rows) return;
    for (size_t i = 0; i < n; i++) store_cycle_free(&rows[i]);
    free(rows);
}

void store_fills_free(store_fill *rows, size_t n)
{
    if (!rows) return;
    for (size_t i = 0; i < n; i++) {
        store_fill *f = &rows[i];
        free((void *)f->cycle_id), free((void *)f->order_ref), free((void *)f->pair), free((void *)f->side);
        free((void *)f->order_type), free((void *)f->base_asset), free((void *)f->quote_asset);
        free((void *)f->reason);
    }
    free(rows);
}

void store_kvs_free(store_kv *rows, size_t n)
{
    if (!rows) return;
    for (size_t i = 0; i < n; i++) free(rows[i].key), free(rows[i].value);
    free(rows);
}

void store_capsule_clear(store_capsule *c)
{
    free((void *)c->cycle_id), free((void *)c->strategy), free((void *)c->capsule_b64);
    memset(c, 0, sizeof *c);
}

void store_capsules_free(store_capsule *rows, size_t n)
{
    if (!rows) return;
    for (size_t i = 0; i < n; i++) store_capsule_clear(&rows[i]);
    free(rows);
}

double store_balance_of(const store_balance *b, size_t n, const char *asset)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(b[i].asset, asset) == 0) return b[i].amount;
    return 0;
}

const char *store_acquire_result_name(store_acquire_result r)
{
    switch (r) {
    case STORE_ACQUIRED: return "acquired";
    case STORE_DONE: return "done";
    case STORE_HELD: return "held";
    case STORE_TAKEN_OVER: return "taken_over";
    case STORE_ACQUIRE_ERROR: break;
    }
    return "error";
}

/* ---- argument checks (misuse by the host is reported, never sent to the database) ---- */

static int store_check_text(const store *st, const char *what, const char *value, size_t max, char *err,
                            size_t errlen)
{
    if (!value || !*value) {
        store_errorf(err, errlen, st ? st->describe : "store", "%s is empty", what);
        return -1;
    }
    if (strlen(value) > max) {
        store_errorf(err, errlen, st ? st->describe : "store", "%s is longer than %zu bytes", what, max);
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < 0x20) {
            store_errorf(err, errlen, st ? st->describe : "store", "%s contains a control character", what);
            return -1;
        }
    }
    return 0;
}

int store_status_known(const char *status)
{
    for (int i = 0; status && store_statuses[i]; i++)
        if (strcmp(status, store_statuses[i]) == 0) return 1;
    return 0;
}

static int store_check_status(const store *st, const char *status, int allow_running, char *err, size_t errlen)
{
    int running = status && strcmp(status, STORE_STATUS_RUNNING) == 0;
    if (store_status_known(status) && (allow_running || !running)) return 0;
    store_errorf(err, errlen, st->describe, "status '%s' is not one of %sdone, failed, halted, skipped, in_doubt",
                 status ? status : "(null)", allow_running ? "running, " : "");
    return -1;
}

static int store_check_json(const store *st, const char *what, const char *json, char *err, size_t errlen)
{
    if (json && !store_json_valid(json, strlen(json))) {
        store_errorf(err, errlen, st->describe, "%s is not valid JSON", what);
        return -1;
    }
    return 0;
}

/* ---- dispatch ---- */

store_acquire_result store_acquire_cycle(store *st, const char *cycle_id, const char *strategy, const char *mode,
                                         const char *holder, int lease_s, store_cycle *info, char *err,
                                         size_t errlen)
{
    store_cycle scratch = {0};
    if (info) memset(info, 0, sizeof *info);
    if (store_check_text(st, "cycle_id", cycle_id, 300, err, errlen) ||
        store_check_text(st, "strategy", strategy, 200, err, errlen) ||
        store_check_text(st, "holder", holder, 200, err, errlen))
        return STORE_ACQUIRE_ERROR;
    if (!mode || (strcmp(mode, "PAPER") != 0 && strcmp(mode, "LIVE") != 0)) {
        store_errorf(err, errlen, st->describe, "mode '%s' is not PAPER or LIVE", mode ? mode : "(null)");
        return STORE_ACQUIRE_ERROR;
    }
    if (lease_s <= 0 || lease_s > 7 * 24 * 3600) {
        store_errorf(err, errlen, st->describe, "lease of %d s is out of range (1 s .. 7 days)", lease_s);
        return STORE_ACQUIRE_ERROR;
    }
    store_acquire_result r =
        st->ops->acquire_cycle(st->impl, cycle_id, strategy, mode, holder, lease_s, info ? info : &scratch, err, errlen);
    store_cycle_free(&scratch);
    if (r == STORE_ACQUIRED && info) store_cycle_free(info);
    return r;
}

/* A cycle id, a holder and a lease of 1 s .. 7 days. */
static int store_check_lease(const store *st, const char *cycle_id, const char *holder, int lease_s, char *err,
                             size_t errlen)
{
    if (store_check_text(st, "cycle_id", cycle_id, 300, err, errlen) ||
        store_check_text(st, "holder", holder, 200, err, errlen))
        return -1;
    if (lease_s <= 0 || lease_s > 7 * 24 * 3600) {
        store_errorf(err, errlen, st->describe, "lease of %d s is out of range (1 s .. 7 days)", lease_s);
        return -1;
    }
    return 0;
}

store_rc store_renew_lease(store *st, const char *cycle_id, const char *holder, int lease_s, char *err,
                           size_t errlen)
{
    if (store_check_lease(st, cycle_id, holder, lease_s, err, errlen)) return STORE_ERR;
    return st->ops->renew_lease(st->impl, cycle_id, holder, lease_s, err, errlen);
}

store_rc store_update_cycle_orders(store *st, const char *cycle_id, const char *holder, const char *orders_json,
                                   store_durability durability, char *err, size_t errlen)
{
    if (store_check_text(st, "cycle_id", cycle_id, 300, err, errlen) ||
        store_check_text(st, "holder", holder, 200, err, errlen) ||
        store_check_text(st, "orders", orders_json, (size_t)4 << 20, err, errlen) ||
        store_check_json(st, "orders", orders_json, err, errlen))
        return STORE_ERR;
    return st->ops->update_cycle_orders(st->impl, cycle_id, holder, orders_json, durability, err, errlen);
}

store_rc store_finish_cycle(store *st, const char *cycle_id, const char *holder, const char *status,
                            const char *decision_json, const char *orders_json, const char *error, char *err,
                            size_t errlen)
{
    if (store_check_text(st, "cycle_id", cycle_id, 300, err, errlen) ||
        store_check_text(st, "holder", holder, 200, err, errlen) || store_check_status(st, status, 0, err, errlen) ||
        store_check_json(st, "decision", decision_json, err, errlen) ||
        store_check_json(st, "orders", orders_json, err, errlen))
        return STORE_ERR;
    return st->ops->finish_cycle(st->impl, cycle_id, holder, status, decision_json, orders_json, error, err, errlen);
}

store_rc store_resolve_cycle(store *st, const char *cycle_id, const char *from_status, const char *new_status,
                             const char *orders_json, const char *note, char *err, size_t errlen)
{
    if (store_check_text(st, "cycle_id", cycle_id, 300, err, errlen) ||
        store_check_json(st, "orders", orders_json, err, errlen))
        return STORE_ERR;
    if (!from_status ||
        (strcmp(from_status, STORE_STATUS_IN_DOUBT) != 0 && strcmp(from_status, STORE_STATUS_FAILED) != 0)) {
        store_errorf(err, errlen, st->describe, "only an in_doubt or failed cycle is resolved, not '%s'",
                     from_status ? from_status : "(null)");
        return STORE_ERR;
    }
    if (!new_status || (strcmp(new_status, STORE_STATUS_DONE) != 0 && strcmp(new_status, STORE_STATUS_FAILED) != 0)) {
        store_errorf(err, errlen, st->describe, "a cycle resolves to done or failed, not '%s'",
                     new_status ? new_status : "(null)");
        return STORE_ERR;
    }
    return st->ops->resolve_cycle(st->impl, cycle_id, from_status, new_status, orders_json, note, err, errlen);
}

store_rc store_retry_cycle(store *st, const char *cycle_id, const char *holder, int lease_s, char *err,
                           size_t errlen)
{
    if (store_check_lease(st, cycle_id, holder, lease_s, err, errlen)) return STORE_ERR;
    return st->ops->retry_cycle(st->impl, cycle_id, holder, lease_s, err, errlen);
}

store_rc store_get_cycle(store *st, const char *cycle_id, store_cycle *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (store_check_text(st, "cycle_id", cycle_id, 300, err, errlen)) return STORE_ERR;
    return st->ops->get_cycle(st->impl, cycle_id, out, err, errlen);
}

store_rc store_list_cycles(store *st, int limit, const char *strategy, const char *status, store_cycle **rows,
                           size_t *n, char *err, size_t errlen)
{
    *rows = NULL, *n = 0;
    if (limit <= 0) limit = 20;
    if (limit > 10000) limit = 10000;
    if (status && store_check_status(st, status, 1, err, errlen)) return STORE_ERR;
    if (strategy && store_check_text(st, "strategy", strategy, 200, err, errlen)) return STORE_ERR;
    return st->ops->list_cycles(st->impl, limit, strategy, status, rows, n, err, errlen);
}

store_rc store_release_cycle(store *st, const char *cycle_id, int force, store_cycle *removed, char *err,
                             size_t errlen)
{
    store_cycle scratch = {0};
    if (removed) memset(removed, 0, sizeof *removed);
    if (store_check_text(st, "cycle_id", cycle_id, 300, err, errlen)) return STORE_ERR;
    store_rc rc = st->ops->release_cycle(st->impl, cycle_id, force, removed ? removed : &scratch, err, errlen);
    store_cycle_free(&scratch);
    return rc;
}

store_rc store_paper_balances(store *st, const char *strategy, const char *seed_asset, double seed_amount,
                              store_balance **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL, *n = 0;
    if (store_check_text(st, "strategy", strategy, 200, err, errlen) ||
        (seed_asset && store_check_text(st, "seed asset", seed_asset, 31, err, errlen)))
        return STORE_ERR;
    if (!(seed_amount >= 0) || seed_amount > 1e15) {
        store_errorf(err, errlen, st->describe, "paper seed amount %g is not a number >= 0", seed_amount);
        return STORE_ERR;
    }
    return st->ops->paper_balances(st->impl, strategy, seed_asset, seed_amount, out, n, err, errlen);
}

static int store_check_amount(const store *st, const char *what, double v, int strictly_positive, char *err,
                              size_t errlen)
{
    if (v != v || v > 1e15 || v < -1e15 || (strictly_positive ? !(v > 0) : !(v >= 0))) {
        store_errorf(err, errlen, st->describe, "fill %s %g is not a number %s 0", what, v,
                     strictly_positive ? ">" : ">=");
        return -1;
    }
    return 0;
}

store_rc store_paper_apply_fill(store *st, const char *strategy, const store_fill *f, int64_t *id_out, char *err,
                                size_t errlen)
{
    if (id_out) *id_out = 0;
    if (store_check_text(st, "strategy", strategy, 200, err, errlen) ||
        store_check_text(st, "fill cycle_id", f->cycle_id, 200, err, errlen) ||
        (f->order_ref && store_check_text(st, "fill order_ref", f->order_ref, 200, err, errlen)) ||
        store_check_text(st, "fill pair", f->pair, 32, err, errlen) ||
        store_check_text(st, "fill base_asset", f->base_asset, 31, err, errlen) ||
        store_check_text(st, "fill quote_asset", f->quote_asset, 31, err, errlen) ||
        store_check_amount(st, "volume", f->volume, 1, err, errlen) ||
        store_check_amount(st, "price", f->price, 1, err, errlen) ||
        store_check_amount(st, "cost", f->cost, 0, err, errlen) ||
        store_check_amount(st, "fee", f->fee, 0, err, errlen))
        return STORE_ERR;
    if (!f->side || (strcmp(f->side, "buy") != 0 && strcmp(f->side, "sell") != 0)) {
        store_errorf(err, errlen, st->describe, "fill side '%s' is not buy or sell", f->side ? f->side : "(null)");
        return STORE_ERR;
    }
    if (!f->order_type || (strcmp(f->order_type, "market") != 0 && strcmp(f->order_type, "limit") != 0)) {
        store_errorf(err, errlen, st->describe, "fill order_type '%s' is not market or limit",
                     f->order_type ? f->order_type : "(null)");
        return STORE_ERR;
    }
    if (strcmp(f->base_asset, f->quote_asset) == 0 || f->ts_ms <= 0 || f->realized_pnl != f->realized_pnl) {
        store_errorf(err, errlen, st->describe, "fill has equal assets, no time or a NaN pnl");
        return STORE_ERR;
    }
    return st->ops->paper_apply_fill(st->impl, strategy, f, id_out, err, errlen);
}

store_rc store_paper_fills(store *st, const char *strategy, const char *cycle_id, int64_t since_ms, int limit,
                           store_fill **rows, size_t *n, char *err, size_t errlen)
{
    *rows = NULL, *n = 0;
    if (store_check_text(st, "strategy", strategy, 200, err, errlen)) return STORE_ERR;
    if (limit <= 0 || limit > 100000) limit = 1000;
    return st->ops->paper_fills(st->impl, strategy, cycle_id, since_ms, limit, rows, n, err, errlen);
}

store_rc store_realized_pnl_since(store *st, const char *strategy, int64_t since_ms, double *sum, char *err,
                                  size_t errlen)
{
    *sum = 0;
    store_fill *rows = NULL;
    size_t n = 0;
    store_rc rc = store_paper_fills(st, strategy, NULL, since_ms, 100000, &rows, &n, err, errlen);
    if (rc != STORE_OK) return rc;
    for (size_t i = 0; i < n; i++) *sum += rows[i].realized_pnl;
    store_fills_free(rows, n);
    return STORE_OK;
}

store_rc store_state_get(store *st, const char *strategy, const char *key, char **value_json, char *err,
                         size_t errlen)
{
    *value_json = NULL;
    if (store_check_text(st, "strategy", strategy, 200, err, errlen) ||
        store_check_text(st, "state key", key, 200, err, errlen))
        return STORE_ERR;
    store_rc rc = st->ops->state_get(st->impl, strategy, key, value_json, err, errlen);
    if (rc == STORE_NOT_FOUND) store_errorf(err, errlen, st->describe, "no state '%s' for strategy %s", key, strategy);
    return rc;
}

store_rc store_state_set(store *st, const char *strategy, const char *key, const char *value_json, char *err,
                         size_t errlen)
{
    if (store_check_text(st, "strategy", strategy, 200, err, errlen) ||
        store_check_text(st, "state key", key, 200, err, errlen) ||
        store_check_json(st, "state value", value_json, err, errlen))
        return STORE_ERR;
    if (value_json && strlen(value_json) > 1 << 20) {
        store_errorf(err, errlen, st->describe, "state value for '%s' is larger than 1 MiB", key);
        return STORE_ERR;
    }
    return st->ops->state_set(st->impl, strategy, key, value_json, err, errlen);
}

store_rc store_state_list(store *st, const char *strategy, store_kv **rows, size_t *n, char *err, size_t errlen)
{
    *rows = NULL, *n = 0;
    if (store_check_text(st, "strategy", strategy, 200, err, errlen)) return STORE_ERR;
    return st->ops->state_list(st->impl, strategy, rows, n, err, errlen);
}

store_rc store_control_get(store *st, const char *key, char **value, int64_t *updated_ms, char *err, size_t errlen)
{
    int64_t scratch = 0;
    *value = NULL;
    if (updated_ms) *updated_ms = 0;
    if (store_check_text(st, "control key", key, 200, err, errlen)) return STORE_ERR;
    store_rc rc = st->ops->control_get(st->impl, key, value, updated_ms ? updated_ms : &scratch, err, errlen);
    if (rc == STORE_NOT_FOUND) store_errorf(err, errlen, st->describe, "no control value '%s'", key);
    return rc;
}

store_rc store_control_set(store *st, const char *key, const char *value, char *err, size_t errlen)
{
    if (store_check_text(st, "control key", key, 200, err, errlen) ||
        store_check_text(st, "control value", value, 4096, err, errlen))
        return STORE_ERR;
    return st->ops->control_set(st->impl, key, value, err, errlen);
}

store_rc store_halt_get(store *st, int *halted, char *err, size_t errlen)
{
    char *value = NULL;
    *halted = 1; /* fail closed until the store says otherwise */
    store_rc rc = store_control_get(st, STORE_HALT_KEY, &value, NULL, err, errlen);
    if (rc == STORE_NOT_FOUND) {
        *halted = 0;
        return STORE_OK;
    }
    if (rc != STORE_OK) return rc;
    *halted = !(strcmp(value, "0") == 0 || strcmp(value, "off") == 0 || strcmp(value, "false") == 0);
    free(value);
    return STORE_OK;
}

store_rc store_lock_acquire(store *st, const char *name, const char *holder, int ttl_s, char *current_holder,
                            size_t current_holder_len, char *err, size_t errlen)
{
    if (current_holder && current_holder_len) current_holder[0] = '\0';
    if (store_check_text(st, "lock name", name, 200, err, errlen) ||
        store_check_text(st, "holder", holder, 200, err, errlen))
        return STORE_ERR;
    if (ttl_s <= 0 || ttl_s > 7 * 24 * 3600) {
        store_errorf(err, errlen, st->describe, "lock ttl of %d s is out of range (1 s .. 7 days)", ttl_s);
        return STORE_ERR;
    }
    return st->ops->lock_acquire(st->impl, name, holder, ttl_s, current_holder, current_holder_len, err, errlen);
}

store_rc store_lock_release(store *st, const char *name, const char *holder, char *err, size_t errlen)
{
    if (store_check_text(st, "lock name", name, 200, err, errlen) ||
        store_check_text(st, "holder", holder, 200, err, errlen))
        return STORE_ERR;
    return st->ops->lock_release(st->impl, name, holder, err, errlen);
}

store_rc store_notify_claim(store *st, const char *key, const char *strategy, const char *cycle_id,
                            const char *event, char *err, size_t errlen)
{
    if (store_check_text(st, "notification key", key, 300, err, errlen) ||
        store_check_text(st, "strategy", strategy, 200, err, errlen) ||
        (cycle_id && store_check_text(st, "cycle id", cycle_id, 200, err, errlen)) ||
        store_check_text(st, "event", event, 40, err, errlen))
        return STORE_ERR;
    return st->ops->notify_claim(st->impl, key, strategy, cycle_id, event, err, errlen);
}

store_rc store_notify_record(store *st, const char *key, const char *result_json, char *err, size_t errlen)
{
    if (store_check_text(st, "notification key", key, 300, err, errlen) ||
        store_check_json(st, "notification result", result_json, err, errlen))
        return STORE_ERR;
    return st->ops->notify_record(st->impl, key, result_json, err, errlen);
}

store_rc store_capsule_put(store *st, const store_capsule *c, char *err, size_t errlen)
{
    if (store_check_text(st, "cycle_id", c->cycle_id, 300, err, errlen) ||
        store_check_text(st, "strategy", c->strategy, 200, err, errlen) ||
        store_check_text(st, "capsule", c->capsule_b64, (size_t)64 << 20, err, errlen))
        return STORE_ERR;
    if (c->recorded_ms <= 0 || c->expires_ms < c->recorded_ms) {
        store_errorf(err, errlen, st->describe, "capsule times out of order (recorded %lld, expires %lld)",
                     (long long)c->recorded_ms, (long long)c->expires_ms);
        return STORE_ERR;
    }
    return st->ops->capsule_put(st->impl, c, err, errlen);
}

store_rc store_capsule_get(store *st, const char *cycle_id, store_capsule *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (store_check_text(st, "cycle_id", cycle_id, 300, err, errlen)) return STORE_ERR;
    return st->ops->capsule_get(st->impl, cycle_id, out, err, errlen);
}

store_rc store_capsule_list(store *st, const char *strategy, int64_t since_ms, int64_t until_ms, int limit,
                            store_capsule **rows, size_t *n, char *err, size_t errlen)
{
    *rows = NULL, *n = 0;
    if (strategy && store_check_text(st, "strategy", strategy, 200, err, errlen)) return STORE_ERR;
    return st->ops->capsule_list(st->impl, strategy, since_ms, until_ms, limit > 0 ? limit : 1000, rows, n, err,
                                 errlen);
}

store_rc store_explain_lost(store_rc load_rc, store_cycle *row, const char *prefix, const char *cycle_id,
                            const char *holder, const char *action, char *err, size_t errlen)
{
    if (load_rc == STORE_ERR) return STORE_ERR;
    if (load_rc == STORE_NOT_FOUND)
        store_errorf(err, errlen, prefix, "cannot %s %s: the cycle no longer exists (released?); nothing changed",
                     action, cycle_id);
    else if (!row->holder || strcmp(row->holder, holder) != 0)
        store_errorf(err, errlen, prefix,
                     "cannot %s %s: it is now held by %s (status %s), not %s — the lease was taken over; "
                     "nothing changed",
                     action, cycle_id, row->holder ? row->holder : "nobody", row->status ? row->status : "?", holder);
    else
        store_errorf(err, errlen, prefix, "cannot %s %s: its status is already %s; nothing changed", action,
                     cycle_id, row->status ? row->status : "?");
    store_cycle_free(row);
    return STORE_CONFLICT;
}

store_rc store_explain_status(store_rc load_rc, store_cycle *row, const char *prefix, const char *cycle_id,
                              const char *wanted, char *err, size_t errlen)
{
    if (load_rc == STORE_NOT_FOUND) store_errorf(err, errlen, prefix, "no cycle %s", cycle_id);
    if (load_rc == STORE_OK) {
        store_errorf(err, errlen, prefix, "cycle %s is %s, not %s; nothing changed", cycle_id, row->status, wanted);
        load_rc = STORE_CONFLICT;
    }
    store_cycle_free(row);
    return load_rc;
}

void *store_grow(void *arr, size_t *cap, size_t count, size_t elem)
{
    if (count < *cap) return arr;
    void *grown = realloc(arr, *cap * 2 * elem);
    if (grown) *cap *= 2;
    return grown;
}
