/* The `ctx` table a strategy's on_cycle receives (design section 5), shared by `run` and
 * `backtest`: only ctx.market differs (Kraken, or a view onto history). */
#ifndef TITAN_CTX_H
#define TITAN_CTX_H
#include <stdint.h>

#include <lua.h>

typedef struct ctx_info {
    const char *mode;           /* "PAPER" | "LIVE" | "BACKTEST" */
    const char *cycle_id;
    const char *pair;
    int interval;
    int64_t now_ms;
    double cash;                /* quote available */
    double position;            /* base held */
    double price;               /* reference price for position_value */
    const char *base_asset, *quote_asset;
    int balances_idx;           /* stack index of {asset = amount}, 0 = none */
    int open_orders_idx;        /* stack index of the open orders table, 0 = none */
    int state_idx;              /* stack index of the strategy's persisted state table */
    int market_idx;             /* stack index of the market table (ohlc, ticker) */
    int ai_enabled;             /* 0 in backtests: ctx.ai is then empty */
} ctx_info;

/* Pushes ctx. ctx.decision is an empty table the strategy may fill; the host stores it with
 * the cycle's decision record. */
void ctx_push(lua_State *L, const ctx_info *info);
/* Pushes the market table for `run`: ohlc(pair, interval, n) and ticker(pair) from Kraken,
 * each logged to the blackbox, each returning `nil, err` on failure. */
void ctx_push_live_market(lua_State *L);
#endif
