/* Numbers as people read them in messages and on pages: thousands separators, a sign when a
 * change is meant, "n/a" for what is not known. */
#ifndef TITAN_NUMFMT_H
#define TITAN_NUMFMT_H
#include <stddef.h>

/* 12345.678 -> "12,345.68" (decimals 2); sign: a change, "+" or "-" always (-0.001 -> "-0.00"),
 * else a minus only when the rounded amount is not zero. Returns out. */
const char *numfmt_amount(char *out, size_t size, double v, int decimals, int sign);
/* A change as a fraction of `base`: "+1.23%" ("n/a" when base is not above 0). Returns out. */
const char *numfmt_percent(char *out, size_t size, double change, double base);
#endif
