/* The trades-to-candles builder against candles computed by hand: open/high/low/close/volume/
 * count per UTC bucket, gaps, the since/until edges, a bucket completed only when a later trade
 * or the caller says so, refusals of bad and out-of-order trades, exact volumes, the row text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candles.h"
#include "unit.h"

static candle *take(candle_builder *b, size_t *n)
{
    candle *out;
    candles_take(b, &out, n);
    return out;
}

static void test_buckets(void)
{
    candle_builder b;
    candles_init(&b, 60, 0, 0);
    /* 10:00 bucket: 3 trades; 11:00: none (a gap); 12:00: 2 trades; 13:00 in progress */
    const trade t[] = {
        {36000.5, 100, 1}, {36100, 105, 0.5}, {39599.999, 99, 0.25},
        {43200, 98, 2}, {46799, 101, 1},
        {46800.25, 102, 1},
    };
    size_t bad = 99;
    CHECK_INT(candles_add(&b, t, 6, &bad), 0);
    size_t n;
    candle *c = take(&b, &n);
    CHECK_INT(n, 2);
    CHECK(n == 2 && c[0].t == 36000 && c[0].o == 100 && c[0].h == 105 && c[0].l == 99 && c[0].c == 99);
    CHECK(n == 2 && c[0].v + c[0].v_error == 1.75 && c[0].n == 3);
    CHECK(n == 2 && c[1].t == 43200 && c[1].o == 98 && c[1].h == 101 && c[1].l == 98 && c[1].c == 101 && c[1].n == 2);
    free(c);
    /* the 13:00 bucket completes only once the feed has passed 14:00 */
    CHECK_INT(candles_close_before(&b, 50399), 0);
    c = take(&b, &n);
    CHECK_INT(n, 0);
    free(c);
    CHECK_INT(candles_close_before(&b, 50400), 0);
    c = take(&b, &n);
    CHECK(n == 1 && c[0].t == 46800 && c[0].o == 102 && c[0].n == 1);
    free(c);
    /* out of time order, bad values: refused, the index named */
    const trade late[] = {{50500, 1, 1}, {50400, 1, 1}};
    CHECK_INT(candles_add(&b, late, 2, &bad), -2);
    CHECK_INT(bad, 1);
    const trade bad_values[] = {{60000, 0, 1}, {60000, 1, -1}, {NAN, 1, 1}, {60000, INFINITY, 1}};
    for (int i = 0; i < 4; i++) {
        candle_builder x;
        candles_init(&x, 1, 0, 0);
        CHECK_INT(candles_add(&x, &bad_values[i], 1, &bad), -2);
        candles_free(&x);
    }
    candles_free(&b);
}

static void test_edges(void)
{
    /* 15-minute buckets from 00:15 until 01:00: trades before and after are left out, and the
     * bucket that reaches `until` is complete when a trade at or after it arrives */
    candle_builder b;
    candles_init(&b, 15, 900, 3600);
    const trade t[] = {{100, 1, 1}, {950, 2, 1}, {1900, 3, 1}, {2800, 4, 1}, {3599.9, 5, 1}, {3600, 6, 1}, {4000, 7, 1}};
    CHECK_INT(candles_add(&b, t, 7, NULL), 0);
    CHECK(b.reached_until);
    size_t n;
    candle *c = take(&b, &n);
    CHECK_INT(n, 3);
    CHECK(n == 3 && c[0].t == 900 && c[1].t == 1800 && c[2].t == 2700 && c[2].c == 5 && c[2].n == 2);
    free(c);
    candles_free(&b);
    /* any number of minutes, UTC-aligned from the epoch: 7-minute buckets */
    candles_init(&b, 7, 0, 0);
    const trade s[] = {{419, 1, 1}, {420, 2, 1}, {839, 3, 1}, {840, 4, 1}};
    CHECK_INT(candles_add(&b, s, 4, NULL), 0);
    c = take(&b, &n);
    CHECK(n == 2 && c[0].t == 0 && c[0].n == 1 && c[1].t == 420 && c[1].n == 2);
    free(c);
    candles_free(&b);
}

/* 10,000 trades of 0.00012345 each: a plain sum drifts, the builder's volume is the decimal one */
static void test_exact_volume(void)
{
    candle_builder b;
    candles_init(&b, 1440, 0, 0);
    trade *t = malloc(10000 * sizeof *t);
    for (int i = 0; i < 10000; i++) t[i] = (trade){.t = 1000 + i, .price = 50000.1, .volume = 0.00012345};
    CHECK_INT(candles_add(&b, t, 10000, NULL), 0);
    CHECK_INT(candles_close_before(&b, 86400), 0);
    size_t n;
    candle *c = take(&b, &n);
    char row[256];
    CHECK_INT(n, 1);
    if (n == 1) {
        candles_format_row(&c[0], row, sizeof row);
        CHECK_STR(row, "0,50000.1,50000.1,50000.1,50000.1,1.2345,10000\n");
    }
    free(c);
    free(t);
    candles_free(&b);
    char num[48];
    CHECK_STR(candles_format_number(0.00001234, num), "0.00001234");      /* no exponent */
    CHECK_STR(candles_format_number(105433.6, num), "105433.6");
    CHECK_STR(candles_format_number(-0.0, num), "0");
    CHECK_STR(candles_format_number(123456789012.5, num), "123456789012.5");
}

int main(void)
{
    test_buckets();
    test_edges();
    test_exact_volume();
    return UNIT_DONE("test_candles");
}
