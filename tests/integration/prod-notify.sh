#!/bin/bash
# Issue 13, systemd: the engine speaks systemd's notification protocol
# (Type=notify) to the socket named by $NOTIFY_SOCKET, here a private
# AF_UNIX datagram receiver (tests/peers/dgram.py) standing in for systemd.
#
#  1. -f: READY=1 comes once the frontend's port listens (the receiver
#     looks at /proc/net/tcp when the datagram arrives), with a STATUS=
#     that carries the engine's version.
#  2. STATUS= follows the open sessions: a held session shows
#     "1 session open", its end "0 sessions open", each told once.
#  3. SIGHUP: RELOADING=1 (with MONOTONIC_USEC=), then READY=1 again; the
#     engine still serves after it.
#  4. SIGTERM: STOPPING=1, then the engine exits.
#  5. Without -f the engine detaches: it tells MAINPID= with READY=1, the
#     PID of the process that serves the control socket, not the one that
#     was started (which has exited).
#  6. Without $NOTIFY_SOCKET nothing is sent, and a NOTIFY_SOCKET nobody
#     listens on is logged once and does not stop the engine.
#  7. The unit's own ExecStart line (share/systemd/mxlbd@.service, with
#     this test's engine and directories) says READY=1 from the process
#     started, and STOPPING=1.
. "$(dirname "$0")/../lib.sh"

free_port; FE=$PORT
free_port; SINK=$PORT
free_port; FE2=$PORT

# conf ZONE FE-PORT FILE: one frontend in front of the sink, no probe.
conf() {
	cat >"$3" <<EOF
{ "zone": "$1",
  "farms": [ { "name": "mx", "probe": "none",
               "servers": [ { "address": "127.0.0.1", "port": $SINK, "name": "s1" } ] } ],
  "frontends": [ { "name": "in", "bind": "$2", "address": ["127.0.0.1"], "farm": "mx" } ] }
EOF
}

# receiver NAME PORT: a datagram socket at $T_DIR/NAME.sock, datagrams in
# $T_DIR/NAME.msgs; READY=1 datagrams say whether PORT listened.
receiver() {
	spawn "recv-$1" "$T_PY" "$T_PEERS/dgram.py" --port "$2" "$T_DIR/$1.sock" "$T_DIR/$1.msgs"
	wait_until 5 test -S "$T_DIR/$1.sock" || die "receiver $1 did not bind"
	touch "$T_DIR/$1.msgs"
}

# nth_line FILE REGEX: line number of the first line matching REGEX (0 if none).
first_line() {
	local n
	n=$(grep -nE -- "$2" "$1" 2>/dev/null | head -1 | cut -d: -f1)
	echo "${n:-0}"
}

start_sink "$SINK" || die "smtp-sink did not start"
conf nf "$FE" "$T_DIR/nf.json"
receiver sd "$FE"
M=$T_DIR/sd.msgs

# --- 1. READY=1 once listening, STATUS= with the version ---------------------

export NOTIFY_SOCKET=$T_DIR/sd.sock
start_engine "$T_DIR/nf.json" || die "engine did not start"
unset NOTIFY_SOCKET
VERSION=$(kv version "$(grep -E ' ready zone=nf ' "$ENGINE_LOG" | head -1)")
check "the ready log line names a version ($VERSION)" test -n "$VERSION"

check "READY=1 received" wait_log "$M" '(^|\|)READY=1(\||$| )' 5
first=$(grep -E '(^|\|)READY=1(\||$| )' "$M" | head -1)
check "READY=1 came when the frontend port already listened" \
	eval '[[ "$first" == *" #listening=yes" ]]'
check "READY=1 carries STATUS= with the version ($first)" \
	eval '[[ "$first" == *"|STATUS="*"$VERSION"* ]]'
check_eq "READY=1 is the first thing told" 1 "$(first_line "$M" 'READY=1')"
check "no MAINPID= in the foreground (systemd started this very process)" \
	eval '! grep -q MAINPID= "$M"'

# --- 2. STATUS= follows the sessions ---------------------------------------

spawn hold tcp_read 127.0.0.1 "$FE" 3 "$T_DIR/hold.out"
HOLD=$SPAWNED_PID
check "a held session: STATUS= says 1 session open" \
	wait_log "$M" '^STATUS=.*: 1 session open' 4
check "the session over: STATUS= says 0 sessions open" \
	wait_log "$M" '^STATUS=.*: 0 sessions open' 8
check "the held client got the server's greeting" grep -q '^220 ' "$T_DIR/hold.out"
check_eq "each status told once, not every tick" 1 "$(log_count "$M" '^STATUS=.*: 1 session open')"

# --- 3. SIGHUP: RELOADING=1, then READY=1 ----------------------------------

before=$(wc -l <"$M")
kill -HUP "$ENGINE_PID"
check "SIGHUP: READY=1 again" wait_until 5 eval \
	'tail -n +$((before + 1)) "$M" | grep -qE "(^|\|)READY=1(\||$| )"'
tail -n +$((before + 1)) "$M" >"$T_DIR/reload.msgs"
r=$(first_line "$T_DIR/reload.msgs" '(^|\|)RELOADING=1(\||$)')
y=$(first_line "$T_DIR/reload.msgs" '(^|\|)READY=1(\||$| )')
check "SIGHUP: RELOADING=1 first, READY=1 after it (lines $r, $y)" \
	eval '[ "$r" -ge 1 ] && [ "$y" -gt "$r" ]'
check "RELOADING=1 carries MONOTONIC_USEC=" \
	grep -qE '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$' "$T_DIR/reload.msgs"
check "after the reload the frontend still greets" \
	eval '[ "$(tcp_read 127.0.0.1 "$FE" 1 "$T_DIR/after.out")" = timeout ] && grep -q "^220 " "$T_DIR/after.out"'

# --- 4. SIGTERM: STOPPING=1 --------------------------------------------------

kill -TERM "$ENGINE_PID"
check "SIGTERM: STOPPING=1" wait_log "$M" '(^|\|)STOPPING=1(\||$)' 5
check "STOPPING=1 carries STATUS= with the version" \
	eval 'grep -E "(^|\|)STOPPING=1\|" "$M" | grep -qF "STATUS=mxlbd $VERSION "'
check "the engine exits" wait_until 5 t_gone "$ENGINE_PID"
check_eq "STOPPING=1 is the last thing told" "$(wc -l <"$M")" "$(first_line "$M" 'STOPPING=1')"

# --- 5. detached: MAINPID= ---------------------------------------------------

conf nfd "$FE2" "$T_DIR/nfd.json"
receiver sd2 "$FE2"
M2=$T_DIR/sd2.msgs
NOTIFY_SOCKET=$T_DIR/sd2.sock spawn detach "$MXLBD" -z nfd -c "$T_DIR/nfd.json"
STARTED=$SPAWNED_PID
check "detached: READY=1 received" wait_log "$M2" '(^|\|)READY=1(\||$| )' 10
line=$(grep -E '(^|\|)READY=1(\||$| )' "$M2" | head -1)
MAINPID=$(printf '%s\n' "$line" | tr '|' '\n' | sed -n 's/^MAINPID=\([0-9]*\)$/\1/p')
SOCKPID=$(ss -Hxlp src "$MXLB_RUNDIR/nfd.sock" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
if [ -n "$SOCKPID" ]; then
	at_exit "kill -TERM $SOCKPID"
fi
check "detached: MAINPID= with READY=1 ($line)" test -n "$MAINPID"
check "detached: READY=1 when the frontend listened" eval '[[ "$line" == *" #listening=yes" ]]'
check_eq "detached: MAINPID is the engine serving the control socket" "$SOCKPID" "$MAINPID"
check "detached: MAINPID is not the process started (it has exited)" \
	eval '[ "$MAINPID" != "$STARTED" ] && wait_until 5 t_gone "$STARTED"'
if [ -n "$SOCKPID" ]; then
	kill -TERM "$SOCKPID"
	check "detached: STOPPING=1 on SIGTERM" wait_log "$M2" '(^|\|)STOPPING=1(\||$)' 5
	check "detached: the engine exits" wait_until 5 t_gone "$SOCKPID"
fi

# --- 6. no one to tell --------------------------------------------------------

before=$(wc -l <"$M")
start_engine "$T_DIR/nf.json" quiet || die "engine without NOTIFY_SOCKET did not start"
check "without NOTIFY_SOCKET: the frontend greets" \
	eval '[ "$(tcp_read 127.0.0.1 "$FE" 1.5 "$T_DIR/quiet.out")" = timeout ] && grep -q "^220 " "$T_DIR/quiet.out"'
kill -TERM "$ENGINE_PID"
check "without NOTIFY_SOCKET: the engine stops" wait_until 5 t_gone "$ENGINE_PID"
check_eq "without NOTIFY_SOCKET nothing is sent" "$before" "$(wc -l <"$M")"

NOTIFY_SOCKET=$T_DIR/nobody.sock start_engine "$T_DIR/nf.json" nobody ||
	fail "a NOTIFY_SOCKET nobody listens on does not stop the engine" "not ready"
check "a NOTIFY_SOCKET nobody listens on is logged" \
	log_has "$ENGINE_LOG" "notify: $T_DIR/nobody\\.sock: "
check "... and the engine serves" \
	eval '[ "$(tcp_read 127.0.0.1 "$FE" 1.5 "$T_DIR/nobody.out")" = timeout ] && grep -q "^220 " "$T_DIR/nobody.out"'
kill -TERM "$ENGINE_PID"
check "... and stops" wait_until 5 t_gone "$ENGINE_PID"
check_eq "... logged once (not at READY, every STATUS and STOPPING)" 1 "$(log_count "$ENGINE_LOG" 'notify: ')"

# --- 7. the unit's own command line -----------------------------------------

# ExecStart of share/systemd/mxlbd@.service for zone "unit", with the built
# engine and this test's directories: what systemd runs, it runs here.
UNIT=$T_TOP/share/systemd/mxlbd@.service
read -r -a CMD <<<"$(sed -n 's/^ExecStart=//p' "$UNIT" | sed -e "s|^/usr/local/sbin/mxlbd |$MXLBD |" \
	-e 's/%i/unit/g' -e "s| /run/mxlb | $MXLB_RUNDIR |" -e "s| /var/lib/mxlb | $MXLB_STATEDIR |" \
	-e "s| /etc/mxlb | $T_DIR/etc |" -e 's/ \$MXLBD_OPTS$//')"
# (systemd drops an unset $MXLBD_OPTS; no file in the test's confdir.)
note "the unit's ExecStart here: ${CMD[*]}"
receiver sd3 "$FE"
NOTIFY_SOCKET=$T_DIR/sd3.sock spawn unit "${CMD[@]}"
UPID=$SPAWNED_PID
check "the unit's ExecStart: READY=1 from the process systemd started, no MAINPID=" \
	eval 'wait_log "$T_DIR/sd3.msgs" "^READY=1\|STATUS=mxlbd $VERSION zone unit: " 10 && ! grep -q MAINPID= "$T_DIR/sd3.msgs"'
check "... and it is the process serving the zone's control socket" \
	eval '[ "$(ss -Hxlp src "$MXLB_RUNDIR/unit.sock" | grep -o "pid=[0-9]*" | head -1)" = "pid=$UPID" ]'
kill -TERM "$UPID"
check "... STOPPING=1 on SIGTERM" wait_log "$T_DIR/sd3.msgs" '(^|\|)STOPPING=1(\||$)' 5
check "... and it exits" wait_until 5 t_gone "$UPID"

finish
