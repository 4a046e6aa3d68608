/* The optimizer's files: the result JSON (sorted keys, the same bytes for the same inputs and seed
 * whatever --jobs or --shard), the shard files a merge reads back (every number exact), the CSV
 * of trials and the table on stdout. Shard files are read with the host's JSON decoder on a plain
 * Lua state; every field is checked, nothing read from them raises. */
#include "optimize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings.h"
#include "clock.h"
#include "exit_codes.h"
#include "console.h"
#include "jsonw.h"

#define OPT_JSON_VERSION "1"
#define OPT_SHARD_KIND "titan-host optimize shard"

/* ---- writing ------------------------------------------------------------------------------------ */

static void opt_json_ms(jsonw *w, const char *key, int64_t ms)
{
    char iso[CLOCK_ISO_SIZE];
    if (!ms) jsonw_null(w, key);
    else jsonw_string(w, key, clock_iso(ms, iso));
}

static void opt_json_value(jsonw *w, const char *key, const param_value *v)
{
    if (v->kind == PARAM_NUMBER) jsonw_number(w, key, v->number);
    else if (v->kind == PARAM_BOOLEAN) jsonw_bool(w, key, v->boolean);
    else jsonw_string(w, key, v->text);
}

/* as_text: every value as the text it was given (--set: read back by the same parser) */
static void opt_json_params(jsonw *w, const char *key, const param_setting *p, size_t n, int as_text)
{
    size_t order[OPT_MAX_PARAMS > BACKTEST_MAX_SET ? OPT_MAX_PARAMS : BACKTEST_MAX_SET];
    param_settings_order(p, n, order);
    jsonw_object(w, key);
    for (size_t i = 0; i < n; i++) {
        if (as_text) jsonw_string(w, p[order[i]].name, p[order[i]].value.text);
        else opt_json_value(w, p[order[i]].name, &p[order[i]].value);
    }
    jsonw_end(w);
}

static void opt_json_outcome(jsonw *w, const char *key, const opt_outcome *o)
{
    jsonw_object(w, key);
    if (o->failed) {
        jsonw_string(w, "error", o->error);
        jsonw_end(w);
        return;
    }
    const opt_metrics *m = &o->m;
    jsonw_number(w, "cagr", m->cagr);
    jsonw_number(w, "calmar", m->calmar);
    jsonw_number(w, "exposure", m->exposure);
    jsonw_number(w, "fees", m->fees);
    jsonw_number(w, "fills", m->fills);
    jsonw_number(w, "final_equity", m->final_equity);
    jsonw_number(w, "max_drawdown", m->max_drawdown);
    jsonw_number(w, "profit_factor", m->profit_factor);
    jsonw_number(w, "round_trips", m->round_trips);
    jsonw_number(w, "sharpe", m->sharpe);
    jsonw_number(w, "sortino", m->sortino);
    jsonw_number(w, "time_in_market", m->time_in_market);
    jsonw_number(w, "total_return", m->total_return);
    jsonw_number(w, "win_rate", m->win_rate);
    jsonw_number(w, "years", m->years);
    jsonw_end(w);
}

static void opt_json_config(jsonw *w, const optimize_config *cfg, int interval)
{
    const backtest_options *bt = &cfg->bt;
    jsonw_object(w, "config");
    jsonw_object(w, "caps");
    jsonw_number(w, "max_daily_loss_quote", cfg->caps.max_daily_loss_quote);
    jsonw_number(w, "max_order_quote", cfg->caps.max_order_quote);
    jsonw_number(w, "max_orders_per_cycle", cfg->caps.max_orders_per_cycle);
    jsonw_number(w, "max_position_quote", cfg->caps.max_position_quote);
    jsonw_end(w);
    jsonw_number(w, "cash", bt->paper.starting_cash);
    jsonw_number(w, "fee_rate", bt->paper.fee_rate);
    opt_json_ms(w, "from", bt->from_ms);
    jsonw_integer(w, "interval", interval);
    jsonw_integer(w, "min_trades", cfg->min_trades);
    jsonw_string(w, "objective", optimize_objective_names[cfg->objective]);
    jsonw_array(w, "params");
    for (size_t i = 0; i < cfg->nparams; i++) {
        jsonw_object(w, NULL);
        jsonw_string(w, "name", cfg->params[i].name);
        jsonw_string(w, "spec", cfg->params[i].spec);
        jsonw_end(w);
    }
    jsonw_end(w);
    jsonw_object(w, "rules");
    jsonw_number(w, "costmin", bt->rules.costmin);
    jsonw_integer(w, "lot_decimals", bt->rules.lot_decimals);
    jsonw_number(w, "ordermin", bt->rules.ordermin);
    jsonw_integer(w, "pair_decimals", bt->rules.pair_decimals);
    jsonw_number(w, "tick_size", bt->rules.tick_size);
    jsonw_end(w);
    jsonw_string(w, "search", cfg->trials ? "random" : "grid");
    if (cfg->trials) jsonw_integer(w, "seed", (long long)cfg->seed);
    else jsonw_null(w, "seed");
    opt_json_params(w, "set", bt->params, bt->nparams, 1);
    jsonw_number(w, "slippage_rate", bt->paper.slippage_rate);
    opt_json_ms(w, "to", bt->to_ms);
    jsonw_integer(w, "trials", (long long)optimize_trial_count(cfg, NULL, 0));
    if (cfg->folds) {
        jsonw_object(w, "walk_forward");
        jsonw_integer(w, "folds", cfg->folds);
        jsonw_number(w, "train_fraction", cfg->train_fraction);
        jsonw_end(w);
    } else {
        jsonw_null(w, "walk_forward");
    }
    jsonw_end(w);
}

static void opt_json_data(jsonw *w, const optimize_result *res)
{
    jsonw_object(w, "data");
    jsonw_integer(w, "bars", (long long)res->bars);
    jsonw_string(w, "file", res->cfg->bt.data_path);
    jsonw_time(w, "first", res->first_t);
    jsonw_time(w, "last", res->last_t);
    jsonw_string(w, "sha256", res->cfg->data_sha256);
    jsonw_end(w);
}

static void opt_json_strategy(jsonw *w, const optimize_result *res)
{
    jsonw_object(w, "strategy");
    jsonw_string(w, "file", res->cfg->bt.strategy_path);
    jsonw_integer(w, "interval", res->own_interval);
    jsonw_string(w, "name", res->strategy);
    jsonw_string(w, "sha256", res->cfg->strategy_sha256);
    jsonw_end(w);
}

/* A trial's outcomes: "folds" (walk-forward) or "metrics". */
static void opt_json_outcomes(jsonw *w, const optimize_result *res, const opt_trial *t)
{
    int folds = res->cfg->folds;
    if (folds) {
        jsonw_array(w, "folds");
        for (int f = 0; f < folds; f++) opt_json_outcome(w, NULL, &t->outcomes[f]);
        jsonw_end(w);
    } else {
        opt_json_outcome(w, "metrics", &t->outcomes[0]);
    }
}

static void opt_json_range(jsonw *w, const char *key, const optimize_result *res, size_t a, size_t b)
{
    const csvdata *d = backtest_session_data(res->session);
    jsonw_object(w, key);
    jsonw_integer(w, "bars", (long long)(b - a));
    jsonw_time(w, "first", d->bars[a].t);
    jsonw_time(w, "last", d->bars[b - 1].t);
    jsonw_end(w);
}

static void opt_json_walk_forward(jsonw *w, const optimize_result *res)
{
    const optimize_config *cfg = res->cfg;
    if (!cfg->folds) {
        jsonw_null(w, "walk_forward");
        return;
    }
    jsonw_object(w, "walk_forward");
    jsonw_number(w, "efficiency", res->efficiency);
    jsonw_array(w, "folds");
    for (int f = 0; f < cfg->folds; f++) {
        const opt_fold *fold = &res->folds[f];
        jsonw_object(w, NULL);
        jsonw_integer(w, "fold", f + 1);
        if (fold->best >= 0) {
            opt_json_outcome(w, "in_sample", &fold->in_sample);
            jsonw_number(w, "in_sample_objective", fold->in_sample_objective);
            opt_json_outcome(w, "out_of_sample", &fold->out_of_sample);
            jsonw_number(w, "out_of_sample_objective", fold->out_of_sample_objective);
            param_setting params[OPT_MAX_PARAMS];
            optimize_trial_params(cfg, (size_t)fold->best, params);
            opt_json_params(w, "params", params, cfg->nparams, 0);
        } else {
            jsonw_null(w, "in_sample");
            jsonw_null(w, "in_sample_objective");
            jsonw_null(w, "out_of_sample");
            jsonw_null(w, "out_of_sample_objective");
            jsonw_null(w, "params");
        }
        opt_json_range(w, "test", res, fold->test_from, fold->test_to);
        opt_json_range(w, "train", res, fold->train_from, fold->train_to);
        if (fold->best >= 0) jsonw_integer(w, "trial", fold->best);
        else jsonw_null(w, "trial");
        jsonw_end(w);
    }
    jsonw_end(w);
    jsonw_number(w, "in_sample_objective", res->is_mean);
    jsonw_number(w, "out_of_sample_objective", res->oos_mean);
    jsonw_number(w, "out_of_sample_return", res->oos_return);
    jsonw_bool(w, "overfit", res->overfit);
    if (res->warning[0]) jsonw_string(w, "warning", res->warning);
    else jsonw_null(w, "warning");
    jsonw_end(w);
}

static int opt_json_finish(strbuf *b, jsonw *w, const char *path, char *err, size_t errlen)
{
    strbuf_puts(b, "\n");
    int rc = -1;
    if (b->oom) snprintf(err, errlen, "out of memory");
    else if (w->unsorted || w->depth) snprintf(err, errlen, "internal error: JSON keys out of order");
    else rc = jsonw_write_file(path, b->data, b->len, err, errlen);
    strbuf_free(b);
    return rc;
}

int optimize_write_json(const optimize_result *res, const char *path, char *err, size_t errlen)
{
    const optimize_config *cfg = res->cfg;
    strbuf b = {0};
    jsonw w = {.out = &b};
    param_setting params[OPT_MAX_PARAMS];
    jsonw_object(&w, NULL);
    if (res->nranked) {
        const opt_trial *t = &res->trials[res->order[0]];
        optimize_trial_params(cfg, t->index, params);
        jsonw_object(&w, "best");
        opt_json_params(&w, "params", params, cfg->nparams, 0);
        jsonw_integer(&w, "rank", 1);
        jsonw_number(&w, "score", t->score);
        jsonw_integer(&w, "trial", (long long)t->index);
        jsonw_end(&w);
    } else {
        jsonw_null(&w, "best");
    }
    opt_json_config(&w, cfg, res->interval);
    opt_json_data(&w, res);
    jsonw_integer(&w, "ranked", (long long)res->nranked);
    opt_json_strategy(&w, res);
    jsonw_array(&w, "trials");
    for (size_t k = 0; k < res->ntrials; k++) {
        const opt_trial *t = &res->trials[res->order[k]];
        optimize_trial_params(cfg, t->index, params);
        jsonw_object(&w, NULL);
        opt_json_outcomes(&w, res, t);
        opt_json_params(&w, "params", params, cfg->nparams, 0);
        if (t->ranked) jsonw_integer(&w, "rank", (long long)t->rank);
        else jsonw_null(&w, "rank");
        jsonw_number(&w, "score", t->score);
        jsonw_integer(&w, "trial", (long long)t->index);
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_string(&w, "version", OPT_JSON_VERSION);
    opt_json_walk_forward(&w, res);
    jsonw_end(&w);
    return opt_json_finish(&b, &w, path, err, errlen);
}

/* The part of a shard that every shard of one run shares, exact. */
static void opt_json_shared(strbuf *b, const optimize_result *res)
{
    jsonw w = {.out = b, .exact = 1};
    jsonw_object(&w, NULL);
    opt_json_config(&w, res->cfg, res->interval);
    opt_json_data(&w, res);
    opt_json_strategy(&w, res);
    jsonw_end(&w);
}

int optimize_write_shard(const optimize_result *res, const char *path, char *err, size_t errlen)
{
    const optimize_config *cfg = res->cfg;
    strbuf b = {0};
    jsonw w = {.out = &b, .exact = 1};
    jsonw_object(&w, NULL);
    opt_json_config(&w, cfg, res->interval);
    opt_json_data(&w, res);
    jsonw_string(&w, "kind", OPT_SHARD_KIND);
    jsonw_object(&w, "shard");
    jsonw_integer(&w, "index", cfg->shard_k);
    jsonw_integer(&w, "of", cfg->shard_n);
    jsonw_end(&w);
    opt_json_strategy(&w, res);
    jsonw_array(&w, "trials");
    for (size_t i = 0; i < res->ntrials; i++) {
        const opt_trial *t = &res->trials[i];
        if (!t->have) continue;
        jsonw_object(&w, NULL);
        opt_json_outcomes(&w, res, t);
        jsonw_integer(&w, "trial", (long long)t->index);
        jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_string(&w, "version", OPT_JSON_VERSION);
    jsonw_end(&w);
    return opt_json_finish(&b, &w, path, err, errlen);
}

static void opt_csv_number(strbuf *b, double v)
{
    if (isfinite(v)) strbuf_printf(b, ",%.10g", v);
    else strbuf_puts(b, ",");
}

int optimize_write_csv(const optimize_result *res, const char *path, char *err, size_t errlen)
{
    const optimize_config *cfg = res->cfg;
    int folds = cfg->folds;
    strbuf b = {0};
    strbuf_puts(&b, "rank,trial,score");
    for (size_t i = 0; i < cfg->nparams; i++) strbuf_printf(&b, ",%s", cfg->params[i].name);
    strbuf_puts(&b, folds ? ",fold" : "");
    strbuf_puts(&b, ",total_return,cagr,sharpe,sortino,calmar,max_drawdown,profit_factor,win_rate,round_trips,fills,"
                    "fees,exposure,time_in_market,error\n");
    param_setting params[OPT_MAX_PARAMS];
    for (size_t k = 0; k < res->ntrials; k++) {
        const opt_trial *t = &res->trials[res->order[k]];
        optimize_trial_params(cfg, t->index, params);
        for (int f = 0; f < (folds ? folds : 1); f++) {     /* walk-forward: one row per fold's training part */
            if (t->ranked) strbuf_printf(&b, "%zu", t->rank);
            strbuf_printf(&b, ",%zu", t->index);
            opt_csv_number(&b, t->score);
            for (size_t i = 0; i < cfg->nparams; i++) {
                const param_value *v = &params[i].value;
                strbuf_printf(&b, ",%s", v->kind == PARAM_BOOLEAN ? (v->boolean ? "true" : "false") : v->text);
            }
            if (folds) strbuf_printf(&b, ",%d", f + 1);
            const opt_outcome *o = &t->outcomes[f];
            const opt_metrics *m = &o->m;
            double row[] = {m->total_return, m->cagr, m->sharpe, m->sortino, m->calmar, m->max_drawdown,
                            m->profit_factor, m->win_rate, m->round_trips, m->fills, m->fees, m->exposure,
                            m->time_in_market};
            for (size_t i = 0; i < sizeof row / sizeof row[0]; i++) opt_csv_number(&b, o->failed ? NAN : row[i]);
            strbuf_puts(&b, ",");
            if (o->failed) {
                strbuf_puts(&b, "\"");
                for (const char *p = o->error; *p; p++) {
                    if (*p == '"') strbuf_puts(&b, "\"\"");
                    else strbuf_append(&b, p, 1);
                }
                strbuf_puts(&b, "\"");
            }
            strbuf_puts(&b, "\n");
        }
    }
    int rc = b.oom ? (snprintf(err, errlen, "out of memory"), -1) : jsonw_write_file(path, b.data, b.len, err, errlen);
    strbuf_free(&b);
    return rc;
}

/* ---- the table -------------------------------------------------------------------------------- */

static void opt_params_text(const optimize_config *cfg, size_t index, char *out, size_t len)
{
    param_setting params[OPT_MAX_PARAMS];
    optimize_trial_params(cfg, index, params);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < cfg->nparams && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s=%s", i ? " " : "", params[i].name,
                                 params[i].value.kind == PARAM_BOOLEAN ? (params[i].value.boolean ? "true" : "false")
                                                                      : params[i].value.text);
}

static void opt_fmt(char *out, size_t len, double v, int pct)
{
    if (!isfinite(v)) snprintf(out, len, "n/a");
    else if (pct) snprintf(out, len, "%+.2f%%", v * 100);
    else snprintf(out, len, "%.3f", v);
}

void optimize_print_summary(FILE *out, const optimize_result *res)
{
    const optimize_config *cfg = res->cfg;
    char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE];
    console_printf(out, "optimize  %s (%s) on %s, %d-minute bars, %.16s .. %.16s (%zu bars)\n", res->strategy,
                   cfg->bt.strategy_path, cfg->bt.data_path, res->interval, clock_iso(res->first_t * 1000, a),
                   clock_iso(res->last_t * 1000, z), res->bars);
    if (res->interval != res->own_interval)
        console_printf(out, "warning   %s is written for %d-minute bars; it runs on %d-minute bars (--interval %d)\n",
                       res->strategy, res->own_interval, res->interval, res->interval);
    console_printf(out, "trials    %zu (%s%s), objective %s, ranked %zu (at least %d round trips%s)\n", res->ntrials,
                   cfg->trials ? "random, seed " : "grid", "", optimize_objective_names[cfg->objective], res->nranked,
                   cfg->min_trades, cfg->folds ? " in every fold's training part" : "");
    if (cfg->trials) console_printf(out, "seed      %llu\n", (unsigned long long)cfg->seed);
    console_printf(out, "\n%4s %6s %10s %10s %8s %9s %7s  %s\n", "rank", "trial", cfg->folds ? "mean score" : "score",
                   "return", "sharpe", "max dd", "trips", "params");
    char params[512], s[32], r[32], sh[32], dd[32];
    for (size_t k = 0; k < res->nranked && k < 10; k++) {
        const opt_trial *t = &res->trials[res->order[k]];
        const opt_metrics *m = &t->outcomes[0].m;
        opt_params_text(cfg, t->index, params, sizeof params);
        opt_fmt(s, sizeof s, t->score, 0);
        opt_fmt(r, sizeof r, m->total_return, 1);
        opt_fmt(sh, sizeof sh, m->sharpe, 0);
        opt_fmt(dd, sizeof dd, -m->max_drawdown, 1);
        console_printf(out, "%4zu %6zu %10s %10s %8s %9s %7.0f  %s%s\n", t->rank, t->index, s, r, sh, dd, m->round_trips,
                       params, cfg->folds ? "  (fold 1's training part)" : "");
    }
    if (!res->nranked) console_printf(out, "  no trial qualified (see --min-trades)\n");
    size_t failed = 0;
    for (size_t i = 0; i < res->ntrials; i++)
        for (int f = 0; f < (cfg->folds ? cfg->folds : 1); f++) failed += res->trials[i].outcomes[f].failed;
    if (failed) console_printf(out, "failed    %zu backtests (the strategy raised; see the JSON's \"error\")\n", failed);
    if (!cfg->folds) return;
    console_printf(out, "\nwalk-forward: %d folds, %.0f%% training; parameters chosen on the training part, scored "
                        "out of sample (%s%s)\n", cfg->folds, cfg->train_fraction * 100,
                   optimize_objective_names[cfg->objective], cfg->objective == OBJ_RETURN ? " per year" : "");
    console_printf(out, "%4s  %-23s %-23s %10s %10s  %s\n", "fold", "train", "test", "in-sample", "out-of-sample",
                   "params");
    const csvdata *d = backtest_session_data(res->session);
    for (int f = 0; f < cfg->folds; f++) {
        const opt_fold *fold = &res->folds[f];
        char tr[48], te[48], x[32], y[32];
        snprintf(tr, sizeof tr, "%.10s..%.10s", clock_iso(d->bars[fold->train_from].t * 1000, a),
                 clock_iso(d->bars[fold->train_to - 1].t * 1000, z));
        snprintf(te, sizeof te, "%.10s..%.10s", clock_iso(d->bars[fold->test_from].t * 1000, a),
                 clock_iso(d->bars[fold->test_to - 1].t * 1000, z));
        if (fold->best < 0) {
            console_printf(out, "%4d  %-23s %-23s %10s %10s  (no trial qualified)\n", f + 1, tr, te, "-", "-");
            continue;
        }
        opt_fmt(x, sizeof x, fold->in_sample_objective, 0);
        opt_fmt(y, sizeof y, fold->out_of_sample_objective, 0);
        opt_params_text(cfg, (size_t)fold->best, params, sizeof params);
        console_printf(out, "%4d  %-23s %-23s %10s %10s  %s\n", f + 1, tr, te, x, y, params);
    }
    char x[32], y[32], e[32], g[32];
    opt_fmt(x, sizeof x, res->is_mean, 0);
    opt_fmt(y, sizeof y, res->oos_mean, 0);
    opt_fmt(e, sizeof e, res->efficiency, 0);
    opt_fmt(g, sizeof g, res->oos_return, 1);
    console_printf(out, "mean  in-sample %s, out-of-sample %s (efficiency %s); out-of-sample return, folds chained: %s\n",
                   x, y, e, g);
    if (res->warning[0]) console_printf(out, "WARNING   %s\n", res->warning);
}

/* ---- reading shards --------------------------------------------------------------------------- */

/* Checked readers: a missing or mistyped field is -1, never a Lua error. */
static int opt_get_number(lua_State *L, int t, const char *key, double *out)
{
    int type = lua_getfield(L, t, key);
    *out = type == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
    lua_pop(L, 1);
    return type == LUA_TNUMBER || type == LUA_TLIGHTUSERDATA ? 0 : -1;   /* JSON null is a NaN figure */
}

static int opt_get_string(lua_State *L, int t, const char *key, char *out, size_t len)
{
    int ok = lua_getfield(L, t, key) == LUA_TSTRING;
    if (ok) snprintf(out, len, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return ok ? 0 : -1;
}

static int opt_get_ms(lua_State *L, int t, const char *key, int64_t *ms)
{
    char iso[64];
    int type = lua_getfield(L, t, key);
    lua_pop(L, 1);
    if (type == LUA_TLIGHTUSERDATA) { *ms = 0; return 0; }
    return opt_get_string(L, t, key, iso, sizeof iso) == 0 && clock_parse_iso(iso, ms) == 0 ? 0 : -1;
}

static int opt_read_outcome(lua_State *L, int t, opt_outcome *o)
{
    memset(o, 0, sizeof *o);
    if (!lua_istable(L, t)) return -1;
    if (opt_get_string(L, t, "error", o->error, sizeof o->error) == 0) {
        o->failed = 1;
        return 0;
    }
    opt_metrics *m = &o->m;
    static const char *const keys[] = {"cagr", "calmar", "exposure", "fees", "fills", "final_equity", "max_drawdown",
                                       "profit_factor", "round_trips", "sharpe", "sortino", "time_in_market",
                                       "total_return", "win_rate", "years"};
    double *slots[] = {&m->cagr, &m->calmar, &m->exposure, &m->fees, &m->fills, &m->final_equity, &m->max_drawdown,
                       &m->profit_factor, &m->round_trips, &m->sharpe, &m->sortino, &m->time_in_market,
                       &m->total_return, &m->win_rate, &m->years};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (opt_get_number(L, t, keys[i], slots[i]) != 0) return -1;
    return 0;
}

/* The config a shard records, back into cfg (the --param specs parsed again). */
static int opt_read_config(lua_State *L, int top, optimize_config *cfg, int *interval, char *err, size_t errlen)
{
    backtest_options *bt = &cfg->bt;
    int c = lua_gettop(L) + 1;
    if (lua_getfield(L, top, "config") != LUA_TTABLE) return -1;
    double v[8];
    if (lua_getfield(L, c, "caps") != LUA_TTABLE || opt_get_number(L, -1, "max_daily_loss_quote", &v[0]) ||
        opt_get_number(L, -1, "max_order_quote", &v[1]) || opt_get_number(L, -1, "max_orders_per_cycle", &v[2]) ||
        opt_get_number(L, -1, "max_position_quote", &v[3]))
        return -1;
    lua_pop(L, 1);
    cfg->caps = (risk_caps){.max_daily_loss_quote = v[0], .max_order_quote = v[1], .max_orders_per_cycle = v[2],
                            .max_position_quote = v[3]};
    char text[256];
    if (opt_get_number(L, c, "cash", &bt->paper.starting_cash) || opt_get_number(L, c, "fee_rate", &bt->paper.fee_rate) ||
        opt_get_number(L, c, "slippage_rate", &bt->paper.slippage_rate) || opt_get_ms(L, c, "from", &bt->from_ms) ||
        opt_get_ms(L, c, "to", &bt->to_ms) || opt_get_number(L, c, "interval", &v[0]) ||
        opt_get_number(L, c, "min_trades", &v[1]) || opt_get_number(L, c, "trials", &v[2]) ||
        opt_get_string(L, c, "objective", text, sizeof text))
        return -1;
    *interval = (int)v[0];
    bt->interval = (int)v[0];
    cfg->min_trades = (int)v[1];
    size_t trials = (size_t)v[2];
    cfg->objective = OBJ_COUNT;
    for (int o = 0; o < OBJ_COUNT; o++)
        if (!strcmp(text, optimize_objective_names[o])) cfg->objective = (opt_objective)o;
    if (cfg->objective == OBJ_COUNT || opt_get_string(L, c, "search", text, sizeof text)) return -1;
    int random = !strcmp(text, "random");
    cfg->trials = random ? trials : 0;
    if (random && opt_get_number(L, c, "seed", &v[0])) return -1;
    cfg->seed = random ? (uint64_t)v[0] : 0;
    if (lua_getfield(L, c, "rules") != LUA_TTABLE || opt_get_number(L, -1, "costmin", &bt->rules.costmin) ||
        opt_get_number(L, -1, "lot_decimals", &v[0]) || opt_get_number(L, -1, "ordermin", &bt->rules.ordermin) ||
        opt_get_number(L, -1, "pair_decimals", &v[1]) || opt_get_number(L, -1, "tick_size", &bt->rules.tick_size))
        return -1;
    lua_pop(L, 1);
    bt->rules.lot_decimals = (int)v[0];
    bt->rules.pair_decimals = (int)v[1];
    if (lua_getfield(L, c, "params") != LUA_TTABLE) return -1;
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
        char name[64], spec[160], full[256];
        lua_rawgeti(L, -1, i);
        int ok = lua_istable(L, -1) && !opt_get_string(L, -1, "name", name, sizeof name) &&
                 !opt_get_string(L, -1, "spec", spec, sizeof spec) && cfg->nparams < OPT_MAX_PARAMS;
        lua_pop(L, 1);
        snprintf(full, sizeof full, "%s=%s", name, spec);
        if (!ok || optimize_parse_param(full, &cfg->params[cfg->nparams], err, errlen) != 0) return -1;
        cfg->nparams++;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, c, "set") != LUA_TTABLE) return -1;
    lua_pushnil(L);
    while (lua_next(L, -2)) {                          /* [ set, key, value ] */
        if (lua_type(L, -2) != LUA_TSTRING || bt->nparams >= BACKTEST_MAX_SET) return -1;
        param_setting *s = &cfg->set[bt->nparams++];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", lua_tostring(L, -2));
        if (lua_type(L, -1) != LUA_TSTRING) return -1;
        param_value_parse(lua_tostring(L, -1), &s->value);   /* as --set parsed it */
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    bt->params = cfg->set;
    int wf = lua_getfield(L, c, "walk_forward");
    if (wf == LUA_TTABLE) {
        if (opt_get_number(L, -1, "folds", &v[0]) || opt_get_number(L, -1, "train_fraction", &cfg->train_fraction))
            return -1;
        cfg->folds = (int)v[0];
        if (cfg->folds < 2 || cfg->folds > OPT_MAX_FOLDS) return -1;
    } else if (wf != LUA_TLIGHTUSERDATA) {
        return -1;
    }
    lua_pop(L, 1);
    lua_pop(L, 1);                                     /* config */
    return 0;
}

static int opt_read_header(lua_State *L, int top, optimize_config *cfg, optimize_result *res, char *err, size_t errlen)
{
    int interval = 0;
    if (opt_read_config(L, top, cfg, &interval, err, errlen) != 0) return -1;
    res->interval = interval;
    double bars;
    char first[64], last[64];
    int64_t ms;
    if (lua_getfield(L, top, "data") != LUA_TTABLE || opt_get_number(L, -1, "bars", &bars) ||
        opt_get_string(L, -1, "file", cfg->data_path, sizeof cfg->data_path) ||
        opt_get_string(L, -1, "sha256", cfg->data_sha256, sizeof cfg->data_sha256) ||
        opt_get_string(L, -1, "first", first, sizeof first) || opt_get_string(L, -1, "last", last, sizeof last))
        return -1;
    lua_pop(L, 1);
    res->bars = (size_t)bars;
    if (clock_parse_iso(first, &ms) != 0) return -1;
    res->first_t = ms / 1000;
    if (clock_parse_iso(last, &ms) != 0) return -1;
    res->last_t = ms / 1000;
    double own;
    if (lua_getfield(L, top, "strategy") != LUA_TTABLE ||
        opt_get_string(L, -1, "file", cfg->strategy_path, sizeof cfg->strategy_path) ||
        opt_get_string(L, -1, "sha256", cfg->strategy_sha256, sizeof cfg->strategy_sha256) ||
        opt_get_string(L, -1, "name", res->strategy, sizeof res->strategy) || opt_get_number(L, -1, "interval", &own))
        return -1;
    lua_pop(L, 1);
    res->own_interval = (int)own;
    cfg->bt.strategy_path = cfg->strategy_path;
    cfg->bt.data_path = cfg->data_path;
    cfg->bt.caps = &cfg->caps;
    cfg->bt.quiet = 1;
    return 0;
}

static int opt_read_text(const char *path, strbuf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) strbuf_append(out, chunk, got);
    int bad = ferror(f) || out->oom;
    fclose(f);
    return bad ? -1 : 0;
}

/* One shard file into cfg/res (the first) or checked against them (the others). */
static int opt_read_one(lua_State *L, const char *path, int first, optimize_config *cfg, optimize_result *res,
                        const strbuf *shared_first, int *seen, char *err, size_t errlen)
{
    strbuf text = {0};
    if (opt_read_text(path, &text) != 0) {
        strbuf_free(&text);
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    int base = lua_gettop(L);
    int decoded = bindings_json_decode(L, text.data ? text.data : "", text.len);
    strbuf_free(&text);
    char kind[64] = "", version[16] = "";
    if (!decoded || !lua_istable(L, -1) || opt_get_string(L, -1, "kind", kind, sizeof kind) ||
        strcmp(kind, OPT_SHARD_KIND) != 0 || opt_get_string(L, -1, "version", version, sizeof version) ||
        strcmp(version, OPT_JSON_VERSION) != 0) {
        lua_settop(L, base);
        snprintf(err, errlen, "%s is not a shard file of titan-host optimize (written with --shard K/N --json FILE)",
                 path);
        return -1;
    }
    int top = lua_gettop(L);
    optimize_config mine;
    optimize_result shape;
    memset(&mine, 0, sizeof mine);
    memset(&shape, 0, sizeof shape);
    shape.cfg = &mine;
    char why[256] = "";
    int failed = 0;
    strbuf shared = {0};
    if (opt_read_header(L, top, &mine, &shape, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: a shard file with missing or malformed settings%s%s", path, why[0] ? ": " : "", why);
        failed = 1;
    } else {
        opt_json_shared(&shared, &shape);
        if (!first && (shared.len != shared_first->len || memcmp(shared.data, shared_first->data, shared.len) != 0)) {
            snprintf(err, errlen, "%s is a shard of another run: its settings, data or strategy differ from the first "
                     "file's", path);
            failed = 1;
        }
    }
    double k = 0, n = 0;
    if (!failed && (lua_getfield(L, top, "shard") != LUA_TTABLE || opt_get_number(L, -1, "index", &k) ||
                    opt_get_number(L, -1, "of", &n) || !(k >= 1 && k <= n && n <= 10000))) {
        snprintf(err, errlen, "%s: no valid \"shard\": {\"index\": K, \"of\": N}", path);
        failed = 1;
    }
    if (!failed && first) {
        *cfg = mine;
        *res = shape;
        res->cfg = cfg;
        cfg->bt.strategy_path = cfg->strategy_path;
        cfg->bt.data_path = cfg->data_path;
        cfg->bt.caps = &cfg->caps;
        cfg->bt.params = cfg->set;
        cfg->shard_n = (int)n;
        memset(&mine, 0, sizeof mine);             /* its params now belong to cfg */
    }
    optimize_config_free(&mine);
    strbuf_free(&shared);
    if (failed) {
        lua_settop(L, base);
        return -1;
    }
    if ((int)n != cfg->shard_n) {
        lua_settop(L, base);
        snprintf(err, errlen, "%s is shard %.0f of %.0f, the first file of %d", path, k, n, cfg->shard_n);
        return -1;
    }
    if (seen[(int)k - 1]) {
        lua_settop(L, base);
        snprintf(err, errlen, "%s: shard %.0f/%.0f is given twice", path, k, n);
        return -1;
    }
    seen[(int)k - 1] = 1;
    if (first) {
        res->ntrials = optimize_trial_count(cfg, err, errlen);
        size_t per = cfg->folds ? (size_t)cfg->folds : 1;
        if (res->ntrials * per > OPT_MAX_BACKTESTS) res->ntrials = 0;
        res->trials = calloc(res->ntrials ? res->ntrials : 1, sizeof *res->trials);
        res->outcome_block = calloc(res->ntrials * per + 1, sizeof *res->outcome_block);
        if (!res->ntrials || !res->trials || !res->outcome_block) {
            lua_settop(L, base);
            snprintf(err, errlen, "%s: no trials, or out of memory", path);
            return -1;
        }
        for (size_t i = 0; i < res->ntrials; i++) {
            res->trials[i].index = i;
            res->trials[i].outcomes = res->outcome_block + i * per;
        }
    }
    if (lua_getfield(L, top, "trials") != LUA_TTABLE) {
        lua_settop(L, base);
        snprintf(err, errlen, "%s: no trials", path);
        return -1;
    }
    int trials = lua_gettop(L), folds = cfg->folds;
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, trials); i++) {
        lua_rawgeti(L, trials, i);
        double index = -1;
        int good = lua_istable(L, -1) && opt_get_number(L, -1, "trial", &index) == 0 && index >= 0 &&
                   index < (double)res->ntrials && index == floor(index) &&
                   (size_t)index % (size_t)cfg->shard_n == (size_t)k - 1 && !res->trials[(size_t)index].have;
        opt_trial *t = good ? &res->trials[(size_t)index] : NULL;
        if (good && folds) {
            good = lua_getfield(L, -1, "folds") == LUA_TTABLE && (int)lua_rawlen(L, -1) == folds;
            for (int f = 0; good && f < folds; f++) {
                lua_rawgeti(L, -1, f + 1);
                good = opt_read_outcome(L, lua_gettop(L), &t->outcomes[f]) == 0;
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        } else if (good) {
            lua_getfield(L, -1, "metrics");
            good = opt_read_outcome(L, lua_gettop(L), &t->outcomes[0]) == 0;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (!good) {
            lua_settop(L, base);
            snprintf(err, errlen, "%s: trial entry %lld is malformed, out of this shard's slice, or repeated", path,
                     (long long)i);
            return -1;
        }
        t->have = 1;
    }
    lua_settop(L, base);
    return 0;
}

int optimize_read_shards(char **paths, int n, optimize_config *cfg, optimize_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    lua_State *L = luaL_newstate();
    if (!L) { snprintf(err, errlen, "out of memory"); return EXIT_FAILED; }
    int *seen = calloc(10000, sizeof *seen);
    strbuf shared = {0};
    int rc = EXIT_OK;
    for (int i = 0; i < n && rc == EXIT_OK; i++) {
        if (opt_read_one(L, paths[i], i == 0, cfg, res, &shared, seen, err, errlen) != 0) rc = EXIT_USAGE;
        if (i == 0 && rc == EXIT_OK) opt_json_shared(&shared, res);
    }
    if (rc == EXIT_OK) {
        for (int k = 0; k < cfg->shard_n; k++)
            if (!seen[k]) {
                snprintf(err, errlen, "shard %d/%d is missing: merge needs every shard", k + 1, cfg->shard_n);
                rc = EXIT_USAGE;
                break;
            }
        for (size_t i = 0; rc == EXIT_OK && i < res->ntrials; i++)
            if (!res->trials[i].have) {
                snprintf(err, errlen, "trial %zu is in no shard", i);
                rc = EXIT_USAGE;
            }
    }
    cfg->shard_k = cfg->shard_n = 0;
    free(seen);
    strbuf_free(&shared);
    lua_close(L);
    return rc;
}
