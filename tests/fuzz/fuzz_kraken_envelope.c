/* Fuzz target: Kraken's {"error":[...],"result":...} envelope as kraken_call reads it
 * (kraken_interpret_answer). Input: byte 0 picks the HTTP status, byte 1 the method (a write or
 * a read), the rest is the body. Beyond not crashing, the money-safety rules hold: a write
 * answered 5xx, or 2xx with an unreadable body, is never a clean failure — it may have been
 * booked, so err.sent is true. */
#include <string.h>

#include "bindings.h"
#include "fuzz.h"
#include "kraken_lua.h"

static const long fuzz_statuses[] = {200, 200, 200, 200, 201, 204, 400, 403, 404, 429, 500, 502, 503, 504, 520, 302};
static const char *const fuzz_methods[] = {"Ticker", "AddOrder", "Balance", "QueryOrders"};
static const int fuzz_writes[] = {0, 1, 0, 0};

typedef struct {
    const char *body; /* NUL-terminated copy */
    size_t len;
    long status;
    int method;
    int ok;
} fuzz_answer;

static int fuzz_bool_field(lua_State *L, int t, const char *field)
{
    lua_getfield(L, t, field);
    FUZZ_CHECK(lua_type(L, -1) == LUA_TBOOLEAN, field);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static int fuzz_envelope(lua_State *L)
{
    fuzz_answer *a = lua_touserdata(L, 1);
    lua_settop(L, 0);
    int write = fuzz_writes[a->method];
    int json = bindings_json_decode(L, a->body, a->len);
    lua_settop(L, 0);
    a->ok = kraken_interpret_answer(L, fuzz_methods[a->method], a->status, a->body, a->len, write);
    FUZZ_CHECK(lua_gettop(L) == 2, "kraken_interpret_answer pushes exactly two values");
    if (a->ok) {
        FUZZ_CHECK(a->status >= 200 && a->status < 300, "success only for a 2xx answer");
        FUZZ_CHECK(lua_istable(L, 2), "warnings is a table");
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, 2); i++) {
            FUZZ_CHECK(lua_rawgeti(L, 2, i) == LUA_TSTRING, "each warning is a string");
            lua_pop(L, 1);
        }
        return 0;
    }
    FUZZ_CHECK(lua_isnil(L, 1) && lua_istable(L, 2), "a failure is nil, err");
    lua_getfield(L, 2, "code");
    FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING && strncmp(lua_tostring(L, -1), "kraken.", 7) == 0, "err.code");
    lua_getfield(L, 2, "message");
    FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "err.message");
    lua_getfield(L, 2, "errors");
    FUZZ_CHECK(lua_istable(L, -1), "err.errors");
    lua_pop(L, 3);
    int sent = fuzz_bool_field(L, 2, "sent"), retryable = fuzz_bool_field(L, 2, "retryable");
    if (write && a->status >= 500) FUZZ_CHECK(sent, "a write answered 5xx may have been booked");
    if (write && a->status < 300 && !json) FUZZ_CHECK(sent, "a write answered 2xx with no JSON may have been booked");
    if (write && sent) FUZZ_CHECK(!retryable, "a write that may have been booked is never retried blindly");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    fuzz_answer a = {.status = fuzz_statuses[data[0] % 16], .method = data[1] % 4, .len = size - 2};
    char *body = malloc(a.len + 1);
    FUZZ_CHECK(body != NULL, "out of memory");
    memcpy(body, data + 2, a.len);
    body[a.len] = '\0';
    a.body = body;
    fuzz_protected(fuzz_lua(), fuzz_envelope, &a);
    free(body);
    return 0;
}
