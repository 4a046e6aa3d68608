/* The Kraken signer against the documented example in protocols.md, against OpenSSL's one-shot
 * HMAC for other keys and bodies, plus the nonce rule and the error-string mapping. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "codec.h"
#include "kraken.h"
#include "unit.h"

static const char doc_secret[] =
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
static const char doc_nonce[] = "1616492376594";
static const char doc_body[] = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
static const char doc_path[] = "/0/private/AddOrder";
static const char doc_sign[] =
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==";
static const char doc_sha256[] = "23a1c1b34c6a11d641af0f24684896cb90f66fb991125c83dc357bdc3dc146f1";

/* The reference: OpenSSL's HMAC() over path || SHA256(nonce || body). */
static void reference_sign(const unsigned char *key, size_t key_len, const char *path, const char *nonce,
                           const char *body, char out[KRAKEN_SIGN_SIZE])
{
    unsigned char digest[32], msg[512], mac[64];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, nonce, strlen(nonce));
    EVP_DigestUpdate(c, body, strlen(body));
    EVP_DigestFinal_ex(c, digest, &n);
    EVP_MD_CTX_free(c);
    size_t plen = strlen(path);
    memcpy(msg, path, plen);
    memcpy(msg + plen, digest, 32);
    HMAC(EVP_sha512(), key, (int)key_len, msg, plen + 32, mac, &n);
    codec_base64_encode(mac, 64, out);
}

static void test_documented_example(void)
{
    unsigned char key[128];
    long key_len = codec_base64_decode(doc_secret, strlen(doc_secret), key);
    CHECK_INT(key_len, 64);

    /* the intermediate value protocols.md gives */
    unsigned char digest[32];
    char hex[65];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, doc_nonce, strlen(doc_nonce));
    EVP_DigestUpdate(c, doc_body, strlen(doc_body));
    EVP_DigestFinal_ex(c, digest, &n);
    EVP_MD_CTX_free(c);
    codec_hex_encode(digest, 32, hex);
    CHECK_STR(hex, doc_sha256);

    char out[KRAKEN_SIGN_SIZE];
    CHECK_INT(kraken_sign(key, (size_t)key_len, doc_path, doc_nonce, doc_body, out), 0);
    CHECK_STR(out, doc_sign);

    /* a reused signer gives the same answer every time (the pads are not consumed) */
    kraken_signer *s = kraken_signer_new(key, (size_t)key_len);
    CHECK(s != NULL);
    for (int i = 0; i < 3 && s; i++) {
        char again[KRAKEN_SIGN_SIZE];
        CHECK_INT(kraken_signer_sign(s, doc_path, doc_nonce, doc_body, strlen(doc_body), again), 0);
        CHECK_STR(again, doc_sign);
    }
    /* any change in path, nonce, body or key changes the signature */
    char other[KRAKEN_SIGN_SIZE];
    kraken_signer_sign(s, "/0/private/Balance", doc_nonce, doc_body, strlen(doc_body), other);
    CHECK(strcmp(other, doc_sign) != 0);
    kraken_signer_sign(s, doc_path, "1616492376595", doc_body, strlen(doc_body), other);
    CHECK(strcmp(other, doc_sign) != 0);
    kraken_signer_sign(s, doc_path, doc_nonce, doc_body, strlen(doc_body) - 1, other);
    CHECK(strcmp(other, doc_sign) != 0);
    kraken_signer_free(s);
    key[0] ^= 1;
    kraken_sign(key, (size_t)key_len, doc_path, doc_nonce, doc_body, other);
    CHECK(strcmp(other, doc_sign) != 0);
}

static void test_against_reference(void)
{
    /* key lengths around the SHA-512 block (128): shorter keys are padded, longer ones hashed */
    static const size_t lengths[] = {1, 32, 64, 127, 128, 129, 200};
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        unsigned char key[256];
        for (size_t i = 0; i < lengths[k]; i++) key[i] = (unsigned char)(i * 37 + k);
        kraken_signer *s = kraken_signer_new(key, lengths[k]);
        CHECK(s != NULL);
        const char *bodies[] = {"", "nonce=1", "nonce=1762820160000&pair=XBTUSD&type=sell&volume=0.00010000"};
        for (size_t b = 0; b < 3 && s; b++) {
            char want[KRAKEN_SIGN_SIZE], got[KRAKEN_SIGN_SIZE];
            reference_sign(key, lengths[k], "/0/private/OpenOrders", "1762820160000", bodies[b], want);
            kraken_signer_sign(s, "/0/private/OpenOrders", "1762820160000", bodies[b], strlen(bodies[b]), got);
            CHECK_STR(got, want);
        }
        kraken_signer_free(s);
    }
    kraken_signer_free(NULL); /* harmless */
}

static int64_t test_clock_value;
static int64_t test_clock(void) { return test_clock_value; }

static void test_nonce(void)
{
    /* a stuck clock, and one stepping back, still give strictly increasing nonces */
    kraken_set_nonce_clock(test_clock);
    test_clock_value = 1700000000000LL;
    int64_t a = kraken_next_nonce(), b = kraken_next_nonce(), c = kraken_next_nonce();
    CHECK_INT(a, 1700000000000LL);
    CHECK_INT(b, a + 1);
    CHECK_INT(c, b + 1);
    test_clock_value = 1600000000000LL;              /* the clock steps back */
    CHECK_INT(kraken_next_nonce(), c + 1);
    test_clock_value = 1800000000000LL;              /* and forward again */
    CHECK_INT(kraken_next_nonce(), 1800000000000LL);
    /* the real clock, not the pinnable one: TITAN_FAKE_NOW_MS does not move nonces back */
    kraken_set_nonce_clock(NULL);
    setenv("TITAN_FAKE_NOW_MS", "1500000000000", 1);
    int64_t real = kraken_next_nonce();
    CHECK(real > 1800000000000LL);                   /* last + 1, or the 2027+ wall clock */
    unsetenv("TITAN_FAKE_NOW_MS");
    int increasing = 1;
    for (int i = 0; i < 1000; i++) {                 /* many in one millisecond */
        int64_t next = kraken_next_nonce();
        if (next <= real) increasing = 0;
        real = next;
    }
    CHECK_MSG(increasing, "1000 nonces in a row strictly increasing");
}

static void test_error_mapping(void)
{
    static const struct { const char *error, *code; int retryable; } cases[] = {
        {"EAPI:Invalid nonce", "kraken.invalid_nonce", 1},
        {"EAPI:Rate limit exceeded", "kraken.rate_limited", 1},
        {"EOrder:Rate limit exceeded", "kraken.rate_limited", 1},
        {"EService: Throttled: 1700000000", "kraken.rate_limited", 1},
        {"EService:Throttled: 1700000000", "kraken.rate_limited", 1},
        {"EAPI:Invalid key", "kraken.invalid_key", 0},
        {"EAPI:Invalid signature", "kraken.invalid_signature", 0},
        {"EGeneral:Permission denied", "kraken.permission_denied", 0},
        {"EGeneral:Temporary lockout", "kraken.lockout", 0},
        {"EOrder:Insufficient funds", "kraken.insufficient_funds", 0},
        {"EOrder:Order minimum not met", "kraken.order_minimum", 0},
        {"EOrder:Cost minimum not met", "kraken.cost_minimum", 0},
        {"EOrder:Tick size check failed", "kraken.tick_size", 0},
        {"EGeneral:Invalid arguments", "kraken.invalid_arguments", 0},
        {"EGeneral:Invalid arguments:volume", "kraken.invalid_arguments", 0},
        {"EService:Unavailable", "kraken.unavailable", 1},
        {"EService:Busy", "kraken.unavailable", 1},
        {"EService:Market in cancel_only mode", "kraken.unavailable", 1},
        {"EService:Market in post_only mode", "kraken.unavailable", 1},
        {"EGeneral:Internal error", "kraken.error", 0},
        {"EQuery:Unknown asset pair", "kraken.error", 0},
        {"", "kraken.error", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int retryable = -1;
        CHECK_STR(kraken_map_error(cases[i].error, &retryable), cases[i].code);
        CHECK_INT(retryable, cases[i].retryable);
    }
}

static void test_rules(void)
{
    CHECK(kraken_is_read_only("Balance"));
    CHECK(kraken_is_read_only("OpenOrders"));
    CHECK(kraken_is_read_only("QueryOrders"));
    CHECK(!kraken_is_read_only("AddOrder"));
    CHECK(!kraken_is_read_only("CancelOrder"));
    CHECK(!kraken_is_read_only("CancelAll"));
    CHECK(!kraken_is_read_only("EditOrder"));
    CHECK(!kraken_is_read_only("AmendOrder"));
    CHECK(!kraken_is_read_only("SomethingNew")); /* unknown = write: never retried */
    CHECK(kraken_valid_interval(15));
    CHECK(kraken_valid_interval(21600));
    CHECK(!kraken_valid_interval(0));
    CHECK(!kraken_valid_interval(2));
}

int main(void)
{
    test_documented_example();
    test_against_reference();
    test_nonce();
    test_error_mapping();
    test_rules();
    return UNIT_DONE("test_kraken_sign");
}
