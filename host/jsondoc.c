/* JSON documents for C readers (exchange answers, stored order records). A fresh Lua state per
 * document keeps what an outside party sent away from the strategy's state, its budgets and its
 * metatables, and lets a protected call catch every failure, out-of-memory included. */
#include "jsondoc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings.h"
#include "strbuf.h"

#define JSONDOC_MEM_CAP ((size_t)256 << 20)   /* far above any answer the HTTP layer accepts (8 MiB) */

typedef struct {
    size_t used;
} jsondoc_mem;

static void *jsondoc_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    jsondoc_mem *m = ud;
    if (!ptr) osize = 0;
    if (nsize == 0) {
        free(ptr);
        m->used -= osize;
        return NULL;
    }
    if (nsize > osize && m->used - osize + nsize > JSONDOC_MEM_CAP) return NULL;
    void *p = realloc(ptr, nsize);
    if (p) m->used = m->used - osize + nsize;
    return p;
}

typedef struct {
    const char *text;
    size_t len;
    jsondoc_reader reader;
    void *ud;
    int result;
} jsondoc_job;

static int jsondoc_protected(lua_State *S)
{
    jsondoc_job *job = lua_touserdata(S, 1);
    /* The host's own decoder (bindings_json_decode, nesting capped at 64); cjson would stop at a
     * NUL byte, so text holding one is not a JSON value. */
    if (memchr(job->text, '\0', job->len) || !bindings_json_decode(S, job->text, job->len)) {
        job->result = JSONDOC_MALFORMED;
        return 0;
    }
    job->result = job->reader(S, lua_gettop(S), job->ud);   /* [ job, value ] */
    return 0;
}

int jsondoc_read(const char *text, size_t len, jsondoc_reader reader, void *ud)
{
    jsondoc_mem mem = {0};
    lua_State *S = lua_newstate(jsondoc_alloc, &mem);
    if (!S) return JSONDOC_NO_MEMORY;
    jsondoc_job job = {.text = text ? text : "", .len = text ? len : 0, .reader = reader, .ud = ud};
    lua_pushcfunction(S, jsondoc_protected);
    lua_pushlightuserdata(S, &job);
    int rc = lua_pcall(S, 1, 0, 0);
    lua_close(S);
    if (rc == LUA_ERRMEM) return JSONDOC_NO_MEMORY;
    if (rc != LUA_OK) return JSONDOC_FAILED;
    return job.result;
}

int jsondoc_field(lua_State *S, int obj, const char *key)
{
    obj = lua_absindex(S, obj);
    if (!lua_istable(S, obj)) {
        lua_pushnil(S);
        return LUA_TNIL;
    }
    lua_pushstring(S, key);
    return lua_rawget(S, obj);
}

int jsondoc_is_null(lua_State *S, int idx)
{
    return lua_type(S, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(S, idx) == NULL;
}

int jsondoc_string(lua_State *S, int idx, char *out, size_t size)
{
    if (size > 0) out[0] = '\0';
    if (lua_type(S, idx) != LUA_TSTRING || size == 0) return -1;
    size_t len;
    const char *s = lua_tolstring(S, idx, &len);
    if (len >= size || strlen(s) != len) return -1;
    memcpy(out, s, len + 1);
    return 0;
}

size_t jsondoc_count(lua_State *S, int idx)
{
    idx = lua_absindex(S, idx);
    if (!lua_istable(S, idx)) return 0;
    size_t n = 0;
    lua_pushnil(S);
    while (lua_next(S, idx)) {
        lua_pop(S, 1);
        n++;
    }
    return n;
}

static int jsondoc_encode_protected(lua_State *S)
{
    bindings_json_encode(S, 1);
    return 1;
}

char *jsondoc_encode(lua_State *S, int idx)
{
    idx = lua_absindex(S, idx);
    lua_pushcfunction(S, jsondoc_encode_protected);
    lua_pushvalue(S, idx);
    char *out = NULL;
    if (lua_pcall(S, 1, 1, 0) == LUA_OK && lua_type(S, -1) == LUA_TSTRING) out = strdup(lua_tostring(S, -1));
    lua_pop(S, 1);
    return out;
}

/* ---- the canonical form ---- */

static int jsondoc_key_cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void jsondoc_write(lua_State *S, int idx, strbuf *out, int depth)
{
    idx = lua_absindex(S, idx);
    switch (lua_type(S, idx)) {
    case LUA_TBOOLEAN: strbuf_puts(out, lua_toboolean(S, idx) ? "true" : "false"); return;
    case LUA_TNUMBER: {
        double v = lua_tonumber(S, idx);
        if (isfinite(v)) strbuf_printf(out, "%.14g", v);
        else strbuf_puts(out, "null");
        return;
    }
    case LUA_TSTRING: {
        size_t len;
        const char *str = lua_tolstring(S, idx, &len);
        strbuf_json_string(out, str, len);
        return;
    }
    case LUA_TTABLE: break;
    default: strbuf_puts(out, "null"); return;       /* JSON null is a light userdata */
    }
    if (depth > 64) luaL_error(S, "nested too deep");
    size_t n = jsondoc_count(S, idx), len = lua_rawlen(S, idx);
    if (n > 0 && n == len) {
        strbuf_puts(out, "[");
        for (size_t i = 1; i <= n; i++) {
            if (i > 1) strbuf_puts(out, ",");
            lua_rawgeti(S, idx, (lua_Integer)i);
            jsondoc_write(S, -1, out, depth + 1);
            lua_pop(S, 1);
        }
        strbuf_puts(out, "]");
        return;
    }
    const char **keys = n ? lua_newuserdatauv(S, n * sizeof *keys, 0) : NULL;   /* freed by the GC */
    size_t k = 0;
    lua_pushnil(S);
    while (lua_next(S, idx)) {
        lua_pop(S, 1);
        if (lua_type(S, -1) == LUA_TSTRING && k < n) keys[k++] = lua_tostring(S, -1);   /* anchored by the table */
    }
    if (k > 1) qsort(keys, k, sizeof *keys, jsondoc_key_cmp);   /* keys is NULL for {} */
    strbuf_puts(out, "{");
    for (size_t i = 0; i < k; i++) {
        if (i) strbuf_puts(out, ",");
        strbuf_json_string(out, keys[i], strlen(keys[i]));
        strbuf_puts(out, ":");
        lua_pushstring(S, keys[i]);
        lua_rawget(S, idx);
        jsondoc_write(S, -1, out, depth + 1);
        lua_pop(S, 1);
    }
    strbuf_puts(out, "}");
    if (keys) lua_pop(S, 1);
}

static int jsondoc_canonical_reader(lua_State *S, int idx, void *ud)
{
    jsondoc_write(S, idx, ud, 0);
    return 0;
}

char *jsondoc_canonical(const char *text, size_t len)
{
    strbuf out = {0};
    if (jsondoc_read(text, len, jsondoc_canonical_reader, &out) != 0) {
        strbuf_free(&out);
        return NULL;
    }
    return strbuf_take(&out);
}
