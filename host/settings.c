/* The settings table and its parser. Numbers are plain decimals ("5", "0.5"): no sign, space,
 * hex, exponent, inf or nan, so `0x10`, ` 5`, `+7` and `1e300` are refused rather than read
 * as something nobody meant; each has a range, so an absurd value is refused too. */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secrets.h"

typedef enum {
    SETTING_INTEGER,    /* digits only, within [min, max] */
    SETTING_NUMBER,     /* digits[.digits], within [min, max] (min excluded when min_open) */
    SETTING_PATH,       /* any text; set but empty is an error (an empty path is a mistake, not "default") */
    SETTING_URL,        /* http:// or https://; empty = unset */
    SETTING_CHOICE,     /* one of choices; empty = default */
    SETTING_HALT,       /* TITAN_HALT: every value means something (fail closed) */
    SETTING_LIST,       /* comma-separated choices, or "all", or "none"; empty = default */
    SETTING_TEXT,       /* text the entry's `valid` accepts; empty = unset */
} setting_kind;

typedef struct setting {
    const char *name;
    setting_kind kind;
    double min, max;
    int min_open;
    const char *fallback;           /* the default, as text read by the same rule; NULL = none */
    const char *unit;               /* for messages */
    const char *const *choices;
    int any_case;                   /* choices: case-insensitive */
    int (*valid)(const char *);     /* SETTING_TEXT: 1 when the text is acceptable */
    const char *shape;              /* SETTING_TEXT: what valid accepts, for messages */
} setting;

static const char *const settings_modes[] = {"PAPER", "LIVE", NULL};
static const char *const settings_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const settings_bits[] = {"0", "1", NULL};
/* test_pause.h: the step boundaries a test may stop a cycle at ("none" = never) */
static const char *const settings_pause_points[] = {
    "none", "configure", "lock", "recover", "halt", "market", "decide", "execute", "before_first_send",
    "between_sends", "after_last_send", "record", NULL,
};
/* notify.h's events, in its bit order */
static const char *const settings_notify_events[] = {"fill", "failed", "in_doubt", "halted", "ai_cap", "daily",
                                                     "done", NULL};

/* Telegram: a numeric chat id (negative for groups) or @channelname. */
#define SETTINGS_WORD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

static int settings_valid_chat_id(const char *v)
{
    if (*v == '@') return v[1] && strlen(v) <= 64 && strspn(v + 1, SETTINGS_WORD_CHARS) == strlen(v + 1);
    if (*v == '-') v++;
    return *v && strlen(v) <= 20 && strspn(v, "0123456789") == strlen(v);
}

/* Telegram's token goes into the URL path: "<digits>:<letters, digits, _ and ->" and nothing that
 * could change the path. */
static int settings_valid_bot_token(const char *v)
{
    size_t digits = strspn(v, "0123456789");
    const char *rest = v + digits + 1;
    return digits > 0 && v[digits] == ':' && *rest && strlen(v) <= 200 &&
           strspn(rest, SETTINGS_WORD_CHARS "-") == strlen(rest);
}

#define QUOTE_MAX 1e12              /* any cap above a trillion in quote currency is a typo */

static const setting settings_table[] = {
    {"SYSTEM_MODE", SETTING_CHOICE, 0, 0, 0, "PAPER", NULL, settings_modes, 1, NULL, NULL},
    {"SUPABASE_URL", SETTING_URL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
    {"TITAN_DB", SETTING_PATH, 0, 0, 0, "./titan.db", NULL, NULL, 0, NULL, NULL},
    {"TITAN_BLACKBOX", SETTING_PATH, 0, 0, 0, "./blackbox.log", NULL, NULL, 0, NULL, NULL},
    {"TITAN_HOME", SETTING_PATH, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
    {"TITAN_HALT", SETTING_HALT, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
    {"TITAN_LEASE_S", SETTING_INTEGER, 1, 86400, 0, "600", "seconds", NULL, 0, NULL, NULL},
    /* how long the store keeps each cycle's capsule; 0 = no capsules at all */
    {"TITAN_CAPSULE_DAYS", SETTING_INTEGER, 0, 3650, 0, "30", "days", NULL, 0, NULL, NULL},
    /* at most 15 s: recovery counts on any send having ended 15 s after the lease (recovery.h) */
    {"TITAN_KRAKEN_TIMEOUT_MS", SETTING_INTEGER, 100, 15000, 0, "15000", "ms", NULL, 0, NULL, NULL},
    {"TITAN_STORE_TIMEOUT_MS", SETTING_INTEGER, 100, 60000, 0, "15000", "ms", NULL, 0, NULL, NULL},
    {"TITAN_MAX_ORDER_QUOTE", SETTING_NUMBER, 0, QUOTE_MAX, 1, "100", "quote currency", NULL, 0, NULL, NULL},
    {"TITAN_MAX_POSITION_QUOTE", SETTING_NUMBER, 0, QUOTE_MAX, 1, "500", "quote currency", NULL, 0, NULL, NULL},
    {"TITAN_MAX_ORDERS_PER_CYCLE", SETTING_INTEGER, 1, 32, 0, "2", "orders", NULL, 0, NULL, NULL},
    {"TITAN_MAX_DAILY_LOSS_QUOTE", SETTING_NUMBER, 0, QUOTE_MAX, 1, "50", "quote currency", NULL, 0, NULL, NULL},
    {"TITAN_PAPER_CASH", SETTING_NUMBER, 0, QUOTE_MAX, 1, "10000", "quote currency", NULL, 0, NULL, NULL},
    /* 1000 bps = 10%: beyond that a fee or a slippage is a typo, and 10000 would price at zero or less */
    {"TITAN_PAPER_FEE_BPS", SETTING_NUMBER, 0, 1000, 0, "40", "basis points", NULL, 0, NULL, NULL},
    {"TITAN_PAPER_SLIPPAGE_BPS", SETTING_NUMBER, 0, 1000, 0, "5", "basis points", NULL, 0, NULL, NULL},
    {"TITAN_LUA_CPU_S", SETTING_INTEGER, 1, 86400, 0, "30", "seconds", NULL, 0, NULL, NULL},
    {"TITAN_LUA_WALL_S", SETTING_INTEGER, 1, 86400, 0, "300", "seconds", NULL, 0, NULL, NULL},
    {"TITAN_LUA_MEM_MB", SETTING_INTEGER, 1, 65536, 0, "256", "MiB", NULL, 0, NULL, NULL},
    {"TITAN_LOG_LEVEL", SETTING_CHOICE, 0, 0, 0, "info", NULL, settings_levels, 0, NULL, NULL},
    {"TITAN_KRAKEN_LUA_WRITES", SETTING_CHOICE, 0, 0, 0, "0", NULL, settings_bits, 0, NULL, NULL},
    /* up to the year 9999 */
    {"TITAN_FAKE_NOW_MS", SETTING_INTEGER, 0, 253402300799999.0, 0, NULL, "ms since 1970", NULL, 0, NULL, NULL},
    {"TITAN_TEST_PAUSE_AT", SETTING_CHOICE, 0, 0, 0, "none", NULL, settings_pause_points, 0, NULL, NULL},
    {"KRAKEN_API_URL", SETTING_URL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
    {"OPENAI_BASE_URL", SETTING_URL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
    {"GROQ_BASE_URL", SETTING_URL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
    {"GEMINI_BASE_URL", SETTING_URL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
    /* notifications (notify.c): which events, the total deadline, the channels */
    {"TITAN_NOTIFY", SETTING_LIST, 0, 0, 0, "fill,failed,in_doubt,halted,ai_cap,daily", NULL, settings_notify_events,
     0, NULL, NULL},
    {"TITAN_NOTIFY_DEADLINE_MS", SETTING_INTEGER, 100, 60000, 0, "5000", "ms", NULL, 0, NULL, NULL},
    {"TELEGRAM_BOT_TOKEN", SETTING_TEXT, 0, 0, 0, NULL, NULL, NULL, 0, settings_valid_bot_token,
     "a bot token as BotFather gives it (<digits>:<letters, digits, _ or ->)"},
    {"TELEGRAM_CHAT_ID", SETTING_TEXT, 0, 0, 0, NULL, NULL, NULL, 0, settings_valid_chat_id,
     "a numeric chat id (negative for groups) or @channelname"},
    {"TELEGRAM_API_URL", SETTING_URL, 0, 0, 0, "https://api.telegram.org", NULL, NULL, 0, NULL, NULL},
    {"DISCORD_WEBHOOK_URL", SETTING_URL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
    {"SLACK_WEBHOOK_URL", SETTING_URL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
    {"TITAN_WEBHOOK_URL", SETTING_URL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, NULL},
};

const char *settings_name(size_t i)
{
    return i < sizeof settings_table / sizeof settings_table[0] ? settings_table[i].name : NULL;
}

#define KIND(k) (1u << (k))

/* The entry of `name`, which must be one of `kinds` (a mask of KIND bits). */
static const setting *settings_find(const char *name, unsigned kinds)
{
    for (size_t i = 0; i < sizeof settings_table / sizeof settings_table[0]; i++) {
        const setting *s = &settings_table[i];
        if (strcmp(s->name, name) != 0) continue;
        if (kinds & KIND(s->kind)) return s;
        break;
    }
    /* a host bug, found by any test that reaches the call */
    fprintf(stderr, "titan-host: internal error: setting %s read as the wrong kind or not in the table\n", name);
    abort();
}

/* The value for a message: at most 40 printable bytes (it may be anything, typed by anyone). */
static const char *settings_shown(const char *v, char out[48])
{
    size_t n = 0;
    for (; v[n] && n < 40; n++) out[n] = isprint((unsigned char)v[n]) ? v[n] : '?';
    if (v[n]) memcpy(out + n, "...", 4);
    else out[n] = '\0';
    return out;
}

static int settings_fail(const setting *s, const char *shown_as, const char *v, char *err, size_t errlen,
                         const char *why)
{
    char shown[48];
    if (secrets_is_secret_name(s->name))         /* a secret's value is never repeated */
        snprintf(err, errlen, "%s (value not shown) %s", s->name, why);
    else
        snprintf(err, errlen, "%s='%s' %s", shown_as ? shown_as : s->name, settings_shown(v, shown), why);
    return -1;
}

/* digits, or digits.digits when fraction is allowed; at most 30 characters */
static int settings_plain_decimal(const char *v, int fraction)
{
    size_t int_digits = strspn(v, "0123456789");
    if (int_digits == 0 || strlen(v) > 30) return 0;
    const char *rest = v + int_digits;
    if (*rest == '\0') return 1;
    return fraction && *rest == '.' && rest[1] && strspn(rest + 1, "0123456789") == strlen(rest + 1);
}

/* Parses v by the rule of s (numbers only). */
static int settings_parse(const setting *s, const char *shown_as, const char *v, double *out, char *err, size_t errlen)
{
    int integer = s->kind == SETTING_INTEGER;
    if (settings_plain_decimal(v, !integer)) {
        errno = 0;
        double d = strtod(v, NULL);
        if (!errno && d >= s->min && d <= s->max && !(s->min_open && d == s->min)) {
            *out = d;
            return 0;
        }
    }
    char why[160];
    if (integer)
        snprintf(why, sizeof why, "is not a whole number from %.15g to %.15g (%s)", s->min, s->max, s->unit);
    else
        snprintf(why, sizeof why, "is not a plain decimal number %s %.15g %s %.15g (%s)", s->min_open ? "above" : "from",
                 s->min, s->min_open ? "and at most" : "to", s->max, s->unit);
    return settings_fail(s, shown_as, v, err, errlen, why);
}

/* The variable's value, NULL when unset (or empty where empty means unset). */
static const char *settings_raw(const setting *s)
{
    const char *v = getenv(s->name);
    if (v && !*v && s->kind != SETTING_PATH) return NULL;
    return v;
}

static int settings_read_number(const setting *s, double *out, char *err, size_t errlen)
{
    const char *v = settings_raw(s);
    *out = 0;
    if (s->fallback) settings_parse(s, NULL, s->fallback, out, err, errlen);
    if (!v) return 0;
    double d;
    if (settings_parse(s, NULL, v, &d, err, errlen) != 0) return -1;
    *out = d;
    return 0;
}

int settings_integer(const char *name, long long *out, char *err, size_t errlen)
{
    double d;
    int rc = settings_read_number(settings_find(name, KIND(SETTING_INTEGER)), &d, err, errlen);
    *out = (long long)d;                 /* exact: digits only, at most the table's max */
    return rc;
}

int settings_number(const char *name, double *out, char *err, size_t errlen)
{
    return settings_read_number(settings_find(name, KIND(SETTING_NUMBER)), out, err, errlen);
}

int settings_parse_number(const char *name, const char *option, const char *text, double *out, char *err,
                          size_t errlen)
{
    return settings_parse(settings_find(name, KIND(SETTING_NUMBER)), option, text, out, err, errlen);
}

static int settings_read_text(const setting *s, const char **out, char *err, size_t errlen)
{
    const char *v = settings_raw(s);
    *out = s->fallback;
    if (!v) return 0;
    if (s->kind == SETTING_TEXT && !s->valid(v)) {
        char why[200];
        snprintf(why, sizeof why, "is not %s", s->shape);
        return settings_fail(s, NULL, v, err, errlen, why);
    }
    if (s->kind == SETTING_PATH && !*v) {
        snprintf(err, errlen, "%s is set but empty: give a path%s%s", s->name, s->fallback ? ", or unset it for " : "",
                 s->fallback ? s->fallback : ", or unset it");
        return -1;
    }
    if (s->kind == SETTING_URL && strncasecmp(v, "https://", 8) != 0 && strncasecmp(v, "http://", 7) != 0) {
        /* the value is not shown: a URL may carry a password */
        snprintf(err, errlen, "%s is not an http:// or https:// URL", s->name);
        return -1;
    }
    *out = v;
    return 0;
}

int settings_text(const char *name, const char **out, char *err, size_t errlen)
{
    const setting *s = settings_find(name, KIND(SETTING_PATH) | KIND(SETTING_URL) | KIND(SETTING_TEXT));
    return settings_read_text(s, out, err, errlen);
}

/* One word of a list against the choices: its position, or -1. */
static int settings_list_word(const setting *s, const char *word, size_t len)
{
    for (int i = 0; s->choices[i]; i++)
        if (strlen(s->choices[i]) == len && strncmp(s->choices[i], word, len) == 0) return i;
    return -1;
}

static int settings_parse_list(const setting *s, const char *v, unsigned *out)
{
    if (strcmp(v, "all") == 0) {
        *out = 0;
        for (int i = 0; s->choices[i]; i++) *out |= 1u << i;
        return 0;
    }
    *out = 0;
    if (strcmp(v, "none") == 0) return 0;
    for (const char *p = v;; p++) {
        size_t len = strcspn(p, ",");
        int bit = settings_list_word(s, p, len);
        if (bit < 0) return -1;
        *out |= 1u << bit;
        p += len;
        if (!*p) return 0;
    }
}

static int settings_read_list(const setting *s, unsigned *out, char *err, size_t errlen)
{
    const char *v = settings_raw(s);
    settings_parse_list(s, s->fallback, out);
    if (!v) return 0;
    unsigned mask;
    if (settings_parse_list(s, v, &mask) == 0) {
        *out = mask;
        return 0;
    }
    char why[240] = "is not a comma-separated list of";
    for (int i = 0; s->choices[i]; i++)
        snprintf(why + strlen(why), sizeof why - strlen(why), "%s %s", i ? "," : "", s->choices[i]);
    snprintf(why + strlen(why), sizeof why - strlen(why), " (or all, or none)");
    return settings_fail(s, NULL, v, err, errlen, why);
}

int settings_flags(const char *name, unsigned *out, char *err, size_t errlen)
{
    return settings_read_list(settings_find(name, KIND(SETTING_LIST)), out, err, errlen);
}

static int settings_read_choice(const setting *s, int *out, char *err, size_t errlen)
{
    const char *v = settings_raw(s);
    *out = 0;
    for (int i = 0; s->choices[i]; i++)
        if (strcmp(s->choices[i], s->fallback) == 0) *out = i;
    if (!v) return 0;
    for (int i = 0; s->choices[i]; i++) {
        if (s->any_case ? strcasecmp(v, s->choices[i]) == 0 : strcmp(v, s->choices[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    char why[160] = "is not one of";
    for (int i = 0; s->choices[i]; i++)
        snprintf(why + strlen(why), sizeof why - strlen(why), "%s %s", i ? "," : "", s->choices[i]);
    return settings_fail(s, NULL, v, err, errlen, why);
}

int settings_choice(const char *name, int *out, char *err, size_t errlen)
{
    return settings_read_choice(settings_find(name, KIND(SETTING_CHOICE)), out, err, errlen);
}

const char *settings_choice_text(const char *name, int i)
{
    const setting *s = settings_find(name, KIND(SETTING_CHOICE));
    for (int k = 0; s->choices[k]; k++)
        if (k == i) return s->choices[k];
    return NULL;
}

int settings_halted(const char **value)
{
    const char *v = getenv(settings_find("TITAN_HALT", KIND(SETTING_HALT))->name);
    if (value) *value = v;
    static const char *const off[] = {"0", "off", "false", "no"};
    if (!v || !*v) return 0;
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++)
        if (strcasecmp(v, off[i]) == 0) return 0;
    return 1;
}

int settings_check_all(char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof settings_table / sizeof settings_table[0]; i++) {
        const setting *s = &settings_table[i];
        double d;
        const char *text;
        unsigned flags;
        int choice, rc = 0;
        switch (s->kind) {
        case SETTING_INTEGER:
        case SETTING_NUMBER: rc = settings_read_number(s, &d, err, errlen); break;
        case SETTING_PATH:
        case SETTING_URL:
        case SETTING_TEXT: rc = settings_read_text(s, &text, err, errlen); break;
        case SETTING_CHOICE: rc = settings_read_choice(s, &choice, err, errlen); break;
        case SETTING_LIST: rc = settings_read_list(s, &flags, err, errlen); break;
        case SETTING_HALT: break;
        }
        if (rc != 0) return -1;
    }
    /* Telegram needs both; one alone is a mistake, not "no Telegram" */
    const char *token = NULL, *chat = NULL;
    settings_text("TELEGRAM_BOT_TOKEN", &token, err, errlen);
    settings_text("TELEGRAM_CHAT_ID", &chat, err, errlen);
    if (!token != !chat) {
        snprintf(err, errlen, "%s is set but %s is not: set both to notify on Telegram, or neither",
                 token ? "TELEGRAM_BOT_TOKEN" : "TELEGRAM_CHAT_ID", token ? "TELEGRAM_CHAT_ID" : "TELEGRAM_BOT_TOKEN");
        return -1;
    }
    return 0;
}

int settings_store(const char **supabase_url, const char **sqlite_path, char *err, size_t errlen)
{
    *supabase_url = *sqlite_path = NULL;
    const char *url, *path;
    if (settings_text("SUPABASE_URL", &url, err, errlen) != 0 || settings_text("TITAN_DB", &path, err, errlen) != 0)
        return -1;
    /* The key is a secret: only its presence is looked at. */
    const char *key = getenv("SUPABASE_KEY");
    int has_key = key && *key;
    if (!url != !has_key) {
        snprintf(err, errlen, "%s is set but %s is not: set both for the Supabase store, or neither for SQLite",
                 url ? "SUPABASE_URL" : "SUPABASE_KEY", url ? "SUPABASE_KEY" : "SUPABASE_URL");
        return -1;
    }
    *supabase_url = url;
    *sqlite_path = path;
    return 0;
}
