/* The history fetcher (see datafetch.h). Requests go through host/kraken.c's public call path
 * (kraken_ohlc, kraken_call) on a plain Lua state used only to hold the decoded answers; every
 * value read from them is checked, nothing raises. */
#include "datafetch.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "candles.h"
#include "clock.h"
#include "console.h"
#include "csvdata.h"
#include "kraken_lua.h"
#include "progress.h"
#include "strbuf.h"

#define DF_TIMEOUT_MS 30000           /* one public request */
#define DF_MAX_TRIES 8                /* consecutive failures of one request before giving up */
#define DF_BACKOFF_CAP_MS 60000
#define DF_SMALL_FILE (1u << 20)      /* under this, the file is rewritten after every page */
#define DF_CHECKPOINT_MS 5000         /* over it, at most this often */

typedef struct df {
    const datafetch_options *o;
    datafetch_report *r;
    lua_State *L;
    int64_t step, end_s;              /* bucket length; nothing at or after end_s is written */
    char *existing;                   /* the file's bytes, kept as they are */
    size_t existing_len;
    candle last_row;                  /* the file's last row (has_last) */
    int has_last;
    strbuf rows;                      /* new rows, after the existing bytes */
    int64_t newest_t;                 /* open time of the newest row, file or new; 0 = none */
    int64_t checkpoint_ms, request_ms;
    int64_t begin_s;                  /* where this run starts reading, for the progress */
    progress progress;
} df;

static int df_fail(df *f, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int df_fail(df *f, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->r->error, sizeof f->r->error, fmt, ap);
    va_end(ap);
    return code;
}

void datafetch_default_name(const char *pair, int interval, char *out, size_t len)
{
    char clean[64];
    size_t n = 0;
    for (const char *p = pair; *p && n + 1 < sizeof clean; p++)
        if (*p != '/') clean[n++] = *p;
    clean[n] = '\0';
    snprintf(out, len, "%s_%d.csv", clean, interval);
}

static void df_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* ---- the file ------------------------------------------------------------------------------ */

/* "time,open,high,low,close,volume,trades" of one line, strictly. */
static int df_parse_row(const char *line, size_t len, candle *c)
{
    char buf[512];
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, line, len);
    buf[len] = '\0';
    if (len && buf[len - 1] == '\r') buf[len - 1] = '\0';
    double v[7];
    char *p = buf;
    for (int i = 0; i < 7; i++) {
        char *end = NULL;
        errno = 0;
        v[i] = strtod(p, &end);
        if (end == p || errno || !isfinite(v[i]) || (i < 6 ? *end != ',' : *end != '\0')) return -1;
        p = end + 1;
    }
    *c = (candle){.t = (int64_t)v[0], .o = v[1], .h = v[2], .l = v[3], .c = v[4], .v = v[5], .n = (int64_t)v[6]};
    return (double)c->t == v[0] && c->l > 0 && c->h >= c->l ? 0 : -1;
}

/* Reads the file to continue: validated by the backtest loader's rules (two rows or more), in
 * Kraken's format, at our interval; remembers its bytes and its last row. */
static int df_read_existing(df *f)
{
    const char *path = f->o->out_path;
    FILE *in = fopen(path, "rb");
    if (!in) {
        if (errno == ENOENT) return 0;
        return df_fail(f, 2, "cannot read %s: %s", path, strerror(errno));
    }
    strbuf all = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, in)) > 0) strbuf_append(&all, chunk, got);
    int read_error = ferror(in);
    fclose(in);
    if (read_error || all.oom) {
        strbuf_free(&all);
        return df_fail(f, 2, "cannot read %s", path);
    }
    f->existing = all.data;
    f->existing_len = all.len;
    if (all.len == 0) return 0;
    size_t lines = 0;
    for (size_t i = 0; i < all.len; i++) lines += all.data[i] == '\n';
    if (all.data[all.len - 1] != '\n')
        return df_fail(f, 2, "%s: the last line is cut short (no newline at the end): remove it or the file", path);
    if (lines >= 2) {
        csvdata d;
        char err[512];
        if (csvdata_load(path, &d, err, sizeof err) != 0) return df_fail(f, 2, "cannot continue %s", err);
        int headered = d.headered, millis = d.millis, interval = d.interval_min;
        f->r->existing_rows = d.count;
        csvdata_free(&d);
        if (headered || millis)
            return df_fail(f, 2, "%s is not in Kraken's OHLCVT format (no header, times in seconds): write to "
                                 "another file", path);
        if (interval != f->o->interval)
            return df_fail(f, 2, "%s has %d-minute bars, not %d: give --interval %d or another --out", path, interval,
                           f->o->interval, interval);
    } else {
        f->r->existing_rows = 1;
    }
    size_t start = all.len - 1;
    while (start > 0 && all.data[start - 1] != '\n') start--;
    if (df_parse_row(all.data + start, all.len - 1 - start, &f->last_row) != 0)
        return df_fail(f, 2, "%s: the last line is not a Kraken OHLCVT row (time,open,high,low,close,volume,trades)",
                       path);
    if (f->last_row.t % f->step != 0)
        return df_fail(f, 2, "%s: the last row's time %lld is not on a %d-minute boundary", path,
                       (long long)f->last_row.t, f->o->interval);
    f->has_last = 1;
    f->newest_t = f->last_row.t;
    return 0;
}

static int df_near(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-12;
}

/* The file's last row against Kraken's candle for the same time. */
static int df_check_overlap(df *f, const candle *k)
{
    const candle *mine = &f->last_row;
    double kv = k->v + k->v_error;
    int same = df_near(mine->o, k->o, 1e-9) && df_near(mine->h, k->h, 1e-9) && df_near(mine->l, k->l, 1e-9) &&
               df_near(mine->c, k->c, 1e-9) && df_near(mine->v, kv, 1e-8) &&
               (mine->n == 0 || k->n == 0 || mine->n == k->n);
    if (!same) {
        char iso[CLOCK_ISO_SIZE], row[256];
        candles_format_row(k, row, sizeof row);
        row[strcspn(row, "\n")] = '\0';
        return df_fail(f, 2, "%s: the last row (%.16s) is not what Kraken has for that time (%s): the file does not "
                             "continue Kraken's history; nothing was appended", f->o->out_path,
                       clock_iso(mine->t * 1000, iso), row);
    }
    f->r->overlap_checked = 1;
    return 0;
}

static void df_append(df *f, const candle *c)
{
    char line[256];
    int n = candles_format_row(c, line, sizeof line);
    strbuf_append(&f->rows, line, (size_t)n);
    if (f->newest_t && c->t - f->newest_t > f->step) f->r->gaps++;
    if (!f->r->new_rows++) f->r->first_new = c->t;
    f->r->last_new = c->t;
    f->newest_t = c->t;
}

/* Takes the builder's (or a list's) complete candles: the file's last row is checked, older ones
 * skipped, newer ones appended in order. */
static int df_accept(df *f, const candle *cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const candle *c = &cs[i];
        if (f->has_last && !f->r->overlap_checked) {
            if (c->t < f->last_row.t) continue;
            if (c->t > f->last_row.t)
                return df_fail(f, 2, "%s: Kraken has no candle at the file's last row (%lld): the file does not "
                                     "continue Kraken's history; nothing was appended", f->o->out_path,
                               (long long)f->last_row.t);
            if (df_check_overlap(f, c) != 0) return 2;
            continue;
        }
        if (c->t <= f->newest_t) continue;             /* never a row twice, never out of order */
        if (c->t + f->step > f->end_s) break;
        df_append(f, c);
    }
    return 0;
}

/* The file as it is plus the new rows, written beside it, synced, renamed over it. */
static int df_write(df *f)
{
    if (f->rows.oom) return df_fail(f, 1, "out of memory");
    strbuf tmp = {0};
    strbuf_printf(&tmp, "%s.tmp", f->o->out_path);
    FILE *out = tmp.oom ? NULL : fopen(strbuf_cstr(&tmp), "wb");
    int ok = out != NULL;
    if (ok && f->existing_len) ok = fwrite(f->existing, 1, f->existing_len, out) == f->existing_len;
    if (ok && f->rows.len) ok = fwrite(f->rows.data, 1, f->rows.len, out) == f->rows.len;
    if (ok) ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
    if (out && fclose(out) != 0) ok = 0;
    if (ok) ok = rename(strbuf_cstr(&tmp), f->o->out_path) == 0;
    if (!ok) {
        int e = errno;
        if (out) unlink(strbuf_cstr(&tmp));
        strbuf_free(&tmp);
        return df_fail(f, 2, "cannot write %s: %s", f->o->out_path, strerror(e));
    }
    strbuf_free(&tmp);
    /* the rename itself survives a crash once the folder is synced */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", f->o->out_path);
    char *slash = strrchr(dir, '/');
    if (slash) *(slash == dir ? slash + 1 : slash) = '\0';
    else snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    f->checkpoint_ms = clock_monotonic_ms();
    return 0;
}

/* After a page: rewrite the file while it is small, then at most every DF_CHECKPOINT_MS. */
static int df_checkpoint(df *f)
{
    if (!f->rows.len) return 0;
    if (f->existing_len + f->rows.len >= DF_SMALL_FILE &&
        clock_monotonic_ms() - f->checkpoint_ms < DF_CHECKPOINT_MS)
        return 0;
    return df_write(f);
}

/* ---- requests -------------------------------------------------------------------------------- */

typedef struct df_call {
    const char *method;
    const char *since;                /* NULL = none */
} df_call;

/* Pushes `result, meta` (1) or `nil, err` (0). */
static int df_push_call(df *f, const df_call *c)
{
    lua_State *L = f->L;
    if (strcmp(c->method, "OHLC") == 0) return kraken_ohlc(L, f->o->pair, f->o->interval, c->since, 0, DF_TIMEOUT_MS);
    int top = lua_gettop(L);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, f->o->pair);
    lua_setfield(L, -2, "pair");
    if (c->since) {
        lua_pushstring(L, c->since);
        lua_setfield(L, -2, "since");
    }
    int ok = kraken_call(L, c->method, top + 1, 0, DF_TIMEOUT_MS);
    lua_remove(L, top + 1);                            /* the params */
    return ok;
}

/* One request, paced, retried with a growing wait on rate limits and passing failures. Leaves
 * `result, meta` and returns 0, or returns 1 (error set, stack unchanged). */
static int df_request(df *f, const df_call *c)
{
    lua_State *L = f->L;
    int64_t wait = f->o->pace_ms > 1000 ? f->o->pace_ms : 1000;
    for (int attempt = 1;; attempt++) {
        int64_t due = f->request_ms + f->o->pace_ms, now = clock_monotonic_ms();
        if (f->request_ms && due > now) df_sleep_ms(due - now);
        f->request_ms = clock_monotonic_ms();
        f->r->requests++;
        if (df_push_call(f, c)) return 0;
        lua_getfield(L, -1, "code");
        lua_getfield(L, -2, "message");
        lua_getfield(L, -3, "retryable");
        const char *code = lua_tostring(L, -3), *message = lua_tostring(L, -2);
        int retryable = lua_toboolean(L, -1);
        int limited = code && strcmp(code, "kraken.rate_limited") == 0;
        char text[512];
        snprintf(text, sizeof text, "%s (%s)", message ? message : "?", code ? code : "?");
        lua_pop(L, 5);
        if (limited) f->r->rate_limited++;
        if (!(limited || retryable) || attempt >= DF_MAX_TRIES)
            return df_fail(f, 1, "%s%s", text, attempt > 1 ? " after retrying" : "");
        char shown[32];
        console_printf(stderr, "titan-host: data fetch: %s; waiting %s\n", text, progress_duration(wait, shown));
        df_sleep_ms(wait);
        wait = wait * 2 > DF_BACKOFF_CAP_MS ? DF_BACKOFF_CAP_MS : wait * 2;
    }
}

/* ---- the OHLC endpoint ----------------------------------------------------------------------- */

static int df_from_ohlc(df *f)
{
    lua_State *L = f->L;
    char since[32];
    int64_t from = f->has_last ? f->last_row.t : f->begin_s;
    snprintf(since, sizeof since, "%lld", (long long)(from - 1));
    df_call c = {.method = "OHLC", .since = from ? since : NULL};
    if (df_request(f, &c) != 0) return 1;
    /* [ candles, meta ] : closed candles, oldest first, numbers checked by kraken_ohlc */
    size_t n = lua_rawlen(L, -2);
    candle *cs = calloc(n ? n : 1, sizeof *cs);
    if (!cs) { lua_pop(L, 2); return df_fail(f, 1, "out of memory"); }
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, -2, (lua_Integer)i + 1);
        static const char *const keys[] = {"t", "o", "h", "l", "c", "v", "n"};
        double v[7];
        for (int k = 0; k < 7; k++) {
            lua_getfield(L, -1, keys[k]);
            v[k] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        cs[i] = (candle){.t = (int64_t)v[0], .o = v[1], .h = v[2], .l = v[3], .c = v[4], .v = v[5], .n = (int64_t)v[6]};
    }
    lua_pop(L, 2);
    f->r->source = DATAFETCH_OHLC;
    if (f->has_last && n > 0 && cs[0].t > f->last_row.t) {
        free(cs);
        return df_fail(f, 1, "Kraken's OHLC window starts after %s's last row: run with --from-trades",
                       f->o->out_path);
    }
    int rc = df_accept(f, cs, n);
    free(cs);
    if (rc == 0 && f->has_last && !f->r->overlap_checked)
        return df_fail(f, 1, "Kraken's OHLC answer does not reach %s's last row: run with --from-trades",
                       f->o->out_path);
    return rc;
}

/* ---- the Trades endpoint --------------------------------------------------------------------- */

static int df_number(lua_State *L, int idx, double *out)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        *out = lua_tonumber(L, idx);
        return isfinite(*out) ? 0 : -1;
    }
    if (lua_type(L, idx) != LUA_TSTRING) return -1;
    const char *s = lua_tostring(L, idx);
    char *end = NULL;
    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 && isfinite(*out) ? 0 : -1;
}

/* The page at the top of the stack (a Trades result) into trades; *cursor gets `last`. Returns
 * the number of trades, or -1 when the answer is not a Trades page (error set). */
static long df_read_trades(df *f, trade **out, char *cursor, size_t cursor_len)
{
    lua_State *L = f->L;
    int result = lua_gettop(L);
    int series = 0;
    lua_pushstring(L, f->o->pair);
    if (lua_rawget(L, result) == LUA_TTABLE) {
        series = lua_gettop(L);
    } else {
        lua_pop(L, 1);
        int found = 0;
        lua_pushnil(L);
        while (lua_next(L, result)) {                  /* [ key, value ] */
            if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "last") != 0 && lua_istable(L, -1)) {
                found++;
                lua_pushvalue(L, -1);
                lua_insert(L, -3);                     /* [ series, key, value ] */
            }
            lua_pop(L, 1);
        }
        if (found != 1) {
            lua_settop(L, result);
            return df_fail(f, 1, "Kraken Trades: unexpected response: %s", found ? "several series" : "no series"), -1;
        }
        series = lua_gettop(L);
    }
    lua_getfield(L, result, "last");
    if (lua_type(L, -1) == LUA_TSTRING) snprintf(cursor, cursor_len, "%s", lua_tostring(L, -1));
    else if (lua_isinteger(L, -1)) snprintf(cursor, cursor_len, "%lld", (long long)lua_tointeger(L, -1));
    else cursor[0] = '\0';
    lua_pop(L, 1);
    size_t n = lua_rawlen(L, series);
    trade *t = malloc((n ? n : 1) * sizeof *t);
    if (!t) { lua_settop(L, result); return df_fail(f, 1, "out of memory"), -1; }
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, series, (lua_Integer)i + 1);    /* ["price", "volume", time, side, type, misc, id] */
        int bad = !lua_istable(L, -1) || lua_rawlen(L, -1) < 3;
        double v[3] = {0, 0, 0};
        for (int k = 0; k < 3 && !bad; k++) {
            lua_rawgeti(L, -1, k + 1);
            bad = df_number(L, -1, &v[k]) != 0;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (bad) {
            free(t);
            lua_settop(L, result);
            return df_fail(f, 1, "Kraken Trades: unexpected response: row %zu is not [price, volume, time, ...]",
                           i + 1), -1;
        }
        t[i] = (trade){.price = v[0], .volume = v[1], .t = v[2]};
    }
    lua_settop(L, result);
    *out = t;
    return (long)n;
}

static void df_progress(df *f, double t)
{
    char detail[160], day[CLOCK_ISO_SIZE];
    clock_iso((int64_t)t * 1000, day);
    snprintf(detail, sizeof detail, "at %.16s, %zu trades, %zu new candles, %zu requests%s", day, f->r->trades,
             f->r->new_rows, f->r->requests, f->r->rate_limited ? ", rate limited" : "");
    progress_update(&f->progress, t - (double)f->begin_s, (double)(f->end_s - f->begin_s), detail);
}

static int df_take(df *f, candle_builder *b)
{
    candle *cs;
    size_t n;
    candles_take(b, &cs, &n);
    int rc = df_accept(f, cs, n);
    free(cs);
    return rc;
}

static int df_from_trades(df *f)
{
    lua_State *L = f->L;
    f->r->source = DATAFETCH_TRADES;
    int64_t from = f->has_last ? f->last_row.t : f->begin_s;
    candle_builder b;
    candles_init(&b, f->o->interval, from, f->end_s);
    /* trades strictly after the cursor: one nanosecond before the first bucket */
    char since[64], cursor[64];
    snprintf(since, sizeof since, "%lld", (long long)from * 1000000000LL - 1);
    int rc = 0;
    double newest = (double)from;                      /* the latest trade seen, for the progress */
    for (;;) {
        df_call c = {.method = "Trades", .since = since};
        if ((rc = df_request(f, &c)) != 0) break;
        lua_pop(L, 1);                                 /* the warnings: [ result ] */
        trade *page = NULL;
        long n = df_read_trades(f, &page, cursor, sizeof cursor);
        lua_pop(L, 1);
        if (n < 0) { rc = 1; break; }
        size_t bad = 0;
        int added = candles_add(&b, page, (size_t)n, &bad);
        if (n > 0) newest = page[n - 1].t;
        free(page);
        if (added == -2) {
            rc = df_fail(f, 1, "Kraken Trades: trade %zu of a page is not a trade or is out of time order", bad + 1);
            break;
        }
        if (added != 0) { rc = df_fail(f, 1, "out of memory"); break; }
        f->r->trades += (size_t)n;
        int caught_up = n == 0 || !cursor[0] || strcmp(cursor, since) == 0;
        /* caught up with Kraken: buckets that ended by now are complete */
        if (caught_up && candles_close_before(&b, clock_now_ms() / 1000) != 0) { rc = df_fail(f, 1, "out of memory"); break; }
        if ((rc = df_take(f, &b)) != 0 || (rc = df_checkpoint(f)) != 0) break;
        if (caught_up || b.reached_until) {
            df_progress(f, (double)f->end_s);          /* done: 100% */
            break;
        }
        df_progress(f, newest);
        snprintf(since, sizeof since, "%s", cursor);
    }
    candles_free(&b);
    return rc;
}

/* ---- the run --------------------------------------------------------------------------------- */

int datafetch_run(const datafetch_options *o, datafetch_report *r)
{
    memset(r, 0, sizeof *r);
    df f = {.o = o, .r = r, .step = (int64_t)o->interval * 60};
    int64_t now_s = clock_now_ms() / 1000;
    f.end_s = o->until_s && o->until_s < now_s ? o->until_s : now_s;
    int rc = df_read_existing(&f);
    if (rc != 0) goto done;
    int64_t since = o->since_s ? (o->since_s + f.step - 1) / f.step * f.step : 0;   /* whole buckets only */
    f.begin_s = f.has_last ? f.last_row.t : since;
    if (f.has_last && f.last_row.t + 2 * f.step > f.end_s) goto done;   /* up to date: nothing can close */
    int64_t window = (f.end_s / f.step - (DATAFETCH_OHLC_ROWS - 1)) * f.step;
    int trades = o->from_trades || !kraken_valid_interval(o->interval) || (f.begin_s && f.begin_s < window);
    if (trades && !f.begin_s) {
        rc = df_fail(&f, 2, "building candles from trades needs --since DATE (or an existing --out file to continue)");
        goto done;
    }
    if (!f.begin_s) f.begin_s = window;
    f.L = luaL_newstate();
    if (!f.L) { rc = df_fail(&f, 1, "out of memory"); goto done; }
    f.checkpoint_ms = clock_monotonic_ms();
    progress_start(&f.progress, "data fetch", o->progress, o->tty);
    rc = trades ? df_from_trades(&f) : df_from_ohlc(&f);
    progress_end(&f.progress);
    /* what was fetched before a failure is kept: the next run resumes after it */
    if (f.rows.len && (rc == 0 || rc == 1)) {
        int wrc = df_write(&f);
        if (wrc != 0) rc = wrc;
    }
done:
    if (f.L) lua_close(f.L);
    free(f.existing);
    strbuf_free(&f.rows);
    return rc;
}
