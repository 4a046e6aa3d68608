/* Notifications to the operator (design section 12): after a cycle is recorded, C tells the
 * configured channels (Telegram, Discord, Slack, a signed JSON webhook) what happened, all at
 * once over the HTTP layer within one total deadline. Delivery never changes the cycle's status
 * or exit code, and each message is claimed in the store first, so a rerun of the slot sends
 * nothing twice. */
#ifndef TITAN_NOTIFY_H
#define TITAN_NOTIFY_H
#include "intent.h"
#include "orders.h"

struct store;

/* The events, in TITAN_NOTIFY's order (settings.c): bit i is its i-th word. */
enum {
    NOTIFY_FILL = 1u << 0,      /* orders filled: side, volume, price, fee, reason */
    NOTIFY_FAILED = 1u << 1,    /* the cycle failed: the error */
    NOTIFY_IN_DOUBT = 1u << 2,  /* orders in doubt (exit 3): urgent */
    NOTIFY_HALTED = 1u << 3,    /* the strategy's cycles became halted */
    NOTIFY_AI_CAP = 1u << 4,    /* the AI spend cap was reached (once per UTC day) */
    NOTIFY_DAILY = 1u << 5,     /* yesterday's summary, with the first cycle after 00:00 UTC */
    NOTIFY_DONE = 1u << 6,      /* a routine done cycle without fills (off by default) */
};

/* What cycle_run knows once the cycle is recorded. */
typedef struct notify_cycle {
    struct store *st;           /* the cycle's store; NULL when it could not be opened */
    const char *cycle_id, *strategy, *mode, *pair;
    const char *status;         /* as recorded; NULL = a usage error (nothing to tell) */
    const char *error;          /* NULL = none */
    int exit_code, dry_run;
    const order_list *orders;
    const intent *intents;      /* the reasons of the orders */
    int n_intents;
    const char *decision_json;  /* ctx.decision as JSON (the AI's outcome), NULL = none */
} notify_cycle;

/* Sends what the cycle's outcome calls for, to every configured channel, then returns; at most
 * TITAN_NOTIFY_DEADLINE_MS (default 5 s) of delivery. Every attempt goes to the blackbox
 * (notify.sent / notify.failed) without a secret. Nothing for dry runs, usage errors, or a slot
 * skipped because it was already executed or held. */
void notify_after_cycle(const notify_cycle *c);
#endif
