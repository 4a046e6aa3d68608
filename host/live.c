/* LIVE executor. AddOrder is never retried blindly: a failure that may have reached Kraken
 * (err.sent) is followed by a lookup by cl_ord_id, and an order whose fate stays unknown is
 * reported in doubt. */
#include "live.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <openssl/evp.h>

#include "blackbox.h"
#include "codec.h"
#include "kraken.h"

#define LIVE_TIMEOUT_MS 15000

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

static void live_set_str(lua_State *L, const char *key, const char *value)
{
    if (!value) return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

/* The AddOrder params for an intent: volume and price as decimal strings of the pair's precision. */
static void live_push_params(lua_State *L, const char *pair, const intent *it, const pair_rules *rules,
                             const char *cl_ord_id, int validate)
{
    char buf[64];
    lua_createtable(L, 0, 8);
    live_set_str(L, "pair", pair);
    live_set_str(L, "type", intent_side_name(it->side));
    live_set_str(L, "ordertype", intent_type_name(it->type));
    snprintf(buf, sizeof buf, "%.*f", rules->lot_decimals, it->final_volume);
    live_set_str(L, "volume", buf);
    if (it->type == ORDER_LIMIT) {
        snprintf(buf, sizeof buf, "%.*f", rules->pair_decimals, it->final_price);
        live_set_str(L, "price", buf);
        /* Immediate-or-cancel, like the paper broker: a resting order would hold exposure the
         * next cycle's risk gates cannot see in the balances. */
        live_set_str(L, "timeinforce", "IOC");
    }
    live_set_str(L, "cl_ord_id", cl_ord_id);
    if (validate) live_set_str(L, "validate", "true");
}

/* [ ..., nil, err ] -> copies err.code/err.message into the order table at -3 (then pops both). */
static void live_copy_error(lua_State *L, int order_idx)
{
    lua_getfield(L, -1, "code");
    lua_setfield(L, order_idx, "error_code");
    lua_getfield(L, -1, "message");
    lua_setfield(L, order_idx, "message");
    lua_pop(L, 2);
}

static int live_err_sent(lua_State *L)
{
    lua_getfield(L, -1, "sent");
    int sent = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return sent;
}

/* Finds the order with our cl_ord_id in a {txid -> order} table at idx; pushes it or nothing. */
static int live_find_in(lua_State *L, int idx, const char *cl_ord_id, const char **txid_out)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {                         /* [ txid, order ] */
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "cl_ord_id");
            int match = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), cl_ord_id) == 0;
            lua_pop(L, 1);
            if (match) {
                *txid_out = lua_tostring(L, -2);
                lua_remove(L, -2);                     /* [ order ] — txid string stays alive in the table */
                return 1;
            }
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* Copies Kraken's order fields (status, vol_exec, price, cost, fee) into the order table at -2. */
static void live_copy_order(lua_State *L, const char *txid)
{
    static const char *const fields[][2] = {
        {"status", "state"}, {"vol_exec", "vol_exec"}, {"price", "avg_price"}, {"cost", "cost"}, {"fee", "fee"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        lua_getfield(L, -1, fields[i][0]);
        if (lua_type(L, -1) == LUA_TSTRING && i > 0) {
            lua_Number v = lua_tonumber(L, -1);
            lua_pop(L, 1);
            lua_pushnumber(L, v);
        }
        lua_setfield(L, -3, fields[i][1]);
    }
    lua_pushstring(L, txid);
    lua_setfield(L, -3, "txid");
}

int live_lookup(lua_State *L, const char *cl_ord_id)
{
    static const char *const methods[] = {"OpenOrders", "ClosedOrders"};
    for (int m = 0; m < 2; m++) {
        lua_createtable(L, 0, 1);
        live_set_str(L, "cl_ord_id", cl_ord_id);
        int params = lua_gettop(L);
        int ok = kraken_call(L, methods[m], params, 1, LIVE_TIMEOUT_MS);  /* [ params, result|nil, warn|err ] */
        if (!ok) {
            lua_remove(L, params);
            return 0;                                  /* [ nil, err ] */
        }
        lua_pop(L, 1);
        lua_remove(L, params);                         /* [ result ] */
        lua_getfield(L, -1, m == 0 ? "open" : "closed");
        const char *txid = NULL;
        if (lua_istable(L, -1) && live_find_in(L, lua_gettop(L), cl_ord_id, &txid)) {
            /* [ result, list, order ] */
            lua_createtable(L, 0, 8);
            live_set_str(L, "cl_ord_id", cl_ord_id);
            lua_insert(L, -2);                         /* [ result, list, rec, order ] */
            live_copy_order(L, txid);
            lua_pop(L, 1);                             /* [ result, list, rec ] */
            lua_insert(L, -3);
            lua_pop(L, 2);                             /* [ rec ] */
            return 1;
        }
        lua_pop(L, 2);
    }
    lua_createtable(L, 0, 2);
    live_set_str(L, "cl_ord_id", cl_ord_id);
    live_set_str(L, "state", "absent");
    return 1;
}

live_outcome live_place(lua_State *L, const char *pair, const intent *it, const pair_rules *rules,
                        const char *cl_ord_id)
{
    lua_createtable(L, 0, 10);                         /* [ order ] */
    int order = lua_gettop(L);
    live_set_str(L, "cl_ord_id", cl_ord_id);
    /* 1. validate=true: Kraken checks the order without placing it. */
    live_push_params(L, pair, it, rules, cl_ord_id, 1);
    int params = lua_gettop(L);
    if (!kraken_call(L, "AddOrder", params, 1, LIVE_TIMEOUT_MS)) {
        live_copy_error(L, order);
        lua_pop(L, 1);                                 /* params */
        live_set_str(L, "state", "rejected");
        lua_pushliteral(L, "validate");
        lua_setfield(L, order, "stage");
        return LIVE_REJECTED;                          /* nothing was placed: validate never trades */
    }
    lua_settop(L, order);
    /* 2. the real order, sent once. */
    live_push_params(L, pair, it, rules, cl_ord_id, 0);
    params = lua_gettop(L);
    if (kraken_call(L, "AddOrder", params, 1, LIVE_TIMEOUT_MS)) {
        lua_pop(L, 1);                                 /* warnings */
        lua_getfield(L, -1, "txid");                   /* [ order, params, result, txids ] */
        lua_geti(L, -1, 1);
        if (lua_type(L, -1) == LUA_TSTRING) lua_setfield(L, order, "txid");
        else lua_pop(L, 1);
        lua_settop(L, order);
        live_set_str(L, "state", "placed");
        blackbox_log(BLACKBOX_INFO, "order.placed", NULL);
        return LIVE_PLACED;
    }
    int sent = live_err_sent(L);
    live_copy_error(L, order);
    lua_settop(L, order);
    if (!sent) {
        live_set_str(L, "state", "rejected");
        return LIVE_REJECTED;
    }
    /* 3. Ambiguous: Kraken may have it. Look it up; never resend. */
    if (!live_lookup(L, cl_ord_id)) {
        lua_pop(L, 2);
        live_set_str(L, "state", "in_doubt");
        return LIVE_IN_DOUBT;
    }
    lua_getfield(L, -1, "state");
    int absent = !lua_tostring(L, -1) || strcmp(lua_tostring(L, -1), "absent") == 0;
    lua_pop(L, 1);
    if (absent) {
        /* Not visible yet is not proof it never arrived: keep it in doubt for the next run. */
        lua_pop(L, 1);
        live_set_str(L, "state", "in_doubt");
        return LIVE_IN_DOUBT;
    }
    lua_pushnil(L);                                    /* copy lookup fields over the order */
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, order);
    }
    lua_pop(L, 1);
    live_set_str(L, "reconciled", "found by cl_ord_id after an ambiguous failure");
    return LIVE_PLACED;
}
