/* titan.crypto and host/codec.c against published vectors: HMAC-SHA256/512 (RFC 4231 cases
 * 1-7), SHA-256/512 (FIPS 180-2 examples) and base64 (RFC 4648 section 10), driving the real
 * binding through a bare Lua state so the output formats are tested too. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bindings.h"
#include "codec.h"
#include "unit.h"

static lua_State *crypto_L;

/* Calls titan.crypto[fn](a, [b,] format) and returns the string result (valid until the next
 * call), or NULL when it raised or returned nil. */
static const char *call_crypto(const char *fn, const char *a, size_t alen, const char *b, size_t blen,
                               const char *format)
{
    lua_settop(crypto_L, 0);
    lua_getglobal(crypto_L, "crypto");
    lua_getfield(crypto_L, -1, fn);
    lua_pushlstring(crypto_L, a, alen);
    int nargs = 1;
    if (b) lua_pushlstring(crypto_L, b, blen), nargs++;
    if (format) lua_pushstring(crypto_L, format), nargs++;
    if (lua_pcall(crypto_L, nargs, 2, 0) != LUA_OK) return NULL;
    return lua_type(crypto_L, -2) == LUA_TSTRING ? lua_tostring(crypto_L, -2) : NULL;
}

static void fill(char *buf, int byte, size_t n) { memset(buf, byte, n); }

typedef struct {
    const char *key;
    size_t key_len;
    const char *data;
    size_t data_len;
    const char *sha256;
    const char *sha512;
    int truncate_128; /* case 5: compare the first 128 bits only */
} rfc4231_case;

static void test_hmac_rfc4231(void)
{
    static char k1[20], k3[20], d3[50], k4[25], d4[50], k5[20], k6[131];
    fill(k1, 0x0b, 20);
    fill(k3, 0xaa, 20);
    fill(d3, 0xdd, 50);
    for (int i = 0; i < 25; i++) k4[i] = (char)(i + 1);
    fill(d4, 0xcd, 50);
    fill(k5, 0x0c, 20);
    fill(k6, 0xaa, 131);
    static const char d6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    static const char d7[] = "This is a test using a larger than block-size key and a larger than block-size data. "
                             "The key needs to be hashed before being used by the HMAC algorithm.";
    const rfc4231_case cases[] = {
        {k1, 20, "Hi There", 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
         "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4"
         "be9d914eeb61f1702e696c203a126854", 0},
        {"Jefe", 4, "what do ya want for nothing?", 28,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
         "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
         "caeab1a34d4a6b4b636e070a38bce737", 0},
        {k3, 20, d3, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
         "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807"
         "b946a337bee8942674278859e13292fb", 0},
        {k4, 25, d4, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
         "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063"
         "a5f19741120c4f2de2adebeb10a298dd", 0},
        {k5, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b", "415fad6271580a531d4179bc891d87a6",
         1},
        {k6, 131, d6, sizeof d6 - 1, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
         "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e52"
         "95e64f73f63f0aec8b915a985d786598", 0},
        {k6, 131, d7, sizeof d7 - 1, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
         "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15"
         "134676fb6de0446065c97440fa8c6a58", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rfc4231_case *c = &cases[i];
        const char *fns[2] = {"hmac_sha256", "hmac_sha512"};
        const char *want[2] = {c->sha256, c->sha512};
        size_t full[2] = {64, 128};
        for (int h = 0; h < 2; h++) {
            const char *got = call_crypto(fns[h], c->key, c->key_len, c->data, c->data_len, "hex");
            char buf[129] = {0};
            if (got) {
                CHECK_INT(strlen(got), full[h]);
                strncpy(buf, got, c->truncate_128 ? 32 : sizeof buf - 1);
            }
            if (strcmp(buf, want[h]) != 0) fprintf(stderr, "  RFC 4231 case %zu %s\n", i + 1, fns[h]);
            CHECK_STR(buf, want[h]);
        }
    }
}

/* The formats are views of the same bytes: raw by default, hex, base64. */
static void test_hmac_formats(void)
{
    const char *raw = call_crypto("hmac_sha256", "Jefe", 4, "what do ya want for nothing?", 28, NULL);
    CHECK(raw != NULL);
    if (raw) {
        CHECK_INT(lua_rawlen(crypto_L, -2), 32);
        char hex[65];
        codec_hex_encode((const unsigned char *)raw, 32, hex);
        CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
    CHECK_STR(call_crypto("hmac_sha256", "Jefe", 4, "what do ya want for nothing?", 28, "base64"),
              "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    CHECK_STR(call_crypto("hmac_sha256", "Jefe", 4, "what do ya want for nothing?", 28, "raw") ? "ok" : NULL, "ok");
    /* an unknown format and a missing message are misuse: they raise */
    CHECK(call_crypto("hmac_sha256", "k", 1, "m", 1, "HEX") == NULL);
    CHECK(call_crypto("sha256", "abc", 3, NULL, 0, "b64") == NULL);
    CHECK(call_crypto("hmac_sha512", "k", 1, NULL, 0, NULL) == NULL);
    /* an empty key is allowed (RFC 2104 pads it) */
    CHECK_STR(call_crypto("hmac_sha256", "", 0, "", 0, "hex"),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_sha_fips180(void)
{
    static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    static const char m896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
                               "lmnopqrsmnopqrstnopqrstu";
    CHECK_INT(strlen(m448) * 8, 448);
    CHECK_INT(strlen(m896) * 8, 896);
    CHECK_STR(call_crypto("sha256", "abc", 3, NULL, 0, "hex"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_STR(call_crypto("sha512", "abc", 3, NULL, 0, "hex"),
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    CHECK_STR(call_crypto("sha256", m448, strlen(m448), NULL, 0, "hex"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK_STR(call_crypto("sha512", m448, strlen(m448), NULL, 0, "hex"),
              "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
              "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445");
    CHECK_STR(call_crypto("sha256", m896, strlen(m896), NULL, 0, "hex"),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK_STR(call_crypto("sha512", m896, strlen(m896), NULL, 0, "hex"),
              "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
              "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
    CHECK_STR(call_crypto("sha256", "", 0, NULL, 0, "hex"),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_STR(call_crypto("sha512", "", 0, NULL, 0, "hex"),
              "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
              "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
    /* one million 'a' (FIPS 180-2 appendix B.3/C.3) */
    char *million = malloc(1000000);
    if (million) {
        memset(million, 'a', 1000000);
        CHECK_STR(call_crypto("sha256", million, 1000000, NULL, 0, "hex"),
                  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(million);
    }
    /* raw by default: 32 and 64 bytes */
    CHECK(call_crypto("sha256", "abc", 3, NULL, 0, NULL) != NULL);
    CHECK_INT(lua_rawlen(crypto_L, -2), 32);
    CHECK(call_crypto("sha512", "abc", 3, NULL, 0, NULL) != NULL);
    CHECK_INT(lua_rawlen(crypto_L, -2), 64);
    CHECK_STR(call_crypto("sha256", "abc", 3, NULL, 0, "base64"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

static const char *const rfc4648[][2] = {
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_base64_rfc4648(void)
{
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *plain = rfc4648[i][0], *enc = rfc4648[i][1];
        /* codec directly */
        char out[16];
        CHECK_INT(codec_base64_encoded_len(strlen(plain)), strlen(enc));
        codec_base64_encode((const unsigned char *)plain, strlen(plain), out);
        CHECK_STR(out, enc);
        unsigned char dec[16] = {0};
        long n = codec_base64_decode(enc, strlen(enc), dec);
        CHECK_INT(n, (long)strlen(plain));
        if (n >= 0) {
            dec[n] = '\0';
            CHECK_STR((const char *)dec, plain);
        }
        /* and through the binding */
        CHECK_STR(call_crypto("base64_encode", plain, strlen(plain), NULL, 0, NULL), enc);
        CHECK_STR(call_crypto("base64_decode", enc, strlen(enc), NULL, 0, NULL), plain);
    }
    /* every byte value survives a round trip */
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
    char enc[400];
    unsigned char back[300];
    codec_base64_encode(all, 256, enc);
    CHECK_INT(codec_base64_decode(enc, strlen(enc), back), 256);
    CHECK(memcmp(all, back, 256) == 0);
    CHECK_STR(call_crypto("hex", "\x00\x7f\xff", 3, NULL, 0, NULL), "007fff");
    CHECK_STR(call_crypto("hex", "", 0, NULL, 0, NULL), "");
}

static void test_base64_invalid(void)
{
    static const char *const bad[] = {
        "Zg=",        /* bad length */
        "Zm9vY",      /* bad length */
        "Z",          /* bad length */
        "Zm9v!g==",   /* bad character */
        "Zm9-",       /* URL-safe alphabet is not base64 */
        "Zm9_",       /* URL-safe alphabet is not base64 */
        "Zm9v\n",     /* whitespace */
        "Zm 9",       /* whitespace */
        "Zm=v",       /* '=' in the middle */
        "Zg==Zm8=",   /* padding, then more data */
        "=Zm9",       /* '=' first */
        "Z===",       /* too much padding */
        "====",       /* only padding */
        "Zm9vYg=a",   /* data after padding */
    };
    unsigned char out[32];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long n = codec_base64_decode(bad[i], strlen(bad[i]), out);
        if (n != -1) fprintf(stderr, "  accepted invalid base64 '%s'\n", bad[i]);
        CHECK_INT(n, -1);
        /* the binding answers nil, err{code="crypto.bad_base64"} (not a raise) */
        lua_settop(crypto_L, 0);
        lua_getglobal(crypto_L, "crypto");
        lua_getfield(crypto_L, -1, "base64_decode");
        lua_pushstring(crypto_L, bad[i]);
        CHECK(lua_pcall(crypto_L, 1, 2, 0) == LUA_OK);
        CHECK(lua_isnil(crypto_L, -2));
        CHECK(lua_istable(crypto_L, -1));
        if (lua_istable(crypto_L, -1)) {
            lua_getfield(crypto_L, -1, "code");
            CHECK_STR(lua_tostring(crypto_L, -1), "crypto.bad_base64");
        }
    }
    /* a NUL inside the text is a bad character too */
    CHECK_INT(codec_base64_decode("Zm9\0", 4, out), -1);
}

static void test_random_bytes(void)
{
    lua_settop(crypto_L, 0);
    CHECK(luaL_dostring(crypto_L, "local a, b = crypto.random_bytes(32), crypto.random_bytes(32)\n"
                                  "return #a == 32 and #b == 32 and a ~= b and #crypto.random_bytes(0) == 0") ==
          LUA_OK);
    CHECK(lua_toboolean(crypto_L, -1));
    CHECK(luaL_dostring(crypto_L, "return crypto.random_bytes(-1)") != LUA_OK);
    CHECK(luaL_dostring(crypto_L, "return crypto.random_bytes(1048577)") != LUA_OK);
}

int main(void)
{
    crypto_L = luaL_newstate();
    luaL_openlibs(crypto_L);
    luaL_requiref(crypto_L, "crypto", luaopen_titan_crypto, 1);
    lua_pop(crypto_L, 1);
    test_hmac_rfc4231();
    test_hmac_formats();
    test_sha_fips180();
    test_base64_rfc4648();
    test_base64_invalid();
    test_random_bytes();
    lua_close(crypto_L);
    return UNIT_DONE("test_crypto");
}
