/* Number formatting for people (numfmt.h). */
#include "numfmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *numfmt_amount(char *out, size_t size, double v, int decimals, int sign)
{
    if (!isfinite(v)) return snprintf(out, size, "n/a"), out;
    char digits[400];
    snprintf(digits, sizeof digits, "%.*f", decimals, fabs(v));
    size_t int_len = strcspn(digits, "."), o = 0;
    /* a change keeps its direction even when it rounds to nothing; a plain amount drops a "-0.00" */
    int zero = strspn(digits, "0.") == strlen(digits);
    if (v < 0 && (sign || !zero)) out[o++] = '-';
    else if (sign) out[o++] = '+';
    for (size_t i = 0; digits[i] && o + 2 < size; i++) {
        if (i > 0 && i < int_len && (int_len - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}

const char *numfmt_percent(char *out, size_t size, double change, double base)
{
    if (!isfinite(change) || !isfinite(base) || base <= 0) return snprintf(out, size, "n/a"), out;
    char n[64];
    snprintf(out, size, "%s%%", numfmt_amount(n, sizeof n, change / base * 100, 2, 1));
    return out;
}
