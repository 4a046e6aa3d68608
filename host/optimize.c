/* The optimizer's engine (see optimize.h): the parameter space, the trial set, the folds, the
 * workers' task, ranking and the walk-forward's choice. Every figure of a trial depends on the
 * trial's number alone, whichever worker or shard computed it: results are the same bytes
 * whatever --jobs or --shard. */
#include "optimize.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "codec.h"
#include "exit_codes.h"
#include "progress.h"
#include "workpool.h"

const char *const optimize_objective_names[OBJ_COUNT] = {"sharpe", "sortino", "return", "calmar", "profit_factor"};

/* ---- the parameter space -------------------------------------------------------------------- */

static int opt_number(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtod(s, &end);
    return *s && end && *end == '\0' && errno == 0 && isfinite(*out) ? 0 : -1;
}

static int opt_add_value(opt_param *p, const param_value *v)
{
    if (p->nvalues >= OPT_MAX_VALUES) return -1;
    if (!p->values) p->values = calloc(OPT_MAX_VALUES, sizeof *p->values);
    if (!p->values) return -1;
    p->values[p->nvalues++] = *v;
    return 0;
}

void optimize_param_free(opt_param *p)
{
    free(p->values);
    p->values = NULL;
    p->nvalues = 0;
}

int optimize_parse_param(const char *text, opt_param *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *eq = strchr(text, '=');
    size_t len = eq ? (size_t)(eq - text) : 0;
    if (!eq || len == 0 || len >= sizeof out->name || !eq[1] || strlen(eq + 1) >= sizeof out->spec) {
        snprintf(err, errlen, "--param '%s' is not NAME=LO:HI[:STEP] or NAME=A,B,C", text);
        return -1;
    }
    snprintf(out->name, sizeof out->name, "%.*s", (int)len, text);
    snprintf(out->spec, sizeof out->spec, "%s", eq + 1);
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9'))) {
            snprintf(err, errlen, "--param '%s': '%s' is not a params name (letters, digits, '_')", text, out->name);
            return -1;
        }
    }
    char spec[sizeof out->spec];
    snprintf(spec, sizeof spec, "%s", out->spec);
    if (strchr(spec, ':')) {
        char *parts[4] = {0};
        int n = 0;
        for (char *p = spec, *next; p && n < 4; p = next) {
            next = strchr(p, ':');
            if (next) *next++ = '\0';
            parts[n++] = p;
        }
        double lo, hi, step = 0;
        if (n < 2 || n > 3 || opt_number(parts[0], &lo) != 0 || opt_number(parts[1], &hi) != 0 ||
            (n == 3 && (opt_number(parts[2], &step) != 0 || !(step > 0)))) {
            snprintf(err, errlen, "--param %s=%s: a range is LO:HI or LO:HI:STEP with numbers and STEP > 0", out->name,
                     out->spec);
            return -1;
        }
        if (hi < lo) {
            snprintf(err, errlen, "--param %s=%s: HI is below LO", out->name, out->spec);
            return -1;
        }
        out->lo = lo;
        out->hi = hi;
        if (n == 3) {
            double count = floor((hi - lo) / step + 1e-9) + 1;
            if (count > OPT_MAX_VALUES) {
                snprintf(err, errlen, "--param %s=%s: %.0f values, more than %d", out->name, out->spec, count,
                         OPT_MAX_VALUES);
                return -1;
            }
            for (int k = 0; k < (int)count; k++) {
                /* LO + k * STEP read back through 12 digits: 0.1 + 2 * 0.1 is 0.3, not 0.30000000000000004 */
                char buf[32];
                snprintf(buf, sizeof buf, "%.12g", lo + k * step);
                param_value v;
                param_value_number(strtod(buf, NULL), &v);
                opt_add_value(out, &v);
            }
        } else {
            out->whole = lo == floor(lo) && hi == floor(hi) && hi - lo < 1e15;
        }
        return 0;
    }
    for (char *p = spec, *next; p; p = next) {
        next = strchr(p, ',');
        if (next) *next++ = '\0';
        if (!*p) {
            snprintf(err, errlen, "--param %s=%s: an empty value in the list", out->name, out->spec);
            optimize_param_free(out);
            return -1;
        }
        param_value v;
        param_value_parse(p, &v);
        if (opt_add_value(out, &v) != 0) {
            snprintf(err, errlen, "--param %s: more than %d values", out->name, OPT_MAX_VALUES);
            optimize_param_free(out);
            return -1;
        }
    }
    return 0;
}

/* Values of a parameter in a grid; 0 for a plain range of reals (no grid). */
static double opt_grid_values(const opt_param *p)
{
    if (p->values) return (double)p->nvalues;
    return p->whole ? p->hi - p->lo + 1 : 0;
}

size_t optimize_trial_count(const optimize_config *cfg, char *err, size_t errlen)
{
    if (cfg->trials) return cfg->trials;
    double product = 1;
    for (size_t i = 0; i < cfg->nparams; i++) {
        double n = opt_grid_values(&cfg->params[i]);
        if (n == 0) {
            snprintf(err, errlen, "--param %s=%s is a range of reals: give it a STEP for a grid, or sample it with "
                                  "--trials N", cfg->params[i].name, cfg->params[i].spec);
            return 0;
        }
        product *= n;
    }
    if (product > OPT_MAX_TRIALS) {
        snprintf(err, errlen, "the grid has %.0f trials, more than %d: narrow it, or sample it with --trials N", product,
                 OPT_MAX_TRIALS);
        return 0;
    }
    return (size_t)product;
}

/* splitmix64: a trial's own stream of random numbers, from the seed and its number alone */
static uint64_t opt_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double opt_uniform(uint64_t *state)
{
    return (double)(opt_next(state) >> 11) * (1.0 / 9007199254740992.0);   /* [0, 1) */
}

void optimize_trial_params(const optimize_config *cfg, size_t index, param_setting *out)
{
    uint64_t state = cfg->seed ^ ((uint64_t)index * 0xD1B54A32D192ED03ULL);
    opt_next(&state);
    size_t rest = index;
    /* a grid: the last --param varies fastest, like nested loops in the order given */
    for (size_t i = cfg->nparams; i-- > 0;) {
        const opt_param *p = &cfg->params[i];
        param_setting *s = &out[i];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", p->name);
        size_t n = (size_t)opt_grid_values(p);
        if (!cfg->trials) {
            size_t k = rest % n;
            rest /= n;
            if (p->values) s->value = p->values[k];
            else param_value_number(p->lo + (double)k, &s->value);
        }
    }
    if (!cfg->trials) return;
    for (size_t i = 0; i < cfg->nparams; i++) {        /* a sample: parameters drawn in --param order */
        const opt_param *p = &cfg->params[i];
        double u = opt_uniform(&state);
        if (p->values) {
            size_t k = (size_t)(u * (double)p->nvalues);
            out[i].value = p->values[k < p->nvalues ? k : p->nvalues - 1];
        } else if (p->whole) {
            param_value_number(p->lo + floor(u * (p->hi - p->lo + 1)), &out[i].value);
        } else {
            param_value_number(p->lo + u * (p->hi - p->lo), &out[i].value);
        }
    }
}

/* ---- figures --------------------------------------------------------------------------------- */

static void opt_metrics_of(const backtest_result *r, opt_metrics *m)
{
    const backtest_metrics *b = &r->m;
    double annual = b->years > 0 && b->total_return > -1 ? pow(1 + b->total_return, 1 / b->years) - 1 : NAN;
    *m = (opt_metrics){
        .total_return = b->total_return, .cagr = b->cagr, .sharpe = b->sharpe, .sortino = b->sortino,
        .calmar = b->max_drawdown > 0 ? annual / b->max_drawdown : NAN, .max_drawdown = b->max_drawdown,
        .profit_factor = b->profit_factor, .win_rate = b->win_rate, .exposure = b->exposure_avg,
        .time_in_market = b->time_in_market, .fees = b->fees, .final_equity = b->final_equity, .years = b->years,
        .round_trips = (double)b->round_trips, .fills = (double)b->fills,
    };
}

double optimize_objective(opt_objective obj, const opt_metrics *m, int annualized)
{
    switch (obj) {
    case OBJ_SHARPE: return m->sharpe;
    case OBJ_SORTINO: return m->sortino;
    case OBJ_CALMAR: return m->calmar;
    case OBJ_PROFIT_FACTOR: return m->profit_factor;
    case OBJ_RETURN: return annualized ? (m->years > 0 ? m->total_return / m->years : NAN) : m->total_return;
    default: return NAN;
    }
}

static int opt_qualifies(const optimize_config *cfg, const opt_outcome *o, double *score)
{
    *score = optimize_objective(cfg->objective, &o->m, 0);
    return !o->failed && o->m.round_trips >= cfg->min_trades && isfinite(*score);
}

void optimize_folds(opt_fold *folds, int k, double train_fraction, size_t start, size_t end)
{
    size_t len = end - start + 1;
    for (int f = 0; f < k; f++) {
        size_t a = start + len * (size_t)f / (size_t)k, b = start + len * (size_t)(f + 1) / (size_t)k;
        size_t train = (size_t)floor((double)(b - a) * train_fraction);
        folds[f] = (opt_fold){.train_from = a, .train_to = a + train, .test_from = a + train, .test_to = b, .best = -1};
    }
}

/* ---- the run ---------------------------------------------------------------------------------- */

typedef struct opt_ctx {
    const optimize_config *cfg;
    optimize_result *res;
    const csvdata *data;
    size_t period_end;               /* the last bar of the period (inclusive) */
    progress progress;
} opt_ctx;

/* [from, to) in ms for bars [a, b): b past the period ends where the period does */
static void opt_range_ms(const opt_ctx *c, size_t a, size_t b, int64_t *from, int64_t *to)
{
    *from = c->data->bars[a].t * 1000;
    *to = b <= c->period_end ? c->data->bars[b].t * 1000 : c->cfg->bt.to_ms;
}

static void opt_outcome_of(int code, backtest_result *r, opt_outcome *o)
{
    if (code == EXIT_OK) {
        opt_metrics_of(r, &o->m);
    } else {
        o->failed = 1;
        snprintf(o->error, sizeof o->error, "%.*s", (int)strcspn(r->error, "\n"), r->error);
    }
}

/* A worker's task: trial (task / folds), on the whole period or on a fold's training part. */
static void opt_task(size_t task, void *vctx, void *result)
{
    opt_ctx *c = vctx;
    const optimize_config *cfg = c->cfg;
    size_t per_trial = cfg->folds ? (size_t)cfg->folds : 1;
    param_setting params[OPT_MAX_PARAMS];
    optimize_trial_params(cfg, task / per_trial, params);
    int64_t from = cfg->bt.from_ms, to = cfg->bt.to_ms;
    if (cfg->folds) {
        const opt_fold *f = &c->res->folds[task % per_trial];
        opt_range_ms(c, f->train_from, f->train_to, &from, &to);
    }
    backtest_result r;
    int code = backtest_session_run(c->res->session, params, cfg->nparams, from, to, &r);
    opt_outcome_of(code, &r, result);
    backtest_result_free(&r);
}

static void opt_done(size_t done, size_t total, void *vctx)
{
    opt_ctx *c = vctx;
    char detail[96];
    double s = (double)(clock_monotonic_ms() - c->progress.start_ms) / 1000;
    snprintf(detail, sizeof detail, "%zu of %zu backtests, %.0f/s", done, total, s > 0 ? (double)done / s : 0);
    progress_update(&c->progress, (double)done, (double)total, detail);
}

/* Every value the space can give, checked against the strategy's params before anything runs. */
static int opt_check_space(optimize_config *cfg, backtest_session *s, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->nparams; i++) {
        const opt_param *p = &cfg->params[i];
        for (size_t j = 0; j < cfg->nparams; j++)
            if (j != i && !strcmp(cfg->params[j].name, p->name)) {
                snprintf(err, errlen, "--param %s is given twice", p->name);
                return -1;
            }
        for (size_t k = 0; k < cfg->bt.nparams; k++)
            if (!strcmp(cfg->bt.params[k].name, p->name)) {
                snprintf(err, errlen, "%s is both --set and --param", p->name);
                return -1;
            }
        param_setting probe;
        memset(&probe, 0, sizeof probe);
        snprintf(probe.name, sizeof probe.name, "%s", p->name);
        size_t n = p->values ? p->nvalues : 2;
        for (size_t k = 0; k < n; k++) {
            if (p->values) probe.value = p->values[k];
            else param_value_number(k == 0 ? p->lo : p->hi, &probe.value);
            if (backtest_session_check_params(s, &probe, 1, err, errlen) != 0) return -1;
        }
    }
    return 0;
}

/* The bars of the period: [*start, *end) within --from/--to; -1 when fewer than two. */
static int opt_period(const optimize_config *cfg, const csvdata *d, size_t *start, size_t *end)
{
    size_t a = 0, z = d->count;
    while (a < d->count && cfg->bt.from_ms && d->bars[a].t * 1000 < cfg->bt.from_ms) a++;
    while (z > a && cfg->bt.to_ms && d->bars[z - 1].t * 1000 >= cfg->bt.to_ms) z--;
    *start = a;
    *end = z;
    return z < a + 2 ? -1 : 0;
}

/* Each fold's bars; -1 (err set) when a part would be too short to say anything. */
static int opt_make_folds(optimize_result *res, size_t start, size_t end, char *err, size_t errlen)
{
    const optimize_config *cfg = res->cfg;
    optimize_folds(res->folds, cfg->folds, cfg->train_fraction, start, end - 1);
    for (int f = 0; f < cfg->folds; f++)
        if (res->folds[f].train_to - res->folds[f].train_from < 3 || res->folds[f].test_to - res->folds[f].test_from < 3) {
            snprintf(err, errlen, "%zu bars are too few for %d folds with %.0f%% training", end - start, cfg->folds,
                     cfg->train_fraction * 100);
            return -1;
        }
    return 0;
}

int optimize_run(optimize_config *cfg, optimize_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    res->cfg = cfg;
    cfg->bt.caps = &cfg->caps;
    cfg->bt.quiet = 1;
    cfg->bt.progress = 0;
    size_t ntrials = optimize_trial_count(cfg, err, errlen);
    if (!ntrials) return EXIT_USAGE;
    if (codec_file_sha256(cfg->bt.strategy_path, cfg->strategy_sha256) != 0 ||
        codec_file_sha256(cfg->bt.data_path, cfg->data_sha256) != 0) {
        snprintf(err, errlen, "cannot read %s or %s", cfg->bt.strategy_path, cfg->bt.data_path);
        return EXIT_USAGE;
    }
    int code = backtest_session_open(&cfg->bt, &res->session, err, errlen);
    if (code != EXIT_OK) return code;
    if (opt_check_space(cfg, res->session, err, errlen) != 0) return EXIT_USAGE;
    opt_ctx c = {.cfg = cfg, .res = res, .data = backtest_session_data(res->session)};
    const csvdata *d = c.data;
    snprintf(res->strategy, sizeof res->strategy, "%s",
             backtest_session_strategy(res->session, &res->own_interval, &res->interval));
    size_t start, end;
    if (opt_period(cfg, d, &start, &end) != 0) {
        snprintf(err, errlen, "%s: fewer than 2 bars between --from and --to", cfg->bt.data_path);
        return EXIT_USAGE;
    }
    c.period_end = end - 1;
    res->bars = end - start;
    res->first_t = d->bars[start].t;
    res->last_t = d->bars[end - 1].t;
    if (cfg->folds && opt_make_folds(res, start, end, err, errlen) != 0) return EXIT_USAGE;
    size_t per_trial = cfg->folds ? (size_t)cfg->folds : 1, ntasks = 0;
    if (ntrials * per_trial > OPT_MAX_BACKTESTS) {
        snprintf(err, errlen, "%zu trials x %zu folds is more than %d backtests: fewer trials or folds", ntrials, per_trial,
                 OPT_MAX_BACKTESTS);
        return EXIT_USAGE;
    }
    res->ntrials = ntrials;
    res->trials = calloc(ntrials, sizeof *res->trials);
    for (size_t i = 0; i < ntrials; i++)
        if (!cfg->shard_n || i % (size_t)cfg->shard_n == (size_t)(cfg->shard_k - 1)) ntasks += per_trial;
    size_t *tasks = malloc((ntasks ? ntasks : 1) * sizeof *tasks);
    opt_outcome *outcomes = calloc(ntasks ? ntasks : 1, sizeof *outcomes);
    res->outcome_block = outcomes;
    if (!res->trials || !tasks || !outcomes) {
        free(tasks);
        snprintf(err, errlen, "out of memory for %zu trials", ntrials);
        return EXIT_FAILED;
    }
    size_t t = 0;
    for (size_t i = 0; i < ntrials; i++) {
        res->trials[i].index = i;
        if (cfg->shard_n && i % (size_t)cfg->shard_n != (size_t)(cfg->shard_k - 1)) continue;
        res->trials[i].outcomes = outcomes + t;
        res->trials[i].have = 1;
        for (size_t f = 0; f < per_trial; f++, t++) tasks[t] = i * per_trial + f;
    }
    progress_start(&c.progress, "optimize", 1, isatty(STDERR_FILENO));
    int rc = workpool_run(tasks, ntasks, cfg->jobs, sizeof(opt_outcome), opt_task, opt_done, &c, outcomes, err, errlen);
    progress_end(&c.progress);
    free(tasks);
    return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

/* ---- ranking and the walk-forward's choice ------------------------------------------------------- */

/* What ranking compares, copied out of the trials so qsort needs no global. */
typedef struct opt_rank_key {
    int ranked;
    double score;
    size_t index;
} opt_rank_key;

static int opt_by_rank(const void *a, const void *b)
{
    const opt_rank_key *x = a, *y = b;
    if (x->ranked != y->ranked) return x->ranked ? -1 : 1;
    if (x->ranked && x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* The chosen parameters of fold f run on its test part, in this process. */
static int opt_out_of_sample(optimize_result *res, opt_ctx *c, int f, char *err, size_t errlen)
{
    const optimize_config *cfg = res->cfg;
    opt_fold *fold = &res->folds[f];
    param_setting params[OPT_MAX_PARAMS];
    optimize_trial_params(cfg, (size_t)fold->best, params);
    int64_t from, to;
    opt_range_ms(c, fold->test_from, fold->test_to, &from, &to);
    backtest_result r;
    int code = backtest_session_run(res->session, params, cfg->nparams, from, to, &r);
    opt_outcome_of(code, &r, &fold->out_of_sample);
    if (code == EXIT_OK) {
        size_t n = r.end - r.start + 1;
        fold->oos_equity = malloc(n * sizeof *fold->oos_equity);
        fold->oos_t = malloc(n * sizeof *fold->oos_t);
        if (!fold->oos_equity || !fold->oos_t) {
            backtest_result_free(&r);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(fold->oos_equity, r.equity, n * sizeof *fold->oos_equity);
        for (size_t k = 0; k < n; k++) fold->oos_t[k] = r.data.bars[r.start + k].t;
        fold->oos_n = n;
    }
    backtest_result_free(&r);
    return 0;
}

static void opt_walk_forward_summary(optimize_result *res)
{
    const optimize_config *cfg = res->cfg;
    double is_sum = 0, oos_sum = 0, growth = 1;
    int chosen = 0, scored = 0;
    for (int f = 0; f < cfg->folds; f++) {
        opt_fold *fold = &res->folds[f];
        if (fold->best < 0) continue;
        chosen++;
        is_sum += fold->in_sample_objective;
        if (!fold->out_of_sample.failed) growth *= 1 + fold->out_of_sample.m.total_return;
        if (isfinite(fold->out_of_sample_objective)) { oos_sum += fold->out_of_sample_objective; scored++; }
    }
    res->is_mean = chosen ? is_sum / chosen : NAN;
    res->oos_mean = scored ? oos_sum / scored : NAN;
    res->oos_return = chosen ? growth - 1 : NAN;
    res->efficiency = res->is_mean > 0 && isfinite(res->oos_mean) ? res->oos_mean / res->is_mean : NAN;
    const char *what = optimize_objective_names[cfg->objective];
    const char *per = cfg->objective == OBJ_RETURN ? " per year" : "";
    if (chosen < cfg->folds) {
        snprintf(res->warning, sizeof res->warning, "%d of %d folds had no trial with %d round trips or more on their "
                 "training part: no parameters were chosen there", cfg->folds - chosen, cfg->folds, cfg->min_trades);
    } else if (!isfinite(res->oos_mean)) {
        snprintf(res->warning, sizeof res->warning, "the out-of-sample %s is undefined in every fold", what);
        res->overfit = 1;
    } else if (res->oos_mean < res->is_mean - 0.5 * fabs(res->is_mean)) {
        /* far below: under half of a positive in-sample figure, or half as bad again as a negative one */
        res->overfit = 1;
        snprintf(res->warning, sizeof res->warning, "out-of-sample %s%s %.3g is far below in-sample %.3g: the "
                 "parameters are likely fitted to the training data (overfitting)", what, per, res->oos_mean,
                 res->is_mean);
    }
}

int optimize_finish(optimize_result *res, char *err, size_t errlen)
{
    const optimize_config *cfg = res->cfg;
    int folds = cfg->folds;
    /* scores: the objective, or the mean of the folds' training objectives */
    res->nranked = 0;
    for (size_t i = 0; i < res->ntrials; i++) {
        opt_trial *t = &res->trials[i];
        t->ranked = t->have;
        double sum = 0, score;
        for (int f = 0; f < (folds ? folds : 1) && t->ranked; f++) {
            t->ranked = opt_qualifies(cfg, &t->outcomes[f], &score);
            sum += score;
        }
        t->score = t->ranked ? sum / (folds ? folds : 1) : NAN;
        res->nranked += t->ranked;
    }
    res->order = malloc((res->ntrials ? res->ntrials : 1) * sizeof *res->order);
    opt_rank_key *keys = malloc((res->ntrials ? res->ntrials : 1) * sizeof *keys);
    if (!res->order || !keys) {
        free(keys);
        snprintf(err, errlen, "out of memory");
        return EXIT_FAILED;
    }
    for (size_t i = 0; i < res->ntrials; i++)
        keys[i] = (opt_rank_key){.ranked = res->trials[i].ranked, .score = res->trials[i].score, .index = i};
    qsort(keys, res->ntrials, sizeof *keys, opt_by_rank);
    for (size_t i = 0; i < res->ntrials; i++) res->order[i] = keys[i].index;
    free(keys);
    for (size_t k = 0; k < res->nranked; k++) res->trials[res->order[k]].rank = k + 1;
    if (!folds) return EXIT_OK;

    /* each fold: the best training figure, then that trial on the test part */
    if (!res->session) {                               /* a merge: the shards ran the training parts */
        int code = backtest_session_open(&res->cfg->bt, &res->session, err, errlen);
        if (code != EXIT_OK) return code;
        size_t start, end;
        if (opt_period(cfg, backtest_session_data(res->session), &start, &end) != 0 ||
            opt_make_folds(res, start, end, err, errlen) != 0) {
            if (!err[0]) snprintf(err, errlen, "fewer than 2 bars between --from and --to");
            return EXIT_USAGE;
        }
    }
    opt_ctx c = {.cfg = cfg, .res = res, .data = backtest_session_data(res->session)};
    c.period_end = res->folds[folds - 1].test_to - 1;
    for (int f = 0; f < folds; f++) {
        opt_fold *fold = &res->folds[f];
        double best = -INFINITY, score;
        for (size_t i = 0; i < res->ntrials; i++) {
            const opt_trial *t = &res->trials[i];
            if (t->have && opt_qualifies(cfg, &t->outcomes[f], &score) && score > best) {
                best = score;
                fold->best = (long)i;
            }
        }
        if (fold->best < 0) continue;
        fold->in_sample = res->trials[fold->best].outcomes[f];
        fold->in_sample_objective = optimize_objective(cfg->objective, &fold->in_sample.m, 1);
        if (opt_out_of_sample(res, &c, f, err, errlen) != 0) return EXIT_FAILED;
        fold->out_of_sample_objective =
            fold->out_of_sample.failed ? NAN : optimize_objective(cfg->objective, &fold->out_of_sample.m, 1);
    }
    opt_walk_forward_summary(res);
    return EXIT_OK;
}

void optimize_result_free(optimize_result *res)
{
    free(res->outcome_block);
    free(res->trials);
    free(res->order);
    for (int f = 0; f < OPT_MAX_FOLDS; f++) {
        free(res->folds[f].oos_equity);
        free(res->folds[f].oos_t);
    }
    backtest_session_close(res->session);
    memset(res, 0, sizeof *res);
}

void optimize_config_free(optimize_config *cfg)
{
    for (size_t i = 0; i < cfg->nparams; i++) optimize_param_free(&cfg->params[i]);
    cfg->nparams = 0;
}
