/* Kraken spot REST for the host (cycle engine, live executor): the API-Sign signer, a strictly
 * increasing nonce, one call with its {error, result} envelope mapped to stable codes, and typed
 * calls whose answers come back as the C structs of kraken_parse.h. Lua's titan.kraken and
 * ctx.market build on these (kraken_lua.h). */
#ifndef TITAN_KRAKEN_H
#define TITAN_KRAKEN_H
#include <stddef.h>
#include <stdint.h>

#include "kraken_parse.h"
#include "strbuf.h"

#define KRAKEN_DEFAULT_URL "https://api.kraken.com"
#define KRAKEN_SIGN_SIZE 89          /* base64 of a 64-byte HMAC-SHA512, plus NUL */
#define KRAKEN_PUBLIC_RETRIES 2      /* HTTP-level retries of public GETs */
#define KRAKEN_MAX_PARAMS 64

/* ---- signing (kraken_sign.c) --------------------------------------------------------------- */

/* A signer holds the decoded secret as pre-keyed HMAC-SHA512 states, so each signature costs
 * one SHA-256 and two SHA-512 finishes. Not thread-safe (one per thread). */
typedef struct kraken_signer kraken_signer;

/* NULL on out-of-memory or an OpenSSL failure. The caller may wipe `secret` afterwards. */
kraken_signer *kraken_signer_new(const unsigned char *secret, size_t secret_len);
/* API-Sign = base64(HMAC-SHA512(secret, path || SHA256(nonce || body))). Returns 0, or -1
 * when OpenSSL fails (out is then ""). */
int kraken_signer_sign(kraken_signer *s, const char *path, const char *nonce, const char *body, size_t body_len,
                       char out_b64[KRAKEN_SIGN_SIZE]);
/* Wipes the key material and frees; NULL is fine. */
void kraken_signer_free(kraken_signer *s);
/* One-shot form of the above (the secret is the DECODED key bytes). 0 or -1. */
int kraken_sign(const unsigned char *secret, size_t secret_len, const char *path, const char *nonce,
                const char *body, char out_b64[KRAKEN_SIGN_SIZE]);
/* The signer of KRAKEN_API_KEY/KRAKEN_SECRET, set up once per process; NULL with o filled
 * (kraken.no_credentials, kraken.invalid_secret) when they are unusable. */
kraken_signer *kraken_env_signer(kraken_outcome *o);

/* Milliseconds since the epoch from the real wall clock (not the pinnable clock_now_ms: Kraken
 * remembers a key's last nonce across processes), strictly greater than the previous nonce of
 * this process even when the clock steps back (then last + 1). */
int64_t kraken_next_nonce(void);
/* Replaces the nonce's clock (tests: a clock that steps back); NULL restores the wall clock. */
void kraken_set_nonce_clock(int64_t (*now_ms)(void));
/* Frees the signer (wiping the key) and forgets the credentials state; at exit and in tests. */
void kraken_shutdown(void);

/* ---- parameters ------------------------------------------------------------------------------- */

typedef struct kraken_params {
    struct {
        char *key, *value;           /* malloc'd, unencoded */
    } items[KRAKEN_MAX_PARAMS];
    size_t count;
} kraken_params;
/* Adds key=value (copied). 0, or -1 when full or out of memory. */
int kraken_params_add(kraken_params *p, const char *key, const char *value);
void kraken_params_free(kraken_params *p);

/* ---- calls -------------------------------------------------------------------------------------- */

/* The deadline of one call the host makes (TITAN_KRAKEN_TIMEOUT_MS: default and at most 15 s,
 * which recovery.h counts on). */
long kraken_timeout_ms(void);

/* Calls a Kraken method with params (NULL = none), sent with sorted keys.
 * Public: GET {KRAKEN_API_URL or https://api.kraken.com}/0/public/<method>?<params> (retried by
 * the HTTP layer, KRAKEN_PUBLIC_RETRIES). Private: POST /0/private/<method>, form body
 * `nonce=...&<params>`, signed; never retried except a read-only method answered
 * `EAPI:Invalid nonce`, retried once with a fresh nonce. timeout_ms 0 = the HTTP default.
 * On success reads the result as `read` says (NULL: the envelope only) and returns 0; else -1
 * with a->outcome: code kraken.* (kraken_parse.h) or the HTTP layer's http.* for transport
 * failures; `sent = 1` when the request may have reached Kraken without a definitive answer
 * (timeout or connection lost after sending, 5xx/520, EGeneral:Internal error, a truncated,
 * unreadable or wrong-shaped answer to a write) — an order call failing with sent = 1 is IN
 * DOUBT and must be looked up, never resent. raw_body (may be NULL) receives the answer's bytes.
 * Logs `kraken.call` (never the key, the signature or the secret). Never raises. */
int kraken_request(const char *method, const kraken_params *params, int is_private, long timeout_ms,
                   const kraken_read *read, kraken_answer *a, strbuf *raw_body);

/* Typed calls: 0 and *out filled, or -1 with a->outcome. `pair` is what the user wrote (XBTUSD,
 * XBT/USD, XXBTZUSD); Kraken's key comes back in out->pair_key. */
/* AssetPairs, cached per process on success (*cached says whether this one came from the cache). */
int kraken_get_asset_pair(const char *pair, long timeout_ms, kraken_pair_info *out, int *cached, kraken_answer *a);
/* Empties that cache (each replay reads its own capsule's AssetPairs answer). */
void kraken_forget_pairs(void);
int kraken_get_ticker(const char *pair, long timeout_ms, kraken_ticker_info *out, kraken_answer *a);
int kraken_get_balance(long timeout_ms, kraken_balances *out, kraken_answer *a);
/* OpenOrders ("open") or ClosedOrders ("closed") with optional filters; QueryOrders with a txid. */
int kraken_get_orders(const char *method, const kraken_params *filter, long timeout_ms, kraken_orders *out,
                      kraken_answer *a);
/* QueryTrades with params (txid = up to 20 comma-separated trade ids). */
int kraken_get_trades(const kraken_params *params, long timeout_ms, kraken_trades *out, kraken_answer *a);
/* AddOrder with params; validate-only calls (params hold validate=true) read no txid, but an
 * answer without a descr object fails (nothing shows the order was checked). */
int kraken_add_order(const kraken_params *params, int validate_only, long timeout_ms, kraken_placed *out,
                     kraken_answer *a);
/* OHLC: CLOSED candles, oldest first (the still-open last row is dropped); since (NULL = none) is
 * passed through; count > 0 keeps only the newest `count`. */
int kraken_get_ohlc(const char *pair, int interval, const char *since, int count, long timeout_ms,
                    kraken_candles *out, kraken_answer *a);

/* Builds the form body (fresh nonce first) and the API-Sign of a private call without sending
 * it: the whole C signing path, for benchmarks and tests. Appends to body; 0, or -1 with the
 * reason in why. Uses up a nonce. */
int kraken_sign_private(const char *method, const kraken_params *params, strbuf *body, char sign[KRAKEN_SIGN_SIZE],
                        char *why, size_t whylen);

/* ---- rules ---------------------------------------------------------------------------------------- */

/* 1 when `interval` (minutes) is one Kraken serves. */
int kraken_valid_interval(int interval);
/* 1 for letters and digits starting with a capital, at most 64. */
int kraken_valid_method(const char *method);
/* 1 for private methods known to be read-only (the only ones the nonce retry applies to);
 * unknown methods count as writes. */
int kraken_is_read_only(const char *method);
#endif
