/* --set NAME=VALUE on a strategy's params table (replay): the text split and typed, then the same
 * rules as backtest and optimize (strategy_set_params). */
#include "params.h"

#include <stdio.h>
#include <string.h>

#include "strategy.h"

int params_apply(lua_State *L, int strategy_idx, const char *assignment, char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    param_setting s;
    if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof s.name || strlen(eq + 1) >= sizeof s.value.text) {
        snprintf(err, errlen, "--set %s: write NAME=VALUE (a name in the strategy's params table)", assignment);
        return -1;
    }
    snprintf(s.name, sizeof s.name, "%.*s", (int)(eq - assignment), assignment);
    param_value_parse(eq + 1, &s.value);
    char why[400];
    if (strategy_set_params(L, strategy_idx, &s, 1, why, sizeof why) != 0) {
        snprintf(err, errlen, "--set %s: %s", assignment, why);
        return -1;
    }
    return 0;
}
