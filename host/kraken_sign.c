/* Kraken request signing and the process's signing state: the API-Sign HMAC over pre-keyed
 * SHA-512 states, the strictly increasing nonce, and the signer made once from KRAKEN_SECRET. */
/* The low-level SHA-256/512 API is deprecated in OpenSSL 3 but is what makes the signer fast
 * (see kraken_signer below); this must precede every OpenSSL header. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "kraken.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "codec.h"
#include "secrets.h"

#define KRAKEN_HMAC_BLOCK 128        /* SHA-512 block size */

/* ---- signer --------------------------------------------------------------------------- */

/* The HMAC is computed by hand over OpenSSL's SHA-512 so the keyed pad states can be copied as
 * plain structs: EVP_MD_CTX_copy_ex allocates on every copy in OpenSSL 3.0 and costs ~25% of
 * the throughput (the low-level digests are deprecated in 3.0 but present, hence the define
 * at the top of this file). */
struct kraken_signer {
    SHA512_CTX inner, outer;         /* SHA-512 states after (key ^ ipad) and (key ^ opad) */
};

void kraken_signer_free(kraken_signer *s)
{
    if (s) OPENSSL_clear_free(s, sizeof *s);   /* wipes the keyed states */
}

kraken_signer *kraken_signer_new(const unsigned char *secret, size_t secret_len)
{
    kraken_signer *s = OPENSSL_zalloc(sizeof *s);
    if (!s) return NULL;
    unsigned char key[KRAKEN_HMAC_BLOCK] = {0}, pad[KRAKEN_HMAC_BLOCK];
    /* RFC 2104: a key longer than the block is hashed first, a shorter one zero-padded. */
    if (secret_len > KRAKEN_HMAC_BLOCK) SHA512(secret, secret_len, key);
    else if (secret_len > 0) memcpy(key, secret, secret_len);
    for (int i = 0; i < KRAKEN_HMAC_BLOCK; i++) pad[i] = key[i] ^ 0x36;
    int ok = SHA512_Init(&s->inner) && SHA512_Update(&s->inner, pad, sizeof pad);
    for (int i = 0; i < KRAKEN_HMAC_BLOCK; i++) pad[i] = key[i] ^ 0x5c;
    ok = ok && SHA512_Init(&s->outer) && SHA512_Update(&s->outer, pad, sizeof pad);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(pad, sizeof pad);
    if (!ok) {
        kraken_signer_free(s);
        return NULL;
    }
    return s;
}

int kraken_signer_sign(kraken_signer *s, const char *path, const char *nonce, const char *body, size_t body_len,
                       char out_b64[KRAKEN_SIGN_SIZE])
{
    unsigned char digest[SHA256_DIGEST_LENGTH], mac[SHA512_DIGEST_LENGTH];
    SHA256_CTX h;
    SHA512_CTX w;
    out_b64[0] = '\0';
    /* message = path || SHA256(nonce || body); HMAC = H(opad || H(ipad || message)) */
    int ok = SHA256_Init(&h) && SHA256_Update(&h, nonce, strlen(nonce)) && SHA256_Update(&h, body, body_len) &&
             SHA256_Final(digest, &h);
    w = s->inner;
    ok = ok && SHA512_Update(&w, path, strlen(path)) && SHA512_Update(&w, digest, sizeof digest) &&
         SHA512_Final(mac, &w);
    w = s->outer;
    ok = ok && SHA512_Update(&w, mac, sizeof mac) && SHA512_Final(mac, &w);
    if (ok) codec_base64_encode(mac, sizeof mac, out_b64);
    OPENSSL_cleanse(mac, sizeof mac);
    OPENSSL_cleanse(&w, sizeof w);
    return ok ? 0 : -1;
}

int kraken_sign(const unsigned char *secret, size_t secret_len, const char *path, const char *nonce,
                const char *body, char out_b64[KRAKEN_SIGN_SIZE])
{
    out_b64[0] = '\0';
    kraken_signer *s = kraken_signer_new(secret, secret_len);
    if (!s) return -1;
    int rc = kraken_signer_sign(s, path, nonce, body, strlen(body), out_b64);
    kraken_signer_free(s);
    return rc;
}

/* ---- process state: nonce and credentials ---------------------------------- */

static int64_t kraken_last_nonce;
static kraken_signer *kraken_the_signer;   /* from KRAKEN_SECRET, decoded once */
static int kraken_secret_invalid;          /* KRAKEN_SECRET was not base64: decided once */

/* The nonce is a counter Kraken keeps per key across processes, so it follows the real wall
 * clock even when TITAN_FAKE_NOW_MS pins clock_now_ms for a test or a replay: a pinned (or
 * replayed, earlier) time would fall behind the nonces the key has already used. */
static int64_t kraken_wall_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t (*kraken_nonce_clock)(void) = kraken_wall_clock_ms;

void kraken_set_nonce_clock(int64_t (*now_ms)(void))
{
    kraken_nonce_clock = now_ms ? now_ms : kraken_wall_clock_ms;
}

int64_t kraken_next_nonce(void)
{
    int64_t n = kraken_nonce_clock();
    if (n <= kraken_last_nonce) n = kraken_last_nonce + 1;
    kraken_last_nonce = n;
    return n;
}

void kraken_shutdown(void)
{
    kraken_signer_free(kraken_the_signer);
    kraken_the_signer = NULL;
    kraken_secret_invalid = 0;
}

kraken_signer *kraken_env_signer(kraken_outcome *o)
{
    const char *key = secrets_value("KRAKEN_API_KEY");
    const char *secret = secrets_value("KRAKEN_SECRET");
    if (!key || !secret) {
        kraken_fail(o, "kraken.no_credentials", 0, 0,
                    "private Kraken calls need KRAKEN_API_KEY and KRAKEN_SECRET in the environment (%s unset)",
                    !key && !secret ? "both are" : !key ? "KRAKEN_API_KEY is" : "KRAKEN_SECRET is");
        return NULL;
    }
    if (kraken_the_signer) return kraken_the_signer;
    if (!kraken_secret_invalid) {
        size_t n = strlen(secret);
        unsigned char *raw = malloc(n / 4 * 3 + 3);
        long len = raw ? codec_base64_decode(secret, n, raw) : -1;
        if (len > 0) kraken_the_signer = kraken_signer_new(raw, (size_t)len);
        else if (raw) kraken_secret_invalid = 1;
        if (raw) OPENSSL_clear_free(raw, n / 4 * 3 + 3);
        if (kraken_the_signer) return kraken_the_signer;
        if (!kraken_secret_invalid) {
            kraken_fail(o, "kraken.error", 0, 0, "cannot set up the Kraken signer (out of memory or OpenSSL failure)");
            return NULL;
        }
    }
    kraken_fail(o, "kraken.invalid_secret", 0, 0,
                "KRAKEN_SECRET is not valid base64 (it should be the private key exactly as Kraken shows it, "
                "padded base64 without spaces or line breaks)");
    return NULL;
}
