/* Capsules (capsule.h): written with strbuf_json_*, read back through jsondoc, compressed with
 * zlib. Answers and JSON documents are kept as JSON strings, so a replay feeds the parsers and
 * compares the decision record byte for byte; a body that is not UTF-8 is kept as base64. */
#include "capsule.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "blackbox.h"
#include "clock.h"
#include "codec.h"
#include "jsondoc.h"
#include "secrets.h"
#include "strbuf.h"

#define CAPSULE_MAX_UNPACKED ((size_t)64 << 20)   /* a capsule is tens of KiB: more is not one */

const char *const capsule_setting_names[] = {
    "TITAN_MAX_ORDER_QUOTE", "TITAN_MAX_POSITION_QUOTE", "TITAN_MAX_ORDERS_PER_CYCLE", "TITAN_MAX_DAILY_LOSS_QUOTE",
    "TITAN_PAPER_CASH",      "TITAN_PAPER_FEE_BPS",      "TITAN_PAPER_SLIPPAGE_BPS",   "TITAN_LUA_CPU_S",
    "TITAN_LUA_WALL_S",      "TITAN_LUA_MEM_MB",         "OPENAI_BASE_URL",            "GROQ_BASE_URL",
    "GEMINI_BASE_URL",       NULL,
};

/* free() of a string the capsule owns (its fields are const for the capsules built to be written) */
static void capsule_release(const void *p) { free((void *)p); }

void capsule_free(capsule *c)
{
    const char *strings[] = {c->cycle_id, c->strategy, c->mode, c->pair, c->host_version, c->file, c->sha256,
                             c->source, c->state_json, c->status, c->error, c->decision_json, c->orders_json};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) capsule_release(strings[i]);
    for (size_t i = 0; i < c->n_settings; i++)
        capsule_release(c->settings[i].name), capsule_release(c->settings[i].value);
    free(c->settings);
    for (size_t i = 0; i < c->n_ai; i++) capsule_release(c->ai[i]);
    free(c->ai);
    capsule_release(c->ledger);
    tape_free(&c->tape);
    memset(c, 0, sizeof *c);
}

/* ---- writing ------------------------------------------------------------------------------- */

static int capsule_is_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = strbuf_utf8_len((const unsigned char *)s + i, len - i);
        if (n == 0) return 0;
        i += n;
    }
    return 1;
}

/* "key": the bytes as a JSON string, or "key_base64" when they are not UTF-8 (redacted first:
 * base64 would hide a secret from the redaction of the whole text). */
static void capsule_json_bytes(strbuf *b, const char *key, const char *data, size_t len)
{
    if (!data) return;
    if (capsule_is_text(data, len)) {
        strbuf_json_raw(b, key, "");
        strbuf_json_string(b, data, len);
        return;
    }
    size_t clean_len = 0;
    char *clean = secrets_redact(data, len, &clean_len);
    char *text = clean ? capsule_base64((const unsigned char *)clean, clean_len) : NULL;
    char name[64];
    snprintf(name, sizeof name, "%s_base64", key);
    strbuf_json_str(b, name, text ? text : "");
    free(clean);
    free(text);
}

/* Which AI provider a URL belongs to (by its *_BASE_URL or the provider's default), or NULL. */
static const char *capsule_provider_of(const char *url)
{
    static const char *const homes[][3] = {
        {"openai", "OPENAI_BASE_URL", "https://api.openai.com/v1"},
        {"groq", "GROQ_BASE_URL", "https://api.groq.com/openai/v1"},
        {"gemini", "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/v1beta"},
    };
    for (size_t i = 0; url && i < sizeof homes / sizeof homes[0]; i++) {
        const char *base = getenv(homes[i][1]);
        if (!base || !*base) base = homes[i][2];
        size_t n = strlen(base);
        while (n > 0 && base[n - 1] == '/') n--;
        if (strncmp(url, base, n) == 0 && (url[n] == '/' || url[n] == '\0')) return homes[i][0];
    }
    return NULL;
}

static int capsule_read_model(lua_State *S, int idx, void *ud)
{
    char *out = ud;
    if (jsondoc_field(S, idx, "model") == LUA_TSTRING) jsondoc_string(S, -1, out, 128);
    lua_pop(S, 1);
    return 0;
}

/* The model an AI request names: "model" of its JSON body, or Gemini's models/<model>:... path. */
static void capsule_model_of(const tape_exchange *e, char out[128])
{
    out[0] = '\0';
    if (e->request_body) jsondoc_read(e->request_body, strlen(e->request_body), capsule_read_model, out);
    const char *m = e->target ? strstr(e->target, "/models/") : NULL;
    if (!out[0] && m) {
        m += 8;
        snprintf(out, 128, "%.*s", (int)strcspn(m, ":?/"), m);
    }
}

/* The index of an earlier exchange of list[0..i) with the same answer body, or -1: a strategy reads
 * the same candles several times (default.lua: 3, then 200 to reseed, then 24 for the AI prompt),
 * and gzip's 32 KiB window cannot fold three copies of a 50 KiB answer. */
static long capsule_same_body(const tape_exchange *list, size_t i)
{
    const tape_exchange *e = &list[i];
    for (size_t j = 0; e->body && e->body_len > 256 && j < i; j++)
        if (list[j].body && list[j].body_len == e->body_len && memcmp(list[j].body, e->body, e->body_len) == 0)
            return (long)j;
    return -1;
}

static void capsule_json_exchange(strbuf *b, const tape_exchange *e, int http, long same_as)
{
    strbuf_json_raw(b, NULL, "{");
    if (http) {
        char model[128];
        capsule_model_of(e, model);
        strbuf_json_str(b, "provider", capsule_provider_of(e->target));
        strbuf_json_str(b, "model", model[0] ? model : NULL);
        strbuf_json_str(b, "method", e->method);
        strbuf_json_str(b, "url", e->target);
        if (e->request_body) capsule_json_bytes(b, "request", e->request_body, strlen(e->request_body));
    } else {
        strbuf_json_str(b, "method", e->method);
        strbuf_json_bool(b, "private", e->is_private);
        strbuf_json_str(b, "params", e->target);
    }
    if (e->error_code) {
        strbuf_json_raw(b, "error", "{");
        strbuf_json_str(b, "code", e->error_code);
        strbuf_json_str(b, "message", e->error_message);
        strbuf_json_bool(b, "retryable", e->retryable);
        strbuf_json_bool(b, "sent", e->sent);
        strbuf_puts(b, "}");
    } else {
        strbuf_json_int(b, "status", e->status);
        if (e->n_headers) {
            strbuf_json_raw(b, "headers", "[");
            for (size_t i = 0; i < e->n_headers; i++) {
                strbuf_json_raw(b, NULL, "[");
                strbuf_json_str(b, NULL, e->headers[i].name);
                strbuf_json_str(b, NULL, e->headers[i].value);
                strbuf_puts(b, "]");
            }
            strbuf_puts(b, "]");
        }
        if (same_as >= 0) strbuf_json_int(b, "body_same_as", same_as);
        else capsule_json_bytes(b, "body", e->body ? e->body : "", e->body ? e->body_len : 0);
    }
    strbuf_json_int(b, "elapsed_ms", e->elapsed_ms);
    strbuf_json_int(b, "attempts", e->attempts);
    strbuf_puts(b, "}");
}

static void capsule_json_env(strbuf *b, const char *key, const tape_env *env, size_t n)
{
    strbuf_json_raw(b, key, "{");
    for (size_t i = 0; i < n; i++) strbuf_json_str(b, env[i].name, env[i].value);
    strbuf_puts(b, "}");
}

char *capsule_to_json(const capsule *c, size_t *len)
{
    char iso[CLOCK_ISO_SIZE];
    strbuf b = {0};
    strbuf_puts(&b, "{");
    strbuf_json_int(&b, "capsule", CAPSULE_VERSION);
    strbuf_json_str(&b, "cycle_id", c->cycle_id);
    strbuf_json_str(&b, "strategy", c->strategy);
    strbuf_json_str(&b, "mode", c->mode);
    strbuf_json_str(&b, "pair", c->pair);
    strbuf_json_int(&b, "interval", c->interval);
    strbuf_json_bool(&b, "dry_run", c->dry_run);
    strbuf_json_str(&b, "host_version", c->host_version);
    strbuf_json_str(&b, "recorded_at", clock_iso(c->recorded_ms, iso));
    strbuf_json_int(&b, "now", c->now_ms);
    strbuf_json_int(&b, "seed", c->seed);
    strbuf_json_raw(&b, "strategy_file", "{");
    strbuf_json_str(&b, "path", c->file);
    strbuf_json_str(&b, "sha256", c->sha256);
    if (c->source) capsule_json_bytes(&b, "source", c->source, strlen(c->source));
    strbuf_puts(&b, "}");
    capsule_json_env(&b, "settings", c->settings, c->n_settings);
    strbuf_json_raw(&b, "ai_providers", "[");
    for (size_t i = 0; i < c->n_ai; i++) strbuf_json_str(&b, NULL, c->ai[i]);
    strbuf_puts(&b, "]");
    strbuf_json_raw(&b, "book", "{");
    strbuf_json_num(&b, "cash", c->cash);
    strbuf_json_num(&b, "position", c->position);
    strbuf_json_num(&b, "realized_today", c->realized_today);
    strbuf_json_raw(&b, "ledger", "{");
    for (size_t i = 0; i < c->ledger_n; i++) strbuf_json_num(&b, c->ledger[i].asset, c->ledger[i].amount);
    strbuf_puts(&b, "}}");
    strbuf_json_str(&b, "state", c->state_json);
    strbuf_json_raw(&b, "kraken", "[");
    for (size_t i = 0; i < c->tape.n_kraken; i++)
        capsule_json_exchange(&b, &c->tape.kraken[i], 0, capsule_same_body(c->tape.kraken, i));
    strbuf_puts(&b, "]");
    strbuf_json_raw(&b, "http", "[");
    for (size_t i = 0; i < c->tape.n_http; i++) capsule_json_exchange(&b, &c->tape.http[i], 1, -1);
    strbuf_puts(&b, "]");
    strbuf_json_raw(&b, "clock", "[");
    for (size_t i = 0; i < c->tape.n_clock; i++) strbuf_json_int(&b, NULL, c->tape.clock[i]);
    strbuf_puts(&b, "]");
    capsule_json_env(&b, "env", c->tape.env, c->tape.n_env);
    strbuf_json_raw(&b, "outcome", "{");
    strbuf_json_str(&b, "status", c->status);
    strbuf_json_str(&b, "error", c->error);
    strbuf_json_str(&b, "decision", c->decision_json);
    strbuf_json_str(&b, "orders", c->orders_json);
    strbuf_json_int(&b, "strategy_ms", c->strategy_ms);
    strbuf_puts(&b, "}}\n");
    if (b.oom) {
        strbuf_free(&b);
        return NULL;
    }
    char *clean = secrets_redact(b.data, b.len, len);
    strbuf_free(&b);
    return clean;
}

int capsule_pack(const capsule *c, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    size_t len = 0;
    char *json = capsule_to_json(c, &len);
    if (!json) return -1;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip stream, so `zcat capsule-….json.gz | jq` reads it */
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(json);
        return -1;
    }
    size_t cap = deflateBound(&z, len);
    unsigned char *buf = malloc(cap);
    int rc = -1;
    if (buf) {
        z.next_in = (unsigned char *)json;
        z.avail_in = (uInt)len;
        z.next_out = buf;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END) {
            *out = buf;
            *out_len = z.total_out;
            rc = 0;
        } else {
            free(buf);
        }
    }
    deflateEnd(&z);
    free(json);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------- */

typedef struct capsule_reader {
    capsule *c;
    char why[256];
} capsule_reader;

static int capsule_bad(capsule_reader *r, const char *what)
{
    snprintf(r->why, sizeof r->why, "%s", what);
    return -1;
}

/* A malloc'd copy of string field `key` of obj (NULL when absent, null or not a string); a field
 * `key`_base64 is decoded instead. -1 only when out of memory or the base64 is broken. */
static int capsule_get_bytes(lua_State *S, int obj, const char *key, char **out, size_t *out_len)
{
    *out = NULL;
    if (out_len) *out_len = 0;
    size_t len = 0;
    if (jsondoc_field(S, obj, key) == LUA_TSTRING) {
        const char *s = lua_tolstring(S, -1, &len);
        *out = malloc(len + 1);
        if (*out) memcpy(*out, s, len), (*out)[len] = '\0';
    } else {
        char name[64];
        snprintf(name, sizeof name, "%s_base64", key);
        lua_pop(S, 1);
        if (jsondoc_field(S, obj, name) == LUA_TSTRING) {
            const char *s = lua_tolstring(S, -1, &len);
            *out = (char *)capsule_unbase64(s, &len);
            if (!*out) { lua_pop(S, 1); return -1; }
        } else {
            lua_pop(S, 1);
            return 0;
        }
    }
    lua_pop(S, 1);
    if (!*out) return -1;
    if (out_len) *out_len = len;
    return 0;
}

static char *capsule_get_string(lua_State *S, int obj, const char *key)
{
    char *s = NULL;
    capsule_get_bytes(S, obj, key, &s, NULL);
    return s;
}

static double capsule_get_number(lua_State *S, int obj, const char *key, double fallback)
{
    double v = jsondoc_field(S, obj, key) == LUA_TNUMBER ? lua_tonumber(S, -1) : fallback;
    lua_pop(S, 1);
    return v;
}

static int64_t capsule_get_int(lua_State *S, int obj, const char *key)
{
    int ok = 0;
    lua_Integer v = jsondoc_field(S, obj, key) == LUA_TNUMBER ? lua_tointegerx(S, -1, &ok) : 0;
    lua_pop(S, 1);
    return ok ? (int64_t)v : 0;
}

static int capsule_get_bool(lua_State *S, int obj, const char *key)
{
    int v = jsondoc_field(S, obj, key) == LUA_TBOOLEAN && lua_toboolean(S, -1);
    lua_pop(S, 1);
    return v;
}

/* {"NAME": "value" | null, ...} into t's environment list. */
static int capsule_get_env(lua_State *S, int obj, const char *key, tape *t)
{
    if (jsondoc_field(S, obj, key) != LUA_TTABLE) {
        lua_pop(S, 1);
        return 0;
    }
    int env = lua_gettop(S);
    lua_pushnil(S);
    while (lua_next(S, env)) {                         /* [ env, name, value ] */
        const char *name = lua_type(S, -2) == LUA_TSTRING ? lua_tostring(S, -2) : NULL;
        const char *value = lua_type(S, -1) == LUA_TSTRING ? lua_tostring(S, -1) : NULL;
        int bad = name && tape_add_env(t, name, value) != 0;
        lua_pop(S, 1);
        if (bad) {
            lua_pop(S, 2);
            return -1;
        }
    }
    lua_pop(S, 1);
    return 0;
}

/* One exchange into e; *same_as >= 0 when its body is that of an earlier one ("body_same_as"). */
static int capsule_read_exchange(lua_State *S, int obj, tape_exchange *e, int http, long *same_as)
{
    memset(e, 0, sizeof *e);
    e->method = capsule_get_string(S, obj, "method");
    e->target = capsule_get_string(S, obj, http ? "url" : "params");
    e->is_private = capsule_get_bool(S, obj, "private");
    char *request = NULL, *body = NULL;
    int bad = http && capsule_get_bytes(S, obj, "request", &request, NULL) != 0;
    e->request_body = request;
    if (bad) return -1;
    e->status = (long)capsule_get_int(S, obj, "status");
    e->elapsed_ms = (long)capsule_get_int(S, obj, "elapsed_ms");
    e->attempts = (int)capsule_get_int(S, obj, "attempts");
    if (jsondoc_field(S, obj, "error") == LUA_TTABLE) {
        int err = lua_gettop(S);
        e->error_code = capsule_get_string(S, err, "code");
        e->error_message = capsule_get_string(S, err, "message");
        e->retryable = capsule_get_bool(S, err, "retryable");
        e->sent = capsule_get_bool(S, err, "sent");
    }
    lua_pop(S, 1);
    bad = capsule_get_bytes(S, obj, "body", &body, &e->body_len) != 0;
    e->body = body;
    if (bad) return -1;
    *same_as = -1;
    if (!body && !e->error_code) {
        if (jsondoc_field(S, obj, "body_same_as") == LUA_TNUMBER) *same_as = (long)lua_tointeger(S, -1);
        lua_pop(S, 1);
    }
    if (jsondoc_field(S, obj, "headers") == LUA_TTABLE) {
        int list = lua_gettop(S);
        size_t n = lua_rawlen(S, list);
        e->headers = n ? calloc(n, sizeof *e->headers) : NULL;
        for (size_t i = 0; e->headers && i < n; i++) {
            lua_rawgeti(S, list, (lua_Integer)i + 1);
            lua_rawgeti(S, -1, 1);
            lua_rawgeti(S, -2, 2);
            char *name = lua_type(S, -2) == LUA_TSTRING ? strdup(lua_tostring(S, -2)) : NULL;
            char *value = lua_type(S, -1) == LUA_TSTRING ? strdup(lua_tostring(S, -1)) : NULL;
            if (name && value) e->headers[e->n_headers++] = (tape_header){name, value};
            else free(name), free(value);
            lua_pop(S, 3);
        }
    }
    lua_pop(S, 1);
    return e->method ? 0 : -1;
}

/* The exchanges of list `key` into the tape (add copies; the read one is freed). */
static int capsule_read_exchanges(lua_State *S, int obj, const char *key, tape *t, int http)
{
    if (jsondoc_field(S, obj, key) != LUA_TTABLE) {
        lua_pop(S, 1);
        return 0;
    }
    int list = lua_gettop(S);
    size_t n = lua_rawlen(S, list);
    int rc = 0;
    for (size_t i = 1; rc == 0 && i <= n; i++) {
        tape_exchange e = {0};
        lua_rawgeti(S, list, (lua_Integer)i);
        long same_as = -1;
        rc = lua_istable(S, -1) && capsule_read_exchange(S, lua_gettop(S), &e, http, &same_as) == 0 ? 0 : -1;
        const tape_exchange *earlier = http ? t->http : t->kraken;
        size_t done = http ? t->n_http : t->n_kraken;
        int borrowed = rc == 0 && same_as >= 0 && (size_t)same_as < done && earlier[same_as].body;
        if (borrowed) {                                /* the bytes of an earlier answer, copied by tape_add */
            e.body = earlier[same_as].body;
            e.body_len = earlier[same_as].body_len;
        }
        if (rc == 0 && !(http ? tape_add_http(t, &e) : tape_add_kraken(t, &e))) rc = -1;
        if (borrowed) e.body = NULL;                   /* not ours to free */
        lua_pop(S, 1);
        tape_exchange_free(&e);                        /* the tape holds its own copy */
    }
    lua_pop(S, 1);
    return rc;
}

static int capsule_read_doc(lua_State *S, int idx, void *ud)
{
    capsule_reader *r = ud;
    capsule *c = r->c;
    if (!lua_istable(S, idx)) return capsule_bad(r, "not a JSON object");
    if (capsule_get_int(S, idx, "capsule") != CAPSULE_VERSION) return capsule_bad(r, "not a capsule of layout version 1");
    c->cycle_id = capsule_get_string(S, idx, "cycle_id");
    c->strategy = capsule_get_string(S, idx, "strategy");
    c->mode = capsule_get_string(S, idx, "mode");
    c->pair = capsule_get_string(S, idx, "pair");
    c->host_version = capsule_get_string(S, idx, "host_version");
    c->interval = (int)capsule_get_int(S, idx, "interval");
    c->dry_run = capsule_get_bool(S, idx, "dry_run");
    c->now_ms = capsule_get_int(S, idx, "now");
    c->seed = capsule_get_int(S, idx, "seed");
    char *recorded = capsule_get_string(S, idx, "recorded_at");
    if (!recorded || clock_parse_iso(recorded, &c->recorded_ms) != 0) c->recorded_ms = 0;
    free(recorded);
    if (!c->cycle_id || !c->strategy || !c->mode || !c->pair || c->interval <= 0 || c->now_ms <= 0)
        return capsule_bad(r, "cycle_id, strategy, mode, pair, interval or now is missing");
    if (strcmp(c->mode, "PAPER") != 0 && strcmp(c->mode, "LIVE") != 0) return capsule_bad(r, "mode is not PAPER or LIVE");
    if (jsondoc_field(S, idx, "strategy_file") == LUA_TTABLE) {
        int f = lua_gettop(S);
        char *source = NULL;
        c->file = capsule_get_string(S, f, "path");
        c->sha256 = capsule_get_string(S, f, "sha256");
        int bad = capsule_get_bytes(S, f, "source", &source, NULL) != 0;
        c->source = source;
        if (bad) return capsule_bad(r, "out of memory");
    }
    lua_pop(S, 1);
    if (!c->source || !c->file) return capsule_bad(r, "the strategy file's text is missing");
    tape settings = {0};                               /* its environment list becomes c->settings */
    int bad = capsule_get_env(S, idx, "settings", &settings);
    c->settings = settings.env;
    c->n_settings = settings.n_env;
    if (bad) return capsule_bad(r, "out of memory");
    if (jsondoc_field(S, idx, "ai_providers") == LUA_TTABLE) {
        size_t n = lua_rawlen(S, -1);
        c->ai = n ? calloc(n, sizeof *c->ai) : NULL;
        for (size_t i = 0; c->ai && i < n; i++) {
            lua_rawgeti(S, -1, (lua_Integer)i + 1);
            char *name = lua_type(S, -1) == LUA_TSTRING ? strdup(lua_tostring(S, -1)) : NULL;
            if (name) c->ai[c->n_ai++] = name;
            lua_pop(S, 1);
        }
    }
    lua_pop(S, 1);
    if (jsondoc_field(S, idx, "book") == LUA_TTABLE) {
        int book = lua_gettop(S);
        c->cash = capsule_get_number(S, book, "cash", 0);
        c->position = capsule_get_number(S, book, "position", 0);
        c->realized_today = capsule_get_number(S, book, "realized_today", 0);
        if (jsondoc_field(S, book, "ledger") == LUA_TTABLE) {
            size_t n = jsondoc_count(S, -1);
            store_balance *ledger = n ? calloc(n, sizeof *ledger) : NULL;
            lua_pushnil(S);
            while (ledger && lua_next(S, -2)) {        /* [ ledger, asset, amount ] */
                if (lua_type(S, -2) == LUA_TSTRING && lua_type(S, -1) == LUA_TNUMBER && c->ledger_n < n) {
                    snprintf(ledger[c->ledger_n].asset, sizeof ledger[0].asset, "%s", lua_tostring(S, -2));
                    ledger[c->ledger_n++].amount = lua_tonumber(S, -1);
                }
                lua_pop(S, 1);
            }
            /* sorted by asset, as the store returns the ledger */
            for (size_t i = 1; i < c->ledger_n; i++)
                for (size_t j = i; j > 0 && strcmp(ledger[j - 1].asset, ledger[j].asset) > 0; j--) {
                    store_balance t = ledger[j];
                    ledger[j] = ledger[j - 1];
                    ledger[j - 1] = t;
                }
            c->ledger = ledger;
        }
        lua_pop(S, 1);
    }
    lua_pop(S, 1);
    c->state_json = capsule_get_string(S, idx, "state");
    if (capsule_read_exchanges(S, idx, "kraken", &c->tape, 0) != 0 ||
        capsule_read_exchanges(S, idx, "http", &c->tape, 1) != 0)
        return capsule_bad(r, "an exchange of its tape is unreadable");
    if (jsondoc_field(S, idx, "clock") == LUA_TTABLE) {
        size_t n = lua_rawlen(S, -1);
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(S, -1, (lua_Integer)i);
            int ok = 0;
            lua_Integer ms = lua_tointegerx(S, -1, &ok);
            lua_pop(S, 1);
            if (!ok || tape_add_clock(&c->tape, (int64_t)ms) != 0) return capsule_bad(r, "a clock reading is not a number");
        }
    }
    lua_pop(S, 1);
    if (capsule_get_env(S, idx, "env", &c->tape) != 0) return capsule_bad(r, "out of memory");
    if (jsondoc_field(S, idx, "outcome") == LUA_TTABLE) {
        int o = lua_gettop(S);
        c->status = capsule_get_string(S, o, "status");
        c->error = capsule_get_string(S, o, "error");
        c->decision_json = capsule_get_string(S, o, "decision");
        c->orders_json = capsule_get_string(S, o, "orders");
        c->strategy_ms = capsule_get_int(S, o, "strategy_ms");
    }
    lua_pop(S, 1);
    return 0;
}

int capsule_unpack(const unsigned char *data, size_t len, capsule *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    unsigned char *plain = NULL;
    size_t plain_len = len;
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 15 + 32) != Z_OK) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        size_t cap = len * 8 + 4096;
        plain = malloc(cap + 1);
        z.next_in = (unsigned char *)data;
        z.avail_in = (uInt)len;
        int zr = Z_OK;
        while (plain) {
            z.next_out = plain + z.total_out;
            z.avail_out = (uInt)(cap - z.total_out);
            zr = inflate(&z, Z_NO_FLUSH);
            if (zr != Z_OK || z.avail_out > 0) break;
            if (cap >= CAPSULE_MAX_UNPACKED) { zr = Z_MEM_ERROR; break; }
            cap *= 2;
            unsigned char *grown = realloc(plain, cap + 1);
            if (!grown) { free(plain); plain = NULL; break; }
            plain = grown;
        }
        plain_len = z.total_out;
        inflateEnd(&z);
        if (!plain || zr != Z_STREAM_END) {
            snprintf(err, errlen, "%s", !plain ? "out of memory" : zr == Z_MEM_ERROR ? "larger than 64 MiB unpacked"
                                                                                      : "a damaged gzip stream");
            free(plain);
            return -1;
        }
        data = plain;
    }
    capsule_reader r = {.c = out};
    int rc = jsondoc_read((const char *)data, plain_len, capsule_read_doc, &r);
    free(plain);
    if (rc != 0) {
        const char *why = rc == JSONDOC_MALFORMED ? "not JSON (nor gzip of JSON)"
                          : rc == JSONDOC_NO_MEMORY ? "out of memory" : r.why[0] ? r.why : "unreadable";
        snprintf(err, errlen, "not a capsule: %s", why);
        capsule_free(out);
        return -1;
    }
    return 0;
}

int capsule_read_file(const char *path, capsule *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    strbuf b = {0};
    char buf[16384];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && b.len < CAPSULE_MAX_UNPACKED) strbuf_append(&b, buf, n);
    int failed = ferror(f);
    fclose(f);
    if (failed || b.oom || b.len == 0) {
        snprintf(err, errlen, "%s: %s", path, failed ? "cannot be read" : b.oom ? "out of memory" : "empty");
        strbuf_free(&b);
        return -1;
    }
    char why[300];
    int rc = capsule_unpack((const unsigned char *)b.data, b.len, out, why, sizeof why);
    if (rc != 0) snprintf(err, errlen, "%s: %s", path, why);
    strbuf_free(&b);
    return rc;
}

int capsule_write_file(const char *path, const unsigned char *data, size_t len, char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, path) == 0) return 0;
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
}

void capsule_file_path(const char *blackbox_path, const char *cycle_id, char *out, size_t outlen)
{
    const char *slash = blackbox_path ? strrchr(blackbox_path, '/') : NULL;
    int dir_len = slash ? (int)(slash - blackbox_path) : 0;
    char name[256];
    size_t k = 0;
    for (const char *p = cycle_id; *p && k < sizeof name - 1; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                 ch == '_' || ch == '@' || ch == '-';
        name[k++] = ok ? ch : '-';
    }
    name[k] = '\0';
    if (slash) snprintf(out, outlen, "%.*s/capsule-%s.json.gz", dir_len, blackbox_path, name);
    else snprintf(out, outlen, "capsule-%s.json.gz", name);
}

char *capsule_base64(const unsigned char *data, size_t len)
{
    char *out = malloc(codec_base64_encoded_len(len) + 1);
    if (out) codec_base64_encode(data, len, out);
    return out;
}

unsigned char *capsule_unbase64(const char *text, size_t *len)
{
    size_t n = strlen(text);
    unsigned char *out = malloc(n / 4 * 3 + 4);
    long got = out ? codec_base64_decode(text, n, out) : -1;
    if (got < 0) {
        free(out);
        return NULL;
    }
    out[got] = '\0';
    *len = (size_t)got;
    return out;
}

void capsule_read_source(const char *path, char **text, char sha256_hex[65])
{
    *text = NULL;
    strcpy(sha256_hex, "unreadable");
    FILE *f = fopen(path, "rb");
    if (!f) return;
    strbuf b = {0};
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && b.len <= ((size_t)4 << 20)) strbuf_append(&b, buf, n);
    int failed = ferror(f) || b.oom || b.len > ((size_t)4 << 20);
    fclose(f);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (!failed && EVP_Digest(b.data ? b.data : "", b.len, digest, &dlen, EVP_sha256(), NULL)) {
        codec_hex_encode(digest, dlen, sha256_hex);
        *text = b.data ? strbuf_take(&b) : strdup("");
    }
    strbuf_free(&b);
}

int capsule_keep(const capsule *c, store *st, int days, char *file, size_t filelen, size_t *packed_len, char *err,
                 size_t errlen)
{
    unsigned char *packed = NULL;
    size_t len = 0;
    err[0] = '\0';
    if (packed_len) *packed_len = 0;
    capsule_file_path(blackbox_path(), c->cycle_id, file, filelen);
    if (capsule_pack(c, &packed, &len) != 0) {
        snprintf(err, errlen, "out of memory packing the capsule");
        return -1;
    }
    if (packed_len) *packed_len = len;
    int rc = capsule_write_file(file, packed, len, err, errlen);
    if (st) {
        char serr[512];
        char *text = capsule_base64(packed, len);
        store_capsule row = {.cycle_id = c->cycle_id, .strategy = c->strategy, .recorded_ms = c->recorded_ms,
                             .expires_ms = c->recorded_ms + (int64_t)days * 86400000, .capsule_b64 = text};
        store_rc src = text ? store_capsule_put(st, &row, serr, sizeof serr) : STORE_ERR;
        if (!text) snprintf(serr, sizeof serr, "out of memory");
        if (src != STORE_OK && rc == 0) snprintf(err, errlen, "not stored: %s", serr);
        if (src != STORE_OK) rc = -1;
        free(text);
    }
    free(packed);
    return rc;
}
