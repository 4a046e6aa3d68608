# titan-host — one Makefile. `make` builds ./titan-host; `make test` installs what is
# missing, builds and runs every suite; `make SANITIZER=address|undefined` instruments;
# `make static` builds the self-contained binary (VARIANT=static: tools/static-deps, LTO).

PKG_CONFIG ?= pkg-config
CC         ?= cc
# name of the pkg-config module -> Debian/Ubuntu package that provides it
PKGS       := lua5.4:liblua5.4-dev lua5.4-cjson:lua-cjson-dev libcurl:libcurl4-openssl-dev \
              libcrypto:libssl-dev sqlite3:libsqlite3-dev
PKG_NAMES  := $(foreach p,$(PKGS),$(firstword $(subst :, ,$(p))))

VARIANT    ?= $(if $(SANITIZER),$(SANITIZER),release)
BUILD      ?= build/$(VARIANT)
AR         := ar

WARNINGS   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings \
              -Wformat=2 -Wno-format-nonliteral -Werror
CFLAGS     ?= -O2 -g
CFLAGS     += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARNINGS)
ifneq ($(SANITIZER),)
CFLAGS     += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZER)
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

.PHONY: all deps test-deps check-deps test unit bench bench-run run static clean FORCE

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

unit: $(UNIT_BIN) $(TOOL_BIN)

test: test-deps
	@$(MAKE) --no-print-directory titan-host unit
	@TITAN_BIN=$(CURDIR)/$(BUILD)/titan-host UNIT_DIR=$(CURDIR)/$(BUILD)/tests SANITIZER=$(SANITIZER) \
	  TITAN_VARIANT=$(VARIANT) tests/run

# The self-contained binary (./titan-host): what the workflows run and publish. `make test
# VARIANT=static` runs every suite against it.
static: deps
	@$(MAKE) --no-print-directory VARIANT=static titan-host

# Benchmarks (never part of `make test`) on the self-contained binary the workflows run;
# BENCH_VARIANT=release measures the dynamic build instead.
BENCH_VARIANT ?= static
bench: test-deps
	@$(MAKE) --no-print-directory VARIANT=$(BENCH_VARIANT) bench-run

bench-run: titan-host $(BENCH_BIN)
	@TITAN_BIN=$(CURDIR)/$(BUILD)/titan-host BENCH_DIR=$(CURDIR)/$(BUILD)/tests tests/bench/run

# One PAPER cycle of the default strategy on the embedded SQLite store (./titan.db).
run: deps
	@$(MAKE) --no-print-directory titan-host
	SYSTEM_MODE=PAPER ./titan-host run strategies/default.lua

# Keeps build/sources (the verified source packages), so `make static` stays offline.
clean:
	@find build -mindepth 1 -maxdepth 1 ! -name sources -exec rm -rf {} + 2>/dev/null || true
	rm -f titan-host

-include $(HOST_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
