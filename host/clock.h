/* The one clock of titan-host. Everything that needs "now" asks here, so tests and
 * replays can pin time with TITAN_FAKE_NOW_MS (milliseconds since the Unix epoch, UTC). */
#ifndef TITAN_CLOCK_H
#define TITAN_CLOCK_H
#include <stdint.h>
#include <stddef.h>

#define CLOCK_ISO_SIZE 80

int64_t clock_now_ms(void);
/* Monotonic milliseconds for measuring durations; never pinned. */
int64_t clock_monotonic_ms(void);
/* The same clock at its tick (a few ms) and a fraction of the cost: for loops that only need to
 * notice tens of milliseconds passing, once per item. */
int64_t clock_coarse_ms(void);
/* Start of the UTC slot of `minutes` that contains `ms`. */
int64_t clock_slot_ms(int64_t ms, int minutes);
/* Writes `2026-11-27T04:45:00.000Z` (24 chars + NUL; sized for any year) into out; returns out. */
char *clock_iso(int64_t ms, char out[CLOCK_ISO_SIZE]);
/* Parses ISO-8601 UTC (`YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z` or `+00:00`).
 * Returns 0 and sets *ms, or -1 when the text is not such a time. */
int clock_parse_iso(const char *text, int64_t *ms);
#endif
