/* titan-host: the entry point. Sets up the process (UTC, secrets, blackbox), finds the command
 * named by argv[1] and runs it (host/cmd/); everything else lives in libtitan.a. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blackbox.h"
#include "cmd/cmd.h"
#include "http.h"
#include "kraken.h"
#include "secrets.h"
#include "settings.h"
#include "signals.h"

int main(int argc, char **argv)
{
    /* UTC everywhere, whatever the machine's zone. */
    setenv("TZ", "UTC", 1);
    tzset();
    signals_ignore_fatal_io();  /* `titan-host ... | head`, a file-size limit: a failed write, not a death */
    secrets_init();
    blackbox_init();
    /* libcurl (and OpenSSL with it) starts with the first request (http.c): `version`, `help`,
     * `backtest` and SQLite-only commands never pay for it. */
    const char *name = argc < 2 ? "help" : argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) name = "help";
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) name = "version";
    const command *found = cmd_find(name);
    /* `titan-host COMMAND --help` (or -h) is `titan-host help COMMAND`, before anything is checked */
    int wants_help = found && found != &cmd_help_command && cmd_wants_help(found, argc - 1, argv + 1);
    /* A malformed setting stops every command that reads the environment, before it does anything. */
    int reads_env = found && found != &cmd_help_command && found != &cmd_version_command;
    char bad[512];
    int code = wants_help ? (fputs(found->help, stdout), EXIT_OK)
               : !found    ? cmd_usage_error("unknown command '%s' (see 'titan-host help')", argv[1])
               : argc < 2 ? (found->run(1, argv), EXIT_USAGE)
               : reads_env && settings_check_all(bad, sizeof bad) != 0 ? cmd_usage_error("%s; nothing was done", bad)
                          : found->run(argc - 1, argv + 1);
    blackbox_close();
    http_shutdown();          /* and curl_global_cleanup, when a request started libcurl */
    kraken_shutdown();        /* wipes the keyed signing state before the secrets go */
    secrets_shutdown();
    return code;
}
