/* The CSV loader of `backtest`. The whole file is checked before anything runs: a bad row stops
 * the backtest with the file name and line number, never a silent skip. The file is read in
 * blocks and only the bars are kept (56 bytes each); the rare error that names an earlier row
 * counts the lines again. */
#include "csvdata.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "clock.h"

#define CSVDATA_MAX_FIELDS 32
#define CSVDATA_MAX_BYTES ((size_t)2 << 30)   /* 2 GiB: far beyond any candle history */
#define CSVDATA_BLOCK ((size_t)1 << 20)        /* bytes read at a time; also the longest line */
#define CSVDATA_MAX_PRICE 1e12                /* above any price in any currency: a corrupt row */
#define CSVDATA_MAX_VOLUME 1e15

enum { COL_T, COL_O, COL_H, COL_L, COL_C, COL_V, COL_N, COL_COUNT };
static const char *const csvdata_col_names[COL_COUNT] = {"time", "open", "high", "low", "close", "volume", "trades"};

typedef struct csvdata_parser {
    const char *path;
    char *err;
    size_t errlen;
} csvdata_parser;

static int csvdata_fail(csvdata_parser *p, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int csvdata_fail(csvdata_parser *p, size_t line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line) snprintf(p->err, p->errlen, "%s:%zu: %s", p->path, line, msg);
    else snprintf(p->err, p->errlen, "%s: %s", p->path, msg);
    return -1;
}

/* Trims spaces (and a CR) and one pair of double quotes of s[0..end) in place; returns the start. */
static char *csvdata_trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    if (end - s >= 2 && s[0] == '"' && end[-1] == '"') { s++; end--; }
    *end = '\0';
    return s;
}

/* Splits line (modified in place) at commas; returns the number of fields. */
static int csvdata_split(char *line, char *line_end, char **fields)
{
    int n = 0;
    char *s = line;
    for (;;) {
        char *comma = s;
        while (comma < line_end && *comma != ',') comma++;
        if (n < CSVDATA_MAX_FIELDS) fields[n] = csvdata_trim(s, comma);
        n++;
        if (comma >= line_end) break;
        s = comma + 1;
    }
    return n;
}

/* Clinger's fast path: a plain decimal ([sign]digits[.digits]) of up to 15 significant digits
 * and a power of ten up to 22 converts exactly with one division (both operands are exact
 * doubles). Returns the end of the number, or NULL for anything else (strtod decides those).
 * Candle files are millions of short decimals. */
static const char *csvdata_decimal(const char *p, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    int neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    const char *start = p;
    while (*p == '0') p++;                              /* leading zeros are not significant */
    const char *first = p;
    uint64_t mant = 0;                                  /* wraps past 19 digits: refused below */
    while ((unsigned)(*p - '0') < 10) mant = mant * 10 + (unsigned)(*p++ - '0');
    size_t digits = (size_t)(p - first), seen = (size_t)(p - start), frac = 0;
    if (*p == '.') {
        const char *dot = ++p;
        if (mant == 0)
            while (*p == '0') p++;                      /* 0.000123: nor are these */
        const char *sig = p;
        while ((unsigned)(*p - '0') < 10) mant = mant * 10 + (unsigned)(*p++ - '0');
        digits += (size_t)(p - sig);
        frac = (size_t)(p - dot);
        seen += frac;
    }
    if (!seen || digits > 15 || frac > 22) return NULL;
    double v = (double)mant / pow10[frac];
    *out = neg ? -v : v;
    return p;
}

/* A whole field by the fast path; exponents, inf, nan and junk go to strtod (or fail there). */
static int csvdata_fast_number(const char *s, double *out)
{
    const char *end = csvdata_decimal(s, out);
    return end && *end == '\0' ? 0 : -1;
}

/* [sign] digits [. digits] [e [sign] digits]: what strtod alone would also take as hex, inf or
 * nan is not a candle value. */
static int csvdata_plain_syntax(const char *s)
{
    if (*s == '+' || *s == '-') s++;
    size_t digits = strspn(s, "0123456789");
    s += digits;
    if (*s == '.') {
        size_t frac = strspn(s + 1, "0123456789");
        digits += frac;
        s += 1 + frac;
    }
    if (digits == 0) return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        size_t exp = strspn(s, "0123456789");
        if (exp == 0) return 0;
        s += exp;
    }
    return *s == '\0';
}

static int csvdata_number(const char *s, double *out)
{
    if (!*s) return -1;
    if (csvdata_fast_number(s, out) == 0) return 0;
    if (!csvdata_plain_syntax(s)) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* The common row in one pass: a headerless row of plain decimals split by single commas, its
 * time in whole seconds. Anything else (spaces, quotes, exponents, milliseconds, a wrong field
 * count) returns -1 and goes to the general path, which parses it or says what is wrong. */
static int csvdata_fast_row(const char *p, const char *end, int nfields, csv_bar *b)
{
    if (end > p && end[-1] == '\r') end--;
    int64_t t = 0;
    const char *q = p;
    while (q < end && *q >= '0' && *q <= '9' && q - p < 11) t = t * 10 + (*q++ - '0');
    if (q == p || q >= end || *q != ',' || t >= 100000000000LL) return -1;
    double v[6] = {0};
    for (int k = 0; k < nfields - 1; k++) {
        q = csvdata_decimal(q + 1, &v[k]);
        if (!q || (k < nfields - 2 ? q >= end || *q != ',' : q != end)) return -1;
    }
    *b = (csv_bar){.t = t, .o = v[0], .h = v[1], .l = v[2], .c = v[3], .v = v[4], .trades = nfields == 7 ? v[5] : 0};
    return 0;
}

/* A time field: whole seconds or milliseconds, or (headered files) ISO-8601 UTC. Sets *ms
 * when the value is an ISO time (already milliseconds). */
static int csvdata_time(const char *s, int headered, int64_t *raw, int *iso)
{
    *iso = 0;
    double v;
    if (csvdata_number(s, &v) == 0) {
        if (v != floor(v) || v < 0 || v > 9e15) return -1;
        *raw = (int64_t)v;
        return 0;
    }
    if (headered && clock_parse_iso(s, raw) == 0) { *iso = 1; return 0; }
    return -1;
}

static void csvdata_lower(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

/* Maps header names to columns. A column named twice is refused (which close is the close?);
 * a suffixed volume (volume_usd) stands in for "volume" when it is the only one. */
static int csvdata_header(csvdata_parser *p, char **fields, int n, int cols[COL_COUNT])
{
    int suffixed_volume = -1;
    for (int k = 0; k < COL_COUNT; k++) cols[k] = -1;
    for (int i = 0; i < n && i < CSVDATA_MAX_FIELDS; i++) {
        csvdata_lower(fields[i]);
        const char *f = fields[i];
        int k = -1;
        if (!strcmp(f, "timestamp") || !strcmp(f, "time") || !strcmp(f, "date") || !strcmp(f, "datetime") ||
            !strcmp(f, "t"))
            k = COL_T;
        else if (!strcmp(f, "open") || !strcmp(f, "o")) k = COL_O;
        else if (!strcmp(f, "high") || !strcmp(f, "h")) k = COL_H;
        else if (!strcmp(f, "low") || !strcmp(f, "l")) k = COL_L;
        else if (!strcmp(f, "close") || !strcmp(f, "c")) k = COL_C;
        else if (!strcmp(f, "volume") || !strcmp(f, "v")) k = COL_V;
        else if (!strcmp(f, "trades") || !strcmp(f, "count") || !strcmp(f, "n")) k = COL_N;
        else if (!strncmp(f, "volume", 6)) {
            if (suffixed_volume >= 0)
                return csvdata_fail(p, 1, "two volume columns, '%s' (field %d) and '%s' (field %d): name the base "
                                          "volume 'volume'", fields[suffixed_volume], suffixed_volume + 1, f, i + 1);
            suffixed_volume = i;
        }
        if (k < 0) continue;
        if (cols[k] >= 0)
            return csvdata_fail(p, 1, "column '%s' appears twice (fields %d and %d)",
                                k == COL_T ? "timestamp" : csvdata_col_names[k], cols[k] + 1, i + 1);
        cols[k] = i;
    }
    if (cols[COL_V] < 0) cols[COL_V] = suffixed_volume;
    for (int k = 0; k <= COL_V; k++)
        if (cols[k] < 0)
            return csvdata_fail(p, 1, "the header has no '%s' column (expected timestamp,open,high,low,close,volume[,...])",
                                k == COL_T ? "timestamp" : csvdata_col_names[k]);
    return 0;
}

static int csvdata_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The most common step between bars (ties: the smaller). */
static int csvdata_infer_interval(csvdata_parser *p, csvdata *d)
{
    if (d->count < 2) return csvdata_fail(p, 0, "needs at least 2 bars to infer the interval, found %zu", d->count);
    /* Real files have a handful of distinct steps (the interval and some gaps): count them in a
     * small table; only a file with many distinct steps pays for a sort. */
    enum { FEW = 64 };
    int64_t value[FEW], best = 0;
    size_t seen[FEW], distinct = 0, best_run = 0;
    int many = 0;
    for (size_t i = 1; i < d->count && !many; i++) {
        int64_t delta = d->bars[i].t - d->bars[i - 1].t;
        size_t k = 0;
        while (k < distinct && value[k] != delta) k++;
        if (k == distinct) {
            if (distinct == FEW) { many = 1; break; }
            value[distinct] = delta;
            seen[distinct++] = 0;
        }
        seen[k]++;
    }
    for (size_t k = 0; k < distinct && !many; k++)
        if (seen[k] > best_run || (seen[k] == best_run && value[k] < best)) { best_run = seen[k]; best = value[k]; }
    if (many) {
        int64_t *deltas = malloc((d->count - 1) * sizeof *deltas);
        if (!deltas) return csvdata_fail(p, 0, "out of memory");
        for (size_t i = 1; i < d->count; i++) deltas[i - 1] = d->bars[i].t - d->bars[i - 1].t;
        qsort(deltas, d->count - 1, sizeof *deltas, csvdata_cmp_i64);
        int64_t run_value = deltas[0];
        size_t run = 0;
        best_run = 0;
        for (size_t i = 0; i < d->count - 1; i++) {
            if (deltas[i] == run_value) run++;
            else { run_value = deltas[i]; run = 1; }
            if (run > best_run) { best_run = run; best = run_value; }
        }
        free(deltas);
    }
    if (best % 60 != 0 || best > 60 * 21600)
        return csvdata_fail(p, 0, "the most common step between bars is %lld s, not a whole number of minutes "
                                  "(up to 15 days)", (long long)best);
    d->interval_min = (int)(best / 60);
    return 0;
}

void csvdata_scan_gaps(csvdata *d)
{
    int64_t step = (int64_t)d->interval_min * 60, largest = 0;
    d->gaps = d->missing = 0;
    d->largest_gap_from = d->largest_gap_to = 0;
    for (size_t i = 1; i < d->count; i++) {
        int64_t delta = d->bars[i].t - d->bars[i - 1].t;
        if (delta <= step) continue;
        d->gaps++;
        d->missing += (size_t)((delta + step - 1) / step - 1);
        if (delta > largest) {
            largest = delta;
            d->largest_gap_from = d->bars[i - 1].t;
            d->largest_gap_to = d->bars[i].t;
        }
    }
}


/* The file, read a block at a time: lines are handed out in place, so no copy of the text is kept. */
typedef struct csvdata_stream {
    int fd;
    char *buf;                     /* CSVDATA_BLOCK bytes + a NUL */
    size_t start, end;             /* the bytes not handed out yet: buf[start..end) */
    size_t total;                  /* bytes read so far */
    int eof;
} csvdata_stream;

static int csvdata_open(csvdata_parser *p, csvdata_stream *s)
{
    *s = (csvdata_stream){.fd = open(p->path, O_RDONLY | O_CLOEXEC)};
    if (s->fd < 0) return csvdata_fail(p, 0, "cannot open: %s", strerror(errno));
    s->buf = malloc(CSVDATA_BLOCK + 1);
    if (!s->buf) {
        close(s->fd);
        s->fd = -1;
        return csvdata_fail(p, 0, "out of memory");
    }
    return 0;
}

static void csvdata_close(csvdata_stream *s)
{
    if (s->fd >= 0) close(s->fd);
    free(s->buf);
    *s = (csvdata_stream){.fd = -1};
}

/* Reads more bytes behind the unread ones. 0 ok (s->eof at the end), -1 on error (p->err). */
static int csvdata_refill(csvdata_parser *p, csvdata_stream *s, size_t line)
{
    if (s->start > 0) {
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->end -= s->start;
        s->start = 0;
    }
    if (s->end == CSVDATA_BLOCK)
        return csvdata_fail(p, line, "longer than %zu bytes: not a row of candles", CSVDATA_BLOCK);
    ssize_t got;
    do got = read(s->fd, s->buf + s->end, CSVDATA_BLOCK - s->end);
    while (got < 0 && errno == EINTR);
    if (got < 0) return csvdata_fail(p, 0, "read error: %s", strerror(errno));
    if (got == 0) {
        s->eof = 1;
        return 0;
    }
    if (memchr(s->buf + s->end, '\0', (size_t)got)) return csvdata_fail(p, 0, "not a text file (contains NUL bytes)");
    if (s->total == 0 && got >= 3 && memcmp(s->buf, "\xef\xbb\xbf", 3) == 0)
        s->start = 3;   /* a UTF-8 byte order mark, as spreadsheets write it, is not part of the first field */
    s->total += (size_t)got;
    s->end += (size_t)got;
    if (s->total > CSVDATA_MAX_BYTES) return csvdata_fail(p, 0, "too large (over %zu bytes)", CSVDATA_MAX_BYTES);
    return 0;
}

/* The next line, NUL-terminated in place (its \n dropped) in [*row, *row_end): 1, or 0 at the end
 * of the file, -1 on error. `line` is its number (for messages); *unterminated = no \n after it. */
static int csvdata_next_line(csvdata_parser *p, csvdata_stream *s, size_t line, char **row, char **row_end,
                             int *unterminated)
{
    for (;;) {
        char *first = s->buf + s->start;
        char *nl = memchr(first, '\n', s->end - s->start);
        if (nl || (s->eof && s->start < s->end)) {
            *unterminated = nl == NULL;
            *row = first;
            *row_end = nl ? nl : s->buf + s->end;
            **row_end = '\0';
            s->start = (size_t)(*row_end - s->buf) + (nl != NULL);
            return 1;
        }
        if (s->eof) return 0;
        if (csvdata_refill(p, s, line) != 0) return -1;
    }
}

/* A line that holds no bar: blank (spaces, tabs, a CR). */
static int csvdata_blank(const char *row)
{
    return !row[strspn(row, " \t\r")];
}

/* The line numbers of two rows (0-based counts of bar rows) of a file already loaded once: the
 * loader keeps none, so the rare message that names earlier rows counts them again. 0 when the
 * file cannot be read again (a pipe). */
static void csvdata_recount(const csvdata_parser *loaded, int headered, size_t row_a, size_t *line_a, size_t row_b,
                            size_t *line_b)
{
    char scratch[512];
    csvdata_parser p = {.path = loaded->path, .err = scratch, .errlen = sizeof scratch};
    csvdata_stream s;
    *line_a = *line_b = 0;
    if (csvdata_open(&p, &s) != 0) return;
    char *row, *row_end;
    int unterminated, header = headered;
    size_t line = 0, rows = 0;
    while ((!*line_a || !*line_b) && csvdata_next_line(&p, &s, line + 1, &row, &row_end, &unterminated) == 1) {
        line++;
        if (csvdata_blank(row)) continue;
        if (header) {
            header = 0;
            continue;
        }
        if (rows == row_a) *line_a = line;
        if (rows == row_b) *line_b = line;
        rows++;
    }
    csvdata_close(&s);
}

/* What the first rows said about the file. */
typedef struct csvdata_layout {
    int cols[COL_COUNT];           /* field index of each column, -1 = absent */
    int expect_fields;             /* 0 until the header or the first row */
    int units;                     /* of the times: -1 unknown, 0 s, 1 ms, 2 ISO */
    int headered;
    int fast_rows;                 /* rows like the last one may take csvdata_fast_row */
} csvdata_layout;

/* Any row, field by field: 1 with *b parsed, 0 for a blank line or the header, -1 on an error
 * (in p->err, naming the line). Rows are modified in place. */
static int csvdata_general_row(csvdata_parser *p, csvdata_layout *lay, char *row, char *row_end, size_t line,
                               int last_unterminated, csv_bar *b)
{
    char *fields[CSVDATA_MAX_FIELDS];
    if (csvdata_blank(row)) return 0;
    int n = csvdata_split(row, row_end, fields);
    if (n > CSVDATA_MAX_FIELDS) return csvdata_fail(p, line, "%d fields: too many", n);
    if (lay->expect_fields == 0) {
        double probe;
        if (csvdata_number(fields[0], &probe) != 0) {
            if (csvdata_header(p, fields, n, lay->cols) != 0) return -1;
            lay->headered = 1;
            lay->expect_fields = n;
            return 0;
        }
        if (n < 6 || n > 7)
            return csvdata_fail(p, line, "%d fields; a Kraken OHLCVT row has 7 (time,open,high,low,close,volume,trades) "
                                         "and a headered file starts with timestamp,open,high,low,close,volume", n);
        for (int k = 0; k < COL_COUNT; k++) lay->cols[k] = k < n ? k : -1;
        lay->expect_fields = n;
    }
    if (n != lay->expect_fields) {
        if (last_unterminated && n < lay->expect_fields)
            return csvdata_fail(p, line, "truncated last line: %d of %d fields and no newline at the end of the file "
                                         "(incomplete download?)", n, lay->expect_fields);
        return csvdata_fail(p, line, "%d fields, expected %d like the %s", n, lay->expect_fields,
                            lay->headered ? "header" : "first row");
    }
    const char *time_field = fields[lay->cols[COL_T]];
    int64_t raw = 0;
    int iso = 0;
    if (csvdata_time(time_field, lay->headered, &raw, &iso) != 0)
        return csvdata_fail(p, line, "time '%.40s' is not a Unix time (seconds or milliseconds)%s", time_field,
                            lay->headered ? " nor an ISO-8601 UTC time" : "");
    int row_units = iso ? 2 : raw >= 100000000000LL ? 1 : 0;   /* 1e11 s is year 5138; 1e11 ms is 1973 */
    if (lay->units < 0) lay->units = row_units;
    if (row_units != lay->units)
        return csvdata_fail(p, line, "time '%.40s' is in %s but earlier rows are in %s", time_field,
                            row_units == 2 ? "ISO-8601" : row_units ? "milliseconds" : "seconds",
                            lay->units == 2 ? "ISO-8601" : lay->units ? "milliseconds" : "seconds");
    if (lay->units >= 1 && raw % 1000 != 0)
        return csvdata_fail(p, line, "time '%.40s' is not a whole second", time_field);
    b->t = lay->units >= 1 ? raw / 1000 : raw;
    double *dst[COL_COUNT] = {NULL, &b->o, &b->h, &b->l, &b->c, &b->v, &b->trades};
    for (int k = COL_O; k < COL_COUNT; k++) {
        if (lay->cols[k] < 0) continue;
        if (csvdata_number(fields[lay->cols[k]], dst[k]) != 0)
            return csvdata_fail(p, line, "%s '%.40s' is not a number%s", csvdata_col_names[k], fields[lay->cols[k]],
                                last_unterminated ? " (truncated last line?)" : "");
    }
    lay->fast_rows = !lay->headered && lay->units == 0;
    return 1;
}

/* Checks steps shorter than the interval (irregular data) once the interval is known. */
static int csvdata_check_steps(csvdata_parser *p, const csvdata *d)
{
    int64_t step = (int64_t)d->interval_min * 60;
    for (size_t i = 1; i < d->count; i++) {
        int64_t delta = d->bars[i].t - d->bars[i - 1].t;
        if (delta >= step) continue;
        size_t line, prev_line;
        csvdata_recount(p, d->headered, i, &line, i - 1, &prev_line);
        return csvdata_fail(p, line, "only %lld s after the previous row (line %zu), shorter than the interval "
                                     "inferred from the file (%d min): irregular data",
                            (long long)delta, prev_line, d->interval_min);
    }
    return 0;
}

int csvdata_load(const char *path, csvdata *out, char *err, size_t errlen)
{
    csvdata_parser p = {.path = path, .err = err, .errlen = errlen};
    memset(out, 0, sizeof *out);
    csvdata_stream in;
    if (csvdata_open(&p, &in) != 0) return -1;
    size_t cap = 4096;
    csvdata d = {0};
    d.bars = malloc(cap * sizeof *d.bars);
    int rc = -1;
    csvdata_layout lay = {.units = -1};
    size_t line = 0, prev_line = 0;   /* prev_line: the line of the last bar, for messages */
    if (!d.bars) { csvdata_fail(&p, 0, "out of memory"); goto cleanup; }
    char *row, *row_end;
    int last_unterminated, more;
    while ((more = csvdata_next_line(&p, &in, line + 1, &row, &row_end, &last_unterminated)) == 1) {
        line++;
        csv_bar b = {0};
        if (!(lay.fast_rows && csvdata_fast_row(row, row_end, lay.expect_fields, &b) == 0)) {
            int got = csvdata_general_row(&p, &lay, row, row_end, line, last_unterminated, &b);
            if (got < 0) goto cleanup;
            if (got == 0) continue;                              /* a blank line or the header */
        }
        if (!(b.o > 0 && b.h > 0 && b.l > 0 && b.c > 0)) {
            csvdata_fail(&p, line, "prices must be positive (open %g, high %g, low %g, close %g)", b.o, b.h, b.l, b.c);
            goto cleanup;
        }
        if (b.h < b.l) { csvdata_fail(&p, line, "high %.10g is below low %.10g", b.h, b.l); goto cleanup; }
        if (b.o < b.l || b.o > b.h || b.c < b.l || b.c > b.h) {
            csvdata_fail(&p, line, "open %.10g or close %.10g outside the bar's range low %.10g .. high %.10g", b.o, b.c,
                         b.l, b.h);
            goto cleanup;
        }
        if (b.v < 0 || b.trades < 0) { csvdata_fail(&p, line, "negative volume or trades"); goto cleanup; }
        if (b.h > CSVDATA_MAX_PRICE) {
            csvdata_fail(&p, line, "high %g is above %g: not a real price (a corrupt row?)", b.h, CSVDATA_MAX_PRICE);
            goto cleanup;
        }
        if (b.v > CSVDATA_MAX_VOLUME || b.trades > CSVDATA_MAX_VOLUME) {
            csvdata_fail(&p, line, "volume %g or trades %g is above %g: not a real bar (a corrupt row?)", b.v, b.trades,
                         CSVDATA_MAX_VOLUME);
            goto cleanup;
        }
        if (d.count > 0) {
            const csv_bar *prev = &d.bars[d.count - 1];
            char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE];
            if (b.t == prev->t) {
                csvdata_fail(&p, line, "duplicate time %s (same as line %zu)", clock_iso(b.t * 1000, a), prev_line);
                goto cleanup;
            }
            if (b.t < prev->t) {
                csvdata_fail(&p, line, "time %s is before line %zu's %s: the file is not sorted by time",
                             clock_iso(b.t * 1000, a), prev_line, clock_iso(prev->t * 1000, z));
                goto cleanup;
            }
        }
        if (d.count == cap) {
            /* large blocks are remapped, not copied: growing never holds two copies */
            csv_bar *nb = realloc(d.bars, cap * 2 * sizeof *nb);
            if (!nb) { csvdata_fail(&p, 0, "out of memory"); goto cleanup; }
            d.bars = nb;
            cap *= 2;
        }
        prev_line = line;
        d.bars[d.count++] = b;
    }
    if (more < 0) goto cleanup;
    if (d.count == 0) { csvdata_fail(&p, 0, "no bars (empty file%s)", lay.headered ? " after the header" : ""); goto cleanup; }
    d.headered = lay.headered;
    d.millis = lay.units == 1;
    if (csvdata_infer_interval(&p, &d) != 0 || csvdata_check_steps(&p, &d) != 0) goto cleanup;
    csvdata_scan_gaps(&d);
    *out = d;
    d.bars = NULL;
    rc = 0;
cleanup:
    free(d.bars);
    csvdata_close(&in);
    return rc;
}

int csvdata_resample(csvdata *d, int minutes, char *err, size_t errlen)
{
    if (minutes == d->interval_min) return 0;
    if (minutes < d->interval_min || minutes % d->interval_min != 0) {
        snprintf(err, errlen, "the data's %d-minute bars cannot make %d-minute bars (only whole multiples are resampled)",
                 d->interval_min, minutes);
        return -1;
    }
    int64_t width = (int64_t)minutes * 60;
    size_t out = 0;
    for (size_t i = 0; i < d->count; i++) {
        csv_bar b = d->bars[i];
        int64_t bucket = b.t - ((b.t % width) + width) % width;
        if (out > 0 && d->bars[out - 1].t == bucket) {
            csv_bar *a = &d->bars[out - 1];
            a->h = fmax(a->h, b.h);
            a->l = fmin(a->l, b.l);
            a->c = b.c;
            a->v += b.v;
            a->trades += b.trades;
        } else {
            b.t = bucket;
            d->bars[out++] = b;
        }
    }
    d->count = out;
    d->interval_min = minutes;
    csvdata_scan_gaps(d);
    return 0;
}

void csvdata_free(csvdata *d)
{
    free(d->bars);
    memset(d, 0, sizeof *d);
}
