/* Kraken spot REST calls: parameters, one signed or public request with its answer parsed by
 * kraken_parse.c, the kraken.call blackbox line, and the typed calls the engine makes. */
#include "kraken.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "blackbox.h"
#include "clock.h"
#include "http.h"
#include "secrets.h"
#include "tape.h"
#include "settings.h"

#define KRAKEN_MAX_METHOD 64
#define KRAKEN_PAIR_CACHE 8

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

int kraken_valid_method(const char *method)
{
    size_t n = method ? strlen(method) : 0;
    if (n == 0 || n > KRAKEN_MAX_METHOD || method[0] < 'A' || method[0] > 'Z') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = method[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return 0;
    }
    return 1;
}

/* ---- parameters ------------------------------------------------------------------------- */

int kraken_params_add(kraken_params *p, const char *key, const char *value)
{
    if (p->count >= KRAKEN_MAX_PARAMS) return -1;
    char *k = strdup(key), *v = strdup(value ? value : "");
    if (!k || !v) {
        free(k), free(v);
        return -1;
    }
    p->items[p->count].key = k;
    p->items[p->count].value = v;
    p->count++;
    return 0;
}

void kraken_params_free(kraken_params *p)
{
    for (size_t i = 0; i < p->count; i++) free(p->items[i].key), free(p->items[i].value);
    p->count = 0;
}

/* key=value&... with sorted keys, percent-encoded. */
static void kraken_encode_params(const kraken_params *p, strbuf *out)
{
    if (!p) return;
    const char *done = NULL;                           /* selection by key order: at most 64 */
    for (size_t round = 0; round < p->count; round++) {
        size_t best = p->count;
        for (size_t i = 0; i < p->count; i++) {
            const char *k = p->items[i].key;
            if (done && strcmp(k, done) <= 0) continue;
            if (best == p->count || strcmp(k, p->items[best].key) < 0) best = i;
        }
        if (best == p->count) break;
        done = p->items[best].key;
        if (out->len > 0) strbuf_puts(out, "&");
        strbuf_urlencode(out, done, strlen(done));
        strbuf_puts(out, "=");
        strbuf_urlencode(out, p->items[best].value, strlen(p->items[best].value));
    }
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

/* The blackbox line for a call: never headers, never the signature or the key. */
static void kraken_log_call(const char *method, int is_private, const kraken_params *params, const kraken_answer *a,
                            int attempts, int64_t started)
{
    const kraken_outcome *o = &a->outcome;
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "method", method);
    strbuf_json_bool(&f, "private", is_private);
    strbuf_json_bool(&f, "ok", !o->code);
    if (o->code) {
        strbuf_json_str(&f, "code", o->code);
        strbuf_json_str(&f, "message", o->message);
        strbuf_json_bool(&f, "sent", o->sent);
    }
    strbuf_json_int(&f, "status", o->status);
    strbuf_json_int(&f, "attempts", attempts);
    strbuf_json_int(&f, "ms", (long long)(clock_monotonic_ms() - started));
    size_t warnings = 0;
    for (size_t i = 0; i < a->n_texts; i++) {
        if (!kraken_text_is_warning(a->texts[i])) continue;
        if (warnings++ == 0) strbuf_json_raw(&f, "warnings", "[");
        strbuf_json_str(&f, NULL, a->texts[i]);
    }
    if (warnings) strbuf_puts(&f, "]");
    if (params && params->count > 0) {
        strbuf_json_raw(&f, "params", "{");
        for (size_t i = 0; i < params->count; i++) strbuf_json_str(&f, params->items[i].key, params->items[i].value);
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

/* Turns one HTTP exchange into the answer: a transport failure, or the parsed envelope. */
static int kraken_answer_of(const char *method, const http_response *res, int write, const kraken_read *read,
                            kraken_answer *a, strbuf *raw_body)
{
    if (res->error_code) {
        memset(a, 0, sizeof *a);
        int sent = res->request_sent != 0;
        a->outcome.status = res->status;
        kraken_fail(&a->outcome, res->error_code, res->retryable && !(write && sent), sent, "Kraken %s: %s%s", method,
                    res->error_message,
                    sent && write ? " (the request may have reached Kraken: its outcome is unknown)" : "");
        return -1;
    }
    if (raw_body && res->body) strbuf_append(raw_body, res->body, res->body_len);
    return kraken_parse_answer(method, write, res->status, res->body, res->body ? res->body_len : 0, read, a);
}

long kraken_timeout_ms(void)
{
    long long ms = 0;
    char ignored[256];   /* a malformed value was refused before the command started (settings.c) */
    settings_integer("TITAN_KRAKEN_TIMEOUT_MS", &ms, ignored, sizeof ignored);
    return (long)ms;
}

int kraken_request(const char *method, const kraken_params *params, int is_private, long timeout_ms,
                   const kraken_read *read, kraken_answer *a, strbuf *raw_body)
{
    memset(a, 0, sizeof *a);
    if (timeout_ms < 0) timeout_ms = 0;
    strbuf query = {0}, url = {0}, path = {0};
    int write = is_private && !kraken_is_read_only(method ? method : "");
    int attempts = 0, rc = -1;
    int64_t started = clock_monotonic_ms();
    const char *shown = method ? method : "(null)";

    if (!kraken_valid_method(method)) {
        kraken_fail(&a->outcome, "kraken.bad_request", 0, 0,
                    "'%.64s' is not a Kraken method name (letters and digits starting with a capital)", shown);
        goto done;
    }
    kraken_encode_params(params, &query);
    kraken_base_url(&url);
    strbuf_printf(&path, "/0/%s/%s", is_private ? "private" : "public", method);
    strbuf_append(&url, path.data, path.len);
    if (query.oom || url.oom || path.oom) {
        kraken_fail(&a->outcome, "kraken.error", 0, 0, "Kraken %s: out of memory", method);
        goto done;
    }
    http_response played;                             /* a replay answers from its capsule */
    if (tape_kraken_play(method, is_private, strbuf_cstr(&query), &played) == 0) {
        attempts = 1;
        rc = kraken_answer_of(method, &played, write, read, a, raw_body);
        http_response_free(&played);
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
        tape_kraken_record(method, 0, strbuf_cstr(&query), &res);
        attempts = res.attempts > 0 ? res.attempts : 1;
        rc = kraken_answer_of(method, &res, 0, read, a, raw_body);
        http_response_free(&res);
        goto done;
    }
    kraken_signer *signer = kraken_env_signer(&a->outcome);
    if (!signer) goto done;
    /* A read answered "Invalid nonce" is retried once with a fresh nonce; writes never are:
     * the caller must look the order up instead. */
    for (int round = 0; round < 2; round++) {
        http_response res;
        kraken_post_private(signer, strbuf_cstr(&url), strbuf_cstr(&path), &query, timeout_ms, &res);
        tape_kraken_record(method, 1, strbuf_cstr(&query), &res);
        attempts++;
        if (round > 0) kraken_answer_free(a);
        if (raw_body) raw_body->len = 0;
        rc = kraken_answer_of(method, &res, write, read, a, raw_body);
        http_response_free(&res);
        if (rc == 0 || write || strcmp(a->outcome.code, "kraken.invalid_nonce") != 0) break;
    }

done:
    kraken_log_call(shown, is_private, params, a, attempts, started);
    strbuf_free(&query);
    strbuf_free(&url);
    strbuf_free(&path);
    return rc;
}

int kraken_sign_private(const char *method, const kraken_params *params, strbuf *body, char sign[KRAKEN_SIGN_SIZE],
                        char *why, size_t whylen)
{
    kraken_outcome o = {0};
    strbuf query = {0}, path = {0};
    int rc = -1;
    sign[0] = '\0';
    kraken_signer *signer = kraken_env_signer(&o);
    if (!kraken_valid_method(method)) {
        snprintf(why, whylen, "not a Kraken method name");
    } else if (!signer) {
        snprintf(why, whylen, "%s", o.message);
    } else {
        kraken_encode_params(params, &query);
        strbuf_printf(&path, "/0/private/%s", method);
        rc = query.oom || path.oom ? -1 : kraken_build_signed(signer, strbuf_cstr(&path), &query, body, sign);
        if (rc != 0) snprintf(why, whylen, "out of memory");
    }
    strbuf_free(&query);
    strbuf_free(&path);
    return rc;
}

/* ---- typed calls ----------------------------------------------------------------------------- */

/* A request refused before sending (a programming error of the caller). */
static int kraken_refuse(kraken_answer *a, const char *method, const char *message)
{
    memset(a, 0, sizeof *a);
    kraken_fail(&a->outcome, "kraken.bad_request", 0, 0, "Kraken %s: %s", method, message);
    return -1;
}

/* A public call for `pair` with the key/value parameters in kv (NULL-terminated; a NULL value
 * leaves its key out). */
static int kraken_pair_call(const char *method, const char *pair, const char *const *kv, long timeout_ms,
                            const kraken_read *read, kraken_answer *a)
{
    if (!pair || !*pair) return kraken_refuse(a, method, "a pair is required");
    kraken_params p = {0};
    int ok = kraken_params_add(&p, "pair", pair) == 0;
    for (size_t i = 0; ok && kv && kv[i]; i += 2)
        if (kv[i + 1]) ok = kraken_params_add(&p, kv[i], kv[i + 1]) == 0;
    int rc = ok ? kraken_request(method, &p, 0, timeout_ms, read, a, NULL) : kraken_refuse(a, method, "out of memory");
    kraken_params_free(&p);
    return rc;
}

static struct {
    char asked[KRAKEN_ID_SIZE];
    kraken_pair_info info;
} kraken_pair_cache[KRAKEN_PAIR_CACHE];
static size_t kraken_pairs_cached;

int kraken_get_asset_pair(const char *pair, long timeout_ms, kraken_pair_info *out, int *cached, kraken_answer *a)
{
    if (cached) *cached = 0;
    for (size_t i = 0; pair && i < kraken_pairs_cached; i++) {
        if (strcmp(kraken_pair_cache[i].asked, pair) == 0) {
            memset(a, 0, sizeof *a);
            *out = kraken_pair_cache[i].info;
            if (cached) *cached = 1;
            return 0;
        }
    }
    kraken_read r = {.kind = KRAKEN_READ_ASSET_PAIR, .pair = pair, .out = out};
    if (kraken_pair_call("AssetPairs", pair, NULL, timeout_ms, &r, a) != 0) return -1;
    if (kraken_pairs_cached < KRAKEN_PAIR_CACHE && strlen(pair) < KRAKEN_ID_SIZE) {
        snprintf(kraken_pair_cache[kraken_pairs_cached].asked, KRAKEN_ID_SIZE, "%s", pair);
        kraken_pair_cache[kraken_pairs_cached++].info = *out;
    }
    return 0;
}

void kraken_forget_pairs(void) { kraken_pairs_cached = 0; }

int kraken_get_ticker(const char *pair, long timeout_ms, kraken_ticker_info *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_TICKER, .pair = pair, .out = out};
    return kraken_pair_call("Ticker", pair, NULL, timeout_ms, &r, a);
}

int kraken_get_balance(long timeout_ms, kraken_balances *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_BALANCE, .out = out};
    return kraken_request("Balance", NULL, 1, timeout_ms, &r, a, NULL);
}

int kraken_get_orders(const char *method, const kraken_params *filter, long timeout_ms, kraken_orders *out,
                      kraken_answer *a)
{
    const char *list = strcmp(method, "OpenOrders") == 0 ? "open" : strcmp(method, "ClosedOrders") == 0 ? "closed" : NULL;
    kraken_read r = {.kind = KRAKEN_READ_ORDERS, .list_key = list, .out = out};
    return kraken_request(method, filter, 1, timeout_ms, &r, a, NULL);
}

int kraken_get_trades(const kraken_params *params, long timeout_ms, kraken_trades *out, kraken_answer *a)
{
    kraken_read r = {.kind = KRAKEN_READ_TRADES, .out = out};
    return kraken_request("QueryTrades", params, 1, timeout_ms, &r, a, NULL);
}

int kraken_add_order(const kraken_params *params, int validate_only, long timeout_ms, kraken_placed *out,
                     kraken_answer *a)
{
    kraken_read r = {.kind = validate_only ? KRAKEN_READ_VALIDATED : KRAKEN_READ_PLACED, .out = out};
    memset(out, 0, sizeof *out);
    return kraken_request("AddOrder", params, 1, timeout_ms, &r, a, NULL);
}

int kraken_get_ohlc(const char *pair, int interval, const char *since, int count, long timeout_ms,
                    kraken_candles *out, kraken_answer *a)
{
    memset(out, 0, sizeof *out);
    if (!kraken_valid_interval(interval))
        return kraken_refuse(a, "OHLC", "interval must be one of 1, 5, 15, 30, 60, 240, 1440, 10080, 21600 minutes");
    char iv[16];
    snprintf(iv, sizeof iv, "%d", interval);
    const char *const kv[] = {"interval", iv, "since", since && *since ? since : NULL, NULL};
    kraken_read r = {.kind = KRAKEN_READ_OHLC, .pair = pair, .count = count, .out = out};
    return kraken_pair_call("OHLC", pair, kv, timeout_ms, &r, a);
}
