# What the programs are made of, their version and the warnings they are
# built with: the one list of each, included by the Makefile and by
# tests/fuzz/fuzz.mk.

VERSION     = 0.1.0

# Errors with gcc and clang alike.
WARN        = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
              -Wstrict-prototypes -Wpointer-arith -Wvla -Wwrite-strings \
              -Wcast-qual -Wmissing-declarations -Wsign-compare -Werror

# The model: linked by the engine, the shell and the unit tests.
MODEL_SRCS  = engine/field.c engine/addr.c engine/config.c engine/config-validate.c \
              engine/config-json.c \
              engine/proxy.c engine/balance.c engine/hash.c engine/util.c engine/commit.c \
              engine/metrics.c engine/schema.c engine/names.c engine/counters.c \
              engine/paths.c engine/config-man.c engine/agent-parse.c \
              engine/xclient.c
ENGINE_SRCS = engine/mxlbd.c engine/log.c engine/engine.c engine/listener.c \
              engine/forward.c engine/handshake.c engine/poller.c \
              engine/session.c engine/queue.c engine/limit.c engine/probe.c \
              engine/stats.c engine/state.c engine/control.c engine/control-cmd.c \
              engine/zone.c engine/httpmetrics.c engine/privdrop.c engine/notify.c \
              engine/source.c engine/takeover.c engine/agent.c engine/worker.c \
              engine/sockmap.c
SHELL_SRCS  = $(filter-out shell/mxlb.c,$(wildcard shell/*.c))
