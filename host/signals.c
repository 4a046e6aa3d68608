/* Stop requests from SIGINT/SIGTERM and an ignored SIGPIPE (see signals.h). The handler only
 * stores the signal and arms the Lua kill hook: both are async-signal-safe. */
#include "signals.h"

#include <signal.h>
#include <string.h>

#include "runtime.h"

static volatile sig_atomic_t signals_stop;
static struct sigaction signals_old_int, signals_old_term;
static int signals_caught;

static void signals_on_stop(int sig)
{
    if (!signals_stop) signals_stop = sig;
    runtime_stop_current(sig);
}

void signals_ignore_fatal_io(void)
{
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
}

void signals_catch_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = signals_on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;        /* store and file I/O carry on; curl and sleeps handle EINTR */
    signals_stop = 0;
    sigaction(SIGINT, &sa, &signals_old_int);
    sigaction(SIGTERM, &sa, &signals_old_term);
    signals_caught = 1;
}

void signals_restore(void)
{
    if (!signals_caught) return;
    sigaction(SIGINT, &signals_old_int, NULL);
    sigaction(SIGTERM, &signals_old_term, NULL);
    signals_caught = 0;
}

int signals_stop_requested(void) { return signals_stop; }

const char *signals_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal"; }
