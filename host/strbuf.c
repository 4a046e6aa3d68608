/* strbuf: append-only buffer with JSON and URL encoders. */
#include "strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_free(strbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

static int strbuf_reserve(strbuf *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) { b->oom = 1; return -1; }
    b->data = p;
    b->cap = cap;
    return 0;
}

void strbuf_append(strbuf *b, const char *data, size_t len)
{
    if (strbuf_reserve(b, len)) return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void strbuf_puts(strbuf *b, const char *s) { strbuf_append(b, s, strlen(s)); }

void strbuf_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0 && strbuf_reserve(b, (size_t)n) == 0) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

size_t strbuf_utf8_len(const unsigned char *s, size_t left)
{
    if (left == 0) return 0;
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n == 0 || n > left) return 0;
    /* the second byte's range rules out overlong forms, surrogates and code points past U+10FFFF */
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < n; k++)
        if (s[k] < 0x80 || s[k] > 0xbf) return 0;
    return n;
}

void strbuf_append_utf8_json(strbuf *b, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t start = 0, i = 0;
    while (i < len) {
        size_t n = strbuf_utf8_len(s + i, len - i);
        if (n > 0) { i += n; continue; }
        strbuf_append(b, text + start, i - start);
        strbuf_append(b, "\\ufffd", 6);
        start = ++i;
    }
    strbuf_append(b, text + start, len - start);
}

void strbuf_json_string(strbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_append(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t n = strbuf_utf8_len((const unsigned char *)s + i, len - i);
            if (n == 0) strbuf_append(b, "\\ufffd", 6);
            else strbuf_append(b, s + i, n);
            i += n ? n - 1 : 0;
            continue;
        }
        switch (c) {
        case '"': strbuf_append(b, "\\\"", 2); break;
        case '\\': strbuf_append(b, "\\\\", 2); break;
        case '\n': strbuf_append(b, "\\n", 2); break;
        case '\r': strbuf_append(b, "\\r", 2); break;
        case '\t': strbuf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                strbuf_append(b, esc, 6);
            } else {
                strbuf_append(b, (const char *)&s[i], 1);
            }
        }
    }
    strbuf_append(b, "\"", 1);
}

void strbuf_urlencode(strbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '~') {
            strbuf_append(b, (const char *)&s[i], 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            strbuf_append(b, esc, 3);
        }
    }
}

static void strbuf_json_key(strbuf *b, const char *key)
{
    if (b->len > 0 && b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[') strbuf_append(b, ",", 1);
    if (!key) return;
    strbuf_json_string(b, key, strlen(key));
    strbuf_append(b, ":", 1);
}

void strbuf_json_str(strbuf *b, const char *key, const char *value)
{
    strbuf_json_key(b, key);
    if (value) strbuf_json_string(b, value, strlen(value));
    else strbuf_puts(b, "null");
}

void strbuf_json_num(strbuf *b, const char *key, double value)
{
    strbuf_json_key(b, key);
    if (!isfinite(value)) {
        strbuf_puts(b, "null");
        return;
    }
    char text[40];
    snprintf(text, sizeof text, "%.15g", value);
    if (strtod(text, NULL) != value) snprintf(text, sizeof text, "%.17g", value);
    strbuf_puts(b, text);
}

void strbuf_json_int(strbuf *b, const char *key, long long value)
{
    strbuf_json_key(b, key);
    strbuf_printf(b, "%lld", value);
}

void strbuf_json_bool(strbuf *b, const char *key, int value)
{
    strbuf_json_key(b, key);
    strbuf_puts(b, value ? "true" : "false");
}

void strbuf_json_raw(strbuf *b, const char *key, const char *json)
{
    strbuf_json_key(b, key);
    strbuf_puts(b, json ? json : "null");
}

char *strbuf_take(strbuf *b)
{
    char *out = b->oom ? NULL : b->data ? b->data : calloc(1, 1);
    if (b->oom) free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
    return out;
}

const char *strbuf_cstr(const strbuf *b) { return b->data ? b->data : ""; }
