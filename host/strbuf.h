/* A growable byte buffer for building JSON lines, form bodies and URLs in C. */
#ifndef TITAN_STRBUF_H
#define TITAN_STRBUF_H
#include <stddef.h>

typedef struct strbuf {
    char *data;   /* always NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    int oom;      /* set once an allocation failed; later appends are ignored */
} strbuf;

void strbuf_free(strbuf *b);
void strbuf_append(strbuf *b, const char *data, size_t len);
void strbuf_puts(strbuf *b, const char *s);
void strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included; bytes that are not UTF-8 become U+FFFD
 * (written \ufffd), so the result is always valid JSON. */
void strbuf_json_string(strbuf *b, const char *s, size_t len);
/* The length of the well-formed UTF-8 character at s (1-4, at most `left`), or 0 when the bytes
 * there are not one (a stray continuation, an overlong form, a surrogate, past U+10FFFF, cut). */
size_t strbuf_utf8_len(const unsigned char *s, size_t left);
/* Appends text with every byte that is not well-formed UTF-8 written as \ufffd: the repair of a
 * JSON text whose strings another encoder filled with raw bytes (lua-cjson passes them through). */
void strbuf_append_utf8_json(strbuf *b, const char *text, size_t len);
/* Appends s percent-encoded for a URL query or form body (RFC 3986 unreserved kept). */
void strbuf_urlencode(strbuf *b, const char *s, size_t len);
/* JSON object members, appended with the comma they need (none right after '{' or '['):
 * `"key":value`. key NULL writes an array element. A NULL string and a non-finite number are
 * written as null; numbers in the shortest form that reads back exactly. raw is JSON text. */
void strbuf_json_str(strbuf *b, const char *key, const char *value);
void strbuf_json_num(strbuf *b, const char *key, double value);
void strbuf_json_int(strbuf *b, const char *key, long long value);
void strbuf_json_bool(strbuf *b, const char *key, int value);
void strbuf_json_raw(strbuf *b, const char *key, const char *json);
/* Hands the contents over (the caller frees them) and leaves b empty; NULL when an append ran
 * out of memory (what there was is freed). */
char *strbuf_take(strbuf *b);
/* The contents ("" when empty). */
const char *strbuf_cstr(const strbuf *b);
#endif
