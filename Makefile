# titan-host — one Makefile. `make` builds ./titan-host; `make test` installs what is
# missing, builds and runs every suite; `make SANITIZER=address|undefined` instruments;
# `make fuzz [FUZZ_SECONDS=N | FUZZ_TOTAL_SECONDS=N]` runs every libFuzzer target under
# tests/fuzz for N seconds each (or N in all); `make static` builds the self-contained binary
# (VARIANT=static: tools/static-deps, LTO).

PKG_CONFIG ?= pkg-config
CC         ?= cc
# name of the pkg-config module -> Debian/Ubuntu package that provides it
PKGS       := lua5.4:liblua5.4-dev lua5.4-cjson:lua-cjson-dev libcurl:libcurl4-openssl-dev \
              libcrypto:libssl-dev sqlite3:libsqlite3-dev zlib:zlib1g-dev
PKG_NAMES  := $(foreach p,$(PKGS),$(firstword $(subst :, ,$(p))))

# FUZZ=1 (set by `make fuzz`): clang, libFuzzer's coverage, ASan + UBSan, in build/fuzz.
ifeq ($(FUZZ),1)
CC         := clang
SANITIZER  := address,undefined
VARIANT    := fuzz
endif
VARIANT    ?= $(if $(SANITIZER),$(SANITIZER),release)
BUILD      ?= build/$(VARIANT)
AR         := ar

WARNINGS   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings \
              -Wformat=2 -Wno-format-nonliteral -Werror
CFLAGS     ?= -O2 -g
CFLAGS     += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARNINGS)
# Nothing of ours is exported to the shared libraries: Debian's lua-cjson calls its own
# strbuf_free, which bound to host/strbuf.c's strbuf_free (a leak per JSON decode, and memory
# safety resting on two structs happening to have the same size).
LDFLAGS    += -Wl,--exclude-libs,ALL
ifneq ($(SANITIZER),)
CFLAGS     += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZER)
endif
ifeq ($(FUZZ),1)
CFLAGS     += -fsanitize=fuzzer-no-link
endif

# Resolved lazily so `make deps`/`make clean` work before the libraries exist.
DEP_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(PKG_NAMES))
DEP_LIBS    = $(shell $(PKG_CONFIG) --libs $(PKG_NAMES)) -lm
CHECK_DEPS := check-deps
# C tests link with this (the static variant's tests link its fat LTO objects without LTO: fast)
TEST_LDFLAGS = $(LDFLAGS)

# The self-contained binary: curl, Lua and lua-cjson built from the locked Debian source packages,
# OpenSSL, SQLite and zlib from Debian's static .a files; only the libc family stays dynamic.
# build/static/deps.mk (tools/static-deps) says where the libraries are; it is remade (a no-op when
# nothing changed) by every make that compiles this variant.
ifeq ($(VARIANT),static)
ifneq ($(SANITIZER),)
$(error VARIANT=static is not instrumented; use SANITIZER with the default variant)
endif
NO_BUILD_GOALS := test bench run clean deps test-deps static
ifneq ($(or $(filter-out $(NO_BUILD_GOALS),$(MAKECMDGOALS)),$(if $(MAKECMDGOALS),,all)),)
$(BUILD)/deps.mk: FORCE
	@tools/static-deps build --out $@
include $(BUILD)/deps.mk
endif
AR          := gcc-ar
CFLAGS      += -flto=auto -ffat-lto-objects
LDFLAGS     += -flto=auto -O2
TEST_LDFLAGS = -fno-lto
DEP_CFLAGS   = $(STATIC_CFLAGS)
DEP_LIBS     = $(STATIC_LIBS)
CHECK_DEPS  :=
endif

# libtitan.a is everything but main.o: the engine, the commands (host/cmd/) and the bindings, so
# a C test can drive cycle_run itself.
HOST_SRC   := $(filter-out host/main.c,$(wildcard host/*.c host/cmd/*.c)) $(wildcard bindings/*.c)
HOST_OBJ   := $(HOST_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ   := $(BUILD)/host/main.o
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC  := $(wildcard tests/bench/bench_*.c)
BENCH_BIN  := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/tests/%)
# helpers the e2e tests drive (built with `unit`, never run as suites themselves)
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
# fuzz targets: tests/fuzz/fuzz_NAME.c each, built for libFuzzer by `make fuzz` and, for `make
# test`, as replay_NAME (tests/fuzz/replay.c as main) that replays the corpus and regressions
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BIN   := $(FUZZ_NAMES:%=$(BUILD)/fuzz_%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/replay_%)
FUZZ_SECONDS ?= 60
FUZZ_TOTAL_SECONDS ?=

.PHONY: all deps test-deps check-deps test unit bench bench-run run static fuzz fuzz-run clean install \
        uninstall FORCE

all: titan-host

check-deps:
	@command -v $(PKG_CONFIG) >/dev/null 2>&1 || { echo "error: pkg-config not found; install it: sudo apt-get install pkg-config (or run 'make deps')" >&2; exit 1; }
	@for p in $(PKGS); do mod=$${p%%:*}; deb=$${p#*:}; \
	  $(PKG_CONFIG) --exists $$mod || { echo "error: $$mod not found by pkg-config; install it: sudo apt-get install $$deb (or run 'make deps')" >&2; exit 1; }; done

deps:
	@tools/install-deps build

test-deps:
	@tools/install-deps build test

$(BUILD)/%.o: %.c | $(CHECK_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -Ihost -Ibindings -MMD -MP -c $< -o $@

$(BUILD)/libtitan.a: $(HOST_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/titan-host: $(MAIN_OBJ) $(BUILD)/libtitan.a
	$(CC) $(LDFLAGS) -o $@ $^ $(DEP_LIBS)

# ./titan-host is always the variant last asked for.
titan-host: $(BUILD)/titan-host FORCE
	@cmp -s $< $@ || cp $< $@

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libtitan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -Ihost -Ibindings -Itests/unit $(TEST_LDFLAGS) -o $@ $< $(BUILD)/libtitan.a $(DEP_LIBS)

$(BUILD)/tests/bench_%: tests/bench/bench_%.c $(BUILD)/libtitan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -Ihost -Ibindings $(LDFLAGS) -o $@ $< $(BUILD)/libtitan.a $(DEP_LIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c $(BUILD)/libtitan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -Ihost -Ibindings $(TEST_LDFLAGS) -o $@ $< $(BUILD)/libtitan.a $(DEP_LIBS)

$(BUILD)/tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(BUILD)/libtitan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEP_CFLAGS) -Ihost -Ibindings -Itests/fuzz $(TEST_LDFLAGS) -o $@ tests/fuzz/replay.c $< $(BUILD)/libtitan.a $(DEP_LIBS)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libtitan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(DEP_CFLAGS) -Ihost -Ibindings -Itests/fuzz $(LDFLAGS) -o $@ $< $(BUILD)/libtitan.a $(DEP_LIBS)

unit: $(UNIT_BIN) $(TOOL_BIN) $(REPLAY_BIN)

# The build steps of test, static and run compile on every core, unless make was given its own -j.
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PARALLEL    = $(if $(findstring jobserver,$(MAKEFLAGS))$(filter -j%,$(MAKEFLAGS)),,-j$(BUILD_JOBS))

test: test-deps
	@$(MAKE) --no-print-directory $(PARALLEL) titan-host unit
	@TITAN_BIN=$(CURDIR)/$(BUILD)/titan-host UNIT_DIR=$(CURDIR)/$(BUILD)/tests SANITIZER=$(SANITIZER) \
	  TITAN_VARIANT=$(VARIANT) tests/run

# The self-contained binary (./titan-host): what the workflows run and publish. `make test
# VARIANT=static` runs every suite against it.
static: deps
	@$(MAKE) --no-print-directory $(PARALLEL) VARIANT=static titan-host

# Benchmarks (never part of `make test`) on the self-contained binary the workflows run;
# BENCH_VARIANT=release measures the dynamic build instead.
BENCH_VARIANT ?= static
bench: test-deps
	@$(MAKE) --no-print-directory VARIANT=$(BENCH_VARIANT) bench-run

bench-run: titan-host $(BENCH_BIN)
	@TITAN_BIN=$(CURDIR)/$(BUILD)/titan-host BENCH_DIR=$(CURDIR)/$(BUILD)/tests tests/bench/run

# Each target for FUZZ_SECONDS (or FUZZ_TOTAL_SECONDS shared); a crash, leak or timeout keeps its
# input in tests/fuzz/regressions/<target>/ and fails.
fuzz:
	@tools/install-deps build fuzz
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-run

fuzz-run: $(FUZZ_BIN)
	@FUZZ_BIN_DIR=$(CURDIR)/$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TOTAL_SECONDS=$(FUZZ_TOTAL_SECONDS) \
	  tests/fuzz/run $(FUZZ_NAMES)

# One PAPER cycle of the default strategy on the embedded SQLite store (./titan.db).
run: deps
	@$(MAKE) --no-print-directory $(PARALLEL) titan-host
	SYSTEM_MODE=PAPER ./titan-host run strategies/default.lua

# Keeps build/sources (the verified source packages), so `make static` stays offline.
clean:
	@find build -mindepth 1 -maxdepth 1 ! -name sources -exec rm -rf {} + 2>/dev/null || true
	rm -f titan-host

# ---- install: `make install [PREFIX=/usr/local] [DESTDIR=...]`, `make uninstall` with the same ----------
# The binary finds its Lua library at ../share/titan-host next to itself (BINDIR and DATADIR as
# below), or wherever TITAN_HOME says. The man page and the bash completion are generated by the
# binary from its own help texts (titan-host help --man | --completion).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share/titan-host
MANDIR      ?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL_LUA := $(sort $(wildcard strategies/lib/*.lua strategies/lib/*/*.lua)) strategies/default.lua

$(BUILD)/titan-host.1: $(BUILD)/titan-host
	$(BUILD)/titan-host help --man >$@

$(BUILD)/titan-host.bash: $(BUILD)/titan-host
	$(BUILD)/titan-host help --completion >$@

install: $(BUILD)/titan-host $(BUILD)/titan-host.1 $(BUILD)/titan-host.bash
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BUILD)/titan-host $(DESTDIR)$(BINDIR)/titan-host
	@for f in $(INSTALL_LUA); do echo "install -D -m 644 $$f $(DESTDIR)$(DATADIR)/$$f"; \
	  install -D -m 644 "$$f" "$(DESTDIR)$(DATADIR)/$$f" || exit 1; done
	install -m 644 $(BUILD)/titan-host.1 $(DESTDIR)$(MANDIR)/titan-host.1
	install -m 644 $(BUILD)/titan-host.bash $(DESTDIR)$(BASHCOMPDIR)/titan-host

# Removes exactly what install put there, and the folders under DATADIR it leaves empty.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/titan-host $(DESTDIR)$(MANDIR)/titan-host.1 $(DESTDIR)$(BASHCOMPDIR)/titan-host
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/,$(INSTALL_LUA))
	@for d in $$(printf '%s\n' $(sort $(dir $(INSTALL_LUA))) | sort -r); do \
	  rmdir "$(DESTDIR)$(DATADIR)/$$d" 2>/dev/null || true; done; rmdir "$(DESTDIR)$(DATADIR)" 2>/dev/null || true

-include $(HOST_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
