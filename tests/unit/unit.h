/* A tiny C test harness: CHECK* macros count results; UNIT_DONE() prints
 * "name: N passed, N failed" and returns the exit code. */
#ifndef TITAN_UNIT_H
#define TITAN_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond) CHECK_MSG(cond, #cond)
#define CHECK_MSG(cond, what)                                                        \
    do {                                                                             \
        if (cond) unit_passed++;                                                     \
        else { unit_failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what); } \
    } while (0)
#define CHECK_STR(got, want)                                                         \
    do {                                                                             \
        const char *g_ = (got), *w_ = (want);                                        \
        if (g_ && w_ && strcmp(g_, w_) == 0) unit_passed++;                          \
        else {                                                                       \
            unit_failed++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s\n  got:  %s\n  want: %s\n", __FILE__, __LINE__, #got, \
                    g_ ? g_ : "(null)", w_ ? w_ : "(null)");                         \
        }                                                                            \
    } while (0)
#define CHECK_INT(got, want)                                                         \
    do {                                                                             \
        long long g_ = (long long)(got), w_ = (long long)(want);                     \
        if (g_ == w_) unit_passed++;                                                 \
        else { unit_failed++; fprintf(stderr, "FAIL %s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); } \
    } while (0)
#define UNIT_DONE(name) \
    (printf("%s: %d passed, %d failed\n", (name), unit_passed, unit_failed), unit_failed ? 1 : 0)
#endif
