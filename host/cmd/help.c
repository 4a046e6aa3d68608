/* `titan-host help [COMMAND]`: every command's synopsis and the environment, or one command's
 * options and exit codes (the text kept beside each command). The man page and the bash
 * completion that `make install` installs are generated here from the same texts. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "strbuf.h"
#include "version.h"

static const char help_environment[] =
    "environment:\n"
    "  SYSTEM_MODE         PAPER (default) or LIVE\n"
    "  TITAN_DB            SQLite store file (default ./titan.db; empty is an error), unless Supabase is set\n"
    "  SUPABASE_URL        with SUPABASE_KEY: the Supabase (PostgREST) store instead of SQLite\n"
    "  TITAN_HALT          1 (any value but empty/0/off/false/no) = record cycles as halted, trade nothing\n"
    "  TITAN_MAX_ORDER_QUOTE, TITAN_MAX_POSITION_QUOTE, TITAN_MAX_ORDERS_PER_CYCLE, TITAN_MAX_DAILY_LOSS_QUOTE\n"
    "                      host risk caps (defaults 100, 500, 2, 50); a strategy's risk table only tightens them\n"
    "  TITAN_PAPER_CASH, TITAN_PAPER_FEE_BPS, TITAN_PAPER_SLIPPAGE_BPS\n"
    "                      paper broker: starting cash (10000), taker fee (40 bps), slippage (5 bps)\n"
    "  TITAN_LEASE_S       cycle lock lease in seconds (default 600)\n"
    "  TITAN_CAPSULE_DAYS  days the store keeps each cycle's capsule for `replay` (default 30; 0 = none)\n"
    "  TITAN_KRAKEN_TIMEOUT_MS  deadline of each Kraken call, ms (default and at most 15000)\n"
    "  TITAN_STORE_TIMEOUT_MS   SQLite lock wait and PostgREST request deadline, ms (default 15000)\n"
    "  TITAN_KRAKEN_LUA_WRITES  1 = `script` tools may place/cancel orders from Lua (never strategies)\n"
    "  KRAKEN_API_URL, OPENAI_BASE_URL, GROQ_BASE_URL, GEMINI_BASE_URL   endpoint overrides (tests)\n"
    "  TITAN_BLACKBOX      flight-recorder file (default ./blackbox.log)\n"
    "  TITAN_LUA_CPU_S     CPU-time budget of each call into Lua, seconds (default 30)\n"
    "  TITAN_LUA_WALL_S    wall-clock budget of each call into Lua, seconds (default 300)\n"
    "  TITAN_LUA_MEM_MB    memory cap of the Lua state, MiB (default 256)\n"
    "  TITAN_LOG_LEVEL     lowest level echoed on stderr: debug|info|warn|error (default info)\n"
    "  TITAN_HOME          folder holding strategies/lib (default: found next to the binary)\n"
    "  TITAN_FAKE_NOW_MS   pins the clock (tests and replays only)\n"
    "  TITAN_TEST_PAUSE_AT (tests only) run waits at that step boundary for SIGTERM, SIGINT or SIGUSR1\n"
    "  TITAN_NOTIFY        events to notify: fill,failed,in_doubt,halted,ai_cap,daily,done, all or none\n"
    "                      (default: all but done)\n"
    "  TITAN_NOTIFY_DEADLINE_MS  total time notifications may take after a cycle (default 5000)\n"
    "  TELEGRAM_CHAT_ID, TELEGRAM_API_URL   with TELEGRAM_BOT_TOKEN: notify on Telegram\n"
    "  a malformed or absurd value of any of these: exit 2 naming it, nothing done (numbers: plain decimals)\n"
    "  secret variables, never visible to Lua and redacted from all output:\n"
    "  KRAKEN_API_KEY KRAKEN_SECRET SUPABASE_KEY OPENAI_API_KEY GROQ_API_KEY GEMINI_API_KEY\n"
    "  TELEGRAM_BOT_TOKEN DISCORD_WEBHOOK_URL SLACK_WEBHOOK_URL TITAN_WEBHOOK_URL TITAN_WEBHOOK_SECRET\n";

/* The command's own words (locks list|release, halt on|off|status): the lower-case words of its
 * synopsis before the description (two spaces), minus its name. */
static void help_words(const command *c, strbuf *out)
{
    const char *p = c->synopsis + strlen(c->name), *end = strstr(p, "  ");
    if (!end) end = p + strlen(p);
    while (p < end) {
        size_t n = strcspn(p, " |");
        if (p + n > end) n = (size_t)(end - p);
        int word = n > 0 && islower((unsigned char)p[0]);
        for (size_t k = 0; word && k < n; k++) word = islower((unsigned char)p[k]) != 0;
        if (word) strbuf_printf(out, "%s%.*s", out->len ? " " : "", (int)n, p);
        p += n ? n : 1;
    }
}

/* 1 when the space-separated list `list` holds the word p[0..n). */
static int help_listed(const char *list, const char *p, size_t n)
{
    for (const char *q = list; *q; q += strcspn(q, " "), q += *q == ' ') {
        size_t len = strcspn(q, " ");
        if (len == n && strncmp(q, p, n) == 0) return 1;
    }
    return 0;
}

/* The command's options: every --word its help text names, then -h and --help. */
static void help_options(const command *c, strbuf *out)
{
    for (const char *p = c->help; (p = strstr(p, "--")) != NULL;) {
        size_t n = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
        int starts_word = p == c->help || strchr(" [(|", p[-1]);
        if (n > 2 && isalpha((unsigned char)p[2]) && starts_word && strncmp(p, "--help", n) != 0 &&
            !help_listed(strbuf_cstr(out), p, n))
            strbuf_printf(out, "%s%.*s", out->len ? " " : "", (int)n, p);
        p += n;
    }
    strbuf_printf(out, "%s-h --help", out->len ? " " : "");
}

/* roff text: backslashes and hyphens escaped, a line starting with . or ' protected. */
static void help_roff(strbuf *out, const char *text)
{
    int line_start = 1;
    for (const char *p = text; *p; p++) {
        if (line_start && (*p == '.' || *p == '\'')) strbuf_puts(out, "\\&");
        if (*p == '\\') strbuf_puts(out, "\\e");
        else if (*p == '-') strbuf_puts(out, "\\-");
        else strbuf_append(out, p, 1);
        line_start = *p == '\n';
    }
}

static void help_man(strbuf *out)
{
    strbuf_printf(out, ".TH TITAN-HOST 1 \"\" \"titan-host %s\" \"User Commands\"\n", TITAN_VERSION);
    strbuf_puts(out, ".SH NAME\ntitan\\-host \\- runs Lua trading strategies on Kraken, one cycle per slot\n"
                     ".SH SYNOPSIS\n.nf\n");
    for (size_t i = 0; cmd_all[i]; i++) {
        const char *s = cmd_all[i]->synopsis, *cut = strstr(s, "  ");
        strbuf b = {0};
        strbuf_printf(&b, "titan-host %.*s\n", (int)(cut ? cut - s : (long)strlen(s)), s);
        help_roff(out, strbuf_cstr(&b));
        strbuf_free(&b);
    }
    strbuf_puts(out, ".fi\n.SH DESCRIPTION\ntitan\\-host embeds Lua 5.4 and runs one trading cycle of a strategy per "
                     "scheduled slot (cron): it takes the slot's lock in the store, reads the market, lets the strategy "
                     "propose orders, applies the risk caps, trades in PAPER or LIVE mode, records the outcome and "
                     "notifies. Strategies are Lua files; the library they require (lib.ta, lib.ai) is found in "
                     "TITAN_HOME/strategies/lib, or next to the binary, or in ../share/titan\\-host relative to it.\n"
                     "Every command answers \\-h and \\-\\-help; \\-V and \\-\\-version print the version.\n"
                     ".SH COMMANDS\n");
    for (size_t i = 0; cmd_all[i]; i++) {
        strbuf_printf(out, ".SS %s\n.nf\n", cmd_all[i]->name);
        help_roff(out, cmd_all[i]->help);
        strbuf_puts(out, ".fi\n");
    }
    strbuf_puts(out, ".SH ENVIRONMENT\n.nf\n");
    help_roff(out, help_environment + strlen("environment:\n"));
    strbuf_puts(out, ".fi\n.SH EXIT STATUS\n0 done, or skipped on purpose; 1 failed (recorded); 2 usage or configuration "
                     "error, nothing done; 3 orders in doubt. Each command's section says which apply.\n"
                     ".SH FILES\n.TP\n\\&./titan.db\nthe SQLite store (TITAN_DB)\n.TP\n\\&./blackbox.log\nthe flight "
                     "recorder (TITAN_BLACKBOX)\n.TP\nPREFIX/share/titan\\-host/strategies\nthe Lua library and "
                     "default.lua\n.SH SEE ALSO\nREADME.md of the titan\\-host repository.\n");
}

static void help_completion(strbuf *out)
{
    strbuf names = {0};
    for (size_t i = 0; cmd_all[i]; i++) strbuf_printf(&names, "%s%s", i ? " " : "", cmd_all[i]->name);
    strbuf_printf(out, "# bash completion for titan-host %s (generated by `titan-host help --completion`)\n"
                       "_titan_host() {\n"
                       "  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]:-} opts words\n"
                       "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
                       "    mapfile -t COMPREPLY < <(compgen -W \"%s -h --help -V --version\" -- \"$cur\"); return\n"
                       "  fi\n"
                       "  case $cmd in\n",
                  TITAN_VERSION, strbuf_cstr(&names));
    for (size_t i = 0; cmd_all[i]; i++) {
        strbuf opts = {0}, words = {0};
        help_options(cmd_all[i], &opts);
        if (cmd_all[i] == &cmd_help_command) strbuf_puts(&words, strbuf_cstr(&names));
        else help_words(cmd_all[i], &words);
        strbuf_printf(out, "    %s) opts=\"%s\"; words=\"%s\" ;;\n", cmd_all[i]->name, strbuf_cstr(&opts),
                      strbuf_cstr(&words));
        strbuf_free(&opts), strbuf_free(&words);
    }
    strbuf_puts(out, "    *) return ;;\n  esac\n"
                     "  if [[ $cur == -* ]]; then mapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
                     "  elif [ \"$COMP_CWORD\" -eq 2 ] && [ -n \"$words\" ]; then mapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\")\n"
                     "  else mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); fi\n"
                     "}\n"
                     "complete -o filenames -F _titan_host titan-host\n");
    strbuf_free(&names);
}

/* help --commands | --options COMMAND | --man | --completion: for tools (make install, tests). */
static int help_generated(int argc, char **argv)
{
    strbuf out = {0};
    if (strcmp(argv[1], "--commands") == 0 && argc == 2) {
        for (size_t i = 0; cmd_all[i]; i++) strbuf_printf(&out, "%s\n", cmd_all[i]->name);
    } else if (strcmp(argv[1], "--options") == 0 && argc == 3 && cmd_find(argv[2])) {
        help_options(cmd_find(argv[2]), &out);
        strbuf_puts(&out, "\n");
    } else if (strcmp(argv[1], "--man") == 0 && argc == 2) {
        help_man(&out);
    } else if (strcmp(argv[1], "--completion") == 0 && argc == 2) {
        help_completion(&out);
    } else {
        return cmd_usage_error("usage: titan-host help [COMMAND | --commands | --options COMMAND | --man | --completion]");
    }
    fwrite(strbuf_cstr(&out), 1, out.len, stdout);
    strbuf_free(&out);
    return EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
    const char *topic = argc > 1 ? argv[1] : NULL;
    if (topic && (strcmp(topic, "--help") == 0 || strcmp(topic, "-h") == 0)) topic = "help";
    if (topic && topic[0] == '-') return help_generated(argc, argv);
    if (topic) {
        const command *c = cmd_find(topic);
        if (!c) return cmd_usage_error("no command '%s' (see 'titan-host help')", topic);
        fputs(c->help, stdout);
        return EXIT_OK;
    }
    printf("titan-host %s — runs Lua trading strategies on Kraken, one cycle per slot\n\n", TITAN_VERSION);
    printf("usage: titan-host COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; cmd_all[i]; i++) printf("  %s\n", cmd_all[i]->synopsis);
    printf("\n%s\n'titan-host help COMMAND' (or 'titan-host COMMAND --help') shows a command's options and exit "
           "codes.\n", help_environment);
    return EXIT_OK;
}

const command cmd_help_command = {
    "help", cmd_help, "help [COMMAND]              this text, or one command's",
    "usage: titan-host help [COMMAND]\n"
    "       titan-host help --commands | --options COMMAND | --man | --completion\n\n"
    "Every command's synopsis and the environment, or one command's options and exit codes (also\n"
    "`titan-host COMMAND --help` or -h). --commands lists the command names, --options one command's\n"
    "options, --man prints the man page (roff) and --completion the bash completion script, both\n"
    "generated from these texts (make install installs them).\n"};
