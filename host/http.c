/* HTTP over libcurl: every transfer, single or batched, runs on one reused curl multi handle
 * with a shared connection/DNS/TLS-session cache, so connections are reused within a run.
 * Retries (opt-in, idempotent requests only) are scheduled inside the same event loop. */
#include "http.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "blackbox.h"
#include "clock.h"
#include "strbuf.h"
#include "version.h"

#define HTTP_MAX_RETRIES 10
#define HTTP_BACKOFF_BASE_MS 100
#define HTTP_BACKOFF_CAP_MS 4000
#define HTTP_MAX_REDIRECTS 5
#define HTTP_MAX_HEADERS 256

static int http_curl_ready; /* curl_global_init done: the first request does it, so commands that
                              * never use the network never start libcurl or OpenSSL's TLS */
static CURLSH *http_share;
static CURLM *http_multi;
static uint64_t http_rng_state;

typedef enum { HTTP_WAITING, HTTP_RUNNING, HTTP_DONE } http_state;

/* Bytes the responses of one call may still take, shared by its transfers. */
typedef struct http_memory {
    size_t left, budget;
} http_memory;

/* One request in flight: its easy handle, the response being built, its retry schedule. */
typedef struct http_transfer {
    const http_request *req;
    http_response *res;
    CURL *easy;
    struct curl_slist *header_list;
    strbuf body;
    size_t max_body;
    int too_large;
    http_memory *memory;
    size_t charged;                 /* bytes of this transfer's response counted in memory */
    int over_memory;
    int prereq_called;              /* the connection was ready and the request was about to go */
    int retry_allowed;
    int max_retries;
    http_state state;
    int64_t start_ms, deadline_ms, wake_ms, end_ms;
    char errbuf[CURL_ERROR_SIZE];
} http_transfer;

static int http_init(void)
{
    if (!http_curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
        http_curl_ready = 1;
    }
    if (!http_share) {
        /* Safety net: main calls http_shutdown; if a program does not, the handles and libcurl
         * are still released (LIFO: before OpenSSL's own exit handler). */
        static int registered;
        if (!registered) registered = atexit(http_shutdown) == 0;
        http_share = curl_share_init();
        if (!http_share) return -1;
        curl_share_setopt(http_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        curl_share_setopt(http_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(http_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
    if (!http_multi) {
        http_multi = curl_multi_init();
        if (!http_multi) return -1;
    }
    if (!http_rng_state) http_rng_state = ((uint64_t)clock_monotonic_ms() * 2654435761u ^ (uint64_t)clock_now_ms()) | 1;
    return 0;
}

void http_shutdown(void)
{
    if (http_multi) curl_multi_cleanup(http_multi);
    if (http_share) curl_share_cleanup(http_share);
    http_multi = NULL;
    http_share = NULL;
    if (http_curl_ready) curl_global_cleanup();
    http_curl_ready = 0;
}

/* xorshift64: jitter only, not security. */
static uint64_t http_random(void)
{
    uint64_t x = http_rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    http_rng_state = x;
    return x;
}

static void http_free_headers(http_response *res)
{
    for (size_t i = 0; i < res->header_count; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    free(res->headers);
    res->headers = NULL;
    res->header_count = 0;
}

void http_response_free(http_response *res)
{
    if (!res) return;
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    http_free_headers(res);
}

const char *http_response_header(const http_response *res, const char *name)
{
    for (size_t i = 0; res && name && i < res->header_count; i++)
        if (strcasecmp(res->headers[i].name, name) == 0) return res->headers[i].value;
    return NULL;
}

/* Counts n more response bytes against the call's memory budget; 0 when they do not fit. */
static int http_charge(http_transfer *t, size_t n)
{
    if (n > t->memory->left) {
        t->over_memory = 1;
        return 0;
    }
    t->memory->left -= n;
    t->charged += n;
    return 1;
}

/* Gives back what a response that is thrown away (a failed attempt) had counted. */
static void http_refund(http_transfer *t)
{
    t->memory->left += t->charged;
    t->charged = 0;
}

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    http_transfer *t = userdata;
    size_t n = size * nmemb;
    if (t->body.len + n > t->max_body) {
        t->too_large = 1;
        return 0;                                  /* aborts with CURLE_WRITE_ERROR */
    }
    if (!http_charge(t, n)) return 0;
    strbuf_append(&t->body, data, n);
    return t->body.oom ? 0 : n;
}

/* Header lines of every response arrive here (1xx, redirects, the final one): a status line
 * starts a fresh set, so only the final response's headers remain. Repeats are joined by ", ". */
static size_t http_on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    http_transfer *t = userdata;
    http_response *res = t->res;
    size_t n = size * nmemb;
    if (!http_charge(t, n)) return 0;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        http_free_headers(res);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon || colon == data) return n;      /* blank line, folded or malformed: ignored */
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1, *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
    size_t value_len = (size_t)(end - v);
    char *name = strndup(data, name_len);
    if (!name) return 0;
    for (char *p = name; *p; p++) *p = (char)tolower((unsigned char)*p);
    for (size_t i = 0; i < res->header_count; i++) {
        if (strcmp(res->headers[i].name, name) != 0) continue;
        size_t old = strlen(res->headers[i].value);
        char *joined = realloc(res->headers[i].value, old + 2 + value_len + 1);
        free(name);
        if (!joined) return 0;
        memcpy(joined + old, ", ", 2);
        memcpy(joined + old + 2, v, value_len);
        joined[old + 2 + value_len] = '\0';
        res->headers[i].value = joined;
        return n;
    }
    if (res->header_count >= HTTP_MAX_HEADERS) { free(name); return n; }
    http_header *grown = realloc(res->headers, (res->header_count + 1) * sizeof *grown);
    char *value = strndup(v, value_len);
    if (!grown || !value) {
        if (grown) res->headers = grown;
        free(name);
        free(value);
        return 0;
    }
    res->headers = grown;
    res->headers[res->header_count].name = name;
    res->headers[res->header_count].value = value;
    res->header_count++;
    return n;
}

static int http_on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                          int conn_local_port)
{
    (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
    ((http_transfer *)userdata)->prereq_called = 1;
    return CURL_PREREQFUNC_OK;
}

static int http_method_is(const http_request *req, const char *m)
{
    return strcmp(req->method ? req->method : "GET", m) == 0;
}

/* Records a failure: code, retryability and "prefix: detail" (truncated to fit). */
static void http_fail(http_transfer *t, const char *code, int retryable, const char *prefix, const char *detail)
{
    http_response *res = t->res;
    res->status = 0;
    res->error_code = code;
    res->retryable = retryable;
    size_t cap = sizeof res->error_message - 1, len = 0;
    for (const char *parts[] = {prefix, detail ? ": " : NULL, detail}, **p = parts; p < parts + 3; p++) {
        if (!*p) continue;
        size_t n = strlen(*p);
        if (n > cap - len) n = cap - len;
        memcpy(res->error_message + len, *p, n);
        len += n;
    }
    res->error_message[len] = '\0';
}

/* Configures the easy handle for one attempt. Returns 0, or -1 with the failure recorded. */
static int http_setup_attempt(http_transfer *t, int64_t now)
{
    const http_request *req = t->req;
    if (!t->easy) {
        t->easy = curl_easy_init();
        if (!t->easy) { http_fail(t, "http.protocol", 0, "cannot create a curl handle (out of memory)", NULL); return -1; }
    } else {
        curl_easy_reset(t->easy);
    }
    CURL *e = t->easy;
    long remaining = (long)(t->deadline_ms - now);
    if (remaining < 1) remaining = 1;
    long connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    if (connect_ms > remaining) connect_ms = remaining;
    const char *method = req->method ? req->method : "GET";

    t->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_SHARE, http_share);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* Verification is on by default in libcurl; set it anyway so no default can turn it off. */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "titan-host/" TITAN_VERSION);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, remaining);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, http_on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
    /* libcurl silently sends a request again when a reused connection turns out dead with no
     * reply byte; the server may still have acted on the first copy. A request that must not
     * be repeated (an order) therefore always opens its own connection. */
    if (!t->retry_allowed) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
        if (strcmp(method, "GET") != 0) {
            /* POST-style body (possibly empty, so Content-Length: 0 is sent), then the verb. */
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
            if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        } else if (req->body && req->body_len) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "GET");
        }
    }
    strbuf_free(&t->body);
    http_free_headers(t->res);
    http_refund(t);
    t->too_large = t->over_memory = 0;
    t->res->attempts++;
    if (curl_multi_add_handle(http_multi, e) != CURLM_OK) {
        http_fail(t, "http.protocol", 0, "cannot start the transfer (curl multi)", NULL);
        return -1;
    }
    t->state = HTTP_RUNNING;
    return 0;
}

/* Maps a libcurl failure to one of the stable error codes. */
static void http_classify(http_transfer *t, CURLcode code)
{
    const char *detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
    char msg[96];
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        http_fail(t, "http.dns", 0, "cannot resolve host", detail);
        break;
    case CURLE_COULDNT_CONNECT:
        http_fail(t, "http.connect", 1, "cannot connect", detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        http_fail(t, "http.timeout", 1, "timed out", detail);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        http_fail(t, "http.tls", 0, "TLS failure", detail);
        break;
    case CURLE_FILESIZE_EXCEEDED:
        snprintf(msg, sizeof msg, "response body larger than the %zu-byte cap", t->max_body);
        http_fail(t, "http.too_large", 0, msg, NULL);
        break;
    case CURLE_WRITE_ERROR:
        if (t->over_memory) {
            snprintf(msg, sizeof msg, "responses larger than the %zu bytes of memory left to this call",
                     t->memory->budget);
            http_fail(t, "http.memory_budget", 0, msg, "TITAN_LUA_MEM_MB bounds what responses may hold");
        } else if (t->too_large) {
            snprintf(msg, sizeof msg, "response body larger than the %zu-byte cap", t->max_body);
            http_fail(t, "http.too_large", 0, msg, NULL);
        } else {
            http_fail(t, "http.protocol", 0, "out of memory while reading the response body", NULL);
        }
        break;
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        /* The connection broke mid-exchange: worth another try for an idempotent request. */
        http_fail(t, "http.protocol", 1, "connection failed mid-exchange", detail);
        break;
    default:
        http_fail(t, "http.protocol", 0, "protocol error", detail);
        break;
    }
    /* A request may have reached the server unless it failed before the connection was ready. */
    int before_send = code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY ||
                      code == CURLE_COULDNT_CONNECT || strcmp(t->res->error_code, "http.tls") == 0 ||
                      !t->prereq_called;
    if (!before_send) t->res->request_sent = 1;
}

/* Retry-After in seconds (the HTTP-date form is not honoured); -1 when absent or unusable. */
static long http_retry_after_ms(const http_response *res)
{
    const char *v = http_response_header(res, "retry-after");
    if (!v || !*v) return -1;
    char *end;
    long s = strtol(v, &end, 10);
    if (end == v || *end || s < 0 || s > 86400) return -1;
    return s * 1000;
}

static int64_t http_backoff_ms(int attempt)
{
    int64_t base = HTTP_BACKOFF_BASE_MS;
    for (int i = 1; i < attempt && base < HTTP_BACKOFF_CAP_MS; i++) base *= 2;
    if (base > HTTP_BACKOFF_CAP_MS) base = HTTP_BACKOFF_CAP_MS;
    /* "equal jitter": half fixed, half random, so concurrent runners spread out. */
    return base / 2 + (int64_t)(http_random() % (uint64_t)(base / 2 + 1));
}

static void http_take_body(http_transfer *t)
{
    http_response *res = t->res;
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    if (t->body.len > 0 && !t->body.oom) {
        res->body = t->body.data;
        res->body_len = t->body.len;
        t->body.data = NULL;
    }
    strbuf_free(&t->body);
}

/* An attempt ended: record the outcome, then either finish or schedule the next attempt. */
static void http_attempt_done(http_transfer *t, CURLcode code)
{
    http_response *res = t->res;
    curl_multi_remove_handle(http_multi, t->easy);
    int64_t now = clock_monotonic_ms();
    int want_retry = 0;
    long retry_after = -1;
    if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        res->status = status;
        res->error_code = NULL;
        res->error_message[0] = '\0';
        res->retryable = status == 429 || status >= 500;
        res->request_sent = 1;
        want_retry = res->retryable;
        retry_after = http_retry_after_ms(res);
        http_take_body(t);
        if (status == 429 && t->req->retry_429_after_ms) {
            retry_after = t->req->retry_429_after_ms(res);
            want_retry = retry_after >= 0;
        }
    } else {
        strbuf_free(&t->body);
        http_free_headers(res);
        http_refund(t);
        http_classify(t, code);
        want_retry = res->retryable;
    }
    int allowed = t->retry_allowed || (res->status == 429 && t->req->retry_429_after_ms);
    if (want_retry && allowed && res->attempts <= t->max_retries) {
        int64_t delay = http_backoff_ms(res->attempts);
        if (retry_after > delay) delay = retry_after;
        /* Only if the next attempt can start (and have a little time) before the deadline. */
        if (now + delay + 10 < t->deadline_ms) {
            strbuf f = {0};
            strbuf_printf(&f, "{\"attempt\":%d,\"status\":%ld,\"error\":", res->attempts, res->status);
            if (res->error_code) strbuf_json_string(&f, res->error_code, strlen(res->error_code));
            else strbuf_puts(&f, "null");
            strbuf_printf(&f, ",\"wait_ms\":%lld}", (long long)delay);
            blackbox_log(BLACKBOX_DEBUG, "http.retry", f.oom ? NULL : f.data);
            strbuf_free(&f);
            t->wake_ms = now + delay;
            t->state = HTTP_WAITING;
            return;
        }
    }
    t->state = HTTP_DONE;
    t->end_ms = now;
}

/* The URL for logs: no userinfo, no fragment, and the values of secret-looking query
 * parameters replaced. */
static int http_secret_param(const char *name, size_t len)
{
    static const char *const exact[] = {"key", "api_key", "apikey", "api-key", "token", "access_token",
                                        "secret", "signature", "sig", "password", "auth", NULL};
    static const char *const suffixes[] = {"_key", "-key", "_token", "_secret", NULL};
    for (int i = 0; exact[i]; i++)
        if (strlen(exact[i]) == len && strncasecmp(name, exact[i], len) == 0) return 1;
    for (int i = 0; suffixes[i]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len >= sl && strncasecmp(name + len - sl, suffixes[i], sl) == 0) return 1;
    }
    return 0;
}

static void http_loggable_url(strbuf *out, const char *url)
{
    if (!url) { strbuf_puts(out, "(none)"); return; }
    const char *scheme_end = strstr(url, "://");
    const char *p = url;
    if (scheme_end) {
        strbuf_append(out, url, (size_t)(scheme_end + 3 - url));
        p = scheme_end + 3;
        size_t auth_len = strcspn(p, "/?#");
        const char *at = memchr(p, '@', auth_len);
        if (at) p = at + 1;                         /* drop user:password@ */
    }
    size_t path_len = strcspn(p, "?#");
    strbuf_append(out, p, path_len);
    p += path_len;
    if (*p != '?') return;
    strbuf_puts(out, "?");
    p++;
    while (*p && *p != '#') {
        size_t pair_len = strcspn(p, "&#");
        const char *eq = memchr(p, '=', pair_len);
        size_t name_len = eq ? (size_t)(eq - p) : pair_len;
        if (eq && http_secret_param(p, name_len)) {
            strbuf_append(out, p, name_len);
            strbuf_puts(out, "=[removed]");
        } else {
            strbuf_append(out, p, pair_len);
        }
        p += pair_len;
        if (*p == '&') { strbuf_puts(out, "&"); p++; }
    }
}

static void http_log(const http_request *req, const http_response *res)
{
    strbuf f = {0};
    strbuf url = {0};
    const char *method = req->method ? req->method : "GET";
    if (req->log_url) strbuf_puts(&url, req->log_url);
    else http_loggable_url(&url, req->url);
    strbuf_puts(&f, "{\"method\":");
    strbuf_json_string(&f, method, strlen(method));
    strbuf_puts(&f, ",\"url\":");
    strbuf_json_string(&f, strbuf_cstr(&url), url.len);
    strbuf_printf(&f, ",\"status\":%ld,\"bytes\":%zu,\"elapsed_ms\":%ld,\"attempts\":%d", res->status, res->body_len,
                  res->elapsed_ms, res->attempts);
    if (res->error_code) {
        strbuf_puts(&f, ",\"error\":");
        strbuf_json_string(&f, res->error_code, strlen(res->error_code));
        strbuf_printf(&f, ",\"sent\":%s", res->request_sent ? "true" : "false");
    }
    strbuf_puts(&f, "}");
    blackbox_log(res->error_code ? BLACKBOX_WARN : BLACKBOX_DEBUG, "http.request", f.oom ? NULL : f.data);
    strbuf_free(&f);
    strbuf_free(&url);
}

/* Validates what libcurl cannot: header lines that would smuggle extra lines. */
static int http_prepare(http_transfer *t)
{
    const http_request *req = t->req;
    if (!req->url || !*req->url) { http_fail(t, "http.protocol", 0, "no URL", NULL); return -1; }
    for (size_t i = 0; i < req->header_count; i++) {
        const char *line = req->headers[i];
        if (!line || strpbrk(line, "\r\n")) {
            http_fail(t, "http.protocol", 0, "a request header contains a line break", NULL);
            return -1;
        }
        struct curl_slist *next = curl_slist_append(t->header_list, line);
        if (!next) { http_fail(t, "http.protocol", 0, "out of memory", NULL); return -1; }
        t->header_list = next;
    }
    /* No "Expect: 100-continue" round trip before sending a body. */
    struct curl_slist *next = curl_slist_append(t->header_list, "Expect:");
    if (!next) { http_fail(t, "http.protocol", 0, "out of memory", NULL); return -1; }
    t->header_list = next;
    return 0;
}

/* Wipes and frees the curl copies of the header lines (they may hold secrets). */
static void http_free_header_list(struct curl_slist *list)
{
    for (struct curl_slist *s = list; s; s = s->next) {
        volatile char *p = s->data;
        while (p && *p) *p++ = 0;
    }
    curl_slist_free_all(list);
}

static char http_offline_reason[160];

void http_set_offline(const char *why)
{
    snprintf(http_offline_reason, sizeof http_offline_reason, "%s", why ? why : "");
}

void http_perform_many(const http_request *reqs, http_response *res, size_t n)
{
    http_perform_within(reqs, res, n, SIZE_MAX);
}

void http_perform_within(const http_request *reqs, http_response *res, size_t n, size_t memory_budget)
{
    if (n == 0) return;
    http_memory memory = {.left = memory_budget, .budget = memory_budget};
    http_transfer *ts = calloc(n, sizeof *ts);
    int ready = http_init() == 0;
    int64_t start = clock_monotonic_ms();
    size_t pending = 0;
    for (size_t i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof res[i]);
        if (!ts) {
            res[i].error_code = "http.protocol";
            snprintf(res[i].error_message, sizeof res[i].error_message, "out of memory");
            continue;
        }
        http_transfer *t = &ts[i];
        t->req = &reqs[i];
        t->res = &res[i];
        t->memory = &memory;
        t->start_ms = start;
        long timeout = reqs[i].timeout_ms > 0 ? reqs[i].timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
        t->deadline_ms = start + timeout;
        t->wake_ms = start;
        t->max_body = reqs[i].max_body > 0 ? reqs[i].max_body : HTTP_DEFAULT_MAX_BODY;
        t->max_retries = reqs[i].retries < 0 ? 0 : reqs[i].retries > HTTP_MAX_RETRIES ? HTTP_MAX_RETRIES
                                                                                       : reqs[i].retries;
        t->retry_allowed = http_method_is(t->req, "GET") || http_method_is(t->req, "HEAD") || reqs[i].idempotent;
        t->state = HTTP_WAITING;
        if (http_offline_reason[0]) {
            http_fail(t, "http.offline", 0, http_offline_reason, NULL);
            t->state = HTTP_DONE;
        } else if (!ready) {
            http_fail(t, "http.protocol", 0, "cannot initialise libcurl", NULL);
            t->state = HTTP_DONE;
        } else if (http_prepare(t) != 0) {
            t->state = HTTP_DONE;
        } else {
            pending++;
        }
    }
    while (ts && pending > 0) {
        int64_t now = clock_monotonic_ms();
        for (size_t i = 0; i < n; i++) {
            if (ts[i].state == HTTP_WAITING && ts[i].wake_ms <= now && http_setup_attempt(&ts[i], now) != 0) {
                ts[i].state = HTTP_DONE;
                ts[i].end_ms = now;
                pending--;
            }
        }
        int running = 0;
        curl_multi_perform(http_multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(http_multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            char *priv = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            http_transfer *t = (http_transfer *)(void *)priv;
            CURLcode code = msg->data.result;   /* msg is invalid once the handle is removed */
            http_attempt_done(t, code);
            if (t->state == HTTP_DONE) pending--;
        }
        if (pending == 0) break;
        /* Sleep until a socket is ready or the next retry is due. */
        now = clock_monotonic_ms();
        int64_t wait = 1000;
        for (size_t i = 0; i < n; i++)
            if (ts[i].state == HTTP_WAITING && ts[i].wake_ms - now < wait) wait = ts[i].wake_ms - now;
        if (wait > 0) curl_multi_poll(http_multi, NULL, 0, (int)wait, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (ts) {
            res[i].elapsed_ms = (long)((ts[i].end_ms ? ts[i].end_ms : clock_monotonic_ms()) - ts[i].start_ms);
            if (ts[i].easy) curl_easy_cleanup(ts[i].easy);
            http_free_header_list(ts[i].header_list);
            strbuf_free(&ts[i].body);
        }
        http_log(&reqs[i], &res[i]);
    }
    free(ts);
}

void http_perform(const http_request *req, http_response *res)
{
    http_perform_within(req, res, 1, SIZE_MAX);
}
