/* `replay`'s engine: a strategy run offline against a cycle's capsule, through the decision step
 * of `run` (decide.c) — the same ctx, intent validation and risk gates — with the recorded
 * environment, seed, book and ctx.state, every Kraken and AI answer served from the capsule's
 * tape. No network, no store, no order. With the recorded strategy it must reproduce the recorded
 * decision record byte for byte; with another file or --set it shows what would have changed. */
#ifndef TITAN_REPLAY_H
#define TITAN_REPLAY_H
#include <stddef.h>
#include <stdint.h>

#include "capsule.h"

typedef struct replay_options {
    const char *strategy_path;         /* --strategy FILE; NULL = the capsule's own copy */
    const char *const *sets;           /* --set NAME=VALUE, NULL-terminated (may be NULL) */
} replay_options;

typedef enum {
    REPLAY_RAN,                        /* the strategy was called (it may have failed: see failure) */
    REPLAY_UNPLAYABLE,                 /* the capsule could not feed it (error says why) */
    REPLAY_USAGE,                      /* the strategy file or a --set is wrong (error says why) */
} replay_status;

typedef struct replay_result {
    replay_status status;
    int identical;                     /* the decision record is the recorded one, byte for byte */
    char *decision_json;               /* the replayed decision record, without strategy_ms */
    char file[1024], sha256[65];       /* the strategy that ran */
    int recorded_strategy;             /* it was the capsule's own text, unchanged by --set */
    const char *failure;               /* the strategy's failure (decide_result.failure), NULL = none */
    char error[1024];
    int64_t strategy_ms;
    int unrecorded, changed_requests, unrecorded_env;   /* tape_play_report */
    char *notes;                       /* the tape's notes, one per line ("" when none) */
} replay_result;

/* Replays one capsule. Whatever the status, free the result with replay_result_free. */
replay_status replay_run(const capsule *cap, const replay_options *opt, replay_result *out);
void replay_result_free(replay_result *r);

/* What a decision record says was decided: "hold", or each intent the gates let through as
 * "buy 0.00094" / "sell 0.005" (final volume), comma-separated; "no decision" when the record
 * has no intents (the strategy failed). */
void replay_action_summary(const char *decision_json, char *out, size_t outlen);
#endif
