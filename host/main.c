/* titan-host: entry point and command dispatch. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "blackbox.h"
#include "commands.h"
#include "console.h"
#include "http.h"
#include "kraken.h"
#include "runtime.h"
#include "secrets.h"
#include "strbuf.h"
#include "version.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

const command commands_list[] = {
    {"check", cmd_check, "check STRATEGY.lua [--online]   validate a strategy; --online: the pre-LIVE preflight",
     "usage: titan-host check STRATEGY.lua [--online]\n\n"
     "Loads the strategy in the sandbox and checks its table: name, pair, interval (one of Kraken's\n"
     "1, 5, 15, 30, 60, 240, 1440, 10080, 21600 minutes), on_cycle a function, risk fields positive\n"
     "numbers. Prints a short report.\n\n"
     "--online adds the preflight to run before switching to LIVE, one line per check: Kraken reachable\n"
     "and the clock skew against Kraken's Time under 5 s, the strategy's pair known, the keys accepted for\n"
     "each private read the bot needs (Balance, OpenOrders, ClosedOrders), the store reachable with its\n"
     "schema, the halt flag, and each configured AI key accepted (a model-list request). Read calls only.\n\n"
     "exit codes: 0 valid (and, with --online, every requirement of SYSTEM_MODE met); 1 a preflight\n"
     "check failed; 2 invalid (every problem is listed) or the file could not be loaded.\n"},
    {"run", cmd_run, "run STRATEGY.lua [--cycle-id ID] [--dry-run]   one trading cycle (what cron calls)",
     "usage: titan-host run STRATEGY.lua [--cycle-id ID] [--dry-run]\n\n"
     "One cycle: compute the slot and cycle id (<strategy>@<slot start, UTC>), take the slot's lock in the\n"
     "store, check the halt switch, read the market and the portfolio, call on_cycle(ctx) under the Lua\n"
     "budgets, validate the intents, apply the risk gates, execute (PAPER: paper broker on the store's\n"
     "ledger; LIVE: Kraken AddOrder, validated first, with a deterministic cl_ord_id), record the outcome.\n\n"
     "  --cycle-id ID   use ID instead of the slot's id (re-running a released slot, tests)\n"
     "  --dry-run       everything except placing orders and writing the store\n\n"
     "SYSTEM_MODE=PAPER (default) or LIVE. LIVE needs KRAKEN_API_KEY and KRAKEN_SECRET, and inside GitHub\n"
     "Actions also SUPABASE_URL and SUPABASE_KEY.\n\n"
     "exit codes:\n"
     "  0  the cycle ran, or was skipped on purpose: slot already executed, held by another runner, halted\n"
     "  1  the cycle failed (recorded; no order left unrecorded): strategy error, Kraken or store unreachable\n"
     "  2  usage or configuration error (nothing was done)\n"
     "  3  orders in doubt: an order may have reached Kraken unconfirmed; the next run reconciles first\n"},
    {"backtest", cmd_backtest, "backtest STRATEGY.lua DATA.csv [options]   the strategy over history, offline",
     "usage: titan-host backtest STRATEGY.lua DATA.csv [--from DATE] [--to DATE] [--cash N] [--fee-bps N]\n"
     "                           [--slippage-bps N] [--json FILE|-] [--trades FILE.csv] [--report FILE.html]\n"
     "                           [--set NAME=VALUE]... [--interval MIN]\n"
     "                           [--ordermin N] [--costmin N] [--lot-decimals N] [--pair-decimals N] [--tick-size N]\n\n"
     "Runs the strategy over candle history with the same ctx, intent validation, risk gates (TITAN_MAX_*) and\n"
     "paper-fill arithmetic as `run`, offline (ctx.mode = \"BACKTEST\", ctx.ai empty, ctx.state in memory).\n"
     "No look-ahead: after bar i closes the strategy sees bars up to i; its market orders fill at bar i+1's open\n"
     "moved by the slippage, its limit orders at their price if bar i+1 trades through it (buy: low <= price;\n"
     "sell: high >= price), else they are cancelled. Fees are charged on every fill.\n\n"
     "DATA.csv: Kraken's OHLCVT export (no header: time,open,high,low,close,volume,trades) or a headered CSV\n"
     "(timestamp,open,high,low,close,volume[,...]); times in seconds or milliseconds (headered: also ISO-8601).\n"
     "The interval is the most common step between bars; it must be the strategy's `interval`, or divide it\n"
     "(shorter bars are combined into the strategy's). Gaps are allowed and reported. Unsorted or duplicate\n"
     "times, non-numeric fields, high < low, a truncated last line: an error naming the line, nothing run.\n\n"
     "  --set NAME=VALUE         override an entry of the strategy's `params` table (repeatable); NAME must be\n"
     "                           in params and keep its kind (number, whole for integers; true/false; text)\n"
     "  --interval MIN           run at MIN-minute bars instead of the strategy's `interval` (a Kraken\n"
     "                           interval; the summary warns: periods counted in bars then span other times)\n"
     "  --from DATE, --to DATE   decide on bars opening in [from, to) (YYYY-MM-DD, ISO-8601 or Unix seconds);\n"
     "                           earlier bars are still visible to the strategy as history\n"
     "  --cash N                 starting quote balance (default TITAN_PAPER_CASH or 10000)\n"
     "  --fee-bps N              fee per fill (default TITAN_PAPER_FEE_BPS or 40)\n"
     "  --slippage-bps N         market-order slippage (default TITAN_PAPER_SLIPPAGE_BPS or 5)\n"
     "  --ordermin, --costmin, --lot-decimals, --pair-decimals, --tick-size\n"
     "                           the pair's rules (default Kraken's XBTUSD: 0.0001, 0.5, 8, 1, 0.1)\n"
     "  --json FILE              metrics and settings as JSON (sorted keys, same bytes for the same inputs);\n"
     "                           '-' writes it to stdout, and the table to stderr\n"
     "  --trades FILE.csv        every fill\n"
     "  --report FILE.html       one self-contained page: equity, drawdown, price with trades, metrics, fills\n\n"
     "exit codes: 0 the backtest ran; 1 the strategy failed (a Lua error, a budget, or a return value that\n"
     "is not a list of intents; the bar is named); 2 usage error, bad data, an invalid strategy or an interval\n"
     "mismatch (nothing was run), or an output file could not be written.\n"},
    {"optimize", cmd_optimize, cmd_optimize_synopsis, cmd_optimize_help},
    {"data", cmd_data, cmd_data_synopsis, cmd_data_help},
    {"script", cmd_script, "script FILE.lua [ARGS...]   run a Lua file with the titan bindings, no cycle",
     "usage: titan-host script FILE.lua [ARGS...]\n\n"
     "Runs FILE.lua in the same sandbox and budgets as strategies, with the titan.* bindings and\n"
     "no trading cycle. The global `arg` holds ARGS (arg[0] is the file).\n\n"
     "exit codes: 0 the script finished; 1 a Lua error or a budget ran out (printed with a\n"
     "traceback); 2 usage error.\n"},
    {"locks", cmd_locks, "locks list | release CYCLE_ID  inspect / flush cycle locks in the store",
     "usage: titan-host locks list [--limit N] [--status STATUS] [--json]\n"
     "       titan-host locks release CYCLE_ID [--force]\n\n"
     "list: the most recent cycles of the active store (Supabase when SUPABASE_URL and SUPABASE_KEY are\n"
     "set, else SQLite at TITAN_DB, default ./titan.db) as a table: id, status, holder, started, finished\n"
     "(or the lease of a running cycle), error. --json prints every column as a JSON array.\n"
     "release: deletes one cycle's row so its slot can run again (rollback step: delete the stuck\n"
     "cycle_id). A running cycle whose lease is still live is refused unless --force: only force it\n"
     "when that runner is gone. Prints exactly what it deleted.\n\n"
     "exit codes: 0 listed / released; 1 the store failed, the cycle does not exist, or release was\n"
     "refused; 2 usage error or the store could not be opened (configuration).\n"},
    {"halt", cmd_halt, "halt on|off|status          the remote kill switch in the store",
     "usage: titan-host halt on|off|status\n\n"
     "Sets, clears or shows the 'halt' control flag in the active store (the same store the cycles use,\n"
     "so it works from any machine that can reach it). While it is on, every cycle records 'halted'\n"
     "and trades nothing. TITAN_HALT=1 in a runner's environment has the same effect for that runner.\n\n"
     "exit codes: 0 done (status: whatever the flag is); 1 the store failed; 2 usage error or the store\n"
     "could not be opened.\n"},
    {"version", cmd_version, "version                     print the version", "usage: titan-host version\n"},
    {"help", cmd_help, "help [COMMAND]              this text, or one command's", "usage: titan-host help [COMMAND]\n"},
    {NULL, NULL, NULL, NULL},
};

static const char main_environment_help[] =
    "environment:\n"
    "  SYSTEM_MODE         PAPER (default) or LIVE\n"
    "  TITAN_DB            SQLite store file (default ./titan.db), used unless Supabase is configured\n"
    "  SUPABASE_URL        with SUPABASE_KEY: the Supabase (PostgREST) store instead of SQLite\n"
    "  TITAN_HALT          1 = record the cycle as halted and trade nothing\n"
    "  TITAN_MAX_ORDER_QUOTE, TITAN_MAX_POSITION_QUOTE, TITAN_MAX_ORDERS_PER_CYCLE, TITAN_MAX_DAILY_LOSS_QUOTE\n"
    "                      host risk caps (defaults 100, 500, 2, 50); a strategy's risk table only tightens them\n"
    "  TITAN_PAPER_CASH, TITAN_PAPER_FEE_BPS, TITAN_PAPER_SLIPPAGE_BPS\n"
    "                      paper broker: starting cash (10000), taker fee (40 bps), slippage (5 bps)\n"
    "  TITAN_LEASE_S       cycle lock lease in seconds (default 600)\n"
    "  TITAN_KRAKEN_LUA_WRITES  1 = `script` tools may place/cancel orders from Lua (never strategies)\n"
    "  KRAKEN_API_URL, OPENAI_BASE_URL, GROQ_BASE_URL, GEMINI_BASE_URL   endpoint overrides (tests)\n"
    "  TITAN_BLACKBOX      flight-recorder file (default ./blackbox.log)\n"
    "  TITAN_LUA_CPU_S     CPU-time budget of each call into Lua, seconds (default 30)\n"
    "  TITAN_LUA_WALL_S    wall-clock budget of each call into Lua, seconds (default 300)\n"
    "  TITAN_LUA_MEM_MB    memory cap of the Lua state, MiB (default 256)\n"
    "  TITAN_LOG_LEVEL     lowest level echoed on stderr: debug|info|warn|error (default info)\n"
    "  TITAN_HOME          folder holding strategies/lib (default: found next to the binary)\n"
    "  TITAN_FAKE_NOW_MS   pins the clock (tests and replays only)\n"
    "  secret variables, never visible to Lua and redacted from all output:\n"
    "  KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY\n";

static int cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("titan-host %s (%s, %s)\n", TITAN_VERSION, LUA_RELEASE, curl_version());
    return EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
    if (argc > 1) {
        for (const command *c = commands_list; c->name; c++) {
            if (strcmp(c->name, argv[1]) == 0) {
                fputs(c->help, stdout);
                return EXIT_OK;
            }
        }
        return commands_usage_error("no command '%s' (see 'titan-host help')", argv[1]);
    }
    printf("titan-host %s — runs Lua trading strategies on Kraken, one cycle per slot\n\n", TITAN_VERSION);
    printf("usage: titan-host COMMAND [ARGS...]\n\ncommands:\n");
    for (const command *c = commands_list; c->name; c++) printf("  %s\n", c->synopsis);
    printf("\n%s\n'titan-host help COMMAND' shows a command's options and exit codes.\n", main_environment_help);
    return EXIT_OK;
}

int commands_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf b = {0};
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    strbuf_printf(&b, "titan-host: %s\n", msg);
    console_write(stderr, strbuf_cstr(&b), b.len);
    strbuf_free(&b);
    return EXIT_USAGE;
}

struct runtime *commands_open_runtime(const char *script_path)
{
    char err[512];
    runtime *rt = runtime_open(script_path, err, sizeof err);
    if (!rt) console_printf(stderr, "titan-host: %s\n", err);
    return rt;
}

int main(int argc, char **argv)
{
    /* UTC everywhere, whatever the machine's zone. */
    setenv("TZ", "UTC", 1);
    tzset();
    secrets_init();
    blackbox_init();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("titan-host: cannot initialise libcurl\n", stderr);
        return EXIT_FAILED;
    }
    int code;
    if (argc < 2) {
        cmd_help(1, argv);
        code = EXIT_USAGE;
    } else {
        const char *name = argv[1];
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) name = "help";
        if (strcmp(name, "--version") == 0) name = "version";
        const command *found = NULL;
        for (const command *c = commands_list; c->name; c++)
            if (strcmp(c->name, name) == 0) found = c;
        code = found ? found->run(argc - 1, argv + 1)
                     : commands_usage_error("unknown command '%s' (see 'titan-host help')", argv[1]);
    }
    blackbox_close();
    http_shutdown();
    curl_global_cleanup();
    kraken_shutdown();        /* wipes the keyed signing state before the secrets go */
    secrets_shutdown();
    return code;
}
