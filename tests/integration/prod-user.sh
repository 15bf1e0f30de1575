#!/bin/bash
# Issue 6, test 6: `mxlbd --user nobody` started as root.
#
#  1. It binds a frontend on a port below 1024 (one free in 1000-1023 on
#     127.0.0.1), then runs as nobody: every uid and gid in /proc/PID/status
#     is nobody's, no capability is left, and the listening socket is its.
#  2. It still forwards mail to a sink through that port.
#  3. Its state directory and every file in it belong to nobody; a commit
#     made afterwards (by root, through the shell) is saved as nobody, keeps
#     the low port listening, and mail still flows.  A commit that would need
#     a new port below 1024 is refused with a reason; the engine keeps
#     running the old version.
#  4. Stopped (TERM), it removes its control socket.  Restarted with
#     --user nobody on that state, it comes back with the last version and
#     drops again.  An unknown user is refused at start.
#  5. Without -f it detaches and logs to syslog, facility mail: checked only
#     where a syslog daemon listens on /dev/log and its log can be read;
#     otherwise skipped with the reason.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null	# no zone of this machine's files
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"
[ "$(id -u)" = 0 ] || die "needs root: the engine starts as root and drops to nobody"
NUID=$(id -u nobody 2>/dev/null) || die "no user nobody"
NGID=$(id -g nobody)

# low_port: sets LOW to a port of 1000-1023 that nothing uses on this machine.
low_port() {
	local p
	for p in $(seq 1000 1023); do
		[ "${LOW1:-}" = "$p" ] && continue
		t_port_used "$p" && continue
		LOW=$p
		return 0
	done
	return 1
}
low_port || die "no free port in 1000-1023"
LOW1=$LOW
low_port || die "no second free port in 1000-1023"
LOW2=$LOW
free_port; P1=$PORT
note "low ports $LOW1 and $LOW2; net.ipv4.ip_unprivileged_port_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null)"

cat >"$T_DIR/usr.json" <<EOF
{ "zone": "usr",
  "farms": [ { "name": "mx", "probe": "smtp", "probe-interval": 0.5, "probe-timeout": 1,
               "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "s1" } ] } ],
  "frontends": [ { "name": "in", "bind": "$LOW1", "address": ["127.0.0.1"], "farm": "mx" } ] }
EOF
start_sink "$P1" || die "smtp-sink on $P1 did not start"

# start_user NAME ARGS...: mxlbd -z usr -f --user nobody ARGS, log NAME.log;
# waits for its ready line.
start_user() {
	local name=$1
	shift
	spawn "$name" "$MXLBD" -z usr -f --user nobody "$@"
	ENGINE_PID=$SPAWNED_PID
	ENGINE_LOG=$T_DIR/$name.log
	wait_log "$ENGINE_LOG" " ready zone=usr( |$)" 10
}
# status_field PID FIELD: a line of /proc/PID/status, tabs as spaces.
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null | tr -s '\t ' ' ' | sed 's/ $//'
}
# listener_pid PORT: the PID of what listens on 127.0.0.1:PORT.
listener_pid() {
	ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}
# as_nobody PID: every uid and gid is nobody's, and no capability is left.
as_nobody() {
	local pid=$1 tag=$2
	check_eq "$tag: Uid (real, effective, saved, fs) is nobody's" "$NUID $NUID $NUID $NUID" "$(status_field "$pid" Uid)"
	check_eq "$tag: Gid is nobody's" "$NGID $NGID $NGID $NGID" "$(status_field "$pid" Gid)"
	check_eq "$tag: supplementary groups are nobody's" "$(id -G nobody)" "$(status_field "$pid" Groups)"
	check_eq "$tag: no effective capability" 0000000000000000 "$(status_field "$pid" CapEff)"
	check_eq "$tag: no permitted capability" 0000000000000000 "$(status_field "$pid" CapPrm)"
}
# owned_by_nobody DIR: DIR and everything in it belong to nobody.
owned_by_nobody() {
	[ -d "$1" ] && [ -z "$(find "$1" \( ! -user nobody -o ! -group "$NGID" \) -print 2>/dev/null | head -3)" ]
}
mxc() {
	timeout -k 5 60 "$MXLB" -c "$1" </dev/null >"$T_DIR/mxc.out" 2>"$T_DIR/mxc.err"
}

# --- 1. bind below 1024, then nobody --------------------------------------------

start_user engine -c "$T_DIR/usr.json" || die "engine --user nobody not ready in 10 s: $(tail -3 "$T_DIR/engine.log" | tr '\n' ' ')"
check "listening on 127.0.0.1:$LOW1" wait_port 127.0.0.1 "$LOW1" 3
check_eq "the listener on $LOW1 is the engine" "$ENGINE_PID" "$(listener_pid "$LOW1")"
as_nobody "$ENGINE_PID" "engine"
check "the engine logged the user change" log_has "$ENGINE_LOG" "running as user=nobody uid=$NUID"

# --- 2. mail ------------------------------------------------------------------------------

before=$(sink_count "$P1")
check "smtp-source: 10 messages through port $LOW1" timeout 30 smtp-source -s 2 -m 10 "127.0.0.1:$LOW1"
wait_until 5 eval '[ $(( $(sink_count "$P1") - before )) -ge 10 ]'
check_eq "the sink got the 10 messages" 10 $(( $(sink_count "$P1") - before ))

# --- 3. state -----------------------------------------------------------------------------------

SD=$MXLB_STATEDIR/usr
check "the state dir has files" eval '[ -n "$(find "$SD" -type f | head -1)" ]'
check "the state dir and its files belong to nobody" owned_by_nobody "$SD"
find "$SD" -printf '#   %u:%g %m %P\n' | head -8

mxc 'farm set mx probe-interval 1; zone apply comment "as nobody"'
check_eq "a commit to the engine running as nobody: exit 0" 0 "$?"
check "the commit is logged" wait_log "$ENGINE_LOG" " commit zone=usr version=2 " 3
check "after the commit, the state dir still belongs to nobody" owned_by_nobody "$SD"
check "after the commit, still listening on $LOW1" listening 127.0.0.1 "$LOW1"
before=$(sink_count "$P1")
check "smtp-source after the commit: 5 messages" timeout 30 smtp-source -m 5 "127.0.0.1:$LOW1"
wait_until 5 eval '[ $(( $(sink_count "$P1") - before )) -ge 5 ]'
check_eq "the sink got them" 5 $(( $(sink_count "$P1") - before ))

# A new port below 1024 needs root, which the engine no longer has.
mxc "frontend add in2 zone usr bind $LOW2 address 127.0.0.1 farm mx; zone apply"
rc=$?
check "a commit binding port $LOW2 as nobody is refused (exit non-zero)" test "$rc" -ne 0
note "refusal: $(cat "$T_DIR/mxc.err" "$T_DIR/mxc.out" | tr '\n' ' ')"
check "the refusal says why (permission)" grep -qi 'permission' "$T_DIR/mxc.err"
check "nothing listens on $LOW2" t_not_listening 127.0.0.1 "$LOW2"
mxc 'show zones'
check_eq "the engine still runs version 2" 2 "$(awk '$1 == "usr" { print $3 }' "$T_DIR/mxc.out")"
check "engine still running" alive "$ENGINE_PID"

# --- 4. restart, unknown user -------------------------------------------------------------------

stop_pid "$ENGINE_PID" TERM 10
wait_port_closed 127.0.0.1 "$LOW1" 5
# A clean stop removes the control socket, as it does without --user:
# one left behind reads as an engine not answering (mxlb check: CRITICAL).
check "stopped cleanly: its control socket is removed" test ! -e "$MXLB_RUNDIR/usr.sock"
start_user engine-2 || die "engine --user nobody not ready again in 10 s: $(tail -3 "$T_DIR/engine-2.log" | tr '\n' ' ')"
check "restarted as nobody on its state: version 2 again" log_has "$ENGINE_LOG" " ready zone=usr .*running=2( |$)"
check "restarted: listening on $LOW1 again" wait_port 127.0.0.1 "$LOW1" 3
as_nobody "$ENGINE_PID" "restarted engine"
check "restarted: smtp-source, 3 messages" timeout 30 smtp-source -m 3 "127.0.0.1:$LOW1"
stop_pid "$ENGINE_PID" TERM 10

spawn nouser "$MXLBD" -z usr -f --user no-such-user-mxlb
NOUSER=$SPAWNED_PID
if wait_until 10 t_gone "$NOUSER"; then
	ok "--user no-such-user-mxlb: the engine exits"
else
	fail "--user no-such-user-mxlb: the engine exits" "still running after 10 s"
fi
check "--user no-such-user-mxlb: says there is no such user" log_has "$T_DIR/nouser.log" "no-such-user-mxlb: no such user"
check "--user no-such-user-mxlb: nothing listens on $LOW1" t_not_listening 127.0.0.1 "$LOW1"

# --- 5. syslog without -f --------------------------------------------------------------------------------

# syslog_has TEXT: TEXT in what the syslog daemon wrote for facility mail:
# the journal's SYSLOG_FACILITY=2 where journald runs, else Debian's
# rsyslog file for mail.* (/var/log/mail.log, or maillog elsewhere).
syslog_has() {
	local f
	if [ "$SYSLOG_JOURNAL" = 1 ]; then
		timeout 10 journalctl --no-pager -q -o cat SYSLOG_FACILITY=2 --since "@$SYSLOG_SINCE" 2>/dev/null |
			grep -qF -- "$1" && return 0
	fi
	for f in /var/log/mail.log /var/log/maillog; do
		tail -c 1000000 "$f" 2>/dev/null | grep -qF -- "$1" && return 0
	done
	return 1
}
# mail_log_readable: somewhere syslog_has can look.
mail_log_readable() {
	[ "$SYSLOG_JOURNAL" = 1 ] || [ -r /var/log/mail.log ] || [ -r /var/log/maillog ]
}
SYSLOG_JOURNAL=0
if [ -S /run/systemd/journal/socket ] && command -v journalctl >/dev/null &&
	timeout 10 journalctl --no-pager -q -n 1 >/dev/null 2>&1; then
	SYSLOG_JOURNAL=1
fi
if [ ! -S /dev/log ]; then
	note "syslog part skipped: no syslog daemon here (/dev/log is not a socket)"
else
	SYSLOG_SINCE=$(($(date +%s) - 1))
	ZS=sl$$
	free_port; FES=$PORT
	cat >"$T_DIR/$ZS.json" <<EOF
{ "zone": "$ZS",
  "farms": [ { "name": "mxs", "probe": "tcp", "probe-interval": 1,
               "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "s1" } ] } ],
  "frontends": [ { "name": "ins", "bind": "$FES", "address": ["127.0.0.1"], "farm": "mxs" } ] }
EOF
	timeout -k 5 20 "$MXLBD" -z "$ZS" -c "$T_DIR/$ZS.json" >"$T_DIR/daemon.out" 2>&1 </dev/null
	check_eq "without -f: the starting process exits 0 (detached)" 0 "$?"
	DPID=""
	if wait_port 127.0.0.1 "$FES" 10; then
		DPID=$(listener_pid "$FES")
		[ -n "$DPID" ] && at_exit "stop_pid $DPID TERM 10"
		ok "without -f: the detached engine listens (pid ${DPID:-?})"
	else
		fail "without -f: the detached engine listens" "nothing on $FES in 10 s"
	fi
	check_eq "without -f: nothing written to the terminal" "" "$(cat "$T_DIR/daemon.out")"
	timeout 30 smtp-source -m 1 "127.0.0.1:$FES" >/dev/null 2>&1
	if wait_until 10 syslog_has "ready zone=$ZS "; then
		ok "without -f: the ready line reaches syslog, facility mail"
		check "without -f: a session line reaches syslog, facility mail" \
			wait_until 10 syslog_has "frontend=ins farm=mxs server=s1 "
	elif mail_log_readable; then
		fail "without -f: the ready line reaches syslog, facility mail" \
			"no 'ready zone=$ZS' in 10 s (journal: $SYSLOG_JOURNAL; /var/log/mail.log, /var/log/maillog)"
	else
		note "syslog part skipped: /dev/log is there, but neither the journal nor /var/log/mail.log can be read"
	fi
	[ -n "$DPID" ] && stop_pid "$DPID" TERM 10
fi

finish
