#!/bin/bash
# run: alone (it installs the package on the system)
# Issue 13, packaging: `make deb` builds a real Debian package with the
# distribution's tools, lintian finds nothing to say that debian/ does not
# override with a reason, and the package installs, runs, removes and
# purges as a Debian admin expects:
#
#  1. make deb (dpkg-buildpackage -us -uc -b in a copy of the tree) gives
#     mxlb_VERSION-1_ARCH.deb; lintian reports no error and no warning.
#  2. dpkg -i: the programs, man pages (mxlb.json(5) too), completions, examples, the unit in
#     /lib/systemd/system and /etc/mxlb/zones (a conffile) are in place and
#     owned by root; the system user and group mxlb exist; /var/lib/mxlb is
#     mxlb:mxlb 0750; mxlbd --version names the package's version; the
#     installed engine checks the installed demo config; keepalived -t
#     accepts the installed keepalived example.
#  3. dpkg -r keeps the conffile and the zones' state; dpkg -P removes them
#     and the user, and the file tree is what it was before the install.
#
# A machine where a package called mxlb is already installed is not
# touched: the install half is skipped with a note.
. "$(dirname "$0")/../lib.sh"

for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null ||
		die "$tool is not installed (share/install-deps installs it)"
done
VERSION=$(sed -n 's/^VERSION *= *//p' "$T_TOP/sources.mk")
ARCH=$(dpkg --print-architecture)

# --- 1. build and lintian ---------------------------------------------------

B=$T_DIR/build
# The units run under make test already: the package build skips them,
# and builds on every CPU.
if DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" timeout -k 5 600 \
	make --no-print-directory -C "$T_TOP" deb B="$B" >"$T_DIR/deb.log" 2>&1; then
	ok "make deb exits 0"
else
	tail -8 "$T_DIR/deb.log" | sed 's/^/#   /'
	die "make deb failed (see $T_DIR/deb.log)"
fi
DEB=$B/deb/mxlb_$VERSION-1_${ARCH}.deb
check "make deb wrote mxlb_$VERSION-1_$ARCH.deb" test -s "$DEB"
check_eq "the package's version is the Makefile's" "$VERSION-1" \
	"$(dpkg-deb -f "$DEB" Version 2>/dev/null)"
check_eq "nothing was written beside the checkout" "" \
	"$(ls "$T_TOP"/../mxlb_* "$T_TOP"/../mxlb-dbgsym_* 2>/dev/null)"

timeout -k 5 300 lintian --fail-on none "$B/deb/mxlb_$VERSION-1_$ARCH.changes" \
	>"$T_DIR/lintian.txt" 2>&1
grep -E '^[EW]: ' "$T_DIR/lintian.txt" >"$T_DIR/lintian-ew.txt"
check_eq "lintian: no error and no warning" "" "$(cat "$T_DIR/lintian-ew.txt")"
check "lintian ran over the package (it names no unknown file)" \
	eval '! grep -q "^E: .*no such file\|^ERROR" "$T_DIR/lintian.txt"'

# --- 2. install ---------------------------------------------------------------

if dpkg-query -W -f='${Status}' mxlb 2>/dev/null | grep -q 'installed'; then
	note "skipped the install: a package called mxlb is already installed here"
	finish
fi
if getent passwd mxlb >/dev/null || getent group mxlb >/dev/null; then
	note "skipped the install: a user or group mxlb exists without the package"
	finish
fi

# tree: every path under the places a package touches, minus dpkg's and
# apt's own books and caches, sorted.
tree() {
	find /etc /lib /usr /var/lib -xdev 2>/dev/null |
		grep -vE '^/var/lib/(dpkg|apt|systemd|ucf)(/|$)|^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|^/etc/(\.pwd|passwd|group|shadow|gshadow|subuid|subgid)\.lock$' |
		LC_ALL=C sort
}
tree >"$T_DIR/tree-before.txt"
at_exit 'dpkg -P mxlb >/dev/null 2>&1'

if timeout -k 5 120 dpkg -i "$DEB" >"$T_DIR/dpkg-i.log" 2>&1; then
	ok "dpkg -i installs the package"
else
	tail -5 "$T_DIR/dpkg-i.log" | sed 's/^/#   /'
	die "dpkg -i failed"
fi
for f in /usr/bin/mxlb /usr/sbin/mxlbd /usr/share/man/man1/mxlb.1.gz \
	/usr/share/man/man8/mxlbd.8.gz /usr/share/man/man5/mxlb.json.5.gz \
	/usr/share/bash-completion/completions/mxlb \
	/usr/share/zsh/vendor-completions/_mxlb /usr/share/doc/mxlb/examples/demo.json \
	/usr/share/mxlb/mxlb.schema.json \
	/usr/share/doc/mxlb/examples/keepalived.conf /usr/share/doc/mxlb/copyright \
	/lib/systemd/system/mxlbd@.service /etc/mxlb/zones; do
	check_eq "$f is in place, owned by root" "root:root" "$(stat -c %U:%G "$f" 2>/dev/null)"
done
check_eq "/usr/sbin/mxlbd is mode 755" 755 "$(stat -c %a /usr/sbin/mxlbd 2>/dev/null)"
check "/etc/mxlb/zones is a conffile" \
	eval 'dpkg-query -W -f="\${Conffiles}" mxlb | grep -q "^ /etc/mxlb/zones "'
check_eq "the unit runs /usr/sbin/mxlbd" "/usr/sbin/mxlbd" \
	"$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' /lib/systemd/system/mxlbd@.service)"
uid=$(getent passwd mxlb | cut -d: -f3)
check "the system user mxlb exists (uid ${uid:-none})" test -n "$uid"
[ -n "$uid" ] && check "mxlb is a system user (uid $uid below 1000)" test "$uid" -lt 1000
check "the group mxlb exists" eval 'getent group mxlb >/dev/null'
check_eq "mxlb's shell is nologin" /usr/sbin/nologin "$(getent passwd mxlb | cut -d: -f7)"
check_eq "/var/lib/mxlb is mxlb:mxlb 750" "mxlb:mxlb 750" \
	"$(stat -c '%U:%G %a' /var/lib/mxlb 2>/dev/null)"
check_eq "mxlbd --version names the package's version" "mxlbd $VERSION" \
	"$(timeout 10 /usr/sbin/mxlbd --version 2>&1 | head -1)"
check "the installed mxlbd checks the installed demo config" \
	eval 'timeout 10 /usr/sbin/mxlbd -n -c /usr/share/doc/mxlb/examples/demo.json >/dev/null 2>&1'
check "man finds mxlbd(8)" eval 'timeout 30 man -w mxlbd >/dev/null 2>&1'
check_eq "man finds mxlb.json(5), the config file's page" /usr/share/man/man5/mxlb.json.5.gz \
	"$(timeout 30 man -w 5 mxlb.json 2>&1)"
if command -v keepalived >/dev/null; then
	check "keepalived -t accepts the installed keepalived example" \
		eval 'timeout 30 keepalived -t -f /usr/share/doc/mxlb/examples/keepalived.conf >"$T_DIR/keepalived-t.log" 2>&1'
fi

# --- 3. remove, purge ---------------------------------------------------------

echo "# an admin's note" >>/etc/mxlb/zones
mkdir -p /var/lib/mxlb/inbound
check "dpkg -r removes the package" eval 'timeout -k 5 120 dpkg -r mxlb >"$T_DIR/dpkg-r.log" 2>&1'
check "dpkg -r removes the programs" eval '! test -e /usr/sbin/mxlbd && ! test -e /usr/bin/mxlb'
check "dpkg -r keeps the edited conffile" grep -q "an admin's note" /etc/mxlb/zones
check "dpkg -r keeps the zones' state" test -d /var/lib/mxlb/inbound
check "dpkg -P purges the package" eval 'timeout -k 5 120 dpkg -P mxlb >"$T_DIR/dpkg-p.log" 2>&1'
check "after purge, no user mxlb" eval '! getent passwd mxlb >/dev/null'
check "after purge, no group mxlb" eval '! getent group mxlb >/dev/null'
check "after purge, dpkg knows no mxlb" eval '! dpkg-query -W mxlb >/dev/null 2>&1'
tree >"$T_DIR/tree-after.txt"
check_eq "after purge, nothing is left behind" "" \
	"$(LC_ALL=C comm -3 "$T_DIR/tree-before.txt" "$T_DIR/tree-after.txt" | head -20)"

finish
