/* Everything titan-host prints to stdout/stderr goes through here, redacted. */
#ifndef TITAN_CONSOLE_H
#define TITAN_CONSOLE_H
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>

/* Writes text[0..len) to stream with every secret redacted. */
void console_write(FILE *stream, const char *text, size_t len);
/* printf-style, redacted. */
void console_printf(FILE *stream, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "titan-host: <message>" on stderr, redacted: a usage or configuration error. */
void console_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_verror(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
#endif
