/* jsondiff: both documents decoded in one private Lua state, walked side by side. */
#include "jsondiff.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings.h"
#include "jsondoc.h"
#include "strbuf.h"

typedef struct jsondiff_job {
    const char *a, *b;
    const char *const *ignore;
    size_t max;
    jsondiff *out;
    int failed;
} jsondiff_job;

/* The value as canonical JSON (keys sorted), so a report reads the same every time. */
static char *jsondiff_value(lua_State *S, int idx)
{
    if (lua_isnone(S, idx) || lua_isnil(S, idx)) return NULL;
    char *json = jsondoc_encode(S, idx);
    char *canonical = json ? jsondoc_canonical(json, strlen(json)) : NULL;
    if (!canonical) return json;
    free(json);
    return canonical;
}

static void jsondiff_add(lua_State *S, jsondiff_job *job, const char *path, int a, int b)
{
    jsondiff *d = job->out;
    d->total++;
    if (d->n >= job->max) return;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        jsondiff_entry *items = realloc(d->items, cap * sizeof *items);
        if (!items) luaL_error(S, "out of memory");
        d->items = items, d->cap = cap;
    }
    jsondiff_entry *e = &d->items[d->n++];
    e->path = strdup(path);
    e->a = a ? jsondiff_value(S, a) : NULL;
    e->b = b ? jsondiff_value(S, b) : NULL;
}

/* 1 for a table whose keys are exactly 1..n (a JSON array; an empty table counts as one too). */
static int jsondiff_is_array(lua_State *S, int idx)
{
    size_t n = lua_rawlen(S, idx);
    return jsondoc_count(S, idx) == n;
}

static int jsondiff_ignored(const jsondiff_job *job, const char *path)
{
    for (size_t i = 0; job->ignore && job->ignore[i]; i++)
        if (strcmp(job->ignore[i], path) == 0) return 1;
    return 0;
}

static int jsondiff_key_cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void jsondiff_walk(lua_State *S, jsondiff_job *job, strbuf *path, int a, int b);

/* Compares member key (or element) of the tables at a and b, under path + suffix. */
static void jsondiff_child(lua_State *S, jsondiff_job *job, strbuf *path, int a, int b, int is_index, const char *key,
                           lua_Integer i)
{
    size_t mark = path->len;
    if (is_index) strbuf_printf(path, "[%lld]", (long long)i - 1);
    else strbuf_printf(path, "%s%s", mark ? "." : "", key);
    if (is_index) { lua_rawgeti(S, a, i); lua_rawgeti(S, b, i); }
    else { lua_pushstring(S, key); lua_rawget(S, a); lua_pushstring(S, key); lua_rawget(S, b); }
    jsondiff_walk(S, job, path, lua_gettop(S) - 1, lua_gettop(S));
    lua_pop(S, 2);
    path->len = mark;
    if (path->data) path->data[mark] = '\0';
}

static void jsondiff_walk(lua_State *S, jsondiff_job *job, strbuf *path, int a, int b)
{
    if (jsondiff_ignored(job, strbuf_cstr(path))) return;
    int ta = lua_type(S, a), tb = lua_type(S, b);
    if (ta != LUA_TTABLE || tb != LUA_TTABLE) {
        if (ta != tb || !lua_rawequal(S, a, b))
            jsondiff_add(S, job, path->len ? strbuf_cstr(path) : "(the whole document)", ta == LUA_TNIL ? 0 : a,
                         tb == LUA_TNIL ? 0 : b);
        return;
    }
    int arr_a = jsondiff_is_array(S, a), arr_b = jsondiff_is_array(S, b);
    if (arr_a && arr_b) {
        lua_Integer n = (lua_Integer)(lua_rawlen(S, a) > lua_rawlen(S, b) ? lua_rawlen(S, a) : lua_rawlen(S, b));
        for (lua_Integer i = 1; i <= n; i++) jsondiff_child(S, job, path, a, b, 1, NULL, i);
        return;
    }
    /* the union of both objects' string keys, sorted so the output does not depend on hashing */
    size_t cap = jsondoc_count(S, a) + jsondoc_count(S, b), n = 0;
    char **keys = cap ? calloc(cap, sizeof *keys) : NULL;
    if (cap && !keys) luaL_error(S, "out of memory");
    for (int side = 0; side < 2; side++) {
        lua_pushnil(S);
        while (lua_next(S, side ? b : a)) {
            lua_pop(S, 1);
            if (lua_type(S, -1) != LUA_TSTRING) continue;
            const char *k = lua_tostring(S, -1);
            int seen = 0;
            for (size_t j = 0; j < n && !seen; j++) seen = strcmp(keys[j], k) == 0;
            if (!seen && n < cap) keys[n++] = strdup(k);
        }
    }
    qsort(keys, n, sizeof *keys, jsondiff_key_cmp);
    for (size_t j = 0; j < n; j++)
        if (keys[j]) jsondiff_child(S, job, path, a, b, 0, keys[j], 0);
    for (size_t j = 0; j < n; j++) free(keys[j]);
    free(keys);
}

static int jsondiff_protected(lua_State *S)
{
    jsondiff_job *job = lua_touserdata(S, 1);
    if (!bindings_json_decode(S, job->a, strlen(job->a)) || !bindings_json_decode(S, job->b, strlen(job->b))) {
        job->failed = 1;
        return 0;
    }
    strbuf path = {0};
    jsondiff_walk(S, job, &path, 2, 3);
    strbuf_free(&path);
    return 0;
}

int jsondiff_compare(const char *a, const char *b, const char *const *ignore, size_t max, jsondiff *out)
{
    memset(out, 0, sizeof *out);
    lua_State *S = luaL_newstate();
    if (!S) return -1;
    jsondiff_job job = {.a = a ? a : "null", .b = b ? b : "null", .ignore = ignore, .max = max, .out = out};
    lua_pushcfunction(S, jsondiff_protected);
    lua_pushlightuserdata(S, &job);
    int rc = lua_pcall(S, 1, 0, 0);
    lua_close(S);
    if (rc != LUA_OK || job.failed) {
        jsondiff_free(out);
        return -1;
    }
    return 0;
}

void jsondiff_free(jsondiff *d)
{
    for (size_t i = 0; i < d->n; i++) free(d->items[i].path), free(d->items[i].a), free(d->items[i].b);
    free(d->items);
    memset(d, 0, sizeof *d);
}
