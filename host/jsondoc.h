/* JSON text read into C values: decoded once by the host's decoder (bindings_json_decode,
 * lua-cjson) in a private Lua state, under a protected call, and handed to a C reader that copies what it needs
 * out. Nothing raises: malformed text, out of memory and a reader's own error come back as codes. */
#ifndef TITAN_JSONDOC_H
#define TITAN_JSONDOC_H
#include <stddef.h>

#include <lua.h>

enum {
    JSONDOC_MALFORMED = -100,   /* not one JSON value (or nested deeper than 64) */
    JSONDOC_NO_MEMORY = -101,   /* the private state could not be made, or hit its cap */
    JSONDOC_FAILED = -102,      /* the reader raised */
};

/* Reads value `idx` of private state S (the decoded document); returns what jsondoc_read returns
 * (by convention 0 = read, negative = the document has the wrong shape). */
typedef int (*jsondoc_reader)(lua_State *S, int idx, void *ud);

/* Decodes text[0..len) and calls reader with the value. Returns the reader's result or one of
 * the codes above. */
int jsondoc_read(const char *text, size_t len, jsondoc_reader reader, void *ud);

/* Checked accessors for readers; none runs a metamethod, each leaves the stack as it found it
 * except jsondoc_field. */
/* Pushes obj[key] (nil when obj is not a table) and returns its type. */
int jsondoc_field(lua_State *S, int obj, const char *key);
/* 1 for JSON null (lua-cjson's null), 0 otherwise. */
int jsondoc_is_null(lua_State *S, int idx);
/* A string value into out (NUL-terminated): 0, or -1 when not a string, longer than size - 1
 * or holding a NUL byte. */
int jsondoc_string(lua_State *S, int idx, char *out, size_t size);
/* Entries of a table (0 when not a table), counted by traversal, so an array with holes or an
 * object is told apart from a list (lua_rawlen alone cannot). */
size_t jsondoc_count(lua_State *S, int idx);
/* The value's JSON text, malloc'd (NULL when out of memory): for showing odd values. */
char *jsondoc_encode(lua_State *S, int idx);
/* The JSON text again with every object's keys sorted and numbers written as lua-cjson writes them
 * (%.14g): lua-cjson emits keys in the order a Lua table keeps them, which differs from one process
 * to the next, so only this form compares byte for byte. An empty array reads as {} (as lua-cjson
 * writes it). malloc'd; NULL when text is not JSON or memory ran out. */
char *jsondoc_canonical(const char *text, size_t len);
#endif
