/* Risk gates, intent validation and paper fills, computed by hand; volume rounding against a
 * decimal reference; caps that hold at the fill price. */
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdlib.h>

#include "intent.h"
#include "paper.h"
#include "risk.h"
#include "unit.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static const pair_rules xbt = {.ordermin = 0.0001, .costmin = 0.5, .lot_decimals = 8, .pair_decimals = 1, .tick_size = 0.1};
static const risk_caps caps = {.max_order_quote = 100, .max_position_quote = 500, .max_orders_per_cycle = 2,
                               .max_daily_loss_quote = 50};

static intent make(order_side side, order_type type, double volume, double quote, double price)
{
    intent it = {0};
    it.index = 1;
    it.side = side;
    it.type = type;
    it.volume = volume;
    it.quote = quote;
    it.price = price;
    it.status = INTENT_PENDING;
    return it;
}

/* The decimal reference: `text` (a plain decimal) cut at `decimals`, read as a double. */
static double cut_decimal(const char *text, int decimals)
{
    char buf[128];
    size_t n = 0;
    const char *dot = strchr(text, '.');
    for (const char *p = text; *p && n < sizeof buf - 1; p++) {
        if (dot && p > dot + decimals) break;
        buf[n++] = *p;
    }
    buf[n] = '\0';
    return strtod(buf, NULL);
}

/* rounding(text, decimals) == the decimal reference, exactly (not nearly) */
#define ROUNDS_TO(text, decimals) \
    CHECK_MSG(risk_round_volume(strtod(text, NULL), decimals) == cut_decimal(text, decimals), text)

static void test_rounding_exact(void)
{
    /* the values: floor(v * 1e8 + 1e-9) / 1e8 lost a satoshi on each */
    CHECK(risk_round_volume(9.80392156, 8) == 9.80392156);
    CHECK(risk_round_volume(1.15, 8) == 1.15);
    CHECK(risk_round_volume(1.15, 2) == 1.15);
    CHECK(risk_round_volume(0.29, 2) == 0.29);
    CHECK(risk_round_volume(4.35, 2) == 4.35);
    CHECK(risk_round_volume(0.57, 8) == 0.57);
    CHECK(risk_round_volume(1.005, 3) == 1.005);
    /* the noise of binary arithmetic is not a lot less */
    CHECK(risk_round_volume(0.3 - 0.1, 8) == 0.2);
    CHECK(risk_round_volume(0.1 + 0.2, 8) == 0.3);
    CHECK(risk_round_volume(0.00333333 * 3, 8) == 0.00999999);
    /* down, never up */
    CHECK(risk_round_volume(0.123456789, 8) == 0.12345678);
    CHECK(risk_round_volume(1.99, 0) == 1);
    CHECK(risk_round_volume(0.999999999, 8) == 0.99999999);
    CHECK(risk_round_volume(123456789.987654321, 2) == 123456789.98);
    CHECK(risk_round_volume(1e-9, 8) == 0);
    CHECK(risk_round_volume(0, 8) == 0);
    CHECK(risk_round_volume(-1, 8) == 0);
    CHECK(risk_round_volume(NAN, 8) == 0);
    CHECK(risk_round_volume(INFINITY, 8) == 0);
    CHECK(risk_round_volume(2.5e20, 8) == 2.5e20);
    ROUNDS_TO("9.80392156", 8);
    ROUNDS_TO("0.00012345", 8);
    ROUNDS_TO("100.1", 1);
}

/* Property: any decimal of up to 15 significant digits, parsed, rounds to exactly its own text
 * cut at the lot; and any double rounds to a value on the lot, not above it (but for noise), less
 * than a lot below (or than its 15th significant digit, when the lot is finer). */
static void test_rounding_property(void)
{
    srand(13);
    int mismatches = 0, bad_random = 0;
    for (int i = 0; i < 200000; i++) {
        int int_digits = rand() % 7, frac_digits = rand() % 10, decimals = rand() % 11;
        if (int_digits + frac_digits > 15) frac_digits = 15 - int_digits;
        char text[64];
        size_t n = 0;
        if (int_digits == 0) text[n++] = '0';
        for (int k = 0; k < int_digits; k++) text[n++] = (char)('0' + (k == 0 ? 1 + rand() % 9 : rand() % 10));
        if (frac_digits) {
            text[n++] = '.';
            for (int k = 0; k < frac_digits; k++) text[n++] = (char)('0' + rand() % 10);
        }
        text[n] = '\0';
        if (risk_round_volume(strtod(text, NULL), decimals) != cut_decimal(text, decimals)) {
            if (mismatches++ < 5) fprintf(stderr, "  %s at %d decimals -> %.17g\n", text, decimals,
                                          risk_round_volume(strtod(text, NULL), decimals));
        }
        /* arbitrary doubles */
        double v = ldexp((double)rand() / RAND_MAX + 0.5, rand() % 60 - 40);
        double r = risk_round_volume(v, decimals), lot = pow(10, -decimals);
        char on_lot[64];
        snprintf(on_lot, sizeof on_lot, "%.*f", decimals, r);
        /* at most a lot below, or the 15th significant digit where the lot is finer than that */
        if (strtod(on_lot, NULL) != r || r > v * (1 + 1e-14) || v - r >= fmax(lot * (1 + 1e-9), v * 1e-14)) {
            if (bad_random++ < 5) fprintf(stderr, "  %.17g at %d decimals -> %.17g (%s)\n", v, decimals, r, on_lot);
        }
    }
    CHECK_INT(mismatches, 0);
    CHECK_INT(bad_random, 0);
}

static void test_rounding(void)
{
    CHECK(NEAR(risk_round_volume(0.123456789, 8), 0.12345678));
    CHECK(NEAR(risk_round_volume(0.3, 1), 0.3));           /* no binary-noise loss */
    CHECK(NEAR(risk_round_volume(1.99, 0), 1));
    CHECK(NEAR(risk_round_price(37500.07, &xbt, SIDE_BUY), 37500.0));
    CHECK(NEAR(risk_round_price(37500.01, &xbt, SIDE_SELL), 37500.1));
    CHECK(NEAR(risk_round_price(37500.1, &xbt, SIDE_SELL), 37500.1));
}

static void test_gates(void)
{
    risk_book book = {.cash = 1000, .position = 0, .realized_today = 0, .fee_rate = 0.004};
    /* quote 50 at ask 50000 -> 0.001 BTC, accepted as asked */
    intent a = make(SIDE_BUY, ORDER_MARKET, 0, 50, 0);
    risk_apply(&a, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(a.status, INTENT_ACCEPTED);
    CHECK(NEAR(a.final_volume, 0.001));
    CHECK(NEAR(a.est_cost, 50));
    /* quote 150 > max_order_quote 100 -> resized to 0.002 */
    intent b = make(SIDE_BUY, ORDER_MARKET, 0, 150, 0);
    risk_apply(&b, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(b.status, INTENT_RESIZED);
    CHECK(NEAR(b.final_volume, 0.002));
    /* position 0.0095 BTC = 475 at 50000; room 25 -> resized to 0.0005 */
    risk_book held = book;
    held.position = 0.0095;
    intent c = make(SIDE_BUY, ORDER_MARKET, 0.001, 0, 0);
    risk_apply(&c, 1, &caps, &xbt, 49990, 50000, 49995, held);
    CHECK_INT(c.status, INTENT_RESIZED);
    CHECK(NEAR(c.final_volume, 0.0005));
    /* position at cap -> rejected */
    held.position = 0.01;
    intent d = make(SIDE_BUY, ORDER_MARKET, 0.001, 0, 0);
    risk_apply(&d, 1, &caps, &xbt, 49990, 50000, 49995, held);
    CHECK_INT(d.status, INTENT_REJECTED);
    /* not enough cash (with fee) */
    risk_book poor = book;
    poor.cash = 50;
    intent e = make(SIDE_BUY, ORDER_MARKET, 0, 50, 0);
    risk_apply(&e, 1, &caps, &xbt, 49990, 50000, 49995, poor);
    CHECK_INT(e.status, INTENT_REJECTED);
    CHECK(strstr(e.verdict, "insufficient quote") != NULL);
    /* selling more than held */
    intent f = make(SIDE_SELL, ORDER_MARKET, 0.5, 0, 0);
    risk_apply(&f, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(f.status, INTENT_REJECTED);
    CHECK(strstr(f.verdict, "insufficient base") != NULL);
    /* under ordermin after rounding */
    intent g = make(SIDE_BUY, ORDER_MARKET, 0.00005, 0, 0);
    risk_apply(&g, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(g.status, INTENT_REJECTED);
    CHECK(strstr(g.verdict, "ordermin") != NULL);
    /* three intents, cap of two orders per cycle: third rejected; second sees the first's cash */
    intent three[3] = {make(SIDE_BUY, ORDER_MARKET, 0, 40, 0), make(SIDE_BUY, ORDER_MARKET, 0, 40, 0),
                       make(SIDE_BUY, ORDER_MARKET, 0, 40, 0)};
    risk_apply(three, 3, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(three[0].status, INTENT_ACCEPTED);
    CHECK_INT(three[1].status, INTENT_ACCEPTED);
    CHECK_INT(three[2].status, INTENT_REJECTED);
    /* daily loss reached: buys refused, sells allowed */
    risk_book losing = book;
    losing.realized_today = -50;
    losing.position = 0.002;
    intent h[2] = {make(SIDE_BUY, ORDER_MARKET, 0, 40, 0), make(SIDE_SELL, ORDER_MARKET, 0.002, 0, 0)};
    risk_apply(h, 2, &caps, &xbt, 49990, 50000, 49995, losing);
    CHECK_INT(h[0].status, INTENT_REJECTED);
    CHECK_INT(h[1].status, INTENT_ACCEPTED);
    /* limit price rounded to the tick, on the passive side */
    intent l = make(SIDE_BUY, ORDER_LIMIT, 0.001, 0, 49000.07);
    risk_apply(&l, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(l.status, INTENT_ACCEPTED);
    CHECK(NEAR(l.final_price, 49000.0));
    /* a limit sell far below the bid: valued at the bid, where it fills; a sell is never cut */
    risk_book rich = book;
    rich.position = 0.05;
    intent ls = make(SIDE_SELL, ORDER_LIMIT, 0.05, 0, 2000);
    risk_apply(&ls, 1, &caps, &xbt, 49990, 50000, 49995, rich);
    CHECK_INT(ls.status, INTENT_ACCEPTED);
    CHECK(ls.final_volume == 0.05);
    CHECK(NEAR(ls.final_price, 2000));             /* the order keeps its limit */
    CHECK(NEAR(ls.est_cost, 0.05 * 49990));
    /* an intent rejected by validation stays rejected */
    intent r = make(SIDE_BUY, ORDER_MARKET, 0.001, 0, 0);
    r.status = INTENT_REJECTED;
    risk_apply(&r, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(r.status, INTENT_REJECTED);
}

/* Defect 4: a sell only reduces the position, so exposure caps do not chunk it: a stop sells a
 * 500 USD position in one order. Kraken's minimums and max_orders_per_cycle still apply. */
static void test_reduce_only_sells(void)
{
    risk_book book = {.cash = 0, .position = 0.01, .fee_rate = 0.004, .slippage_rate = 0.0005};
    intent stop = make(SIDE_SELL, ORDER_MARKET, 0.01, 0, 0);
    risk_apply(&stop, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(stop.status, INTENT_ACCEPTED);
    CHECK(stop.final_volume == 0.01);               /* ~500 USD against a 100 max_order_quote */
    CHECK(stop.verdict[0] == '\0');
    /* a sell by quote is not cut either */
    intent by_quote = make(SIDE_SELL, ORDER_MARKET, 0, 300, 0);
    risk_apply(&by_quote, 1, &caps, &xbt, 50000, 50010, 50005, book);
    CHECK_INT(by_quote.status, INTENT_ACCEPTED);
    CHECK(by_quote.final_volume == 0.006);
    /* the whole position, whatever noise its arithmetic left: no dust */
    double noisy[] = {0.1 + 0.2, 0.3 - 0.1, 0.00333333 * 3, 0.00766666, 9.80392156, 1.15, 0.0003 + 0.0005 - 0.0001};
    for (size_t k = 0; k < sizeof noisy / sizeof noisy[0]; k++) {
        risk_book held = book;
        held.position = noisy[k];
        intent all = make(SIDE_SELL, ORDER_MARKET, noisy[k], 0, 0);
        risk_apply(&all, 1, &caps, &xbt, 49990, 50000, 49995, held);
        char what[64];
        snprintf(what, sizeof what, "sell all of %.17g", noisy[k]);
        CHECK_MSG(all.status == INTENT_ACCEPTED && all.final_volume == noisy[k], what);
        CHECK_MSG(held.position - all.final_volume == 0, what);
    }
    /* a position with more decimals than the lot: all that Kraken can take */
    risk_book fine = book;
    fine.position = 0.0012345678;
    intent most = make(SIDE_SELL, ORDER_MARKET, 0.0012345678, 0, 0);
    risk_apply(&most, 1, &caps, &xbt, 49990, 50000, 49995, fine);
    CHECK(most.final_volume == 0.00123456);
    /* more than is held: refused, not trimmed */
    intent over = make(SIDE_SELL, ORDER_MARKET, 0.0100001, 0, 0);
    risk_apply(&over, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(over.status, INTENT_REJECTED);
    /* max_orders_per_cycle counts sells; ordermin and costmin apply */
    intent three[3] = {make(SIDE_SELL, ORDER_MARKET, 0.002, 0, 0), make(SIDE_SELL, ORDER_MARKET, 0.002, 0, 0),
                       make(SIDE_SELL, ORDER_MARKET, 0.002, 0, 0)};
    risk_apply(three, 3, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(three[1].status, INTENT_ACCEPTED);
    CHECK_INT(three[2].status, INTENT_REJECTED);
    CHECK(strstr(three[2].verdict, "max_orders_per_cycle") != NULL);
    intent tiny = make(SIDE_SELL, ORDER_MARKET, 0.00005, 0, 0);
    risk_apply(&tiny, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(tiny.status, INTENT_REJECTED);
    CHECK(strstr(tiny.verdict, "ordermin") != NULL);
    pair_rules costly = xbt;
    costly.costmin = 10;
    intent cheap = make(SIDE_SELL, ORDER_MARKET, 0.0001, 0, 0);
    risk_apply(&cheap, 1, &caps, &costly, 49990, 50000, 49995, book);
    CHECK_INT(cheap.status, INTENT_REJECTED);
    CHECK(strstr(cheap.verdict, "costmin") != NULL);
}

/* Defect 5: buys are sized at the price plus the slippage allowance, so a fill within the
 * allowance stays within the caps; the paper broker and the backtest clip at the fill price. */
static void test_caps_at_fill(void)
{
    risk_book book = {.cash = 1000, .position = 0, .fee_rate = 0.004, .slippage_rate = 0.0005};
    intent big = make(SIDE_BUY, ORDER_MARKET, 0, 150, 0);
    risk_apply(&big, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(big.status, INTENT_RESIZED);
    CHECK(big.final_volume == 0.00199900);          /* 100 / (50000 * 1.0005), down to the lot */
    CHECK(big.final_volume * 50000 * 1.0005 <= 100);
    /* last above the ask: the worse of the two */
    intent above = make(SIDE_BUY, ORDER_MARKET, 0, 150, 0);
    risk_apply(&above, 1, &caps, &xbt, 49990, 50000, 51000, book);
    CHECK(above.final_volume * 51000 * 1.0005 <= 100);
    /* a limit buy is bounded by its limit: no allowance */
    intent lim = make(SIDE_BUY, ORDER_LIMIT, 0, 150, 40000);
    risk_apply(&lim, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK(lim.final_volume == 0.0025);

    /* the clip itself: order cap and position room at the fill price */
    CHECK(risk_buy_volume_at_fill(&caps, &xbt, 0.002, 52000, 0) == 0.00192307);
    CHECK(risk_buy_volume_at_fill(&caps, &xbt, 0.001, 52000, 0) == 0.001);
    CHECK(risk_buy_volume_at_fill(&caps, &xbt, 0.002, 50000, 0.0095) == 0.0005);
    CHECK(risk_buy_volume_at_fill(&caps, &xbt, 0.002, 50000, 0.01) == 0);
    /* a cap on a lot boundary: 100 / 10000 is 0.01 exactly and must not multiply out above 100 */
    CHECK(risk_buy_volume_at_fill(&caps, &xbt, 1, 10000, 0) * 10000 <= 100);

    /* property: whatever the prices, a clipped fill never costs more than the caps */
    srand(5);
    int over = 0;
    for (int i = 0; i < 100000; i++) {
        risk_caps c = caps;
        c.max_order_quote = 1 + rand() % 100000 / 100.0;
        c.max_position_quote = c.max_order_quote * (1 + rand() % 10);
        double price = 0.01 + (double)rand() / RAND_MAX * 100000, position = (double)rand() / RAND_MAX * 0.01;
        pair_rules r = xbt;
        r.lot_decimals = rand() % 9;
        double v = risk_buy_volume_at_fill(&c, &r, 1e6, price, position);
        if (v * price > c.max_order_quote || (v > 0 && (position + v) * price > c.max_position_quote + 1e-9 * price))
            over++;
    }
    CHECK_INT(over, 0);

    /* the paper broker: a 100 cap fills at most 100 whatever the price moved to */
    paper_config cfg = {.fee_rate = 0.004, .slippage_rate = 0.0005, .starting_cash = 10000};
    paper_limits limits = {&caps, &xbt};
    paper_fill f;
    paper_fill_market(&cfg, &limits, SIDE_BUY, 0.002, 54000, 0, 0, &f);   /* sized at 50000, filled at 54027 */
    CHECK(f.filled);
    CHECK_INT(f.capped, 1);
    CHECK(f.cost <= 100);
    CHECK(f.volume == risk_buy_volume_at_fill(&caps, &xbt, 0.002, 54000 * 1.0005, 0));
    CHECK(strstr(f.note, "cut") != NULL);
    paper_fill_market(&cfg, &limits, SIDE_BUY, 0.001, 50000, 0, 0, &f);   /* within the caps: untouched */
    CHECK_INT(f.capped, 0);
    CHECK(f.volume == 0.001);
    paper_fill_market(&cfg, &limits, SIDE_BUY, 0.001, 50000, 0.01, 0, &f);  /* position full at the fill */
    CHECK(!f.filled);
    CHECK_INT(f.capped, -1);
    paper_fill_limit(&cfg, &limits, SIDE_BUY, 0.003, 60000, 49990, 50000, 0, 0, &f);
    CHECK(f.filled && f.cost <= 100);
    /* sells are never cut */
    paper_fill_market(&cfg, &limits, SIDE_SELL, 0.01, 50000, 0.01, 500, &f);
    CHECK(f.filled && f.volume == 0.01 && f.capped == 0);
}

static void test_paper(void)
{
    paper_config cfg = {.fee_rate = 0.004, .slippage_rate = 0.0005, .starting_cash = 10000};
    paper_fill f;
    /* buy 0.01 at 50000 +5 bps = 50025; cost 500.25; fee 2.001 */
    paper_fill_market(&cfg, NULL, SIDE_BUY, 0.01, 50000, 0, 0, &f);
    CHECK(f.filled);
    CHECK(NEAR(f.price, 50025));
    CHECK(NEAR(f.cost, 500.25));
    CHECK(NEAR(f.fee, 2.001));
    CHECK(NEAR(f.basis_delta, 502.251));
    /* sell all at 51000 -5 bps = 50974.5; proceeds 509.745, fee 2.03898; pnl = 509.745-2.03898-502.251 */
    paper_fill_market(&cfg, NULL, SIDE_SELL, 0.01, 51000, 0.01, 502.251, &f);
    CHECK(NEAR(f.price, 50974.5));
    CHECK(NEAR(f.realized_pnl, 509.745 - 2.03898 - 502.251));
    CHECK(NEAR(f.basis_delta, -502.251));
    /* limit not marketable -> no fill */
    paper_fill_limit(&cfg, NULL, SIDE_BUY, 0.01, 49000, 49990, 50000, 0, 0, &f);
    CHECK(!f.filled);
    /* marketable limit fills at the touch + slippage, capped by the limit */
    paper_fill_limit(&cfg, NULL, SIDE_BUY, 0.01, 50010, 49990, 50000, 0, 0, &f);
    CHECK(f.filled);
    CHECK(NEAR(f.price, 50010));
    paper_fill_limit(&cfg, NULL, SIDE_BUY, 0.01, 60000, 49990, 50000, 0, 0, &f);
    CHECK(NEAR(f.price, 50025));
}

static int read_list(lua_State *L, const char *code, intent *out, int *n, char *why)
{
    if (luaL_dostring(L, code) != LUA_OK) lua_pushnil(L);
    int rc = intent_read_list(L, -1, out, n, why, 200);
    lua_pop(L, 1);
    return rc;
}

static void test_intents(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    intent it[INTENT_MAX];
    int n;
    char why[200];
    CHECK_INT(read_list(L, "return 42", it, &n, why), -1);
    CHECK_INT(read_list(L, "return {a = 1}", it, &n, why), -1);
    CHECK_INT(read_list(L, "return {}", it, &n, why), 0);
    CHECK_INT(n, 0);
    CHECK_INT(read_list(L,
                        "return {{side='buy', type='market', quote=50, reason='r'},"
                        " {side='buy', type='market', volume=0/0},"
                        " {side='sell', type='limit', volume=1},"
                        " {side='buy', type='market', volume=-1},"
                        " {side='buy', type='market', volume=1, colour='red'},"
                        " 'garbage',"
                        " {side='hold', type='market', volume=1},"
                        " {side='buy', type='market', volume=1, quote=5},"
                        " {side='buy', type='market', volume=1, price=5}}",
                        it, &n, why),
              0);
    CHECK_INT(n, 9);
    CHECK_INT(it[0].status, INTENT_PENDING);
    CHECK_STR(it[0].reason, "r");
    for (int i = 1; i < 9; i++) CHECK_MSG(it[i].status == INTENT_REJECTED && it[i].verdict[0], "bad intent rejected with a reason");
    CHECK(strstr(it[1].verdict, "finite") != NULL);
    CHECK(strstr(it[2].verdict, "limit order needs a price") != NULL);
    CHECK(strstr(it[4].verdict, "colour") != NULL);
    /* a list with a hole says so (it said "-1 non-list keys") */
    CHECK_INT(read_list(L, "local a = {side='buy', type='market', quote=5}; return {a, nil, a}", it, &n, why), -1);
    CHECK_MSG(strstr(why, "index 2 is nil") != NULL, why);
    CHECK_MSG(strstr(why, "-1") == NULL, why);
    CHECK_INT(read_list(L, "local a = {side='buy', type='market', quote=5}; return {[1] = a, [3] = a}", it, &n, why), -1);
    CHECK_MSG(strstr(why, "index 2 is nil") != NULL, why);
    CHECK_INT(read_list(L, "return {{side='buy', type='market', quote=5}, extra = 1, [0] = 2}", it, &n, why), -1);
    CHECK_MSG(strstr(why, "2 keys that are not list positions") != NULL, why);
    CHECK_INT(read_list(L, "return {[1.5] = {}}", it, &n, why), -1);
    CHECK_MSG(strstr(why, "1 key that is not a list position") != NULL, why);
    lua_close(L);
}

int main(void)
{
    test_rounding();
    test_rounding_exact();
    test_rounding_property();
    test_gates();
    test_reduce_only_sells();
    test_caps_at_fill();
    test_paper();
    test_intents();
    return UNIT_DONE("risk");
}
