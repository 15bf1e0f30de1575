#!/bin/bash
# Issue 12, Build: the tree as a developer and a packager build it.
#
#  1. `make CC=clang all units` (its own B) builds the engine, the shell and
#     every unit test with the same warnings as errors as gcc, and those
#     units pass; WARN has -Wwrite-strings -Wcast-qual
#     -Wmissing-declarations -Wsign-compare, and tests/fuzz/fuzz.mk compiles
#     the harnesses with that same WARN.
#  2. A unit test depends on the headers it includes: after a change to
#     one only a unit test includes (tests/unit/expect-errs.h), make rebuilds
#     that test.
#  3. pkg-config is asked each question once per make, not once per file.
#  4. _FORTIFY_SOURCE=2 in an optimised build (the default), not at -O0
#     (glibc needs the optimiser for it), not in the sanitizer pass, which
#     clang builds.
. "$(dirname "$0")/../lib.sh"

command -v clang >/dev/null || die "clang is not installed (share/install-deps)"

# mk TAG ARGS...: make in the source tree, bounded; output in $T_DIR/TAG.log.
mk() {
	local tag=$1
	shift
	timeout -k 5 300 make --no-print-directory -C "$T_TOP" "$@" \
	    >"$T_DIR/$tag.log" 2>&1
}

# 1. clang, -Werror, every program and unit test.
CB=$T_DIR/clang
if mk clang -j"$(nproc)" CC=clang B="$CB" all units; then
	ok "make CC=clang all units builds with -Werror"
else
	fail "make CC=clang all units" \
	    "$(grep -m3 -E 'error|warning' "$T_DIR/clang.log")"
fi
n=0 bad=""
for t in "$CB"/tests/test-*; do
	[ -x "$t" ] || continue
	n=$((n + 1))
	timeout -k 5 120 "$t" >"$T_DIR/unit.log" 2>&1 || bad="$bad ${t##*/}"
done
check "clang's unit tests ran ($n)" [ "$n" -ge 10 ]
check "clang's unit tests pass (failed:${bad:- none})" [ -z "$bad" ]

mk flags -n -B B="$T_DIR/n" "$T_DIR/n/engine/util.o"
for w in -Wwrite-strings -Wcast-qual -Wmissing-declarations -Wsign-compare \
    -Werror; do
	check "a compile has $w" grep -q -- " $w\b" "$T_DIR/flags.log"
done
mk fuzzflags -n -f tests/fuzz/fuzz.mk MODE=regress B="$T_DIR/fz" \
    "$T_DIR/fz/regress/fuzz-proxy"
check "fuzz.mk compiles the harnesses with WARN" \
    grep -q -- "-Wcast-qual.*-Werror.*tests/fuzz/fuzz-proxy.c" \
    "$T_DIR/fuzzflags.log"

# 2. A header only the unit tests include.
unit=$CB/tests/test-config
if grep -q '"expect-errs.h"' "$T_TOP/tests/unit/test-config.c"; then
	check "test-config is up to date after the build" \
	    mk q1 -q CC=clang B="$CB" "$unit"
	if mk q2 -q CC=clang B="$CB" -W tests/unit/expect-errs.h "$unit"; then
		fail "a changed expect-errs.h rebuilds test-config" \
		    "make thinks it up to date"
	else
		ok "a changed expect-errs.h rebuilds test-config"
	fi
else
	fail "test-config includes expect-errs.h" "it no longer does: fix the test"
fi

# 3. pkg-config through a wrapper that notes each question.
mkdir -p "$T_DIR/bin"
real=$(command -v pkg-config) || die "pkg-config is not installed"
printf '#!/bin/sh\necho "$*" >> "%s"\nexec "%s" "$@"\n' \
    "$T_DIR/pkg-config.calls" "$real" >"$T_DIR/bin/pkg-config"
chmod +x "$T_DIR/bin/pkg-config"
: >"$T_DIR/pkg-config.calls"
PATH=$T_DIR/bin:$PATH mk pc -n -B B="$T_DIR/pc" all units
calls=$(wc -l <"$T_DIR/pkg-config.calls")
check "make asks pkg-config ($calls calls)" [ "$calls" -ge 1 ]
again=$(sort "$T_DIR/pkg-config.calls" | uniq -d | head -3)
check "no question to pkg-config twice in one make (${again:-none})" \
    [ -z "$again" ]

# 4. Fortified when optimised, by gcc and clang; sanitizer pass by clang.
check "default build: -D_FORTIFY_SOURCE=2" \
    grep -q -- "-D_FORTIFY_SOURCE=2" "$T_DIR/flags.log"
mk o0 -n -B CFLAGS="-O0 -g" B="$T_DIR/n" "$T_DIR/n/engine/util.o"
if grep -q "engine/util.c" "$T_DIR/o0.log" &&
    ! grep -q -- "_FORTIFY_SOURCE" "$T_DIR/o0.log"; then
	ok "-O0: no _FORTIFY_SOURCE"
else
	fail "-O0: no _FORTIFY_SOURCE" "$(grep -m1 util.c "$T_DIR/o0.log")"
fi
check "clang -O0 builds with -Werror" \
    mk o0clang CC=clang CFLAGS="-O0 -g" B="$T_DIR/o0" "$T_DIR/o0/engine/util.o"
mk san -n -B sanitize
if grep -q "^clang .*-fsanitize=address,undefined.*engine/util.c" \
    "$T_DIR/san.log" && ! grep -q "_FORTIFY_SOURCE" "$T_DIR/san.log"; then
	ok "make sanitize compiles with clang, ASan+UBSan, no fortify"
else
	fail "make sanitize compiles with clang, ASan+UBSan, no fortify" \
	    "$(grep -m1 'util.c' "$T_DIR/san.log")"
fi

finish
