/* Helpers the commands share, and the table of commands main dispatches on. */
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "console.h"
#include "runtime.h"
#include "store.h"

const command *const cmd_all[] = {
    &cmd_check_command,  &cmd_run_command,    &cmd_backtest_command,   &cmd_optimize_command,
    &cmd_data_command,   &cmd_replay_command, &cmd_divergence_command, &cmd_status_command,
    &cmd_script_command, &cmd_locks_command,  &cmd_halt_command,       &cmd_version_command,
    &cmd_help_command,
    NULL,
};

const command *cmd_find(const char *name)
{
    for (size_t i = 0; cmd_all[i]; i++)
        if (strcmp(cmd_all[i]->name, name) == 0) return cmd_all[i];
    return NULL;
}

int cmd_wants_help(const command *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
        if (c == &cmd_script_command && argv[i][0] != '-') return 0;
    }
    return 0;
}

int cmd_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    console_verror(fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

runtime *cmd_open_runtime(const char *script_path)
{
    char err[512];
    runtime *rt = runtime_open(script_path, err, sizeof err);
    if (!rt) console_error("%s", err);
    return rt;
}

store *cmd_open_store(void)
{
    char err[1024] = "";
    store *st = store_open_from_env(err, sizeof err);
    if (!st) console_error("cannot open the store: %s", err);
    return st;
}

/* A date: YYYY-MM-DD (midnight UTC), an ISO-8601 UTC time, or Unix seconds. */
int cmd_parse_date(const char *s, int64_t *ms)
{
    char buf[64];
    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        snprintf(buf, sizeof buf, "%sT00:00Z", s);
        return clock_parse_iso(buf, ms);
    }
    if (clock_parse_iso(s, ms) == 0) return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end || v < 0) return -1;
    *ms = (int64_t)v * 1000;
    return 0;
}
