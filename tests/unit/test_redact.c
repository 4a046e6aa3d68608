/* host/secrets.c redaction: a secret at the start, middle and end, repeated, adjacent,
 * overlapping another (A's tail is B's head), inside another, JSON-escaped; secrets taken
 * from the environment; and console_write, which every stdout/stderr line goes through. */
#include <stdlib.h>

#include "console.h"
#include "secrets.h"
#include "unit.h"

/* Redacts a C string; returns a static copy of the result (NULL on OOM). */
static const char *redact(const char *text)
{
    static char out[4096];
    size_t n = 12345;
    char *r = secrets_redact(text, strlen(text), &n);
    if (!r) return NULL;
    CHECK_INT(n, strlen(r));
    snprintf(out, sizeof out, "%s", r);
    free(r);
    return out;
}

/* The secrets used below: A and B overlap (A's tail "XYZ1" is B's head), SHORT is a
 * substring of LONG, JSON holds '/' and '"', BSL holds a backslash. */
#define A "abcdXYZ1"
#define B "XYZ1efgh"
#define LONG "longsecret-123456"
#define SHORT "secret-1234"
#define JSON_SECRET "ab/cd\"ef+gh"
#define BSL "back\\slash99"

static void test_no_secrets(void)
{
    CHECK_STR(redact("nothing to hide"), "nothing to hide");
    CHECK_STR(redact(""), "");
    size_t n = 99;
    char *r = secrets_redact("", 0, &n);
    CHECK(r != NULL);
    CHECK_INT(n, 0);
    if (r) CHECK_STR(r, "");
    free(r);
}

static void test_positions(void)
{
    CHECK_STR(redact(A), "[redacted]");
    CHECK_STR(redact(A " at start"), "[redacted] at start");
    CHECK_STR(redact("in the " A " middle"), "in the [redacted] middle");
    CHECK_STR(redact("at the end " A), "at the end [redacted]");
    CHECK_STR(redact("glued" A "glued"), "glued[redacted]glued");
    CHECK_STR(redact(A "\n" A "\n"), "[redacted]\n[redacted]\n");
}

static void test_repeated_and_adjacent(void)
{
    CHECK_STR(redact(A " " A " " A), "[redacted] [redacted] [redacted]");
    CHECK_STR(redact("x" A "-" B "x"), "x[redacted]-[redacted]x");
    /* adjacent secrets merge into one marker: no fragment between them */
    CHECK_STR(redact(A A), "[redacted]");
    CHECK_STR(redact("<" LONG JSON_SECRET ">"), "<[redacted]>");
}

static void test_overlaps(void)
{
    /* A's tail is B's head: "abcdXYZ1efgh" holds both; nothing of either may remain */
    CHECK_STR(redact("abcdXYZ1efgh"), "[redacted]");
    CHECK_STR(redact("--abcdXYZ1efgh--"), "--[redacted]--");
    const char *r = redact("key=abcdXYZ1efgh;");
    CHECK(r && !strstr(r, "abcd") && !strstr(r, "efgh") && !strstr(r, "XYZ1"));
    /* a secret inside another: the longer one goes entirely */
    CHECK_STR(redact("x" LONG "x"), "x[redacted]x");
    CHECK_STR(redact(SHORT), "[redacted]");
    CHECK_STR(redact("(" SHORT ")(" LONG ")"), "([redacted])([redacted])");
    /* a partial secret is not a secret (no false positives) */
    CHECK_STR(redact("abcdXYZ"), "abcdXYZ");
    CHECK_STR(redact("secret-123"), "secret-123");
}

static void test_json_forms(void)
{
    CHECK_STR(redact(JSON_SECRET), "[redacted]");
    /* lua-cjson escapes '/' and '"' */
    CHECK_STR(redact("{\"k\":\"ab\\/cd\\\"ef+gh\"}"), "{\"k\":\"[redacted]\"}");
    /* JSON writers that leave '/' alone */
    CHECK_STR(redact("{\"k\":\"ab/cd\\\"ef+gh\"}"), "{\"k\":\"[redacted]\"}");
    CHECK_STR(redact(BSL), "[redacted]");
    CHECK_STR(redact("{\"k\":\"back\\\\slash99\"}"), "{\"k\":\"[redacted]\"}");
    /* JSON inside JSON (a JSON body logged as a string): the escapes double */
    CHECK_STR(redact("{\"body\":\"{\\\"k\\\":\\\"ab\\\\\\/cd\\\\\\\"ef+gh\\\"}\"}"),
              "{\"body\":\"{\\\"k\\\":\\\"[redacted]\\\"}\"}");
    CHECK_STR(redact("ab/cd\\\\\\\"ef+gh"), "[redacted]");      /* plain inside plain */
    CHECK_STR(redact("ab\\/cd\\\"ef+gh"), "[redacted]");        /* cjson once */
    CHECK_STR(redact("ab\\\\/cd\\\\\\\"ef+gh"), "[redacted]"); /* cjson inside plain */
    CHECK_STR(redact("back\\\\\\\\slash99"), "[redacted]");
    /* percent-encoded in a URL or form body */
    CHECK_STR(redact("https://x.test/?key=ab%2Fcd%22ef%2Bgh&n=1"), "https://x.test/?key=[redacted]&n=1");
    CHECK_STR(redact("k=back%5Cslash99"), "k=[redacted]");
    /* an escaped secret right after the plain one */
    CHECK_STR(redact(JSON_SECRET "ab\\/cd\\\"ef+gh"), "[redacted]");
}

static void test_binary_and_long(void)
{
    /* text with NUL bytes: redaction works on lengths, not C strings */
    const char text[] = "a\0" A "\0b";
    size_t n = 0;
    char *r = secrets_redact(text, sizeof text - 1, &n);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(n, 14);
        CHECK(memcmp(r, "a\0[redacted]\0b", 14) == 0);
    }
    free(r);
    /* many secrets in a long line */
    char *big = malloc(100 * 9 + 1);
    if (big) {
        big[0] = '\0';
        for (int i = 0; i < 100; i++) strcat(big, A "_");
        char *out = secrets_redact(big, strlen(big), &n);
        CHECK(out && !strstr(out, "abcd") && !strstr(out, "XYZ"));
        free(out);
        free(big);
    }
}

static void test_console(void)
{
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f) return;
    console_printf(f, "key=%s and %s\n", A, JSON_SECRET);
    console_write(f, "B=" B "\n", strlen("B=" B "\n"));
    rewind(f);
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    CHECK_INT(n, strlen("key=[redacted] and [redacted]\nB=[redacted]\n"));
    CHECK_STR(buf, "key=[redacted] and [redacted]\nB=[redacted]\n");
}

static void test_environment(void)
{
    secrets_shutdown();
    CHECK_STR(redact(A), A); /* forgotten after shutdown */
    setenv("KRAKEN_API_KEY", "kraken-key/+value", 1);
    setenv("GEMINI_API_KEY", "gemini\"quoted", 1);
    setenv("OPENAI_API_KEY", "", 1); /* empty: nothing to redact */
    unsetenv("GROQ_API_KEY");
    setenv("SYSTEM_MODE", "PAPER", 1); /* configuration, not a secret */
    secrets_init();
    CHECK_STR(secrets_value("KRAKEN_API_KEY"), "kraken-key/+value");
    CHECK(secrets_value("OPENAI_API_KEY") == NULL);
    CHECK(secrets_value("GROQ_API_KEY") == NULL);
    CHECK(secrets_value("SYSTEM_MODE") == NULL);
    CHECK(secrets_value(NULL) == NULL);
    for (int i = 0; i < SECRETS_COUNT; i++) CHECK(secrets_is_secret_name(secrets_names[i]));
    CHECK(!secrets_is_secret_name("SYSTEM_MODE"));
    CHECK(!secrets_is_secret_name("SUPABASE_URL"));
    CHECK(!secrets_is_secret_name("kraken_api_key"));
    CHECK(!secrets_is_secret_name(NULL));
    CHECK_STR(redact("k=kraken-key/+value g=gemini\"quoted"), "k=[redacted] g=[redacted]");
    CHECK_STR(redact("{\"k\":\"kraken-key\\/+value\",\"g\":\"gemini\\\"quoted\"}"),
              "{\"k\":\"[redacted]\",\"g\":\"[redacted]\"}");
    CHECK_STR(redact("mode PAPER"), "mode PAPER");
    /* a value changed in the environment later is not picked up: captured once */
    setenv("KRAKEN_API_KEY", "changed", 1);
    secrets_init();
    CHECK_STR(secrets_value("KRAKEN_API_KEY"), "kraken-key/+value");
    secrets_shutdown();
    CHECK(secrets_value("KRAKEN_API_KEY") == NULL);
    CHECK_STR(redact("k=kraken-key/+value"), "k=kraken-key/+value");
}

int main(void)
{
    test_no_secrets();
    secrets_add_redaction(A);
    secrets_add_redaction(B);
    secrets_add_redaction(LONG);
    secrets_add_redaction(SHORT);
    secrets_add_redaction(JSON_SECRET);
    secrets_add_redaction(BSL);
    secrets_add_redaction("");   /* ignored */
    secrets_add_redaction(NULL); /* ignored */
    CHECK_STR(redact("empty secrets are ignored"), "empty secrets are ignored");
    test_positions();
    test_repeated_and_adjacent();
    test_overlaps();
    test_json_forms();
    test_binary_and_long();
    test_console();
    test_environment();
    return UNIT_DONE("test_redact");
}
