/* blackbox.log: the flight recorder. JSON Lines, one event per line, flushed as written,
 * every line redacted of secrets, plus a short readable line on stderr. */
#ifndef TITAN_BLACKBOX_H
#define TITAN_BLACKBOX_H

typedef enum { BLACKBOX_DEBUG, BLACKBOX_INFO, BLACKBOX_WARN, BLACKBOX_ERROR } blackbox_level;

/* Opens (appends to) TITAN_BLACKBOX or ./blackbox.log lazily on the first event. */
void blackbox_init(void);
void blackbox_close(void);
/* The cycle id stamped on every event (NULL = none). Copied. */
void blackbox_set_cycle(const char *cycle_id);
/* Logs one event. fields_json is a JSON object text ("{...}") whose members are merged into
 * the line, or NULL. A log that cannot be written is reported once on stderr, never fatal. */
void blackbox_log(blackbox_level level, const char *event, const char *fields_json);
/* Logs the fields begun with "{" in *fields (closing the object), then frees *fields: events
 * built with strbuf_json_* members. */
struct strbuf;
void blackbox_emit(blackbox_level level, const char *event, struct strbuf *fields);
const char *blackbox_level_name(blackbox_level level);
/* The lowest level echoed on stderr (TITAN_LOG_LEVEL sets it at start-up). */
void blackbox_set_stderr_level(blackbox_level level);
/* The path events go to (for messages). */
const char *blackbox_path(void);
#endif
