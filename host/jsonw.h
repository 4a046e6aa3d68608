/* A JSON writer for the host's result files (backtest, optimize): objects whose keys must come
 * in sorted order (checked: a file's bytes depend on its inputs only), numbers in one fixed
 * format, or exactly (shortest text that reads back as the same double) for files read back. */
#ifndef TITAN_JSONW_H
#define TITAN_JSONW_H
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define JSONW_MAX_DEPTH 12

typedef struct jsonw {
    strbuf *out;
    int exact;                         /* numbers written to read back bit for bit */
    int depth;
    int count[JSONW_MAX_DEPTH];        /* members written at each open level */
    int is_object[JSONW_MAX_DEPTH];
    char last_key[JSONW_MAX_DEPTH][64];
    int unsorted;                      /* a key came out of order (a bug in the caller) */
} jsonw;

/* key is NULL inside arrays (and for the outermost value), a member name inside objects. */
void jsonw_object(jsonw *w, const char *key);
void jsonw_array(jsonw *w, const char *key);
void jsonw_end(jsonw *w);
/* %.12g, or exact (see above); NaN and infinities as null; never "-0". */
void jsonw_number(jsonw *w, const char *key, double v);
void jsonw_integer(jsonw *w, const char *key, long long v);
void jsonw_string(jsonw *w, const char *key, const char *s);
void jsonw_bool(jsonw *w, const char *key, int v);
void jsonw_null(jsonw *w, const char *key);
/* ISO-8601 UTC from Unix seconds; 0 = null. */
void jsonw_time(jsonw *w, const char *key, int64_t unix_s);

/* The shortest text of v that strtod reads back as v: plain decimals ("20", "0.1") from 1e-6 to
 * 1e15, else the shortest %g (out: 32 bytes). */
char *jsonw_format_exact(double v, char out[32]);
/* Writes data to path, or to stdout when path is "-". Returns 0, or -1 with err set. */
int jsonw_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen);
#endif
