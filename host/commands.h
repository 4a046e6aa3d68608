/* The subcommands of titan-host: one file per command (host/cmd_*.c). Each returns the
 * process exit code documented in `titan-host help`: 0 ok, 1 failed, 2 usage/config, 3 in doubt. */
#ifndef TITAN_COMMANDS_H
#define TITAN_COMMANDS_H
#include <stddef.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_IN_DOUBT = 3 };

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *synopsis;               /* one line for `help` */
    const char *help;                   /* the text of `help NAME` */
} command;

int cmd_script(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_locks(int argc, char **argv);
int cmd_halt(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_backtest(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_optimize(int argc, char **argv);

extern const command commands_list[];
extern const char cmd_data_synopsis[], cmd_data_help[];
extern const char cmd_optimize_synopsis[], cmd_optimize_help[];

/* --set NAME=VALUE (backtest, optimize) into settings[*n] (at most BACKTEST_MAX_SET); prints the
 * usage error and returns -1 when malformed or repeated. */
struct param_setting;
struct backtest_options;
int cmd_backtest_setting(const char *text, struct param_setting *settings, size_t *n);
/* The engine's options that backtest and optimize share: defaults (paper config from the
 * environment, Kraken's XBTUSD rules; settings receives --set), then one option at a time:
 * 1 used, 0 not one of them, -1 a usage error (printed). */
int cmd_backtest_defaults(struct backtest_options *opt, struct param_setting *settings);
int cmd_backtest_option(const char *who, const char *option, const char *value, struct backtest_options *opt,
                        struct param_setting *settings);

/* Prints "titan-host: <message>" redacted on stderr and returns EXIT_USAGE. */
int commands_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens a runtime for `script_path`; prints the reason and returns NULL on failure. */
struct runtime *commands_open_runtime(const char *script_path);
#endif
