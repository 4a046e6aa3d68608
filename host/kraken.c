/* Kraken spot REST: signing, nonces, the error envelope and typed helpers, shared by the host
 * and titan.kraken. Responses are decoded with lua-cjson on the caller's lua_State, so the
 * results are Lua tables ready for the strategy or the cycle engine. */
/* The low-level SHA-256/512 API is deprecated in OpenSSL 3 but is what makes the signer fast
 * (see kraken_signer below); this must precede every OpenSSL header. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "kraken.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "bindings.h"
#include "blackbox.h"
#include "clock.h"
#include "codec.h"
#include "http.h"
#include "secrets.h"
#include "strbuf.h"

#define KRAKEN_HMAC_BLOCK 128        /* SHA-512 block size */
#define KRAKEN_MAX_PARAMS 64
#define KRAKEN_MAX_METHOD 64


/* ---- signer --------------------------------------------------------------------------- */

/* The HMAC is computed by hand over OpenSSL's SHA-512 so the keyed pad states can be copied as
 * plain structs: EVP_MD_CTX_copy_ex allocates on every copy in OpenSSL 3.0 and costs ~25% of
 * the throughput (the low-level digests are deprecated in 3.0 but present, hence the define
 * at the top of this file). */
struct kraken_signer {
    SHA512_CTX inner, outer;         /* SHA-512 states after (key ^ ipad) and (key ^ opad) */
};

void kraken_signer_free(kraken_signer *s)
{
    if (s) OPENSSL_clear_free(s, sizeof *s);   /* wipes the keyed states */
}

kraken_signer *kraken_signer_new(const unsigned char *secret, size_t secret_len)
{
    kraken_signer *s = OPENSSL_zalloc(sizeof *s);
    if (!s) return NULL;
    unsigned char key[KRAKEN_HMAC_BLOCK] = {0}, pad[KRAKEN_HMAC_BLOCK];
    /* RFC 2104: a key longer than the block is hashed first, a shorter one zero-padded. */
    if (secret_len > KRAKEN_HMAC_BLOCK) SHA512(secret, secret_len, key);
    else if (secret_len > 0) memcpy(key, secret, secret_len);
    for (int i = 0; i < KRAKEN_HMAC_BLOCK; i++) pad[i] = key[i] ^ 0x36;
    int ok = SHA512_Init(&s->inner) && SHA512_Update(&s->inner, pad, sizeof pad);
    for (int i = 0; i < KRAKEN_HMAC_BLOCK; i++) pad[i] = key[i] ^ 0x5c;
    ok = ok && SHA512_Init(&s->outer) && SHA512_Update(&s->outer, pad, sizeof pad);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(pad, sizeof pad);
    if (!ok) {
        kraken_signer_free(s);
        return NULL;
    }
    return s;
}

int kraken_signer_sign(kraken_signer *s, const char *path, const char *nonce, const char *body, size_t body_len,
                       char out_b64[KRAKEN_SIGN_SIZE])
{
    unsigned char digest[SHA256_DIGEST_LENGTH], mac[SHA512_DIGEST_LENGTH];
    SHA256_CTX h;
    SHA512_CTX w;
    out_b64[0] = '\0';
    /* message = path || SHA256(nonce || body); HMAC = H(opad || H(ipad || message)) */
    int ok = SHA256_Init(&h) && SHA256_Update(&h, nonce, strlen(nonce)) && SHA256_Update(&h, body, body_len) &&
             SHA256_Final(digest, &h);
    w = s->inner;
    ok = ok && SHA512_Update(&w, path, strlen(path)) && SHA512_Update(&w, digest, sizeof digest) &&
         SHA512_Final(mac, &w);
    w = s->outer;
    ok = ok && SHA512_Update(&w, mac, sizeof mac) && SHA512_Final(mac, &w);
    if (ok) codec_base64_encode(mac, sizeof mac, out_b64);
    OPENSSL_cleanse(mac, sizeof mac);
    OPENSSL_cleanse(&w, sizeof w);
    return ok ? 0 : -1;
}

int kraken_sign(const unsigned char *secret, size_t secret_len, const char *path, const char *nonce,
                const char *body, char out_b64[KRAKEN_SIGN_SIZE])
{
    out_b64[0] = '\0';
    kraken_signer *s = kraken_signer_new(secret, secret_len);
    if (!s) return -1;
    int rc = kraken_signer_sign(s, path, nonce, body, strlen(body), out_b64);
    kraken_signer_free(s);
    return rc;
}

/* ---- process state: nonce, credentials, Lua write gate ---------------------------------- */

static int64_t kraken_last_nonce;
static kraken_signer *kraken_the_signer;   /* from KRAKEN_SECRET, decoded once */
static int kraken_secret_invalid;          /* KRAKEN_SECRET was not base64: decided once */
static int kraken_writes_from_lua = -1;     /* -1: not set by the host, the environment decides */

/* The nonce is a counter Kraken keeps per key across processes, so it follows the real wall
 * clock even when TITAN_FAKE_NOW_MS pins clock_now_ms for a test or a replay: a pinned (or
 * replayed, earlier) time would fall behind the nonces the key has already used. */
static int64_t kraken_wall_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t (*kraken_nonce_clock)(void) = kraken_wall_clock_ms;

void kraken_set_nonce_clock(int64_t (*now_ms)(void))
{
    kraken_nonce_clock = now_ms ? now_ms : kraken_wall_clock_ms;
}

int64_t kraken_next_nonce(void)
{
    int64_t n = kraken_nonce_clock();
    if (n <= kraken_last_nonce) n = kraken_last_nonce + 1;
    kraken_last_nonce = n;
    return n;
}

int kraken_lua_writes_allowed(void)
{
    if (kraken_writes_from_lua >= 0) return kraken_writes_from_lua;
    const char *env = getenv("TITAN_KRAKEN_LUA_WRITES");
    return env && strcmp(env, "1") == 0;
}

int kraken_set_lua_writes_allowed(int allowed)
{
    int previous = kraken_lua_writes_allowed();
    kraken_writes_from_lua = allowed != 0;
    return previous;
}

void kraken_shutdown(void)
{
    kraken_signer_free(kraken_the_signer);
    kraken_the_signer = NULL;
    kraken_secret_invalid = 0;
}

/* ---- rules ------------------------------------------------------------------------------ */

int kraken_valid_interval(int interval)
{
    static const int intervals[] = {1, 5, 15, 30, 60, 240, 1440, 10080, 21600};
    for (size_t i = 0; i < sizeof intervals / sizeof intervals[0]; i++)
        if (intervals[i] == interval) return 1;
    return 0;
}

int kraken_is_read_only(const char *method)
{
    static const char *const reads[] = {
        "Balance", "BalanceEx", "ClosedOrders", "CreditLines", "DepositAddresses", "DepositMethods",
        "DepositStatus", "ExportStatus", "GetWebSocketsToken", "Ledgers", "OpenOrders", "OpenPositions",
        "OrderAmends", "QueryLedgers", "QueryOrders", "QueryTrades", "TradeBalance", "TradeVolume",
        "TradesHistory", "WithdrawAddresses", "WithdrawInfo", "WithdrawMethods", "WithdrawStatus",
    };
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
        if (strcmp(reads[i], method) == 0) return 1;
    return 0;
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

/* ---- parameters ------------------------------------------------------------------------- */

typedef struct {
    const char *key;
    char *value;                     /* malloc'd, unencoded */
} kraken_param;

typedef struct {
    kraken_param items[KRAKEN_MAX_PARAMS];
    size_t count;
} kraken_params;

static void kraken_params_free(kraken_params *p)
{
    for (size_t i = 0; i < p->count; i++) free(p->items[i].value);
    p->count = 0;
}

static int kraken_param_cmp(const void *a, const void *b)
{
    return strcmp(((const kraken_param *)a)->key, ((const kraken_param *)b)->key);
}

/* A Lua number as a plain decimal: the shortest fixed notation that reads back exactly. */
static int kraken_format_number(lua_State *L, int idx, strbuf *out, char *why, size_t whylen)
{
    if (lua_isinteger(L, idx)) {
        strbuf_printf(out, "%lld", (long long)lua_tointeger(L, idx));
        return 0;
    }
    double x = lua_tonumber(L, idx);
    if (!isfinite(x) || fabs(x) >= 1e15) {
        snprintf(why, whylen, "number %g cannot be sent as a plain decimal (pass a string)", x);
        return -1;
    }
    char buf[64];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*f", prec, x);
        if (strtod(buf, NULL) == x) {
            strbuf_puts(out, strcmp(buf, "-0") == 0 ? "0" : buf);
            return 0;
        }
    }
    snprintf(why, whylen, "number %.17g needs more than 17 decimals (pass a decimal string)", x);
    return -1;
}

static int kraken_scalar(lua_State *L, int idx, strbuf *out, char *why, size_t whylen)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (strlen(s) != len) { snprintf(why, whylen, "string contains a NUL byte"); return -1; }
        strbuf_append(out, s, len);
        return 0;
    }
    case LUA_TNUMBER: return kraken_format_number(L, idx, out, why, whylen);
    case LUA_TBOOLEAN: strbuf_puts(out, lua_toboolean(L, idx) ? "true" : "false"); return 0;
    default: snprintf(why, whylen, "a %s cannot be sent", luaL_typename(L, idx)); return -1;
    }
}

/* Reads the params table at idx (absolute) into p, sorted by key. Keys point into the table,
 * which the caller keeps on the stack. Returns 0, or -1 with a reason in why. */
static int kraken_read_params(lua_State *L, int idx, kraken_params *p, char *why, size_t whylen)
{
    p->count = 0;
    if (idx == 0) return 0;
    if (!lua_istable(L, idx)) { snprintf(why, whylen, "params must be a table"); return -1; }
    lua_pushnil(L);
    while (lua_next(L, idx)) {                         /* [ key, value ] */
        char detail[160] = "";
        if (lua_type(L, -2) != LUA_TSTRING) {
            snprintf(why, whylen, "params keys must be strings (got a %s)", luaL_typename(L, -2));
            lua_pop(L, 2);
            return -1;
        }
        const char *key = lua_tostring(L, -2);
        if (!*key || strcmp(key, "nonce") == 0 || strlen(key) > 64) {
            snprintf(why, whylen, "params key '%.64s' is not allowed (the nonce is set by the host)", key);
            lua_pop(L, 2);
            return -1;
        }
        if (p->count >= KRAKEN_MAX_PARAMS) {
            snprintf(why, whylen, "too many params (more than %d)", KRAKEN_MAX_PARAMS);
            lua_pop(L, 2);
            return -1;
        }
        strbuf v = {0};
        int bad = 0;
        if (lua_istable(L, -1)) {
            /* an array of scalars, sent comma-joined (txid lists) */
            lua_Integer n = luaL_len(L, -1);
            for (lua_Integer i = 1; i <= n && !bad; i++) {
                lua_rawgeti(L, -1, i);
                if (i > 1) strbuf_puts(&v, ",");
                bad = lua_istable(L, -1) || kraken_scalar(L, -1, &v, detail, sizeof detail);
                if (lua_istable(L, -1)) snprintf(detail, sizeof detail, "nested tables cannot be sent");
                lua_pop(L, 1);
            }
            if (n == 0) strbuf_puts(&v, "");
        } else {
            bad = kraken_scalar(L, -1, &v, detail, sizeof detail);
        }
        if (!bad && v.oom) { bad = 1; snprintf(detail, sizeof detail, "out of memory"); }
        if (bad) {
            snprintf(why, whylen, "params.%.64s: %s", key, detail);
            strbuf_free(&v);
            lua_pop(L, 2);
            return -1;
        }
        p->items[p->count].key = key;
        p->items[p->count].value = v.data ? v.data : strdup("");
        p->count++;
        lua_pop(L, 1);                                 /* [ key ] */
    }
    qsort(p->items, p->count, sizeof p->items[0], kraken_param_cmp);
    return 0;
}

static void kraken_encode_params(const kraken_params *p, strbuf *out)
{
    for (size_t i = 0; i < p->count; i++) {
        if (out->len > 0) strbuf_puts(out, "&");
        strbuf_urlencode(out, p->items[i].key, strlen(p->items[i].key));
        strbuf_puts(out, "=");
        strbuf_urlencode(out, p->items[i].value, strlen(p->items[i].value));
    }
}

static int kraken_valid_method(const char *method)
{
    size_t n = method ? strlen(method) : 0;
    if (n == 0 || n > KRAKEN_MAX_METHOD || method[0] < 'A' || method[0] > 'Z') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = method[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return 0;
    }
    return 1;
}

/* ---- outcome of one call ---------------------------------------------------------------- */

typedef struct {
    const char *code;                /* NULL = success */
    char message[600];
    int retryable;
    int sent;
    long status;
} kraken_outcome;

static void kraken_fail(kraken_outcome *o, const char *code, int retryable, int sent, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void kraken_fail(kraken_outcome *o, const char *code, int retryable, int sent, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    o->code = code;
    o->retryable = retryable;
    o->sent = sent;
    vsnprintf(o->message, sizeof o->message, fmt, ap);
    va_end(ap);
}

/* Pushes nil and the err table for o; `errors_idx` is an array of Kraken's strings, or 0. */
static void kraken_push_err(lua_State *L, const kraken_outcome *o, const char *method, int errors_idx)
{
    if (errors_idx) errors_idx = lua_absindex(L, errors_idx);
    lua_pushnil(L);
    lua_createtable(L, 0, 7);
    lua_pushstring(L, o->code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, o->message);
    lua_setfield(L, -2, "message");
    lua_pushboolean(L, o->retryable);
    lua_setfield(L, -2, "retryable");
    lua_pushboolean(L, o->sent);
    lua_setfield(L, -2, "sent");
    lua_pushinteger(L, o->status);
    lua_setfield(L, -2, "status");
    lua_pushstring(L, method ? method : "");
    lua_setfield(L, -2, "method");
    if (errors_idx) lua_pushvalue(L, errors_idx);
    else lua_newtable(L);
    lua_setfield(L, -2, "errors");
}

/* Keeps the last n values and moves them down to top + 1 (the caller's stack top on entry). */
static void kraken_collapse(lua_State *L, int top, int n)
{
    lua_rotate(L, top + 1, n);
    lua_settop(L, top + n);
}

static int kraken_looks_like_html(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) i++;
    return i < len && body[i] == '<';
}

/* The failure for a response without a readable envelope. */
static void kraken_fail_unreadable(kraken_outcome *o, const char *method, long st, const char *body, size_t len,
                                   int write)
{
    int html = kraken_looks_like_html(body, len);
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

/* Turns one HTTP response into `result, warnings` (pushed; returns 1) or a failure in o (pushes
 * the array of Kraken's original strings, maybe empty; returns 0). `write` = a call that may
 * change state: its failures are not retryable when the request may have been processed. */
static int kraken_interpret(lua_State *L, const char *method, const http_response *res, int write, kraken_outcome *o)
{
    int base = lua_gettop(L);
    o->status = res->status;
    if (res->error_code) {
        int sent = res->request_sent != 0;
        kraken_fail(o, res->error_code, res->retryable && !(write && sent), sent, "Kraken %s: %s%s", method,
                    res->error_message,
                    sent && write ? " (the request may have reached Kraken: its outcome is unknown)" : "");
        lua_newtable(L);
        return 0;
    }
    const char *body = res->body ? res->body : "";
    size_t len = res->body ? res->body_len : 0;
    long st = res->status;
    if (!bindings_json_decode(L, body, len) || !lua_istable(L, -1)) {
        lua_settop(L, base);
        kraken_fail_unreadable(o, method, st, body, len, write);
        lua_newtable(L);
        return 0;
    }
    int env = lua_gettop(L);                           /* [ env ] */
    lua_getfield(L, env, "error");                     /* [ env, error ] */
    if (!lua_istable(L, -1)) {
        lua_settop(L, base);
        kraken_fail_unreadable(o, method, st, body, len, write);
        if (!o->sent && st < 400) o->sent = 1;
        lua_newtable(L);
        return 0;
    }
    int errs = lua_gettop(L);
    lua_newtable(L);                                   /* [ env, error, warnings ] */
    int warns = lua_gettop(L);
    lua_newtable(L);                                   /* [ env, error, warnings, all ] */
    int all = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, errs), nw = 0, na = 0;
    int first_error = 0;                               /* stack index of the first E-string */
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, errs, i);
        if (lua_type(L, -1) != LUA_TSTRING) {          /* not a string: keep a readable form */
            const char *shown = luaL_tolstring(L, -1, NULL);
            (void)shown;
            lua_remove(L, -2);
        }
        lua_pushvalue(L, -1);
        lua_rawseti(L, all, ++na);
        if (lua_tostring(L, -1)[0] == 'W') {
            lua_rawseti(L, warns, ++nw);
        } else if (!first_error) {
            first_error = lua_gettop(L);               /* kept on the stack */
        } else {
            lua_pop(L, 1);
        }
    }
    if (first_error) {
        const char *e = lua_tostring(L, first_error);
        int retryable = 0;
        const char *code = kraken_map_error(e, &retryable);
        /* An internal error, an unavailable service or a 5xx may come after the order was
         * booked: for a write that is unknown, never a clean refusal. */
        int sent = strncmp(e, "EGeneral:Internal error", 23) == 0 ||
                   (write && (st >= 500 || strncmp(e, "EService:Unavailable", 20) == 0 ||
                              strncmp(e, "EService:Busy", 13) == 0 || strncmp(e, "EService:Deadline elapsed", 25) == 0));
        if (sent && write) retryable = 0;
        kraken_fail(o, code, retryable, sent, "Kraken %s: %s%s%s", method, e, na > 1 ? " (and more in err.errors)" : "",
                    kraken_hint(code));
        lua_copy(L, all, base + 1);
        lua_settop(L, base + 1);
        return 0;
    }
    if (st < 200 || st >= 300) {                       /* a clean envelope with a failing status */
        lua_settop(L, base);
        kraken_fail_unreadable(o, method, st, "", 0, write);
        lua_newtable(L);
        return 0;
    }
    lua_getfield(L, env, "result");                    /* [ env, error, warnings, all, result ] */
    if (lua_isnil(L, -1) || lua_islightuserdata(L, -1)) { /* absent or JSON null */
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_copy(L, -1, base + 1);
    lua_copy(L, warns, base + 2);
    lua_settop(L, base + 2);
    return 1;
}

/* ---- one call --------------------------------------------------------------------------- */

static void kraken_base_url(strbuf *url)
{
    const char *base = getenv("KRAKEN_API_URL");
    if (!base || !*base) base = KRAKEN_DEFAULT_URL;
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') n--;
    strbuf_append(url, base, n);
}

/* The signer from KRAKEN_SECRET, decoded once per run; NULL with o filled when unusable. */
static kraken_signer *kraken_get_signer(kraken_outcome *o)
{
    const char *key = secrets_value("KRAKEN_API_KEY");
    const char *secret = secrets_value("KRAKEN_SECRET");
    if (!key || !secret) {
        kraken_fail(o, "kraken.no_credentials", 0, 0,
                    "private Kraken calls need KRAKEN_API_KEY and KRAKEN_SECRET in the environment (%s unset)",
                    !key && !secret ? "both are" : !key ? "KRAKEN_API_KEY is" : "KRAKEN_SECRET is");
        return NULL;
    }
    if (kraken_the_signer) return kraken_the_signer;
    if (!kraken_secret_invalid) {
        size_t n = strlen(secret);
        unsigned char *raw = malloc(n / 4 * 3 + 3);
        long len = raw ? codec_base64_decode(secret, n, raw) : -1;
        if (len > 0) kraken_the_signer = kraken_signer_new(raw, (size_t)len);
        else if (raw) kraken_secret_invalid = 1;
        if (raw) OPENSSL_clear_free(raw, n / 4 * 3 + 3);
        if (kraken_the_signer) return kraken_the_signer;
        if (!kraken_secret_invalid) {
            kraken_fail(o, "kraken.error", 0, 0, "cannot set up the Kraken signer (out of memory or OpenSSL failure)");
            return NULL;
        }
    }
    kraken_fail(o, "kraken.invalid_secret", 0, 0,
                "KRAKEN_SECRET is not valid base64 (it should be the private key exactly as Kraken shows it, "
                "padded base64 without spaces or line breaks)");
    return NULL;
}

/* The blackbox line for a call: never headers, never the nonce's signature or the key. */
static void kraken_log_call(lua_State *L, const char *method, int is_private, const kraken_params *params,
                            const kraken_outcome *o, int attempts, int64_t started, int warnings_idx)
{
    strbuf f = {0};
    strbuf_puts(&f, "{\"method\":");
    strbuf_json_string(&f, method, strlen(method));
    strbuf_printf(&f, ",\"private\":%s,\"ok\":%s", is_private ? "true" : "false", o->code ? "false" : "true");
    if (o->code) {
        strbuf_puts(&f, ",\"code\":");
        strbuf_json_string(&f, o->code, strlen(o->code));
        strbuf_puts(&f, ",\"message\":");
        strbuf_json_string(&f, o->message, strlen(o->message));
        strbuf_printf(&f, ",\"sent\":%s", o->sent ? "true" : "false");
    }
    strbuf_printf(&f, ",\"status\":%ld,\"attempts\":%d,\"ms\":%lld", o->status, attempts,
                  (long long)(clock_monotonic_ms() - started));
    if (warnings_idx && lua_rawlen(L, warnings_idx) > 0) {
        strbuf_puts(&f, ",\"warnings\":[");
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, warnings_idx); i++) {
            lua_rawgeti(L, warnings_idx, i);
            size_t len = 0;
            const char *w = lua_tolstring(L, -1, &len);
            if (i > 1) strbuf_puts(&f, ",");
            strbuf_json_string(&f, w ? w : "", w ? len : 0);
            lua_pop(L, 1);
        }
        strbuf_puts(&f, "]");
    }
    if (params && params->count > 0) {
        strbuf_puts(&f, ",\"params\":{");
        for (size_t i = 0; i < params->count; i++) {
            if (i > 0) strbuf_puts(&f, ",");
            strbuf_json_string(&f, params->items[i].key, strlen(params->items[i].key));
            strbuf_puts(&f, ":");
            strbuf_json_string(&f, params->items[i].value, strlen(params->items[i].value));
        }
        strbuf_puts(&f, "}");
    }
    strbuf_puts(&f, "}");
    if (!f.oom) blackbox_log(o->code ? BLACKBOX_WARN : BLACKBOX_INFO, "kraken.call", f.data);
    strbuf_free(&f);
}

/* Builds `nonce=<fresh>[&query]` into body and its API-Sign. 0, or -1 (out of memory/OpenSSL). */
static int kraken_build_signed(kraken_signer *signer, const char *path, const strbuf *query, strbuf *body,
                               char sign[KRAKEN_SIGN_SIZE])
{
    char nonce[24];
    snprintf(nonce, sizeof nonce, "%lld", (long long)kraken_next_nonce());
    strbuf_printf(body, "nonce=%s", nonce);
    if (query->len) {
        strbuf_puts(body, "&");
        strbuf_append(body, query->data, query->len);
    }
    if (body->oom) return -1;
    return kraken_signer_sign(signer, path, nonce, body->data, body->len, sign);
}

/* One signed POST. Fills res; the caller frees it. */
static void kraken_post_private(kraken_signer *signer, const char *url, const char *path, const strbuf *query,
                                long timeout_ms, http_response *res)
{
    char sign[KRAKEN_SIGN_SIZE], sign_header[KRAKEN_SIGN_SIZE + 16];
    strbuf body = {0}, key_header = {0};
    strbuf_printf(&key_header, "API-Key: %s", secrets_value("KRAKEN_API_KEY"));
    memset(res, 0, sizeof *res);
    if (key_header.oom || kraken_build_signed(signer, path, query, &body, sign) != 0) {
        res->error_code = "http.protocol";
        snprintf(res->error_message, sizeof res->error_message, "cannot build the signed request (out of memory)");
    } else {
        snprintf(sign_header, sizeof sign_header, "API-Sign: %s", sign);
        const char *headers[] = {key_header.data, sign_header, "Content-Type: application/x-www-form-urlencoded"};
        http_request req = {
            .method = "POST", .url = url, .headers = headers, .header_count = 3,
            .body = body.data, .body_len = body.len, .timeout_ms = timeout_ms,
        };
        http_perform(&req, res);
    }
    OPENSSL_cleanse(sign, sizeof sign);
    OPENSSL_cleanse(sign_header, sizeof sign_header);
    if (key_header.data) OPENSSL_cleanse(key_header.data, key_header.len);
    strbuf_free(&key_header);
    strbuf_free(&body);
}

int kraken_prepare_private(lua_State *L, const char *method, int params_idx, strbuf *body,
                           char sign[KRAKEN_SIGN_SIZE], char *why, size_t whylen)
{
    kraken_outcome o = {0};
    kraken_params params = {0};
    strbuf query = {0}, path = {0};
    int rc = -1;
    sign[0] = '\0';
    if (params_idx) params_idx = lua_absindex(L, params_idx);
    kraken_signer *signer = kraken_get_signer(&o);
    if (!kraken_valid_method(method)) snprintf(why, whylen, "not a Kraken method name");
    else if (!signer) snprintf(why, whylen, "%s", o.message);
    else if (kraken_read_params(L, params_idx, &params, why, whylen) == 0) {
        kraken_encode_params(&params, &query);
        strbuf_printf(&path, "/0/private/%s", method);
        rc = query.oom || path.oom ? -1 : kraken_build_signed(signer, strbuf_cstr(&path), &query, body, sign);
        if (rc != 0) snprintf(why, whylen, "out of memory");
    }
    kraken_params_free(&params);
    strbuf_free(&query);
    strbuf_free(&path);
    return rc;
}

int kraken_call(lua_State *L, const char *method, int params_idx, int is_private, long timeout_ms)
{
    int top = lua_gettop(L);
    luaL_checkstack(L, 24, "kraken_call");
    if (params_idx) params_idx = lua_absindex(L, params_idx);
    if (timeout_ms < 0) timeout_ms = 0;
    kraken_outcome o = {0};
    kraken_params params = {0};
    strbuf query = {0}, url = {0}, path = {0};
    char why[256];
    int write = is_private && !kraken_is_read_only(method ? method : "");
    int attempts = 0, ok = 0;
    int64_t started = clock_monotonic_ms();
    const char *shown = method ? method : "(null)";

    if (!kraken_valid_method(method)) {
        kraken_fail(&o, "kraken.bad_request", 0, 0, "'%.64s' is not a Kraken method name (letters and digits starting with a capital)",
                    shown);
        lua_newtable(L);
        goto done;
    }
    if (kraken_read_params(L, params_idx, &params, why, sizeof why) != 0) {
        kraken_fail(&o, "kraken.bad_request", 0, 0, "Kraken %s: %s", method, why);
        lua_newtable(L);
        goto done;
    }
    kraken_encode_params(&params, &query);
    kraken_base_url(&url);
    strbuf_printf(&path, "/0/%s/%s", is_private ? "private" : "public", method);
    strbuf_append(&url, path.data, path.len);
    if (query.oom || url.oom || path.oom) {
        kraken_fail(&o, "kraken.error", 0, 0, "Kraken %s: out of memory", method);
        lua_newtable(L);
        goto done;
    }
    if (!is_private) {
        if (query.len) {
            strbuf_puts(&url, "?");
            strbuf_append(&url, query.data, query.len);
        }
        http_request req = {.method = "GET", .url = strbuf_cstr(&url), .timeout_ms = timeout_ms,
                            .retries = KRAKEN_PUBLIC_RETRIES};
        http_response res;
        http_perform(&req, &res);
        attempts = res.attempts > 0 ? res.attempts : 1;
        ok = kraken_interpret(L, method, &res, 0, &o);
        http_response_free(&res);
        goto done;
    }
    kraken_signer *signer = kraken_get_signer(&o);
    if (!signer) {
        lua_newtable(L);
        goto done;
    }
    /* A read answered "Invalid nonce" is retried once with a fresh nonce; writes never are:
     * the caller must look the order up instead. */
    for (int round = 0; round < 2; round++) {
        http_response res;
        kraken_post_private(signer, strbuf_cstr(&url), strbuf_cstr(&path), &query, timeout_ms, &res);
        attempts++;
        o = (kraken_outcome){0};
        ok = kraken_interpret(L, method, &res, write, &o);
        http_response_free(&res);
        if (ok || write || strcmp(o.code, "kraken.invalid_nonce") != 0) break;
        if (round == 0) lua_pop(L, 1);                 /* drop the errors array; try again */
    }

done:
    /* [ ... top | result, warnings ] on success, [ ... top | errors ] on failure */
    kraken_log_call(L, shown, is_private, &params, &o, attempts, started, ok ? top + 2 : 0);
    if (!ok) {
        kraken_push_err(L, &o, shown, -1);             /* [ errors, nil, err ] */
        kraken_collapse(L, top, 2);
    }
    kraken_params_free(&params);
    strbuf_free(&query);
    strbuf_free(&url);
    strbuf_free(&path);
    return ok;
}

/* ---- typed helpers ---------------------------------------------------------------------- */

/* nil, err for a request the helper refuses before sending (a programming error). */
static int kraken_push_bad_request(lua_State *L, int top, const char *method, const char *message)
{
    kraken_outcome o = {0};
    kraken_fail(&o, "kraken.bad_request", 0, 0, "Kraken %s: %s", method, message);
    lua_settop(L, top);
    kraken_push_err(L, &o, method, 0);
    return 0;
}

/* nil, err for a response whose result does not have the documented shape. */
static int kraken_push_malformed(lua_State *L, int top, const char *method, const char *what)
{
    kraken_outcome o = {0};
    kraken_fail(&o, "kraken.error", 1, 0, "Kraken %s: unexpected response: %s", method, what);
    o.status = 200;
    lua_settop(L, top);
    kraken_push_err(L, &o, method, 0);
    strbuf f = {0};
    strbuf_puts(&f, "{\"method\":");
    strbuf_json_string(&f, method, strlen(method));
    strbuf_puts(&f, ",\"problem\":");
    strbuf_json_string(&f, what, strlen(what));
    strbuf_puts(&f, "}");
    if (!f.oom) blackbox_log(BLACKBOX_WARN, "kraken.malformed", f.data);
    strbuf_free(&f);
    return 0;
}

/* Plain decimals ("-123.4500") with at most 15 significant digits and 22 decimals, exactly:
 * the digits as an integer below 2^53 divided by an exact power of ten is correctly rounded
 * (Clinger's fast path). Anything else returns -1 and goes to strtod. glibc's strtod was the
 * largest cost of turning 720 candles into numbers. */
static int kraken_parse_decimal_fast(const char *s, double *out)
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

/* A JSON number, or a decimal string as Kraken sends prices and volumes. */
static int kraken_to_number(lua_State *L, int idx, double *out)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        *out = lua_tonumber(L, idx);
    } else if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tostring(L, idx);
        if (kraken_parse_decimal_fast(s, out) == 0) return 0;
        char *end = NULL;
        errno = 0;
        *out = strtod(s, &end);
        if (end == s || *end != '\0' || errno == ERANGE) return -1;
    } else {
        return -1;
    }
    return isfinite(*out) ? 0 : -1;
}

/* A whole number (JSON number or digit string) as a Lua integer. */
static int kraken_to_integer(lua_State *L, int idx, lua_Integer *out)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tostring(L, idx);
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || *end != '\0' || errno == ERANGE) return -1;
        *out = (lua_Integer)v;
        return 0;
    }
    double d;
    if (kraken_to_number(L, idx, &d) != 0 || d != floor(d) || fabs(d) > 9007199254740992.0) return -1;
    *out = (lua_Integer)d;
    return 0;
}

/* Finds Kraken's entry for `pair` in the result table at idx: the key equal to pair, else the
 * entry whose altname or wsname is pair, else the only entry (besides `last`). Pushes the key
 * and the value and returns 1; pushes nothing and returns 0 when none or several match. */
static int kraken_resolve_pair(lua_State *L, int result, const char *pair)
{
    result = lua_absindex(L, result);
    if (lua_getfield(L, result, pair) == LUA_TTABLE) {
        lua_pushstring(L, pair);
        lua_insert(L, -2);
        return 1;
    }
    lua_pop(L, 1);
    int entries = 0, named = 0;
    lua_pushnil(L);                                    /* [ only_key, only_val ] are kept below */
    lua_pushnil(L);
    lua_pushnil(L);                                    /* [ only_key, only_val, k ] */
    while (lua_next(L, result)) {                      /* [ only_key, only_val, k, v ] */
        if (lua_type(L, -2) != LUA_TSTRING || !lua_istable(L, -1) || strcmp(lua_tostring(L, -2), "last") == 0) {
            lua_pop(L, 1);
            continue;
        }
        entries++;
        int match = 0;
        static const char *const names[] = {"altname", "wsname"};
        for (int i = 0; i < 2 && !match; i++) {
            if (lua_getfield(L, -1, names[i]) == LUA_TSTRING && strcmp(lua_tostring(L, -1), pair) == 0) match = 1;
            lua_pop(L, 1);
        }
        if ((match && !named) || (entries == 1 && !named)) {
            lua_copy(L, -2, -4);
            lua_copy(L, -1, -3);
            if (match) named = 1;
        }
        lua_pop(L, 1);
    }
    if (named || entries == 1) return 1;               /* [ key, value ] */
    lua_pop(L, 2);
    return 0;
}

int kraken_ohlc(lua_State *L, const char *pair, int interval, const char *since, int count, long timeout_ms)
{
    int top = lua_gettop(L);
    luaL_checkstack(L, 24, "kraken_ohlc");
    if (!pair || !*pair) return kraken_push_bad_request(L, top, "OHLC", "a pair is required");
    if (!kraken_valid_interval(interval))
        return kraken_push_bad_request(L, top, "OHLC",
                                       "interval must be one of 1, 5, 15, 30, 60, 240, 1440, 10080, 21600 minutes");
    lua_createtable(L, 0, 3);                          /* [ params ] */
    lua_pushstring(L, pair);
    lua_setfield(L, -2, "pair");
    lua_pushinteger(L, interval);
    lua_setfield(L, -2, "interval");
    if (since && *since) {
        lua_pushstring(L, since);
        lua_setfield(L, -2, "since");
    }
    if (!kraken_call(L, "OHLC", top + 1, 0, timeout_ms)) {
        kraken_collapse(L, top, 2);
        return 0;
    }
    int result = top + 2, warnings = top + 3;          /* [ params, result, warnings ] */
    if (!lua_istable(L, result) || !kraken_resolve_pair(L, result, pair))
        return kraken_push_malformed(L, top, "OHLC", "no single candle series for the pair");
    int key = top + 4, rows = top + 5;                 /* [ params, result, warnings, key, rows ] */
    lua_Integer n = (lua_Integer)lua_rawlen(L, rows);
    lua_Integer closed = n > 0 ? n - 1 : 0;            /* the last row is the open candle */
    lua_Integer first = count > 0 && closed > count ? closed - count + 1 : 1;
    lua_createtable(L, (int)(closed - first + 1), 0);  /* [ ..., candles ] */
    int candles = lua_gettop(L);
    lua_Integer prev_t = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, rows, i);                       /* [ ..., candles, row ] */
        if (!lua_istable(L, -1) || lua_rawlen(L, -1) < 8) return kraken_push_malformed(L, top, "OHLC", "a row is not 8 values");
        lua_Integer t, cnt;
        double v[6];
        lua_rawgeti(L, -1, 1);
        int bad = kraken_to_integer(L, -1, &t) != 0;
        lua_pop(L, 1);
        for (int f = 0; f < 6 && !bad; f++) {
            lua_rawgeti(L, -1, f + 2);
            bad = kraken_to_number(L, -1, &v[f]) != 0;
            lua_pop(L, 1);
        }
        lua_rawgeti(L, -1, 8);
        bad = bad || kraken_to_integer(L, -1, &cnt) != 0;
        lua_pop(L, 1);
        /* Prices must be positive and the series strictly increasing in time: anything else
         * is not a candle series a strategy should trade on. */
        if (bad || v[0] <= 0 || v[1] <= 0 || v[2] <= 0 || v[3] <= 0 || v[4] < 0 || v[5] < 0 || cnt < 0 ||
            (i > 1 && t <= prev_t))
            return kraken_push_malformed(L, top, "OHLC", "a row has a bad value or is out of time order");
        prev_t = t;
        lua_pop(L, 1);                                 /* [ ..., candles ] */
        if (i >= first && i <= closed) {
            static const char *const names[] = {"o", "h", "l", "c", "vwap", "v"};
            lua_createtable(L, 0, 8);
            lua_pushinteger(L, t);
            lua_setfield(L, -2, "t");
            for (int f = 0; f < 6; f++) {
                lua_pushnumber(L, v[f]);
                lua_setfield(L, -2, names[f]);
            }
            lua_pushinteger(L, cnt);
            lua_setfield(L, -2, "n");
            lua_rawseti(L, candles, i - first + 1);
        }
    }
    lua_createtable(L, 0, 3);                          /* [ ..., candles, meta ] */
    lua_pushvalue(L, key);
    lua_setfield(L, -2, "pair_key");
    lua_getfield(L, result, "last");
    lua_Integer last;
    if (kraken_to_integer(L, -1, &last) == 0) {
        lua_pop(L, 1);
        lua_pushinteger(L, last);
    }
    lua_setfield(L, -2, "last");
    lua_pushvalue(L, warnings);
    lua_setfield(L, -2, "warnings");
    kraken_collapse(L, top, 2);
    return 1;
}

/* value[field][index] (index 0 = the field itself) as a number into out; -1 when missing. */
static int kraken_ticker_field(lua_State *L, int entry, const char *field, int index, double *out)
{
    int t = lua_getfield(L, entry, field);
    if (index > 0 && t == LUA_TTABLE) {
        lua_rawgeti(L, -1, index);
        lua_remove(L, -2);
    } else if (index > 0) {
        lua_pop(L, 1);
        return -1;
    }
    int rc = kraken_to_number(L, -1, out);
    lua_pop(L, 1);
    return rc;
}

int kraken_ticker(lua_State *L, const char *pair, long timeout_ms)
{
    int top = lua_gettop(L);
    luaL_checkstack(L, 24, "kraken_ticker");
    if (!pair || !*pair) return kraken_push_bad_request(L, top, "Ticker", "a pair is required");
    lua_createtable(L, 0, 1);
    lua_pushstring(L, pair);
    lua_setfield(L, -2, "pair");
    if (!kraken_call(L, "Ticker", top + 1, 0, timeout_ms)) {
        kraken_collapse(L, top, 2);
        return 0;
    }
    int result = top + 2, warnings = top + 3;
    if (!lua_istable(L, result) || !kraken_resolve_pair(L, result, pair))
        return kraken_push_malformed(L, top, "Ticker", "no single ticker for the pair");
    int key = top + 4, entry = top + 5;
    static const struct { const char *name, *field; int index, required; } fields[] = {
        {"ask", "a", 1, 1},       {"bid", "b", 1, 1},        {"last", "c", 1, 1},       {"last_volume", "c", 2, 0},
        {"open", "o", 0, 0},      {"low", "l", 1, 0},        {"high", "h", 1, 0},       {"volume", "v", 1, 0},
        {"vwap", "p", 1, 0},      {"trades", "t", 1, 0},     {"low_24h", "l", 2, 0},    {"high_24h", "h", 2, 0},
        {"volume_24h", "v", 2, 0}, {"vwap_24h", "p", 2, 0},  {"trades_24h", "t", 2, 0},
    };
    lua_createtable(L, 0, 16);                         /* [ ..., ticker ] */
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        double v;
        if (kraken_ticker_field(L, entry, fields[i].field, fields[i].index, &v) != 0) {
            if (fields[i].required) return kraken_push_malformed(L, top, "Ticker", "ask, bid or last price missing");
            continue;
        }
        if (fields[i].required && v <= 0) return kraken_push_malformed(L, top, "Ticker", "a non-positive price");
        if (strncmp(fields[i].name, "trades", 6) == 0 && v == floor(v)) lua_pushinteger(L, (lua_Integer)v);
        else lua_pushnumber(L, v);
        lua_setfield(L, -2, fields[i].name);
    }
    lua_pushvalue(L, key);
    lua_setfield(L, -2, "pair_key");
    lua_createtable(L, 0, 2);                          /* [ ..., ticker, meta ] */
    lua_pushvalue(L, key);
    lua_setfield(L, -2, "pair_key");
    lua_pushvalue(L, warnings);
    lua_setfield(L, -2, "warnings");
    kraken_collapse(L, top, 2);
    return 1;
}

static const char kraken_pairs_key[] = "titan.kraken.asset_pairs";

/* A fresh shallow copy of the table at idx (so callers cannot alter the cache). */
static void kraken_copy_table(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

int kraken_asset_pair(lua_State *L, const char *pair, long timeout_ms)
{
    int top = lua_gettop(L);
    luaL_checkstack(L, 24, "kraken_asset_pair");
    if (!pair || !*pair) return kraken_push_bad_request(L, top, "AssetPairs", "a pair is required");
    if (lua_getfield(L, LUA_REGISTRYINDEX, kraken_pairs_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, kraken_pairs_key);
    }
    int cache = top + 1;                               /* [ cache ] */
    if (lua_getfield(L, cache, pair) == LUA_TTABLE) {  /* [ cache, info ] */
        kraken_copy_table(L, -1);
        lua_createtable(L, 0, 3);
        lua_getfield(L, -2, "pair_key");
        lua_setfield(L, -2, "pair_key");
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "cached");
        lua_newtable(L);
        lua_setfield(L, -2, "warnings");
        kraken_collapse(L, top, 2);
        return 1;
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);                          /* [ cache, params ] */
    lua_pushstring(L, pair);
    lua_setfield(L, -2, "pair");
    if (!kraken_call(L, "AssetPairs", top + 2, 0, timeout_ms)) {
        kraken_collapse(L, top, 2);
        return 0;
    }
    int result = top + 3, warnings = top + 4;          /* [ cache, params, result, warnings ] */
    if (!lua_istable(L, result) || !kraken_resolve_pair(L, result, pair))
        return kraken_push_malformed(L, top, "AssetPairs", "no single entry for the pair");
    int key = top + 5, entry = top + 6;
    lua_createtable(L, 0, 12);                         /* [ ..., info ] */
    int info = lua_gettop(L);
    lua_pushvalue(L, key);
    lua_setfield(L, info, "pair_key");
    static const char *const strings[] = {"altname", "wsname", "base", "quote", "status"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        if (lua_getfield(L, entry, strings[i]) == LUA_TSTRING) lua_setfield(L, info, strings[i]);
        else lua_pop(L, 1);
    }
    static const struct { const char *name; int integer, required; } numbers[] = {
        {"pair_decimals", 1, 1}, {"cost_decimals", 1, 0}, {"lot_decimals", 1, 1},
        {"ordermin", 0, 1},      {"costmin", 0, 0},       {"tick_size", 0, 0},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        int t = lua_getfield(L, entry, numbers[i].name);
        lua_Integer iv;
        double dv;
        if (t == LUA_TNIL && !numbers[i].required) {
            lua_pop(L, 1);
            continue;
        }
        if (numbers[i].integer ? kraken_to_integer(L, -1, &iv) != 0 || iv < 0 || iv > 18
                               : kraken_to_number(L, -1, &dv) != 0 || dv < 0)
            return kraken_push_malformed(L, top, "AssetPairs", "a decimals, ordermin, costmin or tick_size field");
        lua_pop(L, 1);
        if (numbers[i].integer) lua_pushinteger(L, iv);
        else lua_pushnumber(L, dv);
        lua_setfield(L, info, numbers[i].name);
    }
    lua_pushvalue(L, info);
    lua_setfield(L, cache, pair);                      /* cached under the name asked for */
    kraken_copy_table(L, info);                        /* [ ..., info, copy ] */
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, key);
    lua_setfield(L, -2, "pair_key");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "cached");
    lua_pushvalue(L, warnings);
    lua_setfield(L, -2, "warnings");
    kraken_collapse(L, top, 2);
    return 1;
}

int kraken_balance(lua_State *L, long timeout_ms)
{
    int top = lua_gettop(L);
    luaL_checkstack(L, 24, "kraken_balance");
    if (!kraken_call(L, "Balance", 0, 1, timeout_ms)) return 0;
    int result = top + 1, warnings = top + 2;          /* [ result, warnings ] */
    if (!lua_istable(L, result)) return kraken_push_malformed(L, top, "Balance", "result is not an object");
    lua_newtable(L);                                   /* [ result, warnings, balances ] */
    int balances = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, result)) {                      /* [ ..., asset, amount ] */
        double v;
        if (lua_type(L, -2) != LUA_TSTRING || kraken_to_number(L, -1, &v) != 0)
            return kraken_push_malformed(L, top, "Balance", "an asset amount is not a decimal");
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnumber(L, v);
        lua_rawset(L, balances);
    }
    lua_createtable(L, 0, 2);                          /* [ result, warnings, balances, meta ] */
    lua_pushvalue(L, result);
    lua_setfield(L, -2, "raw");
    lua_pushvalue(L, warnings);
    lua_setfield(L, -2, "warnings");
    kraken_collapse(L, top, 2);
    return 1;
}
