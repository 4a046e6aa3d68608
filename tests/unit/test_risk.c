/* Risk gates, intent validation and paper fills, computed by hand. */
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>

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
    /* a limit sell far below the bid fills at the bid: the cap values it there */
    risk_book rich = book;
    rich.position = 0.05;
    intent ls = make(SIDE_SELL, ORDER_LIMIT, 0.05, 0, 2000);
    risk_apply(&ls, 1, &caps, &xbt, 49990, 50000, 49995, rich);
    CHECK_INT(ls.status, INTENT_RESIZED);
    CHECK(NEAR(ls.final_volume, 0.00200040));      /* 100 / 49990, rounded down to the lot */
    CHECK(NEAR(ls.final_price, 2000));             /* the order keeps its limit */
    /* an intent rejected by validation stays rejected */
    intent r = make(SIDE_BUY, ORDER_MARKET, 0.001, 0, 0);
    r.status = INTENT_REJECTED;
    risk_apply(&r, 1, &caps, &xbt, 49990, 50000, 49995, book);
    CHECK_INT(r.status, INTENT_REJECTED);
}

static void test_paper(void)
{
    paper_config cfg = {.fee_rate = 0.004, .slippage_rate = 0.0005, .starting_cash = 10000};
    paper_fill f;
    /* buy 0.01 at 50000 +5 bps = 50025; cost 500.25; fee 2.001 */
    paper_fill_market(&cfg, SIDE_BUY, 0.01, 50000, 0, 0, &f);
    CHECK(f.filled);
    CHECK(NEAR(f.price, 50025));
    CHECK(NEAR(f.cost, 500.25));
    CHECK(NEAR(f.fee, 2.001));
    CHECK(NEAR(f.basis_delta, 502.251));
    /* sell all at 51000 -5 bps = 50974.5; proceeds 509.745, fee 2.03898; pnl = 509.745-2.03898-502.251 */
    paper_fill_market(&cfg, SIDE_SELL, 0.01, 51000, 0.01, 502.251, &f);
    CHECK(NEAR(f.price, 50974.5));
    CHECK(NEAR(f.realized_pnl, 509.745 - 2.03898 - 502.251));
    CHECK(NEAR(f.basis_delta, -502.251));
    /* limit not marketable -> no fill */
    paper_fill_limit(&cfg, SIDE_BUY, 0.01, 49000, 49990, 50000, 0, 0, &f);
    CHECK(!f.filled);
    /* marketable limit fills at the touch + slippage, capped by the limit */
    paper_fill_limit(&cfg, SIDE_BUY, 0.01, 50010, 49990, 50000, 0, 0, &f);
    CHECK(f.filled);
    CHECK(NEAR(f.price, 50010));
    paper_fill_limit(&cfg, SIDE_BUY, 0.01, 60000, 49990, 50000, 0, 0, &f);
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
    test_gates();
    test_paper();
    test_intents();
    return UNIT_DONE("risk");
}
