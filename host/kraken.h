/* Kraken spot REST for the host (cycle engine, live executor) and for titan.kraken: the
 * API-Sign signer, a strictly increasing nonce, the {error, result} envelope mapped to stable
 * err.code strings, and typed helpers (OHLC, Ticker, AssetPairs, Balance). */
#ifndef TITAN_KRAKEN_H
#define TITAN_KRAKEN_H
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "strbuf.h"

#define KRAKEN_DEFAULT_URL "https://api.kraken.com"
#define KRAKEN_SIGN_SIZE 89          /* base64 of a 64-byte HMAC-SHA512, plus NUL */
#define KRAKEN_PUBLIC_RETRIES 2      /* HTTP-level retries of public GETs */

/* ---- signing -------------------------------------------------------------------------- */

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

/* Builds the form body (fresh nonce first) and the API-Sign that kraken_call would send for a
 * private `method` with the params table at params_idx (0 = none), without sending anything:
 * the whole C signing path, for benchmarks and tests. Appends to body (the caller frees it);
 * returns 0, or -1 with the reason in why (no credentials, invalid secret, bad params).
 * Uses up a nonce. */
int kraken_prepare_private(lua_State *L, const char *method, int params_idx, strbuf *body,
                           char sign[KRAKEN_SIGN_SIZE], char *why, size_t whylen);

/* Milliseconds since the epoch from the real wall clock (not the pinnable clock_now_ms: Kraken
 * remembers a key's last nonce across processes), strictly greater than the previous nonce of
 * this process even when the clock steps back (then last + 1). */
int64_t kraken_next_nonce(void);
/* Replaces the nonce's clock (tests: a clock that steps back); NULL restores the wall clock. */
void kraken_set_nonce_clock(int64_t (*now_ms)(void));

/* ---- calls ------------------------------------------------------------------------------ */

/* Calls a Kraken method. `params_idx` is the stack index of a table of parameters (0 = none):
 * string keys; string, integer, number (sent as a plain decimal, never an exponent), boolean
 * ("true"/"false") values, or an array of those (sent comma-joined); sent with sorted keys.
 * Public: GET {KRAKEN_API_URL or https://api.kraken.com}/0/public/<method>?<params> (retried by
 * the HTTP layer, KRAKEN_PUBLIC_RETRIES). Private: POST /0/private/<method>, form body
 * `nonce=...&<params>`, signed; never retried except a read-only method answered
 * `EAPI:Invalid nonce`, retried once with a fresh nonce. timeout_ms 0 = the HTTP default.
 *
 * Pushes exactly two values: `result, warnings` (warnings: array of the W-strings, maybe
 * empty; a null/absent result is an empty table) and returns 1; or `nil, err` and returns 0.
 * err = {code, message, retryable, sent, status, method, errors = {original strings}}:
 * code is kraken.* (below) or the HTTP layer's http.* for transport failures;
 * `sent = true` when the request may have reached Kraken without a definitive answer
 * (timeout or connection lost after sending, 5xx/520, a truncated or unreadable body) — an
 * order call failing with sent = true is IN DOUBT and must be looked up, never resent.
 * Codes: kraken.invalid_nonce, kraken.rate_limited, kraken.invalid_key,
 * kraken.invalid_signature, kraken.permission_denied, kraken.lockout,
 * kraken.insufficient_funds, kraken.order_minimum, kraken.cost_minimum, kraken.tick_size,
 * kraken.invalid_arguments, kraken.unavailable, kraken.error, and without any request:
 * kraken.no_credentials, kraken.invalid_secret, kraken.bad_request (a malformed method name
 * or params table — a programming error; the Lua binding raises instead).
 * Logs `kraken.call` to the blackbox (never the key, the signature or the secret).
 * May raise only on out-of-memory: call it inside a protected call. */
int kraken_call(lua_State *L, const char *method, int params_idx, int is_private, long timeout_ms);
/* What kraken_call makes of one HTTP answer — `status` and body[0..len) (NUL-terminated, as
 * http_response's) for `method`, `write` = it may change state — without the network or the
 * blackbox: pushes `result, warnings` and returns 1, or `nil, err` and returns 0, exactly as
 * kraken_call. For tests and tests/fuzz/fuzz_kraken_envelope.c. May raise only on out-of-memory. */
int kraken_interpret_answer(lua_State *L, const char *method, long status, const char *body, size_t len, int write);

/* Typed helpers: each pushes `value, meta` and returns 1, or `nil, err` and returns 0.
 * `pair` is what the user wrote (XBTUSD, XBT/USD, XXBTZUSD); Kraken's internal key is
 * resolved from the response and returned as meta.pair_key / value.pair_key.
 *
 * OHLC: value = CLOSED candles, oldest first, each {t, o, h, l, c, vwap, v, n} (t, n integers,
 * the rest numbers); the last row Kraken sends (the still-open candle) is dropped. `since`
 * (NULL = none) is passed through; count > 0 keeps only the newest `count` closed candles.
 * meta = {pair_key, last (integer), warnings}. */
int kraken_ohlc(lua_State *L, const char *pair, int interval, const char *since, int count, long timeout_ms);
/* Ticker: value = {pair_key, ask, bid, last, last_volume, open, high, low, volume, vwap, trades,
 * high_24h, low_24h, volume_24h, vwap_24h, trades_24h} numbers; meta = {pair_key, warnings}. */
int kraken_ticker(lua_State *L, const char *pair, long timeout_ms);
/* AssetPairs, cached per run (per lua_State) on success: value = a fresh copy of {pair_key,
 * altname, wsname, base, quote, status, pair_decimals, cost_decimals, lot_decimals (integers),
 * ordermin, costmin, tick_size (numbers; costmin/tick_size nil when Kraken omits them)};
 * meta = {pair_key, cached (boolean), warnings}. */
int kraken_asset_pair(lua_State *L, const char *pair, long timeout_ms);
/* Balance: value = {asset = number} (Kraken's asset codes: ZUSD, XXBT, ...);
 * meta = {raw = {asset = decimal string as sent}, warnings}. */
int kraken_balance(lua_State *L, long timeout_ms);

/* ---- rules ------------------------------------------------------------------------------ */

/* 1 when `interval` (minutes) is one Kraken serves. */
int kraken_valid_interval(int interval);
/* 1 for private methods known to be read-only (the only ones the nonce retry applies to);
 * unknown methods count as writes. */
int kraken_is_read_only(const char *method);
/* Maps one Kraken error string to its code; *retryable gets the default retry flag. */
const char *kraken_map_error(const char *kraken_error, int *retryable);

/* Whether titan.kraken.private may call state-changing methods (AddOrder, CancelOrder, any
 * method not known to be read-only) from Lua. Fail-closed: refused unless the host allows it
 * with kraken_set_lua_writes_allowed(1), or, while the host has not decided, the environment
 * has TITAN_KRAKEN_LUA_WRITES=1 (for `titan-host script` tools and tests). A strategy never
 * needs it: it returns intents and the host places them. Withdrawals and transfers are always
 * refused from Lua. Does not affect kraken_call from C. The setter returns the previous
 * effective value, so a caller can restore it. */
int kraken_set_lua_writes_allowed(int allowed);
int kraken_lua_writes_allowed(void);

/* Frees the signer (wiping the key) and forgets the credentials state; at exit and in tests. */
void kraken_shutdown(void);
#endif
