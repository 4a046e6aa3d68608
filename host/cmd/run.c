/* `titan-host run STRATEGY.lua [--cycle-id ID] [--dry-run] [--retry]`: one cycle, what cron calls. */
#include <string.h>

#include "cmd.h"
#include "cycle.h"

static int cmd_run(int argc, char **argv)
{
    cycle_options opt = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0) opt.dry_run = 1;
        else if (strcmp(argv[i], "--retry") == 0) opt.retry = 1;
        else if (strcmp(argv[i], "--cycle-id") == 0 && i + 1 < argc) opt.cycle_id = argv[++i];
        else if (argv[i][0] == '-') return cmd_usage_error("run: unknown option '%s' (see 'titan-host help run')", argv[i]);
        else if (!opt.strategy_path) opt.strategy_path = argv[i];
        else return cmd_usage_error("run: one strategy at a time (see 'titan-host help run')");
    }
    if (!opt.strategy_path)
        return cmd_usage_error("usage: titan-host run STRATEGY.lua [--cycle-id ID] [--dry-run] [--retry]");
    if (opt.retry && opt.dry_run) return cmd_usage_error("run: --retry and --dry-run do not go together");
    if (opt.cycle_id && (!*opt.cycle_id || strlen(opt.cycle_id) > 150))
        return cmd_usage_error("run: --cycle-id must be 1-150 characters");
    return cycle_run(&opt);
}

const command cmd_run_command = {
    "run", cmd_run,
    "run STRATEGY.lua [--cycle-id ID] [--dry-run] [--retry]   one trading cycle (what cron calls)",
    "usage: titan-host run STRATEGY.lua [--cycle-id ID] [--dry-run] [--retry]\n\n"
    "One cycle: compute the slot and cycle id (<strategy>@<slot start, UTC>), take the slot's lock in the\n"
    "store, reconcile earlier orders whose fate is unknown (rows in doubt, or left running by a runner\n"
    "that died), check the halt switch, read the market and the portfolio, call on_cycle(ctx) under the\n"
    "Lua budgets, validate the intents, apply the risk gates, execute (PAPER: paper broker on the store's\n"
    "ledger; LIVE: Kraken AddOrder, validated first, with a deterministic cl_ord_id), record the outcome.\n"
    "SIGINT/SIGTERM stop it before the next order is sent (never during a send); the row is recorded.\n"
    "A cycle that read the market keeps its capsule (everything the decision read, for `titan-host replay`)\n"
    "beside the blackbox and in the store (TITAN_CAPSULE_DAYS, default 30).\n\n"
    "  --cycle-id ID   use ID instead of the slot's id (re-running a released slot, tests)\n"
    "  --dry-run       everything except placing orders and writing the store\n"
    "  --retry         run a slot recorded 'failed' again, only when its record proves no order was sent\n"
    "                  (every order not_sent, or refused at validate); otherwise refused with the reason\n\n"
    "SYSTEM_MODE=PAPER (default) or LIVE. LIVE needs KRAKEN_API_KEY and KRAKEN_SECRET, and inside GitHub\n"
    "Actions also SUPABASE_URL and SUPABASE_KEY.\n\n"
    "exit codes:\n"
    "  0  the cycle ran, or was skipped on purpose: slot already executed, held by another runner, halted\n"
    "  1  the cycle failed (recorded; no order left unrecorded): strategy error, Kraken or store unreachable,\n"
    "     a refused order, stopped by SIGINT/SIGTERM\n"
    "  2  usage or configuration error, or --retry refused (nothing was done)\n"
    "  3  orders in doubt: an order may have reached Kraken unconfirmed, or the record of a cycle that sent\n"
    "     could not be written; the next run reconciles first\n"};
