/* titan.http — HTTP requests from Lua over host/http.c (libcurl, TLS always verified).
 *   request{method, url, headers, body, timeout_ms, connect_timeout_ms, retries, idempotent,
 *           follow_redirects, max_body} -> res{status, headers, body, elapsed_ms, attempts} | nil, err
 *   batch{req1, req2, ...} -> results, results[i] = {res} or {nil, err} (n = 1 or 2), in request order
 * Misuse (bad method, non-string url, unknown field, header value of a wrong type) raises. Failures
 * of the network are nil, err{code, message, retryable, sent, attempts, elapsed_ms}; a non-2xx
 * status is a response (err.code http.memory_budget: the responses would not fit in what is left
 * of TITAN_LUA_MEM_MB; replay.unrecorded: a replay's capsule has no answer for it). Header values may be secret handles, resolved here in C, never in Lua;
 * such a request must use https:// (or http:// to loopback) and cannot follow redirects. */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "bindings.h"
#include "http.h"
#include "runtime.h"
#include "secrets.h"
#include "tape.h"

#define HTTP_CALL_METATABLE "titan.http.call"
#define HTTP_MAX_BATCH 64
#define HTTP_MAX_TIMEOUT_MS (10 * 60 * 1000)
#define HTTP_MAX_BODY_CAP (512u * 1024 * 1024)

/* C copies of one request's strings (the header lines may hold secrets: wiped when freed). */
typedef struct http_owned {
    char *method, *url, *body;
    char **lines;
    size_t line_count;
    int has_secret;                 /* a header carries a titan.secret value */
} http_owned;

/* Everything one call allocates, owned by a userdata so a Lua error at any point frees it (__gc). */
typedef struct http_call {
    size_t n;
    http_request *reqs;
    http_response *res;
    http_owned *owned;
} http_call;

static void http_wipe_free(char *s)
{
    if (!s) return;
    volatile char *p = s;
    while (*p) *p++ = 0;
    free(s);
}

static int http_call_gc(lua_State *L)
{
    http_call *c = luaL_checkudata(L, 1, HTTP_CALL_METATABLE);
    for (size_t i = 0; i < c->n; i++) {
        if (c->owned) {
            http_owned *o = &c->owned[i];
            free(o->method);
            free(o->url);
            free(o->body);
            for (size_t j = 0; j < o->line_count; j++) http_wipe_free(o->lines[j]);
            free(o->lines);
        }
        if (c->res) http_response_free(&c->res[i]);
    }
    free(c->reqs);
    free(c->res);
    free(c->owned);
    c->reqs = NULL;
    c->res = NULL;
    c->owned = NULL;
    c->n = 0;
    return 0;
}

/* Pushes a call userdata for n requests. */
static http_call *http_call_new(lua_State *L, size_t n)
{
    http_call *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    if (luaL_newmetatable(L, HTTP_CALL_METATABLE)) {
        lua_pushcfunction(L, http_call_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    c->reqs = calloc(n, sizeof *c->reqs);
    c->res = calloc(n, sizeof *c->res);
    c->owned = calloc(n, sizeof *c->owned);
    if (!c->reqs || !c->res || !c->owned) luaL_error(L, "out of memory");
    c->n = n;
    return c;
}

static char *http_copy(lua_State *L, const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (!p) luaL_error(L, "out of memory");
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static int http_is_token(const char *s, size_t len)
{
    if (len == 0) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
            !strchr("!#$%&'*+-.^_`|~", ch))
            return 0;
    }
    return 1;
}

static int http_has_line_break(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 1;
    return 0;
}

/* scheme://host:port of url, lower-case, default ports filled in; 0, or -1 when unparsable. */
static int http_origin(const char *url, char *out, size_t outlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        snprintf(out, outlen, "%s://%s:%s", scheme, host, port);
        for (char *p = out; *p; p++) *p = (char)tolower((unsigned char)*p);
        rc = 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* Each AI key may only go to its own provider: the origin of *_BASE_URL, or the provider's. */
static void http_check_secret_destination(lua_State *L, const char *secret_name, const char *url, const char *where)
{
    static const char *const homes[][3] = {
        {"OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"},
        {"GROQ_API_KEY", "GROQ_BASE_URL", "https://api.groq.com/openai/v1"},
        {"GEMINI_API_KEY", "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/v1beta"},
    };
    for (size_t i = 0; i < sizeof homes / sizeof homes[0]; i++) {
        if (strcmp(secret_name, homes[i][0]) != 0) continue;
        const char *base = getenv(homes[i][1]);
        if (!base || !*base) base = homes[i][2];
        char want[512], got[512];
        if (http_origin(base, want, sizeof want) != 0 || http_origin(url, got, sizeof got) != 0 ||
            strcmp(want, got) != 0)
            luaL_error(L, "%s: secret %s may only be sent to %s (its provider's address; %s changes it)", where,
                       secret_name, base, homes[i][1]);
        return;
    }
    luaL_error(L, "%s: secret %s cannot be sent from Lua", where, secret_name);
}

/* One piece of a header value at idx: a string or a secret handle. Sets *s and *len, or raises. */
static void http_header_part(lua_State *L, int idx, const char *where, const char *name, const char **s,
                             size_t *len, http_owned *o)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        *s = lua_tolstring(L, idx, len);
        if (http_has_line_break(*s, *len))
            luaL_error(L, "%s: header '%s' contains a line break or NUL", where, name);
        return;
    }
    const char *secret_name = bindings_secret_name(L, idx);
    if (!secret_name)
        luaL_error(L, "%s: header '%s' must be a string, a titan.secret handle or an array of them (got %s)",
                   where, name, luaL_typename(L, idx));
    http_check_secret_destination(L, secret_name, o->url, where);
    *s = bindings_secret_value(L, idx);
    if (!*s) luaL_error(L, "%s: secret %s is not set", where, secret_name);
    o->has_secret = 1;
    *len = strlen(*s);
    if (http_has_line_break(*s, *len))
        luaL_error(L, "%s: secret %s contains a line break and cannot be sent as a header", where, secret_name);
}

/* Builds "Name: value" from the value at idx (string, handle or array of them) into C memory. */
static char *http_header_line(lua_State *L, int idx, const char *where, const char *name, size_t name_len,
                              http_owned *o)
{
    idx = lua_absindex(L, idx);
    int is_array = lua_type(L, idx) == LUA_TTABLE;
    lua_Integer parts = is_array ? (lua_Integer)lua_rawlen(L, idx) : 1;
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *line = NULL;
        size_t at = 0;
        if (pass == 1) {
            line = malloc(name_len + 2 + total + 1);
            if (!line) luaL_error(L, "out of memory");
            memcpy(line, name, name_len);
            at = name_len;
            /* curl drops "Name:" with nothing after it; "Name;" sends an empty header. */
            if (total == 0) { line[at++] = ';'; line[at] = '\0'; return line; }
            line[at++] = ':';
            line[at++] = ' ';
        }
        for (lua_Integer k = 1; k <= parts; k++) {
            if (is_array) lua_rawgeti(L, idx, k);             /* [ part ] */
            const char *s;
            size_t len;
            /* No Lua call can happen between measuring and copying: the line is only in C. */
            http_header_part(L, is_array ? -1 : idx, where, name, &s, &len, o);
            if (pass == 0) total += len;
            else { memcpy(line + at, s, len); at += len; }
            if (is_array) lua_pop(L, 1);
        }
        if (pass == 1) { line[at] = '\0'; return line; }
    }
    return NULL;
}

static void http_parse_headers(lua_State *L, int idx, const char *where, http_owned *o)
{
    idx = lua_absindex(L, idx);
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) { count++; lua_pop(L, 1); }
    if (count == 0) return;
    o->lines = calloc(count, sizeof *o->lines);
    if (!o->lines) luaL_error(L, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, idx)) {                                  /* [ key, value ] */
        if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "%s: header names must be strings", where);
        size_t name_len;
        const char *name = lua_tolstring(L, -2, &name_len);
        if (!http_is_token(name, name_len)) luaL_error(L, "%s: invalid header name '%s'", where, name);
        int t = lua_type(L, -1);
        if (t != LUA_TSTRING && t != LUA_TTABLE && !bindings_secret_name(L, -1))
            luaL_error(L, "%s: header '%s' must be a string, a titan.secret handle or an array of them (got %s)",
                       where, name, luaL_typename(L, -1));
        if (o->line_count < count) o->lines[o->line_count++] = http_header_line(L, -1, where, name, name_len, o);
        lua_pop(L, 1);
    }
}

static const char *const http_fields[] = {"body", "connect_timeout_ms", "follow_redirects", "headers",
                                          "idempotent", "max_body", "method", "retries", "timeout_ms", "url",
                                          NULL};

static const char *const http_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL};

static lua_Integer http_opt_integer(lua_State *L, int idx, const char *field, const char *where, lua_Integer def,
                                    lua_Integer min, lua_Integer max)
{
    lua_Integer v = def;
    if (lua_getfield(L, idx, field) != LUA_TNIL) {
        int ok = 0;
        if (lua_type(L, -1) == LUA_TNUMBER) v = lua_tointegerx(L, -1, &ok);
        if (!ok || v < min || v > max)
            luaL_error(L, "%s: %s must be an integer from %I to %I", where, field, min, max);
    }
    lua_pop(L, 1);
    return v;
}

static int http_opt_boolean(lua_State *L, int idx, const char *field, const char *where)
{
    int t = lua_getfield(L, idx, field);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN) luaL_error(L, "%s: %s must be a boolean", where, field);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Only numeric loopback addresses or exactly "localhost": "127.evil.example" is a name, not loopback. */
static int http_is_loopback(const char *host)
{
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    return strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* Checks the URL's shape; returns 1 when it is plain http:// to a host other than loopback. */
static int http_check_url(lua_State *L, const char *url, const char *where)
{
    int is_http = strncasecmp(url, "http://", 7) == 0;
    if (!is_http && strncasecmp(url, "https://", 8) != 0)
        luaL_error(L, "%s: url must start with http:// or https://", where);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) luaL_error(L, "%s: url contains a space or control character", where);
    CURLU *u = curl_url();
    if (!u) luaL_error(L, "out of memory");
    char *host = NULL;
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc == CURLUE_OK) rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    int remote_http = rc == CURLUE_OK && is_http && !http_is_loopback(host);
    curl_free(host);
    curl_url_cleanup(u);
    if (rc != CURLUE_OK) luaL_error(L, "%s: malformed url (%s)", where, curl_url_strerror(rc));
    return remote_http;
}

/* Reads the request table at idx into slot i of the call; raises on misuse. */
static void http_parse_request(lua_State *L, int idx, http_call *c, size_t i, const char *where)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE) luaL_error(L, "%s: must be a table", where);
    http_request *req = &c->reqs[i];
    http_owned *o = &c->owned[i];
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int known = 0;
        for (int f = 0; key && http_fields[f]; f++) known |= strcmp(key, http_fields[f]) == 0;
        if (!known) {
            lua_pushvalue(L, -2);
            luaL_error(L, "%s: unknown field '%s'", where, luaL_tolstring(L, -1, NULL));
        }
        lua_pop(L, 1);
    }

    int t = lua_getfield(L, idx, "method");
    const char *method = "GET";
    if (t != LUA_TNIL) {
        method = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int found = 0;
        for (int m = 0; method && http_methods[m]; m++) found |= strcmp(method, http_methods[m]) == 0;
        if (!found) luaL_error(L, "%s: method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS", where);
    }
    o->method = http_copy(L, method, strlen(method));
    lua_pop(L, 1);

    if (lua_getfield(L, idx, "url") != LUA_TSTRING) luaL_error(L, "%s: url must be a string", where);
    size_t url_len;
    const char *url = lua_tolstring(L, -1, &url_len);
    if (strlen(url) != url_len) luaL_error(L, "%s: url contains a NUL byte", where);
    int remote_http = http_check_url(L, url, where);
    o->url = http_copy(L, url, url_len);
    lua_pop(L, 1);

    t = lua_getfield(L, idx, "body");
    if (t != LUA_TNIL) {
        if (t != LUA_TSTRING) luaL_error(L, "%s: body must be a string", where);
        if (strcmp(o->method, "GET") == 0 || strcmp(o->method, "HEAD") == 0)
            luaL_error(L, "%s: a %s request cannot have a body", where, o->method);
        size_t len;
        const char *body = lua_tolstring(L, -1, &len);
        o->body = http_copy(L, body, len);
        req->body_len = len;
    }
    lua_pop(L, 1);

    t = lua_getfield(L, idx, "headers");
    if (t != LUA_TNIL) {
        if (t != LUA_TTABLE) luaL_error(L, "%s: headers must be a table", where);
        http_parse_headers(L, -1, where, o);
    }
    lua_pop(L, 1);

    req->timeout_ms = (long)http_opt_integer(L, idx, "timeout_ms", where, HTTP_DEFAULT_TIMEOUT_MS, 1,
                                             HTTP_MAX_TIMEOUT_MS);
    req->connect_timeout_ms = (long)http_opt_integer(L, idx, "connect_timeout_ms", where,
                                                     HTTP_DEFAULT_CONNECT_TIMEOUT_MS, 1, HTTP_MAX_TIMEOUT_MS);
    req->retries = (int)http_opt_integer(L, idx, "retries", where, 0, 0, 10);
    req->max_body = (size_t)http_opt_integer(L, idx, "max_body", where, HTTP_DEFAULT_MAX_BODY, 1, HTTP_MAX_BODY_CAP);
    req->idempotent = http_opt_boolean(L, idx, "idempotent", where);
    req->follow_redirects = http_opt_boolean(L, idx, "follow_redirects", where);
    /* A secret never travels in clear text over a network, nor to wherever a redirect points
     * (libcurl passes custom headers on to the next host). */
    if (o->has_secret && remote_http)
        luaL_error(L, "%s: secret headers need an https:// url (plain http only to a loopback host)", where);
    if (o->has_secret && req->follow_redirects)
        luaL_error(L, "%s: follow_redirects cannot be used with secret headers", where);
    req->method = o->method;
    req->url = o->url;
    req->body = o->body;
    req->headers = (const char *const *)o->lines;
    req->header_count = o->line_count;
}

/* Pushes text, with every secret redacted when `redact` (the request carried one: a server that
 * echoes headers must not hand the value back to Lua). */
static void http_push_text(lua_State *L, const char *text, size_t len, int redact)
{
    if (!redact) {
        lua_pushlstring(L, text, len);
        return;
    }
    size_t clean_len = 0;
    char *clean = secrets_redact(text, len, &clean_len);
    if (!clean) luaL_error(L, "out of memory while redacting a response");
    lua_pushlstring(L, clean, clean_len);
    free(clean);
}

/* Pushes res as a table, or nil and the error table; returns the number of values pushed. */
static int http_push_result(lua_State *L, const http_response *res, int redact)
{
    if (res->error_code) {
        bindings_push_error(L, res->error_code, "", res->retryable);   /* [ nil, err ] */
        http_push_text(L, res->error_message, strlen(res->error_message), redact);
        lua_setfield(L, -2, "message");
        lua_pushboolean(L, res->request_sent);
        lua_setfield(L, -2, "sent");
        lua_pushinteger(L, res->attempts);
        lua_setfield(L, -2, "attempts");
        lua_pushinteger(L, res->elapsed_ms);
        lua_setfield(L, -2, "elapsed_ms");
        return 2;
    }
    lua_createtable(L, 0, 5);                                   /* [ res ] */
    lua_pushinteger(L, res->status);
    lua_setfield(L, -2, "status");
    lua_createtable(L, 0, (int)res->header_count);              /* [ res, headers ] */
    for (size_t i = 0; i < res->header_count; i++) {
        http_push_text(L, res->headers[i].value, strlen(res->headers[i].value), redact);
        lua_setfield(L, -2, res->headers[i].name);
    }
    lua_setfield(L, -2, "headers");
    http_push_text(L, res->body ? res->body : "", res->body ? res->body_len : 0, redact);
    lua_setfield(L, -2, "body");
    lua_pushinteger(L, res->elapsed_ms);
    lua_setfield(L, -2, "elapsed_ms");
    lua_pushinteger(L, res->attempts);
    lua_setfield(L, -2, "attempts");
    return 1;
}

/* The responses of a call from Lua become Lua strings: while they are C buffers they count
 * against what is left of the Lua memory budget, so 16 requests with max_body = 512 MiB cannot
 * take gigabytes under TITAN_LUA_MEM_MB=64 (they fail with http.memory_budget). */
static void http_perform_from_lua(lua_State *L, http_call *c)
{
    if (tape_http_play(c->reqs, c->res, c->n) == 0) return;    /* a replay: from the capsule */
    http_perform_within(c->reqs, c->res, c->n, runtime_memory_left(L));
    tape_http_record(c->reqs, c->res, c->n);
}

/* A request made from Lua ends within the call's wall-clock budget (raises if it is spent). */
static void http_bound_by_budget(lua_State *L, http_request *reqs, size_t n)
{
    int64_t left = runtime_budget_left_ms(L);
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].timeout_ms > left) reqs[i].timeout_ms = (long)left;
        if (reqs[i].connect_timeout_ms > left) reqs[i].connect_timeout_ms = (long)left;
    }
}

static int http_request_fn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    http_call *c = http_call_new(L, 1);                         /* [ req, call ] */
    http_parse_request(L, 1, c, 0, "titan.http.request");
    http_bound_by_budget(L, c->reqs, 1);
    http_perform_from_lua(L, c);
    int n = http_push_result(L, &c->res[0], c->owned[0].has_secret);
    lua_pushcfunction(L, http_call_gc);                         /* free now, not at the next GC */
    lua_pushvalue(L, 2);
    lua_call(L, 1, 0);
    return n;
}

static int http_batch_fn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    size_t n = (size_t)lua_rawlen(L, 1);
    luaL_argcheck(L, n <= HTTP_MAX_BATCH, 1, "at most 64 requests per batch");
    lua_createtable(L, (int)n, 0);                              /* [ reqs, results ] */
    if (n == 0) return 1;
    http_call *c = http_call_new(L, n);                         /* [ reqs, results, call ] */
    for (size_t i = 0; i < n; i++) {
        char where[48];
        snprintf(where, sizeof where, "titan.http.batch: request %zu", i + 1);
        lua_rawgeti(L, 1, (lua_Integer)(i + 1));               /* [ reqs, results, call, req ] */
        http_parse_request(L, -1, c, i, where);
        lua_pop(L, 1);
    }
    http_bound_by_budget(L, c->reqs, n);
    http_perform_from_lua(L, c);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 2, 1);                               /* [ ..., pair ] */
        int k = http_push_result(L, &c->res[i], c->owned[i].has_secret);                /* [ ..., pair, res | nil, err ] */
        for (int j = k; j >= 1; j--) lua_rawseti(L, -1 - j, j);
        lua_pushinteger(L, k);
        lua_setfield(L, -2, "n");
        lua_rawseti(L, 2, (lua_Integer)(i + 1));
    }
    lua_pushcfunction(L, http_call_gc);
    lua_pushvalue(L, 3);
    lua_call(L, 1, 0);
    lua_settop(L, 2);
    return 1;
}

static const luaL_Reg http_functions[] = {
    {"batch", http_batch_fn},
    {"request", http_request_fn},
    {NULL, NULL},
};

int luaopen_titan_http(lua_State *L)
{
    luaL_newlib(L, http_functions);
    return 1;
}
