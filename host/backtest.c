/* The backtest engine. Bar i closes, the strategy decides on bars 0..i (a view, never the
 * future), the risk gates of `run` size the intents, and they fill in bar i+1: market orders
 * at its open moved by the slippage, limit orders at their price if the bar trades through it.
 * The portfolio is marked at every close; metrics come from that equity series. */
#include "backtest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings.h"
#include "blackbox.h"
#include "clock.h"
#include "exit_codes.h"
#include "console.h"
#include "ctx.h"
#include "http.h"
#include "jsonw.h"
#include "kraken.h"
#include "progress.h"
#include "runtime.h"
#include "strategy.h"
#include "strbuf.h"

#define BT_RING 1024                 /* candle tables kept for reuse; > the 720 one call may ask */
#define BT_MAX_CANDLES 720
#define BT_MINUTES_PER_YEAR 525960.0 /* 365.25 days: crypto trades every day */
#define BT_JSON_VERSION "2"   /* the layout of --json, bumped when it changes */

/* What ohlc/ticker read: the loaded bars and the last closed one. */
typedef struct bt_view {
    const csv_bar *bars;
    size_t cur;
    int interval;
    int64_t ring_bar[BT_RING];       /* which bar each cached candle table holds, -1 = none */
} bt_view;

typedef struct bt_book {
    double cash, position, basis;
    int64_t realized_day;            /* UTC day of realized_sum */
    double realized_sum;
} bt_book;

/* Keys of ctx fields set per bar, interned once (argument slots of bt_run_bars). */
enum { BT_K_NOW, BT_K_DECISION, BT_K_CASH, BT_K_POSITION, BT_K_VALUE, BT_K_EQUITY, BT_K_QUOTE, BT_K_BASE, BT_NKEYS };

typedef struct bt_engine {
    const backtest_options *opt;
    backtest_result *res;
    backtest_session *session;
    int64_t from_ms, to_ms;          /* this run's range of decision bars (0 = unbounded) */
    progress progress;
    bt_view view;
    size_t fills_cap;
    int exit_code;
    /* the loop, resumable across batches */
    bt_book book;
    size_t next;                     /* next bar to process */
    int done;                        /* finished, or stopped with res->error set */
    intent intents[INTENT_MAX], pending[INTENT_MAX];
    int npending;
    double last[BT_NKEYS];           /* values last written to ctx, to skip unchanged ones */
} bt_engine;

static void bt_set_error(backtest_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bt_set_error(backtest_result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->error, sizeof res->error, fmt, ap);
    va_end(ap);
}

/* ---- the market view ------------------------------------------------------------------- */

/* Candle fields, in the shape of Kraken's OHLC rows; their key strings are upvalues 5.. of
 * ohlc so making a candle does no string lookups. The CSV has no VWAP: the typical price
 * (h+l+c)/3 stands in for it. */
static const char *const bt_candle_keys[] = {"t", "o", "h", "l", "c", "vwap", "v", "n"};
#define BT_KEYS_UPVALUE 5

static void bt_push_candle(lua_State *L, const csv_bar *b)
{
    lua_createtable(L, 0, 8);
    double values[] = {0, b->o, b->h, b->l, b->c, (b->h + b->l + b->c) / 3, b->v, 0};
    for (int f = 0; f < 8; f++) {
        lua_pushvalue(L, lua_upvalueindex(BT_KEYS_UPVALUE + f));
        if (f == 0) lua_pushinteger(L, b->t);
        else if (f == 7) lua_pushinteger(L, (lua_Integer)b->trades);
        else lua_pushnumber(L, values[f]);
        lua_rawset(L, -3);
    }
}

/* nil, err when the strategy asks for a pair we have no data for. */
static int bt_check_pair(lua_State *L)
{
    if (lua_isnoneornil(L, 1) || lua_rawequal(L, 1, lua_upvalueindex(1))) return 0;
    const char *pair = luaL_checkstring(L, 1);
    const char *ours = lua_tostring(L, lua_upvalueindex(1));
    if (ours && strcmp(pair, ours) == 0) return 0;
    lua_pushfstring(L, "the backtest has data for %s only, not %s", ours ? ours : "?", pair);
    bindings_push_error(L, "backtest.no_data", lua_tostring(L, -1), 0);
    return 2;
}

/* market.ohlc(pair?, interval?, n?) -> the last n closed candles, oldest first. Candle tables
 * are made once and shared by later calls (treat them as read-only); the list is new. */
static int bt_market_ohlc(lua_State *L)
{
    bt_view *v = lua_touserdata(L, lua_upvalueindex(3));
    if (bt_check_pair(L)) return 2;
    lua_Integer interval = luaL_optinteger(L, 2, v->interval);
    lua_Integer n = luaL_optinteger(L, 3, BT_MAX_CANDLES);
    luaL_argcheck(L, kraken_valid_interval((int)interval), 2, "not one of Kraken's intervals");
    luaL_argcheck(L, n > 0 && n <= BT_MAX_CANDLES, 3, "must be between 1 and 720");
    if (interval != v->interval) {
        lua_pushfstring(L, "the backtest has %d-minute bars only, not %d", v->interval, (int)interval);
        return bindings_push_error(L, "backtest.no_data", lua_tostring(L, -1), 0);
    }
    size_t count = (size_t)n < v->cur + 1 ? (size_t)n : v->cur + 1;
    size_t first = v->cur + 1 - count;
    lua_createtable(L, (int)count, 0);                 /* [ list ] */
    int list = lua_gettop(L), cache = lua_upvalueindex(4);
    for (size_t k = 0; k < count; k++) {
        size_t b = first + k;
        int slot = (int)(b & (BT_RING - 1));
        if (v->ring_bar[slot] != (int64_t)b) {
            bt_push_candle(L, &v->bars[b]);
            lua_pushvalue(L, -1);
            lua_rawseti(L, cache, slot + 1);
            v->ring_bar[slot] = (int64_t)b;
        } else {
            lua_rawgeti(L, cache, slot + 1);
        }
        lua_rawseti(L, list, (lua_Integer)k + 1);
    }
    return 1;
}

/* market.ticker(pair?) -> the last closed bar as a ticker: last = bid = ask = its close. */
static int bt_market_ticker(lua_State *L)
{
    bt_view *v = lua_touserdata(L, lua_upvalueindex(2));
    if (bt_check_pair(L)) return 2;
    const csv_bar *b = &v->bars[v->cur];
    lua_createtable(L, 0, 10);
    static const char *const same[] = {"last", "bid", "ask"};
    for (int i = 0; i < 3; i++) {
        lua_pushnumber(L, b->c);
        lua_setfield(L, -2, same[i]);
    }
    lua_pushnumber(L, b->o);
    lua_setfield(L, -2, "open");
    lua_pushnumber(L, b->h);
    lua_setfield(L, -2, "high");
    lua_pushnumber(L, b->l);
    lua_setfield(L, -2, "low");
    lua_pushnumber(L, b->v);
    lua_setfield(L, -2, "volume");
    lua_pushnumber(L, (b->h + b->l + b->c) / 3);
    lua_setfield(L, -2, "vwap");
    lua_pushinteger(L, (lua_Integer)b->trades);
    lua_setfield(L, -2, "trades");
    lua_pushinteger(L, b->t + (int64_t)v->interval * 60);
    lua_setfield(L, -2, "t");
    return 1;
}

/* ctx.log in a backtest: checked like run's, recorded nowhere (100k bars would flood the
 * blackbox). */
static int bt_ctx_log(lua_State *L)
{
    luaL_checkstring(L, 1);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    return 0;
}

static void bt_push_market(lua_State *L, bt_view *v)
{
    lua_createtable(L, 0, 2);                          /* [ market ] */
    lua_pushnil(L);                                    /* pair and interval: set by ctx_push */
    lua_pushnil(L);
    lua_pushlightuserdata(L, v);
    lua_createtable(L, BT_RING, 0);
    for (int i = 1; i <= BT_RING; i++) {               /* size the array part once */
        lua_pushboolean(L, 0);
        lua_rawseti(L, -2, i);
    }
    for (int f = 0; f < 8; f++) lua_pushstring(L, bt_candle_keys[f]);
    lua_pushcclosure(L, bt_market_ohlc, BT_KEYS_UPVALUE - 1 + 8);
    lua_setfield(L, -2, "ohlc");
    lua_pushnil(L);
    lua_pushlightuserdata(L, v);
    lua_pushcclosure(L, bt_market_ticker, 2);
    lua_setfield(L, -2, "ticker");
}

/* ---- the paper book --------------------------------------------------------------------- */

/* The fill's reason, kept once per distinct text: a strategy gives a handful of reasons over
 * thousands of fills, and a fill then costs ~90 bytes, not the 240 of a reason buffer. The last
 * few are searched (a reason that changes every fill is simply kept for each). NULL: no memory. */
static const char *bt_intern_reason(backtest_result *res, const char *reason)
{
    enum { RECENT = 8 };
    for (size_t i = res->nreasons; i > 0 && i + RECENT > res->nreasons; i--)
        if (strcmp(res->reasons[i - 1], reason) == 0) return res->reasons[i - 1];
    if ((res->nreasons & (res->nreasons - 1)) == 0) {   /* 0, 1, 2, 4, ...: grow to the next power of two */
        char **bigger = realloc(res->reasons, (res->nreasons ? res->nreasons * 2 : 1) * sizeof *bigger);
        if (!bigger) return NULL;
        res->reasons = bigger;
    }
    char *copy = strdup(reason);
    if (copy) res->reasons[res->nreasons++] = copy;
    return copy;
}

static int bt_record_fill(bt_engine *e, const backtest_fill *f)
{
    backtest_result *res = e->res;
    if (res->nfills == e->fills_cap) {
        size_t cap = e->fills_cap ? e->fills_cap * 2 : 64;
        backtest_fill *nf = realloc(res->fills, cap * sizeof *nf);
        if (!nf) return -1;
        res->fills = nf;
        e->fills_cap = cap;
    }
    res->fills[res->nfills++] = *f;
    return 0;
}

/* Fills the intents decided on the previous bar in bar `b`. -1 on out of memory. */
static int bt_fill_pending(bt_engine *e, bt_book *book, const intent *pending, int npending, const csv_bar *b,
                           int64_t decided_t)
{
    const paper_config *cfg = &e->opt->paper;
    for (int k = 0; k < npending; k++) {
        const intent *it = &pending[k];
        paper_fill f;
        /* caps hold at the fill: a gap from the decision's close to this open cuts the buy */
        const paper_limits limits = {&e->res->caps, &e->opt->rules};
        if (it->type == ORDER_MARKET) {
            paper_fill_market(cfg, &limits, it->side, it->final_volume, b->o, book->position, book->basis, &f);
        } else {
            int through = it->side == SIDE_BUY ? b->l <= it->final_price : b->h >= it->final_price;
            if (!through) { e->res->limit_unfilled++; continue; }
            /* the touch is the limit itself: filled at the limit, never better */
            paper_fill_limit(cfg, &limits, it->side, it->final_volume, it->final_price, it->final_price,
                             it->final_price, book->position, book->basis, &f);
        }
        if (f.capped < 0) { e->res->refused++; continue; }
        if (!f.filled) { e->res->limit_unfilled++; continue; }
        /* The next open may gap past what the risk gates sized with: refuse, as the paper
         * ledger of `run` refuses a fill it cannot pay for. */
        if ((it->side == SIDE_BUY && f.cost + f.fee > book->cash + 1e-9) ||
            (it->side == SIDE_SELL && f.volume > book->position + 1e-12)) {
            e->res->refused++;
            continue;
        }
        book->position += it->side == SIDE_BUY ? f.volume : -f.volume;
        book->cash += it->side == SIDE_BUY ? -(f.cost + f.fee) : f.cost - f.fee;
        book->basis = fmax(0, book->basis + f.basis_delta);
        if (book->position <= 1e-12) book->basis = 0;
        int64_t day = b->t / 86400;
        if (day != book->realized_day) { book->realized_day = day; book->realized_sum = 0; }
        book->realized_sum += f.realized_pnl;
        backtest_fill rec = {
            .t = b->t, .decided_t = decided_t, .side = it->side, .type = it->type, .price = f.price,
            .volume = f.volume, .cost = f.cost, .fee = f.fee, .realized_pnl = f.realized_pnl,
            .cash_after = book->cash, .position_after = book->position,
        };
        rec.reason = bt_intern_reason(e->res, it->reason);
        if (!rec.reason || bt_record_fill(e, &rec) != 0) return -1;
    }
    return 0;
}

/* ---- the loop ---------------------------------------------------------------------------- */

#define BT_BATCH_MS 20               /* wall time of one batch of bars (see bt_run_bars) */

/* Sets a number field (key at stack index key) only when it changed: most bars change nothing. */
static void bt_set_field(lua_State *L, int t, int key, double v, double *last)
{
    if (v == *last) return;
    *last = v;
    lua_pushvalue(L, key);
    lua_pushnumber(L, v);
    lua_rawset(L, t);
}

/* Splits "XBTUSD" into base and quote by the quote currencies Kraken lists most. */
static void bt_split_pair(const char *pair, char *base, size_t blen, char *quote, size_t qlen)
{
    static const char *const quotes[] = {"USDT", "USDC", "USD", "EUR", "GBP", "CAD", "JPY", "CHF", "AUD", "XBT", "ETH"};
    size_t n = strlen(pair);
    for (size_t i = 0; i < sizeof quotes / sizeof quotes[0]; i++) {
        size_t q = strlen(quotes[i]);
        if (n > q && strcmp(pair + n - q, quotes[i]) == 0) {
            snprintf(base, blen, "%.*s", (int)(n - q), pair);
            snprintf(quote, qlen, "%s", quotes[i]);
            return;
        }
    }
    snprintf(base, blen, "BASE");
    snprintf(quote, qlen, "QUOTE");
}

/* bt_run_bars(engine, on_cycle, ctx, portfolio, balances): processes bars from e->next for up
 * to BT_BATCH_MS of wall time, calling on_cycle once per bar. It runs inside one runtime_call,
 * so the CPU budget covers a batch: a bar still gets the whole budget less at most one batch,
 * and the budget's timer (two system calls) is armed once per batch instead of once per bar. */
static int bt_run_bars(lua_State *L)
{
    bt_engine *e = lua_touserdata(L, 1);
    enum { FN = 2, CTX = 3, PF = 4, BAL = 5, KEYS = 6 };
    backtest_result *res = e->res;
    const backtest_options *opt = e->opt;
    const csvdata *d = &res->data;
    static const char *const names[BT_NKEYS] = {"now", "decision", "cash", "position", "position_value", "equity"};
    lua_settop(L, BAL);
    for (int k = 0; k < BT_NKEYS; k++) {
        if (k == BT_K_QUOTE) lua_pushstring(L, res->quote);
        else if (k == BT_K_BASE) lua_pushstring(L, res->base);
        else lua_pushstring(L, names[k]);
    }
    int top = lua_gettop(L);
    size_t marks = res->end - res->start + 1, progress_every = marks / 200 + 1;
    bt_book *book = &e->book;
    char why[256];
    int64_t batch_end = clock_coarse_ms() + BT_BATCH_MS;   /* read every bar: the cheap clock */
    for (size_t i = e->next; i <= res->end; i++) {
        const csv_bar *b = &d->bars[i];
        e->next = i;
        if (e->npending) {
            if (bt_fill_pending(e, book, e->pending, e->npending, b, d->bars[i - 1].t + (int64_t)res->interval * 60)) {
                bt_set_error(res, "out of memory recording fills");
                e->exit_code = EXIT_FAILED;
                e->done = 1;
                return 0;
            }
            e->npending = 0;
        }
        size_t k = i - res->start;
        double value = book->position * b->c;
        res->equity[k] = book->cash + value;
        res->in_market += book->position >= opt->rules.ordermin;
        double share = res->equity[k] > 0 ? value / res->equity[k] : 0;
        res->exposure_sum += share;
        if (share > res->exposure_max) res->exposure_max = share;
        if (opt->progress && k % progress_every == 0) {
            char day[CLOCK_ISO_SIZE];
            clock_iso(b->t * 1000, day);
            day[10] = '\0';
            progress_update(&e->progress, (double)k, (double)marks, day);
        }
        if (i == res->end) break;                      /* nothing could fill after the last bar */

        e->view.cur = i;
        int64_t now_ms = (b->t + (int64_t)res->interval * 60) * 1000;
        lua_pushvalue(L, KEYS + BT_K_NOW);
        lua_pushinteger(L, now_ms);
        lua_rawset(L, CTX);
        bt_set_field(L, PF, KEYS + BT_K_CASH, book->cash, &e->last[BT_K_CASH]);
        bt_set_field(L, PF, KEYS + BT_K_POSITION, book->position, &e->last[BT_K_POSITION]);
        bt_set_field(L, PF, KEYS + BT_K_VALUE, value, &e->last[BT_K_VALUE]);
        bt_set_field(L, PF, KEYS + BT_K_EQUITY, book->cash + value, &e->last[BT_K_EQUITY]);
        bt_set_field(L, BAL, KEYS + BT_K_QUOTE, book->cash, &e->last[BT_K_QUOTE]);
        bt_set_field(L, BAL, KEYS + BT_K_BASE, book->position, &e->last[BT_K_BASE]);

        lua_pushvalue(L, FN);
        lua_pushvalue(L, CTX);
        lua_call(L, 1, 1);                             /* errors unwind to runtime_call */
        /* ctx.decision is per cycle in `run`: a fresh one when the strategy wrote to it */
        lua_pushvalue(L, KEYS + BT_K_DECISION);
        if (lua_rawget(L, CTX) != LUA_TTABLE || (lua_pushnil(L), lua_next(L, -2))) {
            lua_settop(L, top + 1);
            lua_pushvalue(L, KEYS + BT_K_DECISION);
            lua_newtable(L);
            lua_rawset(L, CTX);
        }
        lua_settop(L, top + 1);                        /* [ ..., intents ] */
        int count = 0;
        if (intent_read_list(L, -1, e->intents, &count, why, sizeof why) != 0) {
            char iso[CLOCK_ISO_SIZE];
            bt_set_error(res, "strategy failed on the bar closing %s (bar %zu of the data): %s",
                         clock_iso(now_ms, iso), i + 1, why);
            e->exit_code = EXIT_FAILED;
            e->done = 1;
            return 0;
        }
        lua_settop(L, top);
        if (count > 0) {
            risk_book rb = {.cash = book->cash, .position = book->position,
                            .realized_today = book->realized_day == now_ms / 86400000 ? book->realized_sum : 0,
                            .fee_rate = opt->paper.fee_rate, .slippage_rate = opt->paper.slippage_rate};
            risk_apply(e->intents, count, &res->caps, &opt->rules, b->c, b->c, b->c, rb);
            for (int j = 0; j < count; j++) {
                res->intents[e->intents[j].status]++;
                if (e->intents[j].status == INTENT_REJECTED) res->rejected_by[risk_reject_reason(&e->intents[j])]++;
                if (e->intents[j].status == INTENT_ACCEPTED || e->intents[j].status == INTENT_RESIZED)
                    e->pending[e->npending++] = e->intents[j];
            }
        }
        if (clock_coarse_ms() >= batch_end) { e->next = i + 1; return 0; }
    }
    e->next = res->end + 1;
    e->done = 1;
    e->exit_code = EXIT_OK;
    return 0;
}

/* ---- the session: data and strategy loaded once, any number of runs --------------------- */

struct backtest_session {
    const backtest_options *opt;
    runtime *rt;
    csvdata data;                    /* at the run interval */
    int chunk_ref;                   /* the compiled strategy file, executed afresh by each run */
    char strategy[80], pair[40], base[16], quote[16];
    int own_interval, interval, resampled_from;
    risk_caps host_caps;             /* before a strategy's `risk` tightens them */
};

/* Loads and validates the strategy, keeps its compiled chunk, checks opt->params against it. */
static int bt_open_protected(lua_State *L)
{
    backtest_session *s = lua_touserdata(L, 1);
    char *err = lua_touserdata(L, 2);
    size_t errlen = (size_t)lua_tointeger(L, 3);
    lua_settop(L, 0);
    const backtest_options *opt = s->opt;
    strbuf problems = {0};
    strategy_result sr = strategy_load(s->rt, opt->strategy_path, &problems);
    if (sr != STRATEGY_VALID) {
        snprintf(err, errlen, "%s: %s:\n%s", opt->strategy_path,
                 sr == STRATEGY_INVALID ? "invalid strategy" : "cannot load the strategy", strbuf_cstr(&problems));
        strbuf_free(&problems);
        return 0;
    }
    strbuf_free(&problems);
    int strategy_idx = lua_gettop(L);
    strategy_identity(L, strategy_idx, s->strategy, sizeof s->strategy, s->pair, sizeof s->pair, &s->own_interval);
    char why[512];
    if (strategy_set_params(L, strategy_idx, opt->params, opt->nparams, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", opt->strategy_path, why);
        return 0;
    }
    if (runtime_load_file(s->rt, opt->strategy_path) != RUNTIME_OK) {
        snprintf(err, errlen, "%s: %s", opt->strategy_path, lua_tostring(L, -1));
        return 0;
    }
    s->chunk_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int backtest_session_open(const backtest_options *opt, backtest_session **out, char *err, size_t errlen)
{
    *out = NULL;
    err[0] = '\0';
    backtest_session *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return EXIT_USAGE; }
    s->opt = opt;
    s->chunk_ref = LUA_NOREF;
    if (opt->caps) s->host_caps = *opt->caps;
    else if (risk_caps_from_env(&s->host_caps, err, errlen) != 0) goto fail;
    if (csvdata_load(opt->data_path, &s->data, err, errlen) != 0) goto fail;
    s->rt = runtime_open(opt->strategy_path, err, errlen);
    if (!s->rt) goto fail;
    /* History only: a strategy that reaches for the network in a backtest gets http.offline. */
    http_set_offline("backtests are offline: no network, the strategy sees history only");
    lua_State *L = runtime_lua(s->rt);
    lua_pushcfunction(L, bt_open_protected);
    lua_pushlightuserdata(L, s);
    lua_pushlightuserdata(L, err);
    lua_pushinteger(L, (lua_Integer)errlen);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        snprintf(err, errlen, "internal error: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 1);
    }
    if (s->chunk_ref == LUA_NOREF) goto fail;
    bt_split_pair(s->pair, s->base, sizeof s->base, s->quote, sizeof s->quote);
    s->interval = opt->interval ? opt->interval : s->own_interval;
    /* The bars must be the run's interval: shorter ones are combined, longer ones refused. */
    if (s->data.interval_min != s->interval) {
        int from = s->data.interval_min;
        char why[256];
        if (csvdata_resample(&s->data, s->interval, why, sizeof why) != 0) {
            if (opt->interval)
                snprintf(err, errlen, "%s: %s; --interval %d needs %d-minute data or shorter", opt->data_path, why,
                         s->interval, s->interval);
            else
                snprintf(err, errlen, "%s: %s; strategy %s wants %d-minute bars (its `interval`): give it %d-minute "
                         "data, or run it at the data's interval with --interval %d", opt->data_path, why, s->strategy,
                         s->interval, s->interval, from);
            goto fail;
        }
        s->resampled_from = from;
    }
    *out = s;
    return EXIT_OK;
fail:
    backtest_session_close(s);
    return EXIT_USAGE;
}

void backtest_session_close(backtest_session *s)
{
    if (!s) return;
    if (s->rt) {
        http_set_offline(NULL);
        runtime_close(s->rt);
    }
    csvdata_free(&s->data);
    free(s);
}

const csvdata *backtest_session_data(const backtest_session *s) { return &s->data; }

/* check_params(session, params, n, err, errlen): the file run afresh, the params applied. */
static int bt_check_protected(lua_State *L)
{
    backtest_session *s = lua_touserdata(L, 1);
    const param_setting *params = lua_touserdata(L, 2);
    size_t n = (size_t)lua_tointeger(L, 3);
    char *err = lua_touserdata(L, 4);
    size_t errlen = (size_t)lua_tointeger(L, 5);
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->chunk_ref);
    if (runtime_call(s->rt, 0, 1) != RUNTIME_OK || !lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: %s", s->opt->strategy_path, lua_isstring(L, -1) ? lua_tostring(L, -1) : "no table");
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pushboolean(L, strategy_set_params(L, 1, params, n, err, errlen) == 0);
    return 1;
}

int backtest_session_check_params(backtest_session *s, const param_setting *params, size_t n, char *err,
                                  size_t errlen)
{
    lua_State *L = runtime_lua(s->rt);
    int top = lua_gettop(L);
    lua_pushcfunction(L, bt_check_protected);
    lua_pushlightuserdata(L, s);
    lua_pushlightuserdata(L, (void *)params);
    lua_pushinteger(L, (lua_Integer)n);
    lua_pushlightuserdata(L, err);
    lua_pushinteger(L, (lua_Integer)errlen);
    int ok = lua_pcall(L, 5, 1, 0) == LUA_OK && lua_toboolean(L, -1);
    if (!ok && lua_type(L, -1) == LUA_TSTRING) snprintf(err, errlen, "internal error: %s", lua_tostring(L, -1));
    lua_settop(L, top);
    return ok ? 0 : -1;
}

const char *backtest_session_strategy(const backtest_session *s, int *own_interval, int *interval)
{
    if (own_interval) *own_interval = s->own_interval;
    if (interval) *interval = s->interval;
    return s->strategy;
}

/* One run inside the session's Lua state: a fresh strategy table, its overrides, the loop. */
static int bt_run_protected(lua_State *L)
{
    bt_engine *e = lua_touserdata(L, 1);
    const param_setting *params = lua_touserdata(L, 2);
    size_t nparams = (size_t)lua_tointeger(L, 3);
    lua_settop(L, 0);
    backtest_session *s = e->session;
    backtest_result *res = e->res;
    const backtest_options *opt = e->opt;
    e->exit_code = EXIT_FAILED;

    lua_rawgeti(L, LUA_REGISTRYINDEX, s->chunk_ref);
    if (runtime_call(s->rt, 0, 1) != RUNTIME_OK) {
        bt_set_error(res, "%s: %s", opt->strategy_path, lua_tostring(L, -1));
        return 0;
    }
    int strategy_idx = lua_gettop(L);
    lua_pushliteral(L, "on_cycle");
    if (!lua_istable(L, strategy_idx) || lua_rawget(L, strategy_idx) != LUA_TFUNCTION) {
        bt_set_error(res, "%s: the file no longer returns a strategy with on_cycle when run again", opt->strategy_path);
        return 0;
    }
    int fn_idx = lua_gettop(L);
    char why[512];
    if (strategy_set_params(L, strategy_idx, opt->params, opt->nparams, why, sizeof why) != 0 ||
        strategy_set_params(L, strategy_idx, params, nparams, why, sizeof why) != 0) {
        bt_set_error(res, "%s: %s", opt->strategy_path, why);
        e->exit_code = EXIT_USAGE;
        return 0;
    }
    if (s->interval != s->own_interval) {             /* what the strategy reads is what it runs at */
        lua_pushliteral(L, "interval");
        lua_pushinteger(L, s->interval);
        lua_rawset(L, strategy_idx);
    }
    res->caps = s->host_caps;
    risk_caps_tighten(L, strategy_idx, &res->caps);

    csvdata *d = &res->data;
    size_t start = 0, end = d->count;
    while (start < d->count && e->from_ms && d->bars[start].t * 1000 < e->from_ms) start++;
    while (end > start && e->to_ms && d->bars[end - 1].t * 1000 >= e->to_ms) end--;
    if (end < start + 2) {
        char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE];
        bt_set_error(res, "%s: fewer than 2 bars between --from and --to (the data covers %.16s .. %.16s)",
                     opt->data_path, clock_iso(d->bars[0].t * 1000, a), clock_iso(d->bars[d->count - 1].t * 1000, z));
        e->exit_code = EXIT_USAGE;
        return 0;
    }
    res->start = start;
    res->end = end - 1;
    size_t marks = res->end - res->start + 1;
    res->equity = malloc(marks * sizeof(double));
    if (!res->equity) { bt_set_error(res, "out of memory"); return 0; }

    bt_view *v = &e->view;
    v->bars = d->bars;
    v->cur = start;
    v->interval = res->interval;
    for (int i = 0; i < BT_RING; i++) v->ring_bar[i] = -1;

    /* ctx, built once by the same ctx_push as `run`; per bar only what moved is updated. */
    bt_push_market(L, v);
    int market_idx = lua_gettop(L);
    lua_createtable(L, 0, 2);
    int balances_idx = lua_gettop(L);
    lua_newtable(L);
    int open_idx = lua_gettop(L);
    lua_newtable(L);
    int state_idx = lua_gettop(L);
    e->book = (bt_book){.cash = opt->paper.starting_cash, .realized_day = -1};
    char cycle_id[120];
    snprintf(cycle_id, sizeof cycle_id, "%s@backtest", res->strategy);
    ctx_info ci = {
        .mode = "BACKTEST", .cycle_id = cycle_id, .pair = res->pair, .interval = res->interval,
        .now_ms = (d->bars[start].t + (int64_t)res->interval * 60) * 1000, .cash = e->book.cash, .position = 0,
        .price = d->bars[start].c, .base_asset = res->base, .quote_asset = res->quote, .balances_idx = balances_idx,
        .open_orders_idx = open_idx, .state_idx = state_idx, .market_idx = market_idx, .ai_enabled = 0,
    };
    lua_pushnumber(L, e->book.cash);
    lua_setfield(L, balances_idx, res->quote);
    lua_pushnumber(L, 0);
    lua_setfield(L, balances_idx, res->base);
    e->last[BT_K_CASH] = e->last[BT_K_EQUITY] = e->last[BT_K_QUOTE] = e->book.cash;
    ctx_push(L, &ci);
    int ctx_idx = lua_gettop(L);
    lua_pushcfunction(L, bt_ctx_log);
    lua_setfield(L, ctx_idx, "log");
    lua_getfield(L, ctx_idx, "portfolio");
    int pf_idx = lua_gettop(L);

    if (!opt->quiet) {
        strbuf ev = {0};
        strbuf_puts(&ev, "{\"strategy\":");
        strbuf_json_string(&ev, res->strategy, strlen(res->strategy));
        strbuf_puts(&ev, ",\"data\":");
        strbuf_json_string(&ev, opt->data_path, strlen(opt->data_path));
        strbuf_printf(&ev, ",\"bars\":%zu,\"interval\":%d}", marks, res->interval);
        blackbox_log(BLACKBOX_DEBUG, "backtest.start", ev.oom ? NULL : ev.data);
        strbuf_free(&ev);
    }
    int64_t t0 = clock_monotonic_ms();
    progress_start(&e->progress, "backtest", opt->progress, 1);
    e->next = start;
    while (!e->done) {
        lua_pushcfunction(L, bt_run_bars);
        lua_pushlightuserdata(L, e);
        lua_pushvalue(L, fn_idx);
        lua_pushvalue(L, ctx_idx);
        lua_pushvalue(L, pf_idx);
        lua_pushvalue(L, balances_idx);
        runtime_status rs = runtime_call(s->rt, 5, 0);
        if (rs != RUNTIME_OK) {
            char iso[CLOCK_ISO_SIZE];
            const char *msg = lua_tostring(L, -1);
            bt_set_error(res, "strategy failed on the bar closing %s (bar %zu of the data): %s",
                         clock_iso((d->bars[e->next].t + (int64_t)res->interval * 60) * 1000, iso), e->next + 1,
                         msg ? msg : "?");
            e->exit_code = EXIT_FAILED;
            break;
        }
    }
    res->seconds = (double)(clock_monotonic_ms() - t0) / 1000;
    progress_end(&e->progress);
    if (e->exit_code != EXIT_OK) return 0;
    backtest_compute_metrics(res, opt->rules.ordermin);
    if (!opt->quiet) {
        char info[512];
        snprintf(info, sizeof info,
                 "{\"bars\":%zu,\"fills\":%zu,\"total_return\":%.6g,\"max_drawdown\":%.6g,\"seconds\":%.3f}", marks,
                 res->nfills, isfinite(res->m.total_return) ? res->m.total_return : 0, res->m.max_drawdown,
                 res->seconds);
        blackbox_log(BLACKBOX_DEBUG, "backtest.end", info);
    }
    return 0;
}

int backtest_session_run(backtest_session *s, const param_setting *params, size_t n, int64_t from_ms, int64_t to_ms,
                         backtest_result *res)
{
    memset(res, 0, sizeof *res);
    res->data = s->data;                               /* shared, never freed with the result */
    snprintf(res->strategy, sizeof res->strategy, "%s", s->strategy);
    snprintf(res->pair, sizeof res->pair, "%s", s->pair);
    snprintf(res->base, sizeof res->base, "%s", s->base);
    snprintf(res->quote, sizeof res->quote, "%s", s->quote);
    res->interval = s->interval;
    res->own_interval = s->own_interval;
    res->resampled_from = s->resampled_from;
    bt_engine *e = calloc(1, sizeof *e);
    if (!e) { bt_set_error(res, "out of memory"); return EXIT_FAILED; }
    *e = (bt_engine){.opt = s->opt, .res = res, .session = s, .exit_code = EXIT_FAILED, .from_ms = from_ms,
                     .to_ms = to_ms};
    lua_State *L = runtime_lua(s->rt);
    int top = lua_gettop(L);
    lua_pushcfunction(L, bt_run_protected);
    lua_pushlightuserdata(L, e);
    lua_pushlightuserdata(L, (void *)params);
    lua_pushinteger(L, (lua_Integer)n);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        bt_set_error(res, "internal error: %s", msg ? msg : "?");
        e->exit_code = EXIT_FAILED;
    }
    lua_settop(L, top);
    int code = e->exit_code;
    free(e);
    return code;
}

int backtest_run(const backtest_options *opt, backtest_result *res)
{
    backtest_session *s;
    int code = backtest_session_open(opt, &s, res->error, sizeof res->error);
    if (code != EXIT_OK) {
        char err[sizeof res->error];
        memcpy(err, res->error, sizeof err);
        memset(res, 0, sizeof *res);
        memcpy(res->error, err, sizeof err);
        return code;
    }
    code = backtest_session_run(s, NULL, 0, opt->from_ms, opt->to_ms, res);
    res->owner = s;
    return code;
}

void backtest_result_free(backtest_result *res)
{
    free(res->equity);
    free(res->fills);
    for (size_t i = 0; i < res->nreasons; i++) free(res->reasons[i]);
    free(res->reasons);
    res->reasons = NULL;
    res->nreasons = 0;
    res->equity = NULL;
    res->fills = NULL;
    res->nfills = 0;
    memset(&res->data, 0, sizeof res->data);
    backtest_session_close(res->owner);
    res->owner = NULL;
}

/* ---- metrics -------------------------------------------------------------------------------- */

void backtest_compute_metrics(backtest_result *res, double ordermin)
{
    backtest_metrics *m = &res->m;
    memset(m, 0, sizeof *m);
    const csv_bar *bars = res->data.bars;
    size_t n = res->end - res->start + 1;
    const double *eq = res->equity;
    m->start_equity = eq[0];
    m->final_equity = eq[n - 1];
    m->total_return = eq[0] > 0 ? eq[n - 1] / eq[0] - 1 : NAN;
    m->years = (double)(bars[res->end].t - bars[res->start].t) / (365.25 * 86400);
    /* annualizing a few days says nothing: CAGR only from 30 days on */
    int long_enough = m->years >= 30 / 365.25;
    m->cagr = long_enough && eq[0] > 0 && eq[n - 1] > 0 ? pow(eq[n - 1] / eq[0], 1 / m->years) - 1 : NAN;
    double pc0 = bars[res->start].c, pc1 = bars[res->end].c;
    m->bh_return = pc1 / pc0 - 1;
    m->bh_cagr = long_enough ? pow(pc1 / pc0, 1 / m->years) - 1 : NAN;

    /* drawdown: the deepest fall from a running peak, and when it was made good */
    double peak = eq[0], worst = 0;
    size_t peak_k = 0, worst_peak = 0, worst_trough = 0;
    for (size_t k = 0; k < n; k++) {
        if (eq[k] > peak) { peak = eq[k]; peak_k = k; }
        double dd = peak > 0 ? (peak - eq[k]) / peak : 0;
        if (dd > worst) { worst = dd; worst_peak = peak_k; worst_trough = k; }
    }
    m->max_drawdown = worst;
    if (worst > 0) {
        m->dd_peak_t = bars[res->start + worst_peak].t;
        m->dd_trough_t = bars[res->start + worst_trough].t;
        for (size_t k = worst_trough; k < n; k++)
            if (eq[k] >= eq[worst_peak]) { m->dd_recovered_t = bars[res->start + k].t; break; }
    }

    /* Sharpe and Sortino of per-bar returns, risk-free 0, annualized by bars per year */
    double sum = 0, sumsq = 0, down = 0;
    size_t nr = n - 1;
    for (size_t k = 1; k < n; k++) {
        double r = eq[k - 1] > 0 ? eq[k] / eq[k - 1] - 1 : 0;
        sum += r;
        if (r < 0) down += r * r;
    }
    double mean = nr ? sum / (double)nr : 0;
    for (size_t k = 1; k < n; k++) {
        double r = eq[k - 1] > 0 ? eq[k] / eq[k - 1] - 1 : 0;
        sumsq += (r - mean) * (r - mean);
    }
    double per_year = BT_MINUTES_PER_YEAR / res->interval;
    double sd = nr > 1 ? sqrt(sumsq / (double)(nr - 1)) : 0;
    double dsd = nr ? sqrt(down / (double)nr) : 0;
    m->sharpe = sd > 1e-15 ? mean / sd * sqrt(per_year) : NAN;
    m->sortino = dsd > 1e-15 ? mean / dsd * sqrt(per_year) : NAN;

    m->time_in_market = (double)res->in_market / (double)n;
    m->exposure_avg = res->exposure_sum / (double)n;
    m->exposure_max = res->exposure_max;

    /* round trips: from flat (under ordermin) to a position and back to flat */
    int open = 0;
    double trip = 0, prev_pos = 0;
    for (size_t i = 0; i < res->nfills; i++) {
        const backtest_fill *f = &res->fills[i];
        m->fills++;
        m->fees += f->fee;
        if (f->side == SIDE_BUY) {
            m->buys++;
            if (!open && prev_pos < ordermin && f->position_after >= ordermin) { open = 1; trip = 0; }
        } else {
            m->sells++;
            trip += f->realized_pnl;
            if (open && f->position_after < ordermin) {
                open = 0;
                m->round_trips++;
                if (trip > 0) { m->wins++; m->gross_profit += trip; }
                else if (trip < 0) { m->losses++; m->gross_loss += -trip; }   /* breakeven: neither */
            }
        }
        prev_pos = f->position_after;
    }
    m->open_at_end = open;
    m->win_rate = m->round_trips ? (double)m->wins / (double)m->round_trips : NAN;
    m->profit_factor = m->gross_loss > 0 ? m->gross_profit / m->gross_loss : NAN;
}

/* ---- outputs ----------------------------------------------------------------------------------- */

/* Keys are written in sorted order at every level (jsonw checks it; so does the test). */
int backtest_write_json(const backtest_result *res, const backtest_options *opt, const char *path, char *err,
                        size_t errlen)
{
    const backtest_metrics *m = &res->m;
    const csvdata *d = &res->data;
    strbuf b = {0};
    jsonw w = {.out = &b};
    jsonw_object(&w, NULL);
    jsonw_object(&w, "config");
    jsonw_object(&w, "caps");
    jsonw_number(&w, "max_daily_loss_quote", res->caps.max_daily_loss_quote);
    jsonw_number(&w, "max_order_quote", res->caps.max_order_quote);
    jsonw_number(&w, "max_orders_per_cycle", res->caps.max_orders_per_cycle);
    jsonw_number(&w, "max_position_quote", res->caps.max_position_quote);
    jsonw_end(&w);
    jsonw_number(&w, "cash", opt->paper.starting_cash);
    jsonw_number(&w, "fee_bps", opt->paper.fee_rate * 10000);
    jsonw_time(&w, "from", opt->from_ms / 1000);
    jsonw_object(&w, "params");                         /* --set */
    size_t order[BACKTEST_MAX_SET];
    param_settings_order(opt->params, opt->nparams < BACKTEST_MAX_SET ? opt->nparams : BACKTEST_MAX_SET, order);
    for (size_t i = 0; i < opt->nparams && i < BACKTEST_MAX_SET; i++)
        jsonw_string(&w, opt->params[order[i]].name, opt->params[order[i]].value.text);
    jsonw_end(&w);
    jsonw_object(&w, "rules");
    jsonw_number(&w, "costmin", opt->rules.costmin);
    jsonw_number(&w, "lot_decimals", opt->rules.lot_decimals);
    jsonw_number(&w, "ordermin", opt->rules.ordermin);
    jsonw_number(&w, "pair_decimals", opt->rules.pair_decimals);
    jsonw_number(&w, "tick_size", opt->rules.tick_size);
    jsonw_end(&w);
    jsonw_number(&w, "slippage_bps", opt->paper.slippage_rate * 10000);
    jsonw_time(&w, "to", opt->to_ms / 1000);
    jsonw_end(&w);
    jsonw_object(&w, "data");
    jsonw_number(&w, "bars", (double)d->count);
    jsonw_string(&w, "file", opt->data_path);
    jsonw_time(&w, "first", d->bars[0].t);
    jsonw_string(&w, "format", d->headered ? "headered" : "kraken_ohlcvt");
    jsonw_number(&w, "gaps", (double)d->gaps);
    jsonw_number(&w, "interval_min", d->interval_min);
    if (d->gaps) {
        jsonw_object(&w, "largest_gap");
        jsonw_time(&w, "from", d->largest_gap_from);
        jsonw_time(&w, "to", d->largest_gap_to);
        jsonw_end(&w);
    } else {
        jsonw_null(&w, "largest_gap");
    }
    jsonw_time(&w, "last", d->bars[d->count - 1].t);
    jsonw_number(&w, "missing_bars", (double)d->missing);
    jsonw_number(&w, "resampled_from_min", res->resampled_from ? res->resampled_from : NAN);
    jsonw_end(&w);
    jsonw_object(&w, "intents");
    jsonw_number(&w, "accepted", res->intents[INTENT_ACCEPTED]);
    jsonw_number(&w, "rejected", res->intents[INTENT_REJECTED]);
    jsonw_object(&w, "rejected_by");
    for (int r = 0; r < RISK_REJECT_COUNT; r++) jsonw_number(&w, risk_reject_names[r], res->rejected_by[r]);
    jsonw_end(&w);
    jsonw_number(&w, "resized", res->intents[INTENT_RESIZED]);
    jsonw_end(&w);
    jsonw_object(&w, "metrics");
    jsonw_number(&w, "buy_and_hold_cagr", m->bh_cagr);
    jsonw_number(&w, "buy_and_hold_return", m->bh_return);
    jsonw_number(&w, "buys", (double)m->buys);
    jsonw_number(&w, "cagr", m->cagr);
    jsonw_number(&w, "exposure_avg", m->exposure_avg);
    jsonw_number(&w, "exposure_max", m->exposure_max);
    jsonw_number(&w, "fees", m->fees);
    jsonw_number(&w, "fills", (double)m->fills);
    jsonw_number(&w, "final_equity", m->final_equity);
    jsonw_number(&w, "gross_loss", m->gross_loss);
    jsonw_number(&w, "gross_profit", m->gross_profit);
    jsonw_number(&w, "losses", (double)m->losses);
    jsonw_number(&w, "max_drawdown", m->max_drawdown);
    jsonw_time(&w, "max_drawdown_peak", m->dd_peak_t);
    jsonw_time(&w, "max_drawdown_recovered", m->dd_recovered_t);
    jsonw_time(&w, "max_drawdown_trough", m->dd_trough_t);
    jsonw_bool(&w, "open_at_end", m->open_at_end);
    jsonw_number(&w, "profit_factor", m->profit_factor);
    jsonw_number(&w, "round_trips", (double)m->round_trips);
    jsonw_number(&w, "sells", (double)m->sells);
    jsonw_number(&w, "sharpe", m->sharpe);
    jsonw_number(&w, "sortino", m->sortino);
    jsonw_number(&w, "start_equity", m->start_equity);
    jsonw_number(&w, "time_in_market", m->time_in_market);
    jsonw_number(&w, "total_return", m->total_return);
    jsonw_number(&w, "win_rate", m->win_rate);
    jsonw_number(&w, "wins", (double)m->wins);
    jsonw_number(&w, "years", m->years);
    jsonw_end(&w);
    jsonw_object(&w, "orders");
    jsonw_number(&w, "filled", (double)res->nfills);
    jsonw_number(&w, "limit_unfilled", (double)res->limit_unfilled);
    jsonw_number(&w, "refused", (double)res->refused);
    jsonw_end(&w);
    jsonw_object(&w, "period");
    jsonw_number(&w, "bars", (double)(res->end - res->start + 1));
    jsonw_time(&w, "first", d->bars[res->start].t);
    jsonw_time(&w, "last", d->bars[res->end].t);
    jsonw_end(&w);
    jsonw_object(&w, "strategy");
    jsonw_string(&w, "file", opt->strategy_path);
    jsonw_number(&w, "interval", res->interval);
    jsonw_string(&w, "name", res->strategy);
    jsonw_number(&w, "own_interval", res->own_interval);
    jsonw_string(&w, "pair", res->pair);
    jsonw_end(&w);
    jsonw_string(&w, "version", BT_JSON_VERSION);
    jsonw_end(&w);
    strbuf_puts(&b, "\n");
    int rc = -1;
    if (b.oom) snprintf(err, errlen, "out of memory");
    else if (w.unsorted) snprintf(err, errlen, "internal error: JSON keys out of order");
    else rc = jsonw_write_file(path, b.data, b.len, err, errlen);
    strbuf_free(&b);
    return rc;
}

static void bt_csv_string(strbuf *b, const char *s)
{
    strbuf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"') strbuf_puts(b, "\"\"");
        else if (*s == '\n' || *s == '\r') strbuf_puts(b, " ");
        else strbuf_append(b, s, 1);
    }
    strbuf_puts(b, "\"");
}

int backtest_write_trades(const backtest_result *res, const char *path, char *err, size_t errlen)
{
    strbuf b = {0};
    strbuf_puts(&b, "time,side,type,price,volume,cost,fee,realized_pnl,cash_after,position_after,decided_at,reason\n");
    for (size_t i = 0; i < res->nfills; i++) {
        const backtest_fill *f = &res->fills[i];
        char t[CLOCK_ISO_SIZE], dt[CLOCK_ISO_SIZE];
        strbuf_printf(&b, "%s,%s,%s,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%s,", clock_iso(f->t * 1000, t),
                      intent_side_name(f->side), intent_type_name(f->type), f->price, f->volume, f->cost, f->fee,
                      f->realized_pnl, f->cash_after, f->position_after, clock_iso(f->decided_t * 1000, dt));
        bt_csv_string(&b, f->reason);
        strbuf_puts(&b, "\n");
    }
    int rc = b.oom ? (snprintf(err, errlen, "out of memory"), -1) : jsonw_write_file(path, b.data, b.len, err, errlen);
    strbuf_free(&b);
    return rc;
}

static void bt_pct(char *out, size_t len, double v)
{
    if (fabs(v) < 5e-7) v = 0;                          /* no "-0.00%" */
    if (!isfinite(v)) snprintf(out, len, "n/a");
    else snprintf(out, len, "%+.2f%%", v * 100);
}

static void bt_ratio(char *out, size_t len, double v)
{
    if (!isfinite(v)) snprintf(out, len, "n/a");
    else snprintf(out, len, "%.2f", v);
}

void backtest_print_summary(FILE *out, const backtest_result *res, const backtest_options *opt)
{
    const backtest_metrics *m = &res->m;
    const csvdata *d = &res->data;
    char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE], x[64], y[64];
    console_printf(out, "backtest  %s (%s) on %s, %d-minute bars\n", res->strategy, opt->strategy_path, res->pair,
                   res->interval);
    console_printf(out, "data      %s: %zu bars (%s%s), %.16s .. %.16s\n", opt->data_path, d->count,
                   d->headered ? "headered CSV" : "Kraken OHLCVT", d->millis ? ", times in ms" : "",
                   clock_iso(d->bars[0].t * 1000, a), clock_iso(d->bars[d->count - 1].t * 1000, z));
    if (res->interval != res->own_interval)
        console_printf(out, "warning   %s is written for %d-minute bars; it runs on %d-minute bars (--interval %d): "
                            "periods counted in bars now span %.4gx the time\n",
                       res->strategy, res->own_interval, res->interval, res->interval,
                       (double)res->interval / res->own_interval);
    if (res->resampled_from)
        console_printf(out, "          resampled from %d-minute bars to %d-minute bars\n", res->resampled_from,
                       res->interval);
    if (d->gaps)
        console_printf(out, "gaps      %zu (%zu missing bars); largest %.16s -> %.16s\n", d->gaps, d->missing,
                       clock_iso(d->largest_gap_from * 1000, a), clock_iso(d->largest_gap_to * 1000, z));
    else
        console_printf(out, "gaps      none\n");
    console_printf(out, "period    %.16s .. %.16s, %zu bars (%.2f years)\n", clock_iso(d->bars[res->start].t * 1000, a),
                   clock_iso(d->bars[res->end].t * 1000, z), res->end - res->start + 1, m->years);
    console_printf(out, "broker    cash %.2f %s, fee %.4g bps, slippage %.4g bps; pair rules: ordermin %.10g, costmin "
                           "%.10g, lot %d decimals, tick %.10g\n",
                   opt->paper.starting_cash, res->quote, opt->paper.fee_rate * 10000, opt->paper.slippage_rate * 10000,
                   opt->rules.ordermin, opt->rules.costmin, opt->rules.lot_decimals,
                   opt->rules.tick_size > 0 ? opt->rules.tick_size : pow(10, -opt->rules.pair_decimals));
    console_printf(out, "caps      max_order_quote %.10g, max_position_quote %.10g, max_orders_per_cycle %.0f, "
                           "max_daily_loss_quote %.10g\n\n",
                   res->caps.max_order_quote, res->caps.max_position_quote, res->caps.max_orders_per_cycle,
                   res->caps.max_daily_loss_quote);
    console_printf(out, "%-18s %16s %16s\n", "", "strategy", "buy & hold");
    bt_pct(x, sizeof x, m->total_return);
    bt_pct(y, sizeof y, m->bh_return);
    console_printf(out, "%-18s %16s %16s\n", "total return", x, y);
    bt_pct(x, sizeof x, m->cagr);
    bt_pct(y, sizeof y, m->bh_cagr);
    console_printf(out, "%-18s %16s %16s\n", "CAGR", x, y);
    console_printf(out, "%-18s %16.2f %16.2f\n", "final equity", m->final_equity,
                   m->start_equity * (1 + m->bh_return));
    bt_pct(x, sizeof x, -m->max_drawdown);
    if (m->max_drawdown > 0)
        console_printf(out, "%-18s %16s   peak %.10s, trough %.10s, %s%.10s\n", "max drawdown", x,
                       clock_iso(m->dd_peak_t * 1000, a), clock_iso(m->dd_trough_t * 1000, z),
                       m->dd_recovered_t ? "recovered " : "not recovered",
                       m->dd_recovered_t ? clock_iso(m->dd_recovered_t * 1000, a) : "");
    else
        console_printf(out, "%-18s %16s\n", "max drawdown", x);
    bt_ratio(x, sizeof x, m->sharpe);
    console_printf(out, "%-18s %16s\n", "Sharpe", x);
    bt_ratio(x, sizeof x, m->sortino);
    console_printf(out, "%-18s %16s\n", "Sortino", x);
    bt_pct(x, sizeof x, m->win_rate);
    console_printf(out, "%-18s %16s   %zu won, %zu lost of %zu round trips%s\n", "win rate", x + (x[0] == '+'),
                   m->wins, m->losses, m->round_trips, m->open_at_end ? " (+1 still open)" : "");
    bt_ratio(x, sizeof x, m->profit_factor);
    console_printf(out, "%-18s %16s\n", "profit factor", x);
    console_printf(out, "%-18s %16zu   %zu buys, %zu sells\n", "fills", m->fills, m->buys, m->sells);
    console_printf(out, "%-18s %16.2f\n", "fees paid", m->fees);
    bt_pct(x, sizeof x, m->time_in_market);
    bt_pct(y, sizeof y, m->exposure_avg);
    char z2[64];
    bt_pct(z2, sizeof z2, m->exposure_max);
    console_printf(out, "%-18s %16s   exposure %s average, %s at most (position value / equity)\n", "time in market",
                   x + (x[0] == '+'), y + (y[0] == '+'), z2 + (z2[0] == '+'));
    console_printf(out, "%-18s %16s   %d accepted, %d resized, %d rejected; %zu limit unfilled, %zu refused at fill\n",
                   "intents", "", res->intents[INTENT_ACCEPTED], res->intents[INTENT_RESIZED],
                   res->intents[INTENT_REJECTED], res->limit_unfilled, res->refused);
    if (res->intents[INTENT_REJECTED]) {
        strbuf why = {0};
        for (int r = 0; r < RISK_REJECT_COUNT; r++)
            if (res->rejected_by[r]) strbuf_printf(&why, "%s%s %d", why.len ? ", " : "", risk_reject_names[r], res->rejected_by[r]);
        console_printf(out, "%-18s %16s   %s\n", "rejected by", "", strbuf_cstr(&why));
        strbuf_free(&why);
    }
    double bars = (double)(res->end - res->start + 1);
    if (res->seconds >= 0.005)
        console_printf(out, "%-18s %16.3f s   %.0f bars/s\n", "engine time", res->seconds, bars / res->seconds);
    else
        console_printf(out, "%-18s %16.3f s\n", "engine time", res->seconds);
}
