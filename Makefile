# mxlb — SMTP load balancer.  See README.md.
#
#   make          build build/mxlbd (and the shell once it exists)
#   make run      install what is missing, build, start a demo zone
#                 (ports: DEMO_PORT=2525 DEMO_SINKS="2601 2602")
#   make test     install what is missing, build, run every suite
#   make bench    mxlbd against HAProxy on loopback; source client in
#                 network namespaces (tests/bench/transparent.sh)

CC      ?= cc
# libevent as its parts, not libevent (core and extra in one): the threads'
# libevent_pthreads needs libevent_core, and with libevent beside it the
# core was loaded twice (112 kB of RSS).  --as-needed: the shell links core.
PKGS     = libevent_core libevent_extra jansson
CFLAGS  ?= -O2 -g
# Fortified whenever optimised: glibc's checks need the optimiser, and
# without it (-O0, or no -O at all) glibc ignores the flag or, in older
# versions, warns, which -Werror makes fatal.  The sanitizer pass goes
# without: ASan checks every access itself.
# The last -O is the one the compiler takes.
OPT      = $(filter-out -O0,$(lastword $(filter -O%,$(CFLAGS))))
FORTIFY  = $(if $(SAN_BUILD),,$(if $(OPT),-D_FORTIFY_SOURCE=2))
# += so a packager's CPPFLAGS (dpkg-buildflags: _FORTIFY_SOURCE) are kept;
# every optimised build fortifies, so what the package's build would refuse
# (an ignored chdir or write) fails here first.
# VERSION (sources.mk) is the one definition of the version: the programs get it
# as MXLB_VERSION.
# pkg-config is asked once per make (:=), not once per use.
CPPFLAGS += -std=gnu11 -D_GNU_SOURCE $(FORTIFY) -DMXLB_VERSION='"$(VERSION)"' -Iengine -Ishell \
            $(PKG_CFLAGS)
PKG_CFLAGS   := $(shell pkg-config --cflags $(PKGS) libedit ncursesw)
LIBS         := -Wl,--as-needed $(shell pkg-config --libs $(PKGS) libevent_pthreads) -lm -pthread
SHELL_LIBS   := $(shell pkg-config --libs libedit ncursesw)
# Only the units need cmocka: a build without it (nocheck) stays quiet.
CMOCKA_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null)
B        = build

# forward kernel (engine/sockmap.c) needs libbpf's headers, and clang to
# build the BPF program that mxlbd embeds; without either, mxlbd is built
# all the same and a commit with forward kernel is refused with the
# reason.  The library itself is opened at the first commit that needs it
# (dlopen), so it is not linked.
BPF_CC      ?= clang
HAVE_BPF    := $(shell pkg-config --exists libbpf && command -v $(BPF_CC) >/dev/null && echo 1)
BPF_CFLAGS  := $(if $(HAVE_BPF),-DMXLB_BPF $(shell pkg-config --cflags libbpf))
# The target's headers (asm/types.h) are where the host's are.
BPF_INC     := $(if $(HAVE_BPF),-I/usr/include/$(shell $(BPF_CC) -print-multiarch))

# The source lists, the version and WARN (errors with gcc and clang alike),
# shared with tests/fuzz/fuzz.mk.
include sources.mk
UNIT_SRCS   = $(wildcard tests/unit/test-*.c)

MODEL_OBJS  = $(MODEL_SRCS:%.c=$(B)/%.o)
ENGINE_OBJS = $(ENGINE_SRCS:%.c=$(B)/%.o)
SHELL_OBJS  = $(SHELL_SRCS:%.c=$(B)/%.o)
UNIT_BINS   = $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

all: $(B)/mxlbd $(B)/mxlb $(B)/mxlb.1 $(B)/mxlb.json.5

# V=1 shows the commands.
Q = $(if $(V),,@)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

$(B)/libmxlb.a: $(MODEL_OBJS)
	$(Q)$(AR) rcs $@ $^

$(B)/mxlbd: $(ENGINE_OBJS) $(if $(HAVE_BPF),$(B)/engine/sockmap-obj.o) $(B)/libmxlb.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/engine/sockmap.o: CPPFLAGS += $(BPF_CFLAGS)

# The relay program (sockmap.bpf.c), compiled for the BPF target and
# embedded in mxlbd as a byte array (sockmap.h declares it).
$(B)/engine/sockmap.bpf.o: engine/sockmap.bpf.c engine/sockmap-flow.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  BPF     $<")
	$(Q)$(BPF_CC) -O2 -g -target bpf $(BPF_INC) -Iengine -c -o $@ $<

$(B)/engine/sockmap-obj.c: $(B)/engine/sockmap.bpf.o
	$(Q){ echo '#include "sockmap.h"'; \
	    echo '__attribute__((aligned(8))) const unsigned char sockmap_bpf[] = {'; \
	    od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo '};'; \
	    echo 'const size_t sockmap_bpf_len = sizeof sockmap_bpf;'; } > $@.tmp
	$(Q)mv $@.tmp $@

$(B)/engine/sockmap-obj.o: $(B)/engine/sockmap-obj.c
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

# The shell minus main(): linked by mxlb and by the grammar's unit tests.
$(B)/libmxlbsh.a: $(SHELL_OBJS)
	$(Q)$(AR) rcs $@ $^

$(B)/mxlb: $(B)/shell/mxlb.o $(B)/libmxlbsh.a $(B)/libmxlb.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(SHELL_LIBS)

# Its dependencies in tests/.deps, out of the way of tests/test-*; the
# headers they add to $^ are not the compiler's input.
$(B)/tests/%: tests/unit/%.c $(B)/libmxlbsh.a $(B)/libmxlb.a
	@mkdir -p $(dir $@).deps
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -MT $@ \
	    -MF $(dir $@).deps/$(notdir $@).d -o $@ $(filter %.c %.a,$^) \
	    $(LIBS) $(CMOCKA_LIBS) $(SHELL_LIBS)

# The man page's reference comes from the shell's grammar: it cannot drift.
$(B)/mxlb.1: share/man/mxlb.1.in $(B)/mxlb
	$(Q)sed -e '/@REFERENCE@/{r /dev/stdin' -e 'd}' -e 's/@VERSION@/$(VERSION)/' \
	    share/man/mxlb.1.in < /dev/null > $@.tmp
	$(Q)$(B)/mxlb __man > $@.ref
	$(Q)sed -e '/@REFERENCE@/r $@.ref' -e '/@REFERENCE@/d' \
	    -e 's/@VERSION@/$(VERSION)/' \
	    -e "s/@ADMIN_STATES@/$$($(B)/mxlb __names admin)/" \
	    -e "s/@PROBE_STATES@/$$($(B)/mxlb __names probe)/" \
	    share/man/mxlb.1.in > $@
	$(Q)rm -f $@.tmp $@.ref

# The config file's page comes from the engine's field tables, as the
# schema does.
$(B)/mxlb.json.5: $(B)/mxlbd
	$(Q)$(B)/mxlbd --man-config > $@.tmp && mv $@.tmp $@

# Every page, readable before install: man -l build/mxlb.1 (mxlbd.8 is
# share/man/mxlbd.8 as it is).
man: $(B)/mxlb.1 $(B)/mxlb.json.5

# The config's JSON Schema, from the field tables; the copy in share/ is
# compared with it by make test (prod-schema), so rewrite it after a field
# changes.
schema: $(B)/mxlbd
	$(B)/mxlbd --schema > share/mxlb.schema.json

# Where Debian keeps things; PREFIX=/usr for a package, DESTDIR to stage.
PREFIX  ?= /usr/local
EXAMPLES = $(wildcard share/examples/*.mxlb share/examples/*.json \
           share/examples/keepalived.conf share/examples/mxlb-refused.conf)
INSTALLED = $(PREFIX)/bin/mxlb $(PREFIX)/sbin/mxlbd \
	$(PREFIX)/share/man/man1/mxlb.1 $(PREFIX)/share/man/man8/mxlbd.8 \
	$(PREFIX)/share/man/man5/mxlb.json.5 \
	$(PREFIX)/share/bash-completion/completions/mxlb \
	$(PREFIX)/share/zsh/vendor-completions/_mxlb \
	$(PREFIX)/share/mxlb/mxlb.schema.json \
	$(EXAMPLES:share/examples/%=$(PREFIX)/share/doc/mxlb/examples/%) \
	$(UNITDIR)/mxlbd@.service
# systemd's place for a package (PREFIX=/usr) is /lib/systemd/system on
# Debian 12; for a local install, under the prefix, where systemd also looks.
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)

install: all $(B)/mxlb.1 $(B)/mxlb.json.5
	install -D -m 755 $(B)/mxlb $(DESTDIR)$(PREFIX)/bin/mxlb
	install -D -m 755 $(B)/mxlbd $(DESTDIR)$(PREFIX)/sbin/mxlbd
	install -D -m 644 $(B)/mxlb.1 $(DESTDIR)$(PREFIX)/share/man/man1/mxlb.1
	install -D -m 644 share/man/mxlbd.8 $(DESTDIR)$(PREFIX)/share/man/man8/mxlbd.8
	install -D -m 644 $(B)/mxlb.json.5 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/mxlb.json.5
	install -D -m 644 completions/mxlb.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mxlb
	install -D -m 644 completions/_mxlb \
	    $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_mxlb
	install -D -m 644 share/mxlb.schema.json \
	    $(DESTDIR)$(PREFIX)/share/mxlb/mxlb.schema.json
	install -d $(DESTDIR)$(PREFIX)/share/doc/mxlb/examples
	install -m 644 $(EXAMPLES) $(DESTDIR)$(PREFIX)/share/doc/mxlb/examples/
	sed 's|"/usr/bin/mxlb |"$(PREFIX)/bin/mxlb |' share/examples/keepalived.conf \
	    > $(DESTDIR)$(PREFIX)/share/doc/mxlb/examples/keepalived.conf
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/mxlbd|$(PREFIX)/sbin/mxlbd|' \
	    share/systemd/mxlbd@.service > $(DESTDIR)$(UNITDIR)/mxlbd@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/mxlbd@.service

# Exactly what install put there, and the directories that are ours alone;
# a directory shared with other software (share/man/man1, bin) stays even
# when it is empty: it was not ours to remove.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(PREFIX)/share/doc/mxlb/examples $(DESTDIR)$(PREFIX)/share/doc/mxlb \
	    $(DESTDIR)$(PREFIX)/share/mxlb

# A Debian package built by the distribution's tools in a copy of the tree
# under $(B)/deb, so that dpkg-buildpackage writes nothing beside the
# checkout; the .deb is $(B)/deb/mxlb_VERSION-N_ARCH.deb.  The copy is
# built as a fresh tree: none of this make's variables (B) reach it.
deb:
	@test "$$(dpkg-parsechangelog -S Version | sed 's/-[^-]*$$//')" = "$(VERSION)" || \
	    { echo "debian/changelog is not at version $(VERSION)" >&2; exit 1; }
	rm -rf $(B)/deb && mkdir -p $(B)/deb/mxlb-$(VERSION)
	tar -cf - --exclude='./build*' --exclude=./.git . | tar -xf - -C $(B)/deb/mxlb-$(VERSION)
	cd $(B)/deb/mxlb-$(VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    dpkg-buildpackage -us -uc -b

deps:
	@share/install-deps

units: $(UNIT_BINS)

.PHONY: sanitize

# Second pass: units and the engine suites under ASan and UBSan, built by
# clang in their own build directory; any report fails.
SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all
SANITIZE = $(MAKE) --no-print-directory B=build-asan CC=clang SAN_BUILD=1 \
	CFLAGS="-O1 -g -fno-omit-frame-pointer $(SAN)" LDFLAGS="$(SAN)"
SAN_SUITES = test-config test-balance test-proxy test-commit test-grammar test-tables test-man \
	test-monitor engine-split engine-hostile engine-unavailable \
	control-commits control-persist conf-reload \
	engine-source engine-transparent \
	test-agent engine-agent engine-workers engine-sockmap
# Suites run a second time with two workers (mxlbd --workers 2).
WORKER_SUITES = engine-postfix engine-greeting engine-passive engine-quit \
	engine-unavailable engine-takeover attack-flood shell-sessions \
	prod-metrics

sanitize:
	@+$(SANITIZE) build-asan/mxlbd build-asan/mxlb units

# The programs and the units built by clang too, in build-clang, with the
# same warnings as errors; make test runs those units as well.
units-clang:
	@$(MAKE) --no-print-directory B=build-clang CC=clang all units
	@set -e; for t in build-clang/tests/test-*; do echo "=== $$t"; $$t; done

# The clang build and its units are a suite of their own (build-clang).
# Builds use every CPU, and suites run as many at a time (tests/run -j):
# make test has a budget.
JOBS := -j$(shell nproc)
test: deps
	@$(MAKE) $(JOBS) --no-print-directory all units
	@tests/run $(JOBS)
	@echo "=== engine suites again, with two workers (MXLBD_WORKERS=2)"
	@MXLBD_WORKERS=2 tests/run $(JOBS) $(WORKER_SUITES)
	@echo "=== fuzz regressions (every input kept in tests/fuzz)"
	@tests/fuzz/regress
	@$(MAKE) $(JOBS) --no-print-directory sanitize
	@echo "=== sanitizer pass (ASan, UBSan)"
	@ASAN_OPTIONS=detect_leaks=1 B=build-asan MXLBD=$(CURDIR)/build-asan/mxlbd \
	    tests/run $(JOBS) $(SAN_SUITES)

# libFuzzer on each harness for FUZZ_SECONDS (60); crashes land in
# tests/fuzz/crashes/ and become regression tests.
fuzz: deps
	@tests/fuzz/run

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/bench.sh
	@tests/bench/scale.sh
	@tests/bench/transparent.sh

# The demo's ports, for a machine where something already listens there.
DEMO_PORT  ?= 2525
DEMO_SINKS ?= 2601 2602

run: deps
	@$(MAKE) --no-print-directory all
	@DEMO_PORT='$(DEMO_PORT)' DEMO_SINKS='$(DEMO_SINKS)' share/examples/demo-run

clean:
	rm -rf $(B)

.PHONY: all deps units units-clang test bench run clean man install uninstall fuzz deb schema
-include $(shell find $(B) -name '*.d' 2>/dev/null)
