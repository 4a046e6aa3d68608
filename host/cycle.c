/* The cycle engine: README "What one cycle does", one function per step. It runs inside one
 * protected call so that even an out-of-memory error unwinds to a place that records the cycle.
 * After the strategy returns, nothing touches Lua: orders are C records and every way out,
 * the internal-error one included, goes through cycle_record, which records an order whose
 * fate is unknown as in_doubt (exit 3). */
#include "cycle.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "blackbox.h"
#include "capsule.h"
#include "clock.h"
#include "codec.h"
#include "console.h"
#include "decide.h"
#include "exit_codes.h"
#include "intent.h"
#include "kraken.h"
#include "kraken_lua.h"
#include "live.h"
#include "notify.h"
#include "orders.h"
#include "paper.h"
#include "recovery.h"
#include "risk.h"
#include "runtime.h"
#include "secrets.h"
#include "settings.h"
#include "signals.h"
#include "store.h"
#include "strategy.h"
#include "strbuf.h"
#include "tape.h"
#include "test_pause.h"
#include "version.h"

#define CYCLE_LEASE_S_DEFAULT 600      /* shorter than a 15-minute slot, longer than any cycle */
#define CYCLE_STATE_KEY "ctx_state"    /* ctx.state, as one JSON document per strategy */
#define CYCLE_BASIS_KEY "titan.cost_basis"   /* + ".LIVE" in LIVE: paper and live books never mix */
#define CYCLE_REALIZED_KEY "titan.live_realized"
#define CYCLE_STATE_MAX (256 * 1024)

typedef enum { CYCLE_PAPER, CYCLE_LIVE } cycle_mode;
typedef enum { CYCLE_GO, CYCLE_END } cycle_step;

typedef struct cycle {
    const cycle_options *opt;
    runtime *rt;
    lua_State *L;
    store *st;
    cycle_mode mode;
    int lease_s;
    char holder[160], cycle_id[200], strategy[80], pair[40];
    int interval;
    int64_t now;
    int strategy_idx;               /* Lua stack: the strategy table */
    int64_t seed;                   /* math.randomseed of this cycle (in its capsule) */
    char *source;                   /* the strategy file's text as it ran (NULL: unreadable) */
    char sha256[65];
    paper_config paper;
    decide_inputs in;               /* what the strategy decides on: market, book, state, caps */
    decide_result decided;          /* what it decided */
    double cash, position, basis, realized_today;   /* the book as execution moves it */
    kraken_balances balances;       /* LIVE */
    kraken_orders open_orders;      /* LIVE */
    store_balance *ledger;          /* PAPER */
    size_t ledger_n;
    char *state_before;             /* ctx.state as read from the store (NULL = none) */
    int have_market;                /* prices and portfolio read: the decision record has them */
    order_list orders;              /* this cycle's orders, or those of the runner it took over */
    int orders_unreadable;          /* a taken-over record we could not read: left as recorded */
    int decision_recorded;          /* finishing a takeover: the decision stays as recorded */
    store_cycle taken_over;         /* the row as it was when this run took it over */
    int locked;                     /* we hold the row: the record must be finished */
    /* the outcome */
    const char *status;             /* NULL: a usage error, nothing to record */
    int exit_code, recorded;
    strbuf error;
    int filled, in_doubt;
} cycle;

/* ---- small helpers ---------------------------------------------------------------- */

static void cycle_vset_error(cycle *c, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void cycle_vset_error(cycle *c, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (c->error.len) strbuf_puts(&c->error, "; ");
    strbuf_puts(&c->error, msg);
}

static void cycle_set_error(cycle *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cycle_set_error(cycle *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cycle_vset_error(c, fmt, ap);
    va_end(ap);
}

/* Sets how the cycle ends; returns CYCLE_END for the step to return. */
static cycle_step cycle_finish(cycle *c, const char *status, int exit_code)
{
    c->status = status;
    c->exit_code = exit_code;
    return CYCLE_END;
}

static cycle_step cycle_fail(cycle *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cycle_step cycle_fail(cycle *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cycle_vset_error(c, fmt, ap);
    va_end(ap);
    return cycle_finish(c, STORE_STATUS_FAILED, EXIT_FAILED);
}

static const char *cycle_mode_name(cycle_mode m) { return m == CYCLE_LIVE ? "LIVE" : "PAPER"; }

/* ---- configuration ------------------------------------------------------------------ */

static int cycle_read_mode(cycle_mode *out, char *err, size_t errlen)
{
    int live = 0;
    if (settings_choice("SYSTEM_MODE", &live, err, errlen) != 0) return -1;
    *out = live ? CYCLE_LIVE : CYCLE_PAPER;
    return 0;
}

/* TITAN_LEASE_S, checked before the cycle starts (settings.c). */
static int cycle_lease_s(void)
{
    long long lease = 0;
    char ignored[256];
    return settings_integer("TITAN_LEASE_S", &lease, ignored, sizeof ignored) == 0 ? (int)lease : CYCLE_LEASE_S_DEFAULT;
}

/* TITAN_HALT: any value but empty, 0, off, false or no halts: a typo must not trade (settings.c). */
static int cycle_env_halt(void)
{
    const char *value = NULL;
    return settings_halted(&value);
}

/* A seed for math.random below 2^53, so the capsule's JSON holds it exactly. */
static int64_t cycle_new_seed(void)
{
    uint64_t v = 0;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1) v = (uint64_t)clock_now_ms() ^ (uint64_t)clock_monotonic_ms() << 20;
    return (int64_t)(v & ((UINT64_C(1) << 53) - 1));
}

/* 1-3. the strategy decides the slot; the banner; the store. */
static cycle_step cycle_configure(cycle *c)
{
    const cycle_options *opt = c->opt;
    strbuf problems = {0};
    c->seed = cycle_new_seed();
    capsule_read_source(opt->strategy_path, &c->source, c->sha256);
    tape_record_begin();                               /* what the decision reads, loading included */
    if (runtime_seed_random(c->rt, c->seed) != 0) return cycle_fail(c, "out of memory seeding math.random");
    strategy_result sr = strategy_load(c->rt, opt->strategy_path, &problems);
    if (sr != STRATEGY_VALID) {
        console_printf(stderr, "titan-host: %s: %s:\n%s", opt->strategy_path,
                       sr == STRATEGY_INVALID ? "invalid strategy" : "cannot load the strategy", strbuf_cstr(&problems));
        strbuf f = {0};
        strbuf_puts(&f, "{");
        strbuf_json_str(&f, "file", opt->strategy_path);
        strbuf_json_str(&f, "problems", strbuf_cstr(&problems));
        blackbox_emit(BLACKBOX_ERROR, "cycle.refused", &f);
        strbuf_free(&problems);
        return cycle_finish(c, NULL, EXIT_USAGE);
    }
    strbuf_free(&problems);
    c->strategy_idx = lua_gettop(c->L);
    strategy_identity(c->L, c->strategy_idx, c->strategy, sizeof c->strategy, c->pair, sizeof c->pair, &c->interval);
    risk_caps_tighten(c->L, c->strategy_idx, &c->in.caps);
    c->now = clock_now_ms();
    if (opt->cycle_id) {
        snprintf(c->cycle_id, sizeof c->cycle_id, "%s", opt->cycle_id);
    } else {
        char iso[CLOCK_ISO_SIZE];
        clock_iso(clock_slot_ms(c->now, c->interval), iso);
        snprintf(c->cycle_id, sizeof c->cycle_id, "%s@%.16sZ", c->strategy, iso);
    }
    blackbox_set_cycle(c->cycle_id);
    c->in = (decide_inputs){.mode = cycle_mode_name(c->mode), .cycle_id = c->cycle_id, .pair = c->pair,
                            .file = opt->strategy_path, .interval = c->interval, .now_ms = c->now,
                            .dry_run = opt->dry_run, .caps = c->in.caps, .paper = c->paper};
    char err[1024];
    c->st = store_open_from_env(err, sizeof err);
    console_printf(stdout, "titan-host %s | %s%s | strategy %s (%s) | cycle %s | store %s\n", TITAN_VERSION,
                   cycle_mode_name(c->mode), opt->dry_run ? " DRY RUN (no orders, no store writes)" : "", c->strategy,
                   opt->strategy_path, c->cycle_id, c->st ? store_describe(c->st) : "unavailable");
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "version", TITAN_VERSION);
    strbuf_json_str(&f, "mode", cycle_mode_name(c->mode));
    strbuf_json_str(&f, "strategy", c->strategy);
    strbuf_json_str(&f, "file", opt->strategy_path);
    strbuf_json_str(&f, "sha256", c->sha256);
    strbuf_json_str(&f, "ci_run_id", getenv("GITHUB_RUN_ID"));
    strbuf_json_bool(&f, "dry_run", opt->dry_run);
    strbuf_json_str(&f, "store", c->st ? store_describe(c->st) : NULL);
    blackbox_emit(BLACKBOX_INFO, "cycle.start", &f);
    if (!c->st) return cycle_fail(c, "store unavailable: %s; nothing was traded", err);
    store_set_active(c->st);
    return CYCLE_GO;
}

/* ---- 4. the lock: one cycle per slot, ever -------------------------------------------- */

/* --retry of a slot recorded failed: only when its record proves no order was sent. */
static cycle_step cycle_retry_failed(cycle *c, const store_cycle *row)
{
    order_list orders;
    char why[600] = "", err[512];
    if (order_list_parse(row->orders_json, &orders) != 0)
        snprintf(why, sizeof why, "its recorded orders are unreadable, so nothing proves no order was sent");
    for (size_t i = 0; !why[0] && i < orders.n; i++)
        if (order_may_have_executed(&orders.items[i]))
            snprintf(why, sizeof why, "order %d (cl_ord_id %s, state %s) may have reached Kraken or the paper ledger",
                     orders.items[i].index, orders.items[i].cl_ord_id, orders.items[i].state);
    order_list_free(&orders);
    if (!why[0]) {
        store_rc rc = store_retry_cycle(c->st, c->cycle_id, c->holder, c->lease_s, err, sizeof err);
        if (rc == STORE_OK) {
            strbuf f = {0};
            strbuf_puts(&f, "{");
            strbuf_json_str(&f, "previous_error", row->error);
            blackbox_emit(BLACKBOX_WARN, "cycle.retry", &f);
            c->locked = 1;
            return CYCLE_GO;
        }
        if (rc != STORE_CONFLICT) return cycle_fail(c, "cannot re-open the failed slot: %s; nothing was traded", err);
        snprintf(why, sizeof why, "%s", err);
    }
    console_printf(stderr, "titan-host: run --retry: %s was not re-run: %s; see 'titan-host locks list'\n", c->cycle_id,
                   why);
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "why", why);
    blackbox_emit(BLACKBOX_ERROR, "cycle.retry_refused", &f);
    return cycle_finish(c, NULL, EXIT_USAGE);
}

static cycle_step cycle_lock(cycle *c)
{
    if (c->opt->dry_run) return CYCLE_GO;
    char err[1024];
    store_cycle info = {0};
    store_default_holder(c->holder, sizeof c->holder);
    store_acquire_result acq = store_acquire_cycle(c->st, c->cycle_id, c->strategy, cycle_mode_name(c->mode),
                                                   c->holder, c->lease_s, &info, err, sizeof err);
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "result", store_acquire_result_name(acq));
    strbuf_json_str(&f, "holder", c->holder);
    strbuf_json_str(&f, "other", info.holder ? info.holder : "");
    strbuf_json_str(&f, "status", info.status ? info.status : "");
    blackbox_emit(acq == STORE_ACQUIRE_ERROR ? BLACKBOX_ERROR : BLACKBOX_INFO, "store.lock", &f);
    cycle_step step = CYCLE_GO;
    char until[CLOCK_ISO_SIZE];
    switch (acq) {
    case STORE_ACQUIRE_ERROR:
        step = cycle_fail(c, "cycle lock not acquired: %s; nothing was traded", err);
        break;
    case STORE_DONE:
        if (c->opt->retry && strcmp(info.status, STORE_STATUS_FAILED) == 0) {
            step = cycle_retry_failed(c, &info);
        } else if (c->opt->retry) {
            console_printf(stderr, "titan-host: run --retry: %s is recorded %s, not failed: nothing to retry\n",
                           c->cycle_id, info.status);
            step = cycle_finish(c, NULL, EXIT_USAGE);
        } else {
            cycle_set_error(c, "slot already executed (recorded status: %s); nothing to do — see 'titan-host locks "
                               "list'; a failed slot whose record shows no order was sent can run again with "
                               "'titan-host run %s --retry'", info.status, c->opt->strategy_path);
            step = cycle_finish(c, STORE_STATUS_SKIPPED, EXIT_OK);
        }
        break;
    case STORE_HELD:
        cycle_set_error(c, "slot held by %s until %s; nothing to do", info.holder ? info.holder : "?",
                        clock_iso(info.lease_until_ms, until));
        step = cycle_finish(c, STORE_STATUS_SKIPPED, EXIT_OK);
        break;
    case STORE_TAKEN_OVER:
        c->taken_over = info;                          /* the recover step finishes its orders */
        memset(&info, 0, sizeof info);
        c->locked = 1;
        break;
    case STORE_ACQUIRED:
        c->locked = 1;
        break;
    }
    store_cycle_free(&info);
    return step;
}

/* ---- 4. recovery: nothing trades while an earlier order's fate is unknown ---------------- */

static recovery cycle_recovery(cycle *c)
{
    return (recovery){
        .st = c->st, .strategy = c->strategy, .holder = c->holder, .current_cycle_id = c->cycle_id,
        .mode = cycle_mode_name(c->mode), .lease_s = c->lease_s, .can_look_up = c->mode == CYCLE_LIVE,
        .error = &c->error,
    };
}

/* The slot taken over from a runner that died after planning orders is finished from those
 * orders: they are looked up, never re-planned, and the strategy does not run again in it. */
static cycle_step cycle_finish_takeover(cycle *c)
{
    const store_cycle *was = &c->taken_over;
    const char *holder = was->holder ? was->holder : "?";
    if (order_list_parse(was->orders_json, &c->orders) != 0) {
        c->orders_unreadable = c->decision_recorded = 1;
        c->in_doubt = 1;
        cycle_set_error(c, "taken over from %s, whose recorded orders are unreadable; kept as recorded and in doubt: "
                           "check them on Kraken", holder);
        return cycle_finish(c, STORE_STATUS_IN_DOUBT, EXIT_IN_DOUBT);
    }
    if (c->orders.n == 0) return CYCLE_GO;             /* died before planning anything: run normally */
    c->decision_recorded = 1;
    int changed = 0;
    recovery r = cycle_recovery(c);
    int unknown = recovery_reconcile(&r, was, &c->orders, recovery_absent_is_final(was->lease_until_ms), &changed);
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "previous_holder", holder);
    strbuf_json_int(&f, "unknown_orders", unknown);
    strbuf_json_int(&f, "resolved", changed);
    blackbox_emit(BLACKBOX_WARN, "recovery.takeover", &f);
    if (unknown) {
        cycle_set_error(c, "taken over from %s, whose orders could not all be looked up; they stay in doubt and the "
                           "next run reconciles them before trading", holder);
        return cycle_finish(c, STORE_STATUS_IN_DOUBT, EXIT_IN_DOUBT);
    }
    cycle_set_error(c, "taken over from %s after its lease expired; its orders were reconciled and the strategy was "
                       "not run again in this slot", holder);
    return cycle_finish(c, STORE_STATUS_DONE, EXIT_OK);
}

static cycle_step cycle_recover(cycle *c)
{
    if (c->opt->dry_run) return CYCLE_GO;
    if (c->taken_over.cycle_id && cycle_finish_takeover(c) == CYCLE_END) return CYCLE_END;
    recovery r = cycle_recovery(c);
    int unresolved = recovery_earlier_cycles(&r);
    if (unresolved < 0) return cycle_finish(c, STORE_STATUS_FAILED, EXIT_FAILED);
    if (unresolved > 0) {
        cycle_set_error(c, "%d earlier cycle(s) still have orders in doubt; trading nothing until they are reconciled",
                        unresolved);
        return cycle_finish(c, STORE_STATUS_SKIPPED, EXIT_IN_DOUBT);
    }
    return CYCLE_GO;
}

/* ---- 5. halt ------------------------------------------------------------------------------ */

static cycle_step cycle_check_halt(cycle *c)
{
    char err[512];
    int halted = 0;
    if (cycle_env_halt()) {
        cycle_set_error(c, "halted by TITAN_HALT=%.20s; nothing was traded", getenv("TITAN_HALT"));
        return cycle_finish(c, STORE_STATUS_HALTED, EXIT_OK);
    }
    if (store_halt_get(c->st, &halted, err, sizeof err) != STORE_OK)
        return cycle_fail(c, "cannot read the halt flag (%s); failing closed, nothing was traded", err);
    if (!halted) return CYCLE_GO;
    cycle_set_error(c, "halted by the store's halt flag; nothing was traded");
    return cycle_finish(c, STORE_STATUS_HALTED, EXIT_OK);
}

/* ---- 6. market, portfolio, state ----------------------------------------------------------- */

static cycle_step cycle_read_prices(cycle *c)
{
    char why[1024];
    if (decide_read_market(&c->in, why, sizeof why) != 0) return cycle_fail(c, "%s; nothing was traded", why);
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "pair", c->pair);
    strbuf_json_str(&f, "pair_key", c->in.pair_key);
    strbuf_json_num(&f, "bid", c->in.bid);
    strbuf_json_num(&f, "ask", c->in.ask);
    strbuf_json_num(&f, "last", c->in.last);
    strbuf_json_num(&f, "ordermin", c->in.rules.ordermin);
    strbuf_json_num(&f, "costmin", c->in.rules.costmin);
    strbuf_json_int(&f, "lot_decimals", c->in.rules.lot_decimals);
    strbuf_json_int(&f, "pair_decimals", c->in.rules.pair_decimals);
    strbuf_json_num(&f, "tick_size", c->in.rules.tick_size);
    blackbox_emit(BLACKBOX_INFO, "market.snapshot", &f);
    return CYCLE_GO;
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
    return c->mode == CYCLE_LIVE ? CYCLE_BASIS_KEY ".LIVE" : CYCLE_BASIS_KEY;
}

/* "titan.live_realized.2026-11-27": LIVE realized PnL of one UTC day (Kraken has no such figure). */
static void cycle_realized_key(char key[64])
{
    char day[CLOCK_ISO_SIZE];
    clock_iso(clock_slot_ms(clock_now_ms(), 1440), day);
    snprintf(key, 64, "%s.%.10s", CYCLE_REALIZED_KEY, day);
}

static void cycle_state_set_number(cycle *c, const char *key, double v)
{
    char json[64], err[256];
    snprintf(json, sizeof json, "%.17g", isfinite(v) ? v : 0);
    if (store_state_set(c->st, c->strategy, key, json, err, sizeof err) != STORE_OK) {
        strbuf f = {0};
        strbuf_puts(&f, "{");
        strbuf_json_str(&f, "key", key);
        strbuf_json_str(&f, "error", err);
        blackbox_emit(BLACKBOX_ERROR, "store.state_failed", &f);
    }
}

static cycle_step cycle_read_paper_book(cycle *c)
{
    char err[512];
    decide_inputs *in = &c->in;
    /* a dry run reads without seeding, and a ledger not yet seeded counts as its starting cash */
    if (store_paper_balances(c->st, c->strategy, c->opt->dry_run ? NULL : in->quote, c->paper.starting_cash, &c->ledger,
                             &c->ledger_n, err, sizeof err) != STORE_OK)
        return cycle_fail(c, "cannot read the paper ledger: %s; nothing was traded", err);
    in->ledger = c->ledger;
    in->ledger_n = c->ledger_n;
    in->cash = c->ledger_n ? store_balance_of(c->ledger, c->ledger_n, in->quote) : c->paper.starting_cash;
    in->position = store_balance_of(c->ledger, c->ledger_n, in->base);
    if (store_realized_pnl_since(c->st, c->strategy, clock_slot_ms(clock_now_ms(), 1440), &in->realized_today, err,
                                 sizeof err) != STORE_OK)
        return cycle_fail(c, "cannot read today's realized PnL: %s; nothing was traded", err);
    return CYCLE_GO;
}

static cycle_step cycle_read_live_book(cycle *c)
{
    char why[1024], key[64];
    if (decide_read_live_book(&c->in, &c->balances, &c->open_orders, why, sizeof why) != 0)
        return cycle_fail(c, "%s; nothing was traded", why);
    cycle_realized_key(key);
    return cycle_state_number(c, key, &c->in.realized_today) == 0 ? CYCLE_GO
                                                                   : cycle_finish(c, STORE_STATUS_FAILED, EXIT_FAILED);
}

/* ctx.state as stored (NULL when unset or unreadable: the strategy starts with an empty table). */
static void cycle_read_state(cycle *c)
{
    char err[512];
    store_rc rc = store_state_get(c->st, c->strategy, CYCLE_STATE_KEY, &c->state_before, err, sizeof err);
    if (rc == STORE_ERR) {
        strbuf f = {0};
        strbuf_puts(&f, "{");
        strbuf_json_str(&f, "error", err);
        blackbox_emit(BLACKBOX_WARN, "state.read_failed", &f);
    }
    if (rc != STORE_OK) {
        free(c->state_before);
        c->state_before = NULL;
    }
    c->in.state_json = c->state_before;
}

/* Market and portfolio (PAPER: the ledger; LIVE: Kraken's balances and open orders), before the
 * strategy so ctx.portfolio is real. */
static cycle_step cycle_read_market(cycle *c)
{
    if (cycle_read_prices(c) == CYCLE_END) return CYCLE_END;
    if (cycle_state_number(c, cycle_basis_key(c), &c->basis) != 0) return cycle_finish(c, STORE_STATUS_FAILED, EXIT_FAILED);
    cycle_step step = c->mode == CYCLE_LIVE ? cycle_read_live_book(c) : cycle_read_paper_book(c);
    if (step != CYCLE_GO) return step;
    c->have_market = 1;
    c->cash = c->in.cash;
    c->position = c->in.position;
    c->realized_today = c->in.realized_today;
    cycle_read_state(c);
    return CYCLE_GO;
}

/* ---- 6-7. the strategy decides; validation and risk gates ------------------------------------- */

static cycle_step cycle_decide(cycle *c)
{
    decide_result *r = &c->decided;
    int rc = decide_run(c->rt, c->strategy_idx, &c->in, !c->opt->dry_run, r);
    tape_record_end();                                 /* orders are not inputs */
    if (rc == 0) return CYCLE_GO;
    if (strcmp(r->failure, "stopped") == 0)
        return cycle_fail(c, "stopped by %s while the strategy ran; nothing was traded",
                          signals_name(signals_stop_requested()));
    if (strcmp(r->failure, "garbage") == 0) return cycle_fail(c, "%s; nothing was traded", r->error);
    return cycle_fail(c, "strategy failed: %s; nothing was traded", r->error);
}

/* ---- 8. execution ----------------------------------------------------------------------------- */

/* Orders from `from` on were never sent: the one place that says so. */
static void cycle_mark_unsent(cycle *c, size_t from)
{
    for (size_t k = from; k < c->orders.n; k++) ORDER_SET(&c->orders.items[k], state, ORDER_NOT_SENT);
}

static int cycle_executes(const intent *it) { return it->status == INTENT_ACCEPTED || it->status == INTENT_RESIZED; }

/* The paper broker's fill of an intent against the ticker the strategy saw, and the book now. */
static void cycle_paper_fill(const cycle *c, const intent *it, paper_fill *f)
{
    const paper_limits limits = {&c->in.caps, &c->in.rules};
    if (it->type == ORDER_MARKET)
        paper_fill_market(&c->paper, &limits, it->side, it->final_volume, c->in.last, c->position, c->basis, f);
    else
        paper_fill_limit(&c->paper, &limits, it->side, it->final_volume, it->final_price, c->in.bid, c->in.ask,
                         c->position, c->basis, f);
}

/* LIVE: beside the order, what the paper broker would have filled at decision time, so `divergence`
 * can set Kraken's fill against the model (and say what slippage a backtest should assume). */
static void cycle_model_fill(const cycle *c, const intent *it, order_record *o)
{
    paper_fill f;
    cycle_paper_fill(c, it, &f);
    o->ref_price = it->type == ORDER_MARKET ? c->in.last : it->side == SIDE_BUY ? c->in.ask : c->in.bid;
    o->model_volume = f.filled ? f.volume : 0;
    if (!f.filled) return;
    o->model_price = f.price;
    o->model_cost = f.cost;
    o->model_fee = f.fee;
}

/* One record per accepted intent, before anything is sent. Records start "sending" (PAPER too:
 * the paper fill is its send, and a run that dies mid-way leaves the ledger to look in). */
static int cycle_plan_orders(cycle *c)
{
    const char *state = c->opt->dry_run ? ORDER_SIMULATED : ORDER_SENDING;
    for (int i = 0; i < c->decided.n_intents; i++) {
        const intent *it = &c->decided.intents[i];
        if (!cycle_executes(it)) continue;
        char cl[LIVE_CL_ORD_ID_SIZE];
        live_cl_ord_id(c->cycle_id, it->index, cl);
        order_record *o = order_list_add(&c->orders, it->index, cl, state);
        if (!o) return -1;
        ORDER_SET(o, side, intent_side_name(it->side));
        ORDER_SET(o, type, intent_type_name(it->type));
        o->requested_volume = it->final_volume;
        if (it->type == ORDER_LIMIT) o->limit_price = it->final_price;
        if (c->mode == CYCLE_LIVE) cycle_model_fill(c, it, o);
    }
    return 0;
}

static const intent *cycle_intent_of(const cycle *c, const order_record *o)
{
    for (int i = 0; i < c->decided.n_intents; i++)
        if (c->decided.intents[i].index == o->index) return &c->decided.intents[i];
    return NULL;
}

/* PAPER: fill against the ticker and apply to the ledger atomically. -1 when the store failed. */
static int cycle_execute_paper(cycle *c, const intent *it, order_record *o)
{
    paper_fill f;
    cycle_paper_fill(c, it, &f);
    ORDER_SET(o, note, f.note);
    if (!f.filled) {
        ORDER_SET(o, state, ORDER_CANCELED);
        return 0;
    }
    store_fill fill = {
        .cycle_id = c->cycle_id, .order_ref = o->cl_ord_id, .ts_ms = clock_now_ms(), .pair = c->pair,
        .side = intent_side_name(it->side), .order_type = intent_type_name(it->type), .volume = f.volume,
        .price = f.price, .cost = f.cost, .fee = f.fee, .base_asset = c->in.base, .quote_asset = c->in.quote,
        .realized_pnl = f.realized_pnl, .reason = it->reason,
    };
    char err[512];
    int64_t id = 0;
    store_rc rc = store_paper_apply_fill(c->st, c->strategy, &fill, &id, err, sizeof err);
    if (rc == STORE_CONFLICT) {
        ORDER_SET(o, state, ORDER_REFUSED);
        ORDER_SET(o, message, err);
        strbuf e = {0};
        strbuf_puts(&e, "{");
        strbuf_json_str(&e, "cl_ord_id", o->cl_ord_id);
        strbuf_json_str(&e, "error", err);
        blackbox_emit(BLACKBOX_WARN, "order.paper_refused", &e);
        return 0;
    }
    if (rc != STORE_OK) {
        cycle_set_error(c, "paper fill not recorded: %s", err);
        ORDER_SET(o, state, ORDER_FAILED);
        return -1;
    }
    c->filled++;
    c->position += it->side == SIDE_BUY ? f.volume : -f.volume;
    c->cash += it->side == SIDE_BUY ? -(f.cost + f.fee) : f.cost - f.fee;
    c->basis = fmax(0, c->basis + f.basis_delta);
    if (c->position <= 1e-12) c->basis = 0;
    cycle_state_set_number(c, cycle_basis_key(c), c->basis);
    ORDER_SET(o, state, ORDER_FILLED);
    o->vol_exec = f.volume;
    o->avg_price = f.price;
    o->cost = f.cost;
    o->fee = f.fee;
    o->realized_pnl = f.realized_pnl;
    o->fill_id = id;
    strbuf e = {0};
    strbuf_puts(&e, "{");
    strbuf_json_str(&e, "cl_ord_id", o->cl_ord_id);
    strbuf_json_str(&e, "side", intent_side_name(it->side));
    strbuf_json_num(&e, "volume", f.volume);
    strbuf_json_num(&e, "price", f.price);
    strbuf_json_num(&e, "cost", f.cost);
    strbuf_json_num(&e, "fee", f.fee);
    strbuf_json_num(&e, "realized_pnl", f.realized_pnl);
    blackbox_emit(BLACKBOX_INFO, "order.paper_fill", &e);
    return 0;
}

/* LIVE: what Kraken reports as executed moves the cost basis and today's realized PnL (kept in
 * the strategy's state), which the daily-loss gate reads next cycle. The arithmetic is
 * paper.c's paper_book with Kraken's own cost and fee. */
static void cycle_book_live_fill(cycle *c, order_side side, order_record *o)
{
    double vol = o->vol_exec, cost = o->cost, fee = isnan(o->fee) ? 0 : o->fee;
    if (!(vol > 0) || !(cost > 0)) return;             /* not executed yet, or unknown: nothing booked */
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
    o->realized_pnl = realized;
    cycle_state_set_number(c, cycle_basis_key(c), c->position > 1e-12 ? c->basis : 0);
    if (realized != 0) {
        char key[64];
        cycle_realized_key(key);
        c->realized_today += realized;
        cycle_state_set_number(c, key, c->realized_today);
    }
}

/* The client order ids are written down before anything is sent, so a runner that takes over
 * after a crash knows what to look for (on Kraken, or in the paper ledger). Renewing first proves
 * we still hold the slot. */
static int cycle_record_plan(cycle *c)
{
    char err[512];
    char *json = order_list_json(&c->orders);
    store_rc rc = store_renew_lease(c->st, c->cycle_id, c->holder, c->lease_s, err, sizeof err);
    if (rc == STORE_OK) rc = json ? store_update_cycle_orders(c->st, c->cycle_id, c->holder, json,
                                                            c->mode == CYCLE_LIVE ? STORE_DURABLE : STORE_LAZY, err, sizeof err)
                                  : STORE_ERR;
    if (!json) snprintf(err, sizeof err, "out of memory");
    free(json);
    if (rc == STORE_OK) return 0;
    cycle_mark_unsent(c, 0);
    cycle_set_error(c, "could not record the planned orders, so none was sent: %s", err);
    return -1;
}

static void cycle_log_live(const order_record *o, live_outcome outcome)
{
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "cl_ord_id", o->cl_ord_id);
    static const char *const names[] = {[LIVE_PLACED] = "placed", [LIVE_REJECTED] = "rejected",
                                        [LIVE_NOT_SENT] = "not_sent", [LIVE_IN_DOUBT] = "in_doubt"};
    strbuf_json_str(&f, "outcome", names[outcome]);
    strbuf_json_str(&f, "state", o->state);
    strbuf_json_str(&f, "txid", o->txid[0] ? o->txid : NULL);
    strbuf_json_str(&f, "error_code", o->error_code[0] ? o->error_code : NULL);
    blackbox_emit(outcome == LIVE_PLACED ? BLACKBOX_INFO : BLACKBOX_ERROR, "order.live", &f);
}

/* Before order k is sent: a stop request ends the cycle, and the lease is renewed (a runner that
 * lost its slot sends nothing). 0 to send, -1 when the cycle ends here (the rest not sent). */
static int cycle_ready_to_send(cycle *c, size_t k)
{
    order_record *o = &c->orders.items[k];
    char err[512];
    int stop = signals_stop_requested();
    if (stop) {
        cycle_mark_unsent(c, k);
        cycle_set_error(c, "stopped by %s before order %d was sent; the remaining orders were not sent",
                        signals_name(stop), o->index);
        return -1;
    }
    if (store_renew_lease(c->st, c->cycle_id, c->holder, c->lease_s, err, sizeof err) != STORE_OK) {
        cycle_mark_unsent(c, k);
        cycle_set_error(c, "lost the cycle lock before sending (%s); the remaining orders were not sent", err);
        return -1;
    }
    return 0;
}

/* Sends order k (LIVE): 0 to go on, -1 when no further order may be sent. */
static int cycle_send_live(cycle *c, size_t k, const intent *it, int *refused)
{
    order_record *o = &c->orders.items[k];
    if (c->opt->fault) c->opt->fault(c->L, "before_send", o->cl_ord_id);
    live_outcome outcome = live_place(c->in.pair_key, it, &c->in.rules, o);
    if (c->opt->fault) c->opt->fault(c->L, "after_send", o->cl_ord_id);
    if (outcome == LIVE_PLACED) {
        live_query_placed(o);
        cycle_book_live_fill(c, it->side, o);
        c->filled++;
    } else if (outcome == LIVE_REJECTED) {
        (*refused)++;
    }
    cycle_log_live(o, outcome);
    if (outcome == LIVE_NOT_SENT) {                    /* Kraken is out of reach: no further order */
        cycle_mark_unsent(c, k + 1);
        cycle_set_error(c, "order %d could not be sent (%s: %s); the remaining orders were not sent", o->index,
                        o->error_code, o->message);
        return -1;
    }
    if (outcome != LIVE_IN_DOUBT) return 0;
    cycle_mark_unsent(c, k + 1);                       /* nothing more while this one is unknown */
    cycle_set_error(c, "an order may have reached Kraken without confirmation (cl_ord_id %s); stopped; the next run "
                       "reconciles it before trading", o->cl_ord_id);
    return -1;
}

static cycle_step cycle_execute(cycle *c)
{
    if (cycle_plan_orders(c) != 0) {
        cycle_mark_unsent(c, 0);
        return cycle_fail(c, "out of memory planning the orders; nothing was sent");
    }
    if (c->opt->dry_run) return cycle_finish(c, STORE_STATUS_DONE, EXIT_OK);
    if (c->orders.n > 0 && cycle_record_plan(c) != 0) return cycle_finish(c, STORE_STATUS_FAILED, EXIT_FAILED);
    /* PAPER: the fills, ctx.state and the record are one transaction, ended by cycle_record (on
     * failure each write runs alone and reports its own error); a run killed before it commits left
     * no fill, and the next run finds the plan's orders "sending" and not in the paper ledger */
    char err[512];
    if (c->mode == CYCLE_PAPER && c->orders.n > 0) store_batch_begin(c->st, err, sizeof err);
    int refused = 0;                                   /* LIVE orders Kraken refused outright */
    for (size_t k = 0; k < c->orders.n; k++) {
        order_record *o = &c->orders.items[k];
        const intent *it = cycle_intent_of(c, o);
        if (!it) {                                     /* cannot happen: records come from intents */
            cycle_mark_unsent(c, k);
            return cycle_fail(c, "internal error: order %d has no intent; the remaining orders were not sent", o->index);
        }
        test_pause(k == 0 ? "before_first_send" : "between_sends");
        if (cycle_ready_to_send(c, k) != 0) return cycle_finish(c, STORE_STATUS_FAILED, EXIT_FAILED);
        if (c->mode == CYCLE_PAPER) {
            if (cycle_execute_paper(c, it, o) != 0) {
                cycle_mark_unsent(c, k + 1);
                return cycle_finish(c, STORE_STATUS_FAILED, EXIT_FAILED);
            }
        } else if (cycle_send_live(c, k, it, &refused) != 0) {
            return cycle_finish(c, STORE_STATUS_FAILED, EXIT_FAILED);   /* cycle_record decides in_doubt */
        }
    }
    if (c->orders.n > 0) test_pause("after_last_send");
    if (refused > 0)  /* nothing is in doubt, but the plan did not happen: a failed cycle, so monitoring sees it */
        return cycle_fail(c, "%d order(s) refused by Kraken (see orders[].error_code)", refused);
    return cycle_finish(c, STORE_STATUS_DONE, EXIT_OK);
}

/* ---- 9. the record ------------------------------------------------------------------------------- */

static void cycle_save_state(cycle *c)
{
    char err[512];
    const char *state = c->decided.state_json;
    if (!state) return;
    if (strlen(state) > CYCLE_STATE_MAX || strncmp(state, "{\"unencodable\"", 14) == 0)
        cycle_set_error(c, "ctx.state not saved: %s",
                        strlen(state) > CYCLE_STATE_MAX ? "larger than 256 KiB" : "not JSON-encodable");
    else if (store_state_set(c->st, c->strategy, CYCLE_STATE_KEY, state, err, sizeof err) != STORE_OK)
        cycle_set_error(c, "ctx.state not saved: %s", err);
}

/* Writes the row (when we hold the lock and are not dry-running), logs cycle.end and prints the
 * one-line outcome. An order whose fate is unknown makes the cycle in_doubt, whatever the step
 * that ended it said: the one rule every way out obeys. Pure C: safe after an internal error. */
static void cycle_record(cycle *c)
{
    if (c->recorded || !c->status) return;
    c->recorded = 1;
    int unknown = 0;
    for (size_t i = 0; i < c->orders.n; i++) unknown += order_fate_unknown(&c->orders.items[i]);
    if (unknown) {
        c->in_doubt = unknown;
        c->status = STORE_STATUS_IN_DOUBT;
        c->exit_code = EXIT_IN_DOUBT;
    }
    if (c->locked && !c->opt->dry_run) {
        char err[512];
        store_batch_begin(c->st, err, sizeof err);   /* the state and the record: one commit, one sync */
        cycle_save_state(c);
        char *decision = c->decision_recorded ? NULL : decide_record_json(&c->in, &c->decided, c->have_market, 1);
        char *orders = c->orders_unreadable ? NULL : order_list_json(&c->orders);
        store_rc rc = store_finish_cycle(c->st, c->cycle_id, c->holder, c->status, decision, orders,
                                         c->error.len ? strbuf_cstr(&c->error) : NULL, err, sizeof err);
        char end_err[512];
        store_rc ended = store_batch_end(c->st, end_err, sizeof end_err);   /* commits even when the record failed */
        if (rc == STORE_OK && ended != STORE_OK) rc = ended, snprintf(err, sizeof err, "%s", end_err);
        if (rc != STORE_OK) {
            /* The row keeps the plan it was given before the first send: every order "sending".
             * When one was sent, that is what the next run reads, so the cycle is in doubt until
             * that run has looked the orders up. */
            int sent = 0;
            for (size_t i = 0; i < c->orders.n; i++) sent += order_may_have_executed(&c->orders.items[i]);
            console_printf(stderr, "titan-host: could not record the cycle: %s%s\n", err,
                           sent ? "; its orders stay 'sending' in the store until the next run looks them up" : "");
            strbuf f = {0};
            strbuf_puts(&f, "{");
            strbuf_json_str(&f, "error", err);
            strbuf_json_int(&f, "orders_sent", sent);
            blackbox_emit(BLACKBOX_ERROR, "store.finish_failed", &f);
            if (sent) c->exit_code = EXIT_IN_DOUBT;
            else if (c->exit_code == EXIT_OK) c->exit_code = EXIT_FAILED;
        }
        free(decision);
        free(orders);
        c->locked = 0;
    }
    const char *error = c->error.len ? strbuf_cstr(&c->error) : NULL;
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "status", c->status);
    strbuf_json_int(&f, "exit", c->exit_code);
    strbuf_json_int(&f, "accepted", c->decided.counts[INTENT_ACCEPTED]);
    strbuf_json_int(&f, "resized", c->decided.counts[INTENT_RESIZED]);
    strbuf_json_int(&f, "rejected", c->decided.counts[INTENT_REJECTED]);
    strbuf_json_int(&f, "filled", c->filled);
    strbuf_json_int(&f, "in_doubt", c->in_doubt);
    strbuf_json_str(&f, "error", error);
    blackbox_emit(c->exit_code == EXIT_OK ? BLACKBOX_INFO : BLACKBOX_ERROR, "cycle.end", &f);
    console_printf(stdout, "cycle %s: %s%s — intents: %d accepted, %d resized, %d rejected; orders: %d filled%s%s%s\n",
                   c->cycle_id[0] ? c->cycle_id : "(none)", c->status, c->opt->dry_run ? " (dry run)" : "",
                   c->decided.counts[INTENT_ACCEPTED], c->decided.counts[INTENT_RESIZED],
                   c->decided.counts[INTENT_REJECTED], c->filled,
                   c->in_doubt ? ", IN DOUBT" : "", error ? " — " : "", error ? error : "");
}

/* ---- the capsule: what the decision read, for `replay` -------------------------------------------- */

static void cycle_capsule_settings(capsule *cap, tape *names)
{
    for (size_t i = 0; capsule_setting_names[i]; i++)
        tape_add_env(names, capsule_setting_names[i], getenv(capsule_setting_names[i]));
    cap->settings = names->env;
    cap->n_settings = names->n_env;
}

/* After the record: the cycle's capsule, beside the blackbox and in the store (not in a dry run,
 * which writes nothing there). Only a cycle that read the market has one: the others decided
 * nothing. A capsule that cannot be kept is logged; the cycle's outcome stands. */
static void cycle_keep_capsule(cycle *c)
{
    tape_record_end();
    long long days = 30;
    char err[600];
    if (!c->have_market || settings_integer("TITAN_CAPSULE_DAYS", &days, err, sizeof err) != 0 || days == 0) {
        tape taken;
        tape_take(&taken);
        tape_free(&taken);
        return;
    }
    static const char *const providers[][2] = {
        {"OPENAI_API_KEY", "openai"}, {"GROQ_API_KEY", "groq"}, {"GEMINI_API_KEY", "gemini"}};
    const char *ai[3];
    size_t n_ai = 0;
    for (int i = 0; i < 3; i++)
        if (secrets_value(providers[i][0])) ai[n_ai++] = providers[i][1];
    char *decision = decide_record_json(&c->in, &c->decided, 1, 0);
    char *orders = order_list_json(&c->orders);
    capsule cap = {
        .cycle_id = c->cycle_id, .strategy = c->strategy, .mode = c->in.mode, .pair = c->pair,
        .host_version = TITAN_VERSION, .interval = c->interval, .dry_run = c->opt->dry_run, .now_ms = c->now,
        .recorded_ms = clock_now_ms(), .seed = c->seed, .file = c->opt->strategy_path, .sha256 = c->sha256,
        .source = c->source, .ai = ai, .n_ai = n_ai, .cash = c->in.cash, .position = c->in.position,
        .realized_today = c->in.realized_today, .ledger = c->ledger, .ledger_n = c->ledger_n,
        .state_json = c->state_before, .status = c->status,
        .error = c->error.len ? strbuf_cstr(&c->error) : NULL, .decision_json = decision,
        .orders_json = orders, .strategy_ms = c->decided.strategy_ms,
    };
    tape names = {0};
    cycle_capsule_settings(&cap, &names);
    tape_take(&cap.tape);
    char file[4300];
    size_t bytes = 0;
    int rc = capsule_keep(&cap, c->opt->dry_run ? NULL : c->st, (int)days, file, sizeof file, &bytes, err, sizeof err);
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "file", file);
    strbuf_json_int(&f, "bytes", (long long)bytes);
    strbuf_json_bool(&f, "stored", rc == 0 && !c->opt->dry_run);
    strbuf_json_int(&f, "kraken_answers", (long long)cap.tape.n_kraken);
    strbuf_json_int(&f, "http_exchanges", (long long)cap.tape.n_http);
    if (rc != 0) strbuf_json_str(&f, "error", err);
    blackbox_emit(rc == 0 ? BLACKBOX_INFO : BLACKBOX_WARN, "capsule.kept", &f);
    tape_free(&cap.tape);
    tape_free(&names);
    free(decision);
    free(orders);
}

/* ---- the cycle ----------------------------------------------------------------------------------- */

/* Between steps: a stop request (SIGINT/SIGTERM) ends the cycle before the next one starts. */
static cycle_step cycle_stop_point(cycle *c)
{
    int sig = signals_stop_requested();
    if (!sig) return CYCLE_GO;
    if (!c->locked) {
        cycle_set_error(c, "stopped by %s before the cycle started; nothing was done", signals_name(sig));
        return cycle_finish(c, STORE_STATUS_FAILED, EXIT_FAILED);
    }
    return cycle_fail(c, "stopped by %s before trading; nothing was traded", signals_name(sig));
}

static int cycle_main_protected(lua_State *L)
{
    cycle *c = lua_touserdata(L, 1);
    lua_settop(L, 0);
    /* README "What one cycle does": each step returns CYCLE_END once the cycle's outcome is set */
    static const struct {
        const char *name;   /* its TITAN_TEST_PAUSE_AT point */
        cycle_step (*run)(cycle *);
    } steps[] = {
        {"configure", cycle_configure},   /* 1-3: the strategy, the slot, the banner, the store */
        {"lock", cycle_lock},             /* 4: one cycle per slot */
        {"recover", cycle_recover},       /* 4: earlier orders whose fate is unknown, first */
        {"halt", cycle_check_halt},       /* 5 */
        {"market", cycle_read_market},    /* 6: market and portfolio */
        {"decide", cycle_decide},         /* 6-7: on_cycle(ctx), intents, risk gates */
        {"execute", cycle_execute},       /* 8 */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        test_pause(steps[i].name);
        if (cycle_stop_point(c) == CYCLE_END || steps[i].run(c) == CYCLE_END) break;
    }
    test_pause("record");
    cycle_record(c);        /* 9 */
    cycle_keep_capsule(c);
    return 0;
}

/* What must hold before anything runs: a known mode, readable caps, usable LIVE credentials.
 * Returns 0, or prints the reason and returns -1 (exit 2, nothing done). */
static int cycle_check_config(cycle *c)
{
    char err[512];
    const char *store_url, *store_path;
    if (settings_check_all(err, sizeof err) || settings_store(&store_url, &store_path, err, sizeof err) ||
        cycle_read_mode(&c->mode, err, sizeof err) || risk_caps_from_env(&c->in.caps, err, sizeof err) ||
        paper_config_from_env(&c->paper, err, sizeof err))
        return console_error("%s; nothing was done", err), -1;
    if (c->mode != CYCLE_LIVE) return 0;
    if (!secrets_value("KRAKEN_API_KEY") || !secrets_value("KRAKEN_SECRET"))
        return console_error("LIVE needs KRAKEN_API_KEY and KRAKEN_SECRET; nothing was done"), -1;
    const char *secret = secrets_value("KRAKEN_SECRET");
    size_t len = strlen(secret);
    unsigned char *decoded = malloc(len / 4 * 3 + 3);
    long n = decoded ? codec_base64_decode(secret, len, decoded) : -1;
    if (decoded) OPENSSL_cleanse(decoded, len / 4 * 3 + 3);
    free(decoded);
    if (n <= 0)
        return console_error("KRAKEN_SECRET is not valid base64 (copy the private key exactly as Kraken shows it); "
                             "nothing was done"), -1;
    const char *gha = getenv("GITHUB_ACTIONS");
    if (gha && strcmp(gha, "true") == 0 && (!getenv("SUPABASE_URL") || !secrets_value("SUPABASE_KEY")))
        return console_error("LIVE inside GitHub Actions needs SUPABASE_URL and SUPABASE_KEY: the SQLite store would "
                             "vanish with the runner; nothing was done"), -1;
    return 0;
}

int cycle_run(const cycle_options *opt)
{
    cycle c = {.opt = opt, .exit_code = EXIT_FAILED, .lease_s = cycle_lease_s()};
    if (cycle_check_config(&c) != 0) return EXIT_USAGE;
    /* Orders go through the risk gates only: Lua may not place one itself, not even from the
     * strategy file's top level, whatever TITAN_KRAKEN_LUA_WRITES says. Never re-enabled here. */
    kraken_set_lua_writes_allowed(0);
    char err[512];
    c.rt = runtime_open(opt->strategy_path, err, sizeof err);
    if (!c.rt) return console_error("%s", err), EXIT_USAGE;
    c.L = runtime_lua(c.rt);
    signals_ignore_fatal_io();
    signals_catch_stop();
    lua_pushcfunction(c.L, cycle_main_protected);
    lua_pushlightuserdata(c.L, &c);
    if (lua_pcall(c.L, 1, 0, 0) != LUA_OK) {
        /* Only out-of-memory, a host bug or a test's injected fault gets here: the orders are C
         * records, so the record still has them (and in_doubt when one's fate is unknown). */
        const char *msg = lua_tostring(c.L, -1);
        cycle_set_error(&c, "internal error: %s", msg ? msg : "?");
        lua_settop(c.L, 0);
        c.recorded = 0;
        cycle_finish(&c, STORE_STATUS_FAILED, EXIT_FAILED);
        cycle_record(&c);
    }
    /* after the record, whatever ended the cycle; a SIGTERM still lets it out (bounded) */
    notify_after_cycle(&(notify_cycle){
        .st = c.st, .cycle_id = c.cycle_id, .strategy = c.strategy, .mode = cycle_mode_name(c.mode), .pair = c.pair,
        .status = c.status, .error = c.error.len ? strbuf_cstr(&c.error) : NULL, .exit_code = c.exit_code,
        .dry_run = opt->dry_run, .orders = &c.orders, .intents = c.decided.intents,
        .n_intents = c.decided.n_intents, .decision_json = c.decided.strategy_decision});
    signals_restore();
    tape_record_end();                                 /* an internal error may have ended it mid-record */
    tape dropped;
    tape_take(&dropped);
    tape_free(&dropped);
    int code = c.exit_code;
    store_set_active(NULL);
    if (c.st) store_close(c.st);
    strbuf_free(&c.error);
    order_list_free(&c.orders);
    store_cycle_free(&c.taken_over);
    kraken_balances_free(&c.balances);
    kraken_orders_free(&c.open_orders);
    free(c.ledger);
    decide_result_free(&c.decided);
    free(c.source);
    free(c.state_before);
    runtime_close(c.rt);
    return code;
}
