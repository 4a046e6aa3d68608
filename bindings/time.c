/* titan.time — the host's UTC clock (pinnable with TITAN_FAKE_NOW_MS; a cycle records each
 * reading in its capsule and a replay reads them back), ISO-8601, slots and a bounded sleep. */
#include <errno.h>
#include <time.h>

#include <lauxlib.h>

#include "bindings.h"
#include "clock.h"
#include "runtime.h"
#include "tape.h"

#define TIME_MAX_ABS_MS ((lua_Integer)1 << 53)
#define TIME_MAX_SLEEP_MS 10000

static const int time_kraken_intervals[] = {1, 5, 15, 30, 60, 240, 1440, 10080, 21600};

/* now_ms() -> integer milliseconds since the epoch, UTC */
static int time_now_ms(lua_State *L)
{
    lua_pushinteger(L, tape_clock_now());
    return 1;
}

/* iso([ms]) -> "2026-11-27T04:45:00.000Z" (now when ms is absent) */
static int time_iso(lua_State *L)
{
    int64_t ms = lua_isnoneornil(L, 1) ? tape_clock_now() : (int64_t)luaL_checkinteger(L, 1);
    char out[CLOCK_ISO_SIZE];
    lua_pushstring(L, clock_iso(ms, out));
    return 1;
}

/* parse_iso(text) -> ms | nil, err{code="time.bad_iso"} */
static int time_parse_iso(lua_State *L)
{
    const char *text = luaL_checkstring(L, 1);
    int64_t ms;
    if (clock_parse_iso(text, &ms) != 0) {
        lua_pushfstring(L, "'%s' is not an ISO-8601 UTC time like 2026-11-27T04:45:00Z", text);
        return bindings_push_error(L, "time.bad_iso", lua_tostring(L, -1), 0);
    }
    lua_pushinteger(L, ms);
    return 1;
}

/* slot(ms, minutes) -> start of the UTC slot of `minutes` containing ms */
static int time_slot(lua_State *L)
{
    lua_Integer ms = luaL_checkinteger(L, 1);
    lua_Integer minutes = luaL_checkinteger(L, 2);
    /* +/- 2^53 ms (285,000 years) keeps the slot arithmetic far from integer overflow. */
    luaL_argcheck(L, ms >= -TIME_MAX_ABS_MS && ms <= TIME_MAX_ABS_MS, 1, "ms must be within +/- 2^53");
    luaL_argcheck(L, minutes > 0 && minutes <= 21600, 2, "minutes must be between 1 and 21600");
    lua_pushinteger(L, clock_slot_ms(ms, (int)minutes));
    return 1;
}

/* intervals() -> the candle intervals Kraken serves, in minutes */
static int time_intervals(lua_State *L)
{
    int n = (int)(sizeof time_kraken_intervals / sizeof time_kraken_intervals[0]);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, time_kraken_intervals[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* sleep_ms(ms): waits ms milliseconds of wall time (0 .. 10000), e.g. a provider's Retry-After,
 * without burning the CPU budget (a spin would); it counts against the wall-clock budget and
 * ends early when a budget runs out. Real time even when the clock is pinned. */
static int time_sleep_ms(lua_State *L)
{
    lua_Integer ms = luaL_checkinteger(L, 1);
    luaL_argcheck(L, ms >= 0 && ms <= TIME_MAX_SLEEP_MS, 1, "must be between 0 and 10000 ms");
    if (tape_playing()) return 0;                      /* a replay's clock is the recorded one */
    int64_t budget = runtime_budget_left_ms(L);
    if (ms > budget) ms = (lua_Integer)budget;
    struct timespec left = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        runtime_budget_left_ms(L);              /* raises once a budget has run out */
    return 0;
}

static const luaL_Reg time_functions[] = {
    {"intervals", time_intervals},
    {"iso", time_iso},
    {"now_ms", time_now_ms},
    {"parse_iso", time_parse_iso},
    {"sleep_ms", time_sleep_ms},
    {"slot", time_slot},
    {NULL, NULL},
};

int luaopen_titan_time(lua_State *L)
{
    luaL_newlib(L, time_functions);
    return 1;
}
