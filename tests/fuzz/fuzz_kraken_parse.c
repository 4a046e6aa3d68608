/* Fuzz target: Kraken's typed parsers (host/kraken_parse.c), every kraken_parse_* entry point on
 * the same body. Input: byte 0 picks the pair name asked for and the OHLC candle count, the rest
 * is the body answered with HTTP 200. Beyond not crashing or raising: a failure always says why
 * (outcome set, out struct empty), a success holds only finite numbers within their documented
 * ranges and NUL-terminated strings, and the entry chosen for a pair is the one Kraken's rules
 * name (checked against an independent decode of the same bytes). */
#include <math.h>
#include <string.h>

#include "bindings.h"
#include "fuzz.h"
#include "kraken_parse.h"

/* names a caller may ask for: Kraken's altname, its key, its wsname, another pair, odd lengths */
static const char *const fuzz_pairs[] = {
    "XBTUSD", "XXBTZUSD", "XBT/USD", "LTCUSDT", "", "last",
    "P23456789012345678901234567890123456789012345678901234567890123",   /* 63 bytes: fits */
    "P234567890123456789012345678901234567890123456789012345678901234",  /* 64 bytes: does not */
};
static const int fuzz_counts[] = {0, 1, 2, 5, 720};

#define FUZZ_TERMINATED(field) FUZZ_CHECK(memchr((field), '\0', sizeof(field)) != NULL, #field " NUL-terminated")
#define FUZZ_POISON(s) memset(&(s), 0xA5, sizeof(s))   /* a parser that forgets a field shows it */

typedef struct {
    const char *body;       /* NUL-terminated copy of the body */
    size_t len;
    const char *pair;
    int count;
    int envelope_clean;     /* the envelope parsed with no error (so only the result can be odd) */
} fuzz_input;

/* The outcome after a call that returned rc. */
static void fuzz_check_answer(int rc, const kraken_answer *a)
{
    FUZZ_TERMINATED(a->outcome.message);
    FUZZ_CHECK(a->n_texts <= KRAKEN_TEXTS_MAX, "texts kept within the cap");
    for (size_t i = 0; i < a->n_texts; i++) FUZZ_CHECK(a->texts[i] != NULL, "each kept text exists");
    if (rc == 0) {
        FUZZ_CHECK(a->outcome.code == NULL, "success has no code");
        return;
    }
    FUZZ_CHECK(rc == -1, "failure is -1");
    FUZZ_CHECK(a->outcome.code && (strncmp(a->outcome.code, "kraken.", 7) == 0), "failure has a kraken.* code");
    FUZZ_CHECK(a->outcome.message[0], "failure says why");
}

static int fuzz_finite_or_nan(double v) { return !isinf(v); }

/* ---- the independent view: the decoded body, in the fuzz Lua state ----------------------------- */

/* Pushes doc.result (nil when the body is not an object with a result). */
static void fuzz_push_result(lua_State *L, const fuzz_input *in)
{
    if (!bindings_json_decode(L, in->body, in->len)) {
        lua_pushnil(L);
        return;
    }
    if (lua_istable(L, -1)) {
        lua_pushliteral(L, "result");
        lua_rawget(L, -2);
    } else {
        lua_pushnil(L);
    }
    lua_remove(L, -2);
}

/* 1 when the table at idx has a string field `key` equal to s. */
static int fuzz_field_is(lua_State *L, int idx, const char *key, const char *s)
{
    lua_pushstring(L, key);
    lua_rawget(L, idx);
    size_t len;
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    int same = v && len == strlen(s) && memcmp(v, s, len) == 0;
    lua_pop(L, 1);
    return same;
}

/* Kraken's rules for which entry of a result answers `pair` (kraken_parse.c kp_resolve_pair): the
 * entry keyed by the name itself, else one whose altname or wsname is the name, else the only
 * entry. The key the parser chose must obey them. */
static int fuzz_pair_rules(lua_State *L)
{
    const fuzz_input *in = lua_touserdata(L, 1);
    const char *key = lua_touserdata(L, 2);
    lua_settop(L, 0);
    fuzz_push_result(L, in);
    int result = lua_gettop(L);
    FUZZ_CHECK(lua_istable(L, result), "a pair was resolved, so the result is an object");
    lua_pushstring(L, key);
    FUZZ_CHECK(lua_rawget(L, result) == LUA_TTABLE, "the chosen key names an object entry of the result");
    int chosen = lua_gettop(L);
    int fits = strlen(in->pair) < KRAKEN_ID_SIZE;
    lua_pushstring(L, in->pair);
    int exact = fits && lua_rawget(L, result) == LUA_TTABLE;
    lua_pop(L, 1);
    int entries = 0, named = 0;
    lua_pushnil(L);
    while (lua_next(L, result)) {                      /* [ k, v ] */
        if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1) && strcmp(lua_tostring(L, -2), "last") != 0) {
            entries++;
            named += fuzz_field_is(L, lua_gettop(L), "altname", in->pair) ||
                     fuzz_field_is(L, lua_gettop(L), "wsname", in->pair);
        }
        lua_pop(L, 1);
    }
    int chosen_named = fuzz_field_is(L, chosen, "altname", in->pair) || fuzz_field_is(L, chosen, "wsname", in->pair);
    if (exact) FUZZ_CHECK(strcmp(key, in->pair) == 0, "the entry keyed by the name asked for wins");
    else if (fits && named) FUZZ_CHECK(chosen_named, "an entry named so (altname, wsname) wins over the only entry");
    else FUZZ_CHECK(chosen_named || entries == 1, "otherwise only the single entry may answer");
    FUZZ_CHECK(strcmp(key, "last") != 0, "'last' is never a pair");
    return 0;
}

static void fuzz_check_pair_key(const fuzz_input *in, const char *key)
{
    FUZZ_CHECK(key[0] != '\0', "a resolved pair has a key");
    lua_State *L = fuzz_lua();
    lua_pushcfunction(L, fuzz_pair_rules);
    lua_pushlightuserdata(L, (void *)in);
    lua_pushlightuserdata(L, (void *)key);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        fprintf(stderr, "fuzz: raised: %s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
        abort();
    }
    lua_settop(L, 0);
}

/* ---- one parser each ------------------------------------------------------------------------ */

static void fuzz_asset_pair(const fuzz_input *in)
{
    kraken_pair_info p;
    kraken_answer a;
    FUZZ_POISON(p);
    int rc = kraken_parse_asset_pair(in->body, in->len, in->pair, &p, &a);
    fuzz_check_answer(rc, &a);
    kraken_answer_free(&a);
    if (rc != 0) {
        FUZZ_CHECK(p.pair_key[0] == '\0', "a failure leaves the pair info empty");
        return;
    }
    FUZZ_TERMINATED(p.pair_key); FUZZ_TERMINATED(p.altname); FUZZ_TERMINATED(p.wsname);
    FUZZ_TERMINATED(p.base); FUZZ_TERMINATED(p.quote); FUZZ_TERMINATED(p.status);
    FUZZ_CHECK(p.pair_decimals >= 0 && p.pair_decimals <= 18 && p.lot_decimals >= 0 && p.lot_decimals <= 18,
               "decimals 0..18");
    FUZZ_CHECK(p.cost_decimals >= -1 && p.cost_decimals <= 18, "cost_decimals -1 (absent) or 0..18");
    FUZZ_CHECK(isfinite(p.ordermin) && p.ordermin >= 0, "ordermin finite, >= 0");
    FUZZ_CHECK(isfinite(p.costmin) && (p.costmin == -1 || p.costmin >= 0), "costmin -1 (absent) or >= 0");
    FUZZ_CHECK(isfinite(p.tick_size) && (p.tick_size == -1 || p.tick_size >= 0), "tick_size -1 (absent) or >= 0");
    fuzz_check_pair_key(in, p.pair_key);
}

static void fuzz_ticker(const fuzz_input *in)
{
    kraken_ticker_info t;
    kraken_answer a;
    FUZZ_POISON(t);
    int rc = kraken_parse_ticker(in->body, in->len, in->pair, &t, &a);
    fuzz_check_answer(rc, &a);
    kraken_answer_free(&a);
    if (rc != 0) {
        FUZZ_CHECK(t.pair_key[0] == '\0', "a failure leaves the ticker empty");
        return;
    }
    FUZZ_TERMINATED(t.pair_key);
    FUZZ_CHECK(t.has[KRAKEN_TICKER_ASK] && t.has[KRAKEN_TICKER_BID] && t.has[KRAKEN_TICKER_LAST], "ask, bid, last");
    FUZZ_CHECK(t.value[KRAKEN_TICKER_ASK] > 0 && t.value[KRAKEN_TICKER_BID] > 0 && t.value[KRAKEN_TICKER_LAST] > 0,
               "ask, bid, last > 0");
    for (int i = 0; i < KRAKEN_TICKER_FIELDS; i++) {
        FUZZ_CHECK(t.has[i] <= 1, "has is 0 or 1");
        if (t.has[i]) FUZZ_CHECK(isfinite(t.value[i]), "a ticker value is finite");
        else FUZZ_CHECK(t.value[i] == 0, "a field not sent reads 0");
    }
    fuzz_check_pair_key(in, t.pair_key);
}

static void fuzz_balance(const fuzz_input *in)
{
    kraken_balances b;
    kraken_answer a;
    FUZZ_POISON(b);
    int rc = kraken_parse_balance(in->body, in->len, &b, &a);
    fuzz_check_answer(rc, &a);
    kraken_answer_free(&a);
    if (rc != 0) {
        FUZZ_CHECK(b.items == NULL && b.n == 0, "a failure keeps no balance");
        return;
    }
    for (size_t i = 0; i < b.n; i++) {
        FUZZ_TERMINATED(b.items[i].asset);
        FUZZ_TERMINATED(b.items[i].raw);
        FUZZ_CHECK(b.items[i].asset[0], "an asset has a name");
        FUZZ_CHECK(isfinite(b.items[i].amount), "an amount is finite");
        FUZZ_CHECK(kraken_balance_find(&b, b.items[i].asset) == &b.items[i], "asset names are unique");
    }
    kraken_balances_free(&b);
}

static void fuzz_orders(const fuzz_input *in, const char *list_key)
{
    kraken_orders o;
    kraken_answer a;
    FUZZ_POISON(o);
    int rc = kraken_parse_orders(in->body, in->len, list_key, &o, &a);
    fuzz_check_answer(rc, &a);
    kraken_answer_free(&a);
    if (rc != 0) {
        FUZZ_CHECK(o.items == NULL && o.n == 0, "a failure keeps no order");
        return;
    }
    for (size_t i = 0; i < o.n; i++) {
        const kraken_order *k = &o.items[i];
        FUZZ_TERMINATED(k->txid); FUZZ_TERMINATED(k->cl_ord_id); FUZZ_TERMINATED(k->status);
        FUZZ_TERMINATED(k->side); FUZZ_TERMINATED(k->ordertype); FUZZ_TERMINATED(k->pair);
        FUZZ_CHECK(k->status[0], "an order has a status");
        double numbers[] = {k->vol, k->vol_exec, k->cost, k->fee, k->avg_price, k->limit_price, k->opentm};
        for (size_t j = 0; j < sizeof numbers / sizeof numbers[0]; j++)
            FUZZ_CHECK(fuzz_finite_or_nan(numbers[j]), "an order number is finite or NaN (not sent)");
        if (k->cl_ord_id[0]) FUZZ_CHECK(kraken_orders_find(&o, k->cl_ord_id) != NULL, "found by its cl_ord_id");
    }
    kraken_orders_free(&o);
}

static void fuzz_placed(const fuzz_input *in)
{
    kraken_placed p;
    kraken_answer a;
    FUZZ_POISON(p);
    int rc = kraken_parse_placed(in->body, in->len, &p, &a);
    fuzz_check_answer(rc, &a);
    if (rc == 0) {
        FUZZ_TERMINATED(p.txid); FUZZ_TERMINATED(p.description);
        FUZZ_CHECK(p.txid[0], "a placed order has a txid");
    } else {
        FUZZ_CHECK(p.txid[0] == '\0', "a failure has no txid");
        /* After a send, an answer that is not a refusal never proves the order is not booked. */
        if (in->envelope_clean) FUZZ_CHECK(a.outcome.sent && !a.outcome.retryable, "an odd AddOrder result is in doubt");
    }
    kraken_answer_free(&a);
}

static void fuzz_validated(const fuzz_input *in)
{
    kraken_placed p;
    kraken_answer a;
    FUZZ_POISON(p);
    int rc = kraken_parse_validated(in->body, in->len, &p, &a);
    fuzz_check_answer(rc, &a);
    kraken_answer_free(&a);
    FUZZ_TERMINATED(p.txid);
    FUZZ_TERMINATED(p.description);
    FUZZ_CHECK(p.txid[0] == '\0', "a validation places nothing");
}

static void fuzz_ohlc(const fuzz_input *in)
{
    kraken_candles c;
    kraken_answer a;
    FUZZ_POISON(c);
    int rc = kraken_parse_ohlc(in->body, in->len, in->pair, in->count, &c, &a);
    fuzz_check_answer(rc, &a);
    kraken_answer_free(&a);
    if (rc != 0) {
        FUZZ_CHECK(c.items == NULL && c.n == 0, "a failure keeps no candle");
        return;
    }
    FUZZ_TERMINATED(c.pair_key);
    FUZZ_CHECK(in->count == 0 || c.n <= (size_t)in->count, "no more candles than asked for");
    FUZZ_CHECK(c.n == 0 || c.items != NULL, "candles are there");
    for (size_t i = 0; i < c.n; i++) {
        const kraken_candle *k = &c.items[i];
        FUZZ_CHECK(isfinite(k->o) && isfinite(k->h) && isfinite(k->l) && isfinite(k->c) && isfinite(k->vwap) &&
                       isfinite(k->v), "candle numbers are finite");
        FUZZ_CHECK(k->o > 0 && k->h > 0 && k->l > 0 && k->c > 0 && k->vwap >= 0 && k->v >= 0 && k->n >= 0,
                   "prices positive, volume and trades not negative");
        FUZZ_CHECK(k->l <= k->o && k->l <= k->c && k->h >= k->o && k->h >= k->c, "open and close within low..high");
        if (i > 0) FUZZ_CHECK(k->t > c.items[i - 1].t, "candles in time order");
    }
    fuzz_check_pair_key(in, c.pair_key);
    kraken_candles_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    fuzz_input in = {
        .len = size - 1,
        .pair = fuzz_pairs[data[0] % (sizeof fuzz_pairs / sizeof fuzz_pairs[0])],
        .count = fuzz_counts[(data[0] / 8) % (sizeof fuzz_counts / sizeof fuzz_counts[0])],
    };
    char *body = malloc(in.len + 1);
    FUZZ_CHECK(body != NULL, "out of memory");
    memcpy(body, data + 1, in.len);
    body[in.len] = '\0';
    in.body = body;

    kraken_answer a;
    int rc = kraken_parse_envelope(in.body, in.len, 1, &a);
    fuzz_check_answer(rc, &a);
    in.envelope_clean = rc == 0;
    kraken_answer_free(&a);

    fuzz_asset_pair(&in);
    fuzz_ticker(&in);
    fuzz_balance(&in);
    fuzz_orders(&in, "open");
    fuzz_orders(&in, "closed");
    fuzz_orders(&in, NULL);
    fuzz_placed(&in);
    fuzz_validated(&in);
    fuzz_ohlc(&in);
    free(body);
    return 0;
}
