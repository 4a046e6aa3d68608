/* The Supabase store: PostgREST over HTTPS (protocols.md, "Supabase REST"). The cycle lock is an
 * insert that conflicts (409/23505) and a takeover is a conditional PATCH with
 * return=representation — only the runner whose PATCH returned the row holds the lock. The
 * paper fill is one RPC (titan_apply_fill in examples/supabase/schema.sql) so it stays atomic. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "http.h"
#include "secrets.h"
#include "store_impl.h"
#include "strbuf.h"
#include "version.h"

#define SB_ACQUIRE_ROUNDS 4

typedef struct sb_store {
    char *base;          /* https://<ref>.supabase.co, no trailing slash */
    char *apikey_header; /* "apikey: <key>" */
    char *auth_header;   /* "Authorization: Bearer <key>", NULL for sb_ keys */
    char prefix[600];    /* "supabase <base>" */
    store_json *json;    /* reads the answers (store_json.c) */
} sb_store;

/* Every execution_logs column; the JSON ones cast to text, so they come back as stored. */
#define SB_CYCLE_COLUMNS                                                                                      \
    "cycle_id,strategy,mode,status,holder,started_at,lease_until,finished_at,decision::text,orders::text,error," \
    "host_version"

/* One PostgREST exchange: the status (0 = transport failure) and the body. */
typedef struct sb_reply {
    long status;
    char *body;
    size_t len;
    char code[16]; /* PostgREST/Postgres error code from the body, e.g. "23505" */
} sb_reply;

static void sb_reply_free(sb_reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static void sb_wipe_free(char *s)
{
    if (!s) return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static void sb_close(void *impl)
{
    sb_store *s = impl;
    if (!s) return;
    free(s->base);
    store_json_close(s->json);
    sb_wipe_free(s->apikey_header);
    sb_wipe_free(s->auth_header);
    free(s);
}

/* Appends `name=op.value` (value percent-encoded) with the right separator. */
static void sb_filter(strbuf *q, const char *name, const char *op, const char *value)
{
    strbuf_puts(q, strchr(strbuf_cstr(q), '?') ? "&" : "?");
    strbuf_printf(q, "%s=%s.", name, op);
    strbuf_urlencode(q, value, strlen(value));
}

static void sb_filter_time(strbuf *q, const char *name, const char *op, int64_t ms)
{
    char iso[CLOCK_ISO_SIZE];
    sb_filter(q, name, op, clock_iso(ms, iso));
}

static void sb_param(strbuf *q, const char *name, const char *value)
{
    strbuf_puts(q, strchr(strbuf_cstr(q), '?') ? "&" : "?");
    strbuf_printf(q, "%s=%s", name, value);
}

/* JSON body helpers: members appended to an object under construction. */
static void sb_json_key(strbuf *b, const char *key)
{
    /* a comma unless this is the first member of the innermost object */
    strbuf_puts(b, b->len && b->data[b->len - 1] != '{' ? ",\"" : "\"");
    strbuf_puts(b, key);
    strbuf_puts(b, "\":");
}

static void sb_json_str(strbuf *b, const char *key, const char *value)
{
    sb_json_key(b, key);
    if (value) strbuf_json_string(b, value, strlen(value));
    else strbuf_puts(b, "null");
}

static void sb_json_time(strbuf *b, const char *key, int64_t ms)
{
    char iso[CLOCK_ISO_SIZE];
    sb_json_str(b, key, ms ? clock_iso(ms, iso) : NULL);
}

static void sb_json_raw(strbuf *b, const char *key, const char *json)
{
    sb_json_key(b, key);
    strbuf_puts(b, json ? json : "null");
}

static void sb_json_num(strbuf *b, const char *key, double v)
{
    sb_json_key(b, key);
    strbuf_printf(b, "%.17g", v);
}

/* Writes "supabase <base>/rest/v1/<table>: <msg>" into err. */
static void sb_errorf(sb_store *s, const char *path, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void sb_errorf(sb_store *s, const char *path, char *err, size_t errlen, const char *fmt, ...)
{
    char where[1200], msg[700];
    size_t plen = strcspn(path, "?");
    snprintf(where, sizeof where, "supabase %s/rest/v1/%.*s", s->base, (int)(plen > 200 ? 200 : plen), path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    store_errorf(err, errlen, where, "%s", msg);
}

/* Performs one request to /rest/v1/<path>. Returns the HTTP status (2xx = success), or 0 when it
 * failed (err filled). For 4xx/5xx err is filled too and reply->code holds the error code, so
 * callers can treat some statuses (409) as answers rather than failures. */
static long sb_request(sb_store *s, const char *method, const char *path, const char *prefer, const char *body,
                       sb_reply *reply, char *err, size_t errlen)
{
    memset(reply, 0, sizeof *reply);
    strbuf url = {0}, prefer_line = {0};
    strbuf_printf(&url, "%s/rest/v1/%s", s->base, path);
    const char *headers[6];
    size_t nh = 0;
    headers[nh++] = s->apikey_header;
    if (s->auth_header) headers[nh++] = s->auth_header;
    headers[nh++] = "Accept: application/json";
    if (body) headers[nh++] = "Content-Type: application/json";
    if (prefer) {
        strbuf_printf(&prefer_line, "Prefer: %s", prefer);
        headers[nh++] = strbuf_cstr(&prefer_line);
    }
    int is_get = strcmp(method, "GET") == 0;
    http_request req = {
        .method = method,
        .url = strbuf_cstr(&url),
        .headers = headers,
        .header_count = nh,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = store_timeout_ms(),
        .retries = is_get ? 2 : 0,
        .idempotent = is_get,
    };
    http_response res;
    if (url.oom || prefer_line.oom) {
        sb_errorf(s, path, err, errlen, "out of memory");
        strbuf_free(&url), strbuf_free(&prefer_line);
        return 0;
    }
    http_perform(&req, &res);
    strbuf_free(&url), strbuf_free(&prefer_line);
    long status = res.status;
    if (status == 0) {
        sb_errorf(s, path, err, errlen, "%s failed: %s (%s)%s", method, res.error_message,
                  res.error_code ? res.error_code : "http.error",
                  res.request_sent && !is_get ? "; the request may have reached the store" : "");
    } else {
        reply->status = status;
        reply->body = res.body, reply->len = res.body_len;
        res.body = NULL, res.body_len = 0;
        if (status >= 300) {
            char *code = NULL, *message = NULL, *details = NULL;
            int json = store_json_error(s->json, reply->body, reply->len, &code, &message, &details) == 0;
            if (code) snprintf(reply->code, sizeof reply->code, "%s", code);
            const char *advice = status == 401 || status == 403
                                     ? " — check SUPABASE_KEY: it must be the project's secret (service role) key"
                                 : status == 404 && code && strcmp(code, "PGRST202") == 0
                                     ? " — apply examples/supabase/schema.sql to the project"
                                 : status == 404 ? " — is examples/supabase/schema.sql applied?"
                                                 : "";
            sb_errorf(s, path, err, errlen, "%s: HTTP %ld%s%s%s%.200s%s%.200s%s", method, status,
                      code ? " [" : "", code ? code : "", code ? "] " : " ",
                      message ? message : json ? "(no message)" : "(the body is not a PostgREST error)",
                      details ? " — " : "", details ? details : "", advice);
            free(code), free(message), free(details);
        }
    }
    http_response_free(&res);
    return status;
}

/* Like sb_request but treats every non-2xx as a failure. Returns 0 on success, -1 on failure. */
static int sb_call(sb_store *s, const char *method, const char *path, const char *prefer, const char *body,
                   sb_reply *reply, char *err, size_t errlen)
{
    long status = sb_request(s, method, path, prefer, body, reply, err, errlen);
    if (status >= 200 && status < 300) return 0;
    sb_reply_free(reply);
    return -1;
}

/* Ends the use of a 2xx reply by a reader: frees it; when the reader refused the body (bad),
 * err says why. STORE_OK or STORE_ERR. */
static store_rc sb_read_done(sb_store *s, const char *path, sb_reply *r, int bad, const char *why, char *err,
                             size_t errlen)
{
    if (bad)
        sb_errorf(s, path, err, errlen, "malformed response body (HTTP %ld, %zu bytes): %s", r->status, r->len, why);
    sb_reply_free(r);
    return bad ? STORE_ERR : STORE_OK;
}

/* GETs path; 0, or -1 (err filled). */
static int sb_get(sb_store *s, const char *path, sb_reply *r, char *err, size_t errlen)
{
    return sb_call(s, "GET", path, NULL, NULL, r, err, errlen);
}

/* Reads the rows of `table` in a 2xx reply (at most max) and frees the reply. */
static store_rc sb_read_rows(sb_store *s, const char *path, sb_reply *r, store_json_table table, size_t max,
                             void **rows, size_t *n, char *err, size_t errlen)
{
    char why[400];
    int bad = store_json_rows(s->json, table, r->body, r->len, max, rows, n, why, sizeof why);
    return sb_read_done(s, path, r, bad, why, err, errlen);
}

/* GETs path and reads its rows of `table`. */
static store_rc sb_get_rows(sb_store *s, const char *path, store_json_table table, void **rows, size_t *n, char *err,
                            size_t errlen)
{
    sb_reply r;
    *rows = NULL, *n = 0;
    if (sb_get(s, path, &r, err, errlen) != 0) return STORE_ERR;
    return sb_read_rows(s, path, &r, table, 0, rows, n, err, errlen);
}

static store_rc sb_read_cycles(sb_store *s, const char *path, sb_reply *r, size_t max, store_cycle **rows, size_t *n,
                               char *err, size_t errlen)
{
    void *out;
    store_rc rc = sb_read_rows(s, path, r, STORE_JSON_CYCLES, max, &out, n, err, errlen);
    *rows = out;
    return rc;
}

/* Reads one cycle row by id: STORE_OK, STORE_NOT_FOUND or STORE_ERR. */
static store_rc sb_load_cycle(sb_store *s, const char *cycle_id, store_cycle *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    strbuf q = {0};
    strbuf_puts(&q, "execution_logs");
    sb_filter(&q, "cycle_id", "eq", cycle_id);
    sb_param(&q, "select", SB_CYCLE_COLUMNS);
    sb_reply r;
    store_rc rc = STORE_ERR;
    if (sb_get(s, strbuf_cstr(&q), &r, err, errlen) == 0) {
        store_cycle *rows;
        size_t n;
        rc = sb_read_cycles(s, strbuf_cstr(&q), &r, 1, &rows, &n, err, errlen);
        if (rc == STORE_OK) {
            if (n == 1) *out = rows[0], memset(&rows[0], 0, sizeof rows[0]);
            else rc = STORE_NOT_FOUND;
            store_cycles_free(rows, n);
        }
    }
    strbuf_free(&q);
    return rc;
}

/* Runs a PATCH/DELETE with return=representation and counts the rows it changed (-1 = failure). */
static long sb_changed_rows(sb_store *s, const char *method, const char *path, const char *body, store_cycle *first,
                            char *err, size_t errlen)
{
    sb_reply r;
    if (first) memset(first, 0, sizeof *first);
    strbuf q = {0};
    strbuf_puts(&q, path);
    sb_param(&q, "select", SB_CYCLE_COLUMNS);
    long result = -1;
    if (sb_call(s, method, strbuf_cstr(&q), "return=representation", body, &r, err, errlen) == 0) {
        store_cycle *rows = NULL;
        size_t n = 0;
        if (sb_read_cycles(s, path, &r, 16, &rows, &n, err, errlen) == STORE_OK) {
            result = (long)n;
            if (first && n > 0) *first = rows[0], memset(&rows[0], 0, sizeof rows[0]);
            store_cycles_free(rows, n);
        }
    }
    strbuf_free(&q);
    return result;
}

/* ---- open ---- */

static const store_ops sb_ops;

static int sb_is_loopback(const char *host_start)
{
    static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]", NULL};
    for (int i = 0; hosts[i]; i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(host_start, hosts[i], n) == 0 && (host_start[n] == '\0' || host_start[n] == ':' ||
                                                      host_start[n] == '/'))
            return 1;
    }
    return 0;
}

void *store_supabase_open(const char *url, const char *key, const store_ops **ops, char *err, size_t errlen)
{
    if (!url || !*url || !key || !*key) {
        store_errorf(err, errlen, "supabase", "SUPABASE_URL and SUPABASE_KEY must both be set");
        return NULL;
    }
    secrets_add_redaction(key);
    size_t ulen = strlen(url);
    /* the URL as shown in messages: without credentials, query or fragment */
    char shown[300];
    const char *at = strrchr(url, '@'), *scheme_end = strstr(url, "://");
    if (at && scheme_end && at > scheme_end)
        snprintf(shown, sizeof shown, "%.*s%.*s", (int)(scheme_end + 3 - url), url, (int)strcspn(at + 1, "?#"), at + 1);
    else
        snprintf(shown, sizeof shown, "%.*s", (int)strcspn(url, "?#"), url);
    if (ulen > 500 || strpbrk(url, "?#@ \t\r\n\\") || !(strncmp(url, "https://", 8) == 0 ||
                                                     (strncmp(url, "http://", 7) == 0 && sb_is_loopback(url + 7)))) {
        store_errorf(err, errlen, "supabase",
                     "SUPABASE_URL '%s' is not like https://<ref>.supabase.co (plain http is allowed only for "
                     "127.0.0.1/localhost; no query, fragment or credentials)",
                     shown);
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            store_errorf(err, errlen, "supabase", "SUPABASE_KEY contains a space or control character");
            return NULL;
        }
    }
    if (strncmp(key, "sb_publishable_", 15) == 0) {
        store_errorf(err, errlen, "supabase",
                     "SUPABASE_KEY is a publishable key; titan needs the secret key (sb_secret_... or the legacy "
                     "service_role key): row level security denies everything else");
        return NULL;
    }
    sb_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->base = strdup(url);
    s->json = store_json_open(0);
    if (s->base) {
        size_t n = strlen(s->base);
        while (n > 0 && s->base[n - 1] == '/') s->base[--n] = '\0';
        if (n >= 8 && strcmp(s->base + n - 8, "/rest/v1") == 0) s->base[n -= 8] = '\0';
        while (n > 0 && s->base[n - 1] == '/') s->base[--n] = '\0';
    }
    size_t klen = strlen(key);
    s->apikey_header = malloc(klen + 16);
    if (s->apikey_header) snprintf(s->apikey_header, klen + 16, "apikey: %s", key);
    /* new sb_secret_ keys are not JWTs: they go in apikey only; legacy JWT keys also as Bearer */
    int bearer = strncmp(key, "sb_", 3) != 0;
    if (bearer) {
        s->auth_header = malloc(klen + 32);
        if (s->auth_header) snprintf(s->auth_header, klen + 32, "Authorization: Bearer %s", key);
    }
    if (!s->base || !s->json || !s->apikey_header || (bearer && !s->auth_header)) {
        store_errorf(err, errlen, "supabase", "out of memory");
        sb_close(s);
        return NULL;
    }
    snprintf(s->prefix, sizeof s->prefix, "supabase %s", s->base);
    *ops = &sb_ops;
    return s;
}

store *store_open_supabase(const char *url, const char *key, char *err, size_t errlen)
{
    const store_ops *ops = NULL;
    void *impl = store_supabase_open(url, key, &ops, err, errlen);
    if (!impl) return NULL;
    return store_wrap(ops, impl, STORE_BACKEND_SUPABASE, ((sb_store *)impl)->prefix, err, errlen);
}

/* ---- cycles ---- */

static store_acquire_result sb_acquire_cycle(void *impl, const char *cycle_id, const char *strategy,
                                             const char *mode, const char *holder, int lease_s, store_cycle *info,
                                             char *err, size_t errlen)
{
    sb_store *s = impl;
    store_acquire_result result = STORE_ACQUIRE_ERROR;
    strbuf body = {0}, q = {0};
    for (int round = 0; round < SB_ACQUIRE_ROUNDS && result == STORE_ACQUIRE_ERROR; round++) {
        int64_t now = clock_now_ms(), lease_until = now + (int64_t)lease_s * 1000;
        strbuf_free(&body);
        strbuf_puts(&body, "{");
        sb_json_str(&body, "cycle_id", cycle_id);
        sb_json_str(&body, "strategy", strategy);
        sb_json_str(&body, "mode", mode);
        sb_json_str(&body, "status", STORE_STATUS_RUNNING);
        sb_json_str(&body, "holder", holder);
        sb_json_time(&body, "started_at", now);
        sb_json_time(&body, "lease_until", lease_until);
        sb_json_str(&body, "host_version", TITAN_VERSION);
        strbuf_puts(&body, "}");
        sb_reply r;
        long status = sb_request(s, "POST", "execution_logs?select=" SB_CYCLE_COLUMNS, "return=representation",
                                 strbuf_cstr(&body), &r, err, errlen);
        if (status >= 200 && status < 300) {
            store_cycle *rows = NULL;
            size_t n = 0;
            /* the row is inserted whatever the body says; a bad body still means "not sure": refuse */
            if (sb_read_cycles(s, "execution_logs", &r, 1, &rows, &n, err, errlen) == STORE_OK) {
                if (n == 1 && strcmp(rows[0].holder, holder) == 0) result = STORE_ACQUIRED;
                else sb_errorf(s, "execution_logs", err, errlen, "the insert returned no row for %s", cycle_id);
                store_cycles_free(rows, n);
            }
            break;
        }
        int conflict = status == 409 && strcmp(r.code, "23505") == 0;
        sb_reply_free(&r);
        if (!conflict) break; /* err says what failed */
        store_rc rc = sb_load_cycle(s, cycle_id, info, err, errlen);
        if (rc == STORE_ERR) break;
        if (rc == STORE_NOT_FOUND) continue; /* released between our insert and read: try again */
        if (strcmp(info->status, STORE_STATUS_RUNNING) != 0) {
            result = STORE_DONE;
        } else if (info->lease_until_ms >= now) {
            result = STORE_HELD;
        } else {
            /* compare-and-set: only a runner whose PATCH returns the row holds the lock */
            strbuf_free(&q);
            strbuf_puts(&q, "execution_logs");
            sb_filter(&q, "cycle_id", "eq", cycle_id);
            sb_filter(&q, "status", "eq", STORE_STATUS_RUNNING);
            sb_filter(&q, "holder", "eq", info->holder);
            sb_filter_time(&q, "lease_until", "lt", now);
            strbuf_free(&body);
            strbuf_puts(&body, "{");
            sb_json_str(&body, "holder", holder);
            sb_json_time(&body, "lease_until", lease_until);
            sb_json_str(&body, "host_version", TITAN_VERSION);
            strbuf_puts(&body, "}");
            store_cycle mine;
            long changed = sb_changed_rows(s, "PATCH", strbuf_cstr(&q), strbuf_cstr(&body), &mine, err, errlen);
            int ours = changed == 1 && mine.holder && strcmp(mine.holder, holder) == 0;
            store_cycle_free(&mine);
            if (changed < 0) break;
            if (ours) result = STORE_TAKEN_OVER;
            else store_cycle_free(info); /* someone else won the CAS: read again */
        }
    }
    if (result == STORE_ACQUIRE_ERROR && err && !*err)
        store_errorf(err, errlen, s->prefix, "could not acquire %s after %d rounds", cycle_id, SB_ACQUIRE_ROUNDS);
    if (result == STORE_ACQUIRE_ERROR) store_cycle_free(info);
    strbuf_free(&body), strbuf_free(&q);
    return result;
}

/* PATCHes a running row we hold; on no change reads the row to say why (STORE_CONFLICT). */
static store_rc sb_update_held(sb_store *s, const char *cycle_id, const char *holder, const char *body,
                               const char *action, char *err, size_t errlen)
{
    strbuf q = {0};
    strbuf_puts(&q, "execution_logs");
    sb_filter(&q, "cycle_id", "eq", cycle_id);
    sb_filter(&q, "holder", "eq", holder);
    sb_filter(&q, "status", "eq", STORE_STATUS_RUNNING);
    long changed = sb_changed_rows(s, "PATCH", strbuf_cstr(&q), body, NULL, err, errlen);
    strbuf_free(&q);
    if (changed < 0) return STORE_ERR;
    if (changed == 1) return STORE_OK;
    store_cycle row;
    store_rc r = sb_load_cycle(s, cycle_id, &row, err, errlen);
    return store_explain_lost(r, &row, s->prefix, cycle_id, holder, action, err, errlen);
}

static store_rc sb_renew_lease(void *impl, const char *cycle_id, const char *holder, int lease_s, char *err,
                               size_t errlen)
{
    strbuf body = {0};
    strbuf_puts(&body, "{");
    sb_json_time(&body, "lease_until", clock_now_ms() + (int64_t)lease_s * 1000);
    strbuf_puts(&body, "}");
    store_rc r = sb_update_held(impl, cycle_id, holder, strbuf_cstr(&body), "renew the lease of", err, errlen);
    strbuf_free(&body);
    return r;
}

static store_rc sb_update_cycle_orders(void *impl, const char *cycle_id, const char *holder, const char *orders_json,
                                       store_durability durability, char *err, size_t errlen)
{
    (void)durability;   /* every PostgREST write is committed by the server */
    strbuf body = {0};
    strbuf_puts(&body, "{");
    sb_json_raw(&body, "orders", orders_json);
    strbuf_puts(&body, "}");
    store_rc r = sb_update_held(impl, cycle_id, holder, strbuf_cstr(&body), "record the orders of", err, errlen);
    strbuf_free(&body);
    return r;
}

static store_rc sb_finish_cycle(void *impl, const char *cycle_id, const char *holder, const char *status,
                                const char *decision_json, const char *orders_json, const char *error, char *err,
                                size_t errlen)
{
    int64_t now = clock_now_ms();
    strbuf body = {0};
    strbuf_puts(&body, "{");
    sb_json_str(&body, "status", status);
    sb_json_time(&body, "finished_at", now);
    sb_json_time(&body, "lease_until", now);
    if (decision_json) sb_json_raw(&body, "decision", decision_json);
    if (orders_json) sb_json_raw(&body, "orders", orders_json);
    sb_json_str(&body, "error", error);
    strbuf_puts(&body, "}");
    store_rc r = sb_update_held(impl, cycle_id, holder, strbuf_cstr(&body), "finish", err, errlen);
    strbuf_free(&body);
    return r;
}

static store_rc sb_resolve_cycle(void *impl, const char *cycle_id, const char *from_status, const char *new_status,
                                 const char *orders_json, const char *note, char *err, size_t errlen)
{
    sb_store *s = impl;
    store_cycle row;
    store_rc r = sb_load_cycle(s, cycle_id, &row, err, errlen);
    if (r == STORE_NOT_FOUND) store_errorf(err, errlen, s->prefix, "no cycle %s", cycle_id);
    if (r != STORE_OK) return r;
    strbuf body = {0}, q = {0}, error = {0};
    strbuf_puts(&body, "{");
    sb_json_str(&body, "status", new_status);
    if (orders_json) sb_json_raw(&body, "orders", orders_json);
    if (note) {
        if (row.error) strbuf_printf(&error, "%s; ", row.error);
        strbuf_puts(&error, note);
        sb_json_str(&body, "error", strbuf_cstr(&error));
    }
    strbuf_puts(&body, "}");
    strbuf_puts(&q, "execution_logs");
    sb_filter(&q, "cycle_id", "eq", cycle_id);
    sb_filter(&q, "status", "eq", from_status);
    long changed = sb_changed_rows(s, "PATCH", strbuf_cstr(&q), strbuf_cstr(&body), NULL, err, errlen);
    r = changed < 0 ? STORE_ERR : changed == 1 ? STORE_OK : STORE_CONFLICT;
    if (r == STORE_CONFLICT)
        store_errorf(err, errlen, s->prefix, "cycle %s is not %s (status %s; resolved already?); nothing changed",
                     cycle_id, from_status, row.status);
    store_cycle_free(&row);
    strbuf_free(&body), strbuf_free(&q), strbuf_free(&error);
    return r;
}

static store_rc sb_retry_cycle(void *impl, const char *cycle_id, const char *holder, int lease_s, char *err,
                               size_t errlen)
{
    sb_store *s = impl;
    int64_t now = clock_now_ms();
    strbuf body = {0}, q = {0};
    strbuf_puts(&body, "{");
    sb_json_str(&body, "status", STORE_STATUS_RUNNING);
    sb_json_str(&body, "holder", holder);
    sb_json_time(&body, "started_at", now);
    sb_json_time(&body, "lease_until", now + (int64_t)lease_s * 1000);
    sb_json_raw(&body, "finished_at", NULL);
    sb_json_raw(&body, "decision", NULL);
    sb_json_raw(&body, "orders", NULL);
    sb_json_raw(&body, "error", NULL);
    sb_json_str(&body, "host_version", TITAN_VERSION);
    strbuf_puts(&body, "}");
    strbuf_puts(&q, "execution_logs");
    sb_filter(&q, "cycle_id", "eq", cycle_id);
    sb_filter(&q, "status", "eq", STORE_STATUS_FAILED);
    store_cycle mine;
    long changed = sb_changed_rows(s, "PATCH", strbuf_cstr(&q), strbuf_cstr(&body), &mine, err, errlen);
    store_rc r = changed < 0 ? STORE_ERR : STORE_OK;
    if (changed == 1 && !(mine.holder && strcmp(mine.holder, holder) == 0)) {
        sb_errorf(s, "execution_logs", err, errlen, "the retry of %s returned another holder", cycle_id);
        r = STORE_ERR;
    }
    store_cycle_free(&mine);
    if (changed == 0) {
        store_cycle row;
        r = sb_load_cycle(s, cycle_id, &row, err, errlen);
        r = store_explain_status(r, &row, s->prefix, cycle_id, STORE_STATUS_FAILED, err, errlen);
    }
    strbuf_free(&body), strbuf_free(&q);
    return r;
}

static store_rc sb_get_cycle(void *impl, const char *cycle_id, store_cycle *out, char *err, size_t errlen)
{
    sb_store *s = impl;
    store_rc r = sb_load_cycle(s, cycle_id, out, err, errlen);
    if (r == STORE_NOT_FOUND) store_errorf(err, errlen, s->prefix, "no cycle %s", cycle_id);
    return r;
}

static store_rc sb_list_cycles(void *impl, int limit, const char *strategy, const char *status, store_cycle **rows,
                               size_t *n, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf q = {0};
    strbuf_puts(&q, "execution_logs");
    if (strategy) sb_filter(&q, "strategy", "eq", strategy);
    if (status) sb_filter(&q, "status", "eq", status);
    sb_param(&q, "select", SB_CYCLE_COLUMNS);
    sb_param(&q, "order", "started_at.desc,cycle_id.desc");
    strbuf_printf(&q, "&limit=%d", limit);
    sb_reply r;
    store_rc rc = STORE_ERR;
    if (sb_get(s, strbuf_cstr(&q), &r, err, errlen) == 0)
        rc = sb_read_cycles(s, strbuf_cstr(&q), &r, (size_t)limit, rows, n, err, errlen);
    strbuf_free(&q);
    return rc;
}

static store_rc sb_release_cycle(void *impl, const char *cycle_id, int force, store_cycle *removed, char *err,
                                 size_t errlen)
{
    sb_store *s = impl;
    int64_t now = clock_now_ms();
    store_rc r = sb_load_cycle(s, cycle_id, removed, err, errlen);
    if (r == STORE_NOT_FOUND) store_errorf(err, errlen, s->prefix, "no cycle %s; nothing changed", cycle_id);
    if (r != STORE_OK) return r;
    int running = strcmp(removed->status, STORE_STATUS_RUNNING) == 0;
    if (!force && running && removed->lease_until_ms >= now) {
        char iso[CLOCK_ISO_SIZE];
        store_errorf(err, errlen, s->prefix,
                     "cycle %s is running under %s with a live lease until %s; not released (use --force only if "
                     "that runner is gone)",
                     cycle_id, removed->holder, clock_iso(removed->lease_until_ms, iso));
        return STORE_CONFLICT;
    }
    /* delete exactly the row we judged: a takeover or renewal in between makes this match nothing */
    strbuf q = {0};
    strbuf_puts(&q, "execution_logs");
    sb_filter(&q, "cycle_id", "eq", cycle_id);
    if (!force) {
        sb_filter(&q, "status", "eq", removed->status);
        sb_filter(&q, "holder", "eq", removed->holder);
        if (running) sb_filter_time(&q, "lease_until", "lt", now);
    }
    long changed = sb_changed_rows(s, "DELETE", strbuf_cstr(&q), NULL, NULL, err, errlen);
    strbuf_free(&q);
    if (changed < 0) return STORE_ERR;
    if (changed == 0) {
        store_errorf(err, errlen, s->prefix, "cycle %s changed while releasing it; nothing deleted — look again",
                     cycle_id);
        return STORE_CONFLICT;
    }
    return STORE_OK;
}

/* ---- paper ledger ---- */

static store_rc sb_read_balances(sb_store *s, const char *strategy, store_balance **out, size_t *n, char *err,
                                 size_t errlen)
{
    strbuf q = {0};
    strbuf_puts(&q, "paper_balances");
    sb_filter(&q, "strategy", "eq", strategy);
    sb_param(&q, "select", "asset,amount");
    sb_param(&q, "order", "asset.asc");
    void *rows;
    store_rc rc = sb_get_rows(s, strbuf_cstr(&q), STORE_JSON_BALANCES, &rows, n, err, errlen);
    *out = rows;
    strbuf_free(&q);
    return rc;
}

static store_rc sb_paper_balances(void *impl, const char *strategy, const char *seed_asset, double seed_amount,
                                  store_balance **out, size_t *n, char *err, size_t errlen)
{
    sb_store *s = impl;
    store_rc rc = sb_read_balances(s, strategy, out, n, err, errlen);
    if (rc != STORE_OK || *n > 0 || !seed_asset) return rc;
    free(*out), *out = NULL;
    /* first use: seed; a concurrent seeder's row wins silently (ignore-duplicates on the key) */
    strbuf body = {0};
    strbuf_puts(&body, "{");
    sb_json_str(&body, "strategy", strategy);
    sb_json_str(&body, "asset", seed_asset);
    sb_json_num(&body, "amount", seed_amount);
    sb_json_time(&body, "updated_at", clock_now_ms());
    strbuf_puts(&body, "}");
    sb_reply r;
    int failed = sb_call(s, "POST", "paper_balances", "resolution=ignore-duplicates,return=minimal",
                         strbuf_cstr(&body), &r, err, errlen);
    sb_reply_free(&r);
    strbuf_free(&body);
    if (failed) return STORE_ERR;
    return sb_read_balances(s, strategy, out, n, err, errlen);
}

static store_rc sb_paper_apply_fill(void *impl, const char *strategy, const store_fill *f, int64_t *id_out, char *err,
                                    size_t errlen)
{
    sb_store *s = impl;
    strbuf body = {0};
    strbuf_puts(&body, "{");
    sb_json_str(&body, "p_strategy", strategy);
    sb_json_key(&body, "p_fill");
    strbuf_puts(&body, "{");
    sb_json_str(&body, "cycle_id", f->cycle_id);
    sb_json_str(&body, "order_ref", f->order_ref);
    sb_json_time(&body, "ts", f->ts_ms);
    sb_json_str(&body, "pair", f->pair);
    sb_json_str(&body, "side", f->side);
    sb_json_str(&body, "order_type", f->order_type);
    sb_json_num(&body, "volume", f->volume);
    sb_json_num(&body, "price", f->price);
    sb_json_num(&body, "cost", f->cost);
    sb_json_num(&body, "fee", f->fee);
    sb_json_str(&body, "base_asset", f->base_asset);
    sb_json_str(&body, "quote_asset", f->quote_asset);
    sb_json_num(&body, "realized_pnl", f->realized_pnl);
    sb_json_str(&body, "reason", f->reason);
    strbuf_puts(&body, "}}");
    sb_reply r;
    long status = sb_request(s, "POST", "rpc/titan_apply_fill", NULL, strbuf_cstr(&body), &r, err, errlen);
    strbuf_free(&body);
    store_rc rc = STORE_ERR;
    if (status >= 200 && status < 300) {
        int64_t id = 0;
        char why[400];
        if (store_json_object_int(s->json, r.body, r.len, "id", &id, why, sizeof why) == 0) {
            if (id_out) *id_out = id;
            rc = STORE_OK;
        } else {
            sb_errorf(s, "rpc/titan_apply_fill", err, errlen,
                      "malformed response body: no fill id (%s; the fill may have been applied: check paper_fills)",
                      why);
        }
    } else if (status == 409 && strcmp(r.code, "23505") == 0) {
        store_errorf(err, errlen, s->prefix, "paper fill %s of strategy %s was already applied; nothing changed",
                     f->order_ref ? f->order_ref : "(no ref)", strategy);
        rc = STORE_CONFLICT;
    } else if (strcmp(r.code, "23514") == 0) {
        rc = STORE_CONFLICT; /* insufficient paper balance: err has the function's message */
    }
    sb_reply_free(&r);
    return rc;
}

static store_rc sb_paper_fills(void *impl, const char *strategy, const char *cycle_id, int64_t since_ms, int limit,
                               store_fill **rows, size_t *n, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf q = {0};
    strbuf_puts(&q, "paper_fills");
    sb_filter(&q, "strategy", "eq", strategy);
    if (cycle_id) sb_filter(&q, "cycle_id", "eq", cycle_id);
    if (since_ms > 0) sb_filter_time(&q, "ts", "gte", since_ms);
    sb_param(&q, "order", "ts.asc,id.asc");
    strbuf_printf(&q, "&limit=%d", limit);
    void *out;
    store_rc rc = sb_get_rows(s, strbuf_cstr(&q), STORE_JSON_FILLS, &out, n, err, errlen);
    *rows = out;
    strbuf_free(&q);
    return rc;
}

/* ---- state and control ---- */

/* GETs a one-row query: its text `col` (JSON text when json_col) and, when time_col is not NULL,
 * that time. STORE_OK, STORE_NOT_FOUND (no row) or STORE_ERR. */
static store_rc sb_get_one(sb_store *s, const char *path, const char *col, int json_col, char **value,
                           const char *time_col, int64_t *time_ms, char *err, size_t errlen)
{
    sb_reply r;
    *value = NULL;
    if (sb_get(s, path, &r, err, errlen) != 0) return STORE_ERR;
    char why[400];
    int found = store_json_one(s->json, r.body, r.len, col, json_col, value, time_col, time_ms, why, sizeof why);
    store_rc rc = sb_read_done(s, path, &r, found < 0, why, err, errlen);
    return rc == STORE_OK && found == 0 ? STORE_NOT_FOUND : rc;
}

static store_rc sb_state_get(void *impl, const char *strategy, const char *key, char **value_json, char *err,
                             size_t errlen)
{
    strbuf q = {0};
    strbuf_puts(&q, "strategy_state");
    sb_filter(&q, "strategy", "eq", strategy);
    sb_filter(&q, "key", "eq", key);
    sb_param(&q, "select", "value::text");
    store_rc rc = sb_get_one(impl, strbuf_cstr(&q), "value", 1, value_json, NULL, NULL, err, errlen);
    strbuf_free(&q);
    return rc;
}

static store_rc sb_state_set(void *impl, const char *strategy, const char *key, const char *value_json, char *err,
                             size_t errlen)
{
    sb_store *s = impl;
    sb_reply r;
    int failed;
    if (value_json) {
        strbuf body = {0};
        strbuf_puts(&body, "{");
        sb_json_str(&body, "strategy", strategy);
        sb_json_str(&body, "key", key);
        sb_json_raw(&body, "value", value_json);
        sb_json_time(&body, "updated_at", clock_now_ms());
        strbuf_puts(&body, "}");
        failed = sb_call(s, "POST", "strategy_state", "resolution=merge-duplicates,return=minimal", strbuf_cstr(&body),
                         &r, err, errlen);
        strbuf_free(&body);
    } else {
        strbuf q = {0};
        strbuf_puts(&q, "strategy_state");
        sb_filter(&q, "strategy", "eq", strategy);
        sb_filter(&q, "key", "eq", key);
        failed = sb_call(s, "DELETE", strbuf_cstr(&q), "return=minimal", NULL, &r, err, errlen);
        strbuf_free(&q);
    }
    sb_reply_free(&r);
    return failed ? STORE_ERR : STORE_OK;
}

static store_rc sb_state_list(void *impl, const char *strategy, store_kv **rows, size_t *n, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf q = {0};
    strbuf_puts(&q, "strategy_state");
    sb_filter(&q, "strategy", "eq", strategy);
    sb_param(&q, "select", "key,value::text");
    sb_param(&q, "order", "key.asc");
    void *out;
    store_rc rc = sb_get_rows(s, strbuf_cstr(&q), STORE_JSON_KVS, &out, n, err, errlen);
    *rows = out;
    strbuf_free(&q);
    return rc;
}

static store_rc sb_control_get(void *impl, const char *key, char **value, int64_t *updated_ms, char *err,
                               size_t errlen)
{
    strbuf q = {0};
    strbuf_puts(&q, "control");
    sb_filter(&q, "key", "eq", key);
    sb_param(&q, "select", "value,updated_at");
    store_rc rc = sb_get_one(impl, strbuf_cstr(&q), "value", 0, value, "updated_at", updated_ms, err, errlen);
    strbuf_free(&q);
    return rc;
}

static store_rc sb_control_set(void *impl, const char *key, const char *value, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf body = {0};
    strbuf_puts(&body, "{");
    sb_json_str(&body, "key", key);
    sb_json_str(&body, "value", value);
    sb_json_time(&body, "updated_at", clock_now_ms());
    strbuf_puts(&body, "}");
    sb_reply r;
    int failed = sb_call(s, "POST", "control", "resolution=merge-duplicates,return=minimal", strbuf_cstr(&body), &r,
                         err, errlen);
    sb_reply_free(&r);
    strbuf_free(&body);
    return failed ? STORE_ERR : STORE_OK;
}

/* ---- named locks ---- */

/* Runs a filtered PATCH or DELETE with return=representation; returns how many rows it changed
 * (of any table: each must carry `column`), -1 when it failed (err says why). */
static long sb_count_changed(sb_store *s, const char *method, const char *query, const char *body,
                             const char *column, char *err, size_t errlen)
{
    sb_reply r;
    long changed = -1;
    if (sb_call(s, method, query, "return=representation", body, &r, err, errlen) == 0) {
        char why[400];
        size_t n = 0;
        int bad = store_json_count(s->json, r.body, r.len, column, &n, why, sizeof why);
        if (sb_read_done(s, query, &r, bad, why, err, errlen) == STORE_OK) changed = (long)n;
    }
    return changed;
}

/* PATCHes the lock row under `filter_holder` (and an expired lease when expired_before > 0);
 * returns the number of rows changed, -1 on failure. */
static long sb_lock_patch(sb_store *s, const char *name, const char *filter_holder, int64_t expired_before,
                          const char *holder, int64_t now, int64_t until, char *err, size_t errlen)
{
    strbuf q = {0}, body = {0};
    strbuf_puts(&q, "locks");
    sb_filter(&q, "name", "eq", name);
    sb_filter(&q, "holder", "eq", filter_holder);
    if (expired_before > 0) sb_filter_time(&q, "lease_until", "lt", expired_before);
    strbuf_puts(&body, "{");
    sb_json_str(&body, "holder", holder);
    if (strcmp(filter_holder, holder) != 0) sb_json_time(&body, "acquired_at", now);
    sb_json_time(&body, "lease_until", until);
    strbuf_puts(&body, "}");
    long changed = sb_count_changed(s, "PATCH", strbuf_cstr(&q), strbuf_cstr(&body), "holder", err, errlen);
    strbuf_free(&q), strbuf_free(&body);
    return changed;
}

static store_rc sb_lock_acquire(void *impl, const char *name, const char *holder, int ttl_s, char *current_holder,
                                size_t current_holder_len, char *err, size_t errlen)
{
    sb_store *s = impl;
    for (int round = 0; round < SB_ACQUIRE_ROUNDS; round++) {
        int64_t now = clock_now_ms(), until = now + (int64_t)ttl_s * 1000;
        strbuf body = {0};
        strbuf_puts(&body, "{");
        sb_json_str(&body, "name", name);
        sb_json_str(&body, "holder", holder);
        sb_json_time(&body, "acquired_at", now);
        sb_json_time(&body, "lease_until", until);
        strbuf_puts(&body, "}");
        sb_reply r;
        long status = sb_request(s, "POST", "locks", "return=minimal", strbuf_cstr(&body), &r, err, errlen);
        strbuf_free(&body);
        int conflict = status == 409 && strcmp(r.code, "23505") == 0;
        sb_reply_free(&r);
        if (status >= 200 && status < 300) return STORE_OK;
        if (!conflict) return STORE_ERR;
        strbuf q = {0};
        strbuf_puts(&q, "locks");
        sb_filter(&q, "name", "eq", name);
        sb_param(&q, "select", "holder,lease_until");
        char *cur = NULL;
        int64_t cur_until = 0;
        store_rc rc = sb_get_one(s, strbuf_cstr(&q), "holder", 0, &cur, "lease_until", &cur_until, err, errlen);
        strbuf_free(&q);
        if (rc == STORE_ERR) return STORE_ERR;
        if (rc == STORE_NOT_FOUND) continue;
        long changed = 0;
        if (strcmp(cur, holder) == 0) changed = sb_lock_patch(s, name, holder, 0, holder, now, until, err, errlen);
        else if (cur_until < now) changed = sb_lock_patch(s, name, cur, now, holder, now, until, err, errlen);
        else {
            if (current_holder && current_holder_len) snprintf(current_holder, current_holder_len, "%s", cur);
            store_errorf(err, errlen, s->prefix, "lock %s is held by %s", name, cur);
            free(cur);
            return STORE_CONFLICT;
        }
        free(cur);
        if (changed < 0) return STORE_ERR;
        if (changed == 1) return STORE_OK;
    }
    store_errorf(err, errlen, s->prefix, "lock %s kept changing hands; not acquired", name);
    return STORE_ERR;
}

static store_rc sb_lock_release(void *impl, const char *name, const char *holder, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf q = {0};
    strbuf_puts(&q, "locks");
    sb_filter(&q, "name", "eq", name);
    sb_filter(&q, "holder", "eq", holder);
    long changed = sb_count_changed(s, "DELETE", strbuf_cstr(&q), NULL, "holder", err, errlen);
    strbuf_free(&q);
    if (changed == 0) store_errorf(err, errlen, s->prefix, "lock %s is not held by %s", name, holder);
    return changed < 0 ? STORE_ERR : changed ? STORE_OK : STORE_NOT_FOUND;
}

/* ---- notifications ---- */

static store_rc sb_notify_claim(void *impl, const char *key, const char *strategy, const char *cycle_id,
                                const char *event, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf body = {0};
    strbuf_puts(&body, "{");
    sb_json_str(&body, "key", key);
    sb_json_str(&body, "strategy", strategy);
    sb_json_str(&body, "cycle_id", cycle_id);
    sb_json_str(&body, "event", event);
    sb_json_time(&body, "claimed_at", clock_now_ms());
    strbuf_puts(&body, "}");
    sb_reply r;
    long status = sb_request(s, "POST", "notifications", "return=minimal", strbuf_cstr(&body), &r, err, errlen);
    strbuf_free(&body);
    store_rc rc = status >= 200 && status < 300 ? STORE_OK : STORE_ERR;
    if (status == 409 && strcmp(r.code, "23505") == 0) {
        store_errorf(err, errlen, s->prefix, "notification %s was claimed before", key);
        rc = STORE_CONFLICT;
    }
    sb_reply_free(&r);
    return rc;
}

static store_rc sb_notify_record(void *impl, const char *key, const char *result_json, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf q = {0}, body = {0};
    strbuf_puts(&q, "notifications");
    sb_filter(&q, "key", "eq", key);
    sb_param(&q, "select", "key");
    strbuf_puts(&body, "{");
    sb_json_raw(&body, "result", result_json);
    sb_json_time(&body, "finished_at", clock_now_ms());
    strbuf_puts(&body, "}");
    long changed = sb_count_changed(s, "PATCH", strbuf_cstr(&q), strbuf_cstr(&body), "key", err, errlen);
    strbuf_free(&q), strbuf_free(&body);
    if (changed == 0) store_errorf(err, errlen, s->prefix, "no notification %s", key);
    return changed < 0 ? STORE_ERR : changed ? STORE_OK : STORE_NOT_FOUND;
}

/* ---- capsules ---- */

static store_rc sb_capsule_put(void *impl, const store_capsule *c, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf body = {0};
    strbuf_puts(&body, "{");
    sb_json_str(&body, "cycle_id", c->cycle_id);
    sb_json_str(&body, "strategy", c->strategy);
    sb_json_time(&body, "recorded_at", c->recorded_ms);
    sb_json_time(&body, "expires_at", c->expires_ms);
    sb_json_str(&body, "capsule", c->capsule_b64);
    strbuf_puts(&body, "}");
    sb_reply r;
    int failed = body.oom || sb_call(s, "POST", "cycle_capsules", "resolution=merge-duplicates,return=minimal",
                                     strbuf_cstr(&body), &r, err, errlen);
    if (body.oom) store_errorf(err, errlen, s->prefix, "out of memory");
    else sb_reply_free(&r);
    strbuf_free(&body);
    return failed ? STORE_ERR : STORE_OK;
}

static store_rc sb_capsule_get(void *impl, const char *cycle_id, store_capsule *out, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf q = {0};
    strbuf_puts(&q, "cycle_capsules");
    sb_filter(&q, "cycle_id", "eq", cycle_id);
    sb_param(&q, "select", "cycle_id,strategy,recorded_at,expires_at,capsule");
    void *rows;
    size_t n = 0;
    store_rc rc = sb_get_rows(s, strbuf_cstr(&q), STORE_JSON_CAPSULES, &rows, &n, err, errlen);
    strbuf_free(&q);
    store_capsule *list = rows;
    if (rc == STORE_OK && (n == 0 || !list[0].capsule_b64)) {
        store_errorf(err, errlen, s->prefix, "no capsule of cycle %s (never recorded, or expired)", cycle_id);
        rc = STORE_NOT_FOUND;
    } else if (rc == STORE_OK) {
        *out = list[0];
        memset(&list[0], 0, sizeof list[0]);
    }
    if (rc != STORE_ERR) store_capsules_free(list, n);
    return rc;
}

static store_rc sb_capsule_list(void *impl, const char *strategy, int64_t since_ms, int64_t until_ms, int limit,
                                store_capsule **rows, size_t *n, char *err, size_t errlen)
{
    sb_store *s = impl;
    strbuf q = {0};
    strbuf_puts(&q, "cycle_capsules");
    if (strategy) sb_filter(&q, "strategy", "eq", strategy);
    if (since_ms) sb_filter_time(&q, "recorded_at", "gte", since_ms);
    if (until_ms) sb_filter_time(&q, "recorded_at", "lt", until_ms);
    sb_param(&q, "select", "cycle_id,strategy,recorded_at,expires_at");
    sb_param(&q, "order", "recorded_at.asc,cycle_id.asc");
    strbuf_printf(&q, "&limit=%d", limit);
    void *out;
    store_rc rc = sb_get_rows(s, strbuf_cstr(&q), STORE_JSON_CAPSULES, &out, n, err, errlen);
    *rows = out;
    strbuf_free(&q);
    return rc;
}

static const store_ops sb_ops = {
    .close = sb_close,
    .acquire_cycle = sb_acquire_cycle,
    .renew_lease = sb_renew_lease,
    .update_cycle_orders = sb_update_cycle_orders,
    .finish_cycle = sb_finish_cycle,
    .resolve_cycle = sb_resolve_cycle,
    .retry_cycle = sb_retry_cycle,
    .get_cycle = sb_get_cycle,
    .list_cycles = sb_list_cycles,
    .release_cycle = sb_release_cycle,
    .paper_balances = sb_paper_balances,
    .paper_apply_fill = sb_paper_apply_fill,
    .paper_fills = sb_paper_fills,
    .state_get = sb_state_get,
    .state_set = sb_state_set,
    .state_list = sb_state_list,
    .control_get = sb_control_get,
    .control_set = sb_control_set,
    .lock_acquire = sb_lock_acquire,
    .lock_release = sb_lock_release,
    .capsule_put = sb_capsule_put,
    .capsule_get = sb_capsule_get,
    .capsule_list = sb_capsule_list,
    .notify_claim = sb_notify_claim,
    .notify_record = sb_notify_record,
};
