/* The optimizer's pure parts: --param parsing and its refusals, the grid's order and size, the
 * seeded sample (a trial's values depend on the seed and its number alone), shards that partition
 * the set, folds, objectives, ranking with ties and the minimum trade count, exact numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit_codes.h"
#include "jsonw.h"
#include "optimize.h"
#include "unit.h"

static void test_parse(void)
{
    opt_param p;
    char err[256];
    CHECK_INT(optimize_parse_param("fast=5:20:5", &p, err, sizeof err), 0);
    CHECK(p.nvalues == 4 && p.values[0].number == 5 && p.values[3].number == 20);
    CHECK_STR(p.values[3].text, "20");
    CHECK_STR(p.spec, "5:20:5");
    optimize_param_free(&p);
    CHECK_INT(optimize_parse_param("x=0.1:0.5:0.1", &p, err, sizeof err), 0);   /* 0.3, not 0.30000000000000004 */
    CHECK(p.nvalues == 5 && p.values[2].number == 0.3);
    CHECK_STR(p.values[2].text, "0.3");
    optimize_param_free(&p);
    CHECK_INT(optimize_parse_param("n=3:9", &p, err, sizeof err), 0);
    CHECK(p.values == NULL && p.whole && p.lo == 3 && p.hi == 9);
    CHECK_INT(optimize_parse_param("r=0.5:2", &p, err, sizeof err), 0);
    CHECK(p.values == NULL && !p.whole);
    CHECK_INT(optimize_parse_param("mode=fast,slow,true,12", &p, err, sizeof err), 0);
    CHECK(p.nvalues == 4 && p.values[0].kind == PARAM_STRING && p.values[2].kind == PARAM_BOOLEAN &&
          p.values[3].kind == PARAM_NUMBER);
    optimize_param_free(&p);
    static const char *const bad[] = {"fast", "=1,2", "fast=", "fast=1:", "fast=5:1", "fast=1:5:0", "fast=1:5:-1",
                                      "fast=a:b", "fast=1,,2", "9x=1,2", "fa-st=1", "fast=0:1:0.0001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_MSG(optimize_parse_param(bad[i], &p, err, sizeof err) == -1 && err[0], bad[i]);
        optimize_param_free(&p);
    }
}

static optimize_config config(const char *const *specs, size_t n)
{
    optimize_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[256];
    for (size_t i = 0; i < n; i++) optimize_parse_param(specs[i], &cfg.params[cfg.nparams++], err, sizeof err);
    cfg.seed = 1;
    return cfg;
}

static void test_grid(void)
{
    static const char *const specs[] = {"a=1,2,3", "b=10:30:10", "c=0:1"};
    optimize_config cfg = config(specs, 3);
    char err[256];
    CHECK_INT(optimize_trial_count(&cfg, err, sizeof err), 18);
    /* nested loops in --param order: the last varies fastest */
    param_setting p[OPT_MAX_PARAMS];
    optimize_trial_params(&cfg, 0, p);
    CHECK(p[0].value.number == 1 && p[1].value.number == 10 && p[2].value.number == 0);
    optimize_trial_params(&cfg, 1, p);
    CHECK(p[0].value.number == 1 && p[1].value.number == 10 && p[2].value.number == 1);
    optimize_trial_params(&cfg, 2, p);
    CHECK(p[0].value.number == 1 && p[1].value.number == 20 && p[2].value.number == 0);
    optimize_trial_params(&cfg, 17, p);
    CHECK(p[0].value.number == 3 && p[1].value.number == 30 && p[2].value.number == 1);
    CHECK_STR(p[1].name, "b");
    /* every combination exactly once */
    int seen[18] = {0};
    for (size_t i = 0; i < 18; i++) {
        optimize_trial_params(&cfg, i, p);
        int k = (int)((p[0].value.number - 1) * 6 + (p[1].value.number / 10 - 1) * 2 + p[2].value.number);
        if (k >= 0 && k < 18) seen[k]++;
    }
    int all = 1;
    for (int k = 0; k < 18; k++) all &= seen[k] == 1;
    CHECK_MSG(all, "the grid holds every combination once");
    optimize_config_free(&cfg);
    static const char *const reals[] = {"a=1,2", "r=0.5:2"};
    cfg = config(reals, 2);
    CHECK_INT(optimize_trial_count(&cfg, err, sizeof err), 0);      /* a range of reals has no grid */
    CHECK(strstr(err, "--trials") != NULL);
    cfg.trials = 50;
    CHECK_INT(optimize_trial_count(&cfg, err, sizeof err), 50);
    optimize_config_free(&cfg);
    static const char *const huge[] = {"a=1:1000", "b=1:1000", "c=1:1000"};
    cfg = config(huge, 3);
    CHECK_INT(optimize_trial_count(&cfg, err, sizeof err), 0);
    CHECK(strstr(err, "more than") != NULL);
    optimize_config_free(&cfg);
}

static void test_sample(void)
{
    static const char *const specs[] = {"list=a,b,c", "whole=3:9", "real=0.5:2", "step=1:2:0.25"};
    optimize_config cfg = config(specs, 4);
    cfg.trials = 2000;
    param_setting p[OPT_MAX_PARAMS], q[OPT_MAX_PARAMS];
    int in_bounds = 1, whole = 1, listed = 1;
    int list_hits[3] = {0}, whole_hits[7] = {0};
    for (size_t i = 0; i < cfg.trials; i++) {
        optimize_trial_params(&cfg, i, p);
        double w = p[1].value.number, r = p[2].value.number, s = p[3].value.number;
        in_bounds &= w >= 3 && w <= 9 && r >= 0.5 && r < 2 && s >= 1 && s <= 2;
        whole &= w == floor(w) && fmod(s * 4, 1) == 0;
        int k = p[0].value.text[0] - 'a';
        listed &= k >= 0 && k < 3 && p[0].value.kind == PARAM_STRING;
        if (k >= 0 && k < 3) list_hits[k]++;
        if (w >= 3 && w <= 9) whole_hits[(int)w - 3]++;
    }
    CHECK_MSG(in_bounds, "samples stay in their ranges");
    CHECK_MSG(whole, "whole ranges and steps give whole numbers and steps");
    CHECK_MSG(listed, "lists give their own values");
    int spread = 1;
    for (int k = 0; k < 3; k++) spread &= list_hits[k] > 500;
    for (int k = 0; k < 7; k++) spread &= whole_hits[k] > 200;
    CHECK_MSG(spread, "every value comes up (2000 draws)");
    /* trial i is the same whatever was drawn before it, and a different seed draws otherwise */
    optimize_trial_params(&cfg, 1234, p);
    optimize_trial_params(&cfg, 7, q);
    optimize_trial_params(&cfg, 1234, q);
    CHECK(!strcmp(p[2].value.text, q[2].value.text) && p[2].value.number == q[2].value.number);
    cfg.seed = 2;
    optimize_trial_params(&cfg, 1234, q);
    CHECK(p[2].value.number != q[2].value.number);
    /* a real's text reads back as the very number */
    CHECK(strtod(p[2].value.text, NULL) == p[2].value.number);
    optimize_config_free(&cfg);
}

static void test_folds_and_objectives(void)
{
    opt_fold f[3];
    optimize_folds(f, 3, 0.7, 0, 299);
    CHECK(f[0].train_from == 0 && f[0].train_to == 70 && f[0].test_from == 70 && f[0].test_to == 100);
    CHECK(f[1].train_from == 100 && f[1].test_to == 200 && f[2].test_to == 300);
    CHECK(f[2].train_to == 270 && f[0].best == -1);
    opt_metrics m = {.total_return = 0.1, .years = 0.5, .sharpe = 1.5, .sortino = 2, .calmar = 3, .profit_factor = 1.2};
    CHECK(optimize_objective(OBJ_RETURN, &m, 0) == 0.1);
    CHECK(optimize_objective(OBJ_RETURN, &m, 1) == 0.2);            /* per year, for folds of other lengths */
    CHECK(optimize_objective(OBJ_SHARPE, &m, 1) == 1.5);
    CHECK(optimize_objective(OBJ_SORTINO, &m, 0) == 2 && optimize_objective(OBJ_CALMAR, &m, 0) == 3);
    CHECK(optimize_objective(OBJ_PROFIT_FACTOR, &m, 0) == 1.2);
    char text[32];
    CHECK_STR(jsonw_format_exact(20, text), "20");
    CHECK_STR(jsonw_format_exact(0.1, text), "0.1");
    CHECK_STR(jsonw_format_exact(1e300, text), "1e+300");
    double third = 1.0 / 3;
    CHECK(strtod(jsonw_format_exact(third, text), NULL) == third);
}

/* Ranking: by score, ties to the lower trial; under min trades, failed or undefined: unranked. */
static void test_ranking(void)
{
    static const char *const specs[] = {"a=1:6"};
    optimize_config cfg = config(specs, 1);
    cfg.objective = OBJ_SHARPE;
    cfg.min_trades = 3;
    optimize_result res;
    memset(&res, 0, sizeof res);
    res.cfg = &cfg;
    res.ntrials = 6;
    res.trials = calloc(6, sizeof *res.trials);
    res.outcome_block = calloc(6, sizeof *res.outcome_block);
    const double sharpe[] = {1.0, 2.0, 2.0, 5.0, NAN, 3.0};
    const double trips[] = {10, 10, 10, 2, 10, 10};
    for (size_t i = 0; i < 6; i++) {
        res.trials[i] = (opt_trial){.index = i, .outcomes = &res.outcome_block[i], .have = 1};
        res.outcome_block[i].m.sharpe = sharpe[i];
        res.outcome_block[i].m.round_trips = trips[i];
    }
    res.outcome_block[5].failed = 1;                    /* its strategy raised */
    char err[256];
    CHECK_INT(optimize_finish(&res, err, sizeof err), EXIT_OK);
    CHECK_INT(res.nranked, 3);
    CHECK(res.order[0] == 1 && res.order[1] == 2 && res.order[2] == 0);     /* 2.0 (trial 1), 2.0 (trial 2), 1.0 */
    CHECK(res.trials[1].rank == 1 && res.trials[2].rank == 2 && res.trials[0].rank == 3);
    CHECK(res.order[3] == 3 && res.order[4] == 4 && res.order[5] == 5);     /* the rest by number */
    CHECK(!res.trials[3].ranked && !res.trials[4].ranked && !res.trials[5].ranked);
    optimize_result_free(&res);
    optimize_config_free(&cfg);
}

int main(void)
{
    test_parse();
    test_grid();
    test_sample();
    test_folds_and_objectives();
    test_ranking();
    return UNIT_DONE("test_optimize");
}
