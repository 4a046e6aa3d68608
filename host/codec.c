/* hex and base64 with OpenSSL's EVP block coders, plus the strict checks they lack; a file's sha256. */
#include "codec.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

size_t codec_base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

void codec_base64_encode(const unsigned char *data, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, data, (int)n);
}

static int codec_is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

long codec_base64_decode(const char *text, size_t n, unsigned char *out)
{
    if (n % 4 != 0) return -1;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '=') {
            /* '=' only as the last one or two characters */
            if (i < n - 2) return -1;
            pad++;
        } else if (pad || !codec_is_b64(text[i])) {
            return -1;
        }
    }
    if (n == 0) return 0;
    int len = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n);
    if (len < 0) return -1;
    return (long)len - (long)pad; /* EVP_DecodeBlock counts the padding as zero bytes */
}

void codec_hex_encode(const unsigned char *data, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * n] = '\0';
}

int codec_file_sha256(const char *path, char out[65])
{
    strcpy(out, "unreadable");
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char buf[8192], digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    size_t n;
    int ok = 0;
    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        ok = 1;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) ok &= EVP_DigestUpdate(md, buf, n) == 1;
        ok = ok && !ferror(f) && EVP_DigestFinal_ex(md, digest, &len) == 1;
        if (ok) codec_hex_encode(digest, len, out);
    }
    EVP_MD_CTX_free(md);
    fclose(f);
    return ok ? 0 : -1;
}
