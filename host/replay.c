/* The replay engine (replay.h). The process is set as the recording process was: the recorded
 * settings and environment variables, the AI keys that were configured (as placeholders: nothing
 * is ever sent), the seed; then the tape answers Kraken, titan.http, the clock and os.getenv, and
 * decide.c does what the cycle did. Everything is put back afterwards, so `replay --since` can
 * run capsule after capsule in one process. */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "blackbox.h"
#include "decide.h"
#include "http.h"
#include "jsondoc.h"
#include "kraken.h"
#include "kraken_lua.h"
#include "params.h"
#include "risk.h"
#include "runtime.h"
#include "secrets.h"
#include "strategy.h"
#include "strbuf.h"
#include "tape.h"

/* The environment as it was before a replay set the recorded one. */
typedef struct replay_env {
    tape saved;                        /* env list: name -> previous value (NULL = unset) */
} replay_env;

static void replay_env_set(replay_env *env, const tape_env *vars, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tape_add_env(&env->saved, vars[i].name, getenv(vars[i].name));   /* keeps the first, true value */
        if (vars[i].value) setenv(vars[i].name, vars[i].value, 1);
        else unsetenv(vars[i].name);
    }
}

static void replay_env_restore(replay_env *env)
{
    for (size_t i = 0; i < env->saved.n_env; i++) {
        const tape_env *v = &env->saved.env[i];
        if (v->value) setenv(v->name, v->value, 1);
        else unsetenv(v->name);
    }
    tape_free(&env->saved);
}

/* The AI keys the recording had configured, as placeholders. */
static void replay_secrets(const capsule *cap)
{
    static const char *const keys[][2] = {
        {"openai", "OPENAI_API_KEY"}, {"groq", "GROQ_API_KEY"}, {"gemini", "GEMINI_API_KEY"}};
    const char *names[4] = {NULL, NULL, NULL, NULL};
    size_t n = 0;
    for (size_t i = 0; i < cap->n_ai; i++)
        for (size_t k = 0; k < 3; k++)
            if (strcmp(cap->ai[i], keys[k][0]) == 0 && n < 3) names[n++] = keys[k][1];
    secrets_use_placeholders(names);
}

/* Loads the strategy (the capsule's text, or opt's file) and applies --set; leaves its table on the
 * stack. REPLAY_RAN when it is ready. */
static replay_status replay_load_strategy(runtime *rt, const capsule *cap, const replay_options *opt,
                                          replay_result *out)
{
    strbuf problems = {0};
    strategy_result sr;
    if (opt->strategy_path) {
        char *text = NULL;
        capsule_read_source(opt->strategy_path, &text, out->sha256);
        free(text);
        snprintf(out->file, sizeof out->file, "%s", opt->strategy_path);
        sr = strategy_load(rt, opt->strategy_path, &problems);
    } else {
        snprintf(out->file, sizeof out->file, "%s", cap->file);
        snprintf(out->sha256, sizeof out->sha256, "%s", cap->sha256 ? cap->sha256 : "");
        sr = strategy_load_text(rt, cap->file, cap->source, strlen(cap->source), &problems);
    }
    if (sr != STRATEGY_VALID) {
        snprintf(out->error, sizeof out->error, "%.300s: %s: %.*s", out->file,
                 sr == STRATEGY_INVALID ? "invalid strategy" : "cannot load the strategy",
                 (int)strcspn(strbuf_cstr(&problems), "\n"), strbuf_cstr(&problems));
        strbuf_free(&problems);
        return REPLAY_USAGE;
    }
    strbuf_free(&problems);
    lua_State *L = runtime_lua(rt);
    for (size_t i = 0; opt->sets && opt->sets[i]; i++)
        if (params_apply(L, lua_gettop(L), opt->sets[i], out->error, sizeof out->error) != 0) return REPLAY_USAGE;
    out->recorded_strategy = !opt->strategy_path && !(opt->sets && opt->sets[0]);
    return REPLAY_RAN;
}

/* The inputs of the recorded decision: market and (LIVE) book from the tape, the rest recorded. */
static replay_status replay_inputs(runtime *rt, const capsule *cap, decide_inputs *in, kraken_balances *balances,
                                   kraken_orders *open, char *pair, size_t pair_size, replay_result *out)
{
    lua_State *L = runtime_lua(rt);
    char name[80], err[512];
    int interval = 0;
    strategy_identity(L, lua_gettop(L), name, sizeof name, pair, pair_size, &interval);
    *in = (decide_inputs){.mode = cap->mode, .cycle_id = cap->cycle_id, .pair = pair, .file = out->file,
                          .interval = interval, .now_ms = cap->now_ms, .dry_run = cap->dry_run};
    if (risk_caps_from_env(&in->caps, err, sizeof err) != 0 || paper_config_from_env(&in->paper, err, sizeof err) != 0) {
        snprintf(out->error, sizeof out->error, "the capsule's settings are unusable: %s", err);
        return REPLAY_UNPLAYABLE;
    }
    risk_caps_tighten(L, lua_gettop(L), &in->caps);
    char why[1024];
    int failed = decide_read_market(in, why, sizeof why) != 0;
    if (!failed && strcmp(cap->mode, "LIVE") == 0) {
        failed = decide_read_live_book(in, balances, open, why, sizeof why) != 0;
    } else if (!failed) {
        in->cash = cap->cash;
        in->position = cap->position;
        in->ledger = cap->ledger;
        in->ledger_n = cap->ledger_n;
    }
    if (failed) {
        snprintf(out->error, sizeof out->error, "%s", why);
        return REPLAY_UNPLAYABLE;
    }
    in->realized_today = cap->realized_today;
    in->state_json = cap->state_json;
    return REPLAY_RAN;
}

/* The replay in the runtime, once the process is set as the recording's. */
static replay_status replay_in_runtime(runtime *rt, const capsule *cap, const replay_options *opt, replay_result *out)
{
    if (runtime_seed_random(rt, cap->seed) != 0) {
        snprintf(out->error, sizeof out->error, "out of memory seeding math.random");
        return REPLAY_UNPLAYABLE;
    }
    replay_status st = replay_load_strategy(rt, cap, opt, out);
    if (st != REPLAY_RAN) return st;
    decide_inputs in;
    kraken_balances balances = {0};
    kraken_orders open = {0};
    char pair[40];
    decide_result r = {0};
    st = replay_inputs(rt, cap, &in, &balances, &open, pair, sizeof pair, out);
    if (st == REPLAY_RAN) {
        if (decide_run(rt, lua_gettop(runtime_lua(rt)), &in, 0, &r) != 0) {
            out->failure = r.failure;
            snprintf(out->error, sizeof out->error, "%s", r.error);
        }
        out->strategy_ms = r.strategy_ms;
        out->decision_json = decide_record_json(&in, &r, 1, 0);
        out->identical = out->decision_json && cap->decision_json && strcmp(out->decision_json, cap->decision_json) == 0;
    }
    decide_result_free(&r);
    kraken_balances_free(&balances);
    kraken_orders_free(&open);
    return st;
}

replay_status replay_run(const capsule *cap, const replay_options *opt, replay_result *out)
{
    memset(out, 0, sizeof *out);
    replay_env env = {0};
    replay_env_set(&env, cap->settings, cap->n_settings);
    replay_env_set(&env, cap->tape.env, cap->tape.n_env);
    replay_secrets(cap);
    kraken_forget_pairs();
    kraken_set_lua_writes_allowed(0);
    http_set_offline("a replay never reaches the network");
    tape_play_begin(&cap->tape, cap->now_ms);
    char err[512], label[240];
    snprintf(label, sizeof label, "replay:%s", cap->cycle_id);
    blackbox_set_cycle(label);                         /* its events are not the cycle's own */
    runtime *rt = runtime_open(opt->strategy_path ? opt->strategy_path : cap->file, err, sizeof err);
    if (rt) {
        out->status = replay_in_runtime(rt, cap, opt, out);
        runtime_close(rt);
    } else {
        out->status = REPLAY_UNPLAYABLE;
        snprintf(out->error, sizeof out->error, "%s", err);
    }
    tape_play_report rep = tape_play_result();
    out->unrecorded = rep.unrecorded;
    out->changed_requests = rep.changed_requests;
    out->unrecorded_env = rep.unrecorded_env;
    out->notes = strdup(rep.notes ? rep.notes : "");
    tape_play_end();
    http_set_offline(NULL);
    secrets_use_placeholders(NULL);
    replay_env_restore(&env);
    blackbox_set_cycle(NULL);
    return out->status;
}

void replay_result_free(replay_result *r)
{
    free(r->decision_json);
    free(r->notes);
    r->decision_json = r->notes = NULL;
}

/* ---- summaries ------------------------------------------------------------------------------ */

typedef struct replay_summary {
    strbuf text;
    int has_intents;
} replay_summary;

static int replay_read_summary(lua_State *S, int idx, void *ud)
{
    replay_summary *s = ud;
    if (jsondoc_field(S, idx, "intents") == LUA_TTABLE) {
        s->has_intents = 1;
        int list = lua_gettop(S);
        size_t n = lua_rawlen(S, list);
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(S, list, (lua_Integer)i);
            int it = lua_gettop(S);
            char status[24] = "", side[8] = "";
            jsondoc_field(S, it, "status");
            jsondoc_string(S, -1, status, sizeof status);
            jsondoc_field(S, it, "side");
            jsondoc_string(S, -1, side, sizeof side);
            jsondoc_field(S, it, "final_volume");
            double volume = lua_tonumber(S, -1);
            if (strcmp(status, "accepted") == 0 || strcmp(status, "resized") == 0)
                strbuf_printf(&s->text, "%s%s %.10g", s->text.len ? ", " : "", side, volume);
            lua_settop(S, it - 1);
        }
    }
    lua_pop(S, 1);
    return 0;
}

void replay_action_summary(const char *decision_json, char *out, size_t outlen)
{
    replay_summary s = {0};
    if (decision_json) jsondoc_read(decision_json, strlen(decision_json), replay_read_summary, &s);
    snprintf(out, outlen, "%s", !s.has_intents ? "no decision" : s.text.len ? strbuf_cstr(&s.text) : "hold");
    strbuf_free(&s.text);
}
