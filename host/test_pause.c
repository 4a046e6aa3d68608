/* TITAN_TEST_PAUSE_AT (test_pause.h): the wait, and the SIGUSR1 handler that ends it, which is
 * installed only while a run is paused. */
#include "test_pause.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blackbox.h"
#include "clock.h"
#include "settings.h"
#include "signals.h"
#include "strbuf.h"

static volatile sig_atomic_t test_pause_resumed;

static void test_pause_on_resume(int sig)
{
    (void)sig;
    test_pause_resumed = 1;
}

void test_pause(const char *point)
{
    int chosen = 0;
    char err[256];
    if (settings_choice("TITAN_TEST_PAUSE_AT", &chosen, err, sizeof err) != 0 || chosen == 0) return;
    const char *wanted = settings_choice_text("TITAN_TEST_PAUSE_AT", chosen);
    if (!wanted || strcmp(wanted, point) != 0) return;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = test_pause_on_resume;
    sigemptyset(&sa.sa_mask);
    test_pause_resumed = 0;
    sigaction(SIGUSR1, &sa, &old);
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "point", point);
    strbuf_json_int(&f, "pid", (long long)getpid());
    blackbox_emit(BLACKBOX_WARN, "test.paused", &f);
    int64_t until = clock_monotonic_ms() + TEST_PAUSE_WAIT_MS;
    while (!test_pause_resumed && !signals_stop_requested() && clock_monotonic_ms() < until) {
        struct timespec tick = {0, 5 * 1000000};
        nanosleep(&tick, NULL);
    }
    sigaction(SIGUSR1, &old, NULL);
}
