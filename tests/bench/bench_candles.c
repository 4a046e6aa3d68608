/* Candles from trades (`data fetch`): trades per second through the builder once the trades are in
 * memory (target >= 1,000,000/s: the network must be the limit, not the builder), for 1-minute and
 * 1-hour candles, with the rows written as text. Five million trades of a random walk, about three
 * a second (a busy Kraken pair), the best of 5 rounds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "candles.h"

static double bench_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* trades through the builder in pages of 1000 (as Trades answers), rows formatted; trades/s */
static double bench_build(const trade *t, size_t n, int minutes, size_t *candles_out)
{
    double best = 0;
    for (int round = 0; round < 5; round++) {
        double t0 = bench_seconds();
        candle_builder b;
        candles_init(&b, minutes, 0, 0);
        size_t rows = 0;
        char line[256];
        for (size_t i = 0; i < n; i += 1000) {
            size_t page = n - i < 1000 ? n - i : 1000;
            if (candles_add(&b, t + i, page, NULL) != 0) { fprintf(stderr, "bench_candles: refused\n"); exit(1); }
            candle *c;
            size_t k;
            candles_take(&b, &c, &k);
            for (size_t j = 0; j < k; j++) candles_format_row(&c[j], line, sizeof line);
            rows += k;
            free(c);
        }
        candles_free(&b);
        double rate = (double)n / (bench_seconds() - t0);
        if (rate > best) best = rate;
        *candles_out = rows;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 5000000;
    trade *t = malloc(n * sizeof *t);
    if (!t) return 1;
    double time_s = 1640995200, price = 46000;
    unsigned long long seed = 7;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(seed >> 11) / 9007199254740992.0;
        time_s += u * 0.66;
        price *= 1 + (u - 0.5) * 0.0004;
        t[i] = (trade){.t = floor(time_s * 1e4) / 1e4, .price = round(price * 10) / 10, .volume = 0.00012345 + u};
    }
    size_t rows1, rows60;
    double m1 = bench_build(t, n, 1, &rows1), m60 = bench_build(t, n, 60, &rows60);
    printf("trades in memory: %zu over %.1f days\n", n, (t[n - 1].t - t[0].t) / 86400);
    printf("%-40s %14.0f trades/s   target >= 1,000,000: %s (%.1fx)\n", "1-minute candles (rows written)", m1,
           m1 >= 1e6 ? "met" : "MISSED", m1 / 1e6);
    printf("%-40s %14.0f trades/s   target >= 1,000,000: %s (%.1fx)\n", "1-hour candles (rows written)", m60,
           m60 >= 1e6 ? "met" : "MISSED", m60 / 1e6);
    printf("candles built: %zu of 1 minute, %zu of 1 hour\n", rows1, rows60);
    free(t);
    return 0;                          /* a missed target is printed, not a failure */
}
