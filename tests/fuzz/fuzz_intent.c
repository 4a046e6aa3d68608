/* Fuzz target: the intent validator (intent_read_list) on a Lua value built from the input by the
 * host's JSON decoder — what a strategy might return. Every intent ends either rejected with a
 * reason or pending with a side, a type and exactly one positive finite size (and a positive
 * price exactly when it is a limit). */
#include <math.h>
#include <string.h>

#include "bindings.h"
#include "fuzz.h"
#include "intent.h"

typedef struct {
    const char *text;
    size_t len;
} fuzz_intent_input;

static int fuzz_finite_positive(double v) { return isfinite(v) && v > 0; }

static int fuzz_intents(lua_State *L)
{
    const fuzz_intent_input *in = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (!bindings_json_decode(L, in->text, in->len)) return 0;
    intent out[INTENT_MAX];
    int count = -1;
    char why[300] = "";
    memset(out, 0xA5, sizeof out); /* garbage the reader must not trust */
    if (intent_read_list(L, 1, out, &count, why, sizeof why) != 0) {
        FUZZ_CHECK(count == 0 && why[0] != '\0', "a refused list says why and reads nothing");
        FUZZ_CHECK(memchr(why, '\0', sizeof why) != NULL, "why is a C string");
        return 0;
    }
    FUZZ_CHECK(lua_gettop(L) == 1, "the stack is as it was");
    FUZZ_CHECK(count >= 0 && count <= INTENT_MAX, "count within INTENT_MAX");
    for (int i = 0; i < count; i++) {
        const intent *it = &out[i];
        FUZZ_CHECK(it->index == i + 1, "index");
        FUZZ_CHECK(memchr(it->reason, '\0', sizeof it->reason) != NULL, "reason is a C string");
        FUZZ_CHECK(memchr(it->verdict, '\0', sizeof it->verdict) != NULL, "verdict is a C string");
        if (it->status == INTENT_REJECTED) {
            FUZZ_CHECK(it->verdict[0] != '\0', "a rejection has a reason");
            continue;
        }
        FUZZ_CHECK(it->status == INTENT_PENDING, "read intents are pending or rejected");
        FUZZ_CHECK(it->side == SIDE_BUY || it->side == SIDE_SELL, "side");
        FUZZ_CHECK(it->type == ORDER_MARKET || it->type == ORDER_LIMIT, "type");
        FUZZ_CHECK(fuzz_finite_positive(it->volume) != fuzz_finite_positive(it->quote), "exactly one size");
        FUZZ_CHECK(it->volume == 0 || it->quote == 0, "the other size is 0");
        FUZZ_CHECK(it->type == ORDER_LIMIT ? fuzz_finite_positive(it->price) : it->price == 0, "a price iff limit");
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_intent_input in = {(const char *)data, size};
    fuzz_protected(fuzz_lua(), fuzz_intents, &in);
    return 0;
}
