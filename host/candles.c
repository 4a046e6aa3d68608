/* The trades-to-candles builder (see candles.h). Time order is checked, not assumed: a page
 * Kraken answers out of order is refused rather than turned into wrong candles. */
#include "candles.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void candles_init(candle_builder *b, int interval_min, int64_t from_s, int64_t until_s)
{
    memset(b, 0, sizeof *b);
    b->step = (int64_t)interval_min * 60;
    b->from = from_s;
    b->until = until_s;
    b->last_t = -INFINITY;
}

void candles_free(candle_builder *b)
{
    free(b->done);
    b->done = NULL;
    b->ndone = b->cap = 0;
}

static int candles_emit(candle_builder *b)
{
    b->has_cur = 0;
    if (b->cur.t < b->from || (b->until && b->cur.t + b->step > b->until)) return 0;
    if (b->ndone == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        candle *grown = realloc(b->done, cap * sizeof *grown);
        if (!grown) return -1;
        b->done = grown;
        b->cap = cap;
    }
    b->done[b->ndone++] = b->cur;
    return 0;
}

int candles_add(candle_builder *b, const trade *trades, size_t n, size_t *bad)
{
    for (size_t i = 0; i < n; i++) {
        const trade *x = &trades[i];
        if (!isfinite(x->t) || !(x->price > 0) || !isfinite(x->price) || !(x->volume >= 0) || !isfinite(x->volume) ||
            x->t < b->last_t) {
            if (bad) *bad = i;
            return -2;
        }
        b->last_t = x->t;
        int64_t second = (int64_t)floor(x->t);
        if (b->until && second >= b->until) {
            b->reached_until = 1;
            break;
        }
        int64_t start = second - ((second % b->step) + b->step) % b->step;
        if (b->has_cur && start != b->cur.t && candles_emit(b) != 0) return -1;
        if (!b->has_cur) {
            b->cur = (candle){.t = start, .o = x->price, .h = x->price, .l = x->price, .c = x->price};
            b->has_cur = 1;
        }
        candle *c = &b->cur;
        if (x->price > c->h) c->h = x->price;
        if (x->price < c->l) c->l = x->price;
        c->c = x->price;
        /* Neumaier: the volume of thousands of 8-decimal trades stays exact to 15 digits */
        double sum = c->v + x->volume;
        if (fabs(c->v) >= fabs(x->volume)) c->v_error += (c->v - sum) + x->volume;
        else c->v_error += (x->volume - sum) + c->v;
        c->v = sum;
        c->n++;
    }
    if (b->reached_until && b->has_cur && candles_emit(b) != 0) return -1;
    return 0;
}

int candles_close_before(candle_builder *b, int64_t t)
{
    if (b->has_cur && b->cur.t + b->step <= t) return candles_emit(b);
    return 0;
}

void candles_take(candle_builder *b, candle **out, size_t *n)
{
    *out = b->done;
    *n = b->ndone;
    b->done = NULL;
    b->ndone = b->cap = 0;
}

char *candles_format_number(double v, char out[48])
{
    if (v == 0) v = 0;                                 /* no "-0" */
    snprintf(out, 48, "%.15g", v);
    if (strchr(out, 'e')) {                            /* no exponent in a CSV a loader must read */
        int magnitude = (int)floor(log10(fabs(v))) + 1;
        int decimals = 15 - magnitude;
        if (decimals < 0) decimals = 0;
        if (decimals > 30) decimals = 30;
        snprintf(out, 48, "%.*f", decimals, v);
        if (strchr(out, '.')) {
            size_t len = strlen(out);
            while (len > 0 && out[len - 1] == '0') out[--len] = '\0';
            if (len > 0 && out[len - 1] == '.') out[--len] = '\0';
        }
    }
    return out;
}

int candles_format_row(const candle *c, char *out, size_t len)
{
    char o[48], h[48], l[48], cl[48], v[48];
    return snprintf(out, len, "%lld,%s,%s,%s,%s,%s,%lld\n", (long long)c->t, candles_format_number(c->o, o),
                    candles_format_number(c->h, h), candles_format_number(c->l, l), candles_format_number(c->c, cl),
                    candles_format_number(c->v + c->v_error, v), (long long)c->n);
}
