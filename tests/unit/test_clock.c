/* host/clock.c: slot arithmetic across day, month, year and leap-day boundaries and before
 * 1970, ISO-8601 formatting and parsing (valid and invalid), and the TITAN_FAKE_NOW_MS pin. */
#include <stdint.h>
#include <stdlib.h>

#include "clock.h"
#include "unit.h"

#define MIN_MS 60000LL
#define DAY_MS 86400000LL

/* ms for an ISO time; aborts the check (returns INT64_MIN) when it does not parse. */
static int64_t at(const char *iso)
{
    int64_t ms;
    if (clock_parse_iso(iso, &ms) != 0) {
        fprintf(stderr, "  cannot parse %s\n", iso);
        return INT64_MIN;
    }
    return ms;
}

static const char *iso(int64_t ms)
{
    static char buf[4][CLOCK_ISO_SIZE];
    static int next;
    next = (next + 1) % 4;
    return clock_iso(ms, buf[next]);
}

/* slot(ms_of(text), minutes) formatted, compared with want */
#define CHECK_SLOT(text, minutes, want) CHECK_STR(iso(clock_slot_ms(at(text), (minutes))), (want))

static void test_slots(void)
{
    /* inside a slot, on its first and last millisecond */
    CHECK_SLOT("2026-11-27T04:52:13.123Z", 15, "2026-11-27T04:45:00.000Z");
    CHECK_SLOT("2026-11-27T04:45:00.000Z", 15, "2026-11-27T04:45:00.000Z");
    CHECK_SLOT("2026-11-27T04:44:59.999Z", 15, "2026-11-27T04:30:00.000Z");
    CHECK_SLOT("2026-11-27T04:59:59.999Z", 1, "2026-11-27T04:59:00.000Z");
    CHECK_SLOT("2026-11-27T04:59:59.999Z", 5, "2026-11-27T04:55:00.000Z");
    CHECK_SLOT("2026-11-27T04:59:59.999Z", 30, "2026-11-27T04:30:00.000Z");
    CHECK_SLOT("2026-11-27T05:00:00.000Z", 60, "2026-11-27T05:00:00.000Z");
    CHECK_SLOT("2026-11-27T07:59:59.999Z", 240, "2026-11-27T04:00:00.000Z");
    /* day boundary */
    CHECK_SLOT("2026-11-27T23:59:59.999Z", 15, "2026-11-27T23:45:00.000Z");
    CHECK_SLOT("2026-11-28T00:00:00.000Z", 15, "2026-11-28T00:00:00.000Z");
    CHECK_SLOT("2026-11-28T00:14:59.999Z", 15, "2026-11-28T00:00:00.000Z");
    CHECK_SLOT("2026-11-27T23:59:59.999Z", 1440, "2026-11-27T00:00:00.000Z");
    CHECK_SLOT("2026-11-28T00:00:00.000Z", 1440, "2026-11-28T00:00:00.000Z");
    /* month boundary (30- and 31-day months) */
    CHECK_SLOT("2026-04-30T23:59:59.999Z", 60, "2026-04-30T23:00:00.000Z");
    CHECK_SLOT("2026-05-01T00:00:00.001Z", 60, "2026-05-01T00:00:00.000Z");
    CHECK_SLOT("2026-01-31T23:50:00.000Z", 240, "2026-01-31T20:00:00.000Z");
    /* year boundary */
    CHECK_SLOT("2025-12-31T23:59:59.999Z", 15, "2025-12-31T23:45:00.000Z");
    CHECK_SLOT("2026-01-01T00:00:00.000Z", 15, "2026-01-01T00:00:00.000Z");
    CHECK_SLOT("2026-01-01T00:00:00.000Z", 1440, "2026-01-01T00:00:00.000Z");
    CHECK_SLOT("2025-12-31T23:59:59.999Z", 1440, "2025-12-31T00:00:00.000Z");
    /* leap days: Feb 28 -> Feb 29 -> Mar 1, and 2000 (divisible by 400) */
    CHECK_SLOT("2024-02-28T23:59:59.999Z", 1440, "2024-02-28T00:00:00.000Z");
    CHECK_SLOT("2024-02-29T12:34:56.000Z", 1440, "2024-02-29T00:00:00.000Z");
    CHECK_SLOT("2024-02-29T23:59:59.999Z", 15, "2024-02-29T23:45:00.000Z");
    CHECK_SLOT("2024-03-01T00:07:00.000Z", 15, "2024-03-01T00:00:00.000Z");
    CHECK_SLOT("2000-02-29T23:59:00.000Z", 60, "2000-02-29T23:00:00.000Z");
    CHECK_INT(at("2024-03-01T00:00:00Z") - at("2024-02-28T00:00:00Z"), 2 * DAY_MS);
    CHECK_INT(at("2023-03-01T00:00:00Z") - at("2023-02-28T00:00:00Z"), DAY_MS);
    CHECK_INT(at("1900-03-01T00:00:00Z") - at("1900-02-28T00:00:00Z"), DAY_MS);
    CHECK_INT(at("2000-03-01T00:00:00Z") - at("2000-02-28T00:00:00Z"), 2 * DAY_MS);
    /* before 1970: floor, not truncation toward zero */
    CHECK_INT(clock_slot_ms(-1, 15), -15 * MIN_MS);
    CHECK_INT(clock_slot_ms(-15 * MIN_MS, 15), -15 * MIN_MS);
    CHECK_INT(clock_slot_ms(-15 * MIN_MS - 1, 15), -30 * MIN_MS);
    CHECK_INT(clock_slot_ms(0, 15), 0);
    CHECK_INT(clock_slot_ms(15 * MIN_MS - 1, 15), 0);
    CHECK_SLOT("1969-12-31T23:59:59.999Z", 1440, "1969-12-31T00:00:00.000Z");
    CHECK_SLOT("1969-07-20T20:17:40.000Z", 15, "1969-07-20T20:15:00.000Z");
    CHECK_SLOT("1900-01-01T00:00:00.000Z", 60, "1900-01-01T00:00:00.000Z");
    /* week and 15-day slots are aligned on the epoch */
    CHECK_INT(clock_slot_ms(3 * 7 * DAY_MS + 5, 10080), 3 * 7 * DAY_MS);
    CHECK_INT(clock_slot_ms(-5, 10080), -7 * DAY_MS);
    CHECK_INT(clock_slot_ms(16 * DAY_MS, 21600), 15 * DAY_MS);
    /* the cycle-id rule: a late start inside the slot keeps the id, after it moves on */
    int64_t slot = at("2026-11-27T04:45:00Z");
    CHECK_INT(clock_slot_ms(slot + 14 * MIN_MS + 59999, 15), slot);
    CHECK_INT(clock_slot_ms(slot + 15 * MIN_MS, 15), slot + 15 * MIN_MS);
}

static void test_iso_format(void)
{
    CHECK_STR(iso(0), "1970-01-01T00:00:00.000Z");
    CHECK_STR(iso(1795754700000), "2026-11-27T04:45:00.000Z");
    CHECK_STR(iso(1795754700007), "2026-11-27T04:45:00.007Z");
    CHECK_STR(iso(1709164800000), "2024-02-29T00:00:00.000Z");
    CHECK_STR(iso(951782400000), "2000-02-29T00:00:00.000Z");
    CHECK_STR(iso(-2203891200000), "1900-03-01T00:00:00.000Z");
    CHECK_STR(iso(-1), "1969-12-31T23:59:59.999Z");
    CHECK_STR(iso(-1000), "1969-12-31T23:59:59.000Z");
    CHECK_STR(iso(-1001), "1969-12-31T23:59:58.999Z");
    CHECK_STR(iso(-DAY_MS), "1969-12-31T00:00:00.000Z");
    CHECK_STR(iso(-14182940000), "1969-07-20T20:17:40.000Z");
    CHECK_STR(iso(253402300799999), "9999-12-31T23:59:59.999Z");
    CHECK_INT(strlen(iso(1795754700000)), 24);
}

static void test_parse_valid(void)
{
    int64_t ms = -42;
    CHECK_INT(clock_parse_iso("2026-11-27T04:45:00Z", &ms), 0);
    CHECK_INT(ms, 1795754700000);
    CHECK_INT(at("2026-11-27T04:45Z"), 1795754700000);
    CHECK_INT(at("2026-11-27T04:45:00.000Z"), 1795754700000);
    CHECK_INT(at("2026-11-27T04:45:00.123Z"), 1795754700123);
    CHECK_INT(at("2026-11-27T04:45:00.1Z"), 1795754700100);
    CHECK_INT(at("2026-11-27T04:45:00.12Z"), 1795754700120);
    CHECK_INT(at("2026-11-27T04:45:00.123999Z"), 1795754700123); /* beyond ms: dropped */
    CHECK_INT(at("2026-11-27T04:45:00+00:00"), 1795754700000);
    CHECK_INT(at("2026-11-27T04:45:00+0000"), 1795754700000);
    CHECK_INT(at("2026-11-27 04:45:00Z"), 1795754700000);
    CHECK_INT(at("1970-01-01T00:00:00Z"), 0);
    CHECK_INT(at("1969-12-31T23:59:59.999Z"), -1);
    CHECK_INT(at("2024-02-29T00:00:00Z"), 1709164800000);
    CHECK_INT(at("2000-02-29T00:00:00Z"), 951782400000);
    CHECK_INT(at("9999-12-31T23:59:59.999Z"), 253402300799999);
    CHECK_INT(at("2026-12-31T23:59:59Z") + 1000, at("2027-01-01T00:00:00Z"));
    /* round trips */
    static const char *const texts[] = {"2026-11-27T04:45:00.000Z", "2024-02-29T23:59:59.999Z",
                                        "1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00.000Z",
                                        "2026-03-01T00:00:00.000Z", "1601-01-01T00:00:00.000Z"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) CHECK_STR(iso(at(texts[i])), texts[i]);
}

static void test_parse_invalid(void)
{
    static const char *const bad[] = {
        "2026-02-29T00:00:00Z",        /* Feb 29 on a non-leap year */
        "1900-02-29T00:00:00Z",        /* century, not a leap year */
        "2024-02-30T00:00:00Z",        /* no Feb 30, even in a leap year */
        "2026-04-31T00:00:00Z",        /* April has 30 days */
        "2026-13-01T00:00:00Z",        /* month 13 */
        "2026-00-10T00:00:00Z",        /* month 0 */
        "2026-11-00T00:00:00Z",        /* day 0 */
        "2026-11-32T00:00:00Z",        /* day 32 */
        "2026-11-27T24:00:00Z",        /* hour 24 */
        "2026-11-27T04:60:00Z",        /* minute 60 */
        "2026-11-27T04:45:61Z",        /* second 61 */
        "2026-11-27T04:45:00",         /* no zone */
        "2026-11-27T04:45:00+01:00",   /* not UTC */
        "2026-11-27T04:45:00-00:00",   /* not one of the accepted UTC spellings */
        "2026-11-27T04:45:00z",        /* lower-case z */
        "2026-11-27T04:45:00.Z",       /* a dot without digits */
        "2026-11-27T04:45:00Z junk",   /* trailing text */
        "2026-11-27T04:45:0Z",         /* one-digit seconds */
        "2026-11-27T04Z",              /* no minutes */
        "2026-11-27",                  /* a date alone */
        "2026-11-27X04:45:00Z",        /* bad separator */
        "26-11-27T04:45:00Z",          /* two-digit year */
        "2026-1-27T04:45:00Z",         /* one-digit month */
        "+2026-11-27T04:45:00Z",       /* sign */
        "1795754700000",               /* a number */
        "",                            /* empty */
        "not a time",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 12345;
        int rc = clock_parse_iso(bad[i], &ms);
        if (rc != -1) fprintf(stderr, "  accepted invalid time '%s'\n", bad[i]);
        CHECK_INT(rc, -1);
        CHECK_INT(ms, 12345); /* untouched on failure */
    }
}

static void test_fake_now(void)
{
    setenv("TITAN_FAKE_NOW_MS", "1795754700000", 1);
    CHECK_INT(clock_now_ms(), 1795754700000);
    setenv("TITAN_FAKE_NOW_MS", "0", 1);
    CHECK_INT(clock_now_ms(), 0);
    /* garbage or negative values are ignored: the real clock (after 2020) */
    setenv("TITAN_FAKE_NOW_MS", "12abc", 1);
    CHECK(clock_now_ms() > 1577836800000LL);
    setenv("TITAN_FAKE_NOW_MS", "-5", 1);
    CHECK(clock_now_ms() > 1577836800000LL);
    unsetenv("TITAN_FAKE_NOW_MS");
    int64_t a = clock_now_ms();
    CHECK(a > 1577836800000LL);
    CHECK(clock_monotonic_ms() >= 0);
}

int main(void)
{
    test_slots();
    test_iso_format();
    test_parse_valid();
    test_parse_invalid();
    test_fake_now();
    return UNIT_DONE("test_clock");
}
