/* The tape: what a cycle's decision read from the outside world, recorded while `run` reads the
 * market and runs the strategy, and played back by `replay` so the same bytes reach the same
 * parsers. It holds every Kraken answer (method, params as sent, status, body), every titan.http
 * exchange (method, URL and body of the request; status, headers and body of the answer, or the
 * failure), the clock as Lua read it, and the environment variables Lua read. Never a request
 * header, so never a key. One tape per process: the hooks sit in kraken.c, bindings/http.c,
 * bindings/time.c and the sandbox's os.getenv. */
#ifndef TITAN_TAPE_H
#define TITAN_TAPE_H
#include <stddef.h>
#include <stdint.h>

#include "http.h"

typedef struct tape_header {
    const char *name, *value;
} tape_header;

/* One exchange. In a tape its strings are malloc'd (tape_add_* copies them); NULL = absent. */
typedef struct tape_exchange {
    const char *method;    /* Kraken method ("Ticker") or HTTP method ("POST") */
    const char *target;    /* Kraken: the params as sent, sorted and encoded (never the nonce); HTTP: the URL */
    int is_private;        /* Kraken: a signed call */
    const char *request_body;   /* HTTP: what was sent (an AI prompt); Kraken: NULL */
    long status;           /* 0 when the transfer failed */
    const char *body;
    size_t body_len;
    tape_header *headers;  /* HTTP answers only */
    size_t n_headers;
    long elapsed_ms;
    int attempts;
    const char *error_code, *error_message;   /* a failed transfer (http.timeout, ...) */
    int retryable, sent;
} tape_exchange;

typedef struct tape_env {
    const char *name, *value;   /* value NULL: the variable was unset (or hidden from Lua) */
} tape_env;

typedef struct tape {
    tape_exchange *kraken, *http;
    size_t n_kraken, n_http, cap_kraken, cap_http;
    int64_t *clock;
    size_t n_clock, cap_clock;
    tape_env *env;
    size_t n_env, cap_env;
} tape;

/* Adds an exchange (deep-copied from e); the new entry, or NULL when out of memory. */
tape_exchange *tape_add_kraken(tape *t, const tape_exchange *e);
tape_exchange *tape_add_http(tape *t, const tape_exchange *e);
int tape_add_clock(tape *t, int64_t ms);
int tape_add_env(tape *t, const char *name, const char *value);
void tape_free(tape *t);
/* Frees what one exchange owns (not the exchange itself) and zeroes it. */
void tape_exchange_free(tape_exchange *e);

/* ---- recording (run) ---- */
/* Starts recording into an empty tape; a tape already recorded is dropped. */
void tape_record_begin(void);
/* Stops recording; what was recorded stays until taken. */
void tape_record_end(void);
/* Moves what was recorded into *out (the caller frees it with tape_free). */
void tape_take(tape *out);

/* ---- playing (replay) ---- */
/* Answers from t (borrowed until tape_play_end) instead of the network, the clock and the
 * environment. now_ms is the clock once the recorded readings are used up. */
void tape_play_begin(const tape *t, int64_t now_ms);
void tape_play_end(void);
int tape_playing(void);
/* What the play noticed, for the replay's report: calls the tape could not answer (each made
 * the caller fail with replay.unrecorded), requests whose body differed from the recorded one
 * (answered anyway: an edited strategy asks differently), variables Lua read that were not
 * recorded (nil). *notes is one line per event ("" when none); owned by the tape. */
typedef struct tape_play_report {
    int unrecorded, changed_requests, unrecorded_env;
    const char *notes;
} tape_play_report;
tape_play_report tape_play_result(void);

/* ---- the hooks ---- */
/* Kraken (kraken_request). Playing: fills *res from the tape (an unrecorded call fails with
 * replay.unrecorded) and returns 0; otherwise returns -1 and the caller performs the request,
 * then hands the answer to tape_kraken_record (which keeps it while recording). */
int tape_kraken_play(const char *method, int is_private, const char *params, http_response *res);
void tape_kraken_record(const char *method, int is_private, const char *params, const http_response *res);
/* titan.http (bindings/http.c), the same way for n requests at once. */
int tape_http_play(const http_request *reqs, http_response *res, size_t n);
void tape_http_record(const http_request *reqs, const http_response *res, size_t n);
/* titan.time's clock: the recorded reading while playing; clock_now_ms() otherwise (recorded). */
int64_t tape_clock_now(void);
/* os.getenv from Lua: `live` is what the sandbox would return; while playing, the recorded value
 * instead (NULL when not recorded). */
const char *tape_getenv(const char *name, const char *live);
#endif
