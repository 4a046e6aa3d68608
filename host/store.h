/* The store (design sections 4 and 7): the cycle lock, the cycle record, the paper ledger,
 * per-strategy state, control flags and named locks. One interface, two backends: Supabase
 * REST (PostgREST) when SUPABASE_URL and SUPABASE_KEY are set, else SQLite at TITAN_DB. */
#ifndef TITAN_STORE_H
#define TITAN_STORE_H
#include <stddef.h>
#include <stdint.h>

/* Conventions of every call below:
 * - `err`/`errlen` receive a one-line message on failure that says what failed and where
 *   ("sqlite ./titan.db: ..." or "supabase https://x.supabase.co/rest/v1/execution_logs: ...");
 *   it never contains the key (and everything printed is redacted anyway).
 * - Times are milliseconds since the epoch (UTC); 0 means "no value" (SQL NULL). The tables hold
 *   ISO-8601 UTC with a Z. "now" is clock_now_ms() (pinnable with TITAN_FAKE_NOW_MS).
 * - Strings handed in are copied; nothing returned points into the store.
 * - Structs returned by the store own their strings: free them with the matching *_free. */

typedef struct store store;

typedef enum {
    STORE_OK = 0,
    STORE_ERR = -1,       /* the store failed or was unreachable: err says what and where */
    STORE_CONFLICT = -2,  /* the row is not in the state the call requires (lost lock, live lease, ...) */
    STORE_NOT_FOUND = -3, /* no such row */
} store_rc;

typedef enum { STORE_BACKEND_SQLITE, STORE_BACKEND_SUPABASE } store_backend;

/* Cycle statuses. `in_doubt` counts as executed for the lock (the slot is never run twice) but a
 * later run must find it (store_list_cycles with status "in_doubt") and resolve it. */
#define STORE_STATUS_RUNNING "running"
#define STORE_STATUS_DONE "done"
#define STORE_STATUS_FAILED "failed"
#define STORE_STATUS_HALTED "halted"
#define STORE_STATUS_SKIPPED "skipped"
#define STORE_STATUS_IN_DOUBT "in_doubt"

/* Opens the active store from the environment: Supabase when SUPABASE_URL and SUPABASE_KEY are
 * both set (one of them alone is an error), else SQLite at TITAN_DB (default ./titan.db). A
 * missing folder, a corrupt or unwritable file is an error naming the path; nothing falls back
 * to another location. Opening Supabase does not contact it. NULL + err on failure. */
store *store_open_from_env(char *err, size_t errlen);
/* The two backends directly (tests, tools). `url` is https://<ref>.supabase.co (plain http only
 * for loopback hosts); keys starting `sb_` go in `apikey` only, others (legacy JWTs) also in
 * `Authorization: Bearer`. */
store *store_open_sqlite(const char *path, char *err, size_t errlen);
store *store_open_supabase(const char *url, const char *key, char *err, size_t errlen);
void store_close(store *st);
/* How long one store call may wait (TITAN_STORE_TIMEOUT_MS, default 15 s): SQLite's wait for a
 * lock another connection holds, the deadline of each PostgREST request. */
int store_timeout_ms(void);
/* "sqlite ./titan.db" or "supabase https://x.supabase.co" (never the key). Owned by st. */
const char *store_describe(const store *st);
store_backend store_backend_of(const store *st);

/* The store the cycle engine opened, for titan.lock (NULL = none: the binding then opens its
 * own from the environment). Not owned: the setter still closes it, after clearing it here. */
void store_set_active(store *st);
store *store_get_active(void);
/* A holder name for locks: "<hostname>:<pid>", plus ":gh<GITHUB_RUN_ID>" inside GitHub Actions. */
void store_default_holder(char *out, size_t outlen);

/* Durability. On SQLite the lock take (store_acquire_cycle, store_retry_cycle), the recorded orders
 * (store_update_cycle_orders, when asked), the record (store_finish_cycle) and the operator's commands
 * (store_release_cycle, store_control_set) are synced to disk before they return; every other write
 * is committed without waiting for the disk and becomes durable with the next synced one (a power
 * cut can only lose the latest unsynced writes, in order). Supabase: every write is durable. */

/* Batches the writes that follow into one transaction, up to store_batch_end: a cycle's last
 * writes (paper fills, ctx.state, the record) land together, with at most one sync. Each write
 * inside stays all-or-nothing on its own (a refused paper fill changes nothing). Holds the
 * database's write lock: nothing slow (no network) may happen inside. A second begin is a no-op;
 * closing the store inside a batch discards it. No-op on Supabase. */
store_rc store_batch_begin(store *st, char *err, size_t errlen);
/* Commits the batch (synced when a durable write is in it). */
store_rc store_batch_end(store *st, char *err, size_t errlen);

/* ---- cycles (execution_logs) ---- */

/* One execution_logs row. Every string is malloc'd (NULL = SQL NULL); free with store_cycle_free. */
typedef struct store_cycle {
    char *cycle_id, *strategy, *mode, *status, *holder;
    int64_t started_ms, lease_until_ms, finished_ms;
    char *decision_json, *orders_json; /* JSON text as stored */
    char *error, *host_version;
} store_cycle;
/* Frees the strings and zeroes the struct (safe on a zeroed struct, and twice). */
void store_cycle_free(store_cycle *c);
void store_cycles_free(store_cycle *rows, size_t n);

typedef enum {
    STORE_ACQUIRED,   /* a new row is ours: run the cycle */
    STORE_DONE,       /* the slot was already executed: info.status says how (done, failed,
                         halted, skipped, in_doubt) */
    STORE_HELD,       /* another runner holds a live lease: info.holder, info.lease_until_ms */
    STORE_TAKEN_OVER, /* the previous holder's lease had expired and the row is now ours: info is
                         the row as it was before (info.holder = the previous holder,
                         info.orders_json/decision_json = what it recorded) -> recover first */
    STORE_ACQUIRE_ERROR, /* not acquired: err says why; trade nothing */
} store_acquire_result;

/* Acquires the lock of `cycle_id` atomically (insert, or compare-and-set takeover of an expired
 * running row). `mode` is "PAPER" or "LIVE"; `lease_s` > 0. The new row is status running,
 * started_at now, lease_until now + lease_s, host_version TITAN_VERSION. `info` (may be NULL) is
 * zeroed, then filled for DONE, HELD and TAKEN_OVER; the caller frees it with store_cycle_free. */
store_acquire_result store_acquire_cycle(store *st, const char *cycle_id, const char *strategy, const char *mode,
                                         const char *holder, int lease_s, store_cycle *info, char *err,
                                         size_t errlen);
const char *store_acquire_result_name(store_acquire_result r); /* "acquired", "done", ... */

/* Extends the lease of a running cycle we hold to now + lease_s. STORE_CONFLICT when the row is no
 * longer ours (taken over, finished, released). */
store_rc store_renew_lease(store *st, const char *cycle_id, const char *holder, int lease_s, char *err,
                           size_t errlen);
/* Whether a write must be on disk before it returns (SQLite; Supabase writes are always durable). */
typedef enum { STORE_LAZY = 0, STORE_DURABLE = 1 } store_durability;
/* Records the orders (JSON text) of a running cycle we hold, e.g. the client order ids before
 * they are sent, so a takeover can reconcile them. STORE_DURABLE before a send to Kraken; a PAPER
 * plan may be lazy (its fills are written after it, so no crash keeps a fill and loses the plan).
 * STORE_CONFLICT when not ours. */
store_rc store_update_cycle_orders(store *st, const char *cycle_id, const char *holder, const char *orders_json,
                                   store_durability durability, char *err, size_t errlen);
/* Ends a running cycle we hold: status (done|failed|halted|skipped|in_doubt), finished_at now,
 * lease_until now, decision/orders (JSON text or NULL = leave as recorded), error (NULL = none).
 * Only the current holder of a running row succeeds; anyone else gets STORE_CONFLICT (err names
 * the row's real holder and status) and nothing changes. */
store_rc store_finish_cycle(store *st, const char *cycle_id, const char *holder, const char *status,
                            const char *decision_json, const char *orders_json, const char *error, char *err,
                            size_t errlen);
/* Marks a finished cycle's orders reconciled, with a compare-and-set on its status: from_status
 * in_doubt (or failed: a row an older titan-host recorded failed with orders of unknown fate),
 * new_status done or failed, orders_json (NULL = keep), and `note` appended to error (NULL =
 * keep). STORE_CONFLICT when the row is no longer from_status (someone resolved it already),
 * STORE_NOT_FOUND when absent. */
store_rc store_resolve_cycle(store *st, const char *cycle_id, const char *from_status, const char *new_status,
                             const char *orders_json, const char *note, char *err, size_t errlen);
/* Re-opens a cycle recorded `failed` for another attempt (`run --retry`), atomically: a
 * compare-and-set from failed to running for `holder`, started_at now, a fresh lease, and
 * finished_at, decision, orders and error cleared. The caller has checked the record proves
 * no order was sent. STORE_CONFLICT when the row is not `failed` (retried by someone else
 * first, or not failed at all), STORE_NOT_FOUND when absent. */
store_rc store_retry_cycle(store *st, const char *cycle_id, const char *holder, int lease_s, char *err,
                           size_t errlen);
/* One row. STORE_NOT_FOUND when absent. */
store_rc store_get_cycle(store *st, const char *cycle_id, store_cycle *out, char *err, size_t errlen);
/* Most recent first (by started_at), at most `limit` rows (limit <= 0 means 20). `strategy` and
 * `status` filter when not NULL. *rows is malloc'd (free with store_cycles_free); *n may be 0. */
store_rc store_list_cycles(store *st, int limit, const char *strategy, const char *status, store_cycle **rows,
                           size_t *n, char *err, size_t errlen);
/* Deletes a cycle row (the rollback step "delete the stuck cycle_id"). A running row whose lease
 * is still live is refused with STORE_CONFLICT unless `force`. `removed` (may be NULL) gets the row
 * as it was — deleted on STORE_OK, kept on STORE_CONFLICT. STORE_NOT_FOUND when absent. */
store_rc store_release_cycle(store *st, const char *cycle_id, int force, store_cycle *removed, char *err,
                             size_t errlen);

/* ---- paper ledger ---- */

typedef struct store_balance {
    char asset[32];
    double amount;
} store_balance;

/* The strategy's paper balances, seeded atomically on first use (no row at all for the
 * strategy) with seed_amount of seed_asset (e.g. "USD", TITAN_PAPER_CASH). seed_asset NULL
 * reads without seeding (dry runs write nothing). *out is malloc'd (free()), sorted by asset. */
store_rc store_paper_balances(store *st, const char *strategy, const char *seed_asset, double seed_amount,
                              store_balance **out, size_t *n, char *err, size_t errlen);
/* The amount of one asset (0 when no row). */
double store_balance_of(const store_balance *b, size_t n, const char *asset);

/* One paper fill. For store_paper_apply_fill the strings are the caller's; rows returned by
 * store_paper_fills own theirs (free with store_fills_free). */
typedef struct store_fill {
    int64_t id;              /* set by the store */
    const char *cycle_id;
    const char *order_ref;   /* optional client order id; a second fill with the same ref for the
                                same strategy is refused with STORE_CONFLICT (never applied twice) */
    int64_t ts_ms;
    const char *pair;        /* "XBTUSD" */
    const char *side;        /* "buy" | "sell" */
    const char *order_type;  /* "market" | "limit" */
    double volume;           /* base units, > 0 */
    double price;            /* quote per base, > 0 */
    double cost;             /* volume * price, quote units, >= 0 */
    double fee;              /* quote units, >= 0 */
    const char *base_asset;  /* "XBT" */
    const char *quote_asset; /* "USD" */
    double realized_pnl;     /* quote units (negative = loss) */
    const char *reason;      /* may be NULL */
} store_fill;

/* Applies one fill atomically: the paper_fills row and the balance deltas together
 * (buy: base += volume, quote -= cost + fee; sell: base -= volume, quote += cost - fee).
 * A fill that would leave a balance below zero is refused with STORE_CONFLICT and changes
 * nothing. fill->id is not read; *id_out (may be NULL) gets the new row's id. */
store_rc store_paper_apply_fill(store *st, const char *strategy, const store_fill *fill, int64_t *id_out, char *err,
                                size_t errlen);
/* Fills of a strategy with ts >= since_ms, oldest first, at most limit (<= 0: 1000); `cycle_id`
 * filters when not NULL. */
store_rc store_paper_fills(store *st, const char *strategy, const char *cycle_id, int64_t since_ms, int limit,
                           store_fill **rows, size_t *n, char *err, size_t errlen);
void store_fills_free(store_fill *rows, size_t n);
/* Sum of realized_pnl of the strategy's fills with ts >= since_ms (the daily-loss gate). */
store_rc store_realized_pnl_since(store *st, const char *strategy, int64_t since_ms, double *sum, char *err,
                                  size_t errlen);

/* ---- strategy state and control flags ---- */

/* The JSON text stored under (strategy, key), malloc'd in *value_json. STORE_NOT_FOUND when unset. */
store_rc store_state_get(store *st, const char *strategy, const char *key, char **value_json, char *err,
                         size_t errlen);
/* Upserts valid JSON text (checked); value_json NULL deletes the key. */
store_rc store_state_set(store *st, const char *strategy, const char *key, const char *value_json, char *err,
                         size_t errlen);
typedef struct store_kv {
    char *key;
    char *value;
} store_kv;
/* Every key of the strategy's state, sorted by key. Free with store_kvs_free. */
store_rc store_state_list(store *st, const char *strategy, store_kv **rows, size_t *n, char *err, size_t errlen);
void store_kvs_free(store_kv *rows, size_t n);

/* control(key, value, updated_at). STORE_NOT_FOUND when unset. *value malloc'd; *updated_ms may be NULL. */
store_rc store_control_get(store *st, const char *key, char **value, int64_t *updated_ms, char *err,
                           size_t errlen);
store_rc store_control_set(store *st, const char *key, const char *value, char *err, size_t errlen);

#define STORE_HALT_KEY "halt"
/* The remote kill switch: *halted = 1 unless the "halt" control row is absent or "0"/"off"/
 * "false" (any other value halts: fail closed). STORE_ERR when the store cannot say. */
store_rc store_halt_get(store *st, int *halted, char *err, size_t errlen);

/* ---- capsules (cycle_capsules) ---- */

/* A cycle's capsule as stored: capsule.h's packed bytes as base64 text, kept until expires_ms
 * (TITAN_CAPSULE_DAYS after it was recorded). Strings are malloc'd in rows the store returns. */
typedef struct store_capsule {
    const char *cycle_id, *strategy;
    int64_t recorded_ms, expires_ms;
    const char *capsule_b64;           /* NULL in lists */
} store_capsule;
void store_capsules_free(store_capsule *rows, size_t n);
/* Frees the strings of one row (store_capsule_get's) and zeroes it. */
void store_capsule_clear(store_capsule *c);
/* Writes the capsule of a cycle, replacing one of the same cycle (a --retry of the slot), in
 * one statement; the store deletes the capsules whose expires_at is before this one's
 * recorded_at in the same statement (a trigger), so capsules never outlive their days. */
store_rc store_capsule_put(store *st, const store_capsule *c, char *err, size_t errlen);
/* One capsule with its text. STORE_NOT_FOUND when absent (never recorded, or expired). */
store_rc store_capsule_get(store *st, const char *cycle_id, store_capsule *out, char *err, size_t errlen);
/* Capsules recorded in [since_ms, until_ms) (0 = unbounded), oldest first, of `strategy` when not
 * NULL, without their text; at most `limit` (<= 0: 1000). */
store_rc store_capsule_list(store *st, const char *strategy, int64_t since_ms, int64_t until_ms, int limit,
                            store_capsule **rows, size_t *n, char *err, size_t errlen);

/* ---- named locks (titan.lock) ---- */

/* Takes `name` for `holder` until now + ttl_s when it is free, expired, or already ours (then the
 * lease is extended). STORE_CONFLICT when another holder has a live lease: its name goes to
 * current_holder (may be NULL). */
store_rc store_lock_acquire(store *st, const char *name, const char *holder, int ttl_s, char *current_holder,
                            size_t current_holder_len, char *err, size_t errlen);
/* Releases `name` if `holder` holds it; STORE_NOT_FOUND when it does not (free, or someone else's). */
store_rc store_lock_release(store *st, const char *name, const char *holder, char *err, size_t errlen);

/* ---- notifications (notify.c): one message per key, ever ---- */

/* Claims `key` ("<cycle_id>:<event>", or "<strategy>@<day>:daily") before its message goes out,
 * with an insert that conflicts: STORE_OK when this call claimed it (send the message),
 * STORE_CONFLICT when it was claimed before (a rerun of the slot: send nothing). */
store_rc store_notify_claim(store *st, const char *key, const char *strategy, const char *cycle_id,
                            const char *event, char *err, size_t errlen);
/* Records what the delivery of a claimed key did: result_json, per channel. */
store_rc store_notify_record(store *st, const char *key, const char *result_json, char *err, size_t errlen);
#endif
