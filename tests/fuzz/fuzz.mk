# The fuzz harnesses, built by tests/fuzz/run and tests/fuzz/regress (not by
# the top Makefile: they need clang, libFuzzer and the sanitizers), with the
# programs' warnings (WARN, sources.mk):
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
PKGS     = libevent_core libevent_extra libevent_pthreads jansson libedit ncursesw
SAN_fuzz    = -fsanitize=fuzzer,address,undefined
SAN_regress = -fsanitize=address,undefined
SAN_cov     = -fprofile-instr-generate -fcoverage-mapping
CFLAGS   = -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all \
           $(SAN_$(MODE))
CPPFLAGS = -std=gnu11 -D_GNU_SOURCE -DMXLB_VERSION='"$(VERSION)"' \
           -Iengine -Ishell -Itests/fuzz \
           $(PKG_CFLAGS)
# pkg-config once per make.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
LIBS     := $(shell pkg-config --libs $(PKGS)) -lm -pthread

# WARN too: the harnesses are held to the programs' warnings.
include sources.mk
MODEL    = $(MODEL_SRCS)
# The engine without main(), logging (the harness discards it) and
# control.c (fuzz-control.c includes it to reach its static read path).
ENGINE   = $(filter-out engine/mxlbd.c engine/log.c engine/control.c,$(ENGINE_SRCS))

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
