/* Strategy loading and the contract check shared by `check` and `run`. */
#include "strategy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "jsonw.h"

const char *const strategy_risk_fields[] = {
    "max_order_quote", "max_position_quote", "max_orders_per_cycle", "max_daily_loss_quote", NULL,
};

static const int strategy_intervals[] = {1, 5, 15, 30, 60, 240, 1440, 10080, 21600};

static int strategy_name_ok(const char *s)
{
    if (!*s || strlen(s) > 64) return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return 0;
    }
    return 1;
}

/* The strategy table is read raw (no __index/__tostring): validation runs outside the
 * budgeted call, where a metamethod could raise unprotected or loop forever. */
static int strategy_rawfield(lua_State *L, int t, const char *field)
{
    lua_pushstring(L, field);
    return lua_rawget(L, t);
}

/* A value for a problem message, without calling any metamethod. */
static const char *strategy_describe(lua_State *L, int idx, char *buf, size_t len)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) snprintf(buf, len, LUA_INTEGER_FMT, lua_tointeger(L, idx));
        else snprintf(buf, len, LUA_NUMBER_FMT, lua_tonumber(L, idx));
        return buf;
    case LUA_TSTRING: return lua_tostring(L, idx);
    case LUA_TBOOLEAN: return lua_toboolean(L, idx) ? "true" : "false";
    default: return luaL_typename(L, idx);
    }
}

static void strategy_check_string(lua_State *L, int t, const char *field, strbuf *problems, int (*ok)(const char *))
{
    int type = strategy_rawfield(L, t, field);
    if (type != LUA_TSTRING) {
        strbuf_printf(problems, "%s must be a string (got %s)\n", field, lua_typename(L, type));
    } else if (ok && !ok(lua_tostring(L, -1))) {
        strbuf_printf(problems, "%s '%s' must be 1-64 characters of letters, digits, '_', '-' or '.'\n", field,
                      lua_tostring(L, -1));
    } else if (!*lua_tostring(L, -1)) {
        strbuf_printf(problems, "%s must not be empty\n", field);
    }
    lua_pop(L, 1);
}

static void strategy_check_interval(lua_State *L, int t, strbuf *problems)
{
    int isnum = 0;
    lua_Integer v = 0;
    /* a number, not a numeric string: "15" would reach the cycle as text */
    if (strategy_rawfield(L, t, "interval") == LUA_TNUMBER) v = lua_tointegerx(L, -1, &isnum);
    int known = 0;
    for (size_t i = 0; isnum && i < sizeof strategy_intervals / sizeof strategy_intervals[0]; i++)
        if (v == strategy_intervals[i]) known = 1;
    char buf[64];
    if (!known)
        strbuf_printf(problems,
                      "interval %s is not one of Kraken's candle intervals in minutes: "
                      "1, 5, 15, 30, 60, 240, 1440, 10080, 21600\n",
                      strategy_describe(L, -1, buf, sizeof buf));
    lua_pop(L, 1);
}

static void strategy_check_risk(lua_State *L, int t, strbuf *problems)
{
    int type = strategy_rawfield(L, t, "risk");
    if (type == LUA_TNIL) { lua_pop(L, 1); return; }
    if (type != LUA_TTABLE) {
        strbuf_printf(problems, "risk must be a table (got %s)\n", lua_typename(L, type));
        lua_pop(L, 1);
        return;
    }
    if (lua_getmetatable(L, -1)) {
        /* run reads the caps raw, outside the budgets: a metatable would make check and run differ */
        strbuf_printf(problems, "risk must be a plain table: it has a metatable, and the host reads the caps raw "
                                "(build it without setmetatable)\n");
        lua_pop(L, 2);
        return;
    }
    int risk = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, risk)) {                        /* [ risk, key, value ] */
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        int known = 0;
        for (int i = 0; key && strategy_risk_fields[i]; i++)
            if (strcmp(key, strategy_risk_fields[i]) == 0) known = 1;
        char buf[64];
        if (!known) {
            strbuf_printf(problems, "risk.%s is not a known risk field (known: max_order_quote, "
                                    "max_position_quote, max_orders_per_cycle, max_daily_loss_quote)\n",
                          strategy_describe(L, -2, buf, sizeof buf));
        } else {
            double v = lua_tonumber(L, -1);
            if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(v) || v <= 0)
                strbuf_printf(problems, "risk.%s must be a positive number (got %s)\n", key,
                              strategy_describe(L, -1, buf, sizeof buf));
        }
        lua_pop(L, 1);                                 /* [ risk, key ] */
    }
    lua_pop(L, 1);
}

/* Runs the chunk loaded (or not: loaded != RUNTIME_OK) on top of the stack and checks its table. */
static strategy_result strategy_run_chunk(runtime *rt, runtime_status loaded, int top, strbuf *problems)
{
    lua_State *L = runtime_lua(rt);
    if (loaded != RUNTIME_OK || runtime_call(rt, 0, 1) != RUNTIME_OK) {
        strbuf_printf(problems, "%s\n", lua_tostring(L, -1));
        lua_settop(L, top);
        return STRATEGY_LOAD_FAILED;
    }
    if (!lua_istable(L, -1)) {
        strbuf_printf(problems, "the file must return the strategy table (it returned %s)\n", luaL_typename(L, -1));
        lua_settop(L, top);
        return STRATEGY_INVALID;
    }
    int t = lua_gettop(L);
    strategy_check_string(L, t, "name", problems, strategy_name_ok);
    strategy_check_string(L, t, "pair", problems, NULL);
    strategy_check_interval(L, t, problems);
    if (strategy_rawfield(L, t, "on_cycle") != LUA_TFUNCTION)
        strbuf_printf(problems, "on_cycle must be a function (got %s)\n", luaL_typename(L, -1));
    lua_pop(L, 1);
    strategy_check_risk(L, t, problems);
    if (problems->len > 0) {
        lua_settop(L, top);
        return STRATEGY_INVALID;
    }
    return STRATEGY_VALID;
}

/* ---- params ------------------------------------------------------------------------------ */

void param_value_parse(const char *text, param_value *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->text, sizeof out->text, "%s", text);
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (*text && end && *end == '\0' && errno == 0 && isfinite(v) && strspn(text, "+-.0123456789eE") == strlen(text)) {
        out->kind = PARAM_NUMBER;
        out->number = v;
    } else if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
        out->kind = PARAM_BOOLEAN;
        out->boolean = text[0] == 't';
    } else {
        out->kind = PARAM_STRING;
    }
}

void param_value_number(double number, param_value *out)
{
    memset(out, 0, sizeof *out);
    out->kind = PARAM_NUMBER;
    out->number = number == 0 ? 0 : number;            /* no "-0" */
    char text[32];
    snprintf(out->text, sizeof out->text, "%s", jsonw_format_exact(out->number, text));
}

void param_settings_order(const param_setting *settings, size_t n, size_t *order)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        for (; j > 0 && strcmp(settings[order[j - 1]].name, settings[i].name) > 0; j--) order[j] = order[j - 1];
        order[j] = i;
    }
}

/* The names of params' string keys, comma-separated, for a message. */
static void strategy_param_names(lua_State *L, int params, strbuf *out)
{
    lua_pushnil(L);
    while (lua_next(L, params)) {
        if (lua_type(L, -2) == LUA_TSTRING) strbuf_printf(out, "%s%s", out->len ? ", " : "", lua_tostring(L, -2));
        lua_pop(L, 1);
    }
}

int strategy_set_params(lua_State *L, int strategy_idx, const param_setting *settings, size_t n, char *err,
                        size_t errlen)
{
    if (n == 0) return 0;
    strategy_idx = lua_absindex(L, strategy_idx);
    int top = lua_gettop(L);
    if (strategy_rawfield(L, strategy_idx, "params") != LUA_TTABLE) {
        snprintf(err, errlen, "the strategy has no params table to set %s in", settings[0].name);
        lua_settop(L, top);
        return -1;
    }
    int params = lua_gettop(L);                        /* [ params ] */
    for (size_t i = 0; i < n; i++) {
        const param_setting *s = &settings[i];
        const param_value *v = &s->value;
        lua_pushstring(L, s->name);
        int type = lua_rawget(L, params);              /* [ params, current ] */
        int integer = lua_isinteger(L, -1);
        lua_pop(L, 1);
        const char *problem = NULL;
        if (type == LUA_TNIL) {
            strbuf names = {0};
            strategy_param_names(L, params, &names);
            snprintf(err, errlen, "params.%s is not in the strategy's params (it has: %s; a new name would be ignored)", s->name,
                     names.len ? strbuf_cstr(&names) : "nothing");
            strbuf_free(&names);
            lua_settop(L, top);
            return -1;
        }
        else if (type == LUA_TNUMBER && v->kind != PARAM_NUMBER) problem = "is a number";
        else if (type == LUA_TNUMBER && integer && (v->number != floor(v->number) || fabs(v->number) > 9.0e15))
            problem = "is an integer: give a whole number";
        else if (type == LUA_TBOOLEAN && v->kind != PARAM_BOOLEAN) problem = "is a boolean: give true or false";
        else if (type != LUA_TNUMBER && type != LUA_TBOOLEAN && type != LUA_TSTRING)
            problem = "is not a number, boolean or string";
        if (problem) {
            snprintf(err, errlen, "params.%s %s (got '%s')", s->name, problem, v->text);
            lua_settop(L, top);
            return -1;
        }
        lua_pushstring(L, s->name);
        if (type == LUA_TNUMBER && integer) lua_pushinteger(L, (lua_Integer)v->number);
        else if (type == LUA_TNUMBER) lua_pushnumber(L, v->number);
        else if (type == LUA_TBOOLEAN) lua_pushboolean(L, v->boolean);
        else lua_pushstring(L, v->text);
        lua_rawset(L, params);
    }
    lua_settop(L, top);
    return 0;
}

strategy_result strategy_load(runtime *rt, const char *path, strbuf *problems)
{
    int top = lua_gettop(runtime_lua(rt));
    return strategy_run_chunk(rt, runtime_load_file(rt, path), top, problems);
}

strategy_result strategy_load_text(runtime *rt, const char *path, const char *text, size_t len, strbuf *problems)
{
    int top = lua_gettop(runtime_lua(rt));
    strbuf name = {0};
    strbuf_printf(&name, "@%s", path);
    strategy_result r = strategy_run_chunk(rt, runtime_load_text(rt, text, len, strbuf_cstr(&name)), top, problems);
    strbuf_free(&name);
    return r;
}

void strategy_identity(lua_State *L, int strategy_idx, char *name, size_t name_size, char *pair, size_t pair_size,
                       int *interval)
{
    static const char *const fields[] = {"name", "pair", "interval"};
    strategy_idx = lua_absindex(L, strategy_idx);
    for (int i = 0; i < 3; i++) {
        lua_pushstring(L, fields[i]);
        lua_rawget(L, strategy_idx);
    }
    snprintf(name, name_size, "%s", lua_tostring(L, -3));
    snprintf(pair, pair_size, "%s", lua_tostring(L, -2));
    *interval = (int)lua_tointeger(L, -1);
    lua_pop(L, 3);
}
