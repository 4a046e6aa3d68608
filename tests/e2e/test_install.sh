#!/usr/bin/env bash
# Installed like a real tool (issue 14): `make install DESTDIR=… PREFIX=…` gives a tree whose binary
# runs `check strategies/default.lua` from another folder (its Lua library found at ../share/
# titan-host), a missing library says where it looked and how to fix it, the generated man page
# renders and names every command, the bash completion completes, every command answers --help
# and -h, -V and --version work, and `make uninstall` removes exactly what was installed.
. "$(dirname "$0")/lib.sh"
unset TITAN_HOME

# the variant under test (make test SANITIZER=... builds build/<sanitizer>, VARIANT=static
# build/static): install what is tested
VARIANT=${TITAN_VARIANT:-${SANITIZER:-release}}
if [ "$VARIANT" = static ]; then
  inner_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" --no-print-directory VARIANT=static "$@"; }
else
  inner_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" --no-print-directory SANITIZER="${SANITIZER:-}" "$@"; }
fi
DEST=$T_TMP/root
inner_make install DESTDIR="$DEST" PREFIX=/opt/titan >"$T_TMP/install.log" 2>&1
t_check "make install DESTDIR PREFIX (see install.log)" test $? = 0
BIN=$DEST/opt/titan/bin/titan-host
t_check "the binary is installed, executable" test -x "$BIN"
t_check "it is the binary under test" cmp -s "$BIN" "$ROOT/build/$VARIANT/titan-host"
for f in lib/ta.lua lib/ai.lua lib/ai/vote.lua lib/ai/openai.lua default.lua; do
  t_check "strategies/$f installed" test -f "$DEST/opt/titan/share/titan-host/strategies/$f"
done
t_check "the man page installed" test -f "$DEST/opt/titan/share/man/man1/titan-host.1"
t_check "the bash completion installed" test -f "$DEST/opt/titan/share/bash-completion/completions/titan-host"

# from another folder: a project with its own copy of default.lua, no strategies/lib beside it
mkdir -p "$T_TMP/project/strategies"
cp "$ROOT/strategies/default.lua" "$T_TMP/project/strategies/"
(cd "$T_TMP/project" && "$BIN" check strategies/default.lua) >"$T_TMP/check.out" 2>&1
t_check "installed binary runs check strategies/default.lua from another folder" test $? = 0
t_grep "check reports the strategy" "default" "$T_TMP/check.out"
(cd "$T_TMP" && "$BIN" check "$DEST/opt/titan/share/titan-host/strategies/default.lua") >"$T_TMP/check2.out" 2>&1
t_check "the installed default.lua checks too" test $? = 0

# the binary alone, away from its library: the error says where it looked and how to fix it
mkdir -p "$T_TMP/alone"
cp "$BIN" "$T_TMP/alone/titan-host"
(cd "$T_TMP/project" && "$T_TMP/alone/titan-host" check strategies/default.lua) >"$T_TMP/alone.out" 2>&1
t_check "a binary without its library: exit 2" test $? = 2
t_grep "names the module" "module 'lib.ta' not found" "$T_TMP/alone.out"
t_grep "says where it looked" "../share/titan-host/strategies/lib nor strategies/lib is next to the binary" "$T_TMP/alone.out"
t_grep "says how to fix it" "install it with \`make install\`" "$T_TMP/alone.out"
t_grep "names TITAN_HOME" "set TITAN_HOME to the folder that holds strategies/lib" "$T_TMP/alone.out"
(cd "$T_TMP/project" && TITAN_HOME=$DEST/opt/titan/share/titan-host "$T_TMP/alone/titan-host" check strategies/default.lua) \
  >"$T_TMP/home.out" 2>&1
t_check "TITAN_HOME points it at the library" test $? = 0
(cd "$T_TMP/project" && TITAN_HOME=$T_TMP "$T_TMP/alone/titan-host" check strategies/default.lua) >"$T_TMP/wrong.out" 2>&1
t_check "a TITAN_HOME without the library: exit 2" test $? = 2
t_grep "says where TITAN_HOME pointed" "looked for in $T_TMP/strategies/lib (from TITAN_HOME)" "$T_TMP/wrong.out"

# the man page: generated from the help texts, renders without warnings, names every command
MAN=$DEST/opt/titan/share/man/man1/titan-host.1
t_grep "man: a title line" ".TH TITAN-HOST 1" "$MAN"
if command -v groff >/dev/null 2>&1; then
  groff -man -Tutf8 -ww -z "$MAN" >"$T_TMP/groff.err" 2>&1
  t_check "man: groff renders it without a warning" bash -c "[ ! -s '$T_TMP/groff.err' ] || { cat '$T_TMP/groff.err' >&2; false; }"
  groff -man -Tutf8 "$MAN" 2>/dev/null | sed 's/.\x08//g' >"$T_TMP/man.txt"
  for c in $("$BIN" help --commands); do t_grep "man: a section for $c" "usage: titan-host $c" "$T_TMP/man.txt"; done
  t_grep "man: the environment" "TITAN_NOTIFY" "$T_TMP/man.txt"
  t_grep "man: options read as typed" "--dry-run" "$T_TMP/man.txt"
else
  echo "SKIP test_install: groff is not installed; the man page is only checked as text" >&2
fi

# the bash completion
COMP=$DEST/opt/titan/share/bash-completion/completions/titan-host
complete_words() {   # complete_words WORD... : what the completion offers for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _titan_host; echo "${COMPREPLY[*]}"' _ "$COMP" "$@"
}
r_eq() { if [ "$2" = "$3" ]; then t_pass; else t_fail "$1: got '$2', want '$3'"; fi; }
r_eq "completion: commands" "$(complete_words titan-host st)" "status"
r_eq "completion: options of run" "$(complete_words titan-host run --d)" "--dry-run"
r_eq "completion: locks' words" "$(complete_words titan-host locks r)" "release"
r_eq "completion: halt's words" "$(complete_words titan-host halt o)" "on off"
r_eq "completion: status options" "$(complete_words titan-host status --h)" "--html --help"
r_eq "completion: help completes commands" "$(complete_words titan-host help lo)" "locks"
t_check "completion passes shellcheck" bash -c "! command -v shellcheck >/dev/null || shellcheck -s bash '$COMP'"

# every command answers --help and -h (before anything is checked: a bad setting does not matter)
for c in $("$BIN" help --commands); do
  "$BIN" help "$c" >"$T_TMP/want.$c" 2>&1
  SYSTEM_MODE=bogus "$BIN" "$c" --help >"$T_TMP/got.$c" 2>&1; rc=$?
  t_check "$c --help: exit 0 ($rc), its help" bash -c "[ $rc = 0 ] && cmp -s '$T_TMP/want.$c' '$T_TMP/got.$c'"
  "$BIN" "$c" -h >"$T_TMP/got.$c" 2>&1; rc=$?
  t_check "$c -h: exit 0 ($rc), its help" bash -c "[ $rc = 0 ] && cmp -s '$T_TMP/want.$c' '$T_TMP/got.$c'"
done
"$BIN" run strategies/default.lua --dry-run --help >"$T_TMP/run.help" 2>&1
t_check "run ... --help after other arguments is still help" bash -c "[ $? = 0 ] && grep -q '^usage: titan-host run' '$T_TMP/run.help'"
printf 'print("args:", ...)\n' >"$T_TMP/args.lua"
"$BIN" script "$T_TMP/args.lua" --help >"$T_TMP/script.out" 2>&1
t_grep "script FILE --help: --help belongs to the script" "args:	--help" "$T_TMP/script.out"
"$BIN" version >"$T_TMP/v1"; "$BIN" --version >"$T_TMP/v2"; "$BIN" -V >"$T_TMP/v3"; rc=$?
t_check "-V and --version are version" bash -c "[ $rc = 0 ] && cmp -s '$T_TMP/v1' '$T_TMP/v2' && cmp -s '$T_TMP/v1' '$T_TMP/v3'"
t_grep "version names itself" "titan-host " "$T_TMP/v1"
"$BIN" -X >/dev/null 2>"$T_TMP/bad.err"; rc=$?
t_check "an unknown option is still an error (exit 2)" test "$rc" = 2

# uninstall removes exactly what install put there
mkdir -p "$DEST/opt/titan/share/titan-host/mine" && touch "$DEST/opt/titan/share/titan-host/mine/keep.lua"
inner_make uninstall DESTDIR="$DEST" PREFIX=/opt/titan >"$T_TMP/uninstall.log" 2>&1
t_check "make uninstall" test $? = 0
r_eq "uninstall left only the user's own file" "$(cd "$DEST" && find . -type f | sort)" "./opt/titan/share/titan-host/mine/keep.lua"
t_check "no titan-host binary, man page or completion left" bash -c "! ls '$BIN' '$MAN' '$COMP' 2>/dev/null"
t_finish
