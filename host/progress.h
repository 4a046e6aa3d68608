/* Progress of a long run on stderr: a bar with the share done and the time left, redrawn in
 * place on a terminal; one plain line every PROGRESS_LINE_MS otherwise (CI logs, pipes; the
 * environment's TITAN_PROGRESS_MS changes that period). */
#ifndef TITAN_PROGRESS_H
#define TITAN_PROGRESS_H
#include <stdint.h>

#define PROGRESS_LINE_MS 10000

typedef struct progress {
    const char *label;               /* "optimize", "data fetch", ... */
    int enabled;                     /* 0: draws nothing */
    int tty;
    int64_t start_ms, drawn_ms, line_ms;
    int drawn;                       /* a bar is on the terminal line */
} progress;

/* enabled = 0 keeps stderr silent; tty decides bar or lines (usually isatty(2)). */
void progress_start(progress *p, const char *label, int enabled, int tty);
/* done of total (any unit); detail is a short text after the figures (may be NULL). */
void progress_update(progress *p, double done, double total, const char *detail);
/* Clears the bar (terminal) so the next output starts on a clean line. */
void progress_end(progress *p);
/* "1h02m", "3m05s", "12s": a duration for people. */
char *progress_duration(int64_t ms, char out[32]);
#endif
