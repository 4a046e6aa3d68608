/* Progress bars and periodic progress lines (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "console.h"

#define PROGRESS_TTY_MS 100          /* redraw a terminal bar at most this often */

/* TITAN_PROGRESS_MS: how often plain lines come (tests shorten it); a bad value is the default. */
static int64_t progress_line_ms(void)
{
    const char *v = getenv("TITAN_PROGRESS_MS");
    char *end = NULL;
    long ms = v ? strtol(v, &end, 10) : 0;
    return v && *v && end && *end == '\0' && ms > 0 && ms <= 3600000 ? ms : PROGRESS_LINE_MS;
}

void progress_start(progress *p, const char *label, int enabled, int tty)
{
    *p = (progress){.label = label, .enabled = enabled, .tty = tty, .line_ms = progress_line_ms()};
    p->start_ms = p->drawn_ms = clock_monotonic_ms();
    if (tty) p->drawn_ms -= PROGRESS_TTY_MS;           /* a bar shows at once; lines come every PROGRESS_LINE_MS */
}

char *progress_duration(int64_t ms, char out[32])
{
    int64_t s = (ms + 500) / 1000;
    if (s >= 3600) snprintf(out, 32, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60) snprintf(out, 32, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else snprintf(out, 32, "%llds", (long long)s);
    return out;
}

void progress_update(progress *p, double done, double total, const char *detail)
{
    if (!p->enabled) return;
    int64_t now = clock_monotonic_ms();
    int finished = total > 0 && done >= total;
    if (now - p->drawn_ms < (p->tty ? PROGRESS_TTY_MS : p->line_ms) && !finished) return;
    p->drawn_ms = now;
    double share = total > 0 ? done / total : 0;
    if (share < 0) share = 0;
    if (share > 1) share = 1;
    int64_t elapsed = now - p->start_ms;
    char eta[32] = "?", spent[32];
    if (share > 0.001) progress_duration((int64_t)((double)elapsed * (1 - share) / share), eta);
    progress_duration(elapsed, spent);
    char line[256];
    int n;
    if (p->tty) {
        char bar[31];
        int filled = (int)(share * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
        bar[30] = '\0';
        n = snprintf(line, sizeof line, "\r\033[K%s [%s] %3d%% %s, ETA %s%s%s", p->label, bar, (int)(share * 100), spent,
                     eta, detail ? "  " : "", detail ? detail : "");
        p->drawn = 1;
    } else {
        n = snprintf(line, sizeof line, "%s: %d%% after %s, about %s left%s%s\n", p->label, (int)(share * 100), spent,
                     eta, detail ? "; " : "", detail ? detail : "");
    }
    if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
    console_write(stderr, line, (size_t)n);
}

void progress_end(progress *p)
{
    if (p->enabled && p->tty && p->drawn) console_write(stderr, "\r\033[K", 4);
    p->drawn = 0;
}
