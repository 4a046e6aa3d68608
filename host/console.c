/* Redacting writers for stdout and stderr. */
#include "console.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

void console_write(FILE *stream, const char *text, size_t len)
{
    size_t out_len = 0;
    char *clean = secrets_redact(text, len, &out_len);
    if (!clean) {
        /* Out of memory: printing unredacted text is not an option. */
        fputs("[output dropped: out of memory while redacting]\n", stream);
        return;
    }
    fwrite(clean, 1, out_len, stream);
    fflush(stream);
    free(clean);
}

void console_printf(FILE *stream, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        char *buf = malloc((size_t)n + 1);
        if (buf) {
            vsnprintf(buf, (size_t)n + 1, fmt, ap2);
            console_write(stream, buf, (size_t)n);
            free(buf);
        }
    }
    va_end(ap2);
}

void console_verror(const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    console_printf(stderr, "titan-host: %s\n", msg);
}

void console_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    console_verror(fmt, ap);
    va_end(ap);
}
