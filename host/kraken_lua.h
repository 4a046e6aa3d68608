/* Kraken for Lua (titan.kraken, ctx.market, the preflight): the calls of kraken.h with their
 * answers pushed as Lua tables, built from the same C parse the engine reads. */
#ifndef TITAN_KRAKEN_LUA_H
#define TITAN_KRAKEN_LUA_H
#include <stddef.h>

#include <lua.h>

#include "kraken.h"

/* Calls a Kraken method (kraken_request) with the params table at params_idx (0 = none): string
 * keys; string, integer, number (sent as a plain decimal, never an exponent), boolean
 * ("true"/"false") values, or an array of those (sent comma-joined).
 * Pushes exactly two values: `result, warnings` (warnings: array of the W-strings, maybe
 * empty; a null/absent result is an empty table) and returns 1; or `nil, err` and returns 0.
 * err = {code, message, retryable, sent, status, method, errors = {original strings}}; a
 * malformed method name or params table gives kraken.bad_request (the binding raises).
 * May raise only on out-of-memory: call it inside a protected call. */
int kraken_call(lua_State *L, const char *method, int params_idx, int is_private, long timeout_ms);

/* What kraken_call makes of one HTTP answer (`status`, body[0..len)) of `method` (write = it may
 * change state), without the network or the blackbox: pushes `result, warnings` and returns 1, or
 * `nil, err` and returns 0. For tests and fuzz targets. May raise only on out-of-memory. */
int kraken_interpret_answer(lua_State *L, const char *method, long status, const char *body, size_t len, int write);

/* Typed calls: each pushes `value, meta` and returns 1, or `nil, err` and returns 0.
 * OHLC: value = closed candles, oldest first, each {t, o, h, l, c, vwap, v, n} (t, n integers);
 * count > 0 keeps only the newest `count`; meta = {pair_key, last (integer), warnings}. */
int kraken_ohlc(lua_State *L, const char *pair, int interval, const char *since, int count, long timeout_ms);
/* Ticker: value = {pair_key, ask, bid, last, last_volume, open, high, low, volume, vwap, trades,
 * high_24h, low_24h, volume_24h, vwap_24h, trades_24h}; meta = {pair_key, warnings}. */
int kraken_ticker(lua_State *L, const char *pair, long timeout_ms);
/* AssetPairs (cached per process): value = a fresh table {pair_key, altname, wsname, base, quote,
 * status, pair_decimals, cost_decimals, lot_decimals, ordermin, costmin, tick_size} (fields
 * Kraken omits are nil); meta = {pair_key, cached, warnings}. */
int kraken_asset_pair(lua_State *L, const char *pair, long timeout_ms);
/* Balance: value = {asset = number}; meta = {raw = {asset = decimal string as sent}, warnings}. */
int kraken_balance(lua_State *L, long timeout_ms);

/* Pushes the open orders of a kraken_orders as {txid = {status, vol, vol_exec, cost, fee, price,
 * cl_ord_id, userref, opentm, descr = {type, ordertype, pair, price}}} (ctx.portfolio). */
void kraken_push_orders(lua_State *L, const kraken_orders *orders);
/* Pushes `nil, err` for a failed answer; returns 2. */
int kraken_push_failure(lua_State *L, const kraken_answer *a, const char *method);

/* Builds the body and API-Sign kraken_call would send for a private `method` with the params
 * table at params_idx, without sending it (kraken_sign_private). 0, or -1 with why. */
int kraken_prepare_private(lua_State *L, const char *method, int params_idx, strbuf *body,
                           char sign[KRAKEN_SIGN_SIZE], char *why, size_t whylen);

/* Whether titan.kraken.private may call state-changing methods (AddOrder, CancelOrder, any
 * method not known to be read-only) from Lua. Fail-closed: refused unless the host allows it
 * with kraken_set_lua_writes_allowed(1), or, while the host has not decided, the environment
 * has TITAN_KRAKEN_LUA_WRITES=1 (for `titan-host script` tools and tests). A strategy never
 * needs it: it returns intents and the host places them. Withdrawals and transfers are always
 * refused from Lua. Does not affect C callers. The setter returns the previous effective value. */
int kraken_set_lua_writes_allowed(int allowed);
int kraken_lua_writes_allowed(void);
#endif
