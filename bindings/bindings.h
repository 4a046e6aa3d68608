/* Entry points of the titan.* Lua modules and helpers they share. */
#ifndef TITAN_BINDINGS_H
#define TITAN_BINDINGS_H
#include <stddef.h>

#include <lua.h>

int luaopen_titan_crypto(lua_State *L);
int luaopen_titan_json(lua_State *L);
int luaopen_titan_log(lua_State *L);
int luaopen_titan_time(lua_State *L);

int luaopen_titan_http(lua_State *L);
int luaopen_titan_secret(lua_State *L);
int luaopen_titan_kraken(lua_State *L);
int luaopen_titan_lock(lua_State *L);

/* The raw value of the titan.secret handle at idx, or NULL when idx is not a handle (or its
 * variable is unset). For C only: never push it to Lua. */
const char *bindings_secret_value(lua_State *L, int idx);
/* The variable name of the titan.secret handle at idx, or NULL when idx is not a handle. */
const char *bindings_secret_name(lua_State *L, int idx);

/* Pushes nil and an error table {code=, message=, retryable=}; returns 2 — the
 * outside-world failure convention of every binding. */
int bindings_push_error(lua_State *L, const char *code, const char *message, int retryable);
/* Encodes the value at idx as JSON with lua-cjson (pushes the string). Raises on failure. */
void bindings_json_encode(lua_State *L, int idx);
/* Decodes text with a private lua-cjson decoder — the host's one JSON parser: pushes the value
 * and returns 1, or pushes nothing and returns 0 when the text is not JSON. Strict where cjson
 * is lax by default: nesting limited to 64, no hex, leading zeros, NaN or Infinity, and no
 * number beyond a double (1e400). Duplicate keys: the last one wins. Scripts can replace
 * titan.json.decode or `require`, never this. Raises only on out-of-memory (and while loading
 * the decoder on first use): call it inside a protected call. */
int bindings_json_decode(lua_State *L, const char *text, size_t len);
/* The same, with cjson's reason in why (may be NULL) on failure, e.g. "Expected value but found
 * invalid token at character 1". */
int bindings_json_decode_why(lua_State *L, const char *text, size_t len, char *why, size_t whylen);
/* Registry key of the original cjson.encode: scripts can replace titan.json.encode, not this. */
#define BINDINGS_JSON_ENCODE_KEY "titan.json.encode"
#endif
