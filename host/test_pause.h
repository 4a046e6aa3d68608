/* Test-only pauses at the cycle's step boundaries. TITAN_TEST_PAUSE_AT=<point> makes a run stop
 * at that point and wait, so a test can signal it there: kill -9, SIGTERM/SIGINT (a stop request,
 * honoured at once), or SIGUSR1 (go on). Compiled into every build and inert unless the variable
 * is set, like TITAN_FAKE_NOW_MS; never for production. */
#ifndef TITAN_TEST_PAUSE_H
#define TITAN_TEST_PAUSE_H

/* The points, in the order a cycle reaches them: before each step (configure, lock, recover,
 * halt, market, decide, execute), inside execute (before_first_send: the plan recorded, nothing
 * sent; between_sends: before each later order; after_last_send), and record (before the row is
 * written). */
#define TEST_PAUSE_WAIT_MS 30000    /* a test that never signals does not hang the run for ever */

/* When TITAN_TEST_PAUSE_AT names `point`: logs test.paused (point, pid) to the blackbox and waits
 * until SIGUSR1, a stop request or TEST_PAUSE_WAIT_MS. Otherwise returns at once. */
void test_pause(const char *point);
#endif
