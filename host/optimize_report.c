/* The optimizer's HTML report: one self-contained page (inline CSS and SVG, no scripts) with the
 * ranked trials, a heatmap of the best score over two parameters, and for a walk-forward its folds
 * and the out-of-sample equity, the test parts chained. */
#include "optimize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "clock.h"
#include "version.h"

#define OR_TABLE_ROWS 50
#define OR_MAX_CELLS 30              /* per heatmap axis; more values are binned */
#define OR_BINS 10

/* A heatmap axis: the parameter's own values, or equal bins over its range. */
typedef struct or_axis {
    const opt_param *p;
    size_t index;                    /* in --param order */
    size_t n;
    int binned;
    char label[OR_MAX_CELLS][72];
} or_axis;

static void or_axis_init(or_axis *a, const optimize_config *cfg, size_t index)
{
    memset(a, 0, sizeof *a);
    a->p = &cfg->params[index];
    a->index = index;
    const opt_param *p = a->p;
    if (p->values && p->nvalues <= OR_MAX_CELLS) {
        a->n = p->nvalues;
        for (size_t k = 0; k < a->n; k++) snprintf(a->label[k], sizeof a->label[k], "%s", p->values[k].text);
        return;
    }
    double lo = p->lo, hi = p->hi;
    if (p->values) {                                   /* a long list of numbers (a fine step): bins */
        lo = hi = p->values[0].number;
        for (size_t k = 0; k < p->nvalues; k++) {
            if (p->values[k].number < lo) lo = p->values[k].number;
            if (p->values[k].number > hi) hi = p->values[k].number;
        }
    }
    if (!p->values && p->whole && hi - lo + 1 <= OR_MAX_CELLS) {
        a->n = (size_t)(hi - lo + 1);
        for (size_t k = 0; k < a->n; k++) snprintf(a->label[k], sizeof a->label[k], "%.0f", lo + (double)k);
        return;
    }
    a->binned = 1;
    a->n = OR_BINS;
    for (size_t k = 0; k < a->n; k++)
        snprintf(a->label[k], sizeof a->label[k], "%.4g..%.4g", lo + (hi - lo) * (double)k / OR_BINS,
                 lo + (hi - lo) * (double)(k + 1) / OR_BINS);
}

static long or_axis_cell(const or_axis *a, const param_value *v)
{
    const opt_param *p = a->p;
    if (p->values && !a->binned) {
        for (size_t k = 0; k < p->nvalues; k++)
            if (!strcmp(p->values[k].text, v->text)) return (long)k;
        return -1;
    }
    if (!a->binned) return (long)(v->number - p->lo);
    double lo = p->lo, hi = p->hi;
    if (p->values) {
        lo = hi = p->values[0].number;
        for (size_t k = 0; k < p->nvalues; k++) {
            if (p->values[k].number < lo) lo = p->values[k].number;
            if (p->values[k].number > hi) hi = p->values[k].number;
        }
    }
    long k = hi > lo ? (long)floor((v->number - lo) / (hi - lo) * OR_BINS) : 0;
    return k < 0 ? 0 : k >= OR_BINS ? OR_BINS - 1 : k;
}

/* Green for good scores, red for bad, the stronger the further from zero; returns that strength. */
static double or_colour(char *out, size_t len, double score, double scale)
{
    double f = scale > 0 ? fmin(1, fabs(score) / scale) : 0;
    if (score >= 0)
        snprintf(out, len, "rgb(%d,%d,%d)", (int)(240 - 214 * f), (int)(247 - 120 * f), (int)(240 - 185 * f));
    else
        snprintf(out, len, "rgb(%d,%d,%d)", (int)(252 - 45 * f), (int)(240 - 206 * f), (int)(240 - 194 * f));
    return f;
}

static void or_heatmap(strbuf *b, const optimize_result *res, const char *xname, const char *yname)
{
    const optimize_config *cfg = res->cfg;
    strbuf_puts(b, "<h2>Heatmap</h2><div class=\"card\">");
    long xi = -1, yi = -1;                             /* by name, else the first two --param */
    for (size_t i = 0; i < cfg->nparams; i++)
        if (xi < 0 && (xname ? !strcmp(cfg->params[i].name, xname) : 1)) xi = (long)i;
    for (size_t i = 0; i < cfg->nparams; i++)
        if (yi < 0 && (long)i != xi && (yname ? !strcmp(cfg->params[i].name, yname) : 1)) yi = (long)i;
    if (xi < 0 || yi < 0 || xi == yi) {
        strbuf_puts(b, "<p class=\"note\">A heatmap needs two parameters (--param twice; --heatmap X,Y picks "
                       "them).</p></div>\n");
        return;
    }
    or_axis x, y;
    or_axis_init(&x, cfg, (size_t)xi);
    or_axis_init(&y, cfg, (size_t)yi);
    double best[OR_MAX_CELLS][OR_MAX_CELLS];
    size_t count[OR_MAX_CELLS][OR_MAX_CELLS] = {{0}};
    double scale = 0;
    param_setting params[OPT_MAX_PARAMS];
    for (size_t i = 0; i < res->ntrials; i++) {
        const opt_trial *t = &res->trials[i];
        if (!t->ranked) continue;
        optimize_trial_params(cfg, t->index, params);
        long cx = or_axis_cell(&x, &params[xi].value), cy = or_axis_cell(&y, &params[yi].value);
        if (cx < 0 || cy < 0 || cx >= (long)x.n || cy >= (long)y.n) continue;
        if (!count[cy][cx]++ || t->score > best[cy][cx]) best[cy][cx] = t->score;
        if (fabs(t->score) > scale) scale = fabs(t->score);
    }
    int cw = (int)((CHART_W - 150) / x.n), ch = 26, left = 130, top = 10;
    int height = top + ch * (int)y.n + 70;
    strbuf_printf(b, "<svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n",
                  CHART_W, height);
    for (size_t r = 0; r < y.n; r++) {
        size_t row = y.n - 1 - r;                      /* the largest value at the top */
        int yy = top + (int)r * ch;
        strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"end\">", left - 6, yy + ch / 2 + 4);
        html_escape(b, y.label[row]);
        strbuf_puts(b, "</text>\n");
        for (size_t c = 0; c < x.n; c++) {
            char fill[32] = "#eaeef2";
            double strength = count[row][c] ? or_colour(fill, sizeof fill, best[row][c], scale) : 0;
            strbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#fff\"><title>",
                          left + (int)c * cw, yy, cw, ch, fill);
            strbuf_printf(b, "%s ", x.p->name);
            html_escape(b, x.label[c]);
            strbuf_printf(b, ", %s ", y.p->name);
            html_escape(b, y.label[row]);
            if (count[row][c]) strbuf_printf(b, ": best %s %.4g of %zu ranked trials", optimize_objective_names[cfg->objective],
                                             best[row][c], count[row][c]);
            else strbuf_puts(b, ": no ranked trial");
            strbuf_puts(b, "</title></rect>\n");
            if (count[row][c] && cw >= 44)   /* white on the strong colours */
                strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"middle\"%s>%.2f</text>\n",
                              left + (int)c * cw + cw / 2, yy + ch / 2 + 4, strength > 0.6 ? " style=\"fill:#fff\"" : "",
                              best[row][c]);
        }
    }
    int base = top + ch * (int)y.n;
    for (size_t c = 0; c < x.n; c++) {
        int every = x.n > 15 ? 2 : 1;
        if (c % (size_t)every) continue;
        strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"ax\" text-anchor=\"middle\">", left + (int)c * cw + cw / 2,
                      base + 16);
        html_escape(b, x.label[c]);
        strbuf_puts(b, "</text>\n");
    }
    strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"at\" text-anchor=\"middle\">%s</text>\n",
                  left + cw * (int)x.n / 2, base + 40, x.p->name);
    strbuf_printf(b, "<text x=\"14\" y=\"%d\" class=\"at\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">%s"
                     "</text>\n</svg>\n",
                  top + ch * (int)y.n / 2, top + ch * (int)y.n / 2, y.p->name);
    strbuf_printf(b, "<p class=\"legend\">Each cell: the best %s%s among the ranked trials with those two values "
                     "(the other parameters free); <span class=\"up\">green</span> above zero, "
                     "<span class=\"down\">red</span> below, grey: none ranked. Hover a cell for its figures.</p></div>\n",
                  cfg->folds ? "mean training " : "", optimize_objective_names[cfg->objective]);
}

static void or_pct(char *out, size_t len, double v)
{
    if (!isfinite(v)) snprintf(out, len, "n/a");
    else snprintf(out, len, "%+.2f%%", v * 100);
}

static void or_ranked(strbuf *b, const optimize_result *res)
{
    const optimize_config *cfg = res->cfg;
    strbuf_printf(b, "<h2>Ranked trials</h2><div class=\"card\"><table><thead><tr><th>rank</th><th>trial</th><th>%s</th>",
                  cfg->folds ? "mean training score" : "score");
    for (size_t i = 0; i < cfg->nparams; i++) {
        strbuf_puts(b, "<th>");
        html_escape(b, cfg->params[i].name);
        strbuf_puts(b, "</th>");
    }
    strbuf_printf(b, "<th>return%s</th><th>Sharpe</th><th>Sortino</th><th>max drawdown</th><th>round trips</th>"
                     "<th>exposure</th></tr></thead><tbody>\n", cfg->folds ? " (fold 1 training)" : "");
    param_setting params[OPT_MAX_PARAMS];
    for (size_t k = 0; k < res->nranked && k < OR_TABLE_ROWS; k++) {
        const opt_trial *t = &res->trials[res->order[k]];
        const opt_metrics *m = &t->outcomes[0].m;
        optimize_trial_params(cfg, t->index, params);
        strbuf_printf(b, "<tr><td>%zu</td><td>%zu</td><td class=\"%s\">%.4g</td>", t->rank, t->index,
                      html_sign_class(t->score), t->score);
        for (size_t i = 0; i < cfg->nparams; i++) {
            strbuf_puts(b, "<td>");
            html_escape(b, params[i].value.text);
            strbuf_puts(b, "</td>");
        }
        char r[32], dd[32], ex[32];
        or_pct(r, sizeof r, m->total_return);
        or_pct(dd, sizeof dd, -m->max_drawdown);
        or_pct(ex, sizeof ex, m->exposure);
        strbuf_printf(b, "<td class=\"%s\">%s</td><td class=\"%s\">%.2f</td><td class=\"%s\">%.2f</td>"
                         "<td class=\"%s\">%s</td><td>%.0f</td><td>%s</td></tr>\n",
                      html_sign_class(m->total_return), r, html_sign_class(m->sharpe), m->sharpe,
                      html_sign_class(m->sortino), m->sortino, html_sign_class(-m->max_drawdown), dd, m->round_trips,
                      ex + (ex[0] == '+'));
    }
    if (!res->nranked)
        strbuf_printf(b, "<tr><td colspan=\"%zu\" class=\"note\">no trial qualified (at least %d round trips and a "
                         "defined %s)</td></tr>\n", cfg->nparams + 9, cfg->min_trades,
                      optimize_objective_names[cfg->objective]);
    strbuf_puts(b, "</tbody></table>");
    if (res->nranked > OR_TABLE_ROWS)
        strbuf_printf(b, "<p class=\"note\">the best %d of %zu ranked trials; --json and --csv hold them all.</p>",
                      OR_TABLE_ROWS, res->nranked);
    strbuf_puts(b, "</div>\n");
}

/* The test parts' equity one after another, each starting where the one before ended. */
static int or_oos_equity(strbuf *b, const optimize_result *res)
{
    const optimize_config *cfg = res->cfg;
    size_t n = 0;
    for (int f = 0; f < cfg->folds; f++) n += res->folds[f].oos_n;
    if (!n) {
        strbuf_puts(b, "<p class=\"note\">No out-of-sample run: no fold had parameters chosen.</p>\n");
        return 0;
    }
    double *v = malloc(n * sizeof *v);
    int64_t *t = malloc(n * sizeof *t);
    if (!v || !t) { free(v); free(t); return -1; }
    double factor = 1, start = cfg->bt.paper.starting_cash;
    size_t k = 0;
    for (int f = 0; f < cfg->folds; f++) {
        const opt_fold *fold = &res->folds[f];
        if (!fold->oos_n) continue;
        double e0 = fold->oos_equity[0];
        for (size_t i = 0; i < fold->oos_n; i++, k++) {
            v[k] = start * factor * (e0 > 0 ? fold->oos_equity[i] / e0 : 1);
            t[k] = fold->oos_t[i];
        }
        factor *= e0 > 0 ? fold->oos_equity[fold->oos_n - 1] / e0 : 1;
    }
    chart c = {.height = 280, .t0 = t[0], .t1 = t[n - 1], .y_title = "out-of-sample equity (quote)"};
    chart_series_data s = {.t = t, .t_stride = sizeof *t, .v = v, .v_stride = sizeof *v, .n = n, .scale = 1};
    double lo = INFINITY, hi = -INFINITY;
    chart_range(&s, &lo, &hi);
    chart_fit(&c.y, lo, hi, 1);
    chart_begin(b, &c);
    chart_hline(b, &c, start, "stroke=\"#8c959f\" stroke-dasharray=\"4 3\"");
    for (int f = 0; f < cfg->folds; f++) {             /* where each test part starts */
        if (!res->folds[f].oos_n) continue;
        double x = chart_x(&c, res->folds[f].oos_t[0]);
        strbuf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#bf8700\" stroke-dasharray=\"2 3\">"
                         "<title>fold %d's test part starts</title></line>\n",
                      x, x, CHART_TOP, c.height - CHART_BOTTOM, f + 1);
    }
    chart_series(b, &c, &s, "fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.6\"");
    chart_end(b);
    char r[32];
    or_pct(r, sizeof r, res->oos_return);
    strbuf_printf(b, "<p class=\"legend\"><span class=\"sw\" style=\"background:#0969da\"></span>each fold's test "
                     "part run with the parameters its training part chose, chained: <span class=\"%s\">%s</span>; "
                     "dotted: where a fold's test part starts; dashed: the starting %.2f.</p>\n",
                  html_sign_class(res->oos_return), r, start);
    free(v);
    free(t);
    return 0;
}

static int or_walk_forward(strbuf *b, const optimize_result *res)
{
    const optimize_config *cfg = res->cfg;
    if (!cfg->folds) return 0;
    const csvdata *d = backtest_session_data(res->session);
    const char *obj = optimize_objective_names[cfg->objective];
    strbuf_printf(b, "<h2>Walk-forward</h2><div class=\"card\">");
    if (res->warning[0]) {
        strbuf_puts(b, "<p class=\"warn\">");
        html_escape(b, res->warning);
        strbuf_puts(b, "</p>");
    }
    strbuf_printf(b, "<table><thead><tr><th>fold</th><th>training part</th><th>test part</th><th>in-sample %s%s</th>"
                     "<th>out-of-sample %s%s</th><th>out-of-sample return</th><th>chosen parameters</th></tr></thead>"
                     "<tbody>\n", obj, cfg->objective == OBJ_RETURN ? " / year" : "", obj,
                  cfg->objective == OBJ_RETURN ? " / year" : "");
    param_setting params[OPT_MAX_PARAMS];
    for (int f = 0; f < cfg->folds; f++) {
        const opt_fold *fold = &res->folds[f];
        char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE], c[CLOCK_ISO_SIZE], e[CLOCK_ISO_SIZE], r[32];
        strbuf_printf(b, "<tr><td>%d</td><td>%.10s &ndash; %.10s</td><td>%.10s &ndash; %.10s</td>", f + 1,
                      clock_iso(d->bars[fold->train_from].t * 1000, a), clock_iso(d->bars[fold->train_to - 1].t * 1000, z),
                      clock_iso(d->bars[fold->test_from].t * 1000, c), clock_iso(d->bars[fold->test_to - 1].t * 1000, e));
        if (fold->best < 0) {
            strbuf_puts(b, "<td colspan=\"4\" class=\"note\">no trial qualified on the training part</td></tr>\n");
            continue;
        }
        or_pct(r, sizeof r, fold->out_of_sample.failed ? NAN : fold->out_of_sample.m.total_return);
        strbuf_printf(b, "<td class=\"%s\">%.3f</td><td class=\"%s\">%.3f</td><td class=\"%s\">%s</td><td class=\"why\">",
                      html_sign_class(fold->in_sample_objective), fold->in_sample_objective,
                      html_sign_class(fold->out_of_sample_objective), fold->out_of_sample_objective,
                      html_sign_class(fold->out_of_sample.m.total_return), r);
        optimize_trial_params(cfg, (size_t)fold->best, params);
        for (size_t i = 0; i < cfg->nparams; i++) {
            strbuf_printf(b, "%s%s=", i ? " " : "", params[i].name);
            html_escape(b, params[i].value.text);
        }
        strbuf_printf(b, " (trial %ld)</td></tr>\n", fold->best);
    }
    strbuf_printf(b, "</tbody></table><p class=\"legend\">mean in-sample %.3f, out-of-sample %.3f", res->is_mean,
                  res->oos_mean);
    if (isfinite(res->efficiency)) strbuf_printf(b, " (efficiency %.0f%%)", res->efficiency * 100);
    strbuf_puts(b, ". Each fold's parameters come from its training part alone; the test part that follows it is "
                   "never seen when choosing.</p>\n");
    int rc = or_oos_equity(b, res);
    strbuf_puts(b, "</div>\n");
    return rc;
}

int optimize_write_report(const optimize_result *res, const char *path, const char *heat_x, const char *heat_y,
                          char *err, size_t errlen)
{
    const optimize_config *cfg = res->cfg;
    strbuf b = {0}, title = {0};
    strbuf_printf(&title, "Optimize: %s", res->strategy);
    html_page_begin(&b, strbuf_cstr(&title), NULL);
    strbuf_free(&title);
    char a[CLOCK_ISO_SIZE], z[CLOCK_ISO_SIZE];
    strbuf_puts(&b, "<h1>Optimize: ");
    html_escape(&b, res->strategy);
    strbuf_printf(&b, ", %d-minute bars</h1>\n<p class=\"sub\">", res->interval);
    html_escape(&b, cfg->bt.strategy_path);
    strbuf_puts(&b, " on ");
    html_escape(&b, cfg->bt.data_path);
    strbuf_printf(&b, " &middot; %.16s &ndash; %.16s UTC, %zu bars &middot; %zu trials (%s", clock_iso(res->first_t * 1000, a),
                  clock_iso(res->last_t * 1000, z), res->bars, res->ntrials, cfg->trials ? "random sample" : "grid");
    if (cfg->trials) strbuf_printf(&b, ", seed %llu", (unsigned long long)cfg->seed);
    strbuf_printf(&b, ") &middot; objective %s &middot; %zu ranked (at least %d round trips) &middot; titan-host %s<br>",
                  optimize_objective_names[cfg->objective], res->nranked, cfg->min_trades, TITAN_VERSION);
    for (size_t i = 0; i < cfg->nparams; i++) {
        strbuf_puts(&b, i ? " &middot; " : "");
        html_escape(&b, cfg->params[i].name);
        strbuf_puts(&b, " = ");
        html_escape(&b, cfg->params[i].spec);
    }
    strbuf_puts(&b, "</p>\n");
    if (res->interval != res->own_interval)
        strbuf_printf(&b, "<p class=\"warn\">%s is written for %d-minute bars and ran on %d-minute bars "
                          "(--interval).</p>\n", res->strategy, res->own_interval, res->interval);
    if (or_walk_forward(&b, res) != 0) {
        strbuf_free(&b);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    or_ranked(&b, res);
    or_heatmap(&b, res, heat_x, heat_y);
    strbuf_printf(&b, "<p class=\"note\">Every trial is a backtest by the same engine as <code>titan-host backtest</code> "
                      "(same fills, caps, fees, no look-ahead). A trial is ranked when it made at least %d round trips "
                      "and its %s is defined%s; ties go to the lower trial number. A trial's values depend on the seed "
                      "and its number alone, so --jobs and --shard never change a result.</p>\n",
                  cfg->min_trades, optimize_objective_names[cfg->objective],
                  cfg->folds ? " on every fold's training part (its score is their mean)" : "");
    html_page_end(&b);
    int rc = html_write(&b, path, err, errlen);
    strbuf_free(&b);
    return rc;
}
