/* The backtest's CSV loader: both formats, seconds/milliseconds/ISO times, gaps, interval
 * inference, resampling, and every bad file with the line it names, also when the file spans
 * many read blocks or the line is counted again after loading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvdata.h"
#include "unit.h"

#define FIX "tests/fixtures/backtest/"

static char tmpdir[] = "/tmp/titan-csv.XXXXXX";

/* Writes text to a temp file and returns its path (static buffer per call site is fine). */
static const char *write_tmp(const char *name, const char *text)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    return p;
}

/* Loading must fail and the message must contain every one of the parts. */
static void expect_error(const char *path, const char *part1, const char *part2)
{
    csvdata d;
    char err[512] = "";
    int rc = csvdata_load(path, &d, err, sizeof err);
    CHECK_MSG(rc == -1, path);
    CHECK_MSG(strstr(err, part1) != NULL, err);
    if (part2) CHECK_MSG(strstr(err, part2) != NULL, err);
    if (rc == 0) csvdata_free(&d);
}

static void test_kraken_and_headered(void)
{
    csvdata k, h;
    char err[512] = "";
    CHECK(csvdata_load(FIX "rt_kraken.csv", &k, err, sizeof err) == 0);
    CHECK_INT(k.count, 6);
    CHECK_INT(k.interval_min, 60);
    CHECK_INT(k.headered, 0);
    CHECK_INT(k.millis, 0);
    CHECK_INT(k.gaps, 0);
    CHECK_INT(k.bars[0].t, 1704067200);
    CHECK(k.bars[2].o == 102 && k.bars[2].h == 111 && k.bars[2].l == 101 && k.bars[2].c == 110);
    CHECK(k.bars[2].v == 10 && k.bars[2].trades == 5);
    CHECK(csvdata_load(FIX "rt_headered_ms.csv", &h, err, sizeof err) == 0);
    CHECK_INT(h.headered, 1);
    CHECK_INT(h.millis, 1);
    CHECK_INT(h.count, 6);
    int same = 1;
    for (size_t i = 0; i < 6; i++)
        same &= h.bars[i].t == k.bars[i].t && h.bars[i].o == k.bars[i].o && h.bars[i].c == k.bars[i].c &&
                h.bars[i].h == k.bars[i].h && h.bars[i].l == k.bars[i].l && h.bars[i].v == k.bars[i].v;
    CHECK_MSG(same, "headered ms file reads as the same bars as the Kraken file");
    CHECK(h.bars[0].trades == 0);                       /* no trades column: 0 */
    csvdata_free(&k);
    csvdata_free(&h);

    /* ISO times, CRLF, quotes, spaces, a blank line, column order from the header */
    const char *iso = write_tmp("iso.csv", "close,Timestamp,open,low,high,volume_usd\r\n"
                                           "100,2024-01-01T00:00Z,100,99,101,5\r\n"
                                           "\r\n"
                                           " 101 ,\"2024-01-01T00:15:00Z\",100,99,102,5\r\n"
                                           "102,2024-01-01T00:30Z,101,100,103,5\r\n");
    CHECK(csvdata_load(iso, &h, err, sizeof err) == 0);
    CHECK_MSG(h.count == 3 && h.interval_min == 15 && h.bars[1].c == 101 && h.bars[1].h == 102, err);
    CHECK_INT(h.bars[2].t, 1704069000);
    csvdata_free(&h);
}

static void test_gaps_and_interval(void)
{
    csvdata d;
    char err[512] = "";
    CHECK(csvdata_load(FIX "gap.csv", &d, err, sizeof err) == 0);
    CHECK_INT(d.interval_min, 60);
    CHECK_INT(d.gaps, 1);
    CHECK_INT(d.missing, 3);
    CHECK_INT(d.largest_gap_from, 1704074400);
    CHECK_INT(d.largest_gap_to, 1704088800);
    csvdata_free(&d);

    /* the most common step wins over a few longer ones */
    const char *mixed = write_tmp("mixed.csv", "0,1,1,1,1,0,0\n300,1,1,1,1,0,0\n600,1,1,1,1,0,0\n1500,1,1,1,1,0,0\n"
                                               "1800,1,1,1,1,0,0\n");
    CHECK(csvdata_load(mixed, &d, err, sizeof err) == 0);
    CHECK_INT(d.interval_min, 5);
    CHECK_INT(d.gaps, 1);
    CHECK_INT(d.missing, 2);

    /* resampling 5 -> 15 minutes: buckets aligned to UTC, OHLC combined, volume summed */
    csvdata_free(&d);
    const char *fine = write_tmp("fine.csv", "0,10,12,9,11,1,1\n300,11,15,10,14,2,1\n600,14,14,8,9,3,1\n"
                                             "900,9,10,9,10,4,1\n1200,10,11,10,11,5,1\n");
    CHECK(csvdata_load(fine, &d, err, sizeof err) == 0);
    CHECK(csvdata_resample(&d, 15, err, sizeof err) == 0);
    CHECK_INT(d.count, 2);
    CHECK_INT(d.interval_min, 15);
    CHECK(d.bars[0].t == 0 && d.bars[0].o == 10 && d.bars[0].h == 15 && d.bars[0].l == 8 && d.bars[0].c == 9);
    CHECK(d.bars[0].v == 6 && d.bars[0].trades == 3);
    CHECK(d.bars[1].t == 900 && d.bars[1].o == 9 && d.bars[1].c == 11 && d.bars[1].v == 9);
    CHECK(csvdata_resample(&d, 20, err, sizeof err) == -1);           /* not a multiple */
    CHECK_MSG(strstr(err, "whole multiples") != NULL, err);
    csvdata_free(&d);
    CHECK(csvdata_load(fine, &d, err, sizeof err) == 0);
    CHECK(csvdata_resample(&d, 1, err, sizeof err) == -1);            /* shorter bars cannot be made */
    csvdata_free(&d);
}

static void test_bad_files(void)
{
    expect_error(FIX "bad_unsorted.csv", "bad_unsorted.csv:3:", "not sorted");
    expect_error(FIX "bad_duplicate.csv", "bad_duplicate.csv:3:", "duplicate time");
    expect_error(FIX "bad_nonnumeric.csv", "bad_nonnumeric.csv:2:", "high 'abc' is not a number");
    expect_error(FIX "bad_high_low.csv", "bad_high_low.csv:2:", "high 98 is below low 99");
    expect_error(FIX "bad_truncated.csv", "bad_truncated.csv:3:", "truncated last line");
    expect_error(FIX "bad_header.csv", "bad_header.csv:1:", "no 'low' column");
    expect_error(FIX "bad_empty.csv", "no bars", NULL);
    expect_error(FIX "no_such_file.csv", "cannot open", NULL);
    expect_error(write_tmp("one.csv", "1704067200,100,101,99,100,10,5\n"), "at least 2 bars", NULL);
    expect_error(write_tmp("fields.csv", "1,2,3\n"), ":1:", "3 fields");
    expect_error(write_tmp("ragged.csv", "0,1,1,1,1,0,0\n60,1,1,1,1,0\n"), ":2:", "6 fields, expected 7");
    expect_error(write_tmp("open.csv", "0,5,4,1,2,0,0\n60,1,1,1,1,0,0\n"), ":1:", "outside the bar's range");
    expect_error(write_tmp("neg.csv", "0,1,1,1,1,-3,0\n60,1,1,1,1,0,0\n"), ":1:", "negative volume");
    expect_error(write_tmp("zero.csv", "0,0,1,0,1,0,0\n60,1,1,1,1,0,0\n"), ":1:", "positive");
    expect_error(write_tmp("units.csv", "1704067200,1,1,1,1,0,0\n1704067260000,1,1,1,1,0,0\n"), ":2:", "milliseconds");
    expect_error(write_tmp("frac.csv", "1704067200.5,1,1,1,1,0,0\n1704067260,1,1,1,1,0,0\n"), ":1:", "not a Unix time");
    expect_error(write_tmp("irregular.csv", "0,1,1,1,1,0,0\n300,1,1,1,1,0,0\n600,1,1,1,1,0,0\n660,1,1,1,1,0,0\n"), ":4:",
                 "irregular");
    expect_error(write_tmp("step.csv", "0,1,1,1,1,0,0\n90,1,1,1,1,0,0\n"), "not a whole number of minutes", NULL);
    expect_error(write_tmp("nan.csv", "0,1,1,1,nan,0,0\n60,1,1,1,1,0,0\n"), ":1:", "close 'nan' is not a number");
    expect_error(write_tmp("badiso.csv", "timestamp,open,high,low,close,volume\n2024-13-45,1,1,1,1,0\n"), ":2:",
                 "not a Unix time");
    /* a column named twice is ambiguous: which close is the close? */
    expect_error(write_tmp("dup.csv", "timestamp,open,high,low,close,close,volume\n0,1,1,1,1,2,0\n60,1,1,1,1,2,0\n"),
                 "dup.csv:1:", "'close' appears twice (fields 5 and 6)");
    expect_error(write_tmp("dup2.csv", "t,o,h,l,c,close,v\n0,1,1,1,1,2,0\n60,1,1,1,1,2,0\n"), ":1:",
                 "'close' appears twice");
    expect_error(write_tmp("dupvol.csv", "timestamp,open,high,low,close,volume btc,volume usd\n0,1,1,1,1,2,0\n"), ":1:",
                 "two volume columns");
    /* hex, and values no market has: refused, naming the line (strtod read 0x1A as 26) */
    expect_error(write_tmp("hex.csv", "0,1,1,1,1,0,0\n60,0x1A,0x1A,0x1A,0x1A,0,0\n"), "hex.csv:2:", "open '0x1A' is not a number");
    expect_error(write_tmp("hexh.csv", "timestamp,open,high,low,close,volume\n0,1,1,1,1,0\n60,1,0X2,1,1,0\n"), ":3:",
                 "high '0X2' is not a number");
    expect_error(write_tmp("inf.csv", "0,1,1,1,1,0,0\n60,1,infinity,1,1,0,0\n"), ":2:", "is not a number");
    expect_error(write_tmp("huge.csv", "0,1,1,1,1,0,0\n60,1e308,1e308,1e308,1e308,1,1\n"), "huge.csv:2:",
                 "above 1e+12");
    expect_error(write_tmp("hugev.csv", "0,1,1,1,1,0,0\n60,1,1,1,1,1e300,1\n"), "hugev.csv:2:", "volume 1e+300");
}

/* A UTF-8 byte order mark (spreadsheet exports) is skipped, for either format. */
static void test_bom(void)
{
    csvdata d;
    char err[512] = "";
    const char *h = write_tmp("bom.csv", "\xef\xbb\xbftimestamp,open,high,low,close,volume\n0,1,2,1,2,5\n60,2,3,2,3,5\n");
    CHECK_MSG(csvdata_load(h, &d, err, sizeof err) == 0, err);
    if (d.count) {
        CHECK_INT(d.count, 2);
        CHECK_INT(d.headered, 1);
        CHECK(d.bars[1].c == 3);
        csvdata_free(&d);
    }
    const char *k = write_tmp("bomk.csv", "\xef\xbb\xbf" "0,1,2,1,2,5,1\n60,2,3,2,3,5,1\n");
    CHECK_MSG(csvdata_load(k, &d, err, sizeof err) == 0, err);
    if (d.count) {
        CHECK_INT(d.headered, 0);
        CHECK_INT(d.bars[0].t, 0);
        csvdata_free(&d);
    }
    /* exponents written plainly are still numbers */
    const char *e = write_tmp("exp.csv", "0,1e2,1.5E2,1e2,1.2e2,2.5e-3,1\n60,1e2,1.5e+2,1e2,1.2e2,0,1\n");
    CHECK_MSG(csvdata_load(e, &d, err, sizeof err) == 0, err);
    if (d.count) {
        CHECK(d.bars[0].h == 150 && d.bars[0].v == 0.0025);
        csvdata_free(&d);
    }
}

/* The fast decimal path must agree with strtod to the last bit. */
static void test_numbers_exact(void)
{
    const char *path = write_tmp("exact.csv", "");
    FILE *f = fopen(path, "wb");
    char text[5][64];
    double want[2000][4];
    unsigned seed = 12345;
    for (int i = 0; i < 2000; i++) {
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            int decimals = (int)(seed >> 8) % 9;
            double v = (double)((seed >> 4) % 100000000u) / 1000 + 0.001;
            snprintf(text[k], sizeof text[k], "%.*f", decimals, v);
            want[i][k] = strtod(text[k], NULL);
        }
        /* o = h = l = c would be boring but valid; keep the range consistent */
        double lo = want[i][0], hi = want[i][0];
        for (int k = 1; k < 4; k++) { if (want[i][k] < lo) lo = want[i][k]; if (want[i][k] > hi) hi = want[i][k]; }
        want[i][1] = hi;
        want[i][2] = lo;
        snprintf(text[4], sizeof text[4], "%.17g", hi);
        fprintf(f, "%d,%s,%.17g,%.17g,%s,1.5,3\n", i * 60, text[0], hi, lo, text[3]);
    }
    fclose(f);
    csvdata d;
    char err[512] = "";
    int rc = csvdata_load(path, &d, err, sizeof err);
    CHECK_MSG(rc == 0, err);
    if (rc != 0) return;
    int exact = 1;
    for (int i = 0; i < 2000; i++)
        exact &= d.bars[i].o == want[i][0] && d.bars[i].h == want[i][1] && d.bars[i].l == want[i][2] &&
                 d.bars[i].c == want[i][3];
    CHECK_MSG(exact, "every parsed price equals strtod's");
    csvdata_free(&d);
}

/* Rows after the first take a one-pass fast path; anything unusual in them must read exactly
 * as the general path reads it, and every error must still name its line. */
static void test_fast_rows(void)
{
    csvdata a, b;
    char err[512] = "";
    const char *plain = write_tmp("plain.csv", "0,100,102,99,101,5,3\n60,101,103,100,102,6,4\n120,102,104,101,103,7,5\n"
                                               "180,103,105,102,104,8,6\n");
    const char *odd = write_tmp("odd.csv", "0,100,102,99,101,5,3\n60, 101 ,103,100,102,6,4\r\n"
                                           "120,\"102\",1.04e2,101,103,7,5\n\n180,103.0,105,102,104,8,+6\n");
    CHECK_MSG(csvdata_load(plain, &a, err, sizeof err) == 0, err);
    CHECK_MSG(csvdata_load(odd, &b, err, sizeof err) == 0, err);
    int same = a.count == 4 && b.count == 4;
    for (size_t i = 0; same && i < 4; i++)
        same = a.bars[i].t == b.bars[i].t && a.bars[i].o == b.bars[i].o && a.bars[i].h == b.bars[i].h &&
               a.bars[i].l == b.bars[i].l && a.bars[i].c == b.bars[i].c && a.bars[i].v == b.bars[i].v &&
               a.bars[i].trades == b.bars[i].trades;
    CHECK_MSG(same, "spaces, quotes, CRLF, an exponent, a blank line and signs read as the plain rows");
    CHECK(a.bars[3].c == 104 && a.bars[3].trades == 6);
    csvdata_free(&a);
    csvdata_free(&b);
    CHECK_MSG(csvdata_load(write_tmp("six.csv", "0,1,2,1,2,5\n60,2,3,2,3,6\n120,3,4,3,4,7\n"), &a, err, sizeof err) == 0,
              err);
    CHECK(a.count == 3 && a.bars[2].trades == 0 && a.bars[2].h == 4 && a.bars[2].v == 7);
    csvdata_free(&a);

    const char *good = "0,1,1,1,1,0,0\n60,1,1,1,1,0,0\n";
    char text[256];
    static const struct { const char *row, *part; } bad[] = {
        {"120,1,1,1,1,0,0,\n", "8 fields, expected 7"},
        {"120,1,1,,1,0,0\n", "low '' is not a number"},
        {"120,1,1,1,1,0\n", "6 fields, expected 7"},
        {"30,1,1,1,1,0,0\n", "not sorted"},
        {"120000000000,1,1,1,1,0,0\n", "milliseconds"},
        {"120,1,1,1,-1,0,0\n", "positive"},
        {"120,1,1,2,1.5,0,0\n", "high 1 is below low 2"},
        {"120,1,1,1,1,x,0\n", "volume 'x' is not a number"},
        {"60,1,1,1,1,0,0\n", "duplicate time"},
        {"120,1,1,1", "truncated last line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s%s", good, bad[i].row);
        expect_error(write_tmp("fastbad.csv", text), ":3:", bad[i].part);
    }
}


/* A file of `rows` hourly Kraken rows from t = 0, with `extra` inserted before row `at` (0-based
 * row index; NULL = nothing); returns its path. Rows are ~40 bytes: 60,000 of them span blocks. */
static const char *write_rows(const char *name, size_t rows, size_t at, const char *extra)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; i < rows; i++) {
        if (extra && i == at) fputs(extra, f);
        fprintf(f, "%zu,100.5,101.25,99.75,100.5,12.345678,42\n", i * 3600);
    }
    fclose(f);
    return path;
}

static void test_many_blocks(void)
{
    csvdata d;
    char err[512] = "";
    const char *big = write_rows("big.csv", 60000, 0, NULL);
    CHECK_MSG(csvdata_load(big, &d, err, sizeof err) == 0, err);
    CHECK_INT(d.count, 60000);
    CHECK_INT(d.bars[59999].t, 59999 * 3600);
    CHECK(d.bars[31234].v == 12.345678 && d.bars[31234].trades == 42);
    csvdata_free(&d);
    /* errors far past the first block name their line */
    expect_error(write_rows("late_bad.csv", 60000, 45000, "162000000,1,1,1,1,1,abc\n"), "late_bad.csv:45001:",
                 "trades 'abc' is not a number");
    expect_error(write_rows("late_dup.csv", 60000, 45000, "162000000,1,1,1,1,1,1\n"), "late_dup.csv:45002:",
                 "duplicate time 1975-02-19T00:00:00.000Z (same as line 45001)");
    /* a step shorter than the interval is found after loading: its lines are counted again,
     * past blank lines and the header */
    char text[512];
    snprintf(text, sizeof text, "timestamp,open,high,low,close,volume\n\n0,1,1,1,1,0\n3600,1,1,1,1,0\n  \r\n"
                                "7200,1,1,1,1,0\n7260,1,1,1,1,0\n10800,1,1,1,1,0\n");
    expect_error(write_tmp("short_step.csv", text), "short_step.csv:7:", "(line 6), shorter than the interval");
    expect_error(write_rows("late_step.csv", 60000, 50000, "179999940,1,1,1,1,0,0\n"), "late_step.csv:50001:",
                 "(line 50000), shorter than the interval");
    /* one line longer than a read block is no row of candles */
    size_t n = ((size_t)1 << 20) + 100;
    char *line = malloc(n + 64);
    memset(line, '7', n);
    strcpy(line + n, ",1,1,1,1,0,0\n");
    expect_error(write_rows("long.csv", 10, 5, line), "long.csv:6:", "not a row of candles");
    free(line);
    /* a NUL byte anywhere, even past the first block */
    const char *nul = write_rows("nul.csv", 60000, 0, NULL);
    FILE *f = fopen(nul, "r+b");
    fseek(f, 2000000, SEEK_SET);
    fputc('\0', f);
    fclose(f);
    expect_error(nul, "not a text file", NULL);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_kraken_and_headered();
    test_gaps_and_interval();
    test_bad_files();
    test_bom();
    test_numbers_exact();
    test_fast_rows();
    test_many_blocks();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return UNIT_DONE("test_backtest_csv");
}
