/* Unit tests of capsules: the tape's record and playback rules (Kraken answers in order and a
 * repeat of the last, titan.http answered once, an unrecorded call failing with replay.unrecorded,
 * the clock and os.getenv), the capsule's JSON round trip through gzip (bodies that are not UTF-8,
 * exact numbers, a redacted secret), damaged input refused with a reason, the file name, and the
 * cycle_capsules table on a real SQLite file (upsert, list by range, pruning by its trigger). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capsule.h"
#include "clock.h"
#include "secrets.h"
#include "store.h"
#include "tape.h"
#include "unit.h"

static http_response answer(long status, const char *body)
{
    http_response r = {.status = status, .body = strdup(body), .body_len = strlen(body), .attempts = 1};
    return r;
}

static void test_tape_kraken(void)
{
    tape_record_begin();
    http_response a1 = answer(200, "{\"error\":[],\"result\":{\"n\":1}}");
    http_response a2 = answer(200, "{\"error\":[],\"result\":{\"n\":2}}");
    tape_kraken_record("OHLC", 0, "interval=15&pair=XBTUSD", &a1);
    tape_kraken_record("OHLC", 0, "interval=15&pair=XBTUSD", &a2);
    http_response fail = {.error_code = "http.timeout", .request_sent = 1, .attempts = 3};
    snprintf(fail.error_message, sizeof fail.error_message, "timed out");
    tape_kraken_record("Balance", 1, "", &fail);
    tape_record_end();
    tape_kraken_record("Ticker", 0, "pair=XBTUSD", &a1);   /* after the end: not kept */
    http_response_free(&a1);
    http_response_free(&a2);
    tape t;
    tape_take(&t);
    CHECK_INT(t.n_kraken, 3);

    tape_play_begin(&t, 1000);
    http_response r;
    CHECK_INT(tape_kraken_play("OHLC", 0, "interval=15&pair=XBTUSD", &r), 0);
    CHECK_STR(r.body, "{\"error\":[],\"result\":{\"n\":1}}");
    http_response_free(&r);
    CHECK_INT(tape_kraken_play("OHLC", 0, "interval=15&pair=XBTUSD", &r), 0);
    CHECK_STR(r.body, "{\"error\":[],\"result\":{\"n\":2}}");
    http_response_free(&r);
    /* a third read of the same call gets the last answer again */
    CHECK_INT(tape_kraken_play("OHLC", 0, "interval=15&pair=XBTUSD", &r), 0);
    CHECK_STR(r.body, "{\"error\":[],\"result\":{\"n\":2}}");
    http_response_free(&r);
    /* a failed transfer plays back as the same failure */
    CHECK_INT(tape_kraken_play("Balance", 1, "", &r), 0);
    CHECK_STR(r.error_code, "http.timeout");
    CHECK_INT(r.request_sent, 1);
    http_response_free(&r);
    /* another interval, or the public twin of a private call, was not recorded */
    CHECK_INT(tape_kraken_play("OHLC", 0, "interval=60&pair=XBTUSD", &r), 0);
    CHECK_STR(r.error_code, "replay.unrecorded");
    CHECK(strstr(r.error_message, "interval=60") != NULL);
    CHECK_INT(tape_kraken_play("Balance", 0, "", &r), 0);
    CHECK_STR(r.error_code, "replay.unrecorded");
    tape_play_report rep = tape_play_result();
    CHECK_INT(rep.unrecorded, 2);
    CHECK(strstr(rep.notes, "unrecorded: OHLC interval=60&pair=XBTUSD") != NULL);
    tape_play_end();
    /* not playing: the caller goes to the network */
    CHECK_INT(tape_kraken_play("OHLC", 0, "interval=15&pair=XBTUSD", &r), -1);
    tape_free(&t);
}

static void test_tape_http(void)
{
    tape_record_begin();
    const char *h[] = {"Authorization: Bearer sk-never-recorded"};
    http_request reqs[2] = {
        {.method = "POST", .url = "https://api.openai.com/v1/chat/completions", .headers = h, .header_count = 1,
         .body = "{\"model\":\"gpt-4o-mini\",\"a\":1,\"b\":2}", .body_len = 35},
        {.method = "POST", .url = "https://api.groq.com/openai/v1/chat/completions", .body = "{}", .body_len = 2},
    };
    char ct[] = "content-type", json_type[] = "application/json";
    http_header headers[] = {{ct, json_type}};
    http_response res[2] = {answer(200, "{\"answer\":\"buy\"}"), answer(429, "slow down")};
    res[0].headers = headers;
    res[0].header_count = 1;
    tape_http_record(reqs, res, 2);
    tape_record_end();
    free(res[0].body);
    free(res[1].body);
    tape t;
    tape_take(&t);
    CHECK_INT(t.n_http, 2);
    CHECK_STR(t.http[0].request_body, "{\"model\":\"gpt-4o-mini\",\"a\":1,\"b\":2}");
    CHECK_INT(t.http[0].n_headers, 1);

    tape_play_begin(&t, 1000);
    /* the same JSON with its keys in another order is the same request */
    http_request again[3] = {reqs[1], reqs[0], reqs[0]};
    again[1].body = "{\"b\":2,\"a\":1,\"model\":\"gpt-4o-mini\"}";
    http_response got[3];
    CHECK_INT(tape_http_play(again, got, 3), 0);
    CHECK_INT(got[0].status, 429);
    CHECK_STR(got[0].body, "slow down");
    CHECK_INT(got[1].status, 200);
    CHECK_STR(http_response_header(&got[1], "content-type"), "application/json");
    CHECK_STR(got[2].error_code, "replay.unrecorded");   /* an AI answer is never served twice */
    tape_play_report rep = tape_play_result();
    CHECK_INT(rep.unrecorded, 1);
    CHECK_INT(rep.changed_requests, 0);
    for (int i = 0; i < 3; i++) http_response_free(&got[i]);
    tape_play_end();

    /* a changed prompt is answered with the recorded answer, and noted */
    tape_play_begin(&t, 1000);
    http_request edited = reqs[0];
    edited.body = "{\"model\":\"gpt-4o-mini\",\"a\":1,\"b\":3}";
    CHECK_INT(tape_http_play(&edited, got, 1), 0);
    CHECK_INT(got[0].status, 200);
    rep = tape_play_result();
    CHECK_INT(rep.changed_requests, 1);
    CHECK(strstr(rep.notes, "request changed") != NULL);
    http_response_free(&got[0]);
    tape_play_end();
    tape_free(&t);
}

static void test_tape_clock_env(void)
{
    setenv("TITAN_FAKE_NOW_MS", "1700000000000", 1);
    setenv("CAPSULE_UNIT_VAR", "hello", 1);
    tape_record_begin();
    CHECK(tape_clock_now() == 1700000000000);
    CHECK_STR(tape_getenv("CAPSULE_UNIT_VAR", getenv("CAPSULE_UNIT_VAR")), "hello");
    CHECK(tape_getenv("CAPSULE_UNSET_VAR", NULL) == NULL);
    tape_record_end();
    unsetenv("TITAN_FAKE_NOW_MS");
    tape t;
    tape_take(&t);
    CHECK_INT(t.n_clock, 1);
    CHECK_INT(t.n_env, 2);
    tape_play_begin(&t, 42);
    setenv("CAPSULE_UNIT_VAR", "changed since", 1);
    CHECK(tape_clock_now() == 1700000000000);
    CHECK(tape_clock_now() == 1700000000000);          /* readings used up: the last one stays */
    CHECK_STR(tape_getenv("CAPSULE_UNIT_VAR", "changed since"), "hello");
    CHECK(tape_getenv("CAPSULE_UNSET_VAR", "now set") == NULL);
    CHECK(tape_getenv("NEVER_READ_WHEN_RECORDED", "x") == NULL);
    CHECK_INT(tape_play_result().unrecorded_env, 1);
    tape_play_end();
    tape_free(&t);
    unsetenv("CAPSULE_UNIT_VAR");
}

/* A small capsule with a body that is not UTF-8 and one holding a planted secret. */
static void fill_capsule(capsule *c, tape *t)
{
    memset(c, 0, sizeof *c);
    c->cycle_id = "unit@2026-11-18T03:00Z";
    c->strategy = "unit";
    c->mode = "PAPER";
    c->pair = "XBTUSD";
    c->host_version = "0.1.0";
    c->interval = 15;
    c->now_ms = 1794970800123;
    c->recorded_ms = 1794970801000;
    c->seed = 9007199254740991;                        /* 2^53 - 1 survives JSON */
    c->file = "strategies/unit.lua";
    c->sha256 = "ab";
    c->source = "return { name = 'unit' } -- PLANTED-SECRET-VALUE-1234567890";
    c->cash = 10000.123456789012;
    c->position = 0.1 + 0.2;
    static store_balance ledger[2] = {{"ZUSD", 9950.5}, {"XXBT", 0.00047}};
    c->ledger = ledger;
    c->ledger_n = 2;
    c->state_json = "{\"ind\":{\"fast\":1.5}}";
    memset(t, 0, sizeof *t);
    tape_exchange k = {.method = "Ticker", .target = "pair=XBTUSD", .status = 200, .body = "\xff\xfe binary \x00 x",
                       .body_len = 13, .attempts = 1};
    tape_add_kraken(t, &k);
    tape_exchange h = {.method = "POST", .target = "https://api.openai.com/v1/chat/completions",
                       .request_body = "{\"model\":\"gpt-4o-mini\"}", .status = 200,
                       .body = "{\"echo\":\"PLANTED-SECRET-VALUE-1234567890\"}", .body_len = 42};
    tape_add_http(t, &h);
    tape_add_clock(t, 1794970800200);
    tape_add_env(t, "OPENAI_MODEL", NULL);
    c->tape = *t;
    c->status = "done";
    c->decision_json = "{\"file\":\"strategies/unit.lua\",\"intents\":[]}";
    c->orders_json = "[]";
    c->strategy_ms = 7;
}

static void test_capsule_round_trip(void)
{
    setenv("OPENAI_API_KEY", "PLANTED-SECRET-VALUE-1234567890", 1);
    secrets_init();
    capsule c;
    tape t;
    fill_capsule(&c, &t);
    size_t len = 0;
    char *json = capsule_to_json(&c, &len);
    CHECK(json != NULL);
    CHECK_MSG(json && !strstr(json, "PLANTED-SECRET-VALUE"), "no secret in the capsule's JSON");
    CHECK_MSG(json && strstr(json, "[redacted]"), "the secret was there, redacted");
    CHECK_MSG(json && strstr(json, "\"body_base64\""), "a body that is not UTF-8 is kept as base64");
    CHECK_MSG(json && strstr(json, "\"provider\":\"openai\",\"model\":\"gpt-4o-mini\""), "provider and model named");
    free(json);
    unsigned char *packed = NULL;
    CHECK_INT(capsule_pack(&c, &packed, &len), 0);
    CHECK(len > 20 && packed[0] == 0x1f && packed[1] == 0x8b);
    capsule back;
    char err[300];
    CHECK_INT(capsule_unpack(packed, len, &back, err, sizeof err), 0);
    CHECK_STR(back.cycle_id, c.cycle_id);
    CHECK(back.seed == c.seed);
    CHECK(back.now_ms == c.now_ms);
    CHECK(back.recorded_ms == c.recorded_ms);
    CHECK(back.cash == c.cash);
    CHECK(back.position == c.position);
    CHECK_INT(back.ledger_n, 2);
    CHECK_STR(back.ledger[0].asset, "XXBT");                 /* sorted, as the store returns it */
    CHECK(back.ledger[1].amount == 9950.5);
    CHECK_STR(back.state_json, c.state_json);
    CHECK_STR(back.decision_json, c.decision_json);
    CHECK_INT(back.tape.n_kraken, 1);
    CHECK_INT(back.tape.kraken[0].body_len, 13);
    CHECK(back.tape.kraken[0].body && memcmp(back.tape.kraken[0].body, "\xff\xfe binary \x00 x", 13) == 0);
    CHECK_STR(back.tape.http[0].body, "{\"echo\":\"[redacted]\"}");
    CHECK_INT(back.tape.n_clock, 1);
    CHECK_INT(back.tape.n_env, 1);
    CHECK(back.tape.env[0].value == NULL);
    CHECK(strstr(back.source, "[redacted]") != NULL);
    capsule_free(&back);

    /* plain JSON reads too; damaged input is refused with a reason, never half-read */
    json = capsule_to_json(&c, &len);
    CHECK_INT(capsule_unpack((unsigned char *)json, len, &back, err, sizeof err), 0);
    capsule_free(&back);
    CHECK_INT(capsule_unpack((unsigned char *)"{\"capsule\":2}", 13, &back, err, sizeof err), -1);
    CHECK(strstr(err, "version 1") != NULL);
    CHECK_INT(capsule_unpack((unsigned char *)"not json", 8, &back, err, sizeof err), -1);
    CHECK(strstr(err, "not JSON") != NULL);
    packed[len / 2] ^= 0x55;
    CHECK_INT(capsule_unpack(packed, len, &back, err, sizeof err), -1);
    unsigned char gz_head[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff};
    CHECK_INT(capsule_unpack(gz_head, sizeof gz_head, &back, err, sizeof err), -1);
    CHECK(strstr(err, "gzip") != NULL);
    char *kraken = strstr(json, "\"kraken\":[");
    if (kraken) {                                      /* an exchange that is not an object */
        char *broken = malloc(strlen(json) + 4);
        size_t at = (size_t)(kraken - json) + 10;
        if (broken) {
            memcpy(broken, json, at);
            strcpy(broken + at, "5,");
            strcpy(broken + at + 2, json + at);
            CHECK_INT(capsule_unpack((unsigned char *)broken, strlen(broken), &back, err, sizeof err), -1);
            CHECK(strstr(err, "exchange of its tape") != NULL);
            free(broken);
        }
    }
    char *missing = strstr(json, "\"strategy_file\"");
    if (missing) memcpy(missing, "\"strategy_fiLE\"", 15);
    CHECK_INT(capsule_unpack((unsigned char *)json, strlen(json), &back, err, sizeof err), -1);
    CHECK(strstr(err, "strategy file") != NULL);
    free(json);
    free(packed);
    tape_free(&t);
    secrets_shutdown();
    unsetenv("OPENAI_API_KEY");
}

static void test_capsule_names(void)
{
    char path[512];
    capsule_file_path("/var/log/titan/blackbox.log", "default@2026-11-27T05:15Z", path, sizeof path);
    CHECK_STR(path, "/var/log/titan/capsule-default@2026-11-27T05-15Z.json.gz");
    capsule_file_path("blackbox.log", "a b/c:d", path, sizeof path);
    CHECK_STR(path, "capsule-a-b-c-d.json.gz");
    capsule_file_path("/blackbox.log", "x", path, sizeof path);
    CHECK_STR(path, "/capsule-x.json.gz");
    size_t n = 0;
    unsigned char bytes[] = {0, 1, 2, 250, 255};
    char *b64 = capsule_base64(bytes, sizeof bytes);
    unsigned char *back = b64 ? capsule_unbase64(b64, &n) : NULL;
    CHECK(back && n == sizeof bytes && memcmp(back, bytes, n) == 0);
    CHECK(capsule_unbase64("not base64!", &n) == NULL);
    free(b64);
    free(back);
}

static void test_store_capsules(const char *dir)
{
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/capsules.db", dir);
    store *st = store_open_sqlite(path, err, sizeof err);
    CHECK_MSG(st != NULL, err);
    if (!st) return;
    const int64_t day = 86400000, t0 = 1794960000000;
    store_capsule a = {"s@1", "s", t0, t0 + 2 * day, "QUFB"}, b = {"s@2", "s", t0 + day, t0 + 3 * day, "QkJC"},
                  other = {"o@1", "o", t0 + day, t0 + 3 * day, "Q0ND"};
    CHECK_INT(store_capsule_put(st, &a, err, sizeof err), STORE_OK);
    CHECK_INT(store_capsule_put(st, &b, err, sizeof err), STORE_OK);
    CHECK_INT(store_capsule_put(st, &other, err, sizeof err), STORE_OK);
    store_capsule got;
    CHECK_INT(store_capsule_get(st, "s@1", &got, err, sizeof err), STORE_OK);
    CHECK_STR(got.capsule_b64, "QUFB");
    CHECK(got.recorded_ms == t0 && got.expires_ms == t0 + 2 * day);
    store_capsule_clear(&got);
    /* a second capsule of the same cycle (a --retry) replaces the first */
    a.capsule_b64 = "WFla";
    CHECK_INT(store_capsule_put(st, &a, err, sizeof err), STORE_OK);
    CHECK_INT(store_capsule_get(st, "s@1", &got, err, sizeof err), STORE_OK);
    CHECK_STR(got.capsule_b64, "WFla");
    store_capsule_clear(&got);
    store_capsule *rows = NULL;
    size_t n = 0;
    CHECK_INT(store_capsule_list(st, "s", 0, 0, 0, &rows, &n, err, sizeof err), STORE_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(rows[0].cycle_id, "s@1");
        CHECK(rows[1].capsule_b64 == NULL);
    }
    store_capsules_free(rows, n);
    CHECK_INT(store_capsule_list(st, NULL, t0 + day, t0 + day + 1, 0, &rows, &n, err, sizeof err), STORE_OK);
    CHECK_INT(n, 2);                                   /* s@2 and o@1, recorded at t0 + day */
    store_capsules_free(rows, n);
    CHECK_INT(store_capsule_list(st, NULL, t0 + 5 * day, 0, 0, &rows, &n, err, sizeof err), STORE_OK);
    CHECK_INT(n, 0);
    store_capsules_free(rows, n);
    /* a capsule recorded after s@1 expired removes it, in the same statement */
    store_capsule late = {"s@9", "s", t0 + 2 * day + 1, t0 + 9 * day, "TExM"};
    CHECK_INT(store_capsule_put(st, &late, err, sizeof err), STORE_OK);
    CHECK_INT(store_capsule_get(st, "s@1", &got, err, sizeof err), STORE_NOT_FOUND);
    CHECK(strstr(err, "expired") != NULL);
    CHECK_INT(store_capsule_get(st, "s@2", &got, err, sizeof err), STORE_OK);
    store_capsule_clear(&got);
    /* misuse never reaches the database */
    store_capsule bad = {"", "s", t0, t0, "x"};
    CHECK_INT(store_capsule_put(st, &bad, err, sizeof err), STORE_ERR);
    store_capsule backwards = {"s@3", "s", t0, t0 - 1, "x"};
    CHECK_INT(store_capsule_put(st, &backwards, err, sizeof err), STORE_ERR);
    CHECK(strstr(err, "out of order") != NULL);
    store_close(st);
}

int main(void)
{
    test_tape_kraken();
    test_tape_http();
    test_tape_clock_env();
    test_capsule_round_trip();
    test_capsule_names();
    char dir[] = "/tmp/titan-capsule-unit.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    test_store_capsules(dir);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", dir);
    return UNIT_DONE("capsule");
}
