/* Kraken's answers as C values. Each answer is parsed once here, from the bytes Kraken sent,
 * into the structs below with explicit outcomes for a missing or wrong-typed field; the engine
 * reads only these structs and titan.kraken pushes its Lua tables from them. Nothing here
 * raises or aborts on any input: every kraken_parse_* function is safe to call on arbitrary
 * bytes (a fuzz target's entry point). */
#ifndef TITAN_KRAKEN_PARSE_H
#define TITAN_KRAKEN_PARSE_H
#include <stddef.h>
#include <stdint.h>

#define KRAKEN_ID_SIZE 64            /* txids, client order ids, pair and asset names */
#define KRAKEN_TEXTS_MAX 16          /* Kraken strings kept per answer (errors, warnings) */
#define KRAKEN_TRADE_IDS_MAX 20      /* an order's trade ids kept: QueryTrades takes 20 at a time */

/* The outcome of one call. code NULL = success; otherwise a stable kraken.* or http.* string:
 * kraken.invalid_nonce, kraken.rate_limited, kraken.invalid_key, kraken.invalid_signature,
 * kraken.permission_denied, kraken.lockout, kraken.insufficient_funds, kraken.order_minimum,
 * kraken.cost_minimum, kraken.tick_size, kraken.invalid_arguments, kraken.unavailable,
 * kraken.error (anything else, including an answer without the documented shape),
 * kraken.no_credentials, kraken.invalid_secret, kraken.bad_request (refused before sending). */
typedef struct kraken_outcome {
    const char *code;
    char message[600];
    int retryable;
    int sent;                        /* the request may have reached Kraken without a definitive
                                        answer: an order call failing so is IN DOUBT */
    long status;                     /* HTTP status, 0 = none */
} kraken_outcome;

/* One answer: its outcome and the strings of its error array in order, as sent (W... are
 * warnings; a value that is not a string is kept as its JSON text). */
typedef struct kraken_answer {
    kraken_outcome outcome;
    char *texts[KRAKEN_TEXTS_MAX];
    size_t n_texts;                  /* how many are kept (the first KRAKEN_TEXTS_MAX) */
} kraken_answer;
void kraken_answer_free(kraken_answer *a);
/* 1 when text is a warning (W...). */
int kraken_text_is_warning(const char *text);

/* AssetPairs entry of one pair. */
typedef struct kraken_pair_info {
    char pair_key[KRAKEN_ID_SIZE];   /* Kraken's key, e.g. XXBTZUSD */
    char altname[KRAKEN_ID_SIZE], wsname[KRAKEN_ID_SIZE], base[KRAKEN_ID_SIZE], quote[KRAKEN_ID_SIZE],
        status[KRAKEN_ID_SIZE];      /* "" when Kraken omits them */
    int pair_decimals, lot_decimals; /* required, 0..18 */
    int cost_decimals;               /* -1 when absent */
    double ordermin;                 /* required, >= 0 */
    double costmin, tick_size;       /* -1 when absent */
} kraken_pair_info;

/* Ticker fields, in the order of kraken_ticker_names. */
enum {
    KRAKEN_TICKER_ASK, KRAKEN_TICKER_BID, KRAKEN_TICKER_LAST, KRAKEN_TICKER_LAST_VOLUME, KRAKEN_TICKER_OPEN,
    KRAKEN_TICKER_LOW, KRAKEN_TICKER_HIGH, KRAKEN_TICKER_VOLUME, KRAKEN_TICKER_VWAP, KRAKEN_TICKER_TRADES,
    KRAKEN_TICKER_LOW_24H, KRAKEN_TICKER_HIGH_24H, KRAKEN_TICKER_VOLUME_24H, KRAKEN_TICKER_VWAP_24H,
    KRAKEN_TICKER_TRADES_24H, KRAKEN_TICKER_FIELDS
};
extern const char *const kraken_ticker_names[KRAKEN_TICKER_FIELDS];
typedef struct kraken_ticker_info {
    char pair_key[KRAKEN_ID_SIZE];
    double value[KRAKEN_TICKER_FIELDS];
    unsigned char has[KRAKEN_TICKER_FIELDS];   /* ask, bid and last are always there, and > 0 */
} kraken_ticker_info;

typedef struct kraken_balance_entry {
    char asset[KRAKEN_ID_SIZE];      /* Kraken's code: ZUSD, XXBT, ... */
    double amount;                   /* may be negative: Kraken said so; the caller decides */
    char raw[KRAKEN_ID_SIZE];        /* the decimal as sent */
} kraken_balance_entry;
typedef struct kraken_balances {
    kraken_balance_entry *items;
    size_t n;
} kraken_balances;
void kraken_balances_free(kraken_balances *b);
/* The entry of `asset`, or NULL. */
const kraken_balance_entry *kraken_balance_find(const kraken_balances *b, const char *asset);

/* One order of OpenOrders, ClosedOrders or QueryOrders. Numbers Kraken omits are NaN. */
typedef struct kraken_order {
    char txid[KRAKEN_ID_SIZE];
    char cl_ord_id[KRAKEN_ID_SIZE];  /* "" when none */
    char status[24];                 /* pending, open, closed, canceled, expired (as sent) */
    char side[8], ordertype[24], pair[KRAKEN_ID_SIZE];   /* from descr; "" when absent */
    double vol, vol_exec, cost, fee, avg_price, limit_price, opentm;
    long long userref;
    char trades[KRAKEN_TRADE_IDS_MAX][KRAKEN_ID_SIZE];   /* its trade ids (asked with trades=true) */
    size_t n_trades;
} kraken_order;
typedef struct kraken_orders {
    kraken_order *items;
    size_t n;
} kraken_orders;
void kraken_orders_free(kraken_orders *o);
/* The order with that client order id, or NULL. */
const kraken_order *kraken_orders_find(const kraken_orders *o, const char *cl_ord_id);

/* One trade of QueryTrades. */
typedef struct kraken_trade {
    char txid[KRAKEN_ID_SIZE], ordertxid[KRAKEN_ID_SIZE];
    double price, cost, fee, vol;    /* all required */
} kraken_trade;
typedef struct kraken_trades {
    kraken_trade *items;
    size_t n;
} kraken_trades;
void kraken_trades_free(kraken_trades *t);

/* AddOrder's result: the txid of the order it placed ("" for a validate-only call, whose result
 * must still be an object with a descr object: anything else is not a validation). */
typedef struct kraken_placed {
    char txid[KRAKEN_ID_SIZE];
    char description[200];           /* descr.order when sent */
} kraken_placed;

typedef struct kraken_candle {
    int64_t t, n;
    double o, h, l, c, vwap, v;
} kraken_candle;
typedef struct kraken_candles {
    char pair_key[KRAKEN_ID_SIZE];
    kraken_candle *items;            /* closed candles, oldest first */
    size_t n;
    int64_t last;                    /* Kraken's `last` (for since=), -1 when absent */
} kraken_candles;
void kraken_candles_free(kraken_candles *c);

/* What to read from an answer's result (kraken.c's calls pass one; NULL reads the envelope only). */
typedef enum {
    KRAKEN_READ_ASSET_PAIR, KRAKEN_READ_TICKER, KRAKEN_READ_BALANCE, KRAKEN_READ_ORDERS, KRAKEN_READ_PLACED,
    KRAKEN_READ_VALIDATED, KRAKEN_READ_OHLC, KRAKEN_READ_TRADES
} kraken_read_kind;
typedef struct kraken_read {
    kraken_read_kind kind;
    const char *pair;                /* ASSET_PAIR, TICKER, OHLC: the name asked for */
    const char *list_key;            /* ORDERS: "open", "closed", or NULL when the result is the list */
    int count;                       /* OHLC: keep the newest `count` closed candles, 0 = all */
    void *out;                       /* the struct of the kind; filled only on success */
} kraken_read;

/* Interprets one HTTP answer of `method` (write = a call that may change state) and, on success,
 * reads the result as `read` says. Returns 0, or -1 with a->outcome set (its `sent` follows the
 * rules of kraken.h). a is zeroed first; free it with kraken_answer_free. */
int kraken_parse_answer(const char *method, int write, long http_status, const char *body, size_t len,
                        const kraken_read *read, kraken_answer *a);

/* The same for a body answered with HTTP 200: the entry points of fuzz targets and unit tests. */
int kraken_parse_envelope(const char *body, size_t len, int write, kraken_answer *a);
int kraken_parse_asset_pair(const char *body, size_t len, const char *pair, kraken_pair_info *out, kraken_answer *a);
int kraken_parse_ticker(const char *body, size_t len, const char *pair, kraken_ticker_info *out, kraken_answer *a);
int kraken_parse_balance(const char *body, size_t len, kraken_balances *out, kraken_answer *a);
int kraken_parse_orders(const char *body, size_t len, const char *list_key, kraken_orders *out, kraken_answer *a);
int kraken_parse_placed(const char *body, size_t len, kraken_placed *out, kraken_answer *a);
int kraken_parse_validated(const char *body, size_t len, kraken_placed *out, kraken_answer *a);
int kraken_parse_ohlc(const char *body, size_t len, const char *pair, int count, kraken_candles *out,
                      kraken_answer *a);
int kraken_parse_trades(const char *body, size_t len, kraken_trades *out, kraken_answer *a);

/* Sets o to a failure: code, retryable, sent, printf-style message. */
void kraken_fail(kraken_outcome *o, const char *code, int retryable, int sent, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Maps one Kraken error string to its code; *retryable gets the default retry flag. */
const char *kraken_map_error(const char *kraken_error, int *retryable);
#endif
