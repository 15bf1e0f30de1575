# mxlb — SMTP load balancer.  See README.md.
#
#   make          build build/mxlbd (and the shell once it exists)
#   make run      install what is missing, build, start a demo zone
#   make test     install what is missing, build, run every suite
#   make bench    mxlbd against HAProxy on loopback

CC      ?= cc
PKGS     = libevent jansson
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
           -Wstrict-prototypes -Wpointer-arith -Wvla -Werror
CPPFLAGS = -std=gnu11 -D_GNU_SOURCE -Iengine -Ishell $(shell pkg-config --cflags $(PKGS) libedit ncursesw)
LIBS     = $(shell pkg-config --libs $(PKGS)) -lm
B        = build

# The model: linked by the engine, the shell and the unit tests.
MODEL_SRCS  = engine/field.c engine/addr.c engine/config.c engine/config-validate.c \
              engine/config-json.c \
              engine/proxy.c engine/balance.c engine/util.c engine/commit.c \
              engine/metrics.c
ENGINE_SRCS = engine/mxlbd.c engine/log.c engine/engine.c engine/listener.c \
              engine/forward.c \
              engine/session.c engine/queue.c engine/limit.c engine/probe.c \
              engine/stats.c engine/state.c engine/control.c engine/control-cmd.c \
              engine/zone.c engine/httpmetrics.c engine/privdrop.c
SHELL_SRCS  = $(filter-out shell/mxlb.c,$(wildcard shell/*.c))
UNIT_SRCS   = $(wildcard tests/unit/test-*.c)

MODEL_OBJS  = $(MODEL_SRCS:%.c=$(B)/%.o)
ENGINE_OBJS = $(ENGINE_SRCS:%.c=$(B)/%.o)
SHELL_OBJS  = $(SHELL_SRCS:%.c=$(B)/%.o)
UNIT_BINS   = $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

all: $(B)/mxlbd $(B)/mxlb

# V=1 shows the commands.
Q = $(if $(V),,@)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

$(B)/libmxlb.a: $(MODEL_OBJS)
	$(Q)$(AR) rcs $@ $^

$(B)/mxlbd: $(ENGINE_OBJS) $(B)/libmxlb.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The shell minus main(): linked by mxlb and by the grammar's unit tests.
$(B)/libmxlbsh.a: $(SHELL_OBJS)
	$(Q)$(AR) rcs $@ $^

$(B)/mxlb: $(B)/shell/mxlb.o $(B)/libmxlbsh.a $(B)/libmxlb.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs libedit ncursesw)

$(B)/tests/%: tests/unit/%.c $(B)/libmxlbsh.a $(B)/libmxlb.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $^ $(LIBS) \
	    $(shell pkg-config --libs cmocka libedit ncursesw)

deps:
	@share/install-deps

units: $(UNIT_BINS)

test: deps
	@$(MAKE) --no-print-directory all units
	@tests/run

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/bench.sh

run: deps
	@$(MAKE) --no-print-directory all
	@share/examples/demo-run

clean:
	rm -rf $(B)

.PHONY: all deps units test bench run clean
-include $(shell find $(B) -name '*.d' 2>/dev/null)
