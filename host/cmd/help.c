/* `titan-host help [COMMAND]`: every command's synopsis and the environment, or one command's
 * options and exit codes (the text kept beside each command). */
#include <stdio.h>

#include "cmd.h"
#include "version.h"

static const char help_environment[] =
    "environment:\n"
    "  SYSTEM_MODE         PAPER (default) or LIVE\n"
    "  TITAN_DB            SQLite store file (default ./titan.db; empty is an error), unless Supabase is set\n"
    "  SUPABASE_URL        with SUPABASE_KEY: the Supabase (PostgREST) store instead of SQLite\n"
    "  TITAN_HALT          1 (any value but empty/0/off/false/no) = record cycles as halted, trade nothing\n"
    "  TITAN_MAX_ORDER_QUOTE, TITAN_MAX_POSITION_QUOTE, TITAN_MAX_ORDERS_PER_CYCLE, TITAN_MAX_DAILY_LOSS_QUOTE\n"
    "                      host risk caps (defaults 100, 500, 2, 50); a strategy's risk table only tightens them\n"
    "  TITAN_PAPER_CASH, TITAN_PAPER_FEE_BPS, TITAN_PAPER_SLIPPAGE_BPS\n"
    "                      paper broker: starting cash (10000), taker fee (40 bps), slippage (5 bps)\n"
    "  TITAN_LEASE_S       cycle lock lease in seconds (default 600)\n"
    "  TITAN_CAPSULE_DAYS  days the store keeps each cycle's capsule for `replay` (default 30; 0 = none)\n"
    "  TITAN_KRAKEN_TIMEOUT_MS  deadline of each Kraken call, ms (default and at most 15000)\n"
    "  TITAN_STORE_TIMEOUT_MS   SQLite lock wait and PostgREST request deadline, ms (default 15000)\n"
    "  TITAN_KRAKEN_LUA_WRITES  1 = `script` tools may place/cancel orders from Lua (never strategies)\n"
    "  KRAKEN_API_URL, OPENAI_BASE_URL, GROQ_BASE_URL, GEMINI_BASE_URL   endpoint overrides (tests)\n"
    "  TITAN_BLACKBOX      flight-recorder file (default ./blackbox.log)\n"
    "  TITAN_LUA_CPU_S     CPU-time budget of each call into Lua, seconds (default 30)\n"
    "  TITAN_LUA_WALL_S    wall-clock budget of each call into Lua, seconds (default 300)\n"
    "  TITAN_LUA_MEM_MB    memory cap of the Lua state, MiB (default 256)\n"
    "  TITAN_LOG_LEVEL     lowest level echoed on stderr: debug|info|warn|error (default info)\n"
    "  TITAN_HOME          folder holding strategies/lib (default: found next to the binary)\n"
    "  TITAN_FAKE_NOW_MS   pins the clock (tests and replays only)\n"
    "  TITAN_TEST_PAUSE_AT (tests only) run waits at that step boundary for SIGTERM, SIGINT or SIGUSR1\n"
    "  a malformed or absurd value of any of these: exit 2 naming it, nothing done (numbers: plain decimals)\n"
    "  secret variables, never visible to Lua and redacted from all output:\n"
    "  KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY\n";

static int cmd_help(int argc, char **argv)
{
    if (argc > 1) {
        const command *c = cmd_find(argv[1]);
        if (!c) return cmd_usage_error("no command '%s' (see 'titan-host help')", argv[1]);
        fputs(c->help, stdout);
        return EXIT_OK;
    }
    printf("titan-host %s — runs Lua trading strategies on Kraken, one cycle per slot\n\n", TITAN_VERSION);
    printf("usage: titan-host COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; cmd_all[i]; i++) printf("  %s\n", cmd_all[i]->synopsis);
    printf("\n%s\n'titan-host help COMMAND' shows a command's options and exit codes.\n", help_environment);
    return EXIT_OK;
}

const command cmd_help_command = {"help", cmd_help, "help [COMMAND]              this text, or one command's",
                                  "usage: titan-host help [COMMAND]\n"};
