/* One trading cycle, design section 4 step by step: slot and cycle id, lock, halt check,
 * strategy under budgets, intent validation, risk gates, execution, record, exit code. */
#ifndef TITAN_CYCLE_H
#define TITAN_CYCLE_H

typedef struct cycle_options {
    const char *strategy_path;
    const char *cycle_id;       /* --cycle-id, NULL = derived from the slot */
    int dry_run;                /* everything but orders and store writes */
} cycle_options;

/* Runs the cycle and returns the process exit code (0, 1, 2 or 3 as in `help run`). */
int cycle_run(const cycle_options *opt);
#endif
