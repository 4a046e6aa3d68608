/* PostgREST answers, read through the host's one JSON parser (lua-cjson, bindings_json_decode) in
 * a private Lua state with a memory cap, then copied into the store's C structs. Nothing here
 * raises: a malformed or wrong-shape answer is refused whole, with the reason. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "bindings.h"
#include "clock.h"
#include "store_impl.h"

/* The private state's stack while an answer is read: [1] the decoded answer, [2] the object
 * whose members the readers copy (a row of it, or the answer itself). */
struct store_json {
    lua_State *L;
    size_t used, limit; /* bytes the state holds, and its cap */
    size_t row;         /* 1-based row being read; 0 = the answer is one object */
    char *why;          /* the caller's buffer for the reason of a refusal */
    size_t whylen;
};

typedef enum {
    STORE_JSON_REQUIRED, /* present and not null */
    STORE_JSON_NULLABLE, /* present, may be null: every selected column is in every PostgREST row */
    STORE_JSON_OPTIONAL, /* may be absent or null */
} store_json_need;

static void *store_json_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    store_json *j = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        j->used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > j->limit - j->used) return NULL; /* Lua raises "not enough memory" */
    void *p = realloc(ptr, nsize);
    if (p) j->used = j->used - old + nsize;
    return p;
}

static int store_json_fail(store_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int store_json_fail(store_json *j, const char *fmt, ...)
{
    if (!j->why || !j->whylen) return -1;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (j->row) snprintf(j->why, j->whylen, "row %zu: %s", j->row, msg);
    else snprintf(j->why, j->whylen, "%s", msg);
    return -1;
}

typedef struct {
    const char *text;
    size_t len;
    int decoded;
    char why[200];
} store_json_decoding;

static int store_json_decode_protected(lua_State *L)
{
    store_json_decoding *d = lua_touserdata(L, 1);
    d->decoded = bindings_json_decode_why(L, d->text, d->len, d->why, sizeof d->why);
    return d->decoded; /* the value, or nothing */
}

/* Decodes text and pushes its value (0), or pushes nothing (-1, reason in why). Out of memory
 * is a refusal like any other: the decode runs inside a protected call. */
static int store_json_decode(store_json *j, const char *what, const char *text, size_t len)
{
    lua_State *L = j->L;
    store_json_decoding d = {.text = text ? text : "", .len = text ? len : 0};
    if (!lua_checkstack(L, 3)) return store_json_fail(j, "%s: out of memory", what);
    lua_pushcfunction(L, store_json_decode_protected);
    lua_pushlightuserdata(L, &d);
    int rc = lua_pcall(L, 1, 1, 0);
    if (rc == LUA_OK && d.decoded) return 0;
    lua_pop(L, 1);
    if (rc == LUA_ERRMEM)
        return store_json_fail(j, "%s needs more than %zu KiB to decode", what, j->limit >> 10);
    return store_json_fail(j, "%s is not JSON (%s)", what, rc == LUA_OK ? d.why : "the decoder failed");
}

store_json *store_json_open(size_t mem_limit)
{
    store_json *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->limit = mem_limit ? mem_limit : STORE_JSON_MEM_LIMIT;
    j->L = lua_newstate(store_json_alloc, j);
    /* load the decoder now, so a later failure can only be the answer's */
    if (!j->L || store_json_decode(j, "", "0", 1) != 0) {
        store_json_close(j);
        return NULL;
    }
    lua_settop(j->L, 0);
    return j;
}

void store_json_close(store_json *j)
{
    if (!j) return;
    if (j->L) lua_close(j->L);
    free(j);
}

int store_json_valid(const char *text, size_t len)
{
    store_json *j = store_json_open(0);
    int ok = j && store_json_decode(j, "", text, len) == 0;
    store_json_close(j);
    return ok;
}

/* Starts reading an answer: problems go to why; the previous answer is dropped. */
static void store_json_begin(store_json *j, char *why, size_t whylen)
{
    j->why = why, j->whylen = whylen, j->row = 0;
    if (why && whylen) why[0] = '\0';
    lua_settop(j->L, 0);
}

/* Drops the answer; a big one's memory is given back now rather than at the next answers. */
static int store_json_end(store_json *j, int rc)
{
    lua_settop(j->L, 0);
    if (j->used > ((size_t)4 << 20)) lua_gc(j->L, LUA_GCCOLLECT, 0);
    j->row = 0;
    return rc;
}

static size_t store_json_skip_ws(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')) i++;
    return i;
}

/* Decodes `[{...}, ...]` into [1] and counts its rows. cjson decodes [] and {} alike, so the
 * text itself must open with '['. More rows than max (0 = any) is a wrong answer too. */
static int store_json_load_rows(store_json *j, const char *body, size_t len, size_t max, size_t *count)
{
    *count = 0;
    if (store_json_decode(j, "the answer", body, len) != 0) return -1;
    size_t i = store_json_skip_ws(body, len);
    if (!lua_istable(j->L, 1) || i >= len || body[i] != '[') return store_json_fail(j, "the answer is not a JSON array of rows");
    size_t n = (size_t)lua_rawlen(j->L, 1);
    if (max && n > max) return store_json_fail(j, "the answer has %zu rows where at most %zu were asked for", n, max);
    for (size_t r = 1; r <= n; r++) {
        int type = lua_rawgeti(j->L, 1, (lua_Integer)r);
        lua_pop(j->L, 1);
        if (type != LUA_TTABLE) return store_json_fail(j, "row %zu is not an object", r);
    }
    *count = n;
    return 0;
}

/* Decodes `{...}` into [1] and makes it the object read ([2]). */
static int store_json_load_object(store_json *j, const char *body, size_t len)
{
    if (store_json_decode(j, "the answer", body, len) != 0) return -1;
    size_t i = store_json_skip_ws(body, len);
    if (!lua_istable(j->L, 1) || i >= len || body[i] != '{') return store_json_fail(j, "the answer is not a JSON object");
    lua_pushvalue(j->L, 1);
    return 0;
}

static void store_json_select_row(store_json *j, size_t row)
{
    lua_settop(j->L, 1);
    lua_rawgeti(j->L, 1, (lua_Integer)row);
    j->row = row;
}

/* Pushes member `key` of the object at [2] and returns its type, or LUA_TNONE (nothing pushed).
 * A walk with lua_next, not lua_getfield: it allocates nothing, so it cannot raise. */
static int store_json_find(store_json *j, const char *key)
{
    lua_State *L = j->L;
    size_t klen = strlen(key);
    lua_pushnil(L);
    while (lua_next(L, 2)) {                           /* [ ..., name, value ] */
        size_t nlen;
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *name = lua_tolstring(L, -2, &nlen);
            if (nlen == klen && memcmp(name, key, klen) == 0) {
                lua_remove(L, -2);                     /* [ ..., value ] */
                return lua_type(L, -1);
            }
        }
        lua_pop(L, 1);
    }
    return LUA_TNONE;
}

/* Pushes member `key`: 1; or 0 with nothing pushed when it is null or absent and `need` allows
 * that; or -1. JSON null is cjson.null, a light userdata. */
static int store_json_member(store_json *j, const char *key, store_json_need need)
{
    int type = store_json_find(j, key);
    if (type == LUA_TNONE) return need == STORE_JSON_OPTIONAL ? 0 : store_json_fail(j, "column '%s' is missing", key);
    if (type == LUA_TLIGHTUSERDATA) {
        lua_pop(j->L, 1);
        return need == STORE_JSON_REQUIRED ? store_json_fail(j, "column '%s' is null", key) : 0;
    }
    return 1;
}

/* A text column as a malloc'd C string (NULL for null). 0, or -1. */
static int store_json_text(store_json *j, const char *key, store_json_need need, char **out)
{
    *out = NULL;
    int r = store_json_member(j, key, need);
    if (r <= 0) return r;
    size_t len;
    const char *s = lua_type(j->L, -1) == LUA_TSTRING ? lua_tolstring(j->L, -1, &len) : NULL;
    if (!s) r = store_json_fail(j, "column '%s' is not a string", key);
    else if (memchr(s, '\0', len)) r = store_json_fail(j, "column '%s' holds a NUL character", key);
    else if (!(*out = strdup(s))) r = store_json_fail(j, "out of memory");
    else r = 0;
    lua_pop(j->L, 1);
    return r;
}

/* A json/jsonb column the query cast to text (`decision::text`): the JSON text exactly as
 * stored, checked to be JSON by the same decoder. */
static int store_json_json_text(store_json *j, const char *key, store_json_need need, char **out)
{
    if (store_json_text(j, key, need, out) != 0) return -1;
    if (!*out) return 0;
    char what[80];
    snprintf(what, sizeof what, "column '%s'", key);
    if (store_json_decode(j, what, *out, strlen(*out)) != 0) {
        free(*out), *out = NULL;
        return -1;
    }
    lua_pop(j->L, 1);
    return 0;
}

/* A number column: a JSON number, or a string holding one (numeric types some setups quote). */
static int store_json_number(store_json *j, const char *key, store_json_need need, double *out)
{
    *out = 0;
    int r = store_json_member(j, key, need);
    if (r <= 0) return r;
    if (lua_type(j->L, -1) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(j->L, -1, &len);
        if (store_json_decode(j, "", s, len) != 0) {
            lua_pop(j->L, 1);
            return store_json_fail(j, "column '%s' is not a number", key);
        }
        lua_remove(j->L, -2);                          /* [ ..., decoded ] */
    }
    r = lua_type(j->L, -1) == LUA_TNUMBER ? 0 : store_json_fail(j, "column '%s' is not a number", key);
    if (r == 0) *out = lua_tonumber(j->L, -1);         /* finite: the decoder refuses the rest */
    lua_pop(j->L, 1);
    return r;
}

/* An integer column (ids): exact in a double, so strictly within +-2^53 (2^53 + 1 reads as 2^53). */
static int store_json_int64(store_json *j, const char *key, store_json_need need, int64_t *out)
{
    double d;
    *out = 0;
    if (store_json_number(j, key, need, &d) != 0) return -1;
    if (!(d > -9007199254740992.0 && d < 9007199254740992.0) || d != (double)(int64_t)d)
        return store_json_fail(j, "column '%s' is not an integer", key);
    *out = (int64_t)d;
    return 0;
}

/* A timestamptz column: ISO-8601 UTC, null -> 0. */
static int store_json_time(store_json *j, const char *key, store_json_need need, int64_t *ms)
{
    char *s = NULL;
    *ms = 0;
    if (store_json_text(j, key, need, &s) != 0) return -1;
    int r = s && clock_parse_iso(s, ms) != 0 ? store_json_fail(j, "column '%s' is not an ISO time", key) : 0;
    free(s);
    return r;
}

/* Reads the object at [2] into *row (zeroed); what it allocated stays in the row for the rows'
 * free function. 0, or -1. */
typedef int (*store_json_row_reader)(store_json *j, void *row);

static int store_json_cycle(store_json *j, void *row)
{
    store_cycle *c = row;
    if (store_json_text(j, "cycle_id", STORE_JSON_REQUIRED, &c->cycle_id) ||
        store_json_text(j, "strategy", STORE_JSON_NULLABLE, &c->strategy) ||
        store_json_text(j, "mode", STORE_JSON_NULLABLE, &c->mode) ||
        store_json_text(j, "status", STORE_JSON_REQUIRED, &c->status) ||
        store_json_text(j, "holder", STORE_JSON_REQUIRED, &c->holder) ||
        store_json_time(j, "started_at", STORE_JSON_NULLABLE, &c->started_ms) ||
        store_json_time(j, "lease_until", STORE_JSON_NULLABLE, &c->lease_until_ms) ||
        store_json_time(j, "finished_at", STORE_JSON_NULLABLE, &c->finished_ms) ||
        store_json_json_text(j, "decision", STORE_JSON_NULLABLE, &c->decision_json) ||
        store_json_json_text(j, "orders", STORE_JSON_NULLABLE, &c->orders_json) ||
        store_json_text(j, "error", STORE_JSON_NULLABLE, &c->error) ||
        store_json_text(j, "host_version", STORE_JSON_NULLABLE, &c->host_version))
        return -1;
    /* the lock logic reads the status: one it does not know is not a guess it may make */
    if (!store_status_known(c->status)) return store_json_fail(j, "status '%.40s' is not a cycle status", c->status);
    return 0;
}

static void store_json_free_cycles(void *rows, size_t n) { store_cycles_free(rows, n); }

static int store_json_balance(store_json *j, void *row)
{
    store_balance *b = row;
    char *asset = NULL;
    int r = store_json_text(j, "asset", STORE_JSON_REQUIRED, &asset) ||
            store_json_number(j, "amount", STORE_JSON_REQUIRED, &b->amount);
    if (r == 0 && strlen(asset) >= sizeof b->asset) r = store_json_fail(j, "asset '%.40s' is too long", asset);
    if (r == 0) snprintf(b->asset, sizeof b->asset, "%s", asset);
    free(asset);
    return r ? -1 : 0;
}

static void store_json_free_plain(void *rows, size_t n)
{
    (void)n;
    free(rows);
}

static int store_json_fill(store_json *j, void *row)
{
    store_fill *f = row;
    /* the row owns its strings; store_fill's members are const for callers that lend theirs */
    char *cycle_id = NULL, *order_ref = NULL, *pair = NULL, *side = NULL, *type = NULL, *base = NULL, *quote = NULL,
         *reason = NULL;
    int r = store_json_int64(j, "id", STORE_JSON_REQUIRED, &f->id) ||
            store_json_text(j, "cycle_id", STORE_JSON_REQUIRED, &cycle_id) ||
            store_json_text(j, "order_ref", STORE_JSON_NULLABLE, &order_ref) ||
            store_json_time(j, "ts", STORE_JSON_REQUIRED, &f->ts_ms) ||
            store_json_text(j, "pair", STORE_JSON_REQUIRED, &pair) ||
            store_json_text(j, "side", STORE_JSON_REQUIRED, &side) ||
            store_json_text(j, "order_type", STORE_JSON_REQUIRED, &type) ||
            store_json_number(j, "volume", STORE_JSON_REQUIRED, &f->volume) ||
            store_json_number(j, "price", STORE_JSON_REQUIRED, &f->price) ||
            store_json_number(j, "cost", STORE_JSON_REQUIRED, &f->cost) ||
            store_json_number(j, "fee", STORE_JSON_REQUIRED, &f->fee) ||
            store_json_text(j, "base_asset", STORE_JSON_REQUIRED, &base) ||
            store_json_text(j, "quote_asset", STORE_JSON_REQUIRED, &quote) ||
            store_json_number(j, "realized_pnl", STORE_JSON_REQUIRED, &f->realized_pnl) ||
            store_json_text(j, "reason", STORE_JSON_NULLABLE, &reason);
    f->cycle_id = cycle_id, f->order_ref = order_ref, f->pair = pair, f->side = side, f->order_type = type;
    f->base_asset = base, f->quote_asset = quote, f->reason = reason;
    return r ? -1 : 0;
}

static void store_json_free_fills(void *rows, size_t n) { store_fills_free(rows, n); }

static int store_json_kv(store_json *j, void *row)
{
    store_kv *kv = row;
    return store_json_text(j, "key", STORE_JSON_REQUIRED, &kv->key) ||
                   store_json_json_text(j, "value", STORE_JSON_REQUIRED, &kv->value)
               ? -1
               : 0;
}

static void store_json_free_kvs(void *rows, size_t n) { store_kvs_free(rows, n); }

static int store_json_capsule(store_json *j, void *row)
{
    store_capsule *c = row;
    char *id = NULL, *strategy = NULL, *capsule = NULL;
    int r = store_json_text(j, "cycle_id", STORE_JSON_REQUIRED, &id) ||
            store_json_text(j, "strategy", STORE_JSON_REQUIRED, &strategy) ||
            store_json_time(j, "recorded_at", STORE_JSON_REQUIRED, &c->recorded_ms) ||
            store_json_time(j, "expires_at", STORE_JSON_REQUIRED, &c->expires_ms) ||
            store_json_text(j, "capsule", STORE_JSON_OPTIONAL, &capsule);
    c->cycle_id = id, c->strategy = strategy, c->capsule_b64 = capsule;
    return r ? -1 : 0;
}

static void store_json_free_capsules(void *rows, size_t n) { store_capsules_free(rows, n); }

/* What each table's rows are made of. */
static const struct {
    size_t size;
    store_json_row_reader read;
    void (*free_rows)(void *rows, size_t n);
} store_json_tables[] = {
    [STORE_JSON_CYCLES] = {sizeof(store_cycle), store_json_cycle, store_json_free_cycles},
    [STORE_JSON_BALANCES] = {sizeof(store_balance), store_json_balance, store_json_free_plain},
    [STORE_JSON_FILLS] = {sizeof(store_fill), store_json_fill, store_json_free_fills},
    [STORE_JSON_KVS] = {sizeof(store_kv), store_json_kv, store_json_free_kvs},
    [STORE_JSON_CAPSULES] = {sizeof(store_capsule), store_json_capsule, store_json_free_capsules},
};

int store_json_rows(store_json *j, store_json_table table, const char *body, size_t len, size_t max, void **rows,
                    size_t *n, char *why, size_t whylen)
{
    store_json_begin(j, why, whylen);
    *rows = NULL, *n = 0;
    size_t count;
    if (store_json_load_rows(j, body, len, max, &count) != 0) return store_json_end(j, -1);
    size_t size = store_json_tables[table].size;
    char *out = calloc(count ? count : 1, size);
    if (!out) return store_json_end(j, store_json_fail(j, "out of memory"));
    for (size_t i = 0; i < count; i++) {
        store_json_select_row(j, i + 1);
        if (store_json_tables[table].read(j, out + i * size) != 0) {
            store_json_tables[table].free_rows(out, i + 1); /* a bad row fails the whole answer */
            return store_json_end(j, -1);
        }
    }
    *rows = out, *n = count;
    return store_json_end(j, 0);
}

void store_json_rows_free(store_json_table table, void *rows, size_t n)
{
    store_json_tables[table].free_rows(rows, n);
}

int store_json_one(store_json *j, const char *body, size_t len, const char *column, int json_column, char **value,
                   const char *time_column, int64_t *time_ms, char *why, size_t whylen)
{
    store_json_begin(j, why, whylen);
    *value = NULL;
    if (time_ms) *time_ms = 0;
    size_t count;
    if (store_json_load_rows(j, body, len, 1, &count) != 0) return store_json_end(j, -1);
    if (count == 0) return store_json_end(j, 0);
    store_json_select_row(j, 1);
    int bad = (json_column ? store_json_json_text(j, column, STORE_JSON_REQUIRED, value)
                           : store_json_text(j, column, STORE_JSON_REQUIRED, value)) ||
              (time_column && store_json_time(j, time_column, STORE_JSON_NULLABLE, time_ms));
    if (bad) {
        free(*value), *value = NULL;
        if (time_ms) *time_ms = 0;
        return store_json_end(j, -1);
    }
    return store_json_end(j, 1);
}

int store_json_count(store_json *j, const char *body, size_t len, const char *column, size_t *n, char *why,
                     size_t whylen)
{
    store_json_begin(j, why, whylen);
    *n = 0;
    size_t count;
    if (store_json_load_rows(j, body, len, 0, &count) != 0) return store_json_end(j, -1);
    for (size_t i = 1; i <= count; i++) {
        store_json_select_row(j, i);
        char *value = NULL;
        int bad = store_json_text(j, column, STORE_JSON_REQUIRED, &value);
        free(value);
        if (bad) return store_json_end(j, -1);
    }
    *n = count;
    return store_json_end(j, 0);
}

int store_json_error(store_json *j, const char *body, size_t len, char **code, char **message, char **details)
{
    store_json_begin(j, NULL, 0);
    *code = *message = *details = NULL;
    if (store_json_load_object(j, body, len) != 0) return store_json_end(j, -1);
    /* each member on its own: a PostgREST error has some of them, as strings or null */
    store_json_text(j, "code", STORE_JSON_OPTIONAL, code);
    store_json_text(j, "message", STORE_JSON_OPTIONAL, message);
    store_json_text(j, "details", STORE_JSON_OPTIONAL, details);
    return store_json_end(j, 0);
}

int store_json_object_int(store_json *j, const char *body, size_t len, const char *key, int64_t *out, char *why,
                          size_t whylen)
{
    store_json_begin(j, why, whylen);
    *out = 0;
    int r = store_json_load_object(j, body, len) != 0 ? -1 : store_json_int64(j, key, STORE_JSON_REQUIRED, out);
    return store_json_end(j, r);
}
