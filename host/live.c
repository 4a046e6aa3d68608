/* LIVE executor. AddOrder is never retried blindly: a failure that may have reached Kraken
 * (outcome.sent, which an answer that cannot be read also sets) is followed by a lookup by
 * cl_ord_id, and an order whose fate stays unknown is reported in doubt. Everything here
 * works on C values: Kraken's answers arrive parsed (kraken_parse.h). */
#include "live.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "blackbox.h"
#include "codec.h"
#include "kraken.h"
#include "strbuf.h"

void live_cl_ord_id(const char *cycle_id, int index, char out[LIVE_CL_ORD_ID_SIZE])
{
    char seed[512];
    int n = snprintf(seed, sizeof seed, "titan-host:%s:%d", cycle_id, index);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_Digest(seed, (size_t)(n < (int)sizeof seed ? n : (int)sizeof seed - 1), md, &md_len, EVP_sha256(), NULL);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 style: name-based */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char hex[33];
    codec_hex_encode(md, 16, hex);
    snprintf(out, LIVE_CL_ORD_ID_SIZE, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* The AddOrder params for an intent: volume and price as decimal strings of the pair's precision. */
static int live_params(kraken_params *p, const char *pair, const intent *it, const pair_rules *rules,
                       const char *cl_ord_id, int validate)
{
    char volume[64], price[64];
    snprintf(volume, sizeof volume, "%.*f", rules->lot_decimals, it->final_volume);
    snprintf(price, sizeof price, "%.*f", rules->pair_decimals, it->final_price);
    int bad = kraken_params_add(p, "pair", pair) || kraken_params_add(p, "type", intent_side_name(it->side)) ||
              kraken_params_add(p, "ordertype", intent_type_name(it->type)) || kraken_params_add(p, "volume", volume) ||
              kraken_params_add(p, "cl_ord_id", cl_ord_id);
    if (!bad && it->type == ORDER_LIMIT)
        /* Immediate-or-cancel, like the paper broker: a resting order would hold exposure the
         * next cycle's risk gates cannot see in the balances. */
        bad = kraken_params_add(p, "price", price) || kraken_params_add(p, "timeinforce", "IOC");
    if (!bad && validate) bad = kraken_params_add(p, "validate", "true");
    return bad ? -1 : 0;
}

static void live_copy_error(order_record *rec, const kraken_outcome *o)
{
    ORDER_SET(rec, error_code, o->code);
    ORDER_SET(rec, message, o->message);
}

static void live_apply(order_record *rec, const kraken_order *k)
{
    ORDER_SET(rec, state, k->status[0] ? k->status : "unknown");
    ORDER_SET(rec, txid, k->txid);
    if (!isnan(k->vol)) rec->volume = k->vol;
    rec->vol_exec = k->vol_exec;
    rec->avg_price = k->avg_price;
    rec->cost = k->cost;
    rec->fee = k->fee;
}

live_lookup_result live_lookup(order_record *rec, kraken_outcome *why)
{
    static const char *const methods[] = {"OpenOrders", "ClosedOrders"};
    if (!rec->cl_ord_id[0]) {
        kraken_fail(why, "kraken.bad_request", 0, 0, "the order has no cl_ord_id to look it up by");
        return LIVE_LOOKUP_FAILED;
    }
    for (int m = 0; m < 2; m++) {
        kraken_params filter = {0};
        kraken_orders found = {0};
        kraken_answer a = {0};
        int rc = -1;
        if (kraken_params_add(&filter, "cl_ord_id", rec->cl_ord_id) == 0)
            rc = kraken_get_orders(methods[m], &filter, kraken_timeout_ms(), &found, &a);
        else
            kraken_fail(&a.outcome, "kraken.error", 0, 0, "out of memory looking an order up");
        kraken_params_free(&filter);
        if (rc != 0) {
            *why = a.outcome;
            kraken_answer_free(&a);
            return LIVE_LOOKUP_FAILED;
        }
        kraken_answer_free(&a);
        const kraken_order *k = kraken_orders_find(&found, rec->cl_ord_id);
        if (k) live_apply(rec, k);
        kraken_orders_free(&found);
        if (k) return LIVE_FOUND;
    }
    return LIVE_ABSENT;
}

/* Kraken's fill from the order's own trades (QueryTrades of its trade ids): the volume-weighted
 * price, volume and fee of those that belong to it. Unreadable trades leave rec without them. */
static void live_read_trades(order_record *rec, const kraken_order *k)
{
    if (k->n_trades == 0) return;
    strbuf ids = {0};
    for (size_t i = 0; i < k->n_trades; i++) strbuf_printf(&ids, "%s%s", i ? "," : "", k->trades[i]);
    kraken_params q = {0};
    kraken_trades trades = {0};
    kraken_answer a = {0};
    if (!ids.oom && kraken_params_add(&q, "txid", strbuf_cstr(&ids)) == 0 &&
        kraken_get_trades(&q, kraken_timeout_ms(), &trades, &a) == 0) {
        double vol = 0, cost = 0, fee = 0, count = 0;
        for (size_t i = 0; i < trades.n; i++) {
            if (strcmp(trades.items[i].ordertxid, rec->txid) != 0) continue;
            vol += trades.items[i].vol;
            cost += trades.items[i].cost;
            fee += trades.items[i].fee;
            count++;
        }
        if (vol > 0) {
            rec->trade_volume = vol;
            rec->trade_price = cost / vol;
            rec->trade_fee = fee;
            rec->trade_count = count;
        }
        kraken_trades_free(&trades);
    }
    kraken_answer_free(&a);
    kraken_params_free(&q);
    strbuf_free(&ids);
}

void live_query_placed(order_record *rec)
{
    if (!rec->txid[0]) return;
    kraken_params q = {0};
    kraken_orders found = {0};
    kraken_answer a = {0};
    if (kraken_params_add(&q, "txid", rec->txid) == 0 && kraken_params_add(&q, "trades", "true") == 0 &&
        kraken_get_orders("QueryOrders", &q, kraken_timeout_ms(), &found, &a) == 0) {
        for (size_t i = 0; i < found.n; i++) {
            if (strcmp(found.items[i].txid, rec->txid) != 0) continue;
            live_apply(rec, &found.items[i]);
            live_read_trades(rec, &found.items[i]);
        }
        kraken_orders_free(&found);
    }
    kraken_answer_free(&a);
    kraken_params_free(&q);
}

static void live_log_placed(const order_record *rec, const char *pair, const intent *it)
{
    strbuf f = {0};
    strbuf_puts(&f, "{");
    strbuf_json_str(&f, "cl_ord_id", rec->cl_ord_id);
    strbuf_json_str(&f, "txid", rec->txid);
    strbuf_json_str(&f, "pair", pair);
    strbuf_json_str(&f, "side", intent_side_name(it->side));
    strbuf_json_str(&f, "type", intent_type_name(it->type));
    strbuf_json_num(&f, "volume", it->final_volume);
    if (it->type == ORDER_LIMIT) strbuf_json_num(&f, "limit_price", it->final_price);
    if (rec->reconciled[0]) strbuf_json_str(&f, "reconciled", rec->reconciled);
    strbuf_puts(&f, "}");
    if (!f.oom) blackbox_log(BLACKBOX_INFO, "order.placed", f.data);
    strbuf_free(&f);
}

/* One AddOrder call; 0 placed (txid in placed), -1 failed (outcome in a, which the caller frees). */
static int live_add_order(const char *pair, const intent *it, const pair_rules *rules, const char *cl_ord_id,
                          int validate, kraken_placed *placed, kraken_answer *a)
{
    kraken_params p = {0};
    int rc;
    if (live_params(&p, pair, it, rules, cl_ord_id, validate) != 0) {
        memset(a, 0, sizeof *a);
        kraken_fail(&a->outcome, "kraken.error", 0, 0, "Kraken AddOrder: out of memory building the order");
        rc = -1;
    } else {
        rc = kraken_add_order(&p, validate, kraken_timeout_ms(), placed, a);
    }
    kraken_params_free(&p);
    return rc;
}

live_outcome live_place(const char *pair_key, const intent *it, const pair_rules *rules, order_record *rec)
{
    kraken_placed placed;
    kraken_answer a;
    /* 1. validate=true: Kraken checks the order without placing it. */
    if (live_add_order(pair_key, it, rules, rec->cl_ord_id, 1, &placed, &a) != 0) {
        live_copy_error(rec, &a.outcome);
        kraken_answer_free(&a);
        ORDER_SET(rec, state, ORDER_REJECTED);
        ORDER_SET(rec, stage, "validate");
        return LIVE_REJECTED;                          /* nothing was placed: validate never trades */
    }
    kraken_answer_free(&a);
    /* 2. the real order, sent once. */
    int rc = live_add_order(pair_key, it, rules, rec->cl_ord_id, 0, &placed, &a);
    kraken_outcome outcome = a.outcome;
    kraken_answer_free(&a);
    if (rc == 0) {
        ORDER_SET(rec, txid, placed.txid);
        ORDER_SET(rec, state, ORDER_PLACED);
        live_log_placed(rec, pair_key, it);
        return LIVE_PLACED;
    }
    live_copy_error(rec, &outcome);
    if (!outcome.sent) {
        ORDER_SET(rec, stage, "place");
        /* No answer and nothing sent (connection refused, connect timeout, TLS, a request the
         * host could not build) is no refusal: Kraken never saw it. Only an answer is. */
        int never_left = outcome.status == 0;
        ORDER_SET(rec, state, never_left ? ORDER_NOT_SENT : ORDER_REJECTED);
        return never_left ? LIVE_NOT_SENT : LIVE_REJECTED;
    }
    /* 3. Ambiguous: Kraken may have it. Look it up; never resend. Not visible yet is not proof
     * it never arrived: then it stays in doubt for the next run. */
    kraken_outcome why;
    if (live_lookup(rec, &why) != LIVE_FOUND) {
        ORDER_SET(rec, state, ORDER_IN_DOUBT);
        return LIVE_IN_DOUBT;
    }
    ORDER_SET(rec, reconciled, "found by cl_ord_id after an ambiguous failure");
    live_log_placed(rec, pair_key, it);
    return LIVE_PLACED;
}
