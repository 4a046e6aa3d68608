/* HTTP for the host and the bindings, over libcurl: one easy handle per transfer on a shared
 * connection cache, single requests and concurrent batches (curl multi). TLS verification is
 * always on. Every transfer is logged to the blackbox (method, URL with secret query values
 * removed, status, bytes, elapsed, error code). Header values may carry secrets: they are
 * passed to curl and never logged. Retries happen only for GET/HEAD or idempotent requests;
 * any other request is sent at most once, on a fresh connection (never re-sent by libcurl). */
#ifndef TITAN_HTTP_H
#define TITAN_HTTP_H
#include <stddef.h>

#define HTTP_DEFAULT_TIMEOUT_MS 10000
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define HTTP_DEFAULT_MAX_BODY (8u * 1024 * 1024)

struct http_response;
typedef struct http_request {
    const char *method;              /* "GET", "POST", "PATCH", "DELETE", ... */
    const char *url;
    const char *log_url;             /* shown in the blackbox instead of url when the URL itself holds a
                                        secret (a webhook, a token in the path); NULL = url, with secret
                                        query values removed */
    const char *const *headers;      /* "Name: value" lines; may hold secret values */
    size_t header_count;
    const char *body;                /* may be NULL */
    size_t body_len;
    long timeout_ms;                 /* 0 = HTTP_DEFAULT_TIMEOUT_MS; the whole deadline incl. retries */
    long connect_timeout_ms;         /* 0 = default */
    int retries;                     /* extra attempts, only for GET/HEAD or idempotent */
    int idempotent;
    int follow_redirects;
    size_t max_body;                 /* 0 = HTTP_DEFAULT_MAX_BODY */
    /* For a request whose 429 proves it was not acted on (a notification): a 429 is retried (up
     * to `retries`) even for a POST, after the wait this returns in ms (read from the answer; -1 =
     * no retry), inside the same deadline; nothing else is retried. NULL = off. */
    long (*retry_429_after_ms)(const struct http_response *res);
} http_request;

typedef struct http_header {
    char *name;                      /* lower-case */
    char *value;
} http_header;

typedef struct http_response {
    long status;                     /* 0 when the transfer failed */
    char *body;                      /* NUL-terminated, may be NULL when empty */
    size_t body_len;
    http_header *headers;            /* of the final response */
    size_t header_count;
    long elapsed_ms;
    int attempts;
    /* On failure: a stable code (http.timeout, http.connect, http.dns, http.tls,
     * http.too_large, http.memory_budget, http.protocol) and a message; NULL code on success
     * (any status). */
    const char *error_code;
    char error_message[256];
    int retryable;
    int request_sent;                /* 1 when the request may have reached the server (ambiguous) */
} http_response;

/* Performs one request (with its retries). Always fills *res; free with http_response_free. */
void http_perform(const http_request *req, http_response *res);
/* Performs n requests concurrently on one curl multi handle; res[i] answers req[i]. */
void http_perform_many(const http_request *reqs, http_response *res, size_t n);
/* The same, with the bytes of all the responses (bodies and headers) together bounded by
 * memory_budget: a transfer that would pass it fails with http.memory_budget. Each max_body
 * still applies. (Lua's bindings pass what is left of the Lua memory budget: C buffers count.) */
void http_perform_within(const http_request *reqs, http_response *res, size_t n, size_t memory_budget);
void http_response_free(http_response *res);
/* The value of a response header by lower-case name, or NULL. */
const char *http_response_header(const http_response *res, const char *name);
/* From now on every request fails at once with http.offline and `why` as its message, without
 * touching the network (backtests are offline: history only, reproducible). NULL allows again. */
void http_set_offline(const char *why);
/* Closes the shared connection cache and, when a request started it, libcurl (at exit). The
 * next request starts them again. */
void http_shutdown(void);
#endif
