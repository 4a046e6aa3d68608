/* UTC clock, slots and ISO-8601 formatting. TITAN_FAKE_NOW_MS pins clock_now_ms for tests. */
#include "clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "settings.h"

int64_t clock_now_ms(void)
{
    long long fake = 0;
    char bad[160];
    /* unset or malformed: the real clock (a malformed value is refused at start-up) */
    const char *pinned = getenv("TITAN_FAKE_NOW_MS");
    if (pinned && *pinned && settings_integer("TITAN_FAKE_NOW_MS", &fake, bad, sizeof bad) == 0) return (int64_t)fake;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_coarse_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Floor division, so times before 1970 still land at the start of their slot. */
int64_t clock_slot_ms(int64_t ms, int minutes)
{
    int64_t width = (int64_t)minutes * 60000;
    int64_t q = ms / width;
    if (ms % width != 0 && ms < 0) q -= 1;
    return q * width;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm):
 * avoids timegm(), which is not in C11 or POSIX. */
static int64_t clock_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

char *clock_iso(int64_t ms, char out[CLOCK_ISO_SIZE])
{
    int64_t secs = ms / 1000, frac = ms % 1000;
    if (frac < 0) { frac += 1000; secs -= 1; }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, CLOCK_ISO_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    return out;
}

static int clock_read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int clock_parse_iso(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec = 0, milli = 0;
    const char *p = s;
    if (clock_read_digits(&p, 4, &y) || *p++ != '-' || clock_read_digits(&p, 2, &mo) || *p++ != '-' ||
        clock_read_digits(&p, 2, &d) || (*p != 'T' && *p != ' ') || !*p++ ||
        clock_read_digits(&p, 2, &h) || *p++ != ':' || clock_read_digits(&p, 2, &mi))
        return -1;
    if (*p == ':') {
        p++;
        if (clock_read_digits(&p, 2, &sec)) return -1;
        if (*p == '.') {
            p++;
            int digits = 0, scale = 100;
            while (isdigit((unsigned char)*p)) {
                if (digits < 3) milli += (*p - '0') * scale, scale /= 10;
                digits++, p++;
            }
            if (digits == 0) return -1;
        }
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0 && strcmp(p, "+0000") != 0) return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60) return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return -1;
    int64_t days = clock_days_from_civil(y, mo, d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + milli;
    return 0;
}
