/* Secret values live only here. Redaction marks every byte covered by any occurrence of any
 * secret form, then replaces each covered run by `[redacted]`, so overlapping secrets and
 * repeats leave no fragment behind. */
#include "secrets.h"

#include <stdlib.h>
#include <string.h>

const char *const secrets_names[SECRETS_COUNT] = {
    "KRAKEN_API_KEY", "KRAKEN_SECRET",      "SUPABASE_KEY",      "OPENAI_API_KEY",    "GROQ_API_KEY",
    "GEMINI_API_KEY", "TELEGRAM_BOT_TOKEN", "DISCORD_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "TITAN_WEBHOOK_URL",
    "TITAN_WEBHOOK_SECRET",
};

#define SECRETS_MAX_FORMS 256 /* 11 secrets x 8 spellings, plus extras */
static char *secrets_values[SECRETS_COUNT];
/* Every string to redact: the raw values and their JSON- and URL-encoded spellings. */
static char *secrets_forms[SECRETS_MAX_FORMS];
static size_t secrets_form_count;

static void secrets_add_form(const char *form)
{
    if (!form || !*form || secrets_form_count >= SECRETS_MAX_FORMS) return;
    for (size_t i = 0; i < secrets_form_count; i++)
        if (strcmp(secrets_forms[i], form) == 0) return;
    char *copy = strdup(form);
    if (copy) secrets_forms[secrets_form_count++] = copy;
}

/* JSON-escapes value (quotes and backslashes, and '/' when `slash`): malloc'd, or NULL. */
static char *secrets_json_escape(const char *value, int slash)
{
    size_t n = strlen(value);
    char *out = malloc(n * 2 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = value[i];
        if (c == '"' || c == '\\' || (slash && c == '/')) out[o++] = '\\';
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

/* Percent-encodes value as curl and strbuf_urlencode do (RFC 3986 unreserved kept). */
static char *secrets_url_escape(const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(value);
    char *out = malloc(n * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* JSON writers escape `/` as `\/` (lua-cjson does) or not (strbuf_json_string), and quote `"`
 * and `\`; text JSON-encoded twice (a JSON body logged as a string field) doubles the escapes;
 * URLs and form bodies percent-encode. Redact all those spellings, so an encoded secret cannot
 * slip through. */
static void secrets_add_encoded_forms(const char *value)
{
    char *once[2] = {secrets_json_escape(value, 1), secrets_json_escape(value, 0)};
    for (int a = 0; a < 2; a++) {
        if (!once[a]) continue;
        secrets_add_form(once[a]);
        for (int b = 0; b < 2; b++) {
            char *twice = secrets_json_escape(once[a], b == 0);
            secrets_add_form(twice);
            free(twice);
        }
    }
    free(once[0]);
    free(once[1]);
    char *url = secrets_url_escape(value);
    secrets_add_form(url);
    free(url);
}

void secrets_add_redaction(const char *value)
{
    if (!value || !*value) return;
    secrets_add_form(value);
    secrets_add_encoded_forms(value);
}

void secrets_init(void)
{
    for (int i = 0; i < SECRETS_COUNT; i++) {
        const char *v = getenv(secrets_names[i]);
        if (v && *v && !secrets_values[i]) {
            secrets_values[i] = strdup(v);
            secrets_add_redaction(v);
        }
    }
}

static void secrets_wipe_free(char *s)
{
    if (!s) return;
    volatile char *p = s;
    while (*p) *p++ = 0;
    free(s);
}

void secrets_shutdown(void)
{
    for (int i = 0; i < SECRETS_COUNT; i++) {
        secrets_wipe_free(secrets_values[i]);
        secrets_values[i] = NULL;
    }
    for (size_t i = 0; i < secrets_form_count; i++) secrets_wipe_free(secrets_forms[i]);
    secrets_form_count = 0;
}

void secrets_use_placeholders(const char *const *names)
{
    for (int i = 0; i < SECRETS_COUNT; i++) {
        secrets_wipe_free(secrets_values[i]);
        secrets_values[i] = NULL;
        for (size_t k = 0; names && names[k]; k++)
            if (strcmp(names[k], secrets_names[i]) == 0) secrets_values[i] = strdup("replay-placeholder-not-a-key");
    }
}

int secrets_is_secret_name(const char *name)
{
    for (int i = 0; i < SECRETS_COUNT; i++)
        if (name && strcmp(name, secrets_names[i]) == 0) return 1;
    return 0;
}

int secrets_lua_may_hold(const char *name)
{
    static const char *const ai_keys[] = {"OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY"};
    for (size_t i = 0; i < sizeof ai_keys / sizeof ai_keys[0]; i++)
        if (name && strcmp(name, ai_keys[i]) == 0) return 1;
    return 0;
}

const char *secrets_value(const char *name)
{
    for (int i = 0; i < SECRETS_COUNT; i++)
        if (name && strcmp(name, secrets_names[i]) == 0) return secrets_values[i];
    return NULL;
}

static const char secrets_marker[] = "[redacted]";

char *secrets_redact(const char *text, size_t len, size_t *out_len)
{
    unsigned char *covered = NULL;
    for (size_t f = 0; f < secrets_form_count; f++) {
        const char *form = secrets_forms[f];
        size_t flen = strlen(form);
        if (flen > len) continue;
        for (size_t i = 0; i + flen <= len; i++) {
            if (text[i] != form[0] || memcmp(text + i, form, flen) != 0) continue;
            if (!covered && !(covered = calloc(len, 1))) return NULL;
            memset(covered + i, 1, flen);
        }
    }
    size_t cap = len + 1;
    if (covered) cap = len * (sizeof secrets_marker) + 1; /* worst case, bounded */
    char *out = malloc(cap);
    if (!out) { free(covered); return NULL; }
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (covered && covered[i]) {
            memcpy(out + o, secrets_marker, sizeof secrets_marker - 1);
            o += sizeof secrets_marker - 1;
            while (i < len && covered[i]) i++;
        } else {
            out[o++] = text[i++];
        }
    }
    out[o] = '\0';
    free(covered);
    if (out_len) *out_len = o;
    return out;
}
