/* Structural differences between two JSON documents, such as a recorded and a replayed decision
 * record: one entry per path where they differ ("intents[1].status", "strategy.ai.action"), with
 * each side's value as JSON text. Decoded by the host's decoder in a private Lua state. */
#ifndef TITAN_JSONDIFF_H
#define TITAN_JSONDIFF_H
#include <stddef.h>

typedef struct jsondiff_entry {
    char *path;
    char *a, *b;               /* each side's value as JSON, NULL when that side has none */
} jsondiff_entry;

typedef struct jsondiff {
    jsondiff_entry *items;     /* the first `max` differences, in document order (object keys sorted) */
    size_t n, cap;
    size_t total;              /* every difference found */
} jsondiff;

/* Compares JSON texts a and b. 0, or -1 when either is not JSON or memory ran out. Paths listed in
 * `ignore` (NULL-terminated, may be NULL) are skipped with everything under them. */
int jsondiff_compare(const char *a, const char *b, const char *const *ignore, size_t max, jsondiff *out);
void jsondiff_free(jsondiff *d);
#endif
