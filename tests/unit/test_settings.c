/* Every environment setting with good and bad values: one table of cases, each run through
 * settings_check_all (what every command does first) and the typed read its module uses. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "unit.h"

typedef enum { READ_INT, READ_NUM, READ_TEXT, READ_CHOICE, READ_HALT, READ_LIST } reader;

typedef struct settings_case {
    const char *name;
    reader read;
    const char *value;          /* NULL = unset */
    int ok;
    double want;                /* ok numbers and choices: the value read (halt: 1 halted; lists: the mask) */
    const char *want_text;      /* ok texts: the value read (NULL = none) */
} settings_case;

#define BAD(name, read, value) {name, read, value, 0, 0, NULL}

static const settings_case cases[] = {
    {"SYSTEM_MODE", READ_CHOICE, NULL, 1, 0, NULL},
    {"SYSTEM_MODE", READ_CHOICE, "", 1, 0, NULL},
    {"SYSTEM_MODE", READ_CHOICE, "paper", 1, 0, NULL},
    {"SYSTEM_MODE", READ_CHOICE, "Live", 1, 1, NULL},
    BAD("SYSTEM_MODE", READ_CHOICE, "LIVEE"),
    BAD("SYSTEM_MODE", READ_CHOICE, " LIVE"),

    {"SUPABASE_URL", READ_TEXT, NULL, 1, 0, NULL},
    {"SUPABASE_URL", READ_TEXT, "", 1, 0, NULL},
    BAD("SUPABASE_URL", READ_TEXT, "ftp://example.com"),
    BAD("SUPABASE_URL", READ_TEXT, "example.supabase.co"),

    {"TITAN_DB", READ_TEXT, NULL, 1, 0, "./titan.db"},
    {"TITAN_DB", READ_TEXT, "/tmp/x.db", 1, 0, "/tmp/x.db"},
    BAD("TITAN_DB", READ_TEXT, ""),
    {"TITAN_BLACKBOX", READ_TEXT, NULL, 1, 0, "./blackbox.log"},
    {"TITAN_BLACKBOX", READ_TEXT, "bb.log", 1, 0, "bb.log"},
    BAD("TITAN_BLACKBOX", READ_TEXT, ""),
    {"TITAN_HOME", READ_TEXT, NULL, 1, 0, NULL},
    {"TITAN_HOME", READ_TEXT, "/opt/titan", 1, 0, "/opt/titan"},
    BAD("TITAN_HOME", READ_TEXT, ""),

    /* fail closed: every value means something, a typo halts */
    {"TITAN_HALT", READ_HALT, NULL, 1, 0, NULL},
    {"TITAN_HALT", READ_HALT, "", 1, 0, NULL},
    {"TITAN_HALT", READ_HALT, "0", 1, 0, NULL},
    {"TITAN_HALT", READ_HALT, "OFF", 1, 0, NULL},
    {"TITAN_HALT", READ_HALT, "false", 1, 0, NULL},
    {"TITAN_HALT", READ_HALT, "No", 1, 0, NULL},
    {"TITAN_HALT", READ_HALT, "1", 1, 1, NULL},
    {"TITAN_HALT", READ_HALT, "yes", 1, 1, NULL},
    {"TITAN_HALT", READ_HALT, "fasle", 1, 1, NULL},
    {"TITAN_HALT", READ_HALT, " 0", 1, 1, NULL},

    {"TITAN_LEASE_S", READ_INT, NULL, 1, 600, NULL},
    {"TITAN_LEASE_S", READ_INT, "", 1, 600, NULL},
    {"TITAN_LEASE_S", READ_INT, "900", 1, 900, NULL},
    {"TITAN_LEASE_S", READ_INT, "1", 1, 1, NULL},
    {"TITAN_LEASE_S", READ_INT, "86400", 1, 86400, NULL},
    BAD("TITAN_LEASE_S", READ_INT, "1e9"),
    BAD("TITAN_LEASE_S", READ_INT, "5s"),
    BAD("TITAN_LEASE_S", READ_INT, "abc"),
    BAD("TITAN_LEASE_S", READ_INT, "-5"),
    BAD("TITAN_LEASE_S", READ_INT, "0"),
    BAD("TITAN_LEASE_S", READ_INT, "86401"),
    BAD("TITAN_LEASE_S", READ_INT, "99999999999999999999999"),
    BAD("TITAN_LEASE_S", READ_INT, "60.5"),
    {"TITAN_KRAKEN_TIMEOUT_MS", READ_INT, NULL, 1, 15000, NULL},
    {"TITAN_KRAKEN_TIMEOUT_MS", READ_INT, "1000", 1, 1000, NULL},
    BAD("TITAN_KRAKEN_TIMEOUT_MS", READ_INT, "15001"),   /* recovery counts on a send ending within 15 s */
    BAD("TITAN_KRAKEN_TIMEOUT_MS", READ_INT, "99"),
    {"TITAN_STORE_TIMEOUT_MS", READ_INT, NULL, 1, 15000, NULL},
    {"TITAN_STORE_TIMEOUT_MS", READ_INT, "60000", 1, 60000, NULL},
    BAD("TITAN_STORE_TIMEOUT_MS", READ_INT, "1s"),

    {"TITAN_CAPSULE_DAYS", READ_INT, NULL, 1, 30, NULL},
    {"TITAN_CAPSULE_DAYS", READ_INT, "0", 1, 0, NULL},
    {"TITAN_CAPSULE_DAYS", READ_INT, "3650", 1, 3650, NULL},
    BAD("TITAN_CAPSULE_DAYS", READ_INT, "3651"),
    BAD("TITAN_CAPSULE_DAYS", READ_INT, "7d"),
    BAD("TITAN_CAPSULE_DAYS", READ_INT, "-1"),

    {"TITAN_MAX_ORDER_QUOTE", READ_NUM, NULL, 1, 100, NULL},
    {"TITAN_MAX_ORDER_QUOTE", READ_NUM, "250.5", 1, 250.5, NULL},
    {"TITAN_MAX_ORDER_QUOTE", READ_NUM, "0.01", 1, 0.01, NULL},
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "0x10"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, " 5"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "5 "),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "+7"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "-7"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "0"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "1e3"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "inf"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "nan"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "1e300"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "10000000000000"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, ".5"),
    BAD("TITAN_MAX_ORDER_QUOTE", READ_NUM, "5."),
    {"TITAN_MAX_POSITION_QUOTE", READ_NUM, NULL, 1, 500, NULL},
    {"TITAN_MAX_POSITION_QUOTE", READ_NUM, "1000", 1, 1000, NULL},
    BAD("TITAN_MAX_POSITION_QUOTE", READ_NUM, "1,000"),
    BAD("TITAN_MAX_POSITION_QUOTE", READ_NUM, "0.0"),
    {"TITAN_MAX_ORDERS_PER_CYCLE", READ_INT, NULL, 1, 2, NULL},
    {"TITAN_MAX_ORDERS_PER_CYCLE", READ_INT, "32", 1, 32, NULL},
    {"TITAN_MAX_ORDERS_PER_CYCLE", READ_INT, "07", 1, 7, NULL},
    BAD("TITAN_MAX_ORDERS_PER_CYCLE", READ_INT, "1e300"),
    BAD("TITAN_MAX_ORDERS_PER_CYCLE", READ_INT, "0x10"),
    BAD("TITAN_MAX_ORDERS_PER_CYCLE", READ_INT, "2.5"),
    BAD("TITAN_MAX_ORDERS_PER_CYCLE", READ_INT, "33"),
    BAD("TITAN_MAX_ORDERS_PER_CYCLE", READ_INT, "0"),
    {"TITAN_MAX_DAILY_LOSS_QUOTE", READ_NUM, NULL, 1, 50, NULL},
    {"TITAN_MAX_DAILY_LOSS_QUOTE", READ_NUM, "75", 1, 75, NULL},
    BAD("TITAN_MAX_DAILY_LOSS_QUOTE", READ_NUM, "-50"),
    BAD("TITAN_MAX_DAILY_LOSS_QUOTE", READ_NUM, "fifty"),

    {"TITAN_PAPER_CASH", READ_NUM, NULL, 1, 10000, NULL},
    {"TITAN_PAPER_CASH", READ_NUM, "2500.75", 1, 2500.75, NULL},
    BAD("TITAN_PAPER_CASH", READ_NUM, "0"),
    BAD("TITAN_PAPER_CASH", READ_NUM, "1e6"),
    {"TITAN_PAPER_FEE_BPS", READ_NUM, NULL, 1, 40, NULL},
    {"TITAN_PAPER_FEE_BPS", READ_NUM, "0", 1, 0, NULL},
    {"TITAN_PAPER_FEE_BPS", READ_NUM, "1000", 1, 1000, NULL},
    BAD("TITAN_PAPER_FEE_BPS", READ_NUM, "-1"),
    BAD("TITAN_PAPER_FEE_BPS", READ_NUM, "1000.5"),
    BAD("TITAN_PAPER_FEE_BPS", READ_NUM, "30000"),
    {"TITAN_PAPER_SLIPPAGE_BPS", READ_NUM, NULL, 1, 5, NULL},
    {"TITAN_PAPER_SLIPPAGE_BPS", READ_NUM, "2.5", 1, 2.5, NULL},
    BAD("TITAN_PAPER_SLIPPAGE_BPS", READ_NUM, "100000"),
    BAD("TITAN_PAPER_SLIPPAGE_BPS", READ_NUM, "30000"),
    BAD("TITAN_PAPER_SLIPPAGE_BPS", READ_NUM, "NaN"),

    {"TITAN_LUA_CPU_S", READ_INT, NULL, 1, 30, NULL},
    {"TITAN_LUA_CPU_S", READ_INT, "5", 1, 5, NULL},
    BAD("TITAN_LUA_CPU_S", READ_INT, "0"),
    BAD("TITAN_LUA_CPU_S", READ_INT, "1.5"),
    {"TITAN_LUA_WALL_S", READ_INT, NULL, 1, 300, NULL},
    {"TITAN_LUA_WALL_S", READ_INT, "86400", 1, 86400, NULL},
    BAD("TITAN_LUA_WALL_S", READ_INT, "86401"),
    {"TITAN_LUA_MEM_MB", READ_INT, NULL, 1, 256, NULL},
    {"TITAN_LUA_MEM_MB", READ_INT, "64", 1, 64, NULL},
    BAD("TITAN_LUA_MEM_MB", READ_INT, "lots"),
    BAD("TITAN_LUA_MEM_MB", READ_INT, "65537"),

    {"TITAN_LOG_LEVEL", READ_CHOICE, NULL, 1, 1, NULL},
    {"TITAN_LOG_LEVEL", READ_CHOICE, "debug", 1, 0, NULL},
    {"TITAN_LOG_LEVEL", READ_CHOICE, "error", 1, 3, NULL},
    BAD("TITAN_LOG_LEVEL", READ_CHOICE, "loud"),
    BAD("TITAN_LOG_LEVEL", READ_CHOICE, "WARN"),
    {"TITAN_KRAKEN_LUA_WRITES", READ_CHOICE, NULL, 1, 0, NULL},
    {"TITAN_KRAKEN_LUA_WRITES", READ_CHOICE, "1", 1, 1, NULL},
    {"TITAN_KRAKEN_LUA_WRITES", READ_CHOICE, "0", 1, 0, NULL},
    BAD("TITAN_KRAKEN_LUA_WRITES", READ_CHOICE, "yes"),
    {"TITAN_FAKE_NOW_MS", READ_INT, NULL, 1, 0, NULL},
    {"TITAN_TEST_PAUSE_AT", READ_CHOICE, NULL, 1, 0, NULL},
    {"TITAN_TEST_PAUSE_AT", READ_CHOICE, "lock", 1, 2, NULL},
    {"TITAN_TEST_PAUSE_AT", READ_CHOICE, "between_sends", 1, 9, NULL},
    BAD("TITAN_TEST_PAUSE_AT", READ_CHOICE, "between"),
    {"TITAN_FAKE_NOW_MS", READ_INT, "1795754700123", 1, 1795754700123.0, NULL},
    BAD("TITAN_FAKE_NOW_MS", READ_INT, "-1"),
    BAD("TITAN_FAKE_NOW_MS", READ_INT, "1.7e12"),

    {"KRAKEN_API_URL", READ_TEXT, "http://127.0.0.1:8080", 1, 0, "http://127.0.0.1:8080"},
    {"KRAKEN_API_URL", READ_TEXT, "", 1, 0, NULL},
    BAD("KRAKEN_API_URL", READ_TEXT, "127.0.0.1:8080"),
    {"OPENAI_BASE_URL", READ_TEXT, "https://api.openai.com/v1", 1, 0, "https://api.openai.com/v1"},
    BAD("OPENAI_BASE_URL", READ_TEXT, "api.openai.com"),
    {"GROQ_BASE_URL", READ_TEXT, "HTTPS://api.groq.com/openai/v1", 1, 0, "HTTPS://api.groq.com/openai/v1"},
    BAD("GROQ_BASE_URL", READ_TEXT, "file:///etc/passwd"),
    {"GEMINI_BASE_URL", READ_TEXT, NULL, 1, 0, NULL},
    BAD("GEMINI_BASE_URL", READ_TEXT, "gemini"),

    /* events: fill 1, failed 2, in_doubt 4, halted 8, ai_cap 16, daily 32, done 64 */
    {"TITAN_NOTIFY", READ_LIST, NULL, 1, 63, NULL},
    {"TITAN_NOTIFY", READ_LIST, "", 1, 63, NULL},
    {"TITAN_NOTIFY", READ_LIST, "all", 1, 127, NULL},
    {"TITAN_NOTIFY", READ_LIST, "none", 1, 0, NULL},
    {"TITAN_NOTIFY", READ_LIST, "failed,in_doubt", 1, 6, NULL},
    {"TITAN_NOTIFY", READ_LIST, "done", 1, 64, NULL},
    BAD("TITAN_NOTIFY", READ_LIST, "fills"),
    BAD("TITAN_NOTIFY", READ_LIST, "fill, failed"),
    BAD("TITAN_NOTIFY", READ_LIST, "fill,"),
    BAD("TITAN_NOTIFY", READ_LIST, ",fill"),
    BAD("TITAN_NOTIFY", READ_LIST, "all,fill"),
    BAD("TITAN_NOTIFY", READ_LIST, "FILL"),
    {"TITAN_NOTIFY_DEADLINE_MS", READ_INT, NULL, 1, 5000, NULL},
    {"TITAN_NOTIFY_DEADLINE_MS", READ_INT, "100", 1, 100, NULL},
    {"TITAN_NOTIFY_DEADLINE_MS", READ_INT, "60000", 1, 60000, NULL},
    BAD("TITAN_NOTIFY_DEADLINE_MS", READ_INT, "99"),
    BAD("TITAN_NOTIFY_DEADLINE_MS", READ_INT, "60001"),
    BAD("TITAN_NOTIFY_DEADLINE_MS", READ_INT, "5s"),
    /* the Telegram pair is set together by run_case */
    {"TELEGRAM_BOT_TOKEN", READ_TEXT, NULL, 1, 0, NULL},
    {"TELEGRAM_BOT_TOKEN", READ_TEXT, "123456:AAbb-_9", 1, 0, "123456:AAbb-_9"},
    BAD("TELEGRAM_BOT_TOKEN", READ_TEXT, "123456:AA/../x"),
    BAD("TELEGRAM_BOT_TOKEN", READ_TEXT, "AAbb"),
    BAD("TELEGRAM_BOT_TOKEN", READ_TEXT, "123456:"),
    {"TELEGRAM_CHAT_ID", READ_TEXT, "-1001234", 1, 0, "-1001234"},
    {"TELEGRAM_CHAT_ID", READ_TEXT, "@my_channel", 1, 0, "@my_channel"},
    BAD("TELEGRAM_CHAT_ID", READ_TEXT, "12a"),
    BAD("TELEGRAM_CHAT_ID", READ_TEXT, "@"),
    BAD("TELEGRAM_CHAT_ID", READ_TEXT, "@my-channel"),
    {"TELEGRAM_API_URL", READ_TEXT, NULL, 1, 0, "https://api.telegram.org"},
    {"TELEGRAM_API_URL", READ_TEXT, "http://127.0.0.1:9", 1, 0, "http://127.0.0.1:9"},
    BAD("TELEGRAM_API_URL", READ_TEXT, "api.telegram.org"),
    {"DISCORD_WEBHOOK_URL", READ_TEXT, "https://discord.com/api/webhooks/1/t", 1, 0,
     "https://discord.com/api/webhooks/1/t"},
    BAD("DISCORD_WEBHOOK_URL", READ_TEXT, "discord.com/api/webhooks/1/t"),
    {"SLACK_WEBHOOK_URL", READ_TEXT, NULL, 1, 0, NULL},
    BAD("SLACK_WEBHOOK_URL", READ_TEXT, "hooks.slack.com/services/x"),
    {"TITAN_WEBHOOK_URL", READ_TEXT, "http://127.0.0.1:8/hook", 1, 0, "http://127.0.0.1:8/hook"},
    BAD("TITAN_WEBHOOK_URL", READ_TEXT, "mailto:me@example.com"),
};

static void unset_all(void)
{
    for (size_t i = 0; settings_name(i); i++) unsetenv(settings_name(i));
    unsetenv("SUPABASE_KEY");
}

static void run_case(const settings_case *c)
{
    char what[160], err[512] = "";
    snprintf(what, sizeof what, "%s=%s", c->name, c->value ? c->value : "(unset)");
    unset_all();
    if (c->value) setenv(c->name, c->value, 1);
    /* Telegram wants both variables: give the other one a good value */
    if (c->value && strcmp(c->name, "TELEGRAM_BOT_TOKEN") == 0) setenv("TELEGRAM_CHAT_ID", "42", 1);
    if (c->value && strcmp(c->name, "TELEGRAM_CHAT_ID") == 0) setenv("TELEGRAM_BOT_TOKEN", "1:a", 1);
    int all = settings_check_all(err, sizeof err);
    CHECK_MSG((all == 0) == c->ok, what);
    /* a refusal names the variable */
    if (!c->ok) CHECK_MSG(strstr(err, c->name) != NULL, err);
    long long n = 0;
    double d = 0;
    int choice = -1, rc = 0;
    unsigned mask = 0;
    const char *text = "?";
    switch (c->read) {
    case READ_INT: rc = settings_integer(c->name, &n, err, sizeof err); d = (double)n; break;
    case READ_NUM: rc = settings_number(c->name, &d, err, sizeof err); break;
    case READ_CHOICE: rc = settings_choice(c->name, &choice, err, sizeof err); d = choice; break;
    case READ_TEXT: rc = settings_text(c->name, &text, err, sizeof err); break;
    case READ_HALT: d = settings_halted(NULL); break;
    case READ_LIST: rc = settings_flags(c->name, &mask, err, sizeof err); d = mask; break;
    }
    CHECK_MSG((rc == 0) == c->ok, what);
    if (c->ok && c->read != READ_TEXT) CHECK_MSG(d == c->want, what);
    if (c->ok && c->read == READ_TEXT)
        CHECK_MSG(c->want_text ? text && strcmp(text, c->want_text) == 0 : text == NULL, what);
}

/* Every variable of the table has cases, and every one but TITAN_HALT has a refused value. */
static void test_every_setting_covered(void)
{
    for (size_t i = 0; settings_name(i); i++) {
        const char *name = settings_name(i);
        int good = 0, bad = 0;
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            if (strcmp(cases[k].name, name) != 0) continue;
            good += cases[k].ok;
            bad += !cases[k].ok;
        }
        CHECK_MSG(good > 0 && (bad > 0 || strcmp(name, "TITAN_HALT") == 0), name);
    }
}

static void test_supabase_pair(void)
{
    char err[512] = "";
    const char *url, *path;
    unset_all();
    setenv("SUPABASE_URL", "https://x.supabase.co", 1);
    CHECK(settings_check_all(err, sizeof err) == 0);          /* the pair is the store's rule */
    CHECK(settings_store(&url, &path, err, sizeof err) == -1);
    CHECK(strstr(err, "SUPABASE_KEY is not") != NULL);
    setenv("SUPABASE_KEY", "sb_secret_planted", 1);
    CHECK(settings_store(&url, &path, err, sizeof err) == 0);
    CHECK_STR(url, "https://x.supabase.co");
    unsetenv("SUPABASE_URL");
    CHECK(settings_store(&url, &path, err, sizeof err) == -1);
    CHECK(strstr(err, "SUPABASE_KEY is set but SUPABASE_URL is not") != NULL);
    CHECK(strstr(err, "sb_secret_planted") == NULL);        /* the secret is never in a message */
    unset_all();
    CHECK(settings_store(&url, &path, err, sizeof err) == 0);
    CHECK(url == NULL);
    CHECK_STR(path, "./titan.db");
    setenv("TITAN_DB", "", 1);
    CHECK(settings_store(&url, &path, err, sizeof err) == -1);
    CHECK(strstr(err, "TITAN_DB is set but empty") != NULL);
}

/* Half a Telegram configuration is refused; a secret's value is never in the message. */
static void test_telegram_pair(void)
{
    char err[512] = "";
    unset_all();
    setenv("TELEGRAM_BOT_TOKEN", "777:plantedTOKENvalue", 1);
    CHECK(settings_check_all(err, sizeof err) == -1);
    CHECK(strstr(err, "TELEGRAM_BOT_TOKEN is set but TELEGRAM_CHAT_ID is not") != NULL);
    setenv("TELEGRAM_CHAT_ID", "42", 1);
    CHECK(settings_check_all(err, sizeof err) == 0);
    unsetenv("TELEGRAM_BOT_TOKEN");
    CHECK(settings_check_all(err, sizeof err) == -1);
    CHECK(strstr(err, "TELEGRAM_CHAT_ID is set but TELEGRAM_BOT_TOKEN is not") != NULL);
    setenv("TELEGRAM_BOT_TOKEN", "777:planted/TOKEN", 1);
    CHECK(settings_check_all(err, sizeof err) == -1);
    CHECK(strstr(err, "TELEGRAM_BOT_TOKEN (value not shown)") != NULL);
    CHECK(strstr(err, "planted") == NULL);
    unset_all();
}

/* A command-line option with a variable's rule is named as the option. */
static void test_parse_number(void)
{
    char err[512] = "";
    double v = 0;
    CHECK(settings_parse_number("TITAN_PAPER_FEE_BPS", "--fee-bps", "25", &v, err, sizeof err) == 0);
    CHECK(v == 25);
    CHECK(settings_parse_number("TITAN_PAPER_FEE_BPS", "--fee-bps", "20000", &v, err, sizeof err) == -1);
    CHECK(strstr(err, "--fee-bps='20000'") != NULL);
    /* a long or unprintable value is shown cut and cleaned */
    CHECK(settings_parse_number("TITAN_PAPER_CASH", "--cash", "1\n2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &v,
                                err, sizeof err) == -1);
    CHECK(strchr(err, '\n') == NULL);
    CHECK(strstr(err, "...") != NULL);
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    test_every_setting_covered();
    test_supabase_pair();
    test_telegram_pair();
    test_parse_number();
    unset_all();
    return UNIT_DONE("settings");
}
