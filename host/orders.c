/* Order records in C and their JSON (written with strbuf, read back through jsondoc). */
#include "orders.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "jsondoc.h"
#include "strbuf.h"

void order_set(char *field, size_t size, const char *value) { snprintf(field, size, "%s", value ? value : ""); }

order_record *order_list_add(order_list *l, int index, const char *cl_ord_id, const char *state)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        order_record *items = realloc(l->items, cap * sizeof *items);
        if (!items) return NULL;
        l->items = items, l->cap = cap;
    }
    order_record *o = &l->items[l->n++];
    memset(o, 0, sizeof *o);
    o->index = index;
    ORDER_SET(o, cl_ord_id, cl_ord_id);
    ORDER_SET(o, state, state);
    o->requested_volume = o->limit_price = o->volume = o->vol_exec = o->avg_price = o->cost = o->fee =
        o->realized_pnl = NAN;
    o->model_price = o->model_volume = o->model_cost = o->model_fee = o->ref_price = NAN;
    o->trade_price = o->trade_volume = o->trade_fee = o->trade_count = NAN;
    return o;
}

void order_list_free(order_list *l)
{
    free(l->items);
    l->items = NULL, l->n = l->cap = 0;
}

static int order_state_is(const order_record *o, const char *const *states)
{
    for (size_t i = 0; states[i]; i++)
        if (strcmp(o->state, states[i]) == 0) return 1;
    return 0;
}

int order_fate_unknown(const order_record *o)
{
    static const char *const known[] = {
        ORDER_PLACED, ORDER_REJECTED, ORDER_NOT_SENT, ORDER_NOT_PLACED, ORDER_SIMULATED, ORDER_FILLED, ORDER_CANCELED,
        ORDER_REFUSED, ORDER_FAILED, "pending", "open", "closed", "expired", NULL,
    };
    return !order_state_is(o, known);
}

int order_may_have_executed(const order_record *o)
{
    static const char *const never[] = {ORDER_NOT_SENT, ORDER_SIMULATED, NULL};
    if (order_state_is(o, never)) return 0;
    return !(strcmp(o->state, ORDER_REJECTED) == 0 && strcmp(o->stage, "validate") == 0);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    size_t offset;
} order_numbers[] = {
    {"requested_volume", offsetof(order_record, requested_volume)}, {"limit_price", offsetof(order_record, limit_price)},
    {"volume", offsetof(order_record, volume)},     {"vol_exec", offsetof(order_record, vol_exec)},
    {"avg_price", offsetof(order_record, avg_price)}, {"cost", offsetof(order_record, cost)},
    {"fee", offsetof(order_record, fee)},           {"realized_pnl", offsetof(order_record, realized_pnl)},
    {"model_price", offsetof(order_record, model_price)}, {"model_volume", offsetof(order_record, model_volume)},
    {"model_cost", offsetof(order_record, model_cost)}, {"model_fee", offsetof(order_record, model_fee)},
    {"ref_price", offsetof(order_record, ref_price)}, {"trade_price", offsetof(order_record, trade_price)},
    {"trade_volume", offsetof(order_record, trade_volume)}, {"trade_fee", offsetof(order_record, trade_fee)},
    {"trade_count", offsetof(order_record, trade_count)},
};

static const struct {
    const char *name;
    size_t offset, size;
} order_strings[] = {
#define ORDER_STRING(f) {#f, offsetof(order_record, f), sizeof(((order_record *)0)->f)}
    ORDER_STRING(cl_ord_id), ORDER_STRING(state), ORDER_STRING(side), ORDER_STRING(type), ORDER_STRING(txid),
    ORDER_STRING(stage), ORDER_STRING(error_code), ORDER_STRING(message), ORDER_STRING(note), ORDER_STRING(reconciled),
#undef ORDER_STRING
};

int order_executed(const order_record *o) { return isfinite(o->vol_exec) && o->vol_exec > 0; }

char *order_list_json(const order_list *l)
{
    strbuf b = {0};
    strbuf_puts(&b, "[");
    for (size_t i = 0; i < l->n; i++) {
        const order_record *o = &l->items[i];
        strbuf_json_raw(&b, NULL, "{");
        strbuf_json_int(&b, "index", o->index);
        for (size_t k = 0; k < sizeof order_strings / sizeof order_strings[0]; k++) {
            const char *v = (const char *)o + order_strings[k].offset;
            if (*v) strbuf_json_str(&b, order_strings[k].name, v);
        }
        for (size_t k = 0; k < sizeof order_numbers / sizeof order_numbers[0]; k++) {
            double v = *(const double *)((const char *)o + order_numbers[k].offset);
            if (!isnan(v)) strbuf_json_num(&b, order_numbers[k].name, v);
        }
        if (o->fill_id) strbuf_json_int(&b, "fill_id", o->fill_id);
        strbuf_puts(&b, "}");
    }
    strbuf_puts(&b, "]");
    return strbuf_take(&b);
}

/* One stored order object into a new record of the list. */
static int order_read_one(lua_State *S, int obj, order_list *out)
{
    order_record *o = order_list_add(out, 0, "", "");
    if (!o) return -1;
    if (jsondoc_field(S, obj, "index") == LUA_TNUMBER) {
        double d = lua_tonumber(S, -1);
        if (d == floor(d) && fabs(d) < 1e6) o->index = (int)d;
    }
    lua_pop(S, 1);
    for (size_t k = 0; k < sizeof order_strings / sizeof order_strings[0]; k++) {
        char *field = (char *)o + order_strings[k].offset;
        jsondoc_field(S, obj, order_strings[k].name);
        if (lua_type(S, -1) == LUA_TSTRING) {   /* too long: kept truncated, except ids (below) */
            size_t len;
            const char *v = lua_tolstring(S, -1, &len);
            if (strlen(v) == len) snprintf(field, order_strings[k].size, "%s", v);
        }
        lua_pop(S, 1);
    }
    /* An id or state that does not fit was not written by us: unknown, never half-read. */
    if (strlen(o->cl_ord_id) == sizeof o->cl_ord_id - 1) o->cl_ord_id[0] = '\0';
    if (strlen(o->state) == sizeof o->state - 1) ORDER_SET(o, state, "unknown");
    for (size_t k = 0; k < sizeof order_numbers / sizeof order_numbers[0]; k++) {
        jsondoc_field(S, obj, order_numbers[k].name);
        if (lua_type(S, -1) == LUA_TNUMBER) *(double *)((char *)o + order_numbers[k].offset) = lua_tonumber(S, -1);
        lua_pop(S, 1);
    }
    if (jsondoc_field(S, obj, "fill_id") == LUA_TNUMBER && fabs(lua_tonumber(S, -1)) < 9e15)
        o->fill_id = (long long)lua_tonumber(S, -1);
    lua_pop(S, 1);
    return 0;
}

static int order_read_list(lua_State *S, int idx, void *ud)
{
    order_list *out = ud;
    size_t n = lua_istable(S, idx) ? lua_rawlen(S, idx) : 0;
    if (!lua_istable(S, idx) || jsondoc_count(S, idx) != n) return -1;
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(S, idx, (lua_Integer)i);
        int bad = !lua_istable(S, -1) || order_read_one(S, lua_gettop(S), out) != 0;
        lua_pop(S, 1);
        if (bad) return -1;
    }
    return 0;
}

int order_list_parse(const char *json, order_list *out)
{
    memset(out, 0, sizeof *out);
    if (!json || !*json) return 0;
    int rc = jsondoc_read(json, strlen(json), order_read_list, out);
    if (rc != 0) order_list_free(out);
    return rc == 0 ? 0 : -1;
}
