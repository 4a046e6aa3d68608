/* The forms of `titan-host status` (status_view.h). Every figure comes from history.c, so the
 * text, the JSON, the Markdown table and the page always say the same thing. */
#include "status_view.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chart.h"
#include "clock.h"
#include "numfmt.h"
#include "version.h"

#define SV_RECENT_FILLS 20
#define SV_PAGE_FILLS 50
#define SV_DAY_MS 86400000LL

/* The three equity changes of a strategy, and the equity each is measured from. */
typedef struct sv_changes {
    double today, week, all, today_base, week_base, all_base;
} sv_changes;

static sv_changes sv_changes_of(const history *h, int64_t now)
{
    int64_t day = clock_slot_ms(now, 1440), week = now - 7 * SV_DAY_MS;
    return (sv_changes){.today = history_change_since(h, day), .week = history_change_since(h, week),
                        .all = history_change_since(h, 0), .today_base = history_equity_before(h, day),
                        .week_base = history_equity_before(h, week), .all_base = h->initial_equity};
}

/* "2026-11-18 11:45" (UTC), "-" for no time */
static const char *sv_time(char out[CLOCK_ISO_SIZE], int64_t ms)
{
    if (!ms) return "-";
    clock_iso(ms, out);
    out[10] = ' ';
    out[16] = '\0';
    return out;
}

/* "+1.20 (+0.01%)" */
static const char *sv_change(char *out, size_t size, double change, double base)
{
    char a[64], p[64];
    snprintf(out, size, "%s (%s)", numfmt_amount(a, sizeof a, change, 2, 1), numfmt_percent(p, sizeof p, change, base));
    return out;
}

static const char *sv_halt_text(const status_view *v)
{
    if (v->halt_store < 0) return "unknown: the store's halt flag could not be read (runs fail closed)";
    if (v->halt_store && v->halt_env) return "ON (store flag and TITAN_HALT)";
    if (v->halt_store) return "ON (the store's flag: titan-host halt off to resume)";
    if (v->halt_env) return "ON here (TITAN_HALT is set in this environment)";
    return "off";
}

/* ---- text ------------------------------------------------------------------------------------- */

static void sv_cell(strbuf *out, const char *text, int width)
{
    char cut[120];
    size_t o = 0;
    for (const char *p = text; *p && o + 1 < sizeof cut && (int)o < width; p++)
        cut[o++] = (unsigned char)*p < 0x20 ? ' ' : *p;
    cut[o] = '\0';
    if ((int)strlen(text) > width && o >= 3) memcpy(cut + o - 3, "...", 3);
    strbuf_printf(out, "%-*s  ", width, cut);
}

static void sv_text_strategy(const status_view *v, const history *h, strbuf *out)
{
    char a[64], b[64], c[64], t[CLOCK_ISO_SIZE], x[96], y[96], z[96];
    sv_changes ch = sv_changes_of(h, v->now_ms);
    strbuf_printf(out, "\n%s — %s, %s\n", h->strategy, h->mode, h->pair[0] ? h->pair : "?");
    strbuf_printf(out, "  equity        %s %s", numfmt_amount(a, sizeof a, h->equity, 2, 0), h->quote);
    if (isfinite(h->price))
        strbuf_printf(out, " at %s (last recorded price, %s UTC)", numfmt_amount(b, sizeof b, h->price, 2, 0),
                      sv_time(t, h->price_ms));
    strbuf_printf(out, "\n  change        today %s · 7 days %s · all time %s\n",
                  sv_change(x, sizeof x, ch.today, ch.today_base), sv_change(y, sizeof y, ch.week, ch.week_base),
                  sv_change(z, sizeof z, ch.all, ch.all_base));
    strbuf_printf(out, "  cash          %s %s\n", numfmt_amount(a, sizeof a, h->cash, 2, 0), h->quote);
    strbuf_printf(out, "  position      %.8g = %s %s · cost basis %s\n", h->position,
                  numfmt_amount(a, sizeof a, h->position_value, 2, 0), h->quote,
                  numfmt_amount(b, sizeof b, h->cost_basis, 2, 0));
    strbuf_printf(out, "  realized PnL  %s · fees %s · %zu fills\n", numfmt_amount(a, sizeof a, h->realized_pnl, 2, 1),
                  numfmt_amount(c, sizeof c, h->fees, 2, 0), h->nfills);
    strbuf_printf(out, "  AI spend      %.4f USD today\n", h->ai_spend_today_usd);
    if (!h->n_in_doubt) strbuf_puts(out, "  in doubt      none\n");
    for (size_t i = 0; i < h->n_in_doubt; i++)
        strbuf_printf(out, "  IN DOUBT      %s: %d order(s) of unknown fate; the next run reconciles them\n",
                      h->in_doubt[i].cycle_id, h->in_doubt[i].unknown_orders);
    size_t shown = h->ncycles < (size_t)v->last ? h->ncycles : (size_t)v->last;
    strbuf_printf(out, "  last %zu cycles:\n    ", shown);
    static const char *const head[] = {"CYCLE_ID", "STATUS", "STARTED (UTC)", "INTENTS", "FILLS"};
    static const int width[] = {30, 9, 16, 8, 5};
    for (int k = 0; k < 5; k++) sv_cell(out, head[k], width[k]);
    strbuf_puts(out, "AI / ERROR\n");
    for (size_t i = 0; i < shown; i++) {
        const history_cycle *cy = &h->cycles[i];
        char intents[32], fills[16];
        snprintf(intents, sizeof intents, "%d/%d/%d", cy->accepted, cy->resized, cy->rejected);
        snprintf(fills, sizeof fills, "%d", cy->fills);
        const char *cells[] = {cy->cycle_id, cy->status, sv_time(t, cy->started_ms), intents, fills};
        strbuf_puts(out, "    ");
        for (int k = 0; k < 5; k++) sv_cell(out, cells[k], width[k]);
        const char *tail = cy->error[0] ? cy->error : cy->ai[0] ? cy->ai : "-";
        strbuf_printf(out, "%.110s\n", tail);
    }
}

void status_text(const status_view *v, strbuf *out)
{
    char t[CLOCK_ISO_SIZE];
    strbuf_printf(out, "titan-host status · %s · %s UTC\nhalt: %s\n", v->store, sv_time(t, v->now_ms), sv_halt_text(v));
    if (!v->n) strbuf_puts(out, "\n(no cycles recorded)\n");
    for (size_t i = 0; i < v->n; i++) sv_text_strategy(v, &v->strategies[i], out);
}

/* ---- JSON (documented in README "titan-host status"; keep the order and the names) ------------- */

static void sv_json_time(strbuf *out, const char *key, int64_t ms)
{
    char iso[CLOCK_ISO_SIZE];
    strbuf_json_str(out, key, ms ? clock_iso(ms, iso) : NULL);
}

static void sv_json_cycle(strbuf *out, const history_cycle *c)
{
    strbuf_json_raw(out, NULL, "{");
    strbuf_json_str(out, "cycle_id", c->cycle_id);
    strbuf_json_str(out, "status", c->status);
    sv_json_time(out, "started_at", c->started_ms);
    sv_json_time(out, "finished_at", c->finished_ms);
    strbuf_json_raw(out, "intents", "{");
    strbuf_json_int(out, "accepted", c->accepted);
    strbuf_json_int(out, "resized", c->resized);
    strbuf_json_int(out, "rejected", c->rejected);
    strbuf_puts(out, "}");
    strbuf_json_int(out, "fills", c->fills);
    strbuf_json_int(out, "unknown_orders", c->unknown_orders);
    strbuf_json_str(out, "ai", c->ai[0] ? c->ai : NULL);
    strbuf_json_str(out, "error", c->error[0] ? c->error : NULL);
    strbuf_puts(out, "}");
}

static void sv_json_strategy(const status_view *v, const history *h, strbuf *out)
{
    sv_changes ch = sv_changes_of(h, v->now_ms);
    strbuf_json_raw(out, NULL, "{");
    strbuf_json_str(out, "strategy", h->strategy);
    strbuf_json_str(out, "mode", h->mode);
    strbuf_json_str(out, "pair", h->pair[0] ? h->pair : NULL);
    strbuf_json_str(out, "quote", h->quote[0] ? h->quote : NULL);
    strbuf_json_num(out, "price", h->price);
    sv_json_time(out, "price_at", isfinite(h->price) ? h->price_ms : 0);
    strbuf_json_num(out, "equity", h->equity);
    strbuf_json_raw(out, "equity_change", "{");
    strbuf_json_num(out, "today", ch.today);
    strbuf_json_num(out, "7d", ch.week);
    strbuf_json_num(out, "all_time", ch.all);
    strbuf_puts(out, "}");
    strbuf_json_num(out, "initial_equity", h->initial_equity);
    strbuf_json_num(out, "cash", h->cash);
    strbuf_json_num(out, "position", h->position);
    strbuf_json_num(out, "position_value", h->position_value);
    strbuf_json_num(out, "cost_basis", h->cost_basis);
    strbuf_json_num(out, "realized_pnl", h->realized_pnl);
    strbuf_json_num(out, "fees", h->fees);
    strbuf_json_int(out, "fills", (long long)h->nfills);
    strbuf_json_num(out, "ai_spend_today_usd", h->ai_spend_today_usd);
    strbuf_json_raw(out, "in_doubt", "[");
    for (size_t i = 0; i < h->n_in_doubt; i++) sv_json_cycle(out, &h->in_doubt[i]);
    strbuf_puts(out, "]");
    strbuf_json_raw(out, "cycles", "[");
    for (size_t i = 0; i < h->ncycles && i < (size_t)v->last; i++) sv_json_cycle(out, &h->cycles[i]);
    strbuf_puts(out, "]");
    strbuf_json_raw(out, "recent_fills", "[");
    for (size_t k = 0; k < h->nfills && k < SV_RECENT_FILLS; k++) {
        const history_fill *f = &h->fills[h->nfills - 1 - k];
        strbuf_json_raw(out, NULL, "{");
        sv_json_time(out, "time", f->t_ms);
        strbuf_json_str(out, "cycle_id", f->cycle_id);
        strbuf_json_str(out, "side", f->side);
        strbuf_json_num(out, "volume", f->volume);
        strbuf_json_num(out, "price", f->price);
        strbuf_json_num(out, "cost", f->cost);
        strbuf_json_num(out, "fee", f->fee);
        strbuf_json_num(out, "realized_pnl", f->realized_pnl);
        strbuf_json_str(out, "reason", f->reason);
        strbuf_puts(out, "}");
    }
    strbuf_puts(out, "]}");
}

void status_json(const status_view *v, strbuf *out)
{
    strbuf_puts(out, "{");
    sv_json_time(out, "generated_at", v->now_ms);
    strbuf_json_str(out, "store", v->store);
    strbuf_json_str(out, "host_version", TITAN_VERSION);
    strbuf_json_raw(out, "halt", "{");
    if (v->halt_store < 0) strbuf_json_raw(out, "store", "null");
    else strbuf_json_bool(out, "store", v->halt_store);
    strbuf_json_bool(out, "env", v->halt_env);
    strbuf_puts(out, "}");
    strbuf_json_raw(out, "strategies", "[");
    for (size_t i = 0; i < v->n; i++) sv_json_strategy(v, &v->strategies[i], out);
    strbuf_puts(out, "]}\n");
}

/* ---- Markdown (the workflow's job summary) ----------------------------------------------------- */

/* Markdown table cells must not hold a pipe or a line break. */
static void sv_md_cell(strbuf *out, const char *text)
{
    strbuf_puts(out, " ");
    for (const char *p = text; *p; p++) {
        if (*p == '|') strbuf_puts(out, "\\|");
        else strbuf_append(out, (unsigned char)*p < 0x20 ? " " : p, 1);
    }
    strbuf_puts(out, " |");
}

void status_markdown(const status_view *v, strbuf *out)
{
    char t[CLOCK_ISO_SIZE], a[64], b[96], c[96], d[64], e[64];
    strbuf_printf(out, "### titan-host status (%s UTC)\n\nhalt: %s\n\n", sv_time(t, v->now_ms), sv_halt_text(v));
    if (!v->n) {
        strbuf_puts(out, "(no cycles recorded)\n");
        return;
    }
    strbuf_puts(out, "| strategy | mode | equity | today | 7 days | position | realized PnL | in doubt | last cycle |\n"
                     "|---|---|---:|---:|---:|---:|---:|---:|---|\n|");
    for (size_t i = 0; i < v->n; i++) {
        const history *h = &v->strategies[i];
        sv_changes ch = sv_changes_of(h, v->now_ms);
        char equity[96], position[96], last[300];
        snprintf(equity, sizeof equity, "%s %s", numfmt_amount(a, sizeof a, h->equity, 2, 0), h->quote);
        snprintf(position, sizeof position, "%.8g (%s)", h->position, numfmt_amount(d, sizeof d, h->position_value, 2, 0));
        snprintf(last, sizeof last, "%s %s", h->ncycles ? h->cycles[0].cycle_id : "-", h->ncycles ? h->cycles[0].status : "");
        snprintf(e, sizeof e, "%zu", h->n_in_doubt);
        const char *cells[] = {h->strategy, h->mode, equity, sv_change(b, sizeof b, ch.today, ch.today_base),
                               sv_change(c, sizeof c, ch.week, ch.week_base), position,
                               numfmt_amount(a, sizeof a, h->realized_pnl, 2, 1), e, last};
        for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++) sv_md_cell(out, cells[k]);
        strbuf_puts(out, i + 1 < v->n ? "\n|" : "\n");
    }
}

/* ---- the page ----------------------------------------------------------------------------------- */

/* A column of the recorded points as a chart series. */
static chart_series_data sv_points_of(const history *h, const double *first_value)
{
    return (chart_series_data){.t = &h->points[0].t_ms, .t_stride = sizeof *h->points, .t_ms = 1, .v = first_value,
                               .v_stride = sizeof *h->points, .n = h->npoints, .scale = 1};
}

/* cls: "" for none, or html_sign_class's */
static void sv_kpi(strbuf *out, const char *key, const char *value, const char *label, const char *cls)
{
    strbuf_printf(out, "<div class=\"kpi\"><b data-key=\"%s\"%s%s%s>", key, cls[0] ? " class=\"" : "", cls,
                  cls[0] ? "\"" : "");
    html_escape(out, value);
    strbuf_puts(out, "</b><span>");
    html_escape(out, label);
    strbuf_puts(out, "</span></div>");
}

static void sv_page_charts(strbuf *out, const history *h)
{
    if (h->npoints < 2) {
        strbuf_puts(out, "<div class=\"card note\">Fewer than two recorded cycles with a price: no chart yet.</div>\n");
        return;
    }
    chart_series_data eq = sv_points_of(h, &h->points[0].equity), pos = sv_points_of(h, &h->points[0].position);
    char title[96];
    snprintf(title, sizeof title, h->quote[0] ? "equity (%s)" : "equity", h->quote);
    chart c = {.height = 280, .t0 = h->points[0].t_ms / 1000,
             .t1 = h->points[h->npoints - 1].t_ms / 1000, .y_title = title};
    double lo = INFINITY, hi = -INFINITY;
    chart_range(&eq, &lo, &hi);
    if (isfinite(h->initial_equity)) lo = fmin(lo, h->initial_equity), hi = fmax(hi, h->initial_equity);
    chart_fit(&c.y, lo, hi, 0);
    strbuf_puts(out, "<h3>Equity</h3><div class=\"card\">\n");
    chart_begin(out, &c);
    if (isfinite(h->initial_equity)) chart_hline(out, &c, h->initial_equity, "stroke=\"#8c959f\" stroke-dasharray=\"4 3\"");
    chart_series(out, &c, &eq, "class=\"equity\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.6\"");
    chart_end(out);
    strbuf_printf(out, "<p class=\"legend\"><span class=\"sw\" style=\"background:#0969da\"></span>equity after "
                       "each recorded cycle (cash + position at its last price), %s; dashed: the start.</p></div>\n",
                  h->quote);
    chart p = {.height = 190, .t0 = c.t0, .t1 = c.t1, .y_title = "position (base units)"};
    lo = 0, hi = -INFINITY;
    chart_range(&pos, &lo, &hi);
    chart_fit(&p.y, lo, hi > 0 ? hi : 1e-9, 0);
    strbuf_puts(out, "<h3>Position</h3><div class=\"card\">\n");
    chart_begin(out, &p);
    chart_steps(out, &p, &pos, "class=\"position\" fill=\"none\" stroke=\"#8250df\" stroke-width=\"1.4\"");
    chart_end(out);
    strbuf_puts(out, "<p class=\"legend\">base units held after each recorded cycle</p></div>\n");
}

static void sv_page_tables(const status_view *v, strbuf *out, const history *h)
{
    char t[CLOCK_ISO_SIZE], a[64], b[64];
    size_t shown = h->ncycles < (size_t)v->last ? h->ncycles : (size_t)v->last;
    strbuf_printf(out, "<h3>Last %zu cycles</h3><div class=\"card\"><table class=\"cycles\"><thead><tr><th>cycle</th>"
                       "<th>status</th><th>started (UTC)</th><th>intents a/r/x</th><th>fills</th>"
                       "<th style=\"text-align:left\">AI / error</th></tr></thead><tbody>\n", shown);
    for (size_t i = 0; i < shown; i++) {
        const history_cycle *c = &h->cycles[i];
        strbuf_puts(out, "<tr><td>");
        html_escape(out, c->cycle_id);
        strbuf_printf(out, "</td><td class=\"st-%s\">%s</td><td>%s</td><td>%d/%d/%d</td><td>%d</td><td class=\"why\">",
                      c->status, c->status, sv_time(t, c->started_ms), c->accepted, c->resized, c->rejected, c->fills);
        html_escape(out, c->error[0] ? c->error : c->ai);
        strbuf_puts(out, "</td></tr>\n");
    }
    if (!shown) strbuf_puts(out, "<tr><td colspan=\"6\" class=\"note\">no cycles</td></tr>\n");
    strbuf_puts(out, "</tbody></table></div>\n<h3>Fills</h3><div class=\"card\"><table class=\"fills\"><thead><tr>"
                     "<th>time (UTC)</th><th>side</th><th>volume</th><th>price</th><th>cost</th><th>fee</th>"
                     "<th>realized</th><th style=\"text-align:left\">reason</th></tr></thead><tbody>\n");
    for (size_t k = 0; k < h->nfills && k < SV_PAGE_FILLS; k++) {
        const history_fill *f = &h->fills[h->nfills - 1 - k];
        strbuf_printf(out, "<tr><td>%s</td><td class=\"%s\">%s</td><td>%.8g</td><td>%s</td>", sv_time(t, f->t_ms),
                      strcmp(f->side, "buy") == 0 ? "up" : "down", f->side, f->volume,
                      numfmt_amount(a, sizeof a, f->price, 2, 0));
        strbuf_printf(out, "<td>%s</td>", numfmt_amount(a, sizeof a, f->cost, 2, 0));
        strbuf_printf(out, "<td>%s</td><td>%s</td><td class=\"why\">", numfmt_amount(a, sizeof a, f->fee, 2, 0),
                      strcmp(f->side, "sell") == 0 ? numfmt_amount(b, sizeof b, f->realized_pnl, 2, 1) : "");
        html_escape(out, f->reason);
        strbuf_puts(out, "</td></tr>\n");
    }
    if (!h->nfills) strbuf_puts(out, "<tr><td colspan=\"8\" class=\"note\">no fills</td></tr>\n");
    strbuf_puts(out, "</tbody></table></div>\n");
}

static void sv_page_strategy(const status_view *v, strbuf *out, const history *h)
{
    char a[64], b[96], t[CLOCK_ISO_SIZE], label[96];
    sv_changes ch = sv_changes_of(h, v->now_ms);
    strbuf_puts(out, "<section class=\"strategy\" data-strategy=\"");
    html_escape(out, h->strategy);
    strbuf_puts(out, "\"><h2>");
    html_escape(out, h->strategy);
    strbuf_printf(out, " <span class=\"note\">%s, ", h->mode);
    html_escape(out, h->pair);
    strbuf_puts(out, "</span></h2>\n");
    for (size_t i = 0; i < h->n_in_doubt; i++) {
        strbuf_puts(out, "<div class=\"card alert\">Orders in doubt in ");
        html_escape(out, h->in_doubt[i].cycle_id);
        strbuf_printf(out, ": %d of unknown fate. Nothing trades until the next run reconciles them.</div>\n",
                      h->in_doubt[i].unknown_orders);
    }
    strbuf_puts(out, "<div class=\"kpis\">");
    snprintf(label, sizeof label, "equity (%s)", h->quote);
    sv_kpi(out, "equity", numfmt_amount(a, sizeof a, h->equity, 2, 0), label, "");
    sv_kpi(out, "today", sv_change(b, sizeof b, ch.today, ch.today_base), "today", html_sign_class(ch.today));
    sv_kpi(out, "7d", sv_change(b, sizeof b, ch.week, ch.week_base), "7 days", html_sign_class(ch.week));
    sv_kpi(out, "all_time", sv_change(b, sizeof b, ch.all, ch.all_base), "all time", html_sign_class(ch.all));
    sv_kpi(out, "cash", numfmt_amount(a, sizeof a, h->cash, 2, 0), "cash", "");
    snprintf(b, sizeof b, "%.8g", h->position);
    snprintf(label, sizeof label, "position = %s", numfmt_amount(a, sizeof a, h->position_value, 2, 0));
    sv_kpi(out, "position", b, label, "");
    sv_kpi(out, "realized_pnl", numfmt_amount(a, sizeof a, h->realized_pnl, 2, 1), "realized PnL",
           html_sign_class(h->realized_pnl));
    sv_kpi(out, "fees", numfmt_amount(a, sizeof a, h->fees, 2, 0), "fees", "");
    snprintf(b, sizeof b, "%.4f", h->ai_spend_today_usd);
    sv_kpi(out, "ai_spend", b, "AI spend today (USD)", "");
    strbuf_puts(out, "</div>\n<p class=\"note\">");
    if (isfinite(h->price))
        strbuf_printf(out, "Valued at the last recorded price, %s (%s UTC). ", numfmt_amount(a, sizeof a, h->price, 2, 0),
                      sv_time(t, h->price_ms));
    strbuf_printf(out, "Cost basis %s; %zu fills.</p>\n", numfmt_amount(a, sizeof a, h->cost_basis, 2, 0), h->nfills);
    sv_page_charts(out, h);
    sv_page_tables(v, out, h);
    strbuf_puts(out, "</section>\n");
}

int status_page_write(const status_view *v, const char *path, char *err, size_t errlen)
{
    char t[CLOCK_ISO_SIZE];
    strbuf b = {0};
    html_page_begin(&b, "titan-host status",
                     "h3{font-size:14px;margin:18px 0 6px}section.strategy{margin:0 0 36px}"
                     ".alert{border-color:#cf222e;color:#cf222e;font-weight:600}.st-failed,.st-in_doubt{color:#cf222e}"
                     ".st-halted{color:#9a6700}\n");
    strbuf_puts(&b, "<h1>titan-host status</h1>\n<p class=\"sub\">");
    html_escape(&b, v->store);
    strbuf_printf(&b, " &middot; %s UTC &middot; halt: ", sv_time(t, v->now_ms));
    html_escape(&b, sv_halt_text(v));
    strbuf_printf(&b, " &middot; titan-host %s</p>\n", TITAN_VERSION);
    if (!v->n) strbuf_puts(&b, "<div class=\"card note\">No cycles recorded in this store.</div>\n");
    for (size_t i = 0; i < v->n; i++) sv_page_strategy(v, &b, &v->strategies[i]);
    strbuf_puts(&b, "<p class=\"note\">Read from the store only. PAPER figures are the paper ledger's; LIVE ones are "
                    "what the latest record says Kraken held. Times are UTC.</p>\n");
    html_page_end(&b);
    int rc = html_write(&b, path, err, errlen);
    strbuf_free(&b);
    return rc;
}
