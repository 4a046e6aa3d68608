/* Kraken's {error, result} envelope and the results the host uses, read into C structs.
 * The bytes are decoded by jsondoc (lua-cjson in a private state) and every field is read with
 * a checked accessor: a field that is missing or of the wrong type is an explicit outcome
 * (kraken.error, "unexpected response: ..."), never a raise. */
#include "kraken_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "jsondoc.h"

/* ---- outcomes and Kraken's error strings ------------------------------------------------ */

void kraken_fail(kraken_outcome *o, const char *code, int retryable, int sent, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    o->code = code;
    o->retryable = retryable;
    o->sent = sent;
    vsnprintf(o->message, sizeof o->message, fmt, ap);
    va_end(ap);
}

typedef struct {
    const char *prefix;
    const char *code;
    int retryable;
} kraken_error_rule;

/* Prefix matches against Kraken's "E<Category>:<Message>[:detail]" strings. */
static const kraken_error_rule kraken_error_rules[] = {
    {"EAPI:Invalid nonce", "kraken.invalid_nonce", 1},
    {"EAPI:Rate limit exceeded", "kraken.rate_limited", 1},
    {"EOrder:Rate limit exceeded", "kraken.rate_limited", 1},
    {"EService:Throttled", "kraken.rate_limited", 1},
    {"EService: Throttled", "kraken.rate_limited", 1},
    {"EGeneral:Too many requests", "kraken.rate_limited", 1},   /* public calls over the per-IP limit */
    {"EAPI:Invalid key", "kraken.invalid_key", 0},
    {"EAPI:Invalid signature", "kraken.invalid_signature", 0},
    {"EGeneral:Permission denied", "kraken.permission_denied", 0},
    {"EGeneral:Temporary lockout", "kraken.lockout", 0},
    {"EOrder:Insufficient funds", "kraken.insufficient_funds", 0},
    {"EOrder:Order minimum not met", "kraken.order_minimum", 0},
    {"EOrder:Cost minimum not met", "kraken.cost_minimum", 0},
    {"EOrder:Tick size check failed", "kraken.tick_size", 0},
    {"EGeneral:Invalid arguments", "kraken.invalid_arguments", 0},
    {"EService:Unavailable", "kraken.unavailable", 1},
    {"EService:Busy", "kraken.unavailable", 1},
    {"EService:Market in cancel_only mode", "kraken.unavailable", 1},
    {"EService:Market in post_only mode", "kraken.unavailable", 1},
};

const char *kraken_map_error(const char *e, int *retryable)
{
    for (size_t i = 0; i < sizeof kraken_error_rules / sizeof kraken_error_rules[0]; i++) {
        const kraken_error_rule *r = &kraken_error_rules[i];
        if (strncmp(e, r->prefix, strlen(r->prefix)) == 0) {
            if (retryable) *retryable = r->retryable;
            return r->code;
        }
    }
    if (retryable) *retryable = 0;
    return "kraken.error";
}

/* A hint appended to errors that usually mean a key or IP allow-list problem. */
static const char *kraken_hint(const char *code)
{
    if (strcmp(code, "kraken.invalid_key") == 0 || strcmp(code, "kraken.permission_denied") == 0)
        return " (check KRAKEN_API_KEY and the key's permissions; if the key has an IP allow-list, this "
               "runner's IP address may be missing from it — hosted CI runners change IP on every run)";
    if (strcmp(code, "kraken.invalid_signature") == 0)
        return " (KRAKEN_SECRET does not match KRAKEN_API_KEY, or the request was altered on the way)";
    if (strcmp(code, "kraken.invalid_nonce") == 0)
        return " (another process may be using the same API key, or the clock is behind; one key per process)";
    if (strcmp(code, "kraken.lockout") == 0) return " (too many failed calls: Kraken locks the key out for a while)";
    return "";
}

void kraken_answer_free(kraken_answer *a)
{
    for (size_t i = 0; i < a->n_texts; i++) free(a->texts[i]);
    a->n_texts = 0;
}

int kraken_text_is_warning(const char *text) { return text && text[0] == 'W'; }

void kraken_balances_free(kraken_balances *b)
{
    free(b->items);
    b->items = NULL, b->n = 0;
}

const kraken_balance_entry *kraken_balance_find(const kraken_balances *b, const char *asset)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->items[i].asset, asset) == 0) return &b->items[i];
    return NULL;
}

void kraken_orders_free(kraken_orders *o)
{
    free(o->items);
    o->items = NULL, o->n = 0;
}

const kraken_order *kraken_orders_find(const kraken_orders *o, const char *cl_ord_id)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->items[i].cl_ord_id[0] && strcmp(o->items[i].cl_ord_id, cl_ord_id) == 0) return &o->items[i];
    return NULL;
}

void kraken_candles_free(kraken_candles *c)
{
    free(c->items);
    c->items = NULL, c->n = 0;
}

void kraken_trades_free(kraken_trades *t)
{
    free(t->items);
    t->items = NULL, t->n = 0;
}

const char *const kraken_ticker_names[KRAKEN_TICKER_FIELDS] = {
    "ask", "bid", "last", "last_volume", "open", "low", "high", "volume", "vwap", "trades",
    "low_24h", "high_24h", "volume_24h", "vwap_24h", "trades_24h",
};

/* ---- numbers as Kraken sends them ---------------------------------------------------------- */

/* Plain decimals ("-123.4500") with at most 15 significant digits and 22 decimals, exactly:
 * the digits as an integer below 2^53 divided by an exact power of ten is correctly rounded
 * (Clinger's fast path). Anything else returns -1 and goes to strtod. glibc's strtod was the
 * largest cost of turning 720 candles into numbers. */
static int kp_decimal_fast(const char *s, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    int neg = *s == '-', digits = 0, decimals = -1;
    uint64_t m = 0;
    const char *p = s + neg;
    if (!*p) return -1;
    for (; *p; p++) {
        if (*p == '.' && decimals < 0) { decimals = 0; continue; }
        if (*p < '0' || *p > '9') return -1;
        if (m == 0 && *p == '0') { if (decimals >= 0) decimals++; continue; }  /* leading zeros */
        if (++digits > 15) return -1;
        m = m * 10 + (uint64_t)(*p - '0');
        if (decimals >= 0) decimals++;
    }
    if (decimals < 0) decimals = 0;
    if (decimals > 22 || p[-1] == '.') return -1;
    double v = (double)m / pow10[decimals];
    *out = neg ? -v : v;
    return 0;
}

/* A JSON number, or a decimal string as Kraken sends prices and volumes; finite only. */
static int kp_number(lua_State *S, int idx, double *out)
{
    if (lua_type(S, idx) == LUA_TNUMBER) {
        *out = lua_tonumber(S, idx);
    } else if (lua_type(S, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(S, idx, &len);
        if (strlen(s) != len) return -1;
        if (kp_decimal_fast(s, out) == 0) return 0;
        char *end = NULL;
        errno = 0;
        *out = strtod(s, &end);
        if (end == s || *end != '\0' || errno == ERANGE) return -1;
    } else {
        return -1;
    }
    return isfinite(*out) ? 0 : -1;
}

/* A whole number (JSON number or digit string). */
static int kp_integer(lua_State *S, int idx, long long *out)
{
    if (lua_type(S, idx) == LUA_TSTRING) {
        const char *s = lua_tostring(S, idx);
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || *end != '\0' || errno == ERANGE) return -1;
        *out = v;
        return 0;
    }
    double d;
    if (kp_number(S, idx, &d) != 0 || d != floor(d) || fabs(d) > 9007199254740992.0) return -1;
    *out = (long long)d;
    return 0;
}

/* obj[key] as a number into *out; absent (or null) leaves NaN and returns 0 unless required;
 * present but not a number returns -1. */
static int kp_field_number(lua_State *S, int obj, const char *key, int required, double *out)
{
    *out = NAN;
    int t = jsondoc_field(S, obj, key);
    int rc = 0;
    if (t == LUA_TNIL || jsondoc_is_null(S, -1)) rc = required ? -1 : 0;
    else rc = kp_number(S, -1, out);
    lua_pop(S, 1);
    return rc;
}

/* obj[key] as a string into out; absent leaves "" (and fails only if required). */
static int kp_field_string(lua_State *S, int obj, const char *key, int required, char *out, size_t size)
{
    out[0] = '\0';
    int t = jsondoc_field(S, obj, key);
    int rc = t == LUA_TNIL || jsondoc_is_null(S, -1) ? (required ? -1 : 0) : jsondoc_string(S, -1, out, size);
    lua_pop(S, 1);
    return rc;
}

/* ---- one answer ----------------------------------------------------------------------------- */

typedef struct {
    const char *method;
    int write;
    long status;
    size_t len;
    const char *body;
    const kraken_read *read;
    kraken_answer *a;
} kp_job;

static int kp_looks_like_html(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) i++;
    return i < len && body[i] == '<';
}

/* The failure for an answer without a readable envelope. */
static void kp_fail_unreadable(kraken_outcome *o, const char *method, long st, const char *body, size_t len, int write)
{
    int html = kp_looks_like_html(body, len);
    if (st >= 500 || html)
        kraken_fail(o, "kraken.unavailable", !write, st >= 500 || st < 400,
                    "Kraken %s: exchange not available: HTTP %ld with %s (%zu bytes)", method, st,
                    html ? "an HTML error page" : "no readable envelope", len);
    else if (st == 429)
        kraken_fail(o, "kraken.rate_limited", 1, 0, "Kraken %s: HTTP 429 (too many requests)", method);
    else if (st >= 400)
        kraken_fail(o, "kraken.error", 0, 0, "Kraken %s: HTTP %ld without an error envelope (%zu bytes)", method, st,
                    len);
    else
        kraken_fail(o, "kraken.error", !write, 1,
                    "Kraken %s: unreadable response (HTTP %ld, %zu bytes): truncated or not JSON", method, st, len);
}

/* A result without the documented shape. After a write it is not a refusal: the order may exist. */
static int kp_malformed(kp_job *job, const char *what)
{
    kraken_fail(&job->a->outcome, "kraken.error", !job->write, job->write,
                "Kraken %s: unexpected response: %s%s", job->method, what,
                job->write ? " (the call may have taken effect: its outcome is unknown)" : "");
    return -1;
}

/* Keeps the envelope's error array as texts; returns the first error (not a warning, not ""), or
 * NULL. "" is nothing at all: Kraken has been seen to send it beside a good result. *count gets
 * the number of non-empty entries. */
static const char *kp_collect_texts(lua_State *S, int errs, kraken_answer *a, size_t *count)
{
    const char *first_error = NULL;
    lua_Integer n = (lua_Integer)lua_rawlen(S, errs);
    *count = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(S, errs, i);
        char *text;
        if (lua_type(S, -1) == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(S, -1, &len);
            text = strndup(s, len);
        } else {
            text = jsondoc_encode(S, -1);             /* never "table: 0x..." */
        }
        lua_pop(S, 1);
        if (!text) text = strdup("(unreadable error value)");
        if (!text) continue;
        if (text[0]) (*count)++;
        if (text[0] && !kraken_text_is_warning(text) && !first_error && a->n_texts < KRAKEN_TEXTS_MAX)
            first_error = text;
        if (a->n_texts < KRAKEN_TEXTS_MAX) a->texts[a->n_texts++] = text;
        else if (!first_error && text[0] && !kraken_text_is_warning(text)) {
            /* beyond the kept ones: still the first error, kept in the last slot */
            free(a->texts[KRAKEN_TEXTS_MAX - 1]);
            a->texts[KRAKEN_TEXTS_MAX - 1] = text;
            first_error = text;
        } else free(text);
    }
    return first_error;
}

static int kp_read_result(lua_State *S, int result, kp_job *job);

static int kp_read_envelope(lua_State *S, int env, void *ud)
{
    kp_job *job = ud;
    kraken_outcome *o = &job->a->outcome;
    long st = job->status;
    if (!lua_istable(S, env)) {
        kp_fail_unreadable(o, job->method, st, job->body, job->len, job->write);
        return -1;
    }
    jsondoc_field(S, env, "error");                    /* [ env, error ] */
    int errs = lua_gettop(S);
    if (!lua_istable(S, errs) || jsondoc_count(S, errs) != lua_rawlen(S, errs)) {
        kp_fail_unreadable(o, job->method, st, job->body, job->len, job->write);
        if (!o->sent && st < 400) o->sent = 1;
        return -1;
    }
    size_t count = 0;
    const char *e = kp_collect_texts(S, errs, job->a, &count);
    if (e) {
        int retryable = 0;
        const char *code = kraken_map_error(e, &retryable);
        /* An internal error, an unavailable service or a 5xx may come after the order was
         * booked: for a write that is unknown, never a clean refusal. */
        int sent = strncmp(e, "EGeneral:Internal error", 23) == 0 ||
                   (job->write && (st >= 500 || strncmp(e, "EService:Unavailable", 20) == 0 ||
                                   strncmp(e, "EService:Busy", 13) == 0 ||
                                   strncmp(e, "EService:Deadline elapsed", 25) == 0));
        if (sent && job->write) retryable = 0;
        kraken_fail(o, code, retryable, sent, "Kraken %s: %s%s%s", job->method, e,
                    count > 1 ? " (and more in err.errors)" : "", kraken_hint(code));
        return -1;
    }
    if (st < 200 || st >= 300) {                       /* a clean envelope with a failing status */
        kp_fail_unreadable(o, job->method, st, "", 0, job->write);
        return -1;
    }
    if (!job->read) return 0;
    jsondoc_field(S, env, "result");                   /* [ env, error, result ] */
    return kp_read_result(S, lua_gettop(S), job);
}

/* Zeroes the struct `read` fills, or frees what a failed reading left in it. */
static void kp_clear_out(const kraken_read *read, int free_first)
{
    if (!read || !read->out) return;
    switch (read->kind) {
    case KRAKEN_READ_BALANCE:
        if (free_first) kraken_balances_free(read->out);
        memset(read->out, 0, sizeof(kraken_balances));
        break;
    case KRAKEN_READ_ORDERS:
        if (free_first) kraken_orders_free(read->out);
        memset(read->out, 0, sizeof(kraken_orders));
        break;
    case KRAKEN_READ_OHLC:
        if (free_first) kraken_candles_free(read->out);
        memset(read->out, 0, sizeof(kraken_candles));
        break;
    case KRAKEN_READ_TRADES:
        if (free_first) kraken_trades_free(read->out);
        memset(read->out, 0, sizeof(kraken_trades));
        break;
    case KRAKEN_READ_ASSET_PAIR: memset(read->out, 0, sizeof(kraken_pair_info)); break;
    case KRAKEN_READ_TICKER: memset(read->out, 0, sizeof(kraken_ticker_info)); break;
    case KRAKEN_READ_PLACED:
    case KRAKEN_READ_VALIDATED: memset(read->out, 0, sizeof(kraken_placed)); break;
    }
}

int kraken_parse_answer(const char *method, int write, long http_status, const char *body, size_t len,
                        const kraken_read *read, kraken_answer *a)
{
    memset(a, 0, sizeof *a);
    kp_clear_out(read, 0);
    a->outcome.status = http_status;
    kp_job job = {.method = method ? method : "?", .write = write, .status = http_status, .body = body ? body : "",
                  .len = body ? len : 0, .read = read, .a = a};
    int rc = jsondoc_read(job.body, job.len, kp_read_envelope, &job);
    if (rc == 0) return 0;
    kp_clear_out(read, 1);
    if (rc == JSONDOC_MALFORMED) {
        kp_fail_unreadable(&a->outcome, job.method, http_status, job.body, job.len, write);
    } else if (rc == JSONDOC_NO_MEMORY || rc == JSONDOC_FAILED) {
        kraken_fail(&a->outcome, "kraken.error", !write, write, "Kraken %s: the answer could not be read (%zu bytes, %s)",
                    job.method, job.len, rc == JSONDOC_NO_MEMORY ? "out of memory" : "reader failed");
    }
    if (!a->outcome.code) kraken_fail(&a->outcome, "kraken.error", !write, write, "Kraken %s: unreadable answer", job.method);
    return -1;
}

/* ---- the results ------------------------------------------------------------------------------ */

/* 1 when entry[field] is the non-empty name `pair` (an absent field reads "": it names nothing). */
static int kp_named(lua_State *S, int entry, const char *field, const char *pair)
{
    char name[KRAKEN_ID_SIZE];
    return kp_field_string(S, entry, field, 0, name, sizeof name) == 0 && name[0] && strcmp(name, pair) == 0;
}

/* Finds Kraken's entry for `pair` in the result table: the key equal to pair, else the entry whose
 * altname or wsname is pair, else the only entry (besides `last`). Pushes the entry and copies
 * its key; 0, or -1 (nothing pushed) when none or several match. */
static int kp_resolve_pair(lua_State *S, int result, const char *pair, char key_out[KRAKEN_ID_SIZE])
{
    if (!lua_istable(S, result)) return -1;
    int keyed = strlen(pair) < KRAKEN_ID_SIZE && strcmp(pair, "last") != 0;   /* OHLC's `last` is no pair */
    if (keyed && jsondoc_field(S, result, pair) == LUA_TTABLE) {
        snprintf(key_out, KRAKEN_ID_SIZE, "%s", pair);
        return 0;
    }
    if (keyed) lua_pop(S, 1);
    int entries = 0, named = 0;
    lua_pushnil(S);                                    /* [ chosen ] */
    lua_pushnil(S);                                    /* [ chosen, k ] */
    while (lua_next(S, result)) {                      /* [ chosen, k, v ] */
        if (lua_type(S, -2) != LUA_TSTRING || !lua_istable(S, -1) || strcmp(lua_tostring(S, -2), "last") == 0) {
            lua_pop(S, 1);
            continue;
        }
        entries++;
        char key[KRAKEN_ID_SIZE];
        int match = kp_named(S, -1, "altname", pair) || kp_named(S, -1, "wsname", pair);
        if (((match && !named) || (entries == 1 && !named)) && jsondoc_string(S, -2, key, sizeof key) == 0) {
            memcpy(key_out, key, sizeof key);
            lua_copy(S, -1, -3);
            if (match) named = 1;
        }
        lua_pop(S, 1);
    }                                                  /* [ chosen ] */
    if ((named || entries == 1) && lua_istable(S, -1)) return 0;
    lua_pop(S, 1);
    return -1;
}

static int kp_read_asset_pair(lua_State *S, int result, kp_job *job)
{
    kraken_pair_info *p = job->read->out;
    memset(p, 0, sizeof *p);
    if (kp_resolve_pair(S, result, job->read->pair, p->pair_key) != 0)
        return kp_malformed(job, "no single entry for the pair");
    int entry = lua_gettop(S);
    static const struct { const char *name; size_t offset; } strings[] = {
        {"altname", offsetof(kraken_pair_info, altname)}, {"wsname", offsetof(kraken_pair_info, wsname)},
        {"base", offsetof(kraken_pair_info, base)},       {"quote", offsetof(kraken_pair_info, quote)},
        {"status", offsetof(kraken_pair_info, status)},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (kp_field_string(S, entry, strings[i].name, 0, (char *)p + strings[i].offset, KRAKEN_ID_SIZE) != 0)
            return kp_malformed(job, "a name field (altname, wsname, base, quote, status) is not a short string");
    static const struct { const char *name; int integer, required; } numbers[] = {
        {"pair_decimals", 1, 1}, {"cost_decimals", 1, 0}, {"lot_decimals", 1, 1},
        {"ordermin", 0, 1},      {"costmin", 0, 0},       {"tick_size", 0, 0},
    };
    double v[6];
    for (size_t i = 0; i < 6; i++) {
        if (kp_field_number(S, entry, numbers[i].name, numbers[i].required, &v[i]) != 0 ||
            (!isnan(v[i]) && (v[i] < 0 || (numbers[i].integer && (v[i] != floor(v[i]) || v[i] > 18)))))
            return kp_malformed(job, "a decimals, ordermin, costmin or tick_size field");
    }
    p->pair_decimals = (int)v[0];
    p->cost_decimals = isnan(v[1]) ? -1 : (int)v[1];
    p->lot_decimals = (int)v[2];
    p->ordermin = v[3];
    p->costmin = isnan(v[4]) ? -1 : v[4];
    p->tick_size = isnan(v[5]) ? -1 : v[5];
    return 0;
}

/* entry[field][index] (index 0 = the field itself) as a number; -1 when missing or not one. */
static int kp_ticker_value(lua_State *S, int entry, const char *field, int index, double *out)
{
    int t = jsondoc_field(S, entry, field);
    if (index > 0) {
        if (t != LUA_TTABLE) {
            lua_pop(S, 1);
            return -1;
        }
        lua_rawgeti(S, -1, index);
        lua_remove(S, -2);
    }
    int rc = kp_number(S, -1, out);
    lua_pop(S, 1);
    return rc;
}

static int kp_read_ticker(lua_State *S, int result, kp_job *job)
{
    kraken_ticker_info *tk = job->read->out;
    memset(tk, 0, sizeof *tk);
    if (kp_resolve_pair(S, result, job->read->pair, tk->pair_key) != 0)
        return kp_malformed(job, "no single ticker for the pair");
    int entry = lua_gettop(S);
    static const struct { const char *field; int index, required; } fields[KRAKEN_TICKER_FIELDS] = {
        {"a", 1, 1}, {"b", 1, 1}, {"c", 1, 1}, {"c", 2, 0}, {"o", 0, 0}, {"l", 1, 0}, {"h", 1, 0}, {"v", 1, 0},
        {"p", 1, 0}, {"t", 1, 0}, {"l", 2, 0}, {"h", 2, 0}, {"v", 2, 0}, {"p", 2, 0}, {"t", 2, 0},
    };
    for (int i = 0; i < KRAKEN_TICKER_FIELDS; i++) {
        double v;
        if (kp_ticker_value(S, entry, fields[i].field, fields[i].index, &v) != 0) {
            if (fields[i].required) return kp_malformed(job, "ask, bid or last price missing");
            continue;
        }
        if (fields[i].required && v <= 0) return kp_malformed(job, "a non-positive price");
        tk->value[i] = v;
        tk->has[i] = 1;
    }
    return 0;
}

static int kp_read_balance(lua_State *S, int result, kp_job *job)
{
    kraken_balances *b = job->read->out;
    memset(b, 0, sizeof *b);
    if (!lua_istable(S, result)) return kp_malformed(job, "result is not an object");
    size_t n = jsondoc_count(S, result);
    if (n > 0 && !(b->items = calloc(n, sizeof *b->items))) return kp_malformed(job, "out of memory");
    lua_pushnil(S);
    while (lua_next(S, result)) {                      /* [ asset, amount ] */
        kraken_balance_entry *e = &b->items[b->n];
        int bad = b->n >= n || jsondoc_string(S, -2, e->asset, sizeof e->asset) != 0 || !e->asset[0] ||
                  kp_number(S, -1, &e->amount) != 0;
        if (!bad && lua_type(S, -1) == LUA_TSTRING) bad = jsondoc_string(S, -1, e->raw, sizeof e->raw) != 0;
        else if (!bad) snprintf(e->raw, sizeof e->raw, "%.17g", e->amount);
        lua_pop(S, 1);
        if (bad) {
            lua_pop(S, 1);
            kraken_balances_free(b);
            return kp_malformed(job, "an asset amount is not a decimal");
        }
        b->n++;
    }
    return 0;
}

/* One order object (txid = its key) into o; -1 when a field has the wrong type. */
static int kp_order(lua_State *S, int idx, kraken_order *o)
{
    idx = lua_absindex(S, idx);
    memset(o, 0, sizeof *o);
    if (!lua_istable(S, idx)) return -1;
    if (kp_field_string(S, idx, "status", 1, o->status, sizeof o->status) != 0 || !o->status[0] ||
        kp_field_string(S, idx, "cl_ord_id", 0, o->cl_ord_id, sizeof o->cl_ord_id) != 0)
        return -1;
    static const struct { const char *name; size_t offset; } numbers[] = {
        {"vol", offsetof(kraken_order, vol)},   {"vol_exec", offsetof(kraken_order, vol_exec)},
        {"cost", offsetof(kraken_order, cost)}, {"fee", offsetof(kraken_order, fee)},
        {"price", offsetof(kraken_order, avg_price)}, {"opentm", offsetof(kraken_order, opentm)},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (kp_field_number(S, idx, numbers[i].name, 0, (double *)((char *)o + numbers[i].offset)) != 0) return -1;
    o->limit_price = NAN;
    if (jsondoc_field(S, idx, "userref") != LUA_TNIL && !jsondoc_is_null(S, -1) && kp_integer(S, -1, &o->userref) != 0) {
        lua_pop(S, 1);
        return -1;
    }
    lua_pop(S, 1);
    if (jsondoc_field(S, idx, "trades") == LUA_TTABLE) {   /* [ trades ]: only with trades=true */
        size_t n = lua_rawlen(S, -1);
        for (size_t i = 1; i <= n && o->n_trades < KRAKEN_TRADE_IDS_MAX; i++) {
            lua_rawgeti(S, -1, (lua_Integer)i);
            if (jsondoc_string(S, -1, o->trades[o->n_trades], sizeof o->trades[0]) == 0 && o->trades[o->n_trades][0])
                o->n_trades++;
            lua_pop(S, 1);
        }
    }
    lua_pop(S, 1);
    int t = jsondoc_field(S, idx, "descr");            /* [ descr ] */
    int bad = t != LUA_TNIL && t != LUA_TTABLE && !jsondoc_is_null(S, -1);
    if (!bad && t == LUA_TTABLE) {
        bad = kp_field_string(S, -1, "type", 0, o->side, sizeof o->side) != 0 ||
              kp_field_string(S, -1, "ordertype", 0, o->ordertype, sizeof o->ordertype) != 0 ||
              kp_field_string(S, -1, "pair", 0, o->pair, sizeof o->pair) != 0 ||
              kp_field_number(S, -1, "price", 0, &o->limit_price) != 0;
    }
    lua_pop(S, 1);
    return bad ? -1 : 0;
}

static int kp_read_orders(lua_State *S, int result, kp_job *job)
{
    kraken_orders *out = job->read->out;
    memset(out, 0, sizeof *out);
    int list = result;
    if (job->read->list_key) {
        if (!lua_istable(S, result)) return kp_malformed(job, "result is not an object");
        jsondoc_field(S, result, job->read->list_key);
        list = lua_gettop(S);
    }
    if (!lua_istable(S, list)) return kp_malformed(job, "the order list is not an object");
    size_t n = jsondoc_count(S, list);
    if (n > 0 && !(out->items = calloc(n, sizeof *out->items))) return kp_malformed(job, "out of memory");
    lua_pushnil(S);
    while (lua_next(S, list)) {                        /* [ txid, order ] */
        kraken_order *o = &out->items[out->n];
        int bad = out->n >= n || kp_order(S, -1, o) != 0 || jsondoc_string(S, -2, o->txid, sizeof o->txid) != 0;
        lua_pop(S, 1);
        if (bad) {
            lua_pop(S, 1);
            kraken_orders_free(out);
            /* one order we cannot read may be the one looked for: the whole answer is unusable */
            return kp_malformed(job, "an order is not an object with a status, or has a field of the wrong type");
        }
        out->n++;
    }
    return 0;
}

static int kp_read_placed(lua_State *S, int result, kp_job *job)
{
    kraken_placed *p = job->read->out;
    memset(p, 0, sizeof *p);
    if (!lua_istable(S, result)) return kp_malformed(job, "result is not an object");
    if (jsondoc_field(S, result, "descr") == LUA_TTABLE) kp_field_string(S, -1, "order", 0, p->description, sizeof p->description);
    lua_pop(S, 1);
    int t = jsondoc_field(S, result, "txid");          /* [ txids ] */
    if (t == LUA_TTABLE && lua_rawlen(S, -1) >= 1) {
        lua_rawgeti(S, -1, 1);
        int ok = jsondoc_string(S, -1, p->txid, sizeof p->txid) == 0 && p->txid[0];
        lua_pop(S, 2);
        if (ok) return 0;
    } else {
        lua_pop(S, 1);
    }
    p->txid[0] = '\0';
    return kp_malformed(job, "no txid");
}

/* validate=true answers {"descr": {"order": ...}}: without it, nothing says Kraken checked the order. */
static int kp_read_validated(lua_State *S, int result, kp_job *job)
{
    kraken_placed *p = job->read->out;
    memset(p, 0, sizeof *p);
    if (!lua_istable(S, result)) return kp_malformed(job, "result is not an object");
    int t = jsondoc_field(S, result, "descr");
    if (t == LUA_TTABLE) kp_field_string(S, -1, "order", 0, p->description, sizeof p->description);
    lua_pop(S, 1);
    return t == LUA_TTABLE ? 0 : kp_malformed(job, "no descr: the order was not validated");
}

static int kp_read_candle(lua_State *S, int row, kraken_candle *k)
{
    if (!lua_istable(S, row) || lua_rawlen(S, row) < 8) return -1;
    double v[6];
    long long t, n;
    lua_rawgeti(S, row, 1);
    int bad = kp_integer(S, -1, &t) != 0;
    lua_pop(S, 1);
    for (int f = 0; f < 6 && !bad; f++) {
        lua_rawgeti(S, row, f + 2);
        bad = kp_number(S, -1, &v[f]) != 0;
        lua_pop(S, 1);
    }
    lua_rawgeti(S, row, 8);
    bad = bad || kp_integer(S, -1, &n) != 0;
    lua_pop(S, 1);
    /* Prices must be positive, open and close within low..high (as the backtest's CSV loader
     * demands): anything else is not a candle a strategy should trade on. */
    if (bad || v[0] <= 0 || v[1] <= 0 || v[2] <= 0 || v[3] <= 0 || v[4] < 0 || v[5] < 0 || n < 0) return -1;
    if (v[2] > fmin(v[0], v[3]) || v[1] < fmax(v[0], v[3])) return -1;
    *k = (kraken_candle){.t = t, .n = n, .o = v[0], .h = v[1], .l = v[2], .c = v[3], .vwap = v[4], .v = v[5]};
    return 0;
}

static int kp_read_ohlc(lua_State *S, int result, kp_job *job)
{
    kraken_candles *out = job->read->out;
    memset(out, 0, sizeof *out);
    out->last = -1;
    if (kp_resolve_pair(S, result, job->read->pair, out->pair_key) != 0)
        return kp_malformed(job, "no single candle series for the pair");
    int rows = lua_gettop(S);
    size_t n = lua_rawlen(S, rows);
    if (jsondoc_count(S, rows) != n) return kp_malformed(job, "the candle series is not a list");
    size_t closed = n > 0 ? n - 1 : 0;                 /* the last row is the still-open candle */
    size_t count = job->read->count > 0 ? (size_t)job->read->count : closed;
    size_t first = closed > count ? closed - count : 0;
    if (closed > first && !(out->items = calloc(closed - first, sizeof *out->items)))
        return kp_malformed(job, "out of memory");
    int64_t prev_t = 0;
    for (size_t i = 0; i < n; i++) {
        kraken_candle k;
        lua_rawgeti(S, rows, (lua_Integer)i + 1);
        int bad = kp_read_candle(S, lua_gettop(S), &k) != 0 || (i > 0 && k.t <= prev_t);
        lua_pop(S, 1);
        if (bad) {
            kraken_candles_free(out);
            return kp_malformed(job, "a row has a bad value or is out of time order");
        }
        prev_t = k.t;
        if (i >= first && i < closed) out->items[out->n++] = k;
    }
    long long last;
    if (jsondoc_field(S, result, "last") != LUA_TNIL && kp_integer(S, -1, &last) == 0) out->last = last;
    lua_pop(S, 1);
    return 0;
}

static int kp_read_trades(lua_State *S, int result, kp_job *job)
{
    kraken_trades *out = job->read->out;
    memset(out, 0, sizeof *out);
    if (!lua_istable(S, result)) return kp_malformed(job, "result is not an object");
    size_t n = jsondoc_count(S, result);
    if (n > 0 && !(out->items = calloc(n, sizeof *out->items))) return kp_malformed(job, "out of memory");
    lua_pushnil(S);
    while (lua_next(S, result)) {                      /* [ txid, trade ] */
        kraken_trade *t = &out->items[out->n];
        int bad = out->n >= n || !lua_istable(S, -1) || jsondoc_string(S, -2, t->txid, sizeof t->txid) != 0 ||
                  kp_field_string(S, -1, "ordertxid", 1, t->ordertxid, sizeof t->ordertxid) != 0 ||
                  kp_field_number(S, -1, "price", 1, &t->price) != 0 ||
                  kp_field_number(S, -1, "cost", 1, &t->cost) != 0 || kp_field_number(S, -1, "fee", 1, &t->fee) != 0 ||
                  kp_field_number(S, -1, "vol", 1, &t->vol) != 0;
        lua_pop(S, 1);
        if (bad) {
            lua_pop(S, 1);
            kraken_trades_free(out);
            return kp_malformed(job, "a trade lacks ordertxid, price, cost, fee or vol");
        }
        out->n++;
    }
    return 0;
}

static int kp_read_result(lua_State *S, int result, kp_job *job)
{
    switch (job->read->kind) {
    case KRAKEN_READ_ASSET_PAIR: return kp_read_asset_pair(S, result, job);
    case KRAKEN_READ_TICKER: return kp_read_ticker(S, result, job);
    case KRAKEN_READ_BALANCE: return kp_read_balance(S, result, job);
    case KRAKEN_READ_ORDERS: return kp_read_orders(S, result, job);
    case KRAKEN_READ_PLACED: return kp_read_placed(S, result, job);
    case KRAKEN_READ_VALIDATED: return kp_read_validated(S, result, job);
    case KRAKEN_READ_OHLC: return kp_read_ohlc(S, result, job);
    case KRAKEN_READ_TRADES: return kp_read_trades(S, result, job);
    }
    return kp_malformed(job, "nothing to read");
}

/* ---- entry points for bytes answered with HTTP 200 -------------------------------------------- */

int kraken_parse_envelope(const char *body, size_t len, int write, kraken_answer *a)
{
    return kraken_parse_answer("(parse)", write, 200, body, len, NULL, a);
}

int kraken_parse_asset_pair(const char *body, size_t len, const char *pair, kraken_pair_info *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_ASSET_PAIR, .pair = pair, .out = out};
    return kraken_parse_answer("AssetPairs", 0, 200, body, len, &r, a);
}

int kraken_parse_ticker(const char *body, size_t len, const char *pair, kraken_ticker_info *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_TICKER, .pair = pair, .out = out};
    return kraken_parse_answer("Ticker", 0, 200, body, len, &r, a);
}

int kraken_parse_balance(const char *body, size_t len, kraken_balances *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_BALANCE, .out = out};
    return kraken_parse_answer("Balance", 0, 200, body, len, &r, a);
}

int kraken_parse_orders(const char *body, size_t len, const char *list_key, kraken_orders *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_ORDERS, .list_key = list_key, .out = out};
    return kraken_parse_answer(list_key ? "OpenOrders" : "QueryOrders", 0, 200, body, len, &r, a);
}

int kraken_parse_placed(const char *body, size_t len, kraken_placed *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_PLACED, .out = out};
    return kraken_parse_answer("AddOrder", 1, 200, body, len, &r, a);
}

int kraken_parse_validated(const char *body, size_t len, kraken_placed *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_VALIDATED, .out = out};
    return kraken_parse_answer("AddOrder", 1, 200, body, len, &r, a);
}

int kraken_parse_ohlc(const char *body, size_t len, const char *pair, int count, kraken_candles *out,
                      kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_OHLC, .pair = pair, .count = count, .out = out};
    return kraken_parse_answer("OHLC", 0, 200, body, len, &r, a);
}

int kraken_parse_trades(const char *body, size_t len, kraken_trades *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_TRADES, .out = out};
    return kraken_parse_answer("QueryTrades", 0, 200, body, len, &r, a);
}
