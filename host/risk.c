/* Risk gates. Every intent ends accepted, resized (with what was cut and why) or rejected
 * (with why). Sizes are only ever rounded down, never up past a cap. */
#include "risk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "settings.h"

int risk_caps_from_env(risk_caps *caps, char *err, size_t errlen)
{
    long long orders = 0;
    int rc = settings_number("TITAN_MAX_ORDER_QUOTE", &caps->max_order_quote, err, errlen) ||
             settings_number("TITAN_MAX_POSITION_QUOTE", &caps->max_position_quote, err, errlen) ||
             settings_integer("TITAN_MAX_ORDERS_PER_CYCLE", &orders, err, errlen) ||
             settings_number("TITAN_MAX_DAILY_LOSS_QUOTE", &caps->max_daily_loss_quote, err, errlen);
    caps->max_orders_per_cycle = (double)orders;
    return rc ? -1 : 0;
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

/* Raw reads: this runs outside the Lua budgets, so no metamethod of the strategy may run.
 * strategy_load refuses a risk table with a metatable (check and run alike); were one to get
 * here anyway, the host's caps would stand. */
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

/* Volumes are decimals. A double stands for the decimal of its first 15 significant digits
 * (every such decimal survives the round trip through a double, and reading at 15 drops the
 * noise of binary arithmetic: 0.3 - 0.1 is 0.2), which is cut at the lot in text: nothing is
 * lost or gained in binary (the old floor(v * 1e8) turned 9.80392156 into 9.80392155). */
double risk_round_volume(double volume, int lot_decimals)
{
    if (!(volume > 0) || !isfinite(volume)) return 0;
    if (lot_decimals < 0) lot_decimals = 0;
    if (lot_decimals > 18) lot_decimals = 18;
    char sci[32];                                      /* "d.dddddddddddddde+XX" */
    snprintf(sci, sizeof sci, "%.14e", volume);
    char digits[16];
    digits[0] = sci[0];
    memcpy(digits + 1, sci + 2, 14);
    int exp10 = atoi(sci + 17);                        /* the value is 0.digits x 10^(exp10 + 1) */
    char text[400];
    size_t n = 0;
    if (exp10 < 0) {
        text[n++] = '0';
    } else {
        for (int k = 0; k <= exp10 && n < 330; k++) text[n++] = k < 15 ? digits[k] : '0';
    }
    text[n++] = '.';
    for (int k = 1; k <= lot_decimals; k++) {          /* the k-th decimal is digit exp10 + k */
        int at = exp10 + k;
        text[n++] = at >= 0 && at < 15 ? digits[at] : '0';
    }
    text[n] = '\0';
    return strtod(text, NULL);
}

/* The largest lot-rounded volume whose cost at `price` stays within `quote`, in the arithmetic
 * the caps are checked with (a decimal on a lot boundary may multiply out a hair above). */
static double risk_volume_within(double quote, double price, int lot_decimals)
{
    if (!(quote > 0) || !(price > 0)) return 0;
    double v = risk_round_volume(quote / price, lot_decimals);
    double lot = pow(10, -lot_decimals);
    for (int i = 0; i < 3 && v > 0 && v * price > quote; i++) v = risk_round_volume(v - lot * 0.5, lot_decimals);
    return v * price > quote ? 0 : v;
}

double risk_buy_volume_at_fill(const risk_caps *caps, const pair_rules *rules, double volume, double price,
                               double position)
{
    double v = fmin(volume, risk_volume_within(caps->max_order_quote, price, rules->lot_decimals));
    return fmin(v, risk_volume_within(caps->max_position_quote - position * price, price, rules->lot_decimals));
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

/* A buy: sized at the price plus the slippage allowance, then cut to max_order_quote, to the
 * room under max_position_quote and to the cash. 0 when rejected (verdict set). */
static double risk_size_buy(intent *it, const risk_caps *caps, const pair_rules *rules, double ref, double position,
                            double cash, double fee_rate)
{
    double asked = it->volume > 0 ? it->volume : it->quote / ref;
    double volume = risk_round_volume(asked, rules->lot_decimals);
    if (volume * ref > caps->max_order_quote) {
        volume = risk_volume_within(caps->max_order_quote, ref, rules->lot_decimals);
        risk_verdict(it, INTENT_RESIZED, "volume cut from %.8g to %.8g by max_order_quote", asked, volume);
    }
    double room = caps->max_position_quote - position * ref;
    if (volume * ref > room) {
        double fit = risk_volume_within(room, ref, rules->lot_decimals);
        if (fit <= 0) {
            risk_verdict(it, INTENT_REJECTED, "position %.2f already at max_position_quote %.2f", position * ref,
                         caps->max_position_quote);
            return 0;
        }
        risk_verdict(it, INTENT_RESIZED, "volume cut from %.8g to %.8g by max_position_quote", asked, fit);
        volume = fit;
    }
    double need = volume * ref * (1 + fee_rate);
    if (need > cash + 1e-9) {
        risk_verdict(it, INTENT_REJECTED, "insufficient quote balance: needs %.2f with fees, has %.2f", need, cash);
        return 0;
    }
    return volume;
}

/* A sell only reduces the position: no cap of exposure limits it. Asking for more than is held
 * is refused, not trimmed into a smaller order; asking for the position (give or take the noise
 * of its arithmetic) sells all of it, so an exit leaves no dust. 0 when rejected. */
static double risk_size_sell(intent *it, const pair_rules *rules, double ref, double position)
{
    double asked = it->volume > 0 ? it->volume : it->quote / ref;
    double volume = risk_round_volume(asked, rules->lot_decimals);
    double noise = position * 1e-12;
    if (volume > position + noise) {
        risk_verdict(it, INTENT_REJECTED, "insufficient base balance: sell %.8g, holds %.8g", asked, position);
        return 0;
    }
    if (asked >= position - noise) {
        /* all of it: the position itself when it is on the lot but for noise (the ledger then
         * reads exactly 0), else every whole lot of it */
        double lots = risk_round_volume(position, rules->lot_decimals);
        volume = position - lots <= noise ? position : lots;
    }
    return fmin(volume, position);
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
        /* Reference price: what a market order would pay at worst (a buy: the worse of ask and
         * last plus the slippage allowance), or the (tick-rounded) limit. */
        double ref = it->side == SIDE_BUY ? fmax(ask, last) * (1 + book.slippage_rate) : (bid > 0 ? bid : last);
        if (it->type == ORDER_LIMIT) ref = risk_round_price(it->price, rules, it->side);
        if (!(ref > 0) || !isfinite(ref)) {
            risk_verdict(it, INTENT_REJECTED, "no usable price to size the order (reference %g, last %g)", ref, last);
            continue;
        }
        it->final_price = ref;
        /* A limit sell below the bid fills at the bid: value it there. */
        if (it->type == ORDER_LIMIT && it->side == SIDE_SELL) {
            double touch = bid > 0 ? bid : last;
            if (touch > ref) ref = touch;
        }
        double volume = it->side == SIDE_BUY
                            ? risk_size_buy(it, caps, rules, ref, position, cash, book.fee_rate)
                            : risk_size_sell(it, rules, ref, position);
        if (it->status == INTENT_REJECTED) continue;
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
