/* The tape (tape.h). Playback matches a Kraken call by method, signing and params, and serves
 * the recorded answers of that call in order; a repeat beyond them gets the last one again (the
 * same read of the same instant). A titan.http request is matched by method and URL, in order,
 * and never answered twice: an AI answer is not a read that can be repeated. */
#include "tape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "jsondoc.h"
#include "strbuf.h"

typedef enum { TAPE_OFF, TAPE_RECORDING, TAPE_PLAYING } tape_mode;

static struct {
    tape_mode mode;
    tape recorded;
    const tape *play;
    unsigned char *kraken_used, *http_used;
    size_t clock_next;
    int64_t clock_last;
    tape_play_report report;
    strbuf notes;
} tape_now;

/* ---- building a tape --------------------------------------------------------------------- */

static char *tape_dup(const char *s) { return s ? strdup(s) : NULL; }

static char *tape_dup_bytes(const char *s, size_t len)
{
    if (!s) return NULL;
    char *p = malloc(len + 1);
    if (!p) return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void tape_exchange_free(tape_exchange *e)
{
    free((void *)e->method), free((void *)e->target), free((void *)e->request_body), free((void *)e->body);
    free((void *)e->error_code), free((void *)e->error_message);
    for (size_t i = 0; i < e->n_headers; i++) free((void *)e->headers[i].name), free((void *)e->headers[i].value);
    free(e->headers);
    memset(e, 0, sizeof *e);
}

/* Room for one more element of size `elem` in *arr; 0, or -1 when out of memory. */
static int tape_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, ncap * elem);
    if (!p) return -1;
    *arr = p, *cap = ncap;
    return 0;
}

static tape_exchange *tape_add(tape_exchange **list, size_t *n, size_t *cap, const tape_exchange *e)
{
    if (tape_grow((void **)list, cap, *n, sizeof **list) != 0) return NULL;
    tape_exchange *c = &(*list)[*n];
    memset(c, 0, sizeof *c);
    *c = (tape_exchange){.is_private = e->is_private, .status = e->status, .body_len = e->body_len,
                         .elapsed_ms = e->elapsed_ms, .attempts = e->attempts, .retryable = e->retryable,
                         .sent = e->sent};
    c->method = tape_dup(e->method);
    c->target = tape_dup(e->target);
    c->request_body = tape_dup(e->request_body);
    c->body = tape_dup_bytes(e->body, e->body_len);
    c->error_code = tape_dup(e->error_code);
    c->error_message = tape_dup(e->error_message);
    int bad = (e->method && !c->method) || (e->target && !c->target) || (e->request_body && !c->request_body) ||
              (e->body && !c->body) || (e->error_code && !c->error_code) || (e->error_message && !c->error_message);
    if (!bad && e->n_headers) {
        c->headers = calloc(e->n_headers, sizeof *c->headers);
        bad = !c->headers;
        for (size_t i = 0; !bad && i < e->n_headers; i++) {
            tape_header *h = &c->headers[i];
            h->name = tape_dup(e->headers[i].name);
            h->value = tape_dup(e->headers[i].value);
            c->n_headers = i + 1;
            bad = !h->name || !h->value;
        }
    }
    if (bad) {
        tape_exchange_free(c);
        return NULL;
    }
    (*n)++;
    return c;
}

tape_exchange *tape_add_kraken(tape *t, const tape_exchange *e)
{
    return tape_add(&t->kraken, &t->n_kraken, &t->cap_kraken, e);
}

tape_exchange *tape_add_http(tape *t, const tape_exchange *e) { return tape_add(&t->http, &t->n_http, &t->cap_http, e); }

int tape_add_clock(tape *t, int64_t ms)
{
    if (tape_grow((void **)&t->clock, &t->cap_clock, t->n_clock, sizeof *t->clock) != 0) return -1;
    t->clock[t->n_clock++] = ms;
    return 0;
}

int tape_add_env(tape *t, const char *name, const char *value)
{
    for (size_t i = 0; i < t->n_env; i++)
        if (strcmp(t->env[i].name, name) == 0) return 0;     /* the first reading is the one */
    if (tape_grow((void **)&t->env, &t->cap_env, t->n_env, sizeof *t->env) != 0) return -1;
    tape_env *v = &t->env[t->n_env];
    char *n = strdup(name), *val = tape_dup(value);
    if (!n || (value && !val)) {
        free(n), free(val);
        return -1;
    }
    v->name = n, v->value = val;
    t->n_env++;
    return 0;
}

void tape_free(tape *t)
{
    for (size_t i = 0; i < t->n_kraken; i++) tape_exchange_free(&t->kraken[i]);
    for (size_t i = 0; i < t->n_http; i++) tape_exchange_free(&t->http[i]);
    for (size_t i = 0; i < t->n_env; i++) free((void *)t->env[i].name), free((void *)t->env[i].value);
    free(t->kraken), free(t->http), free(t->clock), free(t->env);
    memset(t, 0, sizeof *t);
}

/* ---- recording ------------------------------------------------------------------------------- */

void tape_record_begin(void)
{
    tape_free(&tape_now.recorded);
    tape_now.mode = TAPE_RECORDING;
}

void tape_record_end(void)
{
    if (tape_now.mode == TAPE_RECORDING) tape_now.mode = TAPE_OFF;
}

void tape_take(tape *out)
{
    *out = tape_now.recorded;
    memset(&tape_now.recorded, 0, sizeof tape_now.recorded);
}

/* An exchange as the tape keeps it: the answer of res (borrowed pointers, copied by tape_add). */
static tape_exchange tape_answer_of(const http_response *res)
{
    return (tape_exchange){.status = res->status, .body = res->body, .body_len = res->body ? res->body_len : 0,
                           .elapsed_ms = res->elapsed_ms, .attempts = res->attempts,
                           .error_code = res->error_code,
                           .error_message = res->error_code ? res->error_message : NULL,
                           .retryable = res->retryable, .sent = res->request_sent};
}

void tape_kraken_record(const char *method, int is_private, const char *params, const http_response *res)
{
    if (tape_now.mode != TAPE_RECORDING) return;
    tape_exchange e = tape_answer_of(res);
    e.method = method;
    e.target = params;
    e.is_private = is_private;
    tape_add_kraken(&tape_now.recorded, &e);   /* out of memory: the capsule lacks it, replay says so */
}

void tape_http_record(const http_request *reqs, const http_response *res, size_t n)
{
    if (tape_now.mode != TAPE_RECORDING) return;
    for (size_t i = 0; i < n; i++) {
        tape_exchange e = tape_answer_of(&res[i]);
        e.method = reqs[i].method;
        e.target = reqs[i].url;
        /* the body as text: AI prompts are JSON; a body with a NUL byte is cut there */
        char *body = reqs[i].body ? tape_dup_bytes(reqs[i].body, reqs[i].body_len) : NULL;
        e.request_body = body;
        tape_header headers[256];
        size_t nh = res[i].header_count < 256 ? res[i].header_count : 256;
        for (size_t h = 0; h < nh; h++) headers[h] = (tape_header){res[i].headers[h].name, res[i].headers[h].value};
        e.headers = headers;
        e.n_headers = nh;
        tape_add_http(&tape_now.recorded, &e);
        free(body);
    }
}

/* ---- playing --------------------------------------------------------------------------------- */

void tape_play_begin(const tape *t, int64_t now_ms)
{
    tape_play_end();
    tape_now.play = t;
    tape_now.kraken_used = calloc(t->n_kraken + 1, 1);
    tape_now.http_used = calloc(t->n_http + 1, 1);
    tape_now.clock_next = 0;
    tape_now.clock_last = now_ms;
    tape_now.mode = TAPE_PLAYING;
}

void tape_play_end(void)
{
    if (tape_now.mode == TAPE_PLAYING) tape_now.mode = TAPE_OFF;
    free(tape_now.kraken_used);
    free(tape_now.http_used);
    tape_now.kraken_used = tape_now.http_used = NULL;
    tape_now.play = NULL;
    strbuf_free(&tape_now.notes);
    memset(&tape_now.report, 0, sizeof tape_now.report);
}

int tape_playing(void) { return tape_now.mode == TAPE_PLAYING; }

tape_play_report tape_play_result(void)
{
    tape_play_report r = tape_now.report;
    r.notes = strbuf_cstr(&tape_now.notes);
    return r;
}

static void tape_note(const char *what, const char *method, const char *target, const char *detail)
{
    strbuf_printf(&tape_now.notes, "%s: %s %.300s%s%s\n", what, method, target ? target : "", detail ? " — " : "",
                  detail ? detail : "");
}

/* Fills res with the recorded answer e (copies, freed by http_response_free). */
static void tape_serve(const tape_exchange *e, http_response *res)
{
    memset(res, 0, sizeof *res);
    res->status = e->status;
    res->elapsed_ms = e->elapsed_ms;
    res->attempts = e->attempts;
    if (e->error_code) {
        /* the codes the HTTP layer uses are static strings: map back to one of them */
        static const char *const codes[] = {"http.timeout", "http.connect", "http.dns", "http.tls",
                                            "http.too_large", "http.memory_budget", "http.protocol", "http.offline"};
        res->error_code = "http.protocol";
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
            if (strcmp(codes[i], e->error_code) == 0) res->error_code = codes[i];
        snprintf(res->error_message, sizeof res->error_message, "%s", e->error_message ? e->error_message : "");
        res->retryable = e->retryable;
        res->request_sent = e->sent;
        return;
    }
    if (e->body) {
        res->body = tape_dup_bytes(e->body, e->body_len);
        res->body_len = res->body ? e->body_len : 0;
    }
    if (e->n_headers && (res->headers = calloc(e->n_headers, sizeof *res->headers))) {
        for (size_t i = 0; i < e->n_headers; i++) {
            res->headers[i].name = tape_dup(e->headers[i].name);
            res->headers[i].value = tape_dup(e->headers[i].value);
            if (!res->headers[i].name || !res->headers[i].value) {
                free(res->headers[i].name), free(res->headers[i].value);
                break;
            }
            res->header_count = i + 1;
        }
    }
}

static void tape_unrecorded(http_response *res, const char *what, const char *method, const char *target)
{
    memset(res, 0, sizeof *res);
    res->error_code = "replay.unrecorded";
    snprintf(res->error_message, sizeof res->error_message,
             "replay: %s %s %.200s was not recorded in the capsule (a replay never reaches the network)", what, method,
             target ? target : "");
    tape_now.report.unrecorded++;
    tape_note("unrecorded", method, target, what);
}

static int tape_same(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

int tape_kraken_play(const char *method, int is_private, const char *params, http_response *res)
{
    if (tape_now.mode != TAPE_PLAYING) return -1;
    const tape *t = tape_now.play;
    size_t last = t->n_kraken;
    for (size_t i = 0; i < t->n_kraken; i++) {
        const tape_exchange *e = &t->kraken[i];
        if (e->is_private != is_private || !tape_same(e->method, method) || !tape_same(e->target, params)) continue;
        if (!tape_now.kraken_used[i]) {
            tape_now.kraken_used[i] = 1;
            tape_serve(e, res);
            return 0;
        }
        last = i;
    }
    if (last < t->n_kraken) tape_serve(&t->kraken[last], res);   /* the same read again */
    else tape_unrecorded(res, "Kraken", method, params && *params ? params : "(no params)");
    return 0;
}

/* The same request body: the same bytes, or the same JSON (lua-cjson writes a table's keys in an
 * order that changes from one process to the next). */
static int tape_same_body(const char *recorded, const char *body, size_t len)
{
    size_t want = recorded ? strlen(recorded) : 0;
    if (want == len && (len == 0 || memcmp(recorded, body, len) == 0)) return 1;
    if (!recorded || !body) return 0;
    char *a = jsondoc_canonical(recorded, want), *b = jsondoc_canonical(body, len);
    int same = a && b && strcmp(a, b) == 0;
    free(a), free(b);
    return same;
}

int tape_http_play(const http_request *reqs, http_response *res, size_t n)
{
    if (tape_now.mode != TAPE_PLAYING) return -1;
    const tape *t = tape_now.play;
    for (size_t r = 0; r < n; r++) {
        size_t found = t->n_http;
        for (size_t i = 0; i < t->n_http && found == t->n_http; i++)
            if (!tape_now.http_used[i] && tape_same(t->http[i].method, reqs[r].method) &&
                tape_same(t->http[i].target, reqs[r].url))
                found = i;
        if (found == t->n_http) {
            tape_unrecorded(&res[r], "titan.http", reqs[r].method, reqs[r].url);
            continue;
        }
        const tape_exchange *e = &t->http[found];
        tape_now.http_used[found] = 1;
        if (!tape_same_body(e->request_body, reqs[r].body, reqs[r].body ? reqs[r].body_len : 0)) {
            tape_now.report.changed_requests++;
            tape_note("request changed, recorded answer used", reqs[r].method, reqs[r].url, NULL);
        }
        tape_serve(e, &res[r]);
    }
    return 0;
}

int64_t tape_clock_now(void)
{
    if (tape_now.mode == TAPE_PLAYING) {
        const tape *t = tape_now.play;
        if (tape_now.clock_next < t->n_clock) tape_now.clock_last = t->clock[tape_now.clock_next++];
        return tape_now.clock_last;
    }
    int64_t now = clock_now_ms();
    if (tape_now.mode == TAPE_RECORDING) tape_add_clock(&tape_now.recorded, now);
    return now;
}

const char *tape_getenv(const char *name, const char *live)
{
    if (tape_now.mode == TAPE_RECORDING) tape_add_env(&tape_now.recorded, name, live);
    if (tape_now.mode != TAPE_PLAYING) return live;
    const tape *t = tape_now.play;
    for (size_t i = 0; i < t->n_env; i++)
        if (strcmp(t->env[i].name, name) == 0) return t->env[i].value;
    tape_now.report.unrecorded_env++;
    tape_note("not recorded, read as nil", "os.getenv", name, NULL);
    return NULL;
}
