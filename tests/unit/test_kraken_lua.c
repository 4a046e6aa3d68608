/* host/kraken.c's C API and the titan.kraken binding without a server: the signed form body
 * (nonce first, sorted params, plain decimals), bad requests, credentials, the Lua write gate,
 * and transport failures against a closed loopback port. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bindings.h"
#include "codec.h"
#include "kraken_lua.h"
#include "secrets.h"
#include "strbuf.h"
#include "unit.h"

static const char test_secret[] =
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";

static int64_t test_doc_clock(void) { return 1616492376594LL; }   /* the documented example's nonce */

static void test_set_credentials(const char *key, const char *secret)
{
    kraken_shutdown();
    secrets_shutdown();
    if (key) setenv("KRAKEN_API_KEY", key, 1);
    else unsetenv("KRAKEN_API_KEY");
    if (secret) setenv("KRAKEN_SECRET", secret, 1);
    else unsetenv("KRAKEN_SECRET");
    secrets_init();
}

/* Runs Lua code returning a table; leaves it on the stack. */
static void test_push(lua_State *L, const char *code)
{
    if (luaL_dostring(L, code) != LUA_OK) {
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
        exit(2);
    }
}

static void test_prepare(lua_State *L)
{
    test_set_credentials("test-key", test_secret);
    kraken_set_nonce_clock(test_doc_clock);
    test_push(L, "return {volume = 1.25, type = 'buy', pair = 'XBTUSD', price = 37500, ordertype = 'limit'}");
    strbuf body = {0};
    char sign[KRAKEN_SIGN_SIZE], why[256] = "";
    int rc = kraken_prepare_private(L, "AddOrder", -1, &body, sign, why, sizeof why);
    CHECK_INT(rc, 0);
    /* the documented example exactly: nonce first, then sorted keys, numbers as decimals */
    CHECK_STR(strbuf_cstr(&body), "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25");
    CHECK_STR(sign, "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==");
    /* the clock is pinned: the next nonce is last + 1 */
    body.len = 0;
    CHECK_INT(kraken_prepare_private(L, "AddOrder", -1, &body, sign, why, sizeof why), 0);
    CHECK(strncmp(strbuf_cstr(&body), "nonce=1616492376595&", 20) == 0);
    lua_pop(L, 1);

    /* values: booleans, arrays, escaping, tiny and big numbers */
    test_push(L, "return {b = true, c = {'A1', 'B 2'}, d = 'x&y=z', e = 0.00000001, f = 1e14, g = -0.0}");
    body.len = 0;
    CHECK_INT(kraken_prepare_private(L, "QueryOrders", -1, &body, sign, why, sizeof why), 0);
    const char *q = strchr(strbuf_cstr(&body), '&');
    CHECK_STR(q, "&b=true&c=A1%2CB%202&d=x%26y%3Dz&e=0.00000001&f=100000000000000&g=0");
    lua_pop(L, 1);

    /* refused params */
    static const char *const bad[] = {
        "return {nonce = 5}", "return {[1] = 'x'}", "return {x = {{}}}", "return {x = 0/0}", "return {x = 1e300}",
        "return {x = print}", "return {['a'] = 'x\\0y'}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        test_push(L, bad[i]);
        body.len = 0;
        why[0] = '\0';
        CHECK_MSG(kraken_prepare_private(L, "Balance", -1, &body, sign, why, sizeof why) == -1, bad[i]);
        CHECK_MSG(why[0] != '\0', bad[i]);
        lua_pop(L, 1);
    }
    CHECK_INT(kraken_prepare_private(L, "add/order", 0, &body, sign, why, sizeof why), -1);
    strbuf_free(&body);
    kraken_set_nonce_clock(NULL);
}

/* kraken_call's two pushed values: returns 1 and leaves err (or result) on top. */
static const char *test_err_field(lua_State *L, const char *field)
{
    lua_getfield(L, -1, field);
    const char *v = lua_tostring(L, -1);
    lua_pop(L, 1);
    return v;
}

static int test_err_bool(lua_State *L, const char *field)
{
    lua_getfield(L, -1, field);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static void test_call_failures(lua_State *L)
{
    setenv("KRAKEN_API_URL", "http://127.0.0.1:1", 1);  /* nothing listens on port 1 */
    int top = lua_gettop(L);

    test_set_credentials(NULL, NULL);
    CHECK_INT(kraken_call(L, "Balance", 0, 1, 2000), 0);
    CHECK_INT(lua_gettop(L), top + 2);
    CHECK(lua_isnil(L, -2));
    CHECK_STR(test_err_field(L, "code"), "kraken.no_credentials");
    CHECK(strstr(test_err_field(L, "message"), "KRAKEN_API_KEY") != NULL);
    lua_settop(L, top);

    test_set_credentials("test-key", "this is not base64!");
    CHECK_INT(kraken_call(L, "Balance", 0, 1, 2000), 0);
    CHECK_STR(test_err_field(L, "code"), "kraken.invalid_secret");
    CHECK(strstr(test_err_field(L, "message"), "this is not") == NULL);
    lua_settop(L, top);

    test_set_credentials("test-key", test_secret);
    CHECK_INT(kraken_call(L, "Bad/Method", 0, 1, 2000), 0);
    CHECK_STR(test_err_field(L, "code"), "kraken.bad_request");
    lua_settop(L, top);
    test_push(L, "return {nonce = 1}");
    CHECK_INT(kraken_call(L, "Balance", -1, 1, 2000), 0);
    CHECK_INT(lua_gettop(L), top + 3);
    CHECK_STR(test_err_field(L, "code"), "kraken.bad_request");
    lua_settop(L, top);

    /* connection refused: nothing was sent, so even an AddOrder is safely retryable */
    test_push(L, "return {pair = 'XBTUSD', type = 'buy', ordertype = 'market', volume = '0.001'}");
    CHECK_INT(kraken_call(L, "AddOrder", -1, 1, 2000), 0);
    CHECK_STR(test_err_field(L, "code"), "http.connect");
    CHECK_INT(test_err_bool(L, "sent"), 0);
    CHECK_INT(test_err_bool(L, "retryable"), 1);
    CHECK_STR(test_err_field(L, "method"), "AddOrder");
    lua_settop(L, top);
    CHECK_INT(kraken_ohlc(L, "XBTUSD", 15, NULL, 0, 2000), 0);
    CHECK_STR(test_err_field(L, "code"), "http.connect");
    CHECK_INT(lua_gettop(L), top + 2);
    lua_settop(L, top);
    CHECK_INT(kraken_ohlc(L, "XBTUSD", 7, NULL, 0, 2000), 0);
    CHECK_STR(test_err_field(L, "code"), "kraken.bad_request");
    lua_settop(L, top);
    unsetenv("KRAKEN_API_URL");
}

/* pcall(code) from Lua; returns the error message or NULL. */
static const char *test_lua_error(lua_State *L, const char *code)
{
    if (luaL_dostring(L, code) == LUA_OK) {
        lua_settop(L, 0);
        return NULL;
    }
    static char msg[512];
    snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
    lua_settop(L, 0);
    return msg;
}

static void test_binding_gate(lua_State *L)
{
    luaL_requiref(L, "kraken", luaopen_titan_kraken, 1);
    lua_pop(L, 1);
    setenv("KRAKEN_API_URL", "http://127.0.0.1:1", 1);
    const char *e;
    /* fail-closed: refused by default, allowed by the environment only while the host has not
     * decided, and the host's decision wins */
    unsetenv("TITAN_KRAKEN_LUA_WRITES");
    CHECK(!kraken_lua_writes_allowed());
    e = test_lua_error(L, "kraken.private('AddOrder', {pair = 'XBTUSD'})");
    CHECK(e && strstr(e, "returns intents"));
    setenv("TITAN_KRAKEN_LUA_WRITES", "yes", 1);
    CHECK(!kraken_lua_writes_allowed());
    setenv("TITAN_KRAKEN_LUA_WRITES", "1", 1);
    CHECK(kraken_lua_writes_allowed());
    CHECK_INT(kraken_set_lua_writes_allowed(0), 1);   /* returns the previous value */
    e = test_lua_error(L, "kraken.private('AddOrder', {pair = 'XBTUSD'})");
    CHECK(e && strstr(e, "returns intents"));
    e = test_lua_error(L, "kraken.private('CancelOrder', {txid = 'X'})");
    CHECK(e && strstr(e, "CancelOrder"));
    e = test_lua_error(L, "local r, err = kraken.private('Balance') assert(err.code == 'http.connect', err.code)");
    CHECK_MSG(e == NULL, e ? e : "reads still allowed");
    CHECK_INT(kraken_set_lua_writes_allowed(1), 0);
    unsetenv("TITAN_KRAKEN_LUA_WRITES");
    CHECK(kraken_lua_writes_allowed());
    e = test_lua_error(L, "local r, err = kraken.private('AddOrder', {pair = 'XBTUSD'}) assert(err.code == 'http.connect')");
    CHECK_MSG(e == NULL, e ? e : "writes allowed again");
    e = test_lua_error(L, "kraken.private('Withdraw', {asset = 'XBT'})");
    CHECK(e && strstr(e, "never available"));
    e = test_lua_error(L, "kraken.private('Balance', {nonce = 3})");
    CHECK(e && strstr(e, "nonce"));
    e = test_lua_error(L, "kraken.ohlc('XBTUSD', 2)");
    CHECK(e && strstr(e, "interval"));
    unsetenv("KRAKEN_API_URL");
}

/* One answer without the network: what titan.kraken.public/private return for it. */
static void test_interpret(lua_State *L)
{
    int top = lua_gettop(L);
    const char *ok = "{\"error\":[\"WGeneral:note\"],\"result\":null}";
    CHECK_INT(kraken_interpret_answer(L, "AddOrder", 200, ok, strlen(ok), 1), 1);
    CHECK(lua_istable(L, -2));                         /* a null result is an empty table */
    lua_rawgeti(L, -1, 1);
    CHECK_STR(lua_tostring(L, -1), "WGeneral:note");
    lua_settop(L, top);
    const char *html = "<html>520</html>";
    CHECK_INT(kraken_interpret_answer(L, "AddOrder", 520, html, strlen(html), 1), 0);
    CHECK_INT(lua_gettop(L), top + 2);
    CHECK_STR(test_err_field(L, "code"), "kraken.unavailable");
    CHECK_INT(test_err_bool(L, "sent"), 1);
    CHECK_INT(test_err_bool(L, "retryable"), 0);
    lua_settop(L, top);
    const char *odd = "{\"error\":[{\"x\":1}]}";
    CHECK_INT(kraken_interpret_answer(L, "Ticker", 200, odd, strlen(odd), 0), 0);
    CHECK(strstr(test_err_field(L, "message"), "{\"x\":1}") != NULL);
    lua_getfield(L, -1, "errors");
    lua_rawgeti(L, -1, 1);
    CHECK_STR(lua_tostring(L, -1), "{\"x\":1}");
    lua_settop(L, top);
}

int main(void)
{
    setenv("TITAN_BLACKBOX", "/dev/null", 1);
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    test_prepare(L);
    test_call_failures(L);
    test_interpret(L);
    test_binding_gate(L);
    lua_close(L);
    kraken_shutdown();
    secrets_shutdown();
    return UNIT_DONE("test_kraken_lua");
}
