/* The cycle engine (design section 4). It runs inside one protected call so that even an
 * out-of-memory error unwinds to a place that records the cycle; every way out goes through
 * cycle_end, which writes the record, logs cycle.end and picks the exit code. */
#include "cycle.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "bindings.h"
#include "blackbox.h"
#include "clock.h"
#include "codec.h"
#include "commands.h"
#include "console.h"
#include "ctx.h"
#include "intent.h"
#include "kraken.h"
#include "live.h"
#include "paper.h"
#include "risk.h"
#include "runtime.h"
#include "secrets.h"
#include "store.h"
#include "strategy.h"
#include "strbuf.h"
#include "version.h"

#define CYCLE_LEASE_S_DEFAULT 600      /* shorter than a 15-minute slot, longer than any cycle */
#define CYCLE_STATE_KEY "ctx_state"    /* ctx.state, as one JSON document per strategy */
#define CYCLE_BASIS_KEY "titan.cost_basis"   /* + ".LIVE" in LIVE: paper and live books never mix */
#define CYCLE_REALIZED_KEY "titan.live_realized"
#define CYCLE_STATE_MAX (256 * 1024)
#define CYCLE_TIMEOUT_MS 15000

typedef struct cycle {
    const cycle_options *opt;
    runtime *rt;
    lua_State *L;
    store *st;
    char mode[8];
    char holder[160];
    char cycle_id[200];
    char strategy[80];
    char pair[40];
    int interval;
    int strategy_idx, decision_idx, orders_idx, state_idx;
    risk_caps caps;
    paper_config paper;
    pair_rules rules;
    char pair_key[40], base[24], quote[24];
    double bid, ask, last;
    double cash, position, basis, realized_today;
    int locked;                 /* we hold the row: the record must be finished */
    int exit_code;
    char status[16];
    strbuf error;
    int counts[4];              /* intents per intent_status */
    int filled, in_doubt;
} cycle;

/* ---- small helpers ---------------------------------------------------------------- */

static void cycle_set_error(cycle *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cycle_set_error(cycle *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->error.len) strbuf_puts(&c->error, "; ");
    strbuf_puts(&c->error, msg);
}

static void cycle_log(blackbox_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cycle_log(blackbox_level lvl, const char *event, const char *fmt, ...)
{
    /* fmt builds the members of a JSON object (without braces) */
    strbuf f = {0};
    strbuf_puts(&f, "{");
    if (fmt) {
        char body[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(body, sizeof body, fmt, ap);
        va_end(ap);
        strbuf_puts(&f, body);
    }
    strbuf_puts(&f, "}");
    blackbox_log(lvl, event, f.oom ? NULL : f.data);
    strbuf_free(&f);
}

/* A JSON string literal of s, for cycle_log's arguments: a ring of buffers, so one call may
 * quote up to CYCLE_QUOTES strings. */
#define CYCLE_QUOTES 12
static strbuf cycle_quote_ring[CYCLE_QUOTES];
static const char *cycle_q(const char *s)
{
    static int next;
    strbuf *b = &cycle_quote_ring[next];
    next = (next + 1) % CYCLE_QUOTES;
    b->len = 0;
    strbuf_json_string(b, s ? s : "", s ? strlen(s) : 0);
    return strbuf_cstr(b);
}

static void cycle_free_quotes(void)
{
    for (int i = 0; i < CYCLE_QUOTES; i++) strbuf_free(&cycle_quote_ring[i]);
}

static void cycle_set_num(lua_State *L, int t, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, t, key);
}

static void cycle_set_str(lua_State *L, int t, const char *key, const char *v)
{
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, t, key);
}

static int cycle_encode_protected(lua_State *L)
{
    bindings_json_encode(L, 1);
    return 1;
}

/* JSON of the value at idx, malloc'd; never fails: an unencodable value becomes an object
 * that says why (a strategy may put anything in ctx.decision or ctx.state). */
static char *cycle_encode(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, cycle_encode_protected);
    lua_pushvalue(L, idx);
    char *out;
    if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
        out = strdup(lua_tostring(L, -1));
    } else {
        strbuf b = {0};
        strbuf_puts(&b, "{\"unencodable\":");
        const char *m = lua_tostring(L, -1);
        strbuf_json_string(&b, m ? m : "?", m ? strlen(m) : 1);
        strbuf_puts(&b, "}");
        out = strdup(strbuf_cstr(&b));
        strbuf_free(&b);
    }
    lua_pop(L, 1);
    return out;
}

/* Reads a number field of the table on top (0 when absent). */
static double cycle_field_num(lua_State *L, int t, const char *key)
{
    lua_getfield(L, t, key);
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Pushes the err table's "code: message" (from a `nil, err` pair on top) as one string. */
static const char *cycle_err_text(lua_State *L, int err_idx)
{
    err_idx = lua_absindex(L, err_idx);
    lua_getfield(L, err_idx, "code");
    lua_getfield(L, err_idx, "message");
    lua_pushfstring(L, "%s: %s", lua_tostring(L, -2) ? lua_tostring(L, -2) : "error",
                    lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    lua_replace(L, -3);
    lua_pop(L, 1);
    return lua_tostring(L, -1);
}

/* ---- configuration ------------------------------------------------------------------ */

static int cycle_read_mode(char out[8])
{
    const char *m = getenv("SYSTEM_MODE");
    if (!m || !*m) m = "PAPER";
    char up[16] = {0};
    for (size_t i = 0; m[i] && i < sizeof up - 1; i++) up[i] = (char)toupper((unsigned char)m[i]);
    if (strlen(m) >= sizeof up || (strcmp(up, "PAPER") != 0 && strcmp(up, "LIVE") != 0)) return -1;
    snprintf(out, 8, "%s", up);
    return 0;
}

static int cycle_lease_s(void)
{
    const char *v = getenv("TITAN_LEASE_S");
    int n = v ? atoi(v) : 0;
    return n > 0 ? n : CYCLE_LEASE_S_DEFAULT;
}

/* The sha256 of the strategy file, so the record says exactly which code ran. */
static void cycle_file_hash(const char *path, char out[65])
{
    codec_file_sha256(path, out);
}

/* ---- the end of every cycle --------------------------------------------------------- */

static const char *cycle_status_for_exit(int code)
{
    return code == EXIT_IN_DOUBT ? STORE_STATUS_IN_DOUBT : code == EXIT_FAILED ? STORE_STATUS_FAILED : STORE_STATUS_DONE;
}

/* Writes the record (when we hold the lock and are not dry-running), logs cycle.end and
 * prints the one-line outcome. Returns the exit code. */
static int cycle_end(cycle *c, const char *status, int code)
{
    lua_State *L = c->L;
    snprintf(c->status, sizeof c->status, "%s", status);
    c->exit_code = code;
    const char *error = c->error.len ? strbuf_cstr(&c->error) : NULL;
    if (c->locked && !c->opt->dry_run) {
        char *decision = c->decision_idx ? cycle_encode(L, c->decision_idx) : NULL;
        char *orders = !c->orders_idx ? NULL : luaL_len(L, c->orders_idx) == 0 ? strdup("[]")
                                                                                : cycle_encode(L, c->orders_idx);
        char err[512];
        store_rc rc = store_finish_cycle(c->st, c->cycle_id, c->holder, status, decision, orders, error, err, sizeof err);
        if (rc != STORE_OK) {
            console_printf(stderr, "titan-host: could not record the cycle: %s\n", err);
            cycle_log(BLACKBOX_ERROR, "store.finish_failed", "\"error\":%s", cycle_q(err));
            if (code == EXIT_OK) code = c->exit_code = EXIT_FAILED;
        }
        free(decision);
        free(orders);
        c->locked = 0;
    }
    cycle_log(code == EXIT_OK ? BLACKBOX_INFO : BLACKBOX_ERROR, "cycle.end",
              "\"status\":%s,\"exit\":%d,\"accepted\":%d,\"resized\":%d,\"rejected\":%d,\"filled\":%d,\"in_doubt\":%d,"
              "\"error\":%s",
              cycle_q(status), code, c->counts[INTENT_ACCEPTED], c->counts[INTENT_RESIZED],
              c->counts[INTENT_REJECTED], c->filled, c->in_doubt, error ? cycle_q(error) : "null");
    console_printf(stdout, "cycle %s: %s%s — intents: %d accepted, %d resized, %d rejected; orders: %d filled%s%s%s\n",
                   c->cycle_id[0] ? c->cycle_id : "(none)", status, c->opt->dry_run ? " (dry run)" : "",
                   c->counts[INTENT_ACCEPTED], c->counts[INTENT_RESIZED], c->counts[INTENT_REJECTED], c->filled,
                   c->in_doubt ? ", IN DOUBT" : "", error ? " — " : "", error ? error : "");
    return code;
}

/* ---- recovery of orders in doubt (LIVE) ------------------------------------------------ */

/* Looks up every order of an orders JSON document whose state is not final. Rewrites the
 * states in place (pushes the updated list) and returns the number still unknown, or -1 when
 * the document is unreadable. */
static int cycle_reconcile_orders(cycle *c, const char *orders_json, int absent_is_final, int *changed)
{
    lua_State *L = c->L;
    *changed = 0;
    const char *text = orders_json ? orders_json : "[]";
    if (!bindings_json_decode(L, text, strlen(text))) lua_pushnil(L);
    if (!lua_istable(L, -1)) { lua_pop(L, 1); lua_newtable(L); return -1; }
    int list = lua_gettop(L);
    int unknown = 0;
    lua_Integer n = luaL_len(L, list);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, list, i);
        int order = lua_gettop(L);
        lua_getfield(L, order, "state");
        const char *state = lua_tostring(L, -1);
        int open_question = state && (strcmp(state, "in_doubt") == 0 || strcmp(state, "sending") == 0);
        lua_pop(L, 1);
        lua_getfield(L, order, "cl_ord_id");
        const char *cl = lua_tostring(L, -1);
        if (open_question && cl && c->mode[0] == 'L') {
            if (live_lookup(L, cl)) {                           /* [ ..., cl, found ] */
                lua_getfield(L, -1, "state");
                const char *found = lua_tostring(L, -1) ? lua_tostring(L, -1) : "unknown";
                int absent = strcmp(found, "absent") == 0;
                if (absent && !absent_is_final) {
                    /* Right after a takeover the dead runner may still be mid-send: not seeing
                     * the order yet proves nothing. It stays in doubt for the next run. */
                    lua_pop(L, 2);
                    unknown++;
                    lua_settop(L, order - 1);
                    continue;
                }
                /* A later run that still cannot see it: the exchange never took it. */
                cycle_set_str(L, order, "state", absent ? "not_placed" : found);
                lua_pop(L, 1);
                static const char *const copy[] = {"txid", "vol_exec", "avg_price", "cost", "fee"};
                for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++) {
                    lua_getfield(L, -1, copy[k]);
                    lua_setfield(L, order, copy[k]);
                }
                cycle_set_str(L, order, "reconciled", "looked up by cl_ord_id in a later run");
                lua_getfield(L, order, "state");
                cycle_log(BLACKBOX_WARN, "recovery.order", "\"cl_ord_id\":%s,\"state\":%s", cycle_q(cl),
                          cycle_q(lua_tostring(L, -1)));
                lua_pop(L, 1);
                (*changed)++;
                lua_pop(L, 1);
            } else {
                cycle_log(BLACKBOX_ERROR, "recovery.lookup_failed", "\"cl_ord_id\":%s,\"error\":%s", cycle_q(cl),
                          cycle_q(cycle_err_text(L, -1)));
                lua_pop(L, 3);
                unknown++;
            }
        } else if (open_question) {
            unknown++;
        }
        lua_settop(L, order - 1);
    }
    return unknown;
}

/* A cycle taken over from a runner that died after planning orders is finished from those
 * orders: they are looked up, never re-planned, and the strategy does not run again in that
 * slot. Returns 1 when it ended the cycle (c->exit_code set), 0 when there was nothing to finish. */
static int cycle_finish_takeover(cycle *c, const store_cycle *taken_over)
{
    lua_State *L = c->L;
    int changed = 0;
    int unknown = cycle_reconcile_orders(c, taken_over->orders_json, 0, &changed);   /* [ ..., list ] */
    if (unknown < 0) {
        /* Unreadable: keep the document exactly as recorded and fail closed. */
        lua_pop(L, 1);
        c->orders_idx = c->decision_idx = 0;
        c->in_doubt = 1;
        cycle_set_error(c, "taken over from %s, whose recorded orders are unreadable; kept as recorded and in doubt: "
                           "check them on Kraken", taken_over->holder ? taken_over->holder : "?");
        c->exit_code = cycle_end(c, STORE_STATUS_IN_DOUBT, EXIT_IN_DOUBT);
        return 1;
    }
    if (unknown == 0 && luaL_len(L, -1) == 0) {
        lua_pop(L, 1);
        return 0;                                      /* died before planning anything: run normally */
    }
    lua_replace(L, c->orders_idx);
    c->decision_idx = 0;                               /* keep the decision it recorded */
    cycle_log(BLACKBOX_WARN, "recovery.takeover", "\"previous_holder\":%s,\"unknown_orders\":%d,\"resolved\":%d",
              cycle_q(taken_over->holder), unknown, changed);
    if (unknown != 0) {
        c->in_doubt = unknown > 0 ? unknown : 1;
        cycle_set_error(c, "taken over from %s, whose orders could not all be looked up; they stay in doubt and the "
                           "next run reconciles them before trading", taken_over->holder ? taken_over->holder : "?");
        c->exit_code = cycle_end(c, STORE_STATUS_IN_DOUBT, EXIT_IN_DOUBT);
    } else {
        cycle_set_error(c, "taken over from %s after its lease expired; its orders were reconciled and the strategy "
                           "was not run again in this slot", taken_over->holder ? taken_over->holder : "?");
        c->exit_code = cycle_end(c, STORE_STATUS_DONE, EXIT_OK);
    }
    return 1;
}

/* Every earlier cycle of this strategy left in doubt is reconciled before anything trades.
 * Returns the number of cycles still unresolved (>0 blocks trading), -1 when the store failed. */
static int cycle_recover(cycle *c)
{
    lua_State *L = c->L;
    int unresolved = 0;
    char err[512];
    store_cycle *rows = NULL;
    size_t n = 0;
    if (store_list_cycles(c->st, 50, c->strategy, STORE_STATUS_IN_DOUBT, &rows, &n, err, sizeof err) != STORE_OK) {
        cycle_set_error(c, "cannot list cycles in doubt: %s", err);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int changed = 0;
        int unknown = cycle_reconcile_orders(c, rows[i].orders_json, 1, &changed);
        if (unknown == 0) {
            char *orders = cycle_encode(L, -1);
            store_rc rc = store_resolve_in_doubt(c->st, rows[i].cycle_id, STORE_STATUS_DONE, orders,
                                                 "orders reconciled by a later run", err, sizeof err);
            free(orders);
            if (rc != STORE_OK && rc != STORE_CONFLICT) {
                cycle_set_error(c, "cannot resolve %s: %s", rows[i].cycle_id, err);
                unresolved++;
            } else {
                cycle_log(BLACKBOX_WARN, "recovery.resolved", "\"cycle_id\":%s", cycle_q(rows[i].cycle_id));
            }
        } else {
            unresolved++;
        }
        lua_pop(L, 1);
    }
    store_cycles_free(rows, n);
    return unresolved;
}

/* ---- market, portfolio, state ------------------------------------------------------------ */

static int cycle_fetch_market(cycle *c)
{
    lua_State *L = c->L;
    if (!kraken_asset_pair(L, c->pair, CYCLE_TIMEOUT_MS)) {
        cycle_set_error(c, "Kraken unreachable or refused AssetPairs for %s (%s); nothing was traded", c->pair,
                        cycle_err_text(L, -1));
        lua_pop(L, 3);
        return -1;
    }
    lua_pop(L, 1);                                       /* [ pair ] */
    int p = lua_gettop(L);
    c->rules.ordermin = cycle_field_num(L, p, "ordermin");
    c->rules.costmin = cycle_field_num(L, p, "costmin");
    c->rules.lot_decimals = (int)cycle_field_num(L, p, "lot_decimals");
    c->rules.pair_decimals = (int)cycle_field_num(L, p, "pair_decimals");
    c->rules.tick_size = cycle_field_num(L, p, "tick_size");
    lua_getfield(L, p, "pair_key");
    lua_getfield(L, p, "base");
    lua_getfield(L, p, "quote");
    snprintf(c->pair_key, sizeof c->pair_key, "%s", lua_tostring(L, -3) ? lua_tostring(L, -3) : c->pair);
    snprintf(c->base, sizeof c->base, "%s", lua_tostring(L, -2) ? lua_tostring(L, -2) : "BASE");
    snprintf(c->quote, sizeof c->quote, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "QUOTE");
    lua_settop(L, p - 1);
    if (!kraken_ticker(L, c->pair, CYCLE_TIMEOUT_MS)) {
        cycle_set_error(c, "Kraken unreachable or refused Ticker for %s (%s); nothing was traded", c->pair,
                        cycle_err_text(L, -1));
        lua_pop(L, 3);
        return -1;
    }
    lua_pop(L, 1);
    c->bid = cycle_field_num(L, lua_gettop(L), "bid");
    c->ask = cycle_field_num(L, lua_gettop(L), "ask");
    c->last = cycle_field_num(L, lua_gettop(L), "last");
    lua_pop(L, 1);
    if (!(c->last > 0)) {
        cycle_set_error(c, "Kraken's ticker for %s has no last price; nothing was traded", c->pair);
        return -1;
    }
    cycle_log(BLACKBOX_INFO, "market.snapshot",
              "\"pair\":%s,\"pair_key\":%s,\"bid\":%.10g,\"ask\":%.10g,\"last\":%.10g,\"ordermin\":%.10g,"
              "\"costmin\":%.10g,\"lot_decimals\":%d,\"pair_decimals\":%d,\"tick_size\":%.10g",
              cycle_q(c->pair), cycle_q(c->pair_key), c->bid, c->ask, c->last, c->rules.ordermin, c->rules.costmin,
              c->rules.lot_decimals, c->rules.pair_decimals, c->rules.tick_size);
    return 0;
}

/* Reads a number stored as JSON under a state key into *out (0 when unset). -1 when the store
 * failed: the caller fails closed rather than trade on a zero it did not read. */
static int cycle_state_number(cycle *c, const char *key, double *out)
{
    char *json = NULL, err[256];
    *out = 0;
    store_rc rc = store_state_get(c->st, c->strategy, key, &json, err, sizeof err);
    if (rc == STORE_OK && json) *out = strtod(json, NULL);
    free(json);
    if (!isfinite(*out)) *out = 0;
    if (rc == STORE_ERR) {
        cycle_set_error(c, "cannot read %s from the store: %s; nothing was traded", key, err);
        return -1;
    }
    return 0;
}

static const char *cycle_basis_key(const cycle *c)
{
    return c->mode[0] == 'L' ? CYCLE_BASIS_KEY ".LIVE" : CYCLE_BASIS_KEY;
}

static void cycle_state_set_number(cycle *c, const char *key, double v)
{
    char json[64], err[256];
    snprintf(json, sizeof json, "%.17g", isfinite(v) ? v : 0);
    if (store_state_set(c->st, c->strategy, key, json, err, sizeof err) != STORE_OK)
        cycle_log(BLACKBOX_ERROR, "store.state_failed", "\"key\":%s,\"error\":%s", cycle_q(key), cycle_q(err));
}

/* PAPER: the ledger. LIVE: Kraken's balances and open orders. Pushes balances and open orders. */
static int cycle_fetch_portfolio(cycle *c)
{
    lua_State *L = c->L;
    char err[512];
    int64_t day_start = clock_slot_ms(clock_now_ms(), 1440);
    if (cycle_state_number(c, cycle_basis_key(c), &c->basis) != 0) return -1;
    if (c->mode[0] == 'P') {
        store_balance *bal = NULL;
        size_t n = 0;
        /* a dry run reads without seeding, and a ledger not yet seeded counts as its starting cash */
        if (store_paper_balances(c->st, c->strategy, c->opt->dry_run ? NULL : c->quote, c->paper.starting_cash, &bal,
                                 &n, err, sizeof err) != STORE_OK) {
            cycle_set_error(c, "cannot read the paper ledger: %s; nothing was traded", err);
            return -1;
        }
        lua_createtable(L, 0, (int)n);
        for (size_t i = 0; i < n; i++) cycle_set_num(L, lua_gettop(L), bal[i].asset, bal[i].amount);
        c->cash = store_balance_of(bal, n, c->quote);
        c->position = store_balance_of(bal, n, c->base);
        if (n == 0) {
            c->cash = c->paper.starting_cash;
            cycle_set_num(L, lua_gettop(L), c->quote, c->cash);
        }
        free(bal);
        lua_newtable(L);                                 /* paper orders never rest */
        if (store_realized_pnl_since(c->st, c->strategy, day_start, &c->realized_today, err, sizeof err) != STORE_OK) {
            cycle_set_error(c, "cannot read today's realized PnL: %s; nothing was traded", err);
            lua_pop(L, 2);
            return -1;
        }
        return 0;
    }
    if (!kraken_balance(L, CYCLE_TIMEOUT_MS)) {
        cycle_set_error(c, "cannot read Kraken balances (%s); nothing was traded", cycle_err_text(L, -1));
        lua_pop(L, 3);
        return -1;
    }
    lua_pop(L, 1);                                       /* [ balances ] */
    c->cash = cycle_field_num(L, lua_gettop(L), c->quote);
    c->position = cycle_field_num(L, lua_gettop(L), c->base);
    if (!kraken_call(L, "OpenOrders", 0, 1, CYCLE_TIMEOUT_MS)) {
        cycle_set_error(c, "cannot read Kraken open orders (%s); nothing was traded", cycle_err_text(L, -1));
        lua_pop(L, 4);
        return -1;
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "open");
    lua_remove(L, -2);                                   /* [ balances, open ] */
    if (!lua_istable(L, -1)) { lua_pop(L, 1); lua_newtable(L); }
    /* LIVE realized PnL is kept per UTC day in the strategy's state (Kraken has no such figure). */
    char key[64], day[CLOCK_ISO_SIZE];
    clock_iso(day_start, day);
    snprintf(key, sizeof key, "%s.%.10s", CYCLE_REALIZED_KEY, day);
    if (cycle_state_number(c, key, &c->realized_today) != 0) {
        lua_pop(L, 2);
        return -1;
    }
    return 0;
}

/* Pushes ctx.state as decoded from the store (an empty table when unset or unreadable). */
static void cycle_load_state(cycle *c)
{
    lua_State *L = c->L;
    char *json = NULL, err[512];
    store_rc rc = store_state_get(c->st, c->strategy, CYCLE_STATE_KEY, &json, err, sizeof err);
    if (rc == STORE_OK && json) {
        if (!bindings_json_decode(L, json, strlen(json))) lua_pushnil(L);
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            lua_newtable(L);
            cycle_log(BLACKBOX_WARN, "state.unreadable", "\"note\":\"stored ctx.state is not a JSON object; starting empty\"");
        }
    } else {
        if (rc == STORE_ERR) cycle_log(BLACKBOX_WARN, "state.read_failed", "\"error\":%s", cycle_q(err));
        lua_newtable(L);
    }
    free(json);
}

static void cycle_save_state(cycle *c)
{
    char *json = cycle_encode(c->L, c->state_idx);
    char err[512];
    if (strlen(json) > CYCLE_STATE_MAX || strncmp(json, "{\"unencodable\"", 14) == 0) {
        cycle_set_error(c, "ctx.state not saved: %s", strlen(json) > CYCLE_STATE_MAX ? "larger than 256 KiB"
                                                                                       : "not JSON-encodable");
    } else if (store_state_set(c->st, c->strategy, CYCLE_STATE_KEY, json, err, sizeof err) != STORE_OK) {
        cycle_set_error(c, "ctx.state not saved: %s", err);
    }
    free(json);
}

/* ---- decision records ------------------------------------------------------------------ */

static void cycle_record_intent(cycle *c, const intent *it, int list)
{
    lua_State *L = c->L;
    lua_createtable(L, 0, 12);
    int t = lua_gettop(L);
    lua_pushinteger(L, it->index);
    lua_setfield(L, t, "index");
    if (it->status != INTENT_REJECTED || it->final_volume > 0 || it->volume > 0 || it->quote > 0) {
        cycle_set_str(L, t, "side", intent_side_name(it->side));
        cycle_set_str(L, t, "type", intent_type_name(it->type));
    }
    if (it->volume > 0) cycle_set_num(L, t, "volume", it->volume);
    if (it->quote > 0) cycle_set_num(L, t, "quote", it->quote);
    if (it->price > 0) cycle_set_num(L, t, "price", it->price);
    cycle_set_str(L, t, "reason", it->reason);
    cycle_set_str(L, t, "status", intent_status_name(it->status));
    if (it->verdict[0]) cycle_set_str(L, t, "verdict", it->verdict);
    if (it->final_volume > 0) {
        cycle_set_num(L, t, "final_volume", it->final_volume);
        cycle_set_num(L, t, "final_price", it->final_price);
        cycle_set_num(L, t, "est_cost", it->est_cost);
    }
    lua_rawseti(L, list, (lua_Integer)luaL_len(L, list) + 1);
    cycle_log(it->status == INTENT_REJECTED ? BLACKBOX_WARN : BLACKBOX_INFO, "risk.decision",
              "\"index\":%d,\"status\":%s,\"verdict\":%s,\"reason\":%s,\"final_volume\":%.10g,\"final_price\":%.10g",
              it->index, cycle_q(intent_status_name(it->status)), cycle_q(it->verdict), cycle_q(it->reason),
              it->final_volume, it->final_price);
}

static void cycle_record_context(cycle *c)
{
    lua_State *L = c->L;
    int d = c->decision_idx;
    cycle_set_str(L, d, "strategy", c->strategy);
    cycle_set_str(L, d, "file", c->opt->strategy_path);
    cycle_set_str(L, d, "mode", c->mode);
    cycle_set_str(L, d, "pair", c->pair);
    lua_pushboolean(L, c->opt->dry_run);
    lua_setfield(L, d, "dry_run");
    lua_createtable(L, 0, 3);
    cycle_set_num(L, lua_gettop(L), "bid", c->bid);
    cycle_set_num(L, lua_gettop(L), "ask", c->ask);
    cycle_set_num(L, lua_gettop(L), "last", c->last);
    lua_setfield(L, d, "prices");
    lua_createtable(L, 0, 4);
    cycle_set_num(L, lua_gettop(L), "cash", c->cash);
    cycle_set_num(L, lua_gettop(L), "position", c->position);
    cycle_set_num(L, lua_gettop(L), "realized_today", c->realized_today);
    lua_setfield(L, d, "portfolio");
    lua_createtable(L, 0, 4);
    cycle_set_num(L, lua_gettop(L), "max_order_quote", c->caps.max_order_quote);
    cycle_set_num(L, lua_gettop(L), "max_position_quote", c->caps.max_position_quote);
    cycle_set_num(L, lua_gettop(L), "max_orders_per_cycle", c->caps.max_orders_per_cycle);
    cycle_set_num(L, lua_gettop(L), "max_daily_loss_quote", c->caps.max_daily_loss_quote);
    lua_setfield(L, d, "caps");
}

/* ---- execution --------------------------------------------------------------------------- */

/* PAPER: fill against the ticker and apply to the ledger atomically. -1 when the store failed. */
static int cycle_execute_paper(cycle *c, const intent *it, const char *cl_ord_id, int order)
{
    lua_State *L = c->L;
    paper_fill f;
    if (it->type == ORDER_MARKET)
        paper_fill_market(&c->paper, it->side, it->final_volume, c->last, c->position, c->basis, &f);
    else
        paper_fill_limit(&c->paper, it->side, it->final_volume, it->final_price, c->bid, c->ask, c->position,
                         c->basis, &f);
    cycle_set_str(L, order, "note", f.note);
    if (!f.filled) {
        cycle_set_str(L, order, "state", "canceled");
        return 0;
    }
    store_fill fill = {
        .cycle_id = c->cycle_id, .order_ref = cl_ord_id, .ts_ms = clock_now_ms(), .pair = c->pair,
        .side = intent_side_name(it->side), .order_type = intent_type_name(it->type), .volume = f.volume,
        .price = f.price, .cost = f.cost, .fee = f.fee, .base_asset = c->base, .quote_asset = c->quote,
        .realized_pnl = f.realized_pnl, .reason = it->reason,
    };
    char err[512];
    int64_t id = 0;
    store_rc rc = store_paper_apply_fill(c->st, c->strategy, &fill, &id, err, sizeof err);
    if (rc == STORE_CONFLICT) {
        cycle_set_str(L, order, "state", "refused");
        cycle_set_str(L, order, "message", err);
        cycle_log(BLACKBOX_WARN, "order.paper_refused", "\"cl_ord_id\":%s,\"error\":%s", cycle_q(cl_ord_id),
                  cycle_q(err));
        return 0;
    }
    if (rc != STORE_OK) {
        cycle_set_error(c, "paper fill not recorded: %s", err);
        cycle_set_str(L, order, "state", "failed");
        return -1;
    }
    c->filled++;
    c->position += it->side == SIDE_BUY ? f.volume : -f.volume;
    c->cash += it->side == SIDE_BUY ? -(f.cost + f.fee) : f.cost - f.fee;
    c->basis = fmax(0, c->basis + f.basis_delta);
    if (c->position <= 1e-12) c->basis = 0;
    cycle_state_set_number(c, cycle_basis_key(c), c->basis);
    cycle_set_str(L, order, "state", "filled");
    cycle_set_num(L, order, "vol_exec", f.volume);
    cycle_set_num(L, order, "avg_price", f.price);
    cycle_set_num(L, order, "cost", f.cost);
    cycle_set_num(L, order, "fee", f.fee);
    cycle_set_num(L, order, "realized_pnl", f.realized_pnl);
    cycle_set_num(L, order, "fill_id", (double)id);
    cycle_log(BLACKBOX_INFO, "order.paper_fill",
              "\"cl_ord_id\":%s,\"side\":%s,\"volume\":%.10g,\"price\":%.10g,\"cost\":%.10g,\"fee\":%.10g,"
              "\"realized_pnl\":%.10g",
              cycle_q(cl_ord_id), cycle_q(intent_side_name(it->side)), f.volume, f.price, f.cost, f.fee,
              f.realized_pnl);
    return 0;
}

/* LIVE: details of a placed order (status, executed volume, price, fee) from QueryOrders. */
static void cycle_query_placed(cycle *c, int order)
{
    lua_State *L = c->L;
    lua_getfield(L, order, "txid");
    const char *txid = lua_tostring(L, -1);
    if (!txid) { lua_pop(L, 1); return; }
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "txid");
    int params = lua_gettop(L);
    if (kraken_call(L, "QueryOrders", params, 1, CYCLE_TIMEOUT_MS)) {
        lua_pop(L, 1);
        if (lua_getfield(L, -1, txid) == LUA_TTABLE) {
            static const char *const fields[][2] = {
                {"status", "state"}, {"vol", "volume"}, {"vol_exec", "vol_exec"}, {"price", "avg_price"},
                {"cost", "cost"}, {"fee", "fee"}};
            for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
                lua_getfield(L, -1, fields[i][0]);
                if (i > 0 && lua_type(L, -1) == LUA_TSTRING) {
                    lua_Number v = lua_tonumber(L, -1);
                    lua_pop(L, 1);
                    lua_pushnumber(L, v);
                }
                if (!lua_isnil(L, -1)) lua_setfield(L, order, fields[i][1]);
                else lua_pop(L, 1);
            }
        }
    }
    lua_settop(L, order);
}

/* LIVE: what Kraken reports as executed moves the cost basis and today's realized PnL (kept in
 * the strategy's state: Kraken has no such figure), which the daily-loss gate reads next cycle. */
static void cycle_book_live_fill(cycle *c, order_side side, int order)
{
    double vol = cycle_field_num(c->L, order, "vol_exec");
    double cost = cycle_field_num(c->L, order, "cost");
    double fee = cycle_field_num(c->L, order, "fee");
    if (!(vol > 0) || !(cost > 0)) return;              /* not executed yet, or unknown: nothing booked */
    double realized = 0;
    if (side == SIDE_BUY) {
        c->basis += cost + fee;
        c->position += vol;
    } else {
        double released = c->position > 0 ? c->basis * fmin(vol / c->position, 1.0) : 0;
        realized = cost - fee - released;
        c->basis = fmax(0, c->basis - released);
        c->position = fmax(0, c->position - vol);
    }
    cycle_set_num(c->L, order, "realized_pnl", realized);
    cycle_state_set_number(c, cycle_basis_key(c), c->position > 1e-12 ? c->basis : 0);
    if (realized != 0) {
        char key[64], day[CLOCK_ISO_SIZE];
        clock_iso(clock_slot_ms(clock_now_ms(), 1440), day);
        snprintf(key, sizeof key, "%s.%.10s", CYCLE_REALIZED_KEY, day);
        c->realized_today += realized;
        cycle_state_set_number(c, key, c->realized_today);
    }
}

static int cycle_execute(cycle *c, intent *intents, int count)
{
    lua_State *L = c->L;
    char err[512];
    /* LIVE: write the client order ids down before anything is sent, so a runner that takes
     * over after a crash knows what to look for. */
    if (c->mode[0] == 'L' && !c->opt->dry_run) {
        for (int i = 0; i < count; i++) {
            if (intents[i].status != INTENT_ACCEPTED && intents[i].status != INTENT_RESIZED) continue;
            char cl[LIVE_CL_ORD_ID_SIZE];
            live_cl_ord_id(c->cycle_id, intents[i].index, cl);
            lua_createtable(L, 0, 4);
            lua_pushinteger(L, intents[i].index);
            lua_setfield(L, -2, "index");
            cycle_set_str(L, lua_gettop(L), "cl_ord_id", cl);
            cycle_set_str(L, lua_gettop(L), "state", "sending");
            lua_rawseti(L, c->orders_idx, (lua_Integer)luaL_len(L, c->orders_idx) + 1);
        }
        if (luaL_len(L, c->orders_idx) > 0) {
            char *orders = cycle_encode(L, c->orders_idx);
            /* Renewing first proves we still hold the slot (nobody took it over while the strategy
             * ran) and gives the sends a full lease. */
            store_rc rc = store_renew_lease(c->st, c->cycle_id, c->holder, cycle_lease_s(), err, sizeof err);
            if (rc == STORE_OK)
                rc = store_update_cycle_orders(c->st, c->cycle_id, c->holder, orders, err, sizeof err);
            free(orders);
            if (rc != STORE_OK) {
                cycle_set_error(c, "could not record the planned orders, so none was sent: %s", err);
                for (lua_Integer k = luaL_len(L, c->orders_idx); k > 0; k--) {
                    lua_geti(L, c->orders_idx, k);
                    cycle_set_str(L, lua_gettop(L), "state", "not_sent");
                    lua_pop(L, 1);
                }
                return EXIT_FAILED;
            }
        }
    }
    lua_Integer slot = 0;
    int refused = 0;                                    /* LIVE orders Kraken refused outright */
    for (int i = 0; i < count; i++) {
        intent *it = &intents[i];
        if (it->status != INTENT_ACCEPTED && it->status != INTENT_RESIZED) continue;
        char cl[LIVE_CL_ORD_ID_SIZE];
        live_cl_ord_id(c->cycle_id, it->index, cl);
        int order;
        if (c->mode[0] == 'L' && !c->opt->dry_run) {
            lua_geti(L, c->orders_idx, ++slot);
            order = lua_gettop(L);
        } else {
            lua_createtable(L, 0, 12);
            order = lua_gettop(L);
            lua_pushinteger(L, it->index);
            lua_setfield(L, order, "index");
            cycle_set_str(L, order, "cl_ord_id", cl);
            lua_pushvalue(L, order);
            lua_rawseti(L, c->orders_idx, (lua_Integer)luaL_len(L, c->orders_idx) + 1);
        }
        cycle_set_str(L, order, "side", intent_side_name(it->side));
        cycle_set_str(L, order, "type", intent_type_name(it->type));
        cycle_set_num(L, order, "requested_volume", it->final_volume);
        if (it->type == ORDER_LIMIT) cycle_set_num(L, order, "limit_price", it->final_price);
        if (c->opt->dry_run) {
            cycle_set_str(L, order, "state", "simulated");
            lua_settop(L, order - 1);
            continue;
        }
        if (c->mode[0] == 'P') {
            int rc = cycle_execute_paper(c, it, cl, order);
            lua_settop(L, order - 1);
            if (rc < 0) return EXIT_FAILED;
            continue;
        }
        if (store_renew_lease(c->st, c->cycle_id, c->holder, cycle_lease_s(), err, sizeof err) != STORE_OK) {
            for (lua_Integer k = slot; k <= luaL_len(L, c->orders_idx); k++) {
                lua_geti(L, c->orders_idx, k);
                cycle_set_str(L, lua_gettop(L), "state", "not_sent");
                lua_pop(L, 1);
            }
            lua_settop(L, order - 1);
            cycle_set_error(c, "lost the cycle lock before sending (%s); the remaining orders were not sent", err);
            return EXIT_FAILED;
        }
        live_outcome outcome = live_place(L, c->pair_key, it, &c->rules, cl);   /* [ order, result ] */
        lua_pushnil(L);
        while (lua_next(L, -2)) {                         /* copy the result into the record */
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, order);
        }
        lua_pop(L, 1);
        if (outcome == LIVE_PLACED) {
            cycle_query_placed(c, order);
            cycle_book_live_fill(c, it->side, order);
            c->filled++;
        } else if (outcome == LIVE_REJECTED) {
            refused++;
        }
        lua_getfield(L, order, "state");
        lua_getfield(L, order, "error_code");
        cycle_log(outcome == LIVE_PLACED ? BLACKBOX_INFO : BLACKBOX_ERROR, "order.live",
                  "\"cl_ord_id\":%s,\"outcome\":%s,\"state\":%s,\"error_code\":%s", cycle_q(cl),
                  outcome == LIVE_PLACED ? "\"placed\"" : outcome == LIVE_REJECTED ? "\"rejected\"" : "\"in_doubt\"",
                  cycle_q(lua_tostring(L, -2)), lua_tostring(L, -1) ? cycle_q(lua_tostring(L, -1)) : "null");
        lua_settop(L, order - 1);
        if (outcome == LIVE_IN_DOUBT) {
            c->in_doubt++;
            /* Stop here: the remaining orders are not sent while this one is unknown. */
            for (lua_Integer k = slot + 1; k <= luaL_len(L, c->orders_idx); k++) {
                lua_geti(L, c->orders_idx, k);
                cycle_set_str(L, lua_gettop(L), "state", "not_sent");
                lua_pop(L, 1);
            }
            cycle_set_error(c, "an order may have reached Kraken without confirmation (cl_ord_id %s); "
                               "stopped; the next run reconciles it before trading", cl);
            return EXIT_IN_DOUBT;
        }
    }
    if (refused > 0) {
        /* Nothing is in doubt, but the plan did not happen: a failed cycle, so monitoring sees it. */
        cycle_set_error(c, "%d order(s) refused by Kraken (see orders[].error_code)", refused);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* ---- the cycle ----------------------------------------------------------------------------- */

static int cycle_main_protected(lua_State *L)
{
    cycle *c = lua_touserdata(L, 1);
    lua_settop(L, 0);
    char err[1024];
    const cycle_options *opt = c->opt;

    /* 1. the strategy decides the slot (its name and interval) */
    strbuf problems = {0};
    strategy_result sr = strategy_load(c->rt, opt->strategy_path, &problems);
    if (sr != STRATEGY_VALID) {
        console_printf(stderr, "titan-host: %s: %s:\n%s", opt->strategy_path,
                       sr == STRATEGY_INVALID ? "invalid strategy" : "cannot load the strategy", strbuf_cstr(&problems));
        cycle_log(BLACKBOX_ERROR, "cycle.refused", "\"file\":%s,\"problems\":%s", cycle_q(opt->strategy_path),
                  cycle_q(strbuf_cstr(&problems)));
        strbuf_free(&problems);
        c->exit_code = EXIT_USAGE;
        return 0;
    }
    strbuf_free(&problems);
    c->strategy_idx = lua_gettop(L);
    lua_getfield(L, c->strategy_idx, "name");
    lua_getfield(L, c->strategy_idx, "pair");
    lua_getfield(L, c->strategy_idx, "interval");
    snprintf(c->strategy, sizeof c->strategy, "%s", lua_tostring(L, -3));
    snprintf(c->pair, sizeof c->pair, "%s", lua_tostring(L, -2));
    c->interval = (int)lua_tointeger(L, -1);
    lua_pop(L, 3);
    risk_caps_tighten(L, c->strategy_idx, &c->caps);
    lua_newtable(L);
    c->decision_idx = lua_gettop(L);
    lua_newtable(L);
    c->orders_idx = lua_gettop(L);

    int64_t now = clock_now_ms();
    if (opt->cycle_id) {
        snprintf(c->cycle_id, sizeof c->cycle_id, "%s", opt->cycle_id);
    } else {
        char iso[CLOCK_ISO_SIZE];
        clock_iso(clock_slot_ms(now, c->interval), iso);
        snprintf(c->cycle_id, sizeof c->cycle_id, "%s@%.16sZ", c->strategy, iso);
    }
    blackbox_set_cycle(c->cycle_id);
    char hash[65];
    cycle_file_hash(opt->strategy_path, hash);
    const char *run_id = getenv("GITHUB_RUN_ID");

    /* 2-3. the store */
    c->st = store_open_from_env(err, sizeof err);
    console_printf(stdout, "titan-host %s | %s%s | strategy %s (%s) | cycle %s | store %s\n", TITAN_VERSION, c->mode,
                   opt->dry_run ? " DRY RUN (no orders, no store writes)" : "", c->strategy, opt->strategy_path,
                   c->cycle_id, c->st ? store_describe(c->st) : "unavailable");
    cycle_log(BLACKBOX_INFO, "cycle.start",
              "\"version\":%s,\"mode\":%s,\"strategy\":%s,\"file\":%s,\"sha256\":%s,\"ci_run_id\":%s,\"dry_run\":%s,"
              "\"store\":%s",
              cycle_q(TITAN_VERSION), cycle_q(c->mode), cycle_q(c->strategy), cycle_q(opt->strategy_path),
              cycle_q(hash), run_id ? cycle_q(run_id) : "null", opt->dry_run ? "true" : "false",
              c->st ? cycle_q(store_describe(c->st)) : "null");
    if (!c->st) {
        cycle_set_error(c, "store unavailable: %s; nothing was traded", err);
        c->exit_code = cycle_end(c, STORE_STATUS_FAILED, EXIT_FAILED);
        return 0;
    }
    store_set_active(c->st);

    /* 4. the lock: one cycle per slot, ever */
    store_cycle info = {0};
    store_acquire_result acq = STORE_ACQUIRED;
    if (!opt->dry_run) {
        store_default_holder(c->holder, sizeof c->holder);
        acq = store_acquire_cycle(c->st, c->cycle_id, c->strategy, c->mode, c->holder, cycle_lease_s(), &info, err,
                                  sizeof err);
        cycle_log(acq == STORE_ACQUIRE_ERROR ? BLACKBOX_ERROR : BLACKBOX_INFO, "store.lock",
                  "\"result\":%s,\"holder\":%s,\"other\":%s,\"status\":%s", cycle_q(store_acquire_result_name(acq)),
                  cycle_q(c->holder), cycle_q(info.holder), cycle_q(info.status));
        switch (acq) {
        case STORE_ACQUIRE_ERROR:
            cycle_set_error(c, "cycle lock not acquired: %s; nothing was traded", err);
            store_cycle_free(&info);
            c->exit_code = cycle_end(c, STORE_STATUS_FAILED, EXIT_FAILED);
            return 0;
        case STORE_DONE:
            cycle_set_error(c, "slot already executed (recorded status: %s); nothing to do",
                            info.status ? info.status : "?");
            store_cycle_free(&info);
            c->exit_code = cycle_end(c, STORE_STATUS_SKIPPED, EXIT_OK);
            return 0;
        case STORE_HELD: {
            char until[CLOCK_ISO_SIZE];
            clock_iso(info.lease_until_ms, until);
            cycle_set_error(c, "slot held by %s until %s; nothing to do", info.holder ? info.holder : "?", until);
            store_cycle_free(&info);
            c->exit_code = cycle_end(c, STORE_STATUS_SKIPPED, EXIT_OK);
            return 0;
        }
        case STORE_TAKEN_OVER:
        case STORE_ACQUIRED:
            break;
        }
        c->locked = 1;
        /* recovery: nothing trades while an earlier order's fate is unknown */
        if (acq == STORE_TAKEN_OVER && info.orders_json && cycle_finish_takeover(c, &info)) {
            store_cycle_free(&info);
            return 0;
        }
        store_cycle_free(&info);
        int unresolved = cycle_recover(c);
        if (unresolved != 0) {
            if (unresolved > 0) cycle_set_error(c, "%d earlier cycle(s) still have orders in doubt; trading nothing until "
                                                   "they are reconciled", unresolved);
            c->exit_code = cycle_end(c, unresolved > 0 ? STORE_STATUS_SKIPPED : STORE_STATUS_FAILED,
                                     unresolved > 0 ? EXIT_IN_DOUBT : EXIT_FAILED);
            return 0;
        }
    }

    /* 5. halt */
    /* Any value but empty, 0, off, false or no halts: a typo must not trade. */
    const char *halt_env = getenv("TITAN_HALT");
    int env_halt = halt_env && *halt_env && strcmp(halt_env, "0") != 0 && strcasecmp(halt_env, "off") != 0 &&
                   strcasecmp(halt_env, "false") != 0 && strcasecmp(halt_env, "no") != 0;
    int halted = env_halt;
    if (!halted && store_halt_get(c->st, &halted, err, sizeof err) != STORE_OK) {
        cycle_set_error(c, "cannot read the halt flag (%s); failing closed, nothing was traded", err);
        c->exit_code = cycle_end(c, STORE_STATUS_FAILED, EXIT_FAILED);
        return 0;
    }
    if (halted) {
        if (env_halt) cycle_set_error(c, "halted by TITAN_HALT=%.20s; nothing was traded", halt_env);
        else cycle_set_error(c, "halted by the store's halt flag; nothing was traded");
        c->exit_code = cycle_end(c, STORE_STATUS_HALTED, EXIT_OK);
        return 0;
    }

    /* market and portfolio, before the strategy so ctx.portfolio is real */
    if (cycle_fetch_market(c) != 0 || cycle_fetch_portfolio(c) != 0) {
        c->exit_code = cycle_end(c, STORE_STATUS_FAILED, EXIT_FAILED);
        return 0;
    }
    int balances_idx = lua_gettop(L) - 1, open_idx = lua_gettop(L);
    cycle_load_state(c);
    c->state_idx = lua_gettop(L);
    cycle_record_context(c);

    /* 6. the strategy, under budgets; it may read but not trade on its own */
    ctx_push_live_market(L);
    int market_idx = lua_gettop(L);
    ctx_info ci = {
        .mode = c->mode, .cycle_id = c->cycle_id, .pair = c->pair, .interval = c->interval, .now_ms = now,
        .cash = c->cash, .position = c->position, .price = c->last, .base_asset = c->base, .quote_asset = c->quote,
        .balances_idx = balances_idx, .open_orders_idx = open_idx, .state_idx = c->state_idx,
        .market_idx = market_idx, .ai_enabled = 1,
    };
    lua_getfield(L, c->strategy_idx, "on_cycle");
    ctx_push(L, &ci);
    int ctx_idx = lua_gettop(L);
    lua_pushvalue(L, ctx_idx);
    lua_insert(L, ctx_idx - 1);                          /* [ ..., ctx, on_cycle, ctx ] */
    ctx_idx--;
    int64_t t0 = clock_monotonic_ms();
    runtime_status rs = runtime_call(c->rt, 1, 1);
    lua_pushliteral(L, "decision");                      /* raw: the strategy may have given ctx a metatable */
    lua_rawget(L, ctx_idx);
    if (!lua_istable(L, -1) || lua_getmetatable(L, -1)) {
        if (lua_istable(L, -1)) lua_pop(L, 1);           /* its metatable */
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    lua_setfield(L, c->decision_idx, "strategy");
    lua_pushinteger(L, clock_monotonic_ms() - t0);
    lua_setfield(L, c->decision_idx, "strategy_ms");
    if (rs != RUNTIME_OK) {
        const char *msg = lua_tostring(L, -1);
        cycle_set_error(c, "strategy failed: %.*s; nothing was traded", (int)strcspn(msg ? msg : "?", "\n"),
                        msg ? msg : "?");
        cycle_log(BLACKBOX_ERROR, "strategy.error", "\"kind\":%s,\"message\":%s",
                  rs == RUNTIME_ERR_CPU      ? "\"cpu_budget\""
                  : rs == RUNTIME_ERR_TIME   ? "\"time_budget\""
                  : rs == RUNTIME_ERR_MEMORY ? "\"memory_budget\""
                                             : "\"error\"",
                  cycle_q(msg));
        c->exit_code = cycle_end(c, STORE_STATUS_FAILED, EXIT_FAILED);
        return 0;
    }

    /* 7. validation and risk gates */
    intent intents[INTENT_MAX];
    int count = 0;
    char why[256];
    if (intent_read_list(L, -1, intents, &count, why, sizeof why) != 0) {
        cycle_set_error(c, "%s; nothing was traded", why);
        cycle_log(BLACKBOX_ERROR, "strategy.garbage", "\"why\":%s", cycle_q(why));
        c->exit_code = cycle_end(c, STORE_STATUS_FAILED, EXIT_FAILED);
        return 0;
    }
    lua_pop(L, 1);
    risk_book book = {.cash = c->cash, .position = c->position, .realized_today = c->realized_today,
                      .fee_rate = c->paper.fee_rate};
    risk_apply(intents, count, &c->caps, &c->rules, c->bid, c->ask, c->last, book);
    lua_createtable(L, count, 0);
    int list = lua_gettop(L);
    for (int i = 0; i < count; i++) {
        c->counts[intents[i].status]++;
        cycle_record_intent(c, &intents[i], list);
    }
    lua_setfield(L, c->decision_idx, "intents");

    /* 8. execution */
    int code = cycle_execute(c, intents, count);

    /* LIVE realized PnL is not known from AddOrder; PAPER keeps it in the fills. */
    if (!opt->dry_run) cycle_save_state(c);

    /* 9-10. record and exit */
    c->exit_code = cycle_end(c, cycle_status_for_exit(code), code);
    return 0;
}

int cycle_run(const cycle_options *opt)
{
    cycle c = {.opt = opt, .exit_code = EXIT_FAILED};
    char err[512];
    if (cycle_read_mode(c.mode) != 0) {
        return commands_usage_error("SYSTEM_MODE=%s is not PAPER or LIVE; nothing was done", getenv("SYSTEM_MODE"));
    }
    if (risk_caps_from_env(&c.caps, err, sizeof err) || paper_config_from_env(&c.paper, err, sizeof err))
        return commands_usage_error("%s; nothing was done", err);
    if (strcmp(c.mode, "LIVE") == 0) {
        if (!secrets_value("KRAKEN_API_KEY") || !secrets_value("KRAKEN_SECRET"))
            return commands_usage_error("LIVE needs KRAKEN_API_KEY and KRAKEN_SECRET; nothing was done");
        const char *secret = secrets_value("KRAKEN_SECRET");
        size_t len = strlen(secret);
        unsigned char *decoded = malloc(len / 4 * 3 + 3);
        long n = decoded ? codec_base64_decode(secret, len, decoded) : -1;
        if (decoded) OPENSSL_cleanse(decoded, len / 4 * 3 + 3);
        free(decoded);
        if (n <= 0)
            return commands_usage_error("KRAKEN_SECRET is not valid base64 (copy the private key exactly as Kraken "
                                        "shows it); nothing was done");
        const char *gha = getenv("GITHUB_ACTIONS");
        if (gha && strcmp(gha, "true") == 0 && (!getenv("SUPABASE_URL") || !secrets_value("SUPABASE_KEY")))
            return commands_usage_error("LIVE inside GitHub Actions needs SUPABASE_URL and SUPABASE_KEY: the SQLite "
                                        "store would vanish with the runner; nothing was done");
    }
    /* Orders go through the risk gates only: Lua may not place one itself, not even from the
     * strategy file's top level, whatever TITAN_KRAKEN_LUA_WRITES says. Never re-enabled here. */
    kraken_set_lua_writes_allowed(0);
    c.rt = commands_open_runtime(opt->strategy_path);
    if (!c.rt) return EXIT_USAGE;
    c.L = runtime_lua(c.rt);
    lua_pushcfunction(c.L, cycle_main_protected);
    lua_pushlightuserdata(c.L, &c);
    if (lua_pcall(c.L, 1, 0, 0) != LUA_OK) {
        /* Only out-of-memory or a host bug gets here: record what we can. */
        const char *msg = lua_tostring(c.L, -1);
        cycle_set_error(&c, "internal error: %s", msg ? msg : "?");
        lua_settop(c.L, 0);
        c.decision_idx = c.orders_idx = 0;
        c.exit_code = cycle_end(&c, c.in_doubt ? STORE_STATUS_IN_DOUBT : STORE_STATUS_FAILED,
                                c.in_doubt ? EXIT_IN_DOUBT : EXIT_FAILED);
    }
    int code = c.exit_code;
    store_set_active(NULL);
    if (c.st) store_close(c.st);
    strbuf_free(&c.error);
    cycle_free_quotes();
    runtime_close(c.rt);
    return code;
}
