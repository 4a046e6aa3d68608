/* numfmt: amounts and percentages as messages and pages show them. */
#include <math.h>

#include "numfmt.h"
#include "unit.h"

int main(void)
{
    char out[64];
    CHECK_STR(numfmt_amount(out, sizeof out, 12345.678, 2, 0), "12,345.68");
    CHECK_STR(numfmt_amount(out, sizeof out, 1234567.0, 2, 0), "1,234,567.00");
    CHECK_STR(numfmt_amount(out, sizeof out, 999.999, 2, 0), "1,000.00");
    CHECK_STR(numfmt_amount(out, sizeof out, 100, 0, 0), "100");
    CHECK_STR(numfmt_amount(out, sizeof out, 0.5, 2, 0), "0.50");
    CHECK_STR(numfmt_amount(out, sizeof out, -1234.5, 2, 0), "-1,234.50");
    CHECK_STR(numfmt_amount(out, sizeof out, 3.21, 2, 1), "+3.21");
    CHECK_STR(numfmt_amount(out, sizeof out, -3.21, 2, 1), "-3.21");
    /* an amount that rounds to nothing is not "-0.00"; a change keeps its direction */
    CHECK_STR(numfmt_amount(out, sizeof out, -0.001, 2, 0), "0.00");
    CHECK_STR(numfmt_amount(out, sizeof out, -0.001, 2, 1), "-0.00");
    CHECK_STR(numfmt_amount(out, sizeof out, 0, 2, 1), "+0.00");
    CHECK_STR(numfmt_amount(out, sizeof out, NAN, 2, 0), "n/a");
    CHECK_STR(numfmt_amount(out, sizeof out, INFINITY, 2, 1), "n/a");
    /* never past the buffer */
    char tiny[6];
    numfmt_amount(tiny, sizeof tiny, 123456789.0, 2, 0);
    CHECK(strlen(tiny) < sizeof tiny);
    CHECK_STR(numfmt_percent(out, sizeof out, 12.34, 10000), "+0.12%");
    CHECK_STR(numfmt_percent(out, sizeof out, -250, 1000), "-25.00%");
    CHECK_STR(numfmt_percent(out, sizeof out, -0.1, 9999), "-0.00%");
    CHECK_STR(numfmt_percent(out, sizeof out, 1, 0), "n/a");
    CHECK_STR(numfmt_percent(out, sizeof out, NAN, 100), "n/a");
    return UNIT_DONE("numfmt");
}
