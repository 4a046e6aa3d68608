/* Loading a strategy file and validating its table (design section 5). */
#ifndef TITAN_STRATEGY_H
#define TITAN_STRATEGY_H
#include "runtime.h"
#include "strbuf.h"

typedef enum {
    STRATEGY_VALID = 0,
    STRATEGY_INVALID,     /* loaded, but the table breaks the contract: problems listed */
    STRATEGY_LOAD_FAILED, /* syntax error, runtime error or budget while loading */
} strategy_result;

/* Loads and runs the file under budgets, then validates the returned table. Each problem
 * is appended to `problems` as one line ("interval 7 is not ..."). On STRATEGY_VALID the
 * strategy table is left on the Lua stack; otherwise nothing is. */
strategy_result strategy_load(runtime *rt, const char *path, strbuf *problems);
/* The same for the text of a strategy (a capsule's copy); messages name it `path`. */
strategy_result strategy_load_text(runtime *rt, const char *path, const char *text, size_t len, strbuf *problems);
/* The name, pair and interval of a loaded (valid) strategy table, read raw. */
void strategy_identity(lua_State *L, int strategy_idx, char *name, size_t name_size, char *pair, size_t pair_size,
                       int *interval);
/* Risk fields a strategy may set (to tighten the host's caps), NULL-terminated. */
extern const char *const strategy_risk_fields[];

/* ---- params: the strategy's `params` table, overridden by --set and by the optimizer ---- */

typedef enum { PARAM_NUMBER, PARAM_BOOLEAN, PARAM_STRING } param_kind;

typedef struct param_value {
    param_kind kind;
    double number;
    int boolean;
    char text[64];                  /* as given (numbers too: a string param takes it as is) */
} param_value;

typedef struct param_setting {
    char name[64];
    param_value value;
} param_setting;

/* "12", "-0.5", "1e3" -> number; "true", "false" -> boolean; anything else -> string. */
void param_value_parse(const char *text, param_value *out);
/* A number as the shortest text that reads back exactly; other kinds as they are. */
void param_value_number(double number, param_value *out);
/* order[0..n) = indices of settings sorted by name (JSON keys are written sorted). */
void param_settings_order(const param_setting *settings, size_t n, size_t *order);
/* Sets strategy.params[name] for each setting (strategy table at strategy_idx), raw. A name must
 * already be in params (a typo is not a new parameter) and keep its kind: a number stays a
 * number (an integer stays an integer, so the value must be whole), a boolean a boolean; a
 * string takes any text. Returns 0, or -1 with the problem in err (nothing raised). */
int strategy_set_params(lua_State *L, int strategy_idx, const param_setting *settings, size_t n, char *err,
                        size_t errlen);
#endif
