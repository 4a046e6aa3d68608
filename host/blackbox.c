/* The flight recorder. Redaction happens on the final line, after JSON encoding, so every
 * spelling of a secret that reaches the file is caught in one place; then bytes that are not
 * UTF-8 become \ufffd, so every line parses as JSON. */
#include "blackbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "console.h"
#include "secrets.h"
#include "settings.h"
#include "strbuf.h"

static FILE *blackbox_file;
static char *blackbox_file_path;
static char *blackbox_cycle;
static int blackbox_failed;      /* reported once, then silent */
static int blackbox_stderr_min = BLACKBOX_INFO;

static const char *const blackbox_names[] = {"debug", "info", "warn", "error"};

const char *blackbox_level_name(blackbox_level level) { return blackbox_names[level]; }

void blackbox_set_stderr_level(blackbox_level level) { blackbox_stderr_min = level; }

const char *blackbox_path(void) { return blackbox_file_path ? blackbox_file_path : "./blackbox.log"; }

void blackbox_init(void)
{
    /* A bad value keeps the default here and is refused at start-up (settings_check_all). */
    const char *path = NULL;
    char ignored[256];
    settings_text("TITAN_BLACKBOX", &path, ignored, sizeof ignored);
    free(blackbox_file_path);
    blackbox_file_path = strdup(path ? path : "./blackbox.log");
    int level = BLACKBOX_INFO;
    settings_choice("TITAN_LOG_LEVEL", &level, ignored, sizeof ignored);
    blackbox_stderr_min = level;
}

void blackbox_close(void)
{
    if (blackbox_file) fclose(blackbox_file);
    blackbox_file = NULL;
    free(blackbox_file_path);
    blackbox_file_path = NULL;
    free(blackbox_cycle);
    blackbox_cycle = NULL;
    blackbox_failed = 0;
}

void blackbox_set_cycle(const char *cycle_id)
{
    free(blackbox_cycle);
    blackbox_cycle = cycle_id ? strdup(cycle_id) : NULL;
}

static void blackbox_report_failure(const char *what)
{
    if (blackbox_failed) return;
    blackbox_failed = 1;
    console_printf(stderr, "titan-host: warning: cannot %s blackbox log %s: %s (events go to stderr only)\n", what,
                   blackbox_path(), strerror(errno));
}

static void blackbox_write_file(const char *line, size_t len)
{
    if (blackbox_failed) return;
    if (!blackbox_file) {
        if (!blackbox_file_path) blackbox_init();
        blackbox_file = fopen(blackbox_file_path, "a");
        if (!blackbox_file) { blackbox_report_failure("open"); return; }
    }
    if (fwrite(line, 1, len, blackbox_file) != len || fflush(blackbox_file) != 0) {
        blackbox_report_failure("write");
        fclose(blackbox_file);
        blackbox_file = NULL;
    }
}

/* "2026-11-27T04:45:00.000Z info  http.request {...}" — short, for people watching CI logs. */
static void blackbox_write_stderr(const char *ts, blackbox_level level, const char *event, const char *fields)
{
    if ((int)level < blackbox_stderr_min) return;
    strbuf b = {0};
    strbuf_printf(&b, "%s %-5s ", ts, blackbox_names[level]);
    /* A name with anything but name characters is shown as a JSON string: a script must not be
     * able to forge a line (a newline and a fake event) in the CI log. */
    size_t len = strlen(event);
    if (len > 0 && strspn(event, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-/") == len)
        strbuf_puts(&b, event);
    else
        strbuf_json_string(&b, event, len);
    if (fields && strcmp(fields, "{}") != 0) {
        strbuf_puts(&b, " ");
        strbuf_append_utf8_json(&b, fields, strlen(fields));
    }
    strbuf_puts(&b, "\n");
    if (!b.oom) console_write(stderr, b.data, b.len);
    strbuf_free(&b);
}

void blackbox_log(blackbox_level level, const char *event, const char *fields_json)
{
    char ts[CLOCK_ISO_SIZE];
    clock_iso(clock_now_ms(), ts);
    strbuf line = {0};
    strbuf_printf(&line, "{\"ts\":\"%s\",\"lvl\":\"%s\",\"ev\":", ts, blackbox_names[level]);
    strbuf_json_string(&line, event, strlen(event));
    strbuf_puts(&line, ",\"cycle\":");
    if (blackbox_cycle) strbuf_json_string(&line, blackbox_cycle, strlen(blackbox_cycle));
    else strbuf_puts(&line, "null");
    /* Merge the members of fields_json: skip its '{' and keep the rest, '}' included. */
    const char *f = fields_json;
    while (f && (*f == ' ' || *f == '\n')) f++;
    if (f && *f == '{') {
        const char *inner = f + 1;
        while (*inner == ' ' || *inner == '\n') inner++;
        if (*inner != '}') strbuf_puts(&line, ",");
        strbuf_puts(&line, inner);
    } else {
        strbuf_puts(&line, "}");
    }
    strbuf_puts(&line, "\n");
    if (line.oom) { strbuf_free(&line); return; }
    size_t clean_len = 0;
    char *clean = secrets_redact(line.data, line.len, &clean_len);
    if (clean) {
        /* Every line is valid JSON, hence UTF-8: the fields may come from lua-cjson, which copies
         * a string's bytes as they are. (After redaction, so a secret is matched as it was.) */
        strbuf utf8 = {0};
        strbuf_append_utf8_json(&utf8, clean, clean_len);
        if (!utf8.oom) blackbox_write_file(strbuf_cstr(&utf8), utf8.len);
        strbuf_free(&utf8);
    }
    free(clean);
    strbuf_free(&line);
    blackbox_write_stderr(ts, level, event, fields_json);
}

void blackbox_emit(blackbox_level level, const char *event, strbuf *fields)
{
    strbuf_puts(fields, "}");
    blackbox_log(level, event, fields->oom ? NULL : fields->data);
    strbuf_free(fields);
}
