/* `titan-host run STRATEGY.lua [--cycle-id ID] [--dry-run]`: one cycle, what cron calls. */
#include <string.h>

#include "commands.h"
#include "cycle.h"

int cmd_run(int argc, char **argv)
{
    cycle_options opt = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0) opt.dry_run = 1;
        else if (strcmp(argv[i], "--cycle-id") == 0 && i + 1 < argc) opt.cycle_id = argv[++i];
        else if (argv[i][0] == '-') return commands_usage_error("run: unknown option '%s' (see 'titan-host help run')", argv[i]);
        else if (!opt.strategy_path) opt.strategy_path = argv[i];
        else return commands_usage_error("run: one strategy at a time (see 'titan-host help run')");
    }
    if (!opt.strategy_path) return commands_usage_error("usage: titan-host run STRATEGY.lua [--cycle-id ID] [--dry-run]");
    if (opt.cycle_id && (!*opt.cycle_id || strlen(opt.cycle_id) > 150))
        return commands_usage_error("run: --cycle-id must be 1-150 characters");
    return cycle_run(&opt);
}
