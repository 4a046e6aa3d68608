/* How a cycle meets the outside ending it: SIGINT and SIGTERM (a cancelled or timed-out CI job)
 * become a stop request that the cycle honours at its next safe point — never inside a send,
 * whose outcome is always recorded — and that ends the Lua call running; a console that goes
 * away (SIGPIPE, EPIPE) is ignored: the blackbox file keeps everything. */
#ifndef TITAN_SIGNALS_H
#define TITAN_SIGNALS_H

/* SIGPIPE and SIGXFSZ ignored for the whole process: a console that went away (`titan-host ... |
 * head`) or a file-size limit (RLIMIT_FSIZE, a full quota) makes a write fail (EPIPE, EFBIG),
 * which the store and the blackbox report, instead of killing a cycle between a send and its record. */
void signals_ignore_fatal_io(void);
/* SIGINT and SIGTERM recorded as a stop request (and passed to runtime_stop_current) until
 * signals_restore. A second signal changes nothing: only SIGKILL can cut a send short. */
void signals_catch_stop(void);
void signals_restore(void);
/* The signal that asked to stop (SIGINT or SIGTERM), or 0. */
int signals_stop_requested(void);
/* "SIGINT", "SIGTERM" or "a signal". */
const char *signals_name(int sig);
#endif
