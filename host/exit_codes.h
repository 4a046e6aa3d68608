/* The exit codes of titan-host, the same for every command (documented in `titan-host help`). */
#ifndef TITAN_EXIT_CODES_H
#define TITAN_EXIT_CODES_H
enum {
    EXIT_OK = 0,        /* done, or skipped on purpose */
    EXIT_FAILED = 1,    /* failed and recorded */
    EXIT_USAGE = 2,     /* usage or configuration error: nothing was done */
    EXIT_IN_DOUBT = 3,  /* an order may have reached Kraken unconfirmed */
};
#endif
