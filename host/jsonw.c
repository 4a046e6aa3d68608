/* The result-file JSON writer (see jsonw.h). Keys out of order set w->unsorted instead of
 * failing at once: the callers check it once, before writing the file. */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static void jsonw_key(jsonw *w, const char *key)
{
    int d = w->depth;
    if (d > 0 && w->count[d - 1]++ > 0) strbuf_puts(w->out, ",");
    if (d > 0 && w->is_object[d - 1]) {
        if (!key) key = "";
        if (w->count[d - 1] > 1 && strcmp(w->last_key[d - 1], key) >= 0) w->unsorted = 1;
        snprintf(w->last_key[d - 1], sizeof w->last_key[d - 1], "%s", key);
        strbuf_json_string(w->out, key, strlen(key));
        strbuf_puts(w->out, ":");
    }
}

static void jsonw_open(jsonw *w, const char *key, int is_object)
{
    jsonw_key(w, key);
    strbuf_puts(w->out, is_object ? "{" : "[");
    if (w->depth >= JSONW_MAX_DEPTH) { w->unsorted = 1; return; }
    w->is_object[w->depth] = is_object;
    w->count[w->depth] = 0;
    w->last_key[w->depth][0] = '\0';
    w->depth++;
}

void jsonw_object(jsonw *w, const char *key) { jsonw_open(w, key, 1); }
void jsonw_array(jsonw *w, const char *key) { jsonw_open(w, key, 0); }

void jsonw_end(jsonw *w)
{
    if (w->depth == 0) { w->unsorted = 1; return; }
    w->depth--;
    strbuf_puts(w->out, w->is_object[w->depth] ? "}" : "]");
}

char *jsonw_format_exact(double v, char out[32])
{
    /* plain decimals where they are short enough (20, not 2e+01), else the shortest %g */
    double a = fabs(v);
    if (a == 0 || (a >= 1e-6 && a < 1e15)) {
        for (int d = 0; d <= 17; d++) {
            snprintf(out, 32, "%.*f", d, v);
            if (strtod(out, NULL) == v) return out;
        }
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(out, 32, "%.*g", p, v);
        if (strtod(out, NULL) == v) break;
    }
    return out;
}

void jsonw_number(jsonw *w, const char *key, double v)
{
    jsonw_key(w, key);
    if (!isfinite(v)) { strbuf_puts(w->out, "null"); return; }
    if (v == 0) v = 0;                                 /* no "-0" */
    char text[32];
    if (w->exact) strbuf_puts(w->out, jsonw_format_exact(v, text));
    else strbuf_printf(w->out, "%.12g", v);
}

void jsonw_integer(jsonw *w, const char *key, long long v)
{
    jsonw_key(w, key);
    strbuf_printf(w->out, "%lld", v);
}

void jsonw_string(jsonw *w, const char *key, const char *s)
{
    jsonw_key(w, key);
    strbuf_json_string(w->out, s, strlen(s));
}

void jsonw_bool(jsonw *w, const char *key, int v)
{
    jsonw_key(w, key);
    strbuf_puts(w->out, v ? "true" : "false");
}

void jsonw_null(jsonw *w, const char *key)
{
    jsonw_key(w, key);
    strbuf_puts(w->out, "null");
}

void jsonw_time(jsonw *w, const char *key, int64_t unix_s)
{
    char iso[CLOCK_ISO_SIZE];
    if (unix_s == 0) jsonw_null(w, key);
    else jsonw_string(w, key, clock_iso(unix_s * 1000, iso));
}

int jsonw_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            snprintf(err, errlen, "cannot write to stdout");
            return -1;
        }
        return 0;
    }
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) snprintf(err, errlen, "cannot write %s", path);
    return ok ? 0 : -1;
}
