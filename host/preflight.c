/* The preflight. Each check prints "ok", "FAIL" or "skip" with what it saw; a failure says
 * what to do. Only read calls are made: nothing here can trade. */
#include "preflight.h"

#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "clock.h"
#include "console.h"
#include "http.h"
#include "kraken_lua.h"
#include "secrets.h"
#include "settings.h"
#include "store.h"
#include "strbuf.h"

#define PREFLIGHT_TIMEOUT_MS 10000
#define PREFLIGHT_MAX_SKEW_MS 5000      /* Kraken's nonce window tolerates little drift */

typedef struct preflight {
    lua_State *L;
    int live;
    int failures;
} preflight;

static void preflight_line(preflight *p, const char *verdict, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void preflight_line(preflight *p, const char *verdict, const char *check, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (strcmp(verdict, "FAIL") == 0) p->failures++;
    console_printf(stdout, "%-4s  %-16s %s\n", verdict, check, msg);
}

/* "code: message" of the err table on top of a `nil, err` pair; pops both. */
static void preflight_err(lua_State *L, char *out, size_t len)
{
    lua_getfield(L, -1, "code");
    lua_getfield(L, -2, "message");
    snprintf(out, len, "%s: %s", lua_tostring(L, -2) ? lua_tostring(L, -2) : "error",
             lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 4);
}

static void preflight_kraken_time(preflight *p)
{
    lua_State *L = p->L;
    char err[512];
    int64_t before = clock_now_ms();
    if (!kraken_call(L, "Time", 0, 0, PREFLIGHT_TIMEOUT_MS)) {
        preflight_err(L, err, sizeof err);
        preflight_line(p, "FAIL", "kraken.time", "Kraken unreachable (%s)", err);
        return;
    }
    int64_t after = clock_now_ms();
    lua_pop(L, 1);
    lua_getfield(L, -1, "unixtime");
    double kraken_s = lua_tonumber(L, -1);
    lua_pop(L, 2);
    /* Kraken's time has whole seconds: compare with the middle of our request. */
    double skew_ms = kraken_s * 1000 - (double)(before + after) / 2;
    if (fabs(skew_ms) > PREFLIGHT_MAX_SKEW_MS + 1000)
        preflight_line(p, "FAIL", "kraken.time", "clock skew %.1f s against Kraken (bound %d s): fix this machine's clock (NTP)",
                       skew_ms / 1000, PREFLIGHT_MAX_SKEW_MS / 1000);
    else
        preflight_line(p, "ok", "kraken.time", "clock skew %.1f s against Kraken (bound %d s)", skew_ms / 1000,
                       PREFLIGHT_MAX_SKEW_MS / 1000);
}

static void preflight_kraken_pair(preflight *p, const char *pair)
{
    lua_State *L = p->L;
    char err[512];
    if (!kraken_asset_pair(L, pair, PREFLIGHT_TIMEOUT_MS)) {
        preflight_err(L, err, sizeof err);
        preflight_line(p, "FAIL", "kraken.pair", "%s: %s", pair, err);
        return;
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "pair_key");
    lua_getfield(L, -2, "status");
    preflight_line(p, "ok", "kraken.pair", "%s is %s on Kraken (status %s)", pair, lua_tostring(L, -2),
                   lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_pop(L, 3);
}

/* Each private read the bot needs, so a missing permission is named. */
static void preflight_kraken_keys(preflight *p)
{
    lua_State *L = p->L;
    if (!secrets_value("KRAKEN_API_KEY") || !secrets_value("KRAKEN_SECRET")) {
        if (p->live) preflight_line(p, "FAIL", "kraken.keys", "KRAKEN_API_KEY and KRAKEN_SECRET are needed in LIVE");
        else preflight_line(p, "skip", "kraken.keys", "not set (PAPER needs no keys)");
        return;
    }
    static const char *const reads[][2] = {
        {"Balance", "Query Funds"},
        {"OpenOrders", "Query Open Orders & Trades"},
        {"ClosedOrders", "Query Closed Orders & Trades"},
    };
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        char err[512];
        if (!kraken_call(L, reads[i][0], 0, 1, PREFLIGHT_TIMEOUT_MS)) {
            preflight_err(L, err, sizeof err);
            preflight_line(p, p->live ? "FAIL" : "warn", "kraken.keys", "%s failed (permission '%s'?): %s", reads[i][0],
                           reads[i][1], err);
            return;
        }
        lua_pop(L, 2);
    }
    preflight_line(p, "ok", "kraken.keys",
                   "keys accepted; Query Funds, Query Open Orders & Trades, Query Closed Orders & Trades work "
                   "(Create & Modify Orders cannot be checked without an order)");
}

static void preflight_store(preflight *p)
{
    char err[512];
    store *st = store_open_from_env(err, sizeof err);
    if (!st) {
        preflight_line(p, "FAIL", "store", "%s", err);
        return;
    }
    const char *gha = getenv("GITHUB_ACTIONS");
    if (p->live && gha && strcmp(gha, "true") == 0 && store_backend_of(st) != STORE_BACKEND_SUPABASE)
        preflight_line(p, "FAIL", "store", "LIVE inside GitHub Actions needs Supabase (SUPABASE_URL, SUPABASE_KEY)");
    store_cycle *rows = NULL;
    size_t n = 0;
    int halted = 0;
    if (store_list_cycles(st, 1, NULL, NULL, &rows, &n, err, sizeof err) != STORE_OK) {
        preflight_line(p, "FAIL", "store", "%s unreachable or schema missing: %s", store_describe(st), err);
    } else if (store_halt_get(st, &halted, err, sizeof err) != STORE_OK) {
        preflight_line(p, "FAIL", "store", "%s: cannot read the control table: %s", store_describe(st), err);
    } else {
        preflight_line(p, "ok", "store", "%s reachable, schema present (%zu recent cycle%s)", store_describe(st), n,
                       n == 1 ? "" : "s");
        /* Halted is a state to know, not a failure: the operator may be checking before resuming. */
        preflight_line(p, halted ? "warn" : "ok", "halt", "%s", halted ? "ON: cycles are recorded as halted and trade "
                                                                          "nothing ('titan-host halt off' resumes)"
                                                                        : "off");
    }
    store_cycles_free(rows, n);
    store_close(st);
}

/* One cheap authenticated read per configured provider: its model list. */
static void preflight_ai(preflight *p)
{
    static const struct {
        const char *name, *secret, *base_env, *default_base, *header;
    } providers[] = {
        {"openai", "OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1", "Authorization: Bearer "},
        {"groq", "GROQ_API_KEY", "GROQ_BASE_URL", "https://api.groq.com/openai/v1", "Authorization: Bearer "},
        {"gemini", "GEMINI_API_KEY", "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/v1beta",
         "x-goog-api-key: "},
    };
    for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++) {
        char check[32];
        snprintf(check, sizeof check, "ai.%s", providers[i].name);
        const char *key = secrets_value(providers[i].secret);
        if (!key) {
            preflight_line(p, "skip", check, "%s not set: provider not configured", providers[i].secret);
            continue;
        }
        const char *base = getenv(providers[i].base_env);
        strbuf url = {0}, header = {0};
        strbuf_printf(&url, "%s/models", base && *base ? base : providers[i].default_base);
        strbuf_printf(&header, "%s%s", providers[i].header, key);
        const char *headers[] = {strbuf_cstr(&header)};
        http_request req = {.method = "GET", .url = strbuf_cstr(&url), .headers = headers, .header_count = 1,
                            .timeout_ms = PREFLIGHT_TIMEOUT_MS};
        http_response res;
        http_perform(&req, &res);
        if (res.error_code)
            preflight_line(p, "FAIL", check, "unreachable (%s: %s)", res.error_code, res.error_message);
        else if (res.status == 400 || res.status == 401 || res.status == 403)   /* Gemini says 400 for a bad key */
            preflight_line(p, "FAIL", check, "key refused (HTTP %ld): check %s", res.status, providers[i].secret);
        else if (res.status >= 200 && res.status < 300)
            preflight_line(p, "ok", check, "key accepted (HTTP %ld)", res.status);
        else
            preflight_line(p, "FAIL", check, "unexpected HTTP %ld from the model list", res.status);
        http_response_free(&res);
        strbuf_free(&url);
        strbuf_free(&header);
    }
}

int preflight_run(runtime *rt, const char *pair)
{
    int live = 0;
    char ignored[256];
    settings_choice("SYSTEM_MODE", &live, ignored, sizeof ignored);
    preflight p = {.L = runtime_lua(rt), .live = live};
    console_printf(stdout, "preflight (%s):\n", p.live ? "LIVE" : "PAPER");
    int top = lua_gettop(p.L);
    preflight_kraken_time(&p);
    preflight_kraken_pair(&p, pair);
    preflight_kraken_keys(&p);
    preflight_store(&p);
    preflight_ai(&p);
    lua_settop(p.L, top);
    console_printf(stdout, "%s\n", p.failures ? "preflight FAILED: fix the lines marked FAIL before going LIVE"
                                              : "preflight passed");
    return p.failures ? 1 : 0;
}
