/* Notifications (notify.h): which events a recorded cycle calls for, the text of each (a
 * one-line headline for a phone's lock screen, details below, UTC times), each channel's wire
 * format (shared/protocols.md), and one concurrent delivery bounded by a total deadline. A message
 * is claimed in the store before it goes out; what delivery did is recorded beside the claim. */
#include "notify.h"

#include <lua.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blackbox.h"
#include "clock.h"
#include "codec.h"
#include "exit_codes.h"
#include "history.h"
#include "http.h"
#include "jsondoc.h"
#include "numfmt.h"
#include "secrets.h"
#include "settings.h"
#include "store.h"
#include "strbuf.h"
#include "version.h"

#define NOTIFY_MAX_MESSAGES 8
#define NOTIFY_MAX_BODY (64 * 1024)         /* what a channel may answer */

typedef enum { CH_TELEGRAM, CH_DISCORD, CH_SLACK, CH_WEBHOOK, CH_COUNT } notify_channel;
static const char *const notify_channel_names[CH_COUNT] = {"telegram", "discord", "slack", "webhook"};
/* characters a message may have on each channel (Telegram 4096, Discord 2000; Slack and the
 * webhook take more, but a phone shows less) */
static const size_t notify_text_limit[CH_COUNT] = {4096, 2000, 4000, 4000};
static const char *const notify_event_names[] = {"fill", "failed", "in_doubt", "halted", "ai_cap", "daily", "done"};

typedef struct notify_config {
    unsigned events;
    long long deadline_ms;
    const char *telegram_api, *telegram_chat;
    const char *secret[CH_COUNT];           /* token / webhook URL, from secrets.c */
    const char *webhook_secret;
    int enabled[CH_COUNT];
} notify_config;

typedef struct notify_message {
    unsigned event;
    char key[320];
    int per_cycle;                          /* sent even when the store cannot guard it */
    int urgent;
    strbuf text;                            /* headline, then details */
    strbuf data;                            /* the webhook's "data" object */
    int claimed;                            /* 1 claimed, 0 unguarded */
    strbuf result;                          /* per channel, recorded with the claim */
} notify_message;

typedef struct notify_attempt {
    notify_message *m;
    notify_channel ch;
    char *url, *log_url, *body, *signature;
    const char *headers[4];
    size_t nheaders;
    http_response res;
    int ok, attempts;
    double retry_after_s;                   /* from a 429, else NAN */
    char why[300];
} notify_attempt;

static const char *notify_event_name(unsigned event)
{
    for (unsigned i = 0; i < sizeof notify_event_names / sizeof notify_event_names[0]; i++)
        if (event == 1u << i) return notify_event_names[i];
    return "?";
}

/* ---- configuration ---------------------------------------------------------------------------- */

static int notify_read_config(notify_config *cfg)
{
    char err[256];
    memset(cfg, 0, sizeof *cfg);
    /* settings_check_all ran before any command: these reads cannot fail here */
    if (settings_flags("TITAN_NOTIFY", &cfg->events, err, sizeof err) != 0 ||
        settings_integer("TITAN_NOTIFY_DEADLINE_MS", &cfg->deadline_ms, err, sizeof err) != 0 ||
        settings_text("TELEGRAM_API_URL", &cfg->telegram_api, err, sizeof err) != 0 ||
        settings_text("TELEGRAM_CHAT_ID", &cfg->telegram_chat, err, sizeof err) != 0)
        return -1;
    static const char *const names[CH_COUNT] = {"TELEGRAM_BOT_TOKEN", "DISCORD_WEBHOOK_URL", "SLACK_WEBHOOK_URL",
                                                "TITAN_WEBHOOK_URL"};
    int any = 0;
    for (int ch = 0; ch < CH_COUNT; ch++) {
        cfg->secret[ch] = secrets_value(names[ch]);
        cfg->enabled[ch] = cfg->secret[ch] != NULL && (ch != CH_TELEGRAM || cfg->telegram_chat);
        any |= cfg->enabled[ch];
    }
    cfg->webhook_secret = secrets_value("TITAN_WEBHOOK_SECRET");
    return any && cfg->events ? 0 : -1;
}

/* ---- text ------------------------------------------------------------------------------------- */

/* The cycle's line under every message: its id and when, in UTC. */
static void notify_footer(strbuf *t, const char *cycle_id, int64_t now)
{
    char iso[CLOCK_ISO_SIZE];
    clock_iso(now, iso);
    if (cycle_id) strbuf_printf(t, "\ncycle %s · %.10s %.5s UTC", cycle_id, iso, iso + 11);
    else strbuf_printf(t, "\n%.10s %.5s UTC", iso, iso + 11);
}

static const char *notify_reason(const notify_cycle *c, int index)
{
    for (int i = 0; c->intents && i < c->n_intents; i++)
        if (c->intents[i].index == index) return c->intents[i].reason;
    return "";
}

static void notify_fill_message(const notify_cycle *c, notify_message *m, int fills, int64_t now)
{
    char a[64], b[64], f[64];
    strbuf *t = &m->text;
    for (size_t k = 0, shown = 0; k < c->orders->n; k++) {
        const order_record *o = &c->orders->items[k];
        if (!order_executed(o)) continue;
        const char *side = strcmp(o->side, "sell") == 0 ? "SELL" : "BUY";
        if (fills == 1)
            strbuf_printf(t, "%s %.8g %s @ %s — %s (%s)\n", side, o->vol_exec, c->pair,
                          numfmt_amount(a, sizeof a, o->avg_price, 2, 0), c->strategy, c->mode);
        else if (shown == 0)
            strbuf_printf(t, "%d fills on %s — %s (%s)\n", fills, c->pair, c->strategy, c->mode);
        if (fills > 1)
            strbuf_printf(t, "%s %.8g @ %s\n", side, o->vol_exec, numfmt_amount(a, sizeof a, o->avg_price, 2, 0));
        strbuf_printf(t, "cost %s · fee %s", numfmt_amount(b, sizeof b, o->cost, 2, 0),
                      numfmt_amount(f, sizeof f, isfinite(o->fee) ? o->fee : 0, 2, 0));
        if (strcmp(o->side, "sell") == 0 && isfinite(o->realized_pnl))
            strbuf_printf(t, " · realized %s", numfmt_amount(a, sizeof a, o->realized_pnl, 2, 1));
        const char *reason = notify_reason(c, o->index);
        strbuf_puts(t, "\n");
        if (reason[0]) strbuf_printf(t, "reason: %s\n", reason);
        strbuf_json_raw(&m->data, NULL, "{");
        strbuf_json_str(&m->data, "side", o->side);
        strbuf_json_num(&m->data, "volume", o->vol_exec);
        strbuf_json_num(&m->data, "price", o->avg_price);
        strbuf_json_num(&m->data, "cost", o->cost);
        strbuf_json_num(&m->data, "fee", isfinite(o->fee) ? o->fee : 0);
        if (isfinite(o->realized_pnl)) strbuf_json_num(&m->data, "realized_pnl", o->realized_pnl);
        strbuf_json_str(&m->data, "reason", reason);
        strbuf_json_str(&m->data, "cl_ord_id", o->cl_ord_id);
        if (o->txid[0]) strbuf_json_str(&m->data, "txid", o->txid);
        strbuf_puts(&m->data, "}");
        shown++;
    }
    if (t->len && t->data[t->len - 1] == '\n') t->data[--t->len] = '\0';
    notify_footer(t, c->cycle_id, now);
}

/* The events of the cycle as messages (text and data); the daily summary is added later. */
static size_t notify_cycle_messages(const notify_cycle *c, unsigned events, notify_message *out, int64_t now)
{
    size_t n = 0;
    int fills = 0, unknown = 0;
    for (size_t k = 0; c->orders && k < c->orders->n; k++) {
        fills += order_executed(&c->orders->items[k]);
        unknown += order_fate_unknown(&c->orders->items[k]);
    }
    const char *error = c->error ? c->error : "";
    int in_doubt = strcmp(c->status, STORE_STATUS_IN_DOUBT) == 0 || c->exit_code == EXIT_IN_DOUBT;
    struct {
        unsigned event;
        int when;
    } wanted[] = {
        {NOTIFY_FILL, fills > 0},
        {NOTIFY_FAILED, strcmp(c->status, STORE_STATUS_FAILED) == 0},
        {NOTIFY_IN_DOUBT, in_doubt},
        {NOTIFY_HALTED, strcmp(c->status, STORE_STATUS_HALTED) == 0},
        {NOTIFY_DONE, strcmp(c->status, STORE_STATUS_DONE) == 0 && fills == 0},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        if (!wanted[i].when || !(events & wanted[i].event)) continue;
        notify_message *m = &out[n++];
        m->event = wanted[i].event;
        m->per_cycle = wanted[i].event != NOTIFY_HALTED;   /* "became halted" needs the store */
        snprintf(m->key, sizeof m->key, "%s:%s", c->cycle_id, notify_event_name(m->event));
        strbuf_puts(&m->data, "{");
        if (wanted[i].event == NOTIFY_FILL) strbuf_json_raw(&m->data, "fills", "[");
        strbuf *t = &m->text;
        switch (wanted[i].event) {
        case NOTIFY_FILL: notify_fill_message(c, m, fills, now); break;
        case NOTIFY_FAILED:
            strbuf_printf(t, "⚠️ cycle FAILED — %s (%s)\n%.900s", c->strategy, c->mode, error);
            notify_footer(t, c->cycle_id, now);
            break;
        case NOTIFY_IN_DOUBT:
            m->urgent = 1;
            strbuf_printf(t, "🚨 URGENT: orders in doubt — %s (%s)\n%.900s\n", c->strategy, c->mode, error);
            if (unknown) strbuf_printf(t, "%d order(s) of this cycle of unknown fate. ", unknown);
            strbuf_puts(t, "Nothing trades until the next run reconciles them. Check them on Kraken.");
            notify_footer(t, c->cycle_id, now);
            strbuf_json_int(&m->data, "unknown_orders", unknown);
            break;
        case NOTIFY_HALTED:
            strbuf_printf(t, "⏸ halted — %s (%s)\n%.900s\nResume: titan-host halt off (or unset TITAN_HALT).",
                          c->strategy, c->mode, error);
            notify_footer(t, c->cycle_id, now);
            break;
        case NOTIFY_DONE:
            strbuf_printf(t, "cycle done — %s (%s): no fills", c->strategy, c->mode);
            notify_footer(t, c->cycle_id, now);
            break;
        }
        if (wanted[i].event != NOTIFY_FILL) strbuf_json_str(&m->data, "error", c->error);
        strbuf_puts(&m->data, wanted[i].event == NOTIFY_FILL ? "]}" : "}");
    }
    return n;
}

typedef struct notify_ai {
    char skipped[32];
    double spent, cap;
} notify_ai;

static int notify_read_ai(lua_State *S, int idx, void *ud)
{
    notify_ai *ai = ud;
    jsondoc_field(S, idx, "ai");                         /* [ decision, ai ] */
    int t = lua_gettop(S);
    if (jsondoc_field(S, t, "skipped") == LUA_TSTRING) snprintf(ai->skipped, sizeof ai->skipped, "%s", lua_tostring(S, -1));
    if (jsondoc_field(S, t, "spent_usd") == LUA_TNUMBER) ai->spent = lua_tonumber(S, -1);
    if (jsondoc_field(S, t, "cap_usd") == LUA_TNUMBER) ai->cap = lua_tonumber(S, -1);
    lua_settop(S, idx);
    return 0;
}

/* The AI spend cap: once per strategy and UTC day, from the strategy's decision record
 * (strategies/lib/ai.lua records ai.skipped = "spend_cap"). */
static size_t notify_ai_cap_message(const notify_cycle *c, notify_message *m, int64_t now)
{
    notify_ai ai = {.spent = NAN, .cap = NAN};
    if (!c->decision_json || jsondoc_read(c->decision_json, strlen(c->decision_json), notify_read_ai, &ai) != 0 ||
        strcmp(ai.skipped, "spend_cap") != 0)
        return 0;
    char day[CLOCK_ISO_SIZE];
    clock_iso(now, day);
    m->event = NOTIFY_AI_CAP;
    snprintf(m->key, sizeof m->key, "%s@%.10s:ai_cap", c->strategy, day);
    strbuf_printf(&m->text, "AI spend cap reached — %s\nspent %.4f of %.4f USD on %.10s: no AI call until 00:00 UTC, "
                            "technical signals only (TITAN_AI_DAILY_USD)",
                  c->strategy, ai.spent, ai.cap, day);
    notify_footer(&m->text, c->cycle_id, now);
    strbuf_puts(&m->data, "{");
    strbuf_json_num(&m->data, "spent_usd", ai.spent);
    strbuf_json_num(&m->data, "cap_usd", ai.cap);
    strbuf_puts(&m->data, "}");
    return 1;
}

/* Yesterday's summary (UTC), from the store; 0 when the strategy recorded nothing that day. */
static int notify_daily_text(const notify_cycle *c, notify_message *m, int64_t now)
{
    int64_t today = clock_slot_ms(now, 1440), yesterday = today - 86400000;
    history h;
    char err[512], a[64], b[64], d[64], f[64];
    if (history_load(c->st, c->strategy, now, &h, err, sizeof err) != 0) {
        strbuf e = {0};
        strbuf_puts(&e, "{");
        strbuf_json_str(&e, "error", err);
        blackbox_emit(BLACKBOX_WARN, "notify.daily_unreadable", &e);
        return 0;
    }
    int counts[6] = {0}, cycles = 0;
    static const char *const statuses[6] = {"done", "failed", "in_doubt", "halted", "skipped", "running"};
    for (size_t i = 0; i < h.ncycles; i++) {
        if (h.cycles[i].started_ms < yesterday || h.cycles[i].started_ms >= today) continue;
        cycles++;
        for (int s = 0; s < 6; s++) counts[s] += strcmp(h.cycles[i].status, statuses[s]) == 0;
    }
    int fills = 0;
    double realized = 0, fees = 0;
    for (size_t i = 0; i < h.nfills; i++) {
        if (h.fills[i].t_ms < yesterday || h.fills[i].t_ms >= today) continue;
        fills++;
        realized += h.fills[i].realized_pnl;
        fees += h.fills[i].fee;
    }
    double start = history_equity_before(&h, yesterday), end = history_equity_before(&h, today);
    double change = end - start, ai = history_ai_spend(&h, yesterday, today);
    char day[CLOCK_ISO_SIZE];
    clock_iso(yesterday, day);
    strbuf *t = &m->text;
    strbuf_printf(t, "Daily summary %.10s — %s (%s)\n", day, c->strategy, h.mode);
    strbuf_printf(t, "equity %s %s (%s, %s)\n", numfmt_amount(a, sizeof a, end, 2, 0), h.quote,
                  numfmt_amount(b, sizeof b, change, 2, 1), numfmt_percent(d, sizeof d, change, start));
    strbuf_printf(t, "fills %d · realized PnL %s · fees %s\n", fills, numfmt_amount(a, sizeof a, realized, 2, 1),
                  numfmt_amount(f, sizeof f, fees, 2, 0));
    strbuf_printf(t, "AI spend %.4f USD\ncycles %d: %d done, %d failed", ai, cycles, counts[0], counts[1]);
    if (counts[2]) strbuf_printf(t, ", %d in doubt", counts[2]);
    if (counts[3]) strbuf_printf(t, ", %d halted", counts[3]);
    notify_footer(t, NULL, now);
    day[10] = '\0';
    strbuf_puts(&m->data, "{");
    strbuf_json_str(&m->data, "day", day);
    strbuf_json_num(&m->data, "equity_start", start);
    strbuf_json_num(&m->data, "equity_end", end);
    strbuf_json_num(&m->data, "equity_change", change);
    strbuf_json_int(&m->data, "fills", fills);
    strbuf_json_num(&m->data, "realized_pnl", realized);
    strbuf_json_num(&m->data, "fees", fees);
    strbuf_json_num(&m->data, "ai_spend_usd", ai);
    strbuf_json_int(&m->data, "cycles", cycles);
    strbuf_json_int(&m->data, "failed", counts[1]);
    strbuf_puts(&m->data, "}");
    history_free(&h);
    return cycles > 0;
}

/* ---- claims: one message per key, ever ------------------------------------------------------- */

static void notify_log_claim(const notify_message *m, const char *what, const char *err)
{
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "event", notify_event_name(m->event));
    strbuf_json_str(&f, "key", m->key);
    strbuf_json_str(&f, "error", err);
    /* every cycle of a day finds its daily summary already claimed: routine, not news */
    blackbox_emit(err ? BLACKBOX_WARN : m->per_cycle ? BLACKBOX_INFO : BLACKBOX_DEBUG, what, &f);
}

/* 1 send (claimed, or unguarded for a per-cycle event when the store cannot say), 0 not. */
static int notify_claim(const notify_cycle *c, notify_message *m)
{
    char err[512] = "no store";
    store_rc rc = c->st ? store_notify_claim(c->st, m->key, c->strategy, m->event == NOTIFY_DAILY ||
                                             m->event == NOTIFY_AI_CAP ? NULL : c->cycle_id,
                                             notify_event_name(m->event), err, sizeof err)
                        : STORE_ERR;
    if (rc == STORE_OK) return m->claimed = 1;
    if (rc == STORE_CONFLICT) {
        notify_log_claim(m, "notify.already_sent", NULL);
        return 0;
    }
    notify_log_claim(m, m->per_cycle ? "notify.unguarded" : "notify.not_sent", err);
    return m->per_cycle;
}

/* Halted is told when the halt begins, not every halted slot: 1 when the previous cycle of the
 * strategy was halted too. */
static int notify_still_halted(const notify_cycle *c)
{
    store_cycle *rows = NULL;
    size_t n = 0;
    char err[256];
    int still = 0;
    if (c->st && store_list_cycles(c->st, 2, c->strategy, NULL, &rows, &n, err, sizeof err) == STORE_OK && n == 2)
        still = strcmp(rows[0].cycle_id, c->cycle_id) == 0 && strcmp(rows[1].status, STORE_STATUS_HALTED) == 0;
    store_cycles_free(rows, n);
    return still;
}

/* ---- wire formats ------------------------------------------------------------------------------ */

/* text cut to `limit` characters (UTF-8), with an ellipsis when cut */
static void notify_cut(strbuf *out, const char *text, size_t limit)
{
    size_t len = strlen(text), chars = 0, i = 0;
    while (i < len && chars < limit - 1) {
        size_t n = strbuf_utf8_len((const unsigned char *)text + i, len - i);
        i += n ? n : 1;
        chars++;
    }
    strbuf_append(out, text, i);
    if (i < len) strbuf_puts(out, "…");
}

/* Slack reads <, > and & as markup: escaped as its docs ask. */
static void notify_slack_escape(strbuf *out, const char *text)
{
    for (; *text; text++) {
        if (*text == '&') strbuf_puts(out, "&amp;");
        else if (*text == '<') strbuf_puts(out, "&lt;");
        else if (*text == '>') strbuf_puts(out, "&gt;");
        else strbuf_append(out, text, 1);
    }
}

static char *notify_signature(const char *secret, const char *body)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body), mac, &len))
        return NULL;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    codec_hex_encode(mac, len, hex);
    strbuf h = {0};
    strbuf_printf(&h, "X-Hub-Signature-256: sha256=%s", hex);
    return strbuf_take(&h);
}

/* Builds the request of one message on one channel. The text is redacted first: whatever an
 * error message quoted, no secret leaves in a notification. */
static int notify_build(const notify_config *cfg, const notify_cycle *c, notify_attempt *a, int64_t now)
{
    size_t rlen;
    char *text = secrets_redact(strbuf_cstr(&a->m->text), a->m->text.len, &rlen);
    if (!text) return -1;
    strbuf body = {0}, url = {0}, shown = {0}, cut = {0};
    const char *msg = text;
    notify_cut(&cut, msg, notify_text_limit[a->ch]);
    strbuf_puts(&body, "{");
    switch (a->ch) {
    case CH_TELEGRAM: {
        const char *chat = cfg->telegram_chat;
        if (chat[0] == '@') strbuf_json_str(&body, "chat_id", chat);
        else strbuf_json_raw(&body, "chat_id", chat);    /* checked: digits, maybe a minus */
        strbuf_json_str(&body, "text", strbuf_cstr(&cut));
        strbuf_json_bool(&body, "disable_web_page_preview", 1);
        strbuf_printf(&url, "%s/bot%s/sendMessage", cfg->telegram_api, cfg->secret[CH_TELEGRAM]);
        strbuf_printf(&shown, "%s/bot[redacted]/sendMessage", cfg->telegram_api);
        break;
    }
    case CH_DISCORD:
        strbuf_json_str(&body, "content", strbuf_cstr(&cut));
        strbuf_json_raw(&body, "allowed_mentions", "{\"parse\":[]}");   /* a reason never pings @everyone */
        strbuf_puts(&url, cfg->secret[CH_DISCORD]);
        strbuf_puts(&shown, "(DISCORD_WEBHOOK_URL)");
        break;
    case CH_SLACK: {
        strbuf escaped = {0};
        notify_slack_escape(&escaped, strbuf_cstr(&cut));
        strbuf_json_str(&body, "text", strbuf_cstr(&escaped));
        strbuf_free(&escaped);
        strbuf_puts(&url, cfg->secret[CH_SLACK]);
        strbuf_puts(&shown, "(SLACK_WEBHOOK_URL)");
        break;
    }
    case CH_WEBHOOK: {
        char iso[CLOCK_ISO_SIZE];
        size_t nl = strcspn(msg, "\n");
        char *title = strndup(msg, nl);
        size_t dlen;
        char *data = secrets_redact(strbuf_cstr(&a->m->data), a->m->data.len, &dlen);
        strbuf_json_str(&body, "event", notify_event_name(a->m->event));
        strbuf_json_bool(&body, "urgent", a->m->urgent);
        strbuf_json_str(&body, "strategy", c->strategy);
        strbuf_json_str(&body, "mode", c->mode);
        strbuf_json_str(&body, "cycle_id", a->m->event == NOTIFY_DAILY ? NULL : c->cycle_id);
        strbuf_json_str(&body, "status", c->status);
        strbuf_json_str(&body, "title", title);
        strbuf_json_str(&body, "text", strbuf_cstr(&cut));
        strbuf_json_str(&body, "ts", clock_iso(now, iso));
        strbuf_json_str(&body, "host_version", TITAN_VERSION);
        strbuf_json_raw(&body, "data", data && a->m->data.len ? data : "null");
        free(title);
        free(data);
        strbuf_puts(&url, cfg->secret[CH_WEBHOOK]);
        strbuf_puts(&shown, "(TITAN_WEBHOOK_URL)");
        break;
    }
    default: break;
    }
    strbuf_puts(&body, "}");
    free(text);
    strbuf_free(&cut);
    a->body = strbuf_take(&body);
    a->url = strbuf_take(&url);
    a->log_url = strbuf_take(&shown);
    a->headers[a->nheaders++] = "Content-Type: application/json";
    if (a->ch == CH_WEBHOOK) {
        a->headers[a->nheaders++] = a->m->urgent ? "X-Titan-Urgent: 1" : "X-Titan-Urgent: 0";
        if (cfg->webhook_secret && a->body) {
            a->signature = notify_signature(cfg->webhook_secret, a->body);
            if (a->signature) a->headers[a->nheaders++] = a->signature;
        }
    }
    return a->body && a->url && a->log_url && (a->ch != CH_WEBHOOK || !cfg->webhook_secret || a->signature) ? 0 : -1;
}

/* ---- answers ----------------------------------------------------------------------------------- */

typedef struct notify_answer {
    int ok;                                 /* Telegram's "ok" */
    double retry_after;
    char description[160];
} notify_answer;

/* {"ok":false,"description":..,"parameters":{"retry_after":N}} (Telegram) or
 * {"retry_after":1.5,"global":false} (Discord) */
static int notify_read_answer(lua_State *S, int idx, void *ud)
{
    notify_answer *ans = ud;
    if (!lua_istable(S, idx)) return -1;
    if (jsondoc_field(S, idx, "ok") == LUA_TBOOLEAN) ans->ok = lua_toboolean(S, -1);
    if (jsondoc_field(S, idx, "description") == LUA_TSTRING)
        snprintf(ans->description, sizeof ans->description, "%s", lua_tostring(S, -1));
    if (jsondoc_field(S, idx, "retry_after") == LUA_TNUMBER) ans->retry_after = lua_tonumber(S, -1);
    if (jsondoc_field(S, idx, "parameters") == LUA_TTABLE &&
        jsondoc_field(S, lua_gettop(S), "retry_after") == LUA_TNUMBER)
        ans->retry_after = lua_tonumber(S, -1);
    lua_settop(S, idx);
    return 0;
}

/* A 429's wait: Telegram's parameters.retry_after, Discord's retry_after (seconds, maybe a
 * fraction), else a Retry-After header. The HTTP layer retries once if it fits the deadline. */
static long notify_retry_after_ms(const http_response *res)
{
    notify_answer ans = {.retry_after = NAN};
    if (res->body) jsondoc_read(res->body, res->body_len, notify_read_answer, &ans);
    const char *header = http_response_header(res, "retry-after");
    double s = isfinite(ans.retry_after) ? ans.retry_after : header ? strtod(header, NULL) : NAN;
    return isfinite(s) && s >= 0 && s <= 3600 ? (long)(s * 1000) : -1;
}

/* Whether the channel took the message; why not, and when a 429 says to come back. */
static void notify_judge(notify_attempt *a)
{
    const http_response *r = &a->res;
    a->ok = 0;
    a->retry_after_s = NAN;
    if (r->error_code) {
        snprintf(a->why, sizeof a->why, "%s: %.150s", r->error_code, r->error_message);
        return;
    }
    notify_answer ans = {.retry_after = NAN};
    int json = r->body && jsondoc_read(r->body, r->body_len, notify_read_answer, &ans) == 0;
    if (r->status == 429) {
        long wait = notify_retry_after_ms(r);
        a->retry_after_s = wait >= 0 ? wait / 1000.0 : NAN;
        snprintf(a->why, sizeof a->why, "rate limited (429)%s", ans.description[0] ? ": " : "");
        snprintf(a->why + strlen(a->why), sizeof a->why - strlen(a->why), "%s", ans.description);
        return;
    }
    if (r->status < 200 || r->status >= 300) {
        /* Telegram's description, or Slack's plain-text error (invalid_payload, no_service, ...) */
        snprintf(a->why, sizeof a->why, "HTTP %ld: %.120s", r->status,
                 ans.description[0] ? ans.description : json || !r->body ? "" : r->body);
        return;
    }
    if (a->ch == CH_TELEGRAM && !(json && ans.ok)) {
        snprintf(a->why, sizeof a->why, "HTTP %ld without Telegram's {\"ok\":true}", r->status);
        return;
    }
    a->ok = 1;
}

static void notify_log_attempt(const notify_attempt *a)
{
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "event", notify_event_name(a->m->event));
    strbuf_json_str(&f, "channel", notify_channel_names[a->ch]);
    strbuf_json_bool(&f, "urgent", a->m->urgent);
    strbuf_json_int(&f, "status", a->res.status);
    strbuf_json_int(&f, "attempts", a->attempts);
    strbuf_json_int(&f, "ms", a->res.elapsed_ms);
    strbuf_json_bool(&f, "guarded", a->m->claimed);
    if (!a->ok) strbuf_json_str(&f, "error", a->why);
    if (isfinite(a->retry_after_s)) strbuf_json_num(&f, "retry_after_s", a->retry_after_s);
    blackbox_emit(a->ok ? BLACKBOX_INFO : BLACKBOX_WARN, a->ok ? "notify.sent" : "notify.failed", &f);
    strbuf *r = &a->m->result;
    strbuf_json_raw(r, notify_channel_names[a->ch], "{");
    strbuf_json_bool(r, "ok", a->ok);
    strbuf_json_int(r, "status", a->res.status);
    if (!a->ok) strbuf_json_str(r, "error", a->why);
    strbuf_puts(r, "}");
}

/* ---- delivery ---------------------------------------------------------------------------------- */

/* Every message on every channel at once: one curl multi round whose deadline is the total. */
static void notify_deliver(const notify_config *cfg, const notify_cycle *c, notify_message *msgs, size_t nmsgs,
                           int64_t now)
{
    enum { MAX = NOTIFY_MAX_MESSAGES * CH_COUNT };
    notify_attempt at[MAX];
    http_request reqs[MAX];
    http_response res[MAX];
    size_t n = 0, nreq = 0, req_of[MAX];
    memset(at, 0, sizeof at);
    for (size_t i = 0; i < nmsgs; i++) {
        strbuf_puts(&msgs[i].result, "{");
        for (int ch = 0; ch < CH_COUNT; ch++) {
            if (!cfg->enabled[ch]) continue;
            notify_attempt *a = &at[n++];
            a->m = &msgs[i], a->ch = (notify_channel)ch, a->retry_after_s = NAN;
            if (notify_build(cfg, c, a, now) != 0) {
                snprintf(a->why, sizeof a->why, "out of memory building the message");
                continue;
            }
            req_of[nreq] = n - 1;
            reqs[nreq++] = (http_request){
                .method = "POST", .url = a->url, .log_url = a->log_url, .headers = a->headers,
                .header_count = a->nheaders, .body = a->body, .body_len = strlen(a->body),
                .timeout_ms = (long)cfg->deadline_ms, .retries = 1, .max_body = NOTIFY_MAX_BODY,
                .retry_429_after_ms = notify_retry_after_ms};
        }
    }
    http_perform_many(reqs, res, nreq);
    for (size_t k = 0; k < nreq; k++) {
        notify_attempt *a = &at[req_of[k]];
        a->res = res[k];
        a->attempts = res[k].attempts;
        notify_judge(a);
    }
    for (size_t i = 0; i < n; i++) {
        notify_log_attempt(&at[i]);
        http_response_free(&at[i].res);
        free(at[i].url), free(at[i].log_url), free(at[i].body), free(at[i].signature);
    }
    for (size_t i = 0; i < nmsgs; i++) strbuf_puts(&msgs[i].result, "}");
}

void notify_after_cycle(const notify_cycle *c)
{
    if (!c->status || c->dry_run || !c->cycle_id || !c->cycle_id[0] || !c->strategy || !c->strategy[0]) return;
    /* "slot already executed" or "held by": another run owns this slot and its news */
    if (strcmp(c->status, STORE_STATUS_SKIPPED) == 0 && c->exit_code == 0) return;
    notify_config cfg;
    if (notify_read_config(&cfg) != 0) return;
    int64_t now = clock_now_ms();
    notify_message msgs[NOTIFY_MAX_MESSAGES];
    memset(msgs, 0, sizeof msgs);
    size_t n = notify_cycle_messages(c, cfg.events, msgs, now);
    if ((cfg.events & NOTIFY_AI_CAP) && c->st) n += notify_ai_cap_message(c, &msgs[n], now);
    size_t sending = 0;
    for (size_t i = 0; i < n; i++) {
        int keep = !(msgs[i].event == NOTIFY_HALTED && notify_still_halted(c)) && notify_claim(c, &msgs[i]);
        if (keep) {
            if (sending != i) msgs[sending] = msgs[i], memset(&msgs[i], 0, sizeof msgs[i]);
            sending++;
        } else {
            strbuf_free(&msgs[i].text), strbuf_free(&msgs[i].data);
        }
    }
    /* the first recorded cycle of a UTC day tells the day before */
    if ((cfg.events & NOTIFY_DAILY) && c->st && sending < NOTIFY_MAX_MESSAGES) {
        notify_message *m = &msgs[sending];
        char day[CLOCK_ISO_SIZE], err[256];
        clock_iso(clock_slot_ms(now, 1440) - 86400000, day);
        m->event = NOTIFY_DAILY;
        snprintf(m->key, sizeof m->key, "%s@%.10s:daily", c->strategy, day);
        if (notify_claim(c, m)) {
            if (notify_daily_text(c, m, now)) {
                sending++;
            } else {
                store_notify_record(c->st, m->key, "{\"skipped\":\"no cycle recorded that day\"}", err, sizeof err);
                strbuf_free(&m->text), strbuf_free(&m->data);
            }
        }
    }
    if (sending) notify_deliver(&cfg, c, msgs, sending, now);
    for (size_t i = 0; i < sending; i++) {
        char err[512];
        if (msgs[i].claimed && store_notify_record(c->st, msgs[i].key, strbuf_cstr(&msgs[i].result), err,
                                                   sizeof err) != STORE_OK)
            notify_log_claim(&msgs[i], "notify.record_failed", err);
        strbuf_free(&msgs[i].text), strbuf_free(&msgs[i].data), strbuf_free(&msgs[i].result);
    }
}
