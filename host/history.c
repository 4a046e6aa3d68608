/* A strategy's history from the store (history.h). Records are read through the host's checked
 * decoders (jsondoc, order_list_parse): a row that holds something odd counts as "not recorded"
 * for that figure, never as a failure. PAPER's book is the ledger itself; LIVE's is what the
 * latest record says Kraken held, since the store keeps no LIVE ledger. */
#include "history.h"

#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "intent.h"
#include "jsondoc.h"
#include "orders.h"

#define HISTORY_BASIS_KEY "titan.cost_basis"      /* + ".LIVE": cycle.c's keys */
#define HISTORY_STATE_KEY "ctx_state"
#define HISTORY_FILLS_PAGE 1000

/* What one decision record says, for the figures above. */
typedef struct history_decision {
    double price, cash, position, ai_cost;
    char pair[40], ai[HISTORY_TEXT_SIZE];
    int accepted, resized, rejected;
    int n_reasons;
    struct {
        int index;
        char reason[HISTORY_TEXT_SIZE];
    } reasons[INTENT_MAX];
} history_decision;

static double history_number(lua_State *S, int obj, const char *key)
{
    double v = jsondoc_field(S, obj, key) == LUA_TNUMBER ? lua_tonumber(S, -1) : NAN;
    lua_pop(S, 1);
    return v;
}

/* Copies a string field (cut to fit, never failing) into out; "" when not a string. */
static void history_text(lua_State *S, int obj, const char *key, char *out, size_t size)
{
    out[0] = '\0';
    if (jsondoc_field(S, obj, key) == LUA_TSTRING) snprintf(out, size, "%s", lua_tostring(S, -1));
    lua_pop(S, 1);
}

static void history_read_ai(lua_State *S, int strategy, history_decision *d)
{
    jsondoc_field(S, strategy, "ai");                    /* [ ..., ai ] */
    int ai = lua_gettop(S);
    if (lua_istable(S, ai)) {
        char skipped[64], summary[HISTORY_TEXT_SIZE], action[16];
        history_text(S, ai, "skipped", skipped, sizeof skipped);
        history_text(S, ai, "summary", summary, sizeof summary);
        history_text(S, ai, "action", action, sizeof action);
        double cost = history_number(S, ai, "cost_usd");
        d->ai_cost = isfinite(cost) && cost > 0 ? cost : 0;
        if (skipped[0]) snprintf(d->ai, sizeof d->ai, "skipped: %s", skipped);
        else if (summary[0]) snprintf(d->ai, sizeof d->ai, "%s", summary);
        else if (action[0]) snprintf(d->ai, sizeof d->ai, "AI %s", action);
    } else if (lua_type(S, ai) == LUA_TSTRING) {
        snprintf(d->ai, sizeof d->ai, "%s", lua_tostring(S, ai));
    }
    lua_pop(S, 1);
}

static int history_read_decision(lua_State *S, int idx, void *ud)
{
    history_decision *d = ud;
    if (!lua_istable(S, idx)) return -1;
    history_text(S, idx, "pair", d->pair, sizeof d->pair);
    jsondoc_field(S, idx, "prices");                     /* [ doc, prices ] */
    d->price = history_number(S, -1, "last");
    lua_pop(S, 1);
    jsondoc_field(S, idx, "portfolio");                  /* [ doc, portfolio ] */
    d->cash = history_number(S, -1, "cash");
    d->position = history_number(S, -1, "position");
    lua_pop(S, 1);
    jsondoc_field(S, idx, "strategy");                   /* [ doc, ctx.decision ] */
    if (lua_istable(S, -1)) history_read_ai(S, lua_gettop(S), d);
    lua_pop(S, 1);
    jsondoc_field(S, idx, "intents");                    /* [ doc, intents ] */
    int intents = lua_gettop(S);
    size_t n = lua_istable(S, intents) ? lua_rawlen(S, intents) : 0;
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(S, intents, (lua_Integer)i);         /* [ doc, intents, intent ] */
        char status[16];
        history_text(S, -1, "status", status, sizeof status);
        d->accepted += strcmp(status, "accepted") == 0;
        d->resized += strcmp(status, "resized") == 0;
        d->rejected += strcmp(status, "rejected") == 0;
        double index = history_number(S, -1, "index");
        if (d->n_reasons < INTENT_MAX && isfinite(index)) {
            d->reasons[d->n_reasons].index = (int)index;
            history_text(S, -1, "reason", d->reasons[d->n_reasons].reason, HISTORY_TEXT_SIZE);
            d->n_reasons++;
        }
        lua_pop(S, 1);
    }
    lua_pop(S, 1);
    return 0;
}

static void history_parse_decision(const char *json, history_decision *d)
{
    memset(d, 0, sizeof *d);
    d->price = d->cash = d->position = NAN;
    if (json && jsondoc_read(json, strlen(json), history_read_decision, d) != 0) {
        memset(d, 0, sizeof *d);
        d->price = d->cash = d->position = NAN;
    }
}

static const char *history_reason_of(const history_decision *d, int index)
{
    for (int i = 0; i < d->n_reasons; i++)
        if (d->reasons[i].index == index) return d->reasons[i].reason;
    return "";
}

static int64_t history_cycle_time(const store_cycle *row) { return row->finished_ms ? row->finished_ms : row->started_ms; }

static int history_add_fill(history *h, size_t *cap, const history_fill *f)
{
    if (h->nfills == *cap) {
        size_t grown = *cap ? *cap * 2 : 64;
        history_fill *p = realloc(h->fills, grown * sizeof *p);
        if (!p) return -1;
        h->fills = p, *cap = grown;
    }
    h->fills[h->nfills++] = *f;
    return 0;
}

/* One row into a cycle summary; LIVE orders that executed become fills (fill_cap NULL: not). */
static int history_read_row(history *h, const store_cycle *row, history_cycle *c, size_t *fill_cap)
{
    history_decision d;
    history_parse_decision(row->decision_json, &d);
    memset(c, 0, sizeof *c);
    snprintf(c->cycle_id, sizeof c->cycle_id, "%s", row->cycle_id);
    snprintf(c->status, sizeof c->status, "%s", row->status);
    snprintf(c->mode, sizeof c->mode, "%s", row->mode ? row->mode : "");
    snprintf(c->error, sizeof c->error, "%s", row->error ? row->error : "");
    snprintf(c->ai, sizeof c->ai, "%s", d.ai);
    c->started_ms = row->started_ms, c->finished_ms = row->finished_ms;
    c->accepted = d.accepted, c->resized = d.resized, c->rejected = d.rejected;
    c->price = d.price, c->cash = d.cash, c->position = d.position;
    c->ai_cost_usd = d.ai_cost;
    if (!h->pair[0] && d.pair[0]) snprintf(h->pair, sizeof h->pair, "%s", d.pair);
    order_list orders;
    if (order_list_parse(row->orders_json, &orders) != 0) {
        c->unknown_orders = 1;                           /* unreadable: nothing proves their fate */
        return 0;
    }
    int rc = 0, live = strcmp(c->mode, "LIVE") == 0;
    for (size_t k = 0; k < orders.n; k++) {
        const order_record *o = &orders.items[k];
        c->unknown_orders += order_fate_unknown(o);
        if (!order_executed(o)) continue;
        c->fills++;
        /* a record keeps the book the strategy decided on, before the orders: its fills move
         * the cash and the position to where they left them */
        double fee = isfinite(o->fee) ? o->fee : 0;
        int buy = strcmp(o->side, "buy") == 0;
        if (isfinite(o->cost)) c->cash += buy ? -(o->cost + fee) : o->cost - fee;
        c->position += buy ? o->vol_exec : -o->vol_exec;
        if (!fill_cap || !live) continue;                /* PAPER fills come from the ledger */
        history_fill f = {.t_ms = history_cycle_time(row), .volume = o->vol_exec, .price = o->avg_price,
                          .cost = o->cost, .fee = fee,
                          .realized_pnl = isfinite(o->realized_pnl) ? o->realized_pnl : 0};
        snprintf(f.cycle_id, sizeof f.cycle_id, "%s", row->cycle_id);
        snprintf(f.side, sizeof f.side, "%s", o->side);
        snprintf(f.reason, sizeof f.reason, "%s", history_reason_of(&d, o->index));
        if (history_add_fill(h, fill_cap, &f) != 0) rc = -1;
    }
    order_list_free(&orders);
    return rc;
}

static int history_cmp_fill(const void *a, const void *b)
{
    const history_fill *x = a, *y = b;
    return (x->t_ms > y->t_ms) - (x->t_ms < y->t_ms);
}

/* Every paper fill, oldest first, a page at a time (a server may cap a page below what is
 * asked): the next page starts at the last fill's time, skipping the ids already read. */
static store_rc history_paper_fills(store *st, history *h, size_t *cap, char *quote, size_t quote_size, char *base,
                                    size_t base_size, char *err, size_t errlen)
{
    int64_t since = 0, boundary_id = 0;
    for (int page = 0; page < 10000; page++) {
        store_fill *rows = NULL;
        size_t n = 0, added = 0;
        store_rc rc = store_paper_fills(st, h->strategy, NULL, since, HISTORY_FILLS_PAGE, &rows, &n, err, errlen);
        if (rc != STORE_OK) return rc;
        int64_t last_ts = since, last_boundary = boundary_id;
        for (size_t i = 0; i < n; i++) {
            const store_fill *r = &rows[i];
            if (r->ts_ms == since && r->id <= boundary_id) continue;
            history_fill f = {.t_ms = r->ts_ms, .volume = r->volume, .price = r->price, .cost = r->cost, .fee = r->fee,
                              .realized_pnl = r->realized_pnl};
            snprintf(f.cycle_id, sizeof f.cycle_id, "%s", r->cycle_id);
            snprintf(f.side, sizeof f.side, "%s", r->side);
            snprintf(f.reason, sizeof f.reason, "%s", r->reason ? r->reason : "");
            if (!quote[0]) snprintf(quote, quote_size, "%s", r->quote_asset);
            if (!base[0]) snprintf(base, base_size, "%s", r->base_asset);
            if (history_add_fill(h, cap, &f) != 0) {
                store_fills_free(rows, n);
                snprintf(err, errlen, "out of memory reading the fills");
                return STORE_ERR;
            }
            added++;
            if (r->ts_ms != last_ts) last_ts = r->ts_ms, last_boundary = 0;
            if (r->id > last_boundary) last_boundary = r->id;
        }
        store_fills_free(rows, n);
        if (added == 0) break;
        since = last_ts, boundary_id = last_boundary;
    }
    h->fills_complete = 1;
    return STORE_OK;
}

static double history_state_number(store *st, const char *strategy, const char *key)
{
    char *json = NULL, err[256];
    double v = 0;
    if (store_state_get(st, strategy, key, &json, err, sizeof err) == STORE_OK && json) v = strtod(json, NULL);
    free(json);
    return isfinite(v) ? v : 0;
}

typedef struct history_spend {
    const char *day;
    double usd;
} history_spend;

/* ctx.state.ai_spend[day] (strategies/lib/ai/cost.lua keeps the current UTC day there). */
static int history_read_spend(lua_State *S, int idx, void *ud)
{
    history_spend *s = ud;
    jsondoc_field(S, idx, "ai_spend");                   /* [ state, ai_spend ] */
    s->usd = history_number(S, -1, s->day);
    lua_pop(S, 1);
    return 0;
}

static double history_ai_spend_state(store *st, const char *strategy, int64_t now_ms)
{
    char *json = NULL, err[256], iso[CLOCK_ISO_SIZE];
    clock_iso(now_ms, iso);
    iso[10] = '\0';
    history_spend s = {.day = iso, .usd = NAN};
    if (store_state_get(st, strategy, HISTORY_STATE_KEY, &json, err, sizeof err) == STORE_OK && json)
        jsondoc_read(json, strlen(json), history_read_spend, &s);
    free(json);
    return s.usd;
}

/* The book now: PAPER from the ledger (NULL seed: reading never writes), LIVE from the latest record. */
static store_rc history_read_book(store *st, history *h, size_t *fill_cap, char *err, size_t errlen)
{
    int live = strcmp(h->mode, "LIVE") == 0;
    h->cash = h->position = NAN;
    for (size_t i = 0; i < h->ncycles && live; i++) {
        if (isfinite(h->cycles[i].cash) && isfinite(h->cycles[i].position)) {
            h->cash = h->cycles[i].cash, h->position = h->cycles[i].position;
            break;
        }
    }
    if (live) return STORE_OK;
    char base[32] = "";
    store_rc rc = history_paper_fills(st, h, fill_cap, h->quote, sizeof h->quote, base, sizeof base, err, errlen);
    if (rc != STORE_OK) return rc;
    store_balance *ledger = NULL;
    size_t n = 0;
    rc = store_paper_balances(st, h->strategy, NULL, 0, &ledger, &n, err, errlen);
    if (rc != STORE_OK) return rc;
    if (!h->quote[0] && n == 1) snprintf(h->quote, sizeof h->quote, "%s", ledger[0].asset);   /* seeded, never traded */
    if (n > 0) {
        h->cash = store_balance_of(ledger, n, h->quote);
        h->position = base[0] ? store_balance_of(ledger, n, base) : 0;
    }
    free(ledger);
    return STORE_OK;
}

static void history_figures(store *st, history *h, int64_t now_ms)
{
    h->price = NAN;
    for (size_t i = 0; i < h->ncycles; i++) {
        if (isfinite(h->cycles[i].price) && h->cycles[i].price > 0) {
            h->price = h->cycles[i].price;
            h->price_ms = h->cycles[i].finished_ms ? h->cycles[i].finished_ms : h->cycles[i].started_ms;
            break;
        }
    }
    h->have_book = isfinite(h->cash) && isfinite(h->position);
    h->position_value = h->have_book ? (h->position == 0 ? 0 : h->position * h->price) : NAN;
    h->equity = h->have_book ? h->cash + h->position_value : NAN;
    int live = strcmp(h->mode, "LIVE") == 0;
    h->cost_basis = h->have_book && h->position > 1e-12
                        ? history_state_number(st, h->strategy, live ? HISTORY_BASIS_KEY ".LIVE" : HISTORY_BASIS_KEY)
                        : 0;
    double bought = 0, sold = 0;
    for (size_t i = 0; i < h->nfills; i++) {
        const history_fill *f = &h->fills[i];
        h->realized_pnl += f->realized_pnl;
        h->fees += f->fee;
        if (strcmp(f->side, "buy") == 0) bought += f->cost + f->fee;
        else sold += f->cost - f->fee;
    }
    /* PAPER's ledger started as cash alone: undo every fill to find it */
    h->initial_equity = !live && h->fills_complete && h->have_book ? h->cash + bought - sold
                        : h->npoints ? h->points[0].equity
                                     : NAN;
    double spent = history_ai_spend_state(st, h->strategy, now_ms);
    h->ai_spend_today_usd = isfinite(spent) ? spent : history_ai_spend(h, clock_slot_ms(now_ms, 1440), now_ms + 1);
}

#define HISTORY_MAX_IN_DOUBT 100

static int history_read_in_doubt(store *st, history *h, char *err, size_t errlen)
{
    store_cycle *rows = NULL;
    size_t n = 0;
    if (store_list_cycles(st, HISTORY_MAX_IN_DOUBT, h->strategy, STORE_STATUS_IN_DOUBT, &rows, &n, err, errlen) !=
        STORE_OK)
        return -1;
    h->in_doubt = calloc(n ? n : 1, sizeof *h->in_doubt);
    for (size_t i = 0; h->in_doubt && i < n; i++) history_read_row(h, &rows[i], &h->in_doubt[i], NULL);
    if (h->in_doubt) h->n_in_doubt = n;
    store_cycles_free(rows, n);
    if (h->in_doubt) return 0;
    snprintf(err, errlen, "out of memory");
    return -1;
}

int history_load(store *st, const char *strategy, int64_t now_ms, history *h, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    snprintf(h->strategy, sizeof h->strategy, "%s", strategy);
    store_cycle *rows = NULL;
    size_t n = 0, fill_cap = 0;
    if (store_list_cycles(st, HISTORY_MAX_CYCLES, strategy, NULL, &rows, &n, err, errlen) != STORE_OK) return -1;
    h->cycles = calloc(n ? n : 1, sizeof *h->cycles);
    h->points = calloc(n ? n : 1, sizeof *h->points);
    int rc = h->cycles && h->points ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) rc = history_read_row(h, &rows[i], &h->cycles[i], &fill_cap);
    if (rc == 0) h->ncycles = n;
    if (n) snprintf(h->mode, sizeof h->mode, "%s", rows[0].mode ? rows[0].mode : "PAPER");
    store_cycles_free(rows, n);
    if (rc != 0) {
        snprintf(err, errlen, "out of memory reading the cycles of %s", strategy);
        history_free(h);
        return -1;
    }
    for (size_t i = h->ncycles; i-- > 0;) {              /* oldest first */
        const history_cycle *c = &h->cycles[i];
        if (!isfinite(c->price) || !isfinite(c->cash) || !isfinite(c->position)) continue;
        h->points[h->npoints++] = (history_point){.t_ms = c->finished_ms ? c->finished_ms : c->started_ms,
                                                  .equity = c->cash + c->position * c->price,
                                                  .position = c->position, .price = c->price};
    }
    if (!h->mode[0]) snprintf(h->mode, sizeof h->mode, "PAPER");
    if (history_read_in_doubt(st, h, err, errlen) != 0 || history_read_book(st, h, &fill_cap, err, errlen) != STORE_OK) {
        history_free(h);
        return -1;
    }
    if (h->nfills > 1) qsort(h->fills, h->nfills, sizeof *h->fills, history_cmp_fill);
    history_figures(st, h, now_ms);
    return 0;
}

void history_free(history *h)
{
    free(h->cycles);
    free(h->in_doubt);
    free(h->points);
    free(h->fills);
    memset(h, 0, sizeof *h);
}

double history_equity_before(const history *h, int64_t t_ms)
{
    double e = h->initial_equity;
    for (size_t i = 0; i < h->npoints && h->points[i].t_ms < t_ms; i++) e = h->points[i].equity;
    return e;
}

double history_change_since(const history *h, int64_t t_ms)
{
    return h->equity - (t_ms ? history_equity_before(h, t_ms) : h->initial_equity);
}

double history_ai_spend(const history *h, int64_t from_ms, int64_t to_ms)
{
    double usd = 0;
    for (size_t i = 0; i < h->ncycles; i++)
        if (h->cycles[i].started_ms >= from_ms && h->cycles[i].started_ms < to_ms) usd += h->cycles[i].ai_cost_usd;
    return usd;
}

int history_strategies(store *st, char ***names, size_t *n, size_t max, char *err, size_t errlen)
{
    *names = NULL, *n = 0;
    store_cycle *rows = NULL;
    size_t nrows = 0;
    if (store_list_cycles(st, HISTORY_MAX_CYCLES, NULL, NULL, &rows, &nrows, err, errlen) != STORE_OK) return -1;
    char **out = calloc(max ? max : 1, sizeof *out);
    int rc = out ? 0 : -1;
    for (size_t i = 0; i < nrows && rc == 0 && *n < max; i++) {
        int seen = 0;
        for (size_t k = 0; k < *n && !seen; k++) seen = strcmp(out[k], rows[i].strategy) == 0;
        if (seen || !rows[i].strategy) continue;
        if (!(out[*n] = strdup(rows[i].strategy))) rc = -1;
        else (*n)++;
    }
    store_cycles_free(rows, nrows);
    if (rc != 0) {
        for (size_t k = 0; out && k < *n; k++) free(out[k]);
        free(out);
        *n = 0;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *names = out;
    return 0;
}
