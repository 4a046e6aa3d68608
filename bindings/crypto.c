/* titan.crypto — hashes, HMACs, base64, hex and random bytes over OpenSSL 3.
 * Misuse (wrong argument types, unknown output format) raises; undecodable base64 and a
 * failed random source return nil, err. */
#include <string.h>

#include <lauxlib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "bindings.h"
#include "codec.h"

typedef enum { CRYPTO_RAW, CRYPTO_HEX, CRYPTO_BASE64 } crypto_format;

static crypto_format crypto_check_format(lua_State *L, int arg)
{
    static const char *const names[] = {"raw", "hex", "base64", NULL};
    return (crypto_format)luaL_checkoption(L, arg, "raw", names);
}

static int crypto_push_digest(lua_State *L, const unsigned char *md, size_t len, crypto_format fmt)
{
    if (fmt == CRYPTO_RAW) { lua_pushlstring(L, (const char *)md, len); return 1; }
    luaL_Buffer b;
    size_t out_len = fmt == CRYPTO_HEX ? len * 2 : codec_base64_encoded_len(len);
    char *out = luaL_buffinitsize(L, &b, out_len + 1);
    if (fmt == CRYPTO_HEX) codec_hex_encode(md, len, out);
    else codec_base64_encode(md, len, out);
    luaL_pushresultsize(&b, out_len);
    return 1;
}

static int crypto_digest(lua_State *L, const EVP_MD *md)
{
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    crypto_format fmt = crypto_check_format(L, 2);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    if (!EVP_Digest(data, len, out, &out_len, md, NULL)) return luaL_error(L, "OpenSSL digest failed");
    return crypto_push_digest(L, out, out_len, fmt);
}

static int crypto_hmac(lua_State *L, const EVP_MD *md)
{
    size_t key_len, msg_len;
    const char *key = luaL_checklstring(L, 1, &key_len);
    const char *msg = luaL_checklstring(L, 2, &msg_len);
    crypto_format fmt = crypto_check_format(L, 3);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    if (!HMAC(md, key, (int)key_len, (const unsigned char *)msg, msg_len, out, &out_len))
        return luaL_error(L, "OpenSSL HMAC failed");
    return crypto_push_digest(L, out, out_len, fmt);
}

/* sha256(data [, "raw"|"hex"|"base64"]) — raw by default. */
static int crypto_sha256(lua_State *L) { return crypto_digest(L, EVP_sha256()); }
static int crypto_sha512(lua_State *L) { return crypto_digest(L, EVP_sha512()); }
/* hmac_sha256(key, msg [, format]) */
static int crypto_hmac_sha256(lua_State *L) { return crypto_hmac(L, EVP_sha256()); }
static int crypto_hmac_sha512(lua_State *L) { return crypto_hmac(L, EVP_sha512()); }

static int crypto_base64_encode(lua_State *L)
{
    size_t len;
    const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 1, &len);
    return crypto_push_digest(L, data, len, CRYPTO_BASE64);
}

/* base64_decode(text) -> bytes | nil, err{code="crypto.bad_base64"} */
static int crypto_base64_decode(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, len / 4 * 3 + 3);
    long n = codec_base64_decode(text, len, out);
    if (n < 0) return bindings_push_error(L, "crypto.bad_base64", "input is not valid base64 (RFC 4648)", 0);
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

static int crypto_hex(lua_State *L)
{
    size_t len;
    const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 1, &len);
    return crypto_push_digest(L, data, len, CRYPTO_HEX);
}

/* random_bytes(n) with 0 <= n <= 1 MiB, from OpenSSL's CSPRNG. */
static int crypto_random_bytes(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n <= 1024 * 1024, 1, "must be between 0 and 1048576");
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, (size_t)n);
    if (n > 0 && RAND_bytes(out, (int)n) != 1)
        return bindings_push_error(L, "crypto.random_failed", "OpenSSL RAND_bytes failed", 1);
    luaL_pushresultsize(&b, (size_t)n);
    return 1;
}

static const luaL_Reg crypto_functions[] = {
    {"base64_decode", crypto_base64_decode},
    {"base64_encode", crypto_base64_encode},
    {"hex", crypto_hex},
    {"hmac_sha256", crypto_hmac_sha256},
    {"hmac_sha512", crypto_hmac_sha512},
    {"random_bytes", crypto_random_bytes},
    {"sha256", crypto_sha256},
    {"sha512", crypto_sha512},
    {NULL, NULL},
};

int luaopen_titan_crypto(lua_State *L)
{
    luaL_newlib(L, crypto_functions);
    return 1;
}
