/* titan.secret(NAME) — an opaque handle for one of the AI keys, usable only as
 * (part of) a header value in titan.http. The value stays in C: the handle holds the name's
 * index, prints as `<secret NAME>`, and raises on `..`; it has no fields and no metatable access.
 * Misuse (non-string name) raises; an unknown name or an unset variable returns nil, err. */
#include <string.h>

#include <lauxlib.h>

#include "bindings.h"
#include "secrets.h"

#define SECRET_METATABLE "titan.secret"

typedef struct secret_handle {
    int index;                      /* into secrets_names */
} secret_handle;

static secret_handle *secret_test(lua_State *L, int idx)
{
    secret_handle *h = luaL_testudata(L, idx, SECRET_METATABLE);
    if (!h || h->index < 0 || h->index >= SECRETS_COUNT) return NULL;
    return h;
}

const char *bindings_secret_value(lua_State *L, int idx)
{
    secret_handle *h = secret_test(L, idx);
    return h ? secrets_value(secrets_names[h->index]) : NULL;
}

const char *bindings_secret_name(lua_State *L, int idx)
{
    secret_handle *h = secret_test(L, idx);
    return h ? secrets_names[h->index] : NULL;
}

static int secret_tostring(lua_State *L)
{
    secret_handle *h = secret_test(L, 1);
    lua_pushfstring(L, "<secret %s>", h ? secrets_names[h->index] : "?");
    return 1;
}

static int secret_concat(lua_State *L)
{
    return luaL_error(L, "cannot concatenate a secret handle: pass it as a titan.http header value "
                         "(e.g. {\"Bearer \", titan.secret(NAME)})");
}

static int secret_new(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    int index = -1;
    for (int i = 0; i < SECRETS_COUNT; i++)
        if (strcmp(name, secrets_names[i]) == 0) index = i;
    if (index < 0) {
        lua_pushfstring(L, "%s is not a secret variable (handles exist for OPENAI_API_KEY, GROQ_API_KEY and "
                           "GEMINI_API_KEY)", name);
        return bindings_push_error(L, "secret.unknown", lua_tostring(L, -1), 0);
    }
    /* The exchange and store credentials and the notification channels are used by C alone
     * (signing, the store, notify.c): a handle in Lua could only send them somewhere they do
     * not belong. */
    if (!secrets_lua_may_hold(name)) {
        lua_pushfstring(L, "%s is used by the host only (Kraken signing, the store, notifications) and is not "
                           "available to Lua", name);
        return bindings_push_error(L, "secret.host_only", lua_tostring(L, -1), 0);
    }
    if (!secrets_value(name)) {
        lua_pushfstring(L, "%s is not set", name);
        return bindings_push_error(L, "secret.unset", lua_tostring(L, -1), 0);
    }
    secret_handle *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->index = index;
    luaL_setmetatable(L, SECRET_METATABLE);
    return 1;
}

static const luaL_Reg secret_meta[] = {
    {"__concat", secret_concat},
    {"__tostring", secret_tostring},
    {NULL, NULL},
};

int luaopen_titan_secret(lua_State *L)
{
    if (luaL_newmetatable(L, SECRET_METATABLE)) {       /* [ mt ] */
        luaL_setfuncs(L, secret_meta, 0);
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");              /* getmetatable(h) == false */
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, secret_new);                    /* the module is the function */
    return 1;
}
