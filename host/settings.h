/* Environment settings: one table says each variable's kind, range and default, and one strict
 * parser reads them all. A malformed or absurd value is an error naming the variable (the
 * commands exit 2 and do nothing), never a silent default. */
#ifndef TITAN_SETTINGS_H
#define TITAN_SETTINGS_H
#include <stddef.h>

/* Checks every setting of the table. 0, or -1 with "NAME='value' ...: why" in err. (The rule
 * between SUPABASE_URL and SUPABASE_KEY is settings_store's, for the commands that open the
 * store: a script may run with the secrets planted and no store.) */
int settings_check_all(char *err, size_t errlen);

/* The name of the i-th setting of the table, NULL past the end (tests walk it). */
const char *settings_name(size_t i);

/* Typed reads of one variable of the table (naming one that is not there, or reading it with
 * the wrong kind, is a host bug: it aborts). Unset (or empty, for the kinds where empty means
 * unset) gives the default. Each returns 0, or -1 with err set and *out left at the default. */
int settings_integer(const char *name, long long *out, char *err, size_t errlen);
int settings_number(const char *name, double *out, char *err, size_t errlen);
/* A path, URL or checked text (TELEGRAM_CHAT_ID); *out is the value (static, or the environment's), or the default (may be NULL). */
int settings_text(const char *name, const char **out, char *err, size_t errlen);
/* One of a fixed list; *out is its position in the list:
 *   SYSTEM_MODE              0 PAPER, 1 LIVE (any case; empty = PAPER)
 *   TITAN_LOG_LEVEL          0 debug, 1 info, 2 warn, 3 error (blackbox_level order)
 *   TITAN_KRAKEN_LUA_WRITES  0, 1
 *   TITAN_TEST_PAUSE_AT      0 none, then the points of test_pause.h in the order of a cycle */
int settings_choice(const char *name, int *out, char *err, size_t errlen);
/* The text of choice i of a choice setting (as settings_choice numbers them), NULL past the end. */
const char *settings_choice_text(const char *name, int i);

/* A list setting (TITAN_NOTIFY): bit i of *out for the i-th word of its list (notify.h's events),
 * every bit for "all", none for "none". */
int settings_flags(const char *name, unsigned *out, char *err, size_t errlen);

/* Where the store is: *supabase_url when SUPABASE_URL and SUPABASE_KEY are both set, else NULL
 * and *sqlite_path (TITAN_DB or ./titan.db). Half a Supabase configuration or an empty TITAN_DB
 * is an error: never a database somewhere else. */
int settings_store(const char **supabase_url, const char **sqlite_path, char *err, size_t errlen);

/* TITAN_HALT fails closed and is never an error: any value but empty, 0, off, false or no (any
 * case) halts. Returns 1 when halted; *value (may be NULL) gets the variable's text. */
int settings_halted(const char **value);

/* The rule of a number setting applied to text from elsewhere (a command-line option that shares
 * the variable's meaning, such as backtest --fee-bps): 0, or -1 with err naming `option`. */
int settings_parse_number(const char *name, const char *option, const char *text, double *out, char *err,
                          size_t errlen);
#endif
