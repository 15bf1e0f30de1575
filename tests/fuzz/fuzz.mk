# The fuzz harnesses, built by tests/fuzz/run and tests/fuzz/regress (not by
# the top Makefile, which builds with -Werror and the system compiler):
#
#   make -f tests/fuzz/fuzz.mk MODE=fuzz      libFuzzer binaries
#   make -f tests/fuzz/fuzz.mk MODE=regress   same harnesses, driver.c main
#   make -f tests/fuzz/fuzz.mk MODE=cov       driver.c main, source coverage
#
# Every harness is compiled with the engine and shell sources it exercises,
# instrumented like them, so a finding points into product code.

CC       = clang
MODE    ?= fuzz
B        = build/fuzz
O        = $(B)/obj-$(MODE)
PKGS     = libevent jansson libedit ncursesw
SAN_fuzz    = -fsanitize=fuzzer,address,undefined
SAN_regress = -fsanitize=address,undefined
SAN_cov     = -fprofile-instr-generate -fcoverage-mapping
CFLAGS   = -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all \
           $(SAN_$(MODE))
WARN     = -Wall -Wextra -Wformat=2 -Wshadow -Wno-unused-parameter
CPPFLAGS = -std=gnu11 -D_GNU_SOURCE -DMXLB_VERSION='"fuzz"' -Iengine -Ishell -Itests/fuzz \
           $(shell pkg-config --cflags $(PKGS))
LIBS     = $(shell pkg-config --libs $(PKGS)) -lm

MODEL    = engine/field.c engine/addr.c engine/config.c \
           engine/config-validate.c engine/config-json.c engine/proxy.c \
           engine/balance.c engine/hash.c engine/util.c engine/commit.c engine/metrics.c \
           engine/counters.c engine/names.c engine/schema.c
# The engine without main(), logging (the harness discards it) and
# control.c (fuzz-control.c includes it to reach its static read path).
ENGINE   = engine/engine.c engine/listener.c engine/forward.c \
           engine/session.c engine/queue.c engine/limit.c engine/probe.c \
           engine/stats.c engine/state.c engine/control-cmd.c engine/zone.c \
           engine/httpmetrics.c engine/privdrop.c
SHELL_SRCS = $(filter-out shell/mxlb.c,$(wildcard shell/*.c))

NAMES    = control config shell proxy
ifeq ($(MODE),fuzz)
BIN      = $(B)
MAIN     =
else
BIN      = $(B)/$(MODE)
MAIN     = $(O)/tests/fuzz/driver.o
endif

objs = $(patsubst %.c,$(O)/%.o,$(1))

all: $(NAMES:%=$(BIN)/fuzz-%)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< ($(MODE))"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

$(BIN)/fuzz-control: $(call objs,tests/fuzz/fuzz-control.c $(ENGINE) $(MODEL)) $(MAIN)
$(BIN)/fuzz-config: $(call objs,tests/fuzz/fuzz-config.c $(MODEL)) $(MAIN)
$(BIN)/fuzz-shell: $(call objs,tests/fuzz/fuzz-shell.c $(SHELL_SRCS) $(MODEL)) $(MAIN)
$(BIN)/fuzz-proxy: $(call objs,tests/fuzz/fuzz-proxy.c engine/proxy.c) $(MAIN)

$(BIN)/fuzz-%:
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

.PHONY: all
.DELETE_ON_ERROR:
-include $(shell find $(O) -name '*.d' 2>/dev/null)
