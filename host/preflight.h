/* `titan-host check STRATEGY.lua --online`: the preflight an operator runs before LIVE —
 * Kraken keys and permissions, clock skew, the store and its schema, each AI key, the halt flag. */
#ifndef TITAN_PREFLIGHT_H
#define TITAN_PREFLIGHT_H
#include "runtime.h"

/* Runs every online check for the strategy table on top of the runtime's stack, prints one
 * line per check and returns the exit code: 0 when every requirement of the current
 * SYSTEM_MODE holds, 1 when any fails. */
int preflight_run(runtime *rt, const char *pair);
#endif
