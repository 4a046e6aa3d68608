/* The backtest's HTML report: one self-contained file (inline CSS and SVG, no scripts, no
 * network) with the equity curve, the drawdown, price with trade markers, metrics and trades. */
#ifndef TITAN_REPORT_H
#define TITAN_REPORT_H
#include <stddef.h>

#include "backtest.h"

/* Writes the report to path; returns 0, or -1 with a message in err. */
int report_write_html(const backtest_result *res, const backtest_options *opt, const char *path, char *err,
                      size_t errlen);
#endif
