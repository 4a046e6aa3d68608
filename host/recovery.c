/* Reconciling earlier runs' orders before anything trades (README "What one cycle does", step 4).
 * Every row touched is changed with a compare-and-set (store_resolve_cycle on in_doubt and failed
 * rows, store_acquire_cycle's takeover of expired running rows), so a live runner is never
 * overwritten. LIVE orders are looked up on Kraken, PAPER ones in the paper ledger, where a fill
 * is keyed by its client order id. */
#include "recovery.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blackbox.h"
#include "clock.h"
#include "live.h"

static void recovery_error(const recovery *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void recovery_error(const recovery *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->error->len) strbuf_puts(r->error, "; ");
    strbuf_puts(r->error, msg);
}

int recovery_absent_is_final(int64_t lease_until_ms)
{
    return clock_now_ms() - lease_until_ms > RECOVERY_SEND_SETTLE_MS;
}

/* A PAPER order's fill in the ledger (paper_fills.order_ref is its cl_ord_id). */
static live_lookup_result recovery_paper_lookup(const recovery *r, const store_cycle *row, order_record *o,
                                                kraken_outcome *why)
{
    store_fill *fills = NULL;
    size_t n = 0;
    char err[512];
    if (store_paper_fills(r->st, row->strategy ? row->strategy : r->strategy, row->cycle_id, 0, 0, &fills, &n, err,
                          sizeof err) != STORE_OK) {
        kraken_fail(why, "recovery.store", 0, 0, "cannot read the paper ledger: %s", err);
        return LIVE_LOOKUP_FAILED;
    }
    live_lookup_result found = LIVE_ABSENT;
    for (size_t i = 0; i < n && found == LIVE_ABSENT; i++) {
        const store_fill *f = &fills[i];
        if (!f->order_ref || strcmp(f->order_ref, o->cl_ord_id) != 0) continue;
        ORDER_SET(o, state, ORDER_FILLED);
        o->vol_exec = f->volume;
        o->avg_price = f->price;
        o->cost = f->cost;
        o->fee = f->fee;
        o->realized_pnl = f->realized_pnl;
        o->fill_id = f->id;
        found = LIVE_FOUND;
    }
    store_fills_free(fills, n);
    return found;
}

static live_lookup_result recovery_lookup(const recovery *r, const store_cycle *row, order_record *o,
                                          kraken_outcome *why)
{
    if (row->mode && strcmp(row->mode, "PAPER") == 0) return recovery_paper_lookup(r, row, o, why);
    if (r->can_look_up) return live_lookup(o, why);
    kraken_fail(why, "recovery.no_lookup", 0, 0, "LIVE orders can only be looked up on Kraken in LIVE mode");
    return LIVE_LOOKUP_FAILED;
}

int recovery_reconcile(const recovery *r, const store_cycle *row, order_list *orders, int absent_is_final,
                       int *changed)
{
    int unknown = 0;
    if (changed) *changed = 0;
    for (size_t i = 0; i < orders->n; i++) {
        order_record *o = &orders->items[i];
        if (!order_fate_unknown(o)) continue;
        kraken_outcome why = {0};
        live_lookup_result found = recovery_lookup(r, row, o, &why);
        if (found == LIVE_LOOKUP_FAILED || (found == LIVE_ABSENT && !absent_is_final)) {
            strbuf f = {0};
            strbuf_puts(&f, "{");
            strbuf_json_str(&f, "cl_ord_id", o->cl_ord_id);
            if (found == LIVE_ABSENT) strbuf_json_str(&f, "state", "absent so far");
            else strbuf_json_str(&f, "error", why.message);
            blackbox_emit(found == LIVE_ABSENT ? BLACKBOX_WARN : BLACKBOX_ERROR,
                          found == LIVE_ABSENT ? "recovery.not_yet_visible" : "recovery.lookup_failed", &f);
            unknown++;
            continue;
        }
        if (found == LIVE_ABSENT) ORDER_SET(o, state, ORDER_NOT_PLACED);
        ORDER_SET(o, reconciled, "looked up by cl_ord_id in a later run");
        strbuf f = {0};
        strbuf_puts(&f, "{");
        strbuf_json_str(&f, "cl_ord_id", o->cl_ord_id);
        strbuf_json_str(&f, "state", o->state);
        if (o->txid[0]) strbuf_json_str(&f, "txid", o->txid);
        blackbox_emit(BLACKBOX_WARN, "recovery.order", &f);
        if (changed) (*changed)++;
    }
    return unknown;
}

static int recovery_any_unknown(const order_list *orders)
{
    for (size_t i = 0; i < orders->n; i++)
        if (order_fate_unknown(&orders->items[i])) return 1;
    return 0;
}

/* Finished rows whose orders' fate is unknown: every in_doubt row (resolved to done), and failed
 * rows that hold such orders — only an older titan-host recorded those (cycle_record makes any
 * row with one in_doubt), and a booked order may hide behind one; they stay failed, their orders
 * reconciled. Returns the rows still unresolved. */
static int recovery_finished_rows(const recovery *r, const char *status, int *store_failed)
{
    int was_failed = strcmp(status, STORE_STATUS_FAILED) == 0;
    store_cycle *rows = NULL;
    size_t n = 0;
    char err[512];
    if (store_list_cycles(r->st, RECOVERY_MAX_ROWS, r->strategy, status, &rows, &n, err, sizeof err) != STORE_OK) {
        recovery_error(r, "cannot list %s cycles: %s", status, err);
        *store_failed = 1;
        return 0;
    }
    int unresolved = 0;
    for (size_t i = 0; i < n; i++) {
        const store_cycle *row = &rows[i];
        order_list orders;
        if (order_list_parse(row->orders_json, &orders) != 0) {
            recovery_error(r, "the orders recorded by %s (%s) are unreadable: check them on Kraken", row->cycle_id,
                           status);
            unresolved++;
            continue;
        }
        if (was_failed && !recovery_any_unknown(&orders)) {
            order_list_free(&orders);
            continue;
        }
        if (recovery_reconcile(r, row, &orders, 1, NULL) != 0) {
            if (was_failed)
                recovery_error(r, "%s, recorded failed by an older titan-host, has orders of unknown fate that could "
                                  "not be looked up", row->cycle_id);
            unresolved++;
        } else {
            char *json = order_list_json(&orders);
            store_rc rc = json ? store_resolve_cycle(r->st, row->cycle_id, status,
                                                     was_failed ? STORE_STATUS_FAILED : STORE_STATUS_DONE, json,
                                                     was_failed ? "orders of unknown fate (an older titan-host recorded "
                                                                  "them under failed) reconciled by a later run"
                                                                : "orders reconciled by a later run",
                                                     err, sizeof err)
                               : STORE_ERR;
            if (!json) snprintf(err, sizeof err, "out of memory");
            free(json);
            if (rc != STORE_OK && rc != STORE_CONFLICT) {
                recovery_error(r, "cannot resolve %s: %s", row->cycle_id, err);
                unresolved++;
            } else {
                strbuf f = {0};
                strbuf_puts(&f, "{");
                strbuf_json_str(&f, "cycle_id", row->cycle_id);
                strbuf_json_str(&f, "was", status);
                blackbox_emit(BLACKBOX_WARN, "recovery.resolved", &f);
            }
        }
        order_list_free(&orders);
    }
    store_cycles_free(rows, n);
    return unresolved;
}

/* An expired running row, now ours: its orders looked up, the row finished. 1 when it stays
 * unresolved. */
static int recovery_finish_abandoned(const recovery *r, const store_cycle *was)
{
    char err[512], until[CLOCK_ISO_SIZE], note[600];
    clock_iso(was->lease_until_ms, until);
    order_list orders;
    int readable = order_list_parse(was->orders_json, &orders) == 0;
    int unknown = readable ? recovery_reconcile(r, was, &orders, recovery_absent_is_final(was->lease_until_ms), NULL) : 1;
    const char *status = unknown ? STORE_STATUS_IN_DOUBT : orders.n ? STORE_STATUS_DONE : STORE_STATUS_FAILED;
    const char *holder = was->holder ? was->holder : "?";
    if (!readable)
        snprintf(note, sizeof note, "abandoned by %s (lease expired %s); its recorded orders are unreadable, kept as "
                                    "recorded and in doubt: check them on Kraken", holder, until);
    else if (unknown)
        snprintf(note, sizeof note, "abandoned by %s (lease expired %s) with %d order(s) whose fate is still unknown: "
                                    "in doubt until a later run looks them up", holder, until, unknown);
    else if (orders.n)
        snprintf(note, sizeof note, "abandoned by %s (lease expired %s); its orders were reconciled by cl_ord_id in a "
                                    "later run", holder, until);
    else
        snprintf(note, sizeof note, "abandoned by %s (lease expired %s) before sending any order; closed by a later run",
                 holder, until);
    char *json = readable ? order_list_json(&orders) : NULL;
    store_rc rc = store_finish_cycle(r->st, was->cycle_id, r->holder, status, NULL, json, note, err, sizeof err);
    free(json);
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "cycle_id", was->cycle_id);
    strbuf_json_str(&f, "previous_holder", holder);
    strbuf_json_int(&f, "orders", readable ? (long long)orders.n : -1);
    strbuf_json_int(&f, "unknown", unknown);
    strbuf_json_str(&f, "status", status);
    blackbox_emit(unknown ? BLACKBOX_ERROR : BLACKBOX_WARN, "recovery.abandoned", &f);
    order_list_free(&orders);
    if (rc != STORE_OK) {
        recovery_error(r, "cannot close %s, abandoned by %s: %s", was->cycle_id, holder, err);
        return 1;
    }
    if (unknown) recovery_error(r, "%s", note);
    return unknown != 0;
}

/* A running row whose runner still holds a live lease: left alone; 1 when it has orders in flight. */
static int recovery_live_runner(const recovery *r, const store_cycle *row)
{
    order_list orders;
    int in_flight = order_list_parse(row->orders_json, &orders) != 0;
    for (size_t i = 0; !in_flight && i < orders.n; i++) in_flight = order_fate_unknown(&orders.items[i]);
    order_list_free(&orders);
    if (!in_flight) return 0;
    char until[CLOCK_ISO_SIZE];
    clock_iso(row->lease_until_ms, until);
    recovery_error(r, "%s is still running (held by %s until %s) with orders in flight", row->cycle_id,
                   row->holder ? row->holder : "?", until);
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "cycle_id", row->cycle_id);
    strbuf_json_str(&f, "holder", row->holder);
    strbuf_json_str(&f, "lease_until", until);
    blackbox_emit(BLACKBOX_WARN, "recovery.earlier_running", &f);
    return 1;
}

/* Earlier rows left running: expired ones are taken over and finished. Returns unresolved rows. */
static int recovery_running_rows(const recovery *r, int *store_failed)
{
    store_cycle *rows = NULL;
    size_t n = 0;
    char err[512];
    if (store_list_cycles(r->st, RECOVERY_MAX_ROWS, r->strategy, STORE_STATUS_RUNNING, &rows, &n, err, sizeof err) !=
        STORE_OK) {
        recovery_error(r, "cannot list running cycles: %s", err);
        *store_failed = 1;
        return 0;
    }
    int unresolved = 0;
    for (size_t i = 0; i < n && !*store_failed; i++) {
        const store_cycle *row = &rows[i];
        if (strcmp(row->cycle_id, r->current_cycle_id) == 0) continue;
        if (row->lease_until_ms >= clock_now_ms()) {
            unresolved += recovery_live_runner(r, row);
            continue;
        }
        store_cycle was;
        store_acquire_result acq = store_acquire_cycle(r->st, row->cycle_id, row->strategy, r->mode, r->holder,
                                                       r->lease_s, &was, err, sizeof err);
        switch (acq) {
        case STORE_TAKEN_OVER: unresolved += recovery_finish_abandoned(r, &was); break;
        case STORE_HELD: unresolved += recovery_live_runner(r, &was); break;   /* renewed meanwhile */
        case STORE_DONE: break;                                                  /* finished meanwhile */
        case STORE_ACQUIRED:
            /* released between the list and now: the row just made is ours and means nothing */
            store_release_cycle(r->st, row->cycle_id, 1, NULL, err, sizeof err);
            break;
        case STORE_ACQUIRE_ERROR:
            recovery_error(r, "cannot take over %s: %s", row->cycle_id, err);
            *store_failed = 1;
            break;
        }
        store_cycle_free(&was);
    }
    store_cycles_free(rows, n);
    return unresolved;
}

int recovery_earlier_cycles(const recovery *r)
{
    int store_failed = 0;
    int unresolved = recovery_finished_rows(r, STORE_STATUS_IN_DOUBT, &store_failed);
    if (!store_failed) unresolved += recovery_finished_rows(r, STORE_STATUS_FAILED, &store_failed);
    if (!store_failed) unresolved += recovery_running_rows(r, &store_failed);
    return store_failed ? -1 : unresolved;
}
