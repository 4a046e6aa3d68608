/* The engine options `backtest` and `optimize` share (host/cmd/backtest.c parses them): defaults,
 * one option at a time, and --set NAME=VALUE. Usage errors are printed (cmd_usage_error). */
#ifndef TITAN_CMD_BACKTEST_OPTIONS_H
#define TITAN_CMD_BACKTEST_OPTIONS_H
#include <stddef.h>

struct param_setting;
struct backtest_options;
/* --set NAME=VALUE into settings[*n] (at most BACKTEST_MAX_SET); -1 when malformed or repeated. */
int cmd_backtest_setting(const char *text, struct param_setting *settings, size_t *n);
/* Defaults: the paper config from the environment, Kraken's XBTUSD rules; settings receives --set. */
int cmd_backtest_defaults(struct backtest_options *opt, struct param_setting *settings);
/* One option: 1 used, 0 not one of them, -1 a usage error (printed). */
int cmd_backtest_option(const char *who, const char *option, const char *value, struct backtest_options *opt,
                        struct param_setting *settings);
#endif
