/* Fuzz target: the host's JSON path (bindings_json_decode / bindings_json_encode, lua-cjson).
 * Whatever the decoder accepts, the host's encoder must write back without raising, and that
 * text must decode to the same value (numbers to the encoder's 14 digits), and be stable. */
#include <math.h>
#include <string.h>

#include "bindings.h"
#include "fuzz.h"

typedef struct {
    const char *text;
    size_t len;
} fuzz_json_input;

/* 1 when the values at a and b are the same JSON value; `exact` compares numbers bit for bit,
 * otherwise to a relative 1e-13 (the encoder writes 14 significant digits). */
static int fuzz_json_same(lua_State *L, int a, int b, int exact, int depth)
{
    a = lua_absindex(L, a), b = lua_absindex(L, b);
    int type = lua_type(L, a);
    if (type != lua_type(L, b)) return 0;
    switch (type) {
    case LUA_TNUMBER: {
        double x = lua_tonumber(L, a), y = lua_tonumber(L, b);
        return exact ? x == y : x == y || fabs(x - y) <= 1e-13 * fmax(fabs(x), fabs(y));
    }
    case LUA_TSTRING: {
        size_t xl, yl;
        const char *x = lua_tolstring(L, a, &xl), *y = lua_tolstring(L, b, &yl);
        return xl == yl && memcmp(x, y, xl) == 0;
    }
    case LUA_TBOOLEAN: return lua_toboolean(L, a) == lua_toboolean(L, b);
    case LUA_TLIGHTUSERDATA: return lua_touserdata(L, a) == lua_touserdata(L, b); /* cjson.null */
    case LUA_TTABLE: break;
    default: return 0; /* the decoder makes nothing else */
    }
    FUZZ_CHECK(depth <= 70 && lua_checkstack(L, 4), "nesting beyond the decoder's cap");
    size_t keys_a = 0, keys_b = 0;
    lua_pushnil(L);
    while (lua_next(L, a)) {                           /* [ key, value_a ] */
        keys_a++;
        lua_pushvalue(L, -2);
        lua_rawget(L, b);                              /* [ key, value_a, value_b ] */
        int same = fuzz_json_same(L, -2, -1, exact, depth + 1);
        lua_pop(L, 2);
        if (!same) {
            lua_pop(L, 1);
            return 0;
        }
    }
    lua_pushnil(L);
    while (lua_next(L, b)) {
        keys_b++;
        lua_pop(L, 1);
    }
    return keys_a == keys_b;
}

static int fuzz_json_round_trip(lua_State *L)
{
    const fuzz_json_input *in = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (!bindings_json_decode(L, in->text, in->len)) return 0; /* [ v1 ] */
    bindings_json_encode(L, 1);                                /* [ v1, e1 ] — raises if it cannot */
    size_t len;
    const char *e1 = lua_tolstring(L, 2, &len);
    FUZZ_CHECK(e1 != NULL, "the encoder returned no text");
    FUZZ_CHECK(bindings_json_decode(L, e1, len), "the encoder's text does not decode"); /* [ v1, e1, v2 ] */
    FUZZ_CHECK(fuzz_json_same(L, 1, 3, 0, 0), "a value changed through encode + decode");
    bindings_json_encode(L, 3);                                /* [ v1, e1, v2, e2 ] */
    const char *e2 = lua_tolstring(L, 4, &len);
    FUZZ_CHECK(bindings_json_decode(L, e2, len), "the second encoding does not decode");
    FUZZ_CHECK(fuzz_json_same(L, 3, 5, 1, 0), "a second round trip changed a value");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_json_input in = {(const char *)data, size};
    fuzz_protected(fuzz_lua(), fuzz_json_round_trip, &in);
    return 0;
}
