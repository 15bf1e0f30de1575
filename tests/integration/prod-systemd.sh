#!/bin/bash
# Issue 6, test 2: `systemd-analyze verify` accepts the installed unit.
#
# The unit is installed with `make install DESTDIR=$T_DIR/root`; a copy has
# its ExecStart pointed at the built engine (verify checks that the program
# exists), and MANPATH names the installed man pages so that the unit's
# Documentation=man:mxlbd(8) man:mxlb(1) is checked too (--man=no only
# when the pages do not render).  verify exits 0 even on unknown keys or bad
# values, so the test asserts that it printed nothing about the unit; a
# broken copy shows that this systemd-analyze does report such lines here.
# The unit also says what the issue asks: user mxlb with
# CAP_NET_BIND_SERVICE, a state directory per zone, the shared run
# directory, the sandboxing; and (issue 13) Type=notify, the engine in the
# foreground logging to syslog with facility mail and tag mxlbd-ZONE.
. "$(dirname "$0")/../lib.sh"

if ! command -v systemd-analyze >/dev/null; then
	note "skipped: systemd-analyze is not installed (no systemd on this machine)"
	finish
fi
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"

R=$T_DIR/root
timeout -k 5 300 make --no-print-directory -C "$T_TOP" install DESTDIR="$R" >"$T_DIR/install.log" 2>&1 ||
	die "make install DESTDIR=$R failed (see $T_DIR/install.log)"
INSTALLED=$R/usr/local/lib/systemd/system/mxlbd@.service
[ -f "$INSTALLED" ] || die "make install put no unit at usr/local/lib/systemd/system/mxlbd@.service"

U=$T_DIR/units
mkdir -p "$U"
sed -E "s#^(ExecStart|ExecReload)=/usr/local/sbin/mxlbd #\1=$MXLBD #" "$INSTALLED" >"$U/mxlbd@.service"
check "the copy's ExecStart runs the built engine" grep -q "^ExecStart=$MXLBD -z %i " "$U/mxlbd@.service"

MANP=$R/usr/local/share/man
MANOPT=()
if ! MANPATH=$MANP timeout 30 man -w 'mxlbd(8)' >/dev/null 2>&1; then
	note "installed man pages not found through MANPATH: verify runs with --man=no"
	MANOPT=(--man=no)
fi

# verify_unit TAG FILE: systemd-analyze verify, bounded; everything it
# printed in $T_DIR/TAG.out, its status in RC.
verify_unit() {
	MANPATH=$MANP SYSTEMD_PAGER=cat SYSTEMD_LOG_COLOR=0 timeout -k 5 60 \
		systemd-analyze verify "${MANOPT[@]}" "$2" >"$T_DIR/$1.out" 2>&1
	RC=$?
}

verify_unit template "$U/mxlbd@.service"
check_eq "systemd-analyze verify mxlbd@.service exits 0" 0 "$RC"
check_eq "systemd-analyze verify says nothing about the unit" "" \
	"$(grep -i 'mxlbd' "$T_DIR/template.out")"
[ -s "$T_DIR/template.out" ] && sed 's/^/# verify: /' "$T_DIR/template.out"

# An instance, as `systemctl start mxlbd@inbound` would load it.
cp "$U/mxlbd@.service" "$U/mxlbd@inbound.service"
verify_unit instance "$U/mxlbd@inbound.service"
check_eq "systemd-analyze verify mxlbd@inbound.service exits 0" 0 "$RC"
check_eq "systemd-analyze verify says nothing about the instance" "" \
	"$(grep -i 'mxlbd' "$T_DIR/instance.out")"
[ -s "$T_DIR/instance.out" ] && sed 's/^/# verify: /' "$T_DIR/instance.out"

# The check itself works here: a broken copy is reported.
sed -e 's/^ProtectSystem=strict/ProtectSystem=bogus/' -e 's/^User=mxlb/User=mxlb\nNoSuchKey=1/' \
	"$U/mxlbd@.service" >"$U/mxlbd-broken@.service"
verify_unit broken "$U/mxlbd-broken@.service"
check "a broken copy is reported (unknown key, bad value)" eval \
	'grep -q "NoSuchKey" "$T_DIR/broken.out" && grep -q "bogus" "$T_DIR/broken.out"'

# What the issue asks of the unit.
u=$U/mxlbd@.service
for kv in "User=mxlb" "AmbientCapabilities=CAP_NET_BIND_SERVICE" "StateDirectory=mxlb/%i" \
	"RuntimeDirectory=mxlb" "ProtectSystem=strict" "NoNewPrivileges=yes" \
	"Type=notify" "SyslogIdentifier=mxlbd-%i" "SyslogFacility=mail"; do
	check "the unit sets $kv" grep -qxF "$kv" "$u"
done
check "ExecStart uses the unit's run and state directories" \
	grep -qE '^ExecStart=.* --rundir /run/mxlb --statedir /var/lib/mxlb( |$)' "$u"
# Issue 13: the engine stays the unit's main process (-f: systemd takes
# its READY=1) and logs through syslog, facility mail (--syslog).
check "ExecStart runs the engine in the foreground, logging to syslog (-f --syslog)" \
	grep -qE '^ExecStart=[^ ]*mxlbd -z %i -f --syslog( |$)' "$u"
check "ExecStart passes --confdir /etc/mxlb (ZONE.json imported on start and reload)" \
	grep -qE '^ExecStart=.* --confdir /etc/mxlb( |$)' "$u"
check "ExecReload is a takeover on the same directories (a restart that refuses no client)" \
	grep -qE '^ExecReload=.* -z %i --takeover --rundir /run/mxlb --statedir /var/lib/mxlb --confdir /etc/mxlb( |$)' "$u"
check "NotifyAccess=all: the new engine may say MAINPID=" grep -qxF "NotifyAccess=all" "$u"
check "Documentation names mxlbd(8) and mxlb(1)" grep -qx 'Documentation=man:mxlbd(8) man:mxlb(1)' "$u"

finish
