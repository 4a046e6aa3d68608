/* The secret environment variables (design section 3): read once at start-up, kept in C,
 * and redacted from every byte titan-host writes (blackbox, stdout, stderr). */
#ifndef TITAN_SECRETS_H
#define TITAN_SECRETS_H
#include <stddef.h>

#define SECRETS_COUNT 11
extern const char *const secrets_names[SECRETS_COUNT];

/* Captures the values of the secret variables from the environment. Call once, first. */
void secrets_init(void);
/* Drops captured values (wiped) — for tests and at exit. */
void secrets_shutdown(void);
/* Registers an extra value to redact (tests; or a value derived from a secret). */
void secrets_add_redaction(const char *value);
/* For a replay, which sends nothing: every secret value is wiped and each secret in `names`
 * (NULL-terminated) gets a placeholder instead, so the code that needs a key configured runs while
 * no real key can reach anything. The real values stay redacted from every output. */
void secrets_use_placeholders(const char *const *names);
/* 1 when `name` is one of the secret variable names. */
int secrets_is_secret_name(const char *name);
/* 1 when Lua may hold a titan.secret handle for `name`: the AI keys only. The exchange and
 * store credentials and the notification channels' tokens and webhook URLs are used by C alone. */
int secrets_lua_may_hold(const char *name);
/* The value of a secret variable, or NULL when unset/empty or not a secret name.
 * Never hand this to Lua. */
const char *secrets_value(const char *name);

/* Redacts every occurrence of every secret value (raw, JSON-escaped once or twice, URL-encoded) in
 * text[0..len). Overlapping matches are merged into one `[redacted]`. Returns a malloc'd,
 * NUL-terminated string (caller frees) and its length in *out_len; NULL on out-of-memory. */
char *secrets_redact(const char *text, size_t len, size_t *out_len);
#endif
