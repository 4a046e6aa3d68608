/* Fuzz target: the backtest's CSV loader (csvdata_load) and resampler. A file it accepts holds
 * sorted, positive, finite bars whose open and close lie within low..high; resampling keeps that
 * and aligns the bars to the new interval. */
#define _GNU_SOURCE /* memfd_create */
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "csvdata.h"
#include "fuzz.h"

static void fuzz_csv_check(const csvdata *d, int64_t align_s)
{
    FUZZ_CHECK(d->count > 0 && d->bars != NULL, "an accepted file has bars");
    FUZZ_CHECK(d->interval_min >= 1, "interval");
    FUZZ_CHECK(d->missing >= d->gaps, "each gap misses at least one bar");
    for (size_t i = 0; i < d->count; i++) {
        const csv_bar *b = &d->bars[i];
        FUZZ_CHECK(isfinite(b->o) && isfinite(b->h) && isfinite(b->l) && isfinite(b->c), "finite prices");
        FUZZ_CHECK(b->l > 0 && b->l <= b->h, "0 < low <= high");
        FUZZ_CHECK(b->o >= b->l && b->o <= b->h && b->c >= b->l && b->c <= b->h, "open and close within the bar");
        FUZZ_CHECK(b->v >= 0 && b->trades >= 0, "volume and trades not negative");
        FUZZ_CHECK(i == 0 || b->t > d->bars[i - 1].t, "times strictly increasing");
        if (align_s) FUZZ_CHECK(((b->t % align_s) + align_s) % align_s == 0, "resampled bars are aligned");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_csv", 0);
        FUZZ_CHECK(fd >= 0, "memfd_create");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size, "writing the input");
    csvdata d;
    char err[600] = "";
    if (csvdata_load(path, &d, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0' && d.bars == NULL && d.count == 0, "a refused file says why and keeps nothing");
        return 0;
    }
    fuzz_csv_check(&d, 0);
    /* loaded bars need not sit on the interval's grid (gaps may be any length); resampled ones do */
    int minutes = d.interval_min * (2 + (int)(size % 3));
    if (minutes <= 7 * 24 * 60) {
        FUZZ_CHECK(csvdata_resample(&d, minutes, err, sizeof err) == 0, "a whole multiple resamples");
        fuzz_csv_check(&d, (int64_t)minutes * 60);
    }
    csvdata_free(&d);
    return 0;
}
