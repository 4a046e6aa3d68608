/* Risk gates. Every intent ends accepted, resized (with what was cut and why) or rejected
 * (with why). Sizes are only ever rounded down, never up past a cap. */
#include "risk.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

static int risk_env(const char *name, double def, double *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    *out = def;
    if (!v || !*v) return 0;
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || !end || *end || !isfinite(d) || d <= 0) {
        snprintf(err, errlen, "%s=%s must be a positive number", name, v);
        return -1;
    }
    *out = d;
    return 0;
}

int risk_caps_from_env(risk_caps *caps, char *err, size_t errlen)
{
    if (risk_env("TITAN_MAX_ORDER_QUOTE", 100, &caps->max_order_quote, err, errlen) ||
        risk_env("TITAN_MAX_POSITION_QUOTE", 500, &caps->max_position_quote, err, errlen) ||
        risk_env("TITAN_MAX_ORDERS_PER_CYCLE", 2, &caps->max_orders_per_cycle, err, errlen) ||
        risk_env("TITAN_MAX_DAILY_LOSS_QUOTE", 50, &caps->max_daily_loss_quote, err, errlen))
        return -1;
    caps->max_orders_per_cycle = floor(caps->max_orders_per_cycle);
    return 0;
}

static void risk_tighten_one(lua_State *L, const char *field, double *cap)
{
    lua_pushstring(L, field);
    if (lua_rawget(L, -2) == LUA_TNUMBER) {
        double v = lua_tonumber(L, -1);
        if (isfinite(v) && v > 0 && v < *cap) *cap = v;
    }
    lua_pop(L, 1);
}

/* Raw reads: this runs outside the Lua budgets, so no metamethod of the strategy may run. A
 * risk table with a metatable is ignored (the host's caps stand; check reports the field). */
void risk_caps_tighten(lua_State *L, int strategy_idx, risk_caps *caps)
{
    lua_pushliteral(L, "risk");
    int has_meta = 0;
    if (lua_rawget(L, strategy_idx) == LUA_TTABLE && !(has_meta = lua_getmetatable(L, -1))) {
        risk_tighten_one(L, "max_order_quote", &caps->max_order_quote);
        risk_tighten_one(L, "max_position_quote", &caps->max_position_quote);
        risk_tighten_one(L, "max_orders_per_cycle", &caps->max_orders_per_cycle);
        risk_tighten_one(L, "max_daily_loss_quote", &caps->max_daily_loss_quote);
        caps->max_orders_per_cycle = floor(caps->max_orders_per_cycle);
    }
    lua_pop(L, 1 + has_meta);
}

/* The 1e-9 nudge keeps 0.29999999999 (a binary artefact of 0.3) from rounding to 0.2. */
double risk_round_volume(double volume, int lot_decimals)
{
    double scale = pow(10, lot_decimals);
    return floor(volume * scale + 1e-9) / scale;
}

double risk_round_price(double price, const pair_rules *rules, order_side side)
{
    double tick = rules->tick_size > 0 ? rules->tick_size : pow(10, -rules->pair_decimals);
    double steps = price / tick;
    steps = side == SIDE_BUY ? floor(steps + 1e-9) : ceil(steps - 1e-9);
    /* print/parse through the pair's decimals to drop binary noise (37500.000000001) */
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", rules->pair_decimals > 0 ? rules->pair_decimals : 10, steps * tick);
    return strtod(buf, NULL);
}

static void risk_verdict(intent *it, intent_status status, const char *fmt, double a, double b)
{
    it->status = status;
    snprintf(it->verdict, sizeof it->verdict, fmt, a, b);
}

void risk_apply(intent *intents, int count, const risk_caps *caps, const pair_rules *rules, double bid, double ask,
                double last, risk_book book)
{
    int accepted = 0;
    double cash = book.cash, position = book.position;
    for (int i = 0; i < count; i++) {
        intent *it = &intents[i];
        if (it->status == INTENT_REJECTED) continue;
        it->status = INTENT_ACCEPTED;
        it->verdict[0] = '\0';
        if (accepted >= (int)caps->max_orders_per_cycle) {
            risk_verdict(it, INTENT_REJECTED, "max_orders_per_cycle %.0f reached (intent %.0f not placed)",
                         caps->max_orders_per_cycle, it->index);
            continue;
        }
        if (it->side == SIDE_BUY && book.realized_today <= -caps->max_daily_loss_quote) {
            risk_verdict(it, INTENT_REJECTED, "daily loss limit reached: realized %.2f today, limit %.2f; only sells allowed",
                         book.realized_today, caps->max_daily_loss_quote);
            continue;
        }
        /* Reference price: what a market order would pay, or the (tick-rounded) limit. */
        double ref = it->side == SIDE_BUY ? (ask > 0 ? ask : last) : (bid > 0 ? bid : last);
        if (it->type == ORDER_LIMIT) ref = risk_round_price(it->price, rules, it->side);
        if (!(ref > 0) || !isfinite(ref)) {
            risk_verdict(it, INTENT_REJECTED, "no usable price to size the order (reference %g, last %g)", ref, last);
            continue;
        }
        it->final_price = ref;
        /* A limit sell below the bid fills at the bid: value it there, or the caps would see
         * only the limit's (smaller) value. */
        if (it->type == ORDER_LIMIT && it->side == SIDE_SELL) {
            double touch = bid > 0 ? bid : last;
            if (touch > ref) ref = touch;
        }
        double volume = it->volume > 0 ? it->volume : it->quote / ref;
        double asked = volume;
        /* A sell of more than is held is refused outright, not trimmed into a smaller one. */
        if (it->side == SIDE_SELL && risk_round_volume(volume, rules->lot_decimals) > position + 1e-12) {
            risk_verdict(it, INTENT_REJECTED, "insufficient base balance: sell %.8g, holds %.8g", volume, position);
            continue;
        }
        volume = risk_round_volume(volume, rules->lot_decimals);
        if (volume * ref > caps->max_order_quote) {
            volume = risk_round_volume(caps->max_order_quote / ref, rules->lot_decimals);
            risk_verdict(it, INTENT_RESIZED, "volume cut from %.8g to %.8g by max_order_quote", asked, volume);
        }
        if (it->side == SIDE_BUY) {
            double room = caps->max_position_quote - position * ref;
            if (volume * ref > room) {
                double fit = room > 0 ? risk_round_volume(room / ref, rules->lot_decimals) : 0;
                if (fit <= 0) {
                    risk_verdict(it, INTENT_REJECTED, "position %.2f already at max_position_quote %.2f",
                                 position * ref, caps->max_position_quote);
                    continue;
                }
                risk_verdict(it, INTENT_RESIZED, "volume cut from %.8g to %.8g by max_position_quote", asked, fit);
                volume = fit;
            }
            double need = volume * ref * (1 + book.fee_rate);
            if (need > cash + 1e-9) {
                risk_verdict(it, INTENT_REJECTED, "insufficient quote balance: needs %.2f with fees, has %.2f", need, cash);
                continue;
            }
        }
        if (volume <= 0 || volume < rules->ordermin) {
            risk_verdict(it, INTENT_REJECTED, "volume %.8g under the pair's ordermin %.8g after rounding", volume,
                         rules->ordermin);
            continue;
        }
        if (rules->costmin > 0 && volume * ref < rules->costmin) {
            risk_verdict(it, INTENT_REJECTED, "cost %.8g under the pair's costmin %.8g after rounding", volume * ref,
                         rules->costmin);
            continue;
        }
        it->final_volume = volume;
        it->est_cost = volume * ref;
        if (it->side == SIDE_BUY) { cash -= it->est_cost * (1 + book.fee_rate); position += volume; }
        else { cash += it->est_cost * (1 - book.fee_rate); position -= volume; }
        accepted++;
    }
}

/* ---- rejection codes ------------------------------------------------------------------------ */

const char *const risk_reject_names[RISK_REJECT_COUNT] = {
    "costmin", "daily_loss_limit", "insufficient_base", "insufficient_quote", "invalid_intent",
    "max_orders_per_cycle", "max_position", "no_price", "ordermin",
};

/* The verdicts above are for people; this reads them back by the words each one carries, so a
 * reworded verdict keeps its code as long as it names its rule (test_risk checks every one). */
risk_reject risk_reject_reason(const intent *it)
{
    static const struct { const char *words; risk_reject code; } rules[] = {
        {"max_orders_per_cycle", RISK_REJECT_MAX_ORDERS}, {"daily loss", RISK_REJECT_DAILY_LOSS},
        {"no usable price", RISK_REJECT_NO_PRICE},        {"insufficient base", RISK_REJECT_INSUFFICIENT_BASE},
        {"max_position_quote", RISK_REJECT_MAX_POSITION}, {"insufficient quote", RISK_REJECT_INSUFFICIENT_QUOTE},
        {"ordermin", RISK_REJECT_ORDERMIN},               {"costmin", RISK_REJECT_COSTMIN},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strstr(it->verdict, rules[i].words)) return rules[i].code;
    return RISK_REJECT_INVALID;
}
