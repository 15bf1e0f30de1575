#!/bin/bash
# run: alone (it makes the system's /dev/log)
# Issue 13, logs: what an MX admin greps for, where he looks for it.
#
#  1. The session line (engine -f, stderr) has HAProxy tcplog's facts as
#     key=value, the old keys first: client, frontend, farm, server,
#     frontend_addr, server_addr, source, accept, queue, connect, redispatch,
#     bytes_in, bytes_out, duration, end; each checked against what the
#     test did (a plain session, one that waited in a queue, one
#     redispatched from a dead server, refusals).
#  2. --hostname NAME: the 421 line names NAME; an invalid name is refused
#     at start with a clear error.
#  3. Refusals are one line each with the client and the reason; the
#     shipped fail2ban filter (share/examples/mxlb-refused.conf), run by
#     fail2ban-regex on the engine's real lines, counts the source-maxconn
#     and source-rate refusals (IPv4 and IPv6) and nothing else.
#  4. With no /dev/log, `mxlbd -z Z` (no -f) warns on stderr that its log
#     would be lost, and runs (stopped by the PID that serves its control
#     socket); -f --syslog warns too; plain -f does not.
#  5. A private /dev/log (a datagram receiver made by the test, removed at
#     exit; skipped when the machine has a /dev/log of its own): -f
#     --syslog sends every line there with PRI mail*8+severity (info for
#     sessions, ready and stop, err for a refused reload), the tag
#     mxlbd-ZONE[PID], and no timestamp of the engine's own in the message;
#     nothing is doubled on stderr; fail2ban-regex on those lines, as a
#     syslog daemon writes them to mail.log, finds the same refusals.
#  6. On stderr the level says what happened, as in Postfix's logs: routine
#     lines (ready, sessions, a commit) have none, a server's admin state
#     change starts "notice: ", a refused commit "err: ".
. "$(dirname "$0")/../lib.sh"

command -v fail2ban-regex >/dev/null || die "fail2ban-regex is not installed (share/install-deps)"
FILTER=$T_TOP/share/examples/mxlb-refused.conf
HOST=mx-$$.logs.example
DEVLOG_WAS=0
[ -e /dev/log ] && DEVLOG_WAS=1

free_port; FE=$PORT		# farm q: s1 with maxconn 1 (the queue)
free_port; FE_RD=$PORT		# farm rd: dead first, then s1 (redispatch)
free_port; FE_LIM=$PORT		# source-maxconn 1
free_port; FE_RATE=$PORT	# source-rate 2
free_port; FE_DEAD=$PORT	# farm dead: no server answers (no-server)
free_port; FE_V6=$PORT		# ::1, source-rate 1
free_port; FE_W=$PORT		# the warning test's zone
free_port; SINK=$PORT
free_port; DEAD=$PORT		# nothing listens here

cat >"$T_DIR/lg.json" <<EOF
{ "zone": "lg",
  "farms": [
    { "name": "q", "probe": "none", "queue-timeout": 10,
      "servers": [ { "address": "127.0.0.1", "port": $SINK, "name": "s1", "maxconn": 1 } ] },
    { "name": "rd", "probe": "none", "balance": "first", "connect-timeout": 2,
      "servers": [ { "address": "127.0.0.1", "port": $DEAD, "name": "gone" },
                   { "address": "127.0.0.1", "port": $SINK, "name": "s1" } ] },
    { "name": "open", "probe": "none",
      "servers": [ { "address": "127.0.0.1", "port": $SINK, "name": "s1" } ] },
    { "name": "dead", "probe": "none", "connect-timeout": 2,
      "servers": [ { "address": "127.0.0.1", "port": $DEAD, "name": "gone" } ] } ],
  "frontends": [
    { "name": "in", "bind": "$FE", "address": ["127.0.0.1"], "farm": "q" },
    { "name": "rd", "bind": "$FE_RD", "address": ["127.0.0.1"], "farm": "rd" },
    { "name": "lim", "bind": "$FE_LIM", "address": ["127.0.0.1"], "farm": "open",
      "source-maxconn": 1 },
    { "name": "rate", "bind": "$FE_RATE", "address": ["127.0.0.1"], "farm": "open",
      "source-rate": 2 },
    { "name": "dead", "bind": "$FE_DEAD", "address": ["127.0.0.1"], "farm": "dead" },
    { "name": "v6", "bind": "$FE_V6", "address": ["::1"], "farm": "open",
      "source-rate": 1 } ] }
EOF
cat >"$T_DIR/lw.json" <<EOF
{ "zone": "lw",
  "farms": [ { "name": "open", "probe": "none",
               "servers": [ { "address": "127.0.0.1", "port": $SINK, "name": "s1" } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE_W", "address": ["127.0.0.1"], "farm": "open" } ] }
EOF

# to_sink N: wait until N sessions are connected to the sink.
sink_conns_ge() {
	[ "$(ss -Htn state established "( dport = :$SINK )" | wc -l)" -ge "$1" ]
}
to_sink() {
	wait_until 5 sink_conns_ge "$1"
}

# quit_session PORT [SOURCE]: a whole SMTP dialogue (greeting, QUIT, 221).
quit_session() {
	[ "$(tcp_read "${3:-127.0.0.1}" "$1" 5 "$T_DIR/quit.out" "${2:-}" 'QUIT\r\n')" = eof ] &&
		grep -q '^221 ' "$T_DIR/quit.out"
}

# refused NAME PORT SOURCE [HOST]: the exact 421 naming $HOST, then the close.
expect_421() {
	local out=$T_DIR/r421.$RANDOM how
	how=$(tcp_read "${4:-127.0.0.1}" "$2" 5 "$out" "$3")
	printf '421 4.3.2 %s Service not available, try again later\r\n' "$HOST" >"$T_DIR/expected-421"
	if cmp -s "$T_DIR/expected-421" "$out" && [ "$how" = eof ]; then
		ok "$1: the 421 names --hostname $HOST"
	else
		fail "$1" "got $(od -An -c "$out" | tr -s ' ' | head -c 200) then $how"
	fi
}

# line_for FILE REGEX: the one session line matching REGEX.
line_for() {
	grep -E " session .*$2" "$1" | tail -1
}

# f2b_ips FILE: the addresses fail2ban-regex finds with the filter, sorted.
f2b_ips() {
	timeout 60 fail2ban-regex -o ip "$1" "$FILTER" 2>&1 | sort
}

# f2b_matched FILE: how many lines the filter matched in FILE.
f2b_matched() {
	timeout 60 fail2ban-regex "$1" "$FILTER" 2>&1 | sed -n 's/^Lines: [0-9]* lines, [0-9]* ignored, \([0-9]*\) matched.*/\1/p'
}

start_sink "$SINK" || die "smtp-sink did not start"

# --- 2a. a bad --hostname -----------------------------------------------------

"$MXLBD" -z lg -c "$T_DIR/lg.json" -f --hostname $'bad\r\nname' >"$T_DIR/badhost.out" 2>&1
rc=$?
check_eq "--hostname with CR LF: refused at start (exit 2)" 2 "$rc"
check_eq "... with an error naming --hostname, the bytes escaped" \
	'mxlbd: --hostname "bad\x0d\x0aname": a host name is 1-253 of A-Z a-z 0-9 - _ in dot-separated labels of 1-63' \
	"$(cat "$T_DIR/badhost.out")"

# --- 1. the session line ------------------------------------------------------

spawn engine "$MXLBD" -z lg -c "$T_DIR/lg.json" -f --hostname "$HOST"
ENGINE_PID=$SPAWNED_PID
ENGINE_LOG=$T_DIR/engine.log
wait_log "$ENGINE_LOG" " ready zone=lg " 10 || die "engine not ready: $(tail -3 "$ENGINE_LOG")"
check "the ready line names the host name in use" log_has "$ENGINE_LOG" " ready zone=lg .* hostname=$HOST( |$)"

t0=$(now)
check "a plain session: greeting, QUIT, 221" quit_session "$FE"
t1=$(now)
wait_log "$ENGINE_LOG" " session .*frontend=in .*end=closed" 3
L=$(line_for "$ENGINE_LOG" "frontend=in .*end=closed")
note "$L"
keys=$(printf '%s\n' "$L" | sed 's/^[^ ]* session //' | grep -Eo '(^| )[a-z_]+=' | tr -d ' =' | tr '\n' ' ')
check_eq "the keys, in order" \
	"client frontend farm server frontend_addr server_addr source accept queue connect redispatch transport bytes_in bytes_out duration end " "$keys"
check_eq "transport=plain: the server has no PROXY nor XCLIENT" plain "$(kv transport "$L")"
check "client=127.0.0.1:PORT" eval '[[ "$(kv client "$L")" =~ ^127\.0\.0\.1:[0-9]+$ ]]'
check_eq "frontend, farm, server" "in q s1" "$(kv frontend "$L") $(kv farm "$L") $(kv server "$L")"
check_eq "frontend_addr: the address and port connected to" "127.0.0.1:$FE" "$(kv frontend_addr "$L")"
check_eq "server_addr: the server's address and port" "127.0.0.1:$SINK" "$(kv server_addr "$L")"
acc=$(date -d "$(kv accept "$L")" +%s.%N 2>/dev/null)
check "accept=$(kv accept "$L"): a date with milliseconds and the UTC offset, within the client's connect" \
	eval '[[ "$(kv accept "$L")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}[+-][0-9]{4}$ ]] &&
		fcmp "$acc" ">=" "$(fsub "$t0" 0.001)" && fcmp "$acc" "<=" "$t1"'
check "accept + duration = the line's time (within 20 ms)" \
	eval 'd=$(fsub "$(log_time "$L")" "$acc"); fcmp "$(fsub "$d" "$(kv duration "$L")")" "<" 0.02 &&
		fcmp "$(fsub "$(kv duration "$L")" "$d")" "<" 0.02'
check_eq "queue=0.000 (no wait), redispatch=0" "0.000 0" "$(kv queue "$L") $(kv redispatch "$L")"
check "connect=S.mmm, not more than the duration" \
	eval '[[ "$(kv connect "$L")" =~ ^[0-9]+\.[0-9]{3}$ ]] && fcmp "$(kv connect "$L")" "<=" "$(kv duration "$L")"'
check_eq "bytes_in: the client's QUIT" 6 "$(kv bytes_in "$L")"
check_eq "bytes_out: what the client read" "$(wc -c <"$T_DIR/quit.out")" "$(kv bytes_out "$L")"

# A session that waits: s1 takes one at a time.
spawn hold1 tcp_read 127.0.0.1 "$FE" 2 "$T_DIR/hold1.out"
to_sink 1 || fail "the first session reached the sink" "not in 5 s"
spawn hold2 tcp_read 127.0.0.1 "$FE" 4 "$T_DIR/hold2.out"
H2=$SPAWNED_PID
wait_until 8 t_gone "$H2"
wait_until 3 eval '[ "$(log_count "$ENGINE_LOG" " session .*frontend=in ")" -ge 3 ]'
L=$(grep -E " session .*frontend=in " "$ENGINE_LOG" | sed -n 3p)
note "$L"
check "the queued session waited (queue=$(kv queue "$L") s >= 1.5, < its duration)" \
	eval 'fcmp "$(kv queue "$L")" ">=" 1.5 && fcmp "$(kv queue "$L")" "<" "$(kv duration "$L")"'
check_eq "... then went to s1" "s1 127.0.0.1:$SINK" "$(kv server "$L") $(kv server_addr "$L")"
check "... and got the greeting" grep -q '^220 ' "$T_DIR/hold2.out"

# Redispatch: the first server refuses the connect, the second takes it.
check "a session on farm rd: greeting, QUIT, 221" quit_session "$FE_RD"
wait_log "$ENGINE_LOG" " session .*frontend=rd " 3
L=$(line_for "$ENGINE_LOG" "frontend=rd ")
check_eq "redispatched once, to s1" "redispatch=1 server=s1 server_addr=127.0.0.1:$SINK end=closed" \
	"redispatch=$(kv redispatch "$L") server=$(kv server "$L") server_addr=$(kv server_addr "$L") end=$(kv end "$L")"

# --- 2 and 3. refusals, one line each --------------------------------------

spawn holdlim tcp_read 127.0.0.1 "$FE_LIM" 3 "$T_DIR/holdlim.out" 127.0.0.2
to_sink 1 || fail "the held session reached the sink" "not in 5 s"
expect_421 "source-maxconn from 127.0.0.2" "$FE_LIM" 127.0.0.2
check "a rate of 2 a minute: 2 sessions from 127.0.0.5 served" \
	eval 'quit_session "$FE_RATE" 127.0.0.5 && quit_session "$FE_RATE" 127.0.0.5'
expect_421 "source-rate from 127.0.0.5" "$FE_RATE" 127.0.0.5
expect_421 "no server from 127.0.0.3" "$FE_DEAD" 127.0.0.3
check "a rate of 1 a minute on ::1: 1 session served" quit_session "$FE_V6" "" ::1
expect_421 "source-rate from ::1" "$FE_V6" "" ::1
wait_until 3 eval '[ "$(log_count "$ENGINE_LOG" " session .*end=tempfail:")" -ge 4 ]'
L=$(line_for "$ENGINE_LOG" "end=tempfail:source-maxconn")
check "source-maxconn: one line with the client and the reason" \
	eval '[[ "$(kv client "$L")" =~ ^127\.0\.0\.2:[0-9]+$ ]] && [ "$(kv server "$L") $(kv connect "$L")" = "- -" ]'
check_eq "one line per refusal (4)" 4 "$(log_count "$ENGINE_LOG" " session .*end=tempfail:")"
check "the IPv6 client in brackets" log_has "$ENGINE_LOG" " session client=\[::1\]:[0-9]+ frontend=v6 .*end=tempfail:source-rate$"

check_eq "fail2ban-regex on the stderr log: the source-maxconn and source-rate clients, once each" \
	"$(printf '%s\n' 127.0.0.2 127.0.0.5 ::1 | sort)" "$(f2b_ips "$ENGINE_LOG")"
check_eq "... and none of the other lines (no-server, normal ends)" 3 "$(f2b_matched "$ENGINE_LOG")"
check "plain -f: no warning about syslog" eval '! log_has "$ENGINE_LOG" "syslog"'

# --- 6. the level on stderr -------------------------------------------------
TS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} '
CTL="$T_PY $T_PEERS/ctl.py"
LSOCK=$MXLB_RUNDIR/lg.sock
check "ready: info, no level" log_has "$ENGINE_LOG" "${TS}ready zone=lg "
check "a session: info, no level" log_has "$ENGINE_LOG" "${TS}session client="
$CTL "$LSOCK" '{"id":1,"cmd":"admin","farm":"q","server":"s1","state":"drain"}' >/dev/null
check "a server drained: notice" wait_log "$ENGINE_LOG" "${TS}notice: admin farm=q server=s1 state=drain was=ready$" 3
$CTL "$LSOCK" '{"id":2,"cmd":"admin","farm":"q","server":"s1","state":"ready"}' >/dev/null
$CTL "$LSOCK" '{"id":3,"cmd":"commit","base":99,"config":{}}' >/dev/null
check "a refused commit: err" wait_log "$ENGINE_LOG" "${TS}err: commit refused zone=lg " 3
$CTL "$LSOCK" "{\"id\":4,\"cmd\":\"commit\",\"base\":1,\"config\":$(cat "$T_DIR/lg.json")}" >/dev/null
check "a commit: info, no level" wait_log "$ENGINE_LOG" "${TS}commit zone=lg version=2 " 3
stop_pid "$ENGINE_PID"
check "stopped: info, no level" wait_log "$ENGINE_LOG" "${TS}stopped zone=lg$" 3

# --- 4. no /dev/log: the warning before detaching ---------------------------

if [ "$DEVLOG_WAS" = 1 ]; then
	note "skipped the no-/dev/log warning and the private /dev/log: this machine has a /dev/log"
	finish
fi

spawn detach "$MXLBD" -z lw -c "$T_DIR/lw.json"
STARTED=$SPAWNED_PID
wait_until 10 t_gone "$STARTED"
WPID=$(ss -Hxlp src "$MXLB_RUNDIR/lw.sock" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
[ -n "$WPID" ] && at_exit "kill -TERM $WPID"
note "stderr of mxlbd -z lw: $(cat "$T_DIR/detach.log")"
check "no /dev/log: mxlbd without -f warns on stderr before it detaches" \
	grep -qE '^mxlbd: warning: no syslog daemon at /dev/log .*lost' "$T_DIR/detach.log"
check "... and still runs (its control socket is served, its frontend greets)" \
	eval '[ -n "$WPID" ] && [ "$(tcp_read 127.0.0.1 "$FE_W" 1 "$T_DIR/w.out")" = timeout ] && grep -q "^220 " "$T_DIR/w.out"'
if [ -n "$WPID" ]; then
	kill -TERM "$WPID"
	check "... and stops on SIGTERM to that PID" wait_until 5 t_gone "$WPID"
fi
spawn fsys "$MXLBD" -z lw -c "$T_DIR/lw.json" -f --syslog
check "no /dev/log: -f --syslog warns too" wait_log "$T_DIR/fsys.log" '^mxlbd: warning: no syslog daemon at /dev/log' 5
wait_port 127.0.0.1 "$FE_W" 5
stop_pid "$SPAWNED_PID"

# --- 5. a private /dev/log ----------------------------------------------------

spawn devlog "$T_PY" "$T_PEERS/dgram.py" /dev/log "$T_DIR/syslog.msgs"
wait_until 5 test -S /dev/log || die "could not make /dev/log"
INO=$(stat -c %i /dev/log)
at_exit "[ -S /dev/log ] && [ \"\$(stat -c %i /dev/log)\" = $INO ] && rm -f /dev/log"
touch "$T_DIR/syslog.msgs"
S=$T_DIR/syslog.msgs

cp "$T_DIR/lg.json" "$T_DIR/lg2.json"
spawn sys "$MXLBD" -z lg -c "$T_DIR/lg2.json" -f --syslog --hostname "$HOST"
SPID=$SPAWNED_PID
STAMP='[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}'
check "ready: PRI 22 (mail.info), tag mxlbd-lg[$SPID]" \
	wait_log "$S" "^<22>$STAMP mxlbd-lg\[$SPID\]: ready zone=lg " 10
check "a plain session" quit_session "$FE"
check "the session line: PRI 22 (mail.info), the tag, the message as on stderr" \
	wait_log "$S" "^<22>$STAMP mxlbd-lg\[$SPID\]: session client=127\.0\.0\.1:[0-9]+ frontend=in farm=q server=s1 frontend_addr=.* end=closed$" 3
spawn holdlim2 tcp_read 127.0.0.1 "$FE_LIM" 3 "$T_DIR/holdlim2.out" 127.0.0.2
to_sink 1 || fail "the held session reached the sink (syslog)" "not in 5 s"
expect_421 "syslog engine: source-maxconn from 127.0.0.2" "$FE_LIM" 127.0.0.2
quit_session "$FE_RATE" 127.0.0.5 && quit_session "$FE_RATE" 127.0.0.5
expect_421 "syslog engine: source-rate from 127.0.0.5" "$FE_RATE" 127.0.0.5
expect_421 "syslog engine: no server from 127.0.0.3" "$FE_DEAD" 127.0.0.3
wait_until 3 eval '[ "$(log_count "$S" ": session .*end=tempfail:")" -ge 3 ]'
check_eq "the refusals: 3 lines at mail.info" 3 "$(log_count "$S" "^<22>$STAMP mxlbd-lg\[$SPID\]: session .*end=tempfail:")"
echo '{ "zone": "lg", "farms": [ oops' >"$T_DIR/lg2.json"
kill -HUP "$SPID"
check "a refused reload: PRI 19 (mail.err)" \
	wait_log "$S" "^<19>$STAMP mxlbd-lg\[$SPID\]: reload: .*lg2\.json (refused|not imported)" 3
kill -TERM "$SPID"
check "stop: PRI 22 (mail.info)" wait_log "$S" "^<22>$STAMP mxlbd-lg\[$SPID\]: stopped zone=lg" 5
wait_until 5 t_gone "$SPID"

# (Other programs of this machine may log here meanwhile: only the
# engine's lines count.)
check "the engine's lines are there" test "$(log_count "$S" "mxlbd-lg\[$SPID\]: ")" -ge 8
check_eq "every line of the engine has a PRI of facility mail (16-23) and the tag mxlbd-lg[$SPID]" "" \
	"$(grep -F "mxlbd" "$S" | grep -vE "^<(1[6-9]|2[0-3])>$STAMP mxlbd-lg\[$SPID\]: ")"
check_eq "no line has a timestamp of the engine's own after the tag" "" \
	"$(grep -E "\]: [0-9]{4}-[0-9]{2}-[0-9]{2}T" "$S")"
check_eq "nothing doubled on stderr (not a terminal)" "" "$(grep -E 'session|ready|reload|stopped' "$T_DIR/sys.log")"

# As a syslog daemon files them in /var/log/mail.log: its host name after
# the time; and rsyslog's RFC 3339 form.
sed -E 's/^<[0-9]+>([A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}) /\1 mxhost /' "$S" >"$T_DIR/mail.log"
sed -E 's/^<[0-9]+>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} /2026-12-01T02:28:19.123456+00:00 mxhost /' "$S" >"$T_DIR/mail-rfc3339.log"
check_eq "fail2ban-regex on mail.log: the source-maxconn and source-rate clients" \
	"$(printf '%s\n' 127.0.0.2 127.0.0.5 | sort)" "$(f2b_ips "$T_DIR/mail.log")"
check_eq "fail2ban-regex on rsyslog's RFC 3339 lines: the same" \
	"$(printf '%s\n' 127.0.0.2 127.0.0.5 | sort)" "$(f2b_ips "$T_DIR/mail-rfc3339.log")"
sed "s/mxlbd-lg\[/postfix\/smtpd[/" "$T_DIR/mail.log" >"$T_DIR/other.log"
check_eq "the filter counts no line of another program" 0 "$(f2b_matched "$T_DIR/other.log")"

finish
