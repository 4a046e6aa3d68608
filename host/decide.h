/* The decision half of a cycle, shared by `run` and `replay` so a replay goes through the very
 * code the cycle ran: the market read from Kraken's answers, ctx built from the cycle's inputs,
 * on_cycle(ctx) under the budgets, the intents read and put through the risk gates, and the
 * decision record's JSON. Nothing here touches the store or places an order. */
#ifndef TITAN_DECIDE_H
#define TITAN_DECIDE_H
#include <stddef.h>
#include <stdint.h>

#include "intent.h"
#include "kraken_parse.h"
#include "paper.h"
#include "risk.h"
#include "runtime.h"
#include "store.h"

/* What the strategy decides on. The book is LIVE's Kraken balances and open orders, or PAPER's
 * ledger (both may be empty). */
typedef struct decide_inputs {
    const char *mode;                  /* "PAPER" | "LIVE" */
    const char *cycle_id, *pair, *file;
    int interval;
    int64_t now_ms;
    int dry_run;
    /* the market (decide_read_market) */
    pair_rules rules;
    char pair_key[KRAKEN_ID_SIZE], base[KRAKEN_ID_SIZE], quote[KRAKEN_ID_SIZE];
    double bid, ask, last;
    /* the book */
    double cash, position, realized_today;
    const kraken_balances *balances;   /* LIVE, else NULL */
    const kraken_orders *open_orders;  /* LIVE, else NULL */
    const store_balance *ledger;       /* PAPER, else NULL */
    size_t ledger_n;
    const char *state_json;            /* ctx.state before the call, JSON (NULL = empty) */
    risk_caps caps;
    paper_config paper;
} decide_inputs;

/* What came of it. */
typedef struct decide_result {
    int strategy_ran;
    int64_t strategy_ms;
    char *strategy_decision;           /* ctx.decision as JSON, NULL = none */
    char *state_json;                  /* ctx.state after the call as JSON (NULL: not kept) */
    intent intents[INTENT_MAX];
    int n_intents, have_intents;
    int counts[4];                     /* intents per intent_status */
    const char *failure;               /* NULL, or why nothing is traded: "cpu_budget", "time_budget",
                                          "memory_budget", "stopped", "error" (the strategy raised) or
                                          "garbage" (its return value is not a list of intents) */
    char error[1024];                  /* the message of a failure */
} decide_result;
void decide_result_free(decide_result *r);

/* AssetPairs and Ticker of in->pair into in's market fields. 0, or -1 with the one-line reason
 * (naming the Kraken call and its error code) in why. */
int decide_read_market(decide_inputs *in, char *why, size_t whylen);
/* LIVE: Balance and OpenOrders into *balances and *open (the caller frees them), and in's cash
 * and position. 0, or -1 with the reason in why (a negative balance fails closed). */
int decide_read_live_book(decide_inputs *in, kraken_balances *balances, kraken_orders *open, char *why,
                          size_t whylen);

/* Calls on_cycle(ctx) of the strategy table at strategy_idx under the budgets, reads the intents
 * and applies the risk gates. keep_state: encode ctx.state after the call into r->state_json.
 * Logs strategy.error, strategy.garbage and each risk.decision. Returns 0, or -1 with r->failure
 * and r->error set (nothing is to be traded). */
int decide_run(runtime *rt, int strategy_idx, const decide_inputs *in, int keep_state, decide_result *r);

/* The decision record: context, prices and book, caps, ctx.decision, intents with their verdicts.
 * have_market: the market and book were read. with_timing adds strategy_ms (the one field that
 * differs between two runs of the same decision: a replay compares the record without it). */
char *decide_record_json(const decide_inputs *in, const decide_result *r, int have_market, int with_timing);
#endif
