#!/bin/bash
# Issue 6, test 1: install and documentation, as a packager meets them.
#
#  1. `make install DESTDIR=$T_DIR/root` (PREFIX default /usr/local) puts
#     every file where the issue says, and nothing elsewhere: bin/mxlb,
#     sbin/mxlbd, share/man/man1/mxlb.1, share/man/man8/mxlbd.8, the bash
#     and zsh completions, share/doc/mxlb/examples/ with every example script
#     (share/examples/*.mxlb), keepalived.conf and the fail2ban filter
#     mxlb-refused.conf, and
#     PREFIX/lib/systemd/system/mxlbd@.service (systemd's local unit place)
#     with ExecStart at PREFIX/sbin/mxlbd.
#     The installed programs are the built ones, and run from there.
#  2. `MANWIDTH=80 man --warnings -l` renders both pages with no warning;
#     mxlb(1) carries the command reference (every command `mxlb help`
#     lists, each with an example); mxlbd(8) documents its options and the
#     session log line.
#     Issue 13: mxlb.json(5), the config file's page, is installed
#     (share/man/man5/mxlb.json.5, the one make built), `man` finds it by
#     name, it renders with no warning, and its FARMS, SERVERS and FRONTENDS
#     sections list exactly the fields `mxlbd --schema` has for each object
#     (and ZONE the top level's), each with its JSON type, an Allowed line
#     and the schema's default and integer range; its example passes
#     `mxlbd -n`.  mxlbd(8) has EXIT STATUS, ENVIRONMENT (MXLB_RUNDIR,
#     MXLB_STATEDIR, MXLB_CONFDIR, NOTIFY_SOCKET), FILES, METRICS and
#     EXAMPLES sections.
#  3. `make uninstall DESTDIR=...` leaves no file.
#  4. PREFIX=/usr: the same under usr/, ExecStart=/usr/sbin/mxlbd; uninstall
#     removes exactly what install put there (a file of someone else's in
#     the same tree stays, and so do directories that were there before,
#     even empty ones); the unit goes to /lib/systemd/system, where Debian
#     12's packages put theirs.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null	# no zone of this machine's files
command -v man >/dev/null || die "man is not installed (share/install-deps installs man-db)"

# mk TAG ARGS...: make in the source tree, bounded; output in $T_DIR/TAG.log.
mk() {
	local tag=$1
	shift
	timeout -k 5 300 make --no-print-directory -C "$T_TOP" "$@" >"$T_DIR/$tag.log" 2>&1
}

# files DIR: every file under DIR, relative, sorted.
files() {
	(cd "$1" && find . -type f -o -type l) | sed 's|^\./||' | LC_ALL=C sort
}

# expected PREFIX (no leading slash): the files the issue names.
expected() {
	local p=$1 f
	{
		echo "$p/bin/mxlb"
		echo "$p/sbin/mxlbd"
		echo "$p/share/man/man1/mxlb.1"
		echo "$p/share/man/man8/mxlbd.8"
		echo "$p/share/man/man5/mxlb.json.5"
		echo "$p/share/bash-completion/completions/mxlb"
		echo "$p/share/zsh/vendor-completions/_mxlb"
		echo "$p/share/mxlb/mxlb.schema.json"
		if [ "$p" = usr ]; then
			echo "lib/systemd/system/mxlbd@.service"
		else
			echo "$p/lib/systemd/system/mxlbd@.service"
		fi
		for f in "$T_TOP"/share/examples/*.mxlb "$T_TOP"/share/examples/keepalived.conf \
			"$T_TOP"/share/examples/mxlb-refused.conf; do
			echo "$p/share/doc/mxlb/examples/$(basename "$f")"
		done
	} | LC_ALL=C sort
}

# documented PATH: under one of the places the issue names.
documented() {
	case $1 in
	usr/local/bin/mxlb | usr/local/sbin/mxlbd | usr/bin/mxlb | usr/sbin/mxlbd) return 0 ;;
	usr/local/share/man/man[158]/* | usr/share/man/man[158]/*) return 0 ;;
	usr/local/share/bash-completion/completions/* | usr/share/bash-completion/completions/*) return 0 ;;
	usr/local/share/zsh/vendor-completions/* | usr/share/zsh/vendor-completions/*) return 0 ;;
	usr/local/share/doc/mxlb/* | usr/share/doc/mxlb/*) return 0 ;;
	usr/local/share/mxlb/* | usr/share/mxlb/*) return 0 ;;
	lib/systemd/system/mxlbd* | usr/local/lib/systemd/system/mxlbd*) return 0 ;;
	esac
	return 1
}

# --- 1. install, PREFIX=/usr/local ------------------------------------------

R=$T_DIR/root
P=usr/local
if mk install install DESTDIR="$R"; then
	ok "make install DESTDIR=... exits 0"
else
	tail -5 "$T_DIR/install.log" | sed 's/^/#   /'
	die "make install DESTDIR=$R failed"
fi
files "$R" >"$T_DIR/installed.txt"
expected "$P" >"$T_DIR/expected.txt"
missing=$(LC_ALL=C comm -13 "$T_DIR/installed.txt" "$T_DIR/expected.txt")
check_eq "every file the issue names is installed" "" "$missing"
stray=""
while read -r f; do
	documented "$f" || stray="$stray $f"
done <"$T_DIR/installed.txt"
check_eq "no file installed outside the documented places" "" "${stray# }"
note "$(wc -l <"$T_DIR/installed.txt") files installed"

for f in $P/bin/mxlb $P/sbin/mxlbd; do
	check_eq "$f is mode 755" 755 "$(stat -c %a "$R/$f" 2>/dev/null)"
done
for f in $P/share/man/man1/mxlb.1 $P/share/man/man8/mxlbd.8 $P/share/man/man5/mxlb.json.5 \
	$P/share/bash-completion/completions/mxlb $P/share/zsh/vendor-completions/_mxlb \
	$P/lib/systemd/system/mxlbd@.service; do
	check_eq "$f is mode 644" 644 "$(stat -c %a "$R/$f" 2>/dev/null)"
done
check "installed mxlb is the built one" cmp -s "$T_TOP/build/mxlb" "$R/$P/bin/mxlb"
check "installed mxlbd is the built one" cmp -s "$T_TOP/build/mxlbd" "$R/$P/sbin/mxlbd"
check "installed mxlb runs (help)" eval 'MXLB_RUNDIR=$T_DIR/empty timeout 10 "$R/$P/bin/mxlb" -c help >/dev/null 2>&1'
check "installed mxlbd checks the installed demo.json (-n)" \
	eval 'timeout 10 "$R/$P/sbin/mxlbd" -n -c "$R/$P/share/doc/mxlb/examples/demo.json" >/dev/null 2>&1'
for f in "$T_TOP"/share/examples/*.mxlb; do
	b=$(basename "$f")
	check "example $b installed unchanged" cmp -s "$f" "$R/$P/share/doc/mxlb/examples/$b"
done
check "the fail2ban filter mxlb-refused.conf installed unchanged" \
	cmp -s "$T_TOP/share/examples/mxlb-refused.conf" "$R/$P/share/doc/mxlb/examples/mxlb-refused.conf"
KA=$R/$P/share/doc/mxlb/examples/keepalived.conf
check "keepalived.conf's track script runs the installed mxlb" \
	grep -q '^ *script "/usr/local/bin/mxlb check ' "$KA"
check_eq "keepalived.conf differs from the source in that path only" "" \
	"$(sed 's|/usr/local/bin/mxlb|/usr/bin/mxlb|' "$KA" | diff - "$T_TOP/share/examples/keepalived.conf")"
if command -v keepalived >/dev/null; then
	# keepalived -t wants the script to exist: the built mxlb stands in.
	sed "s|\"/usr/local/bin/mxlb |\"$R/$P/bin/mxlb |" "$KA" >"$T_DIR/keepalived.conf"
	check "keepalived -t accepts the example" \
		eval 'timeout 30 keepalived -t -f "$T_DIR/keepalived.conf" >"$T_DIR/keepalived-t.log" 2>&1'
else
	note "keepalived is not installed: keepalived -t not run"
fi
check "bash completion installed unchanged" cmp -s "$T_TOP/completions/mxlb.bash" "$R/$P/share/bash-completion/completions/mxlb"
check "zsh completion installed unchanged" cmp -s "$T_TOP/completions/_mxlb" "$R/$P/share/zsh/vendor-completions/_mxlb"

UNIT=$R/$P/lib/systemd/system/mxlbd@.service
check_eq "unit's ExecStart runs /usr/local/sbin/mxlbd" "/usr/local/sbin/mxlbd" \
	"$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$UNIT" 2>/dev/null)"

# --- 2. man pages -----------------------------------------------------------

M1=$R/$P/share/man/man1/mxlb.1
M8=$R/$P/share/man/man8/mxlbd.8
M5=$R/$P/share/man/man5/mxlb.json.5
check "mxlb.1 has no placeholder left (@...@)" eval '! grep -q "@[A-Z]*@" "$M1"'
VERSION=$(sed -n 's/^VERSION *= *//p' "$T_TOP/sources.mk")
check_eq "mxlb.1's header carries the version" "mxlb $VERSION" \
	"$(sed -n 's/^\.TH MXLB 1 "[^"]*" "\([^"]*\)".*/\1/p' "$M1")"

# render NAME FILE: man -l at 80 columns with groff's warnings on; the page
# in $T_DIR/NAME.txt, whatever man or groff said on stderr in NAME.err.
render() {
	MANWIDTH=80 LC_ALL=C.UTF-8 timeout -k 5 60 \
		man --warnings -l "$2" >"$T_DIR/$1.txt" 2>"$T_DIR/$1.err"
}
for page in mxlb.1:"$M1" mxlbd.8:"$M8" mxlb.json.5:"$M5"; do
	name=${page%%:*}
	file=${page#*:}
	if render "$name" "$file"; then
		ok "man -l $name exits 0"
	else
		fail "man -l $name exits 0" "exit $?"
	fi
	check_eq "man --warnings -l $name: no warning" "" "$(cat "$T_DIR/$name.err")"
	check "man -l $name renders text" test "$(wc -l <"$T_DIR/$name.txt")" -gt 50
done

# The rendered page with its whitespace collapsed (justification doubles
# spaces) and its hyphenated line ends joined, one line per text line.
flat() {
	sed -e 's/[[:space:]]\+/ /g' -e 's/^ //' "$1" |
		awk '{ if (sub(/‐$/, "")) { printf "%s", $0; next } print }'
}
flat "$T_DIR/mxlb.1.txt" >"$T_DIR/mxlb.1.flat"
check "mxlb(1) has the command reference (farm add NAME zone ZONE)" \
	grep -q '^farm add NAME zone ZONE ' "$T_DIR/mxlb.1.flat"

# Every command `mxlb help` lists, up to its first optional part, heads an
# entry of the reference.
MXLB_RUNDIR=$T_DIR/empty timeout 10 "$MXLB" -c help >"$T_DIR/help.txt" 2>&1
grep -E '^[a-z]' "$T_DIR/help.txt" | grep -v '^Words may' |
	sed -e 's/ \[.*//' >"$T_DIR/commands.txt"
ncmd=$(wc -l <"$T_DIR/commands.txt")
check "mxlb help lists commands (got $ncmd)" test "$ncmd" -ge 20
absent=""
while read -r c; do
	awk -v c="$c" '$0 == c || index($0, c " ") == 1 { f = 1 } END { exit !f }' \
		"$T_DIR/mxlb.1.flat" || absent="$absent; $c"
done <"$T_DIR/commands.txt"
check_eq "every command of mxlb help is in mxlb(1)" "" "${absent#; }"
nex=$(grep -c '^Example: ' "$T_DIR/mxlb.1.flat")
check "each command has an example in mxlb(1) ($nex examples, $ncmd commands)" test "$nex" -ge "$ncmd"
for s in "mxlb check" "mxlb bridge ZONE" "/etc/mxlb/zones" "--warn-down"; do
	check "mxlb(1) mentions $s" grep -qF -- "$s" "$T_DIR/mxlb.1.flat"
done

flat "$T_DIR/mxlbd.8.txt" >"$T_DIR/mxlbd.8.flat"
for s in "--metrics ADDR:PORT" "--user USER" "--rundir DIR" "--statedir DIR" \
	"session client=" "facility mail" "mxlbd@.service" \
	"--hostname NAME" "--syslog" "frontend_addr" "redispatch" "mxlb-refused.conf" \
	"READY=1" "--confdir DIR" "/etc/mxlb/ZONE.json"; do
	check "mxlbd(8) documents $s" grep -qF -- "$s" "$T_DIR/mxlbd.8.flat"
done

for s in "EXIT STATUS" "ENVIRONMENT" "FILES" "EXAMPLES" "METRICS"; do
	check "mxlbd(8) has the section $s" grep -qx "$s" "$T_DIR/mxlbd.8.txt"
done
for s in MXLB_RUNDIR MXLB_STATEDIR MXLB_CONFDIR NOTIFY_SOCKET XDG_RUNTIME_DIR \
	"mxlb.json(5)" "/var/lib/mxlb/ZONE/state.json" "mxlb_build_info" \
	"mxlb_server_checks_total" "mxlb_server_maxconn"; do
	check "mxlbd(8) documents $s" grep -qF -- "$s" "$T_DIR/mxlbd.8.flat"
done

# The config file's page: built by make from the engine's field table.
check "mxlb.json.5 installed is the one make built" cmp -s "$T_TOP/build/mxlb.json.5" "$M5"
check_eq "mxlb.json.5 installed is mxlbd --man-config's output" "" \
	"$("$R/$P/sbin/mxlbd" --man-config | diff - "$M5")"
check_eq "man finds mxlb.json(5) by name in the installed tree" "$M5" \
	"$(MANPATH=$R/$P/share/man timeout 10 man -w 5 mxlb.json 2>&1)"
check_eq "mxlb.json.5's header carries the version" "mxlb $VERSION" \
	"$(sed -n 's/^\.TH MXLB\.JSON 5 "[^"]*" "\([^"]*\)".*/\1/p' "$M5")"
"$R/$P/sbin/mxlbd" --schema >"$T_DIR/schema.json"
check_eq "mxlb.json(5) lists every field of mxlbd --schema, and only those, with type, range, default" "" \
	"$("$T_PY" - "$T_DIR/mxlb.json.5.txt" "$T_DIR/schema.json" <<'PY'
import json, re, sys
text, schema = open(sys.argv[1]).read().splitlines(), json.load(open(sys.argv[2]))
# Items of each section: a line indented 7 spaces starts one.
sections, cur, item = {}, None, None
for line in text:
    if re.match(r"^[A-Z][A-Z ]+$", line):
        cur, item = line, None
        sections[cur] = {}
        continue
    m = re.match(r"^ {7}(\S+)(.*)$", line)
    if cur and m:
        item = m.group(1)
        sections[cur][item] = m.group(2)
    elif cur and item and line.strip():
        sections[cur][item] += " " + line.strip()
farm = schema["properties"]["farms"]["items"]
objs = {"ZONE": schema["properties"], "FARMS": farm["properties"],
        "SERVERS": farm["properties"]["servers"]["items"]["properties"],
        "FRONTENDS": schema["properties"]["frontends"]["items"]["properties"]}
probs = []
for sec, props in objs.items():
    got = sections.get(sec, {})
    if sorted(got) != sorted(props):
        probs.append("%s: page %s, schema %s" % (sec, sorted(got), sorted(props)))
        continue
    for key, p in props.items():
        body = re.sub(r"\s+", " ", got[key].replace("\u2010 ", ""))
        alt = p.get("anyOf", [p])[0]
        t = alt.get("type")
        if t != "array" and "Allowed:" not in body:
            probs.append("%s %s: no Allowed line" % (sec, key))
        if t in ("integer", "boolean", "string", "array") and "(%s" % t not in body:
            probs.append("%s %s: type %s not said: %s" % (sec, key, t, body[:60]))
        if t == "number" and "(number, seconds)" not in body:
            probs.append("%s %s: not said to be seconds" % (sec, key))
        if t == "integer" and "Allowed: %d-%d." % (alt["minimum"], alt["maximum"]) not in body:
            probs.append("%s %s: range %d-%d not said" % (sec, key, alt["minimum"], alt["maximum"]))
        if "enum" in alt and not all(e in body for e in alt["enum"]):
            probs.append("%s %s: values %s not all said" % (sec, key, alt["enum"]))
        if "default" in alt:
            d = alt["default"]
            d = ("%g" % d) if isinstance(d, (int, float)) else d
            if "Default: %s" % d not in body:
                probs.append("%s %s: default %s not said" % (sec, key, d))
for p in probs[:10]:
    print(p)
PY
)"
"$T_PY" - "$T_DIR/mxlb.json.5.txt" >"$T_DIR/man-example.json" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
i = lines.index("EXAMPLE")
body = [l for l in lines[i + 1:] if l.startswith("       ")]
start = next(n for n, l in enumerate(body) if l.strip() == "{")
end = next(n for n, l in enumerate(body) if l.strip() == "}")
print("\n".join(l[7:] for l in body[start:end + 1]))
PY
check "mxlb.json(5)'s example passes mxlbd -n" \
	eval 'timeout 10 "$R/$P/sbin/mxlbd" -n -c "$T_DIR/man-example.json" >"$T_DIR/man-example.out" 2>&1'

# --- 3. uninstall -------------------------------------------------------------

if mk uninstall uninstall DESTDIR="$R"; then
	ok "make uninstall DESTDIR=... exits 0"
else
	fail "make uninstall DESTDIR=... exits 0" "$(tail -3 "$T_DIR/uninstall.log" | tr '\n' ' ')"
fi
check_eq "make uninstall leaves no file" "" "$(cd "$R" 2>/dev/null && find . -type f -o -type l)"

# --- 4. PREFIX=/usr -------------------------------------------------------------

R2=$T_DIR/root-usr
mkdir -p "$R2/usr/bin" "$R2/usr/share/doc/other" "$R2/usr/share/man/man1"
echo keep >"$R2/usr/bin/other-tool"
echo keep >"$R2/usr/share/doc/other/README"
if mk install-usr install PREFIX=/usr DESTDIR="$R2"; then
	ok "make install PREFIX=/usr DESTDIR=... exits 0"
else
	tail -5 "$T_DIR/install-usr.log" | sed 's/^/#   /'
	fail "make install PREFIX=/usr DESTDIR=... exits 0" "see $T_DIR/install-usr.log"
fi
files "$R2" | grep -vxE 'usr/bin/other-tool|usr/share/doc/other/README' >"$T_DIR/installed-usr.txt"
expected usr >"$T_DIR/expected-usr.txt"
check_eq "PREFIX=/usr: every file where the issue says" "" \
	"$(LC_ALL=C comm -13 "$T_DIR/installed-usr.txt" "$T_DIR/expected-usr.txt")"
check_eq "PREFIX=/usr: nothing under usr/local" "" "$(cd "$R2" && find usr/local -type f 2>/dev/null)"
check_eq "PREFIX=/usr: unit's ExecStart runs /usr/sbin/mxlbd" "/usr/sbin/mxlbd" \
	"$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$R2/lib/systemd/system/mxlbd@.service" 2>/dev/null)"
check_eq "PREFIX=/usr: no other path to mxlbd in the unit" "" \
	"$(grep -n 'local' "$R2/lib/systemd/system/mxlbd@.service" 2>/dev/null)"
mk uninstall-usr uninstall PREFIX=/usr DESTDIR="$R2" ||
	fail "make uninstall PREFIX=/usr exits 0" "$(tail -3 "$T_DIR/uninstall-usr.log" | tr '\n' ' ')"
check_eq "PREFIX=/usr: uninstall removes exactly what install put there" \
	"usr/bin/other-tool usr/share/doc/other/README" "$(files "$R2" | tr '\n' ' ' | sed 's/ $//')"
check "PREFIX=/usr: uninstall keeps a directory that was there before it (usr/share/man/man1)" \
	test -d "$R2/usr/share/man/man1"
check_eq "PREFIX=/usr: uninstall removes its own doc directory" "" \
	"$(ls -d "$R2/usr/share/doc/mxlb" 2>/dev/null)"

finish
