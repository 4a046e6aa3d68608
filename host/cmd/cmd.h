/* The subcommands of titan-host (like git's builtin/): one file per command, each with its help
 * text beside it, and the helpers several share (common.c). Each returns the process exit code
 * documented in `titan-host help` (exit_codes.h). Nothing below the commands includes this. */
#ifndef TITAN_CMD_H
#define TITAN_CMD_H
#include <stdint.h>

#include "exit_codes.h"

struct runtime;
struct store;

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *synopsis;               /* one line for `help` */
    const char *help;                   /* the text of `help NAME` */
} command;

extern const command cmd_check_command, cmd_run_command, cmd_backtest_command, cmd_optimize_command,
    cmd_data_command, cmd_script_command, cmd_locks_command, cmd_halt_command, cmd_version_command, cmd_help_command;
extern const command cmd_replay_command, cmd_divergence_command, cmd_status_command;
/* Every command, in the order `help` lists them; NULL-terminated. */
extern const command *const cmd_all[];
/* The command called `name`, or NULL. */
const command *cmd_find(const char *name);

/* 1 when argv (argv[0] the command) asks for the command's help: a -h or --help argument (for
 * `script`, only before the file: what follows it is the script's). */
int cmd_wants_help(const command *c, int argc, char **argv);

/* Prints "titan-host: <message>" redacted on stderr and returns EXIT_USAGE. */
int cmd_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens a runtime for `script_path`; prints the reason and returns NULL on failure. */
struct runtime *cmd_open_runtime(const char *script_path);
/* Opens the active store (store_open_from_env); prints the reason and returns NULL on failure. */
struct store *cmd_open_store(void);
/* A date of an option: YYYY-MM-DD (midnight UTC), an ISO-8601 UTC time or Unix seconds, into *ms.
 * 0, or -1 when it is none of those. */
int cmd_parse_date(const char *s, int64_t *ms);
#endif
