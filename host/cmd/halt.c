/* `titan-host halt on|off|status`: the remote kill switch, a control flag in the active store that
 * every cycle reads before trading — works from any machine that can reach the store. */
#include <stdlib.h>
#include <string.h>

#include "blackbox.h"
#include "clock.h"
#include "cmd.h"
#include "console.h"
#include "settings.h"
#include "store.h"

static int cmd_halt(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0 && strcmp(argv[1], "status") != 0))
        return cmd_usage_error("usage: titan-host halt on|off|status");
    const char *what = argv[1];
    char err[1024] = "";
    store *st = cmd_open_store();
    if (!st) return EXIT_USAGE;
    int code = EXIT_OK;
    if (strcmp(what, "status") != 0) {
        int on = strcmp(what, "on") == 0;
        if (store_control_set(st, STORE_HALT_KEY, on ? "1" : "0", err, sizeof err) != STORE_OK) {
            console_printf(stderr, "titan-host: cannot set the halt flag: %s\n", err);
            code = EXIT_FAILED;
        } else {
            blackbox_log(BLACKBOX_WARN, on ? "halt.on" : "halt.off", NULL);
            console_printf(stdout, on ? "halt is ON in %s: cycles record 'halted' and trade nothing until "
                                        "'titan-host halt off'\n"
                                      : "halt is OFF in %s: cycles trade again\n",
                           store_describe(st));
        }
    }
    if (code == EXIT_OK) {
        char *value = NULL;
        int64_t at = 0;
        store_rc rc = store_control_get(st, STORE_HALT_KEY, &value, &at, err, sizeof err);
        int halted = 0;
        if (rc == STORE_OK || rc == STORE_NOT_FOUND) {
            char iso[CLOCK_ISO_SIZE];
            if (rc == STORE_OK) store_halt_get(st, &halted, err, sizeof err);
            if (strcmp(what, "status") == 0) {
                if (rc == STORE_NOT_FOUND)
                    console_printf(stdout, "halt: off (never set) in %s\n", store_describe(st));
                else
                    console_printf(stdout, "halt: %s (value '%s', set %s) in %s\n", halted ? "on" : "off", value,
                                   at ? clock_iso(at, iso) : "-", store_describe(st));
            }
        } else {
            console_printf(stderr, "titan-host: cannot read the halt flag: %s\n", err);
            code = EXIT_FAILED;
        }
        free(value);
        const char *env = NULL;
        if (code == EXIT_OK && settings_halted(&env))
            console_printf(stdout, "note: TITAN_HALT=%.20s in this environment halts cycles too\n", env);
    }
    store_close(st);
    return code;
}

const command cmd_halt_command = {
    "halt", cmd_halt,
    "halt on|off|status          the remote kill switch in the store",
     "usage: titan-host halt on|off|status\n\n"
     "Sets, clears or shows the 'halt' control flag in the active store (the same store the cycles use,\n"
     "so it works from any machine that can reach it). While it is on, every cycle records 'halted'\n"
     "and trades nothing. TITAN_HALT=1 in a runner's environment has the same effect for that runner.\n\n"
     "exit codes: 0 done (status: whatever the flag is); 1 the store failed; 2 usage error or the store\n"
     "could not be opened.\n"};
