/* titan.kraken — Kraken spot REST from Lua; signing, nonces and error mapping happen in C
 * (host/kraken.c) and Lua never sees the key or the secret.
 * Misuse raises (bad method name, bad params, bad interval, a forbidden method); failures of
 * the exchange or the network return nil, err{code, message, retryable, sent, status, method,
 * errors}. */
#include <string.h>

#include <lauxlib.h>

#include "bindings.h"
#include "http.h"
#include "kraken_lua.h"
#include "runtime.h"

/* opts.timeout_ms (optional positive integer) of the options table at idx, bounded by what is
 * left of the call's wall-clock budget (raises if it is spent). */
static long kraken_opt_timeout(lua_State *L, int idx)
{
    long timeout = HTTP_DEFAULT_TIMEOUT_MS;
    if (!lua_isnoneornil(L, idx)) {
        luaL_checktype(L, idx, LUA_TTABLE);
        if (lua_getfield(L, idx, "timeout_ms") != LUA_TNIL) {
            int isnum = 0;
            lua_Integer t = lua_tointegerx(L, -1, &isnum);
            luaL_argcheck(L, isnum && t > 0 && t <= 600000, idx, "timeout_ms must be an integer between 1 and 600000");
            timeout = (long)t;
        }
        lua_pop(L, 1);
    }
    int64_t left = runtime_budget_left_ms(L);
    return timeout > left ? (long)left : timeout;
}

/* Turns a kraken.bad_request failure (a programming error) into a raised error. */
static int kraken_results(lua_State *L, int ok)
{
    if (!ok && lua_istable(L, -1)) {
        lua_getfield(L, -1, "code");
        int bad = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "kraken.bad_request") == 0;
        lua_pop(L, 1);
        if (bad) {
            lua_getfield(L, -1, "message");
            return lua_error(L);
        }
    }
    return 2;
}

static const char *kraken_check_method(lua_State *L, int arg)
{
    luaL_checktype(L, arg, LUA_TSTRING);
    const char *method = lua_tostring(L, arg);
    size_t n = strlen(method);
    int ok = n > 0 && n <= 64 && method[0] >= 'A' && method[0] <= 'Z';
    for (size_t i = 0; i < n && ok; i++) {
        char c = method[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }
    luaL_argcheck(L, ok, arg, "not a Kraken method name (letters and digits starting with a capital, e.g. \"Ticker\")");
    return method;
}

static int kraken_params_arg(lua_State *L, int arg)
{
    if (lua_isnoneornil(L, arg)) return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    return arg;
}

/* public(method [, params [, opts]]) -> result, warnings | nil, err */
static int kraken_l_public(lua_State *L)
{
    const char *method = kraken_check_method(L, 1);
    int params = kraken_params_arg(L, 2);
    long timeout = kraken_opt_timeout(L, 3);
    return kraken_results(L, kraken_call(L, method, params, 0, timeout));
}

/* Moving funds is never a strategy's business. */
static int kraken_moves_funds(const char *method)
{
    static const char *const denied[] = {"Withdraw", "WithdrawCancel", "WalletTransfer", "AccountTransfer",
                                         "CreateSubaccount", "Stake", "Unstake", "Allocate", "Deallocate"};
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
        if (strcmp(method, denied[i]) == 0) return 1;
    return 0;
}

/* private(method [, params [, opts]]) -> result, warnings | nil, err */
static int kraken_l_private(lua_State *L)
{
    const char *method = kraken_check_method(L, 1);
    int params = kraken_params_arg(L, 2);
    long timeout = kraken_opt_timeout(L, 3);
    if (kraken_moves_funds(method))
        return luaL_error(L, "titan.kraken.private: %s moves funds and is never available from Lua", method);
    if (!kraken_is_read_only(method) && !kraken_lua_writes_allowed())
        return luaL_error(L, "titan.kraken.private: %s changes orders; a strategy returns intents and the host "
                             "places them (tools run by `titan-host script` may set TITAN_KRAKEN_LUA_WRITES=1)",
                          method);
    return kraken_results(L, kraken_call(L, method, params, 1, timeout));
}

/* ohlc(pair, interval [, opts{since, count, timeout_ms}]) -> candles, meta | nil, err */
static int kraken_l_ohlc(lua_State *L)
{
    const char *pair = luaL_checkstring(L, 1);
    lua_Integer interval = luaL_checkinteger(L, 2);
    luaL_argcheck(L, interval > 0 && interval <= 21600 && kraken_valid_interval((int)interval), 2,
                  "interval must be one of 1, 5, 15, 30, 60, 240, 1440, 10080, 21600 (minutes)");
    long timeout = kraken_opt_timeout(L, 3);
    const char *since = NULL;
    lua_Integer count = 0;
    if (lua_istable(L, 3)) {
        int t = lua_getfield(L, 3, "since");           /* kept on the stack while used */
        if (t == LUA_TNUMBER) {
            luaL_argcheck(L, lua_isinteger(L, -1), 3, "opts.since must be an integer or a string");
            since = lua_tostring(L, -1);               /* converts in place: fine, it is our copy */
        } else if (t == LUA_TSTRING) {
            since = lua_tostring(L, -1);
        } else {
            luaL_argcheck(L, t == LUA_TNIL, 3, "opts.since must be an integer or a string");
        }
        if (lua_getfield(L, 3, "count") != LUA_TNIL) {
            int isnum = 0;
            count = lua_tointegerx(L, -1, &isnum);
            luaL_argcheck(L, isnum && count >= 0 && count <= 100000, 3, "opts.count must be a non-negative integer");
        }
        lua_pop(L, 1);
    }
    return kraken_results(L, kraken_ohlc(L, pair, (int)interval, since, (int)count, timeout));
}

/* ticker(pair [, opts]) -> ticker, meta | nil, err */
static int kraken_l_ticker(lua_State *L)
{
    const char *pair = luaL_checkstring(L, 1);
    long timeout = kraken_opt_timeout(L, 2);
    return kraken_results(L, kraken_ticker(L, pair, timeout));
}

/* asset_pair(pair [, opts]) -> info, meta | nil, err (cached per run) */
static int kraken_l_asset_pair(lua_State *L)
{
    const char *pair = luaL_checkstring(L, 1);
    long timeout = kraken_opt_timeout(L, 2);
    return kraken_results(L, kraken_asset_pair(L, pair, timeout));
}

/* balance([opts]) -> {asset = number}, meta{raw = {asset = string}} | nil, err */
static int kraken_l_balance(lua_State *L)
{
    long timeout = kraken_opt_timeout(L, 1);
    return kraken_results(L, kraken_balance(L, timeout));
}

static const luaL_Reg kraken_functions[] = {
    {"asset_pair", kraken_l_asset_pair},
    {"balance", kraken_l_balance},
    {"ohlc", kraken_l_ohlc},
    {"private", kraken_l_private},
    {"public", kraken_l_public},
    {"ticker", kraken_l_ticker},
    {NULL, NULL},
};

int luaopen_titan_kraken(lua_State *L)
{
    luaL_newlib(L, kraken_functions);
    return 1;
}
