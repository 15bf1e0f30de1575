#!/bin/bash
# Issue 7, descriptors: the engine runs out of file descriptors.
#
# mxlbd raises its soft RLIMIT_NOFILE to the hard limit at start, so the
# engine is started under a hard limit of 64 (ulimit -Sn 64; ulimit -Hn 64
# in a wrapper that execs it: same PID).  A session takes two descriptors;
# whether the last free one is taken by accept() or by the server socket
# depends on the parity of the descriptors the engine holds at rest, so the
# suite measures that and, if needed, lowers the running engine's limit by
# one (prlimit --pid) to make it even: then accept() itself fails, which is
# the path the listener pauses on (section 1).  Section 2 sets the other
# parity on purpose: one descriptor left, accept() succeeds and the server
# socket cannot be opened.  (The limit is only ever lowered: raising a
# hard limit needs CAP_SYS_RESOURCE.)
#
#  1. Even: 6 sessions are taken to RCPT TO, then 40 silent clients come:
#     the first fill what is left, the others wait in the listen queue.  The engine logs "accept: Too many
#     open files: pausing for 250 ms", holds every descriptor it may, uses
#     little CPU (< 50 % of one CPU over 3 s), a client that comes now waits
#     (no 421, no reset); the 6 sessions finish DATA and are delivered.  The
#     silent clients leave: the engine closes what it held, accepts again and
#     the next messages are delivered at once.  The SMTP probe ran all along
#     (every 1 s, fall 2) and could not open a socket either: a local
#     shortage says nothing about the servers, so none may be marked down
#     (else every client after the shortage gets a 421 until probe-rise).
#  2. Odd: one descriptor left at the limit; the clients beyond it get the
#     exact 421 line at once, and mail flows again when they leave.  (The
#     engine logs them as tempfail:no-server and counts a connect failure
#     against each server it tried: noted, not asserted.)
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"
command -v prlimit >/dev/null || die "prlimit (util-linux) is not installed"
LIMIT=64
TICK=$(getconf CLK_TCK)

two_sink_config fds "$T_DIR/fds.json"

mxlbd_lowfd "$LIMIT"

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/fds.json" || die "engine did not start under ulimit -n $LIMIT"
check_eq "engine runs with a hard and soft limit of $LIMIT descriptors" "$LIMIT $LIMIT" \
	"$(awk '/^Max open files/ { print $4, $5 }' "/proc/$ENGINE_PID/limits")"
check "both servers probed up" wait_until 5 servers_are fds up


# in_use: the engine's descriptors below its limit (one it inherited above
# the limit, if any, does not count against it).
in_use() {
	ls "/proc/$ENGINE_PID/fd" 2>/dev/null | awk -v l="$LIMIT" '$1 < l' | wc -l
}
# rest_fds: descriptors held at rest, the lowest of a few looks (a probe
# holds one for a millisecond each second).
rest_fds() {
	local i n min=999999
	for i in 1 2 3 4 5; do
		n=$(in_use)
		[ "$n" -lt "$min" ] && min=$n
		sleep 0.1	# samples 0.1 s apart: the measure, not a wait
	done
	echo "$min"
}
cpu_ticks() {
	local rest
	rest=$(sed 's/.*) //' "/proc/$1/stat") || return 1
	set -- $rest
	echo $((${12} + ${13}))
}
set_limit() {
	prlimit --pid "$ENGINE_PID" --nofile="$1:$1" && LIMIT=$1
}
pausing_count() {
	log_count "$ENGINE_LOG" " accept: Too many open files: pausing for 250 ms$"
}
delivered_now() {	# delivered_now N TAG: N messages, one per connection
	smtpload 127.0.0.1 "$FE" -n "$1" -c 1 --timeout 5 >"$T_DIR/$2.log" 2>&1
}

REST=$(rest_fds)
if [ $(((LIMIT - REST) % 2)) = 1 ]; then
	set_limit $((LIMIT - 1)) || die "prlimit --pid could not lower the engine's limit"
fi
FREE=$((LIMIT - REST))
FIT=$((FREE / 2))
note "engine holds $REST descriptors at rest; limit $LIMIT: $FREE free, room for $FIT sessions"
[ "$FIT" -gt 10 ] || die "only $FIT sessions fit under $LIMIT descriptors"

# --- 1. accept() fails: pause, keep, resume ------------------------------------

CUR=6
EXTRA=40
spawn slowmail "$T_PY" "$T_PEERS/slowmail.py" 127.0.0.1 "$FE" --conns "$CUR" \
	--go "$T_DIR/go" --wait 40 --source 127.0.0.4
SM_PID=$SPAWNED_PID
check "$CUR sessions taken to RCPT TO before the shortage" \
	wait_log "$T_DIR/slowmail.log" "^ready $CUR$" 10

spawn holders "$T_PY" "$T_PEERS/slowloris.py" silent 127.0.0.1 "$FE" --conns "$EXTRA" \
	--secs 60 --source 127.0.0.5 --out "$T_DIR/holders.out"
HOLD_PID=$SPAWNED_PID
check "the engine pauses accepting: 'accept: Too many open files: pausing for 250 ms'" \
	wait_until 10 eval '[ "$(pausing_count)" -ge 1 ]'
check "every descriptor the engine may have is in use ($LIMIT)" \
	wait_until 5 eval '[ "$(in_use)" -eq "$LIMIT" ]'
queued=$(ss -Hltn "sport = :$FE" | awk '{ print $2 }')
note "listen queue of the frontend: $queued connections waiting to be accepted"
check "clients beyond the limit wait in the listen queue (Recv-Q $queued > 0)" \
	eval '[ "${queued:-0}" -gt 0 ]'

# Spin check: CPU over 3 s of shortage, and how often it retries.
p0=$(pausing_count)
c0=$(cpu_ticks "$ENGINE_PID")
t0=$(now)
sleep 3		# the window the CPU is measured over: the thing under test
c1=$(cpu_ticks "$ENGINE_PID")
secs=$(fsub "$(now)" "$t0")
p1=$(pausing_count)
cpu_pct=$(awk -v d=$((c1 - c0)) -v t="$TICK" -v s="$secs" 'BEGIN { printf "%.1f", d / t / s * 100 }')
note "engine CPU during the shortage: $((c1 - c0)) ticks in $secs s = $cpu_pct % of one CPU; $((p1 - p0)) pausing lines"
check "no spin: engine CPU under 50 % of one CPU during the shortage ($cpu_pct %)" \
	fcmp "$cpu_pct" "<" 50
check "no spin: at most one pause per 250 ms ($((p1 - p0)) lines in $secs s)" \
	eval '[ $((p1 - p0)) -le 16 ]'
how=$(tcp_read 127.0.0.1 "$FE" 2 "$T_DIR/waiting.out")
check_eq "a new client during the shortage waits (no 421, no reset): $how, $(stat -c %s "$T_DIR/waiting.out") bytes" \
	"timeout 0" "$how $(stat -c %s "$T_DIR/waiting.out")"

# The current sessions finish their dialogue in the middle of it.
sink0=$(( $(sink_count "$P1") + $(sink_count "$P2") ))
touch "$T_DIR/go"
wait_until 20 t_gone "$SM_PID"
sm=$(tail -1 "$T_DIR/slowmail.log")
note "current sessions: $sm"
check_eq "the $CUR current sessions delivered their messages during the shortage" "$CUR" "$(kv delivered "$sm")"
check "... and the sinks have them" wait_until 3 eval \
	'[ $(( $(sink_count "$P1") + $(sink_count "$P2") - sink0 )) -ge "$CUR" ]'
check "engine alive during the shortage" alive "$ENGINE_PID"

# The silent clients leave: descriptors free up.  Mail is sent the moment
# the engine is back at rest: a server the probe wrongly marked down during
# the shortage would need probe-rise (2) good probes, 1 s apart, first.
stop_pid "$HOLD_PID" TERM 5
t_free=$(now)
check "the engine closes what it held (back to $REST descriptors, give or take a probe)" \
	wait_until 10 eval '[ "$(in_use)" -le $((REST + 1)) ]'
delivered_now 10 after
a=$(tail -1 "$T_DIR/after.log")
note "10 messages as soon as the descriptors are free ($(fsub "$(now)" "$t_free") s after the silent clients left): $a"
check_eq "mail delivered at once after the shortage (10 of 10 messages)" 10 "$(kv delivered "$a")"
check "mail flows again within 15 s of the shortage" \
	wait_until 15 delivered_now 1 again
note "a message delivered $(fsub "$(now)" "$t_free") s after the silent clients left"
check "no server marked down by a probe that could not get a descriptor" \
	eval '! log_has "$ENGINE_LOG" " probe .*state=down .*Too many open files"'
if log_has "$ENGINE_LOG" " probe .*state=down"; then
	grep -E " probe .*state=(down|up)" "$ENGINE_LOG" | sed 's/^/#   /'
fi
p2=$(pausing_count)
sleep 1		# a window in which nothing may happen: the thing under test
check_eq "no more pauses once descriptors are free" "$p2" "$(pausing_count)"
check "engine alive after the shortage" alive "$ENGINE_PID"

# --- 2. one descriptor left: accept() succeeds, the server socket cannot -------

REST=$(rest_fds)
# Lowered, not raised: raising a hard limit needs CAP_SYS_RESOURCE.
if [ $(((LIMIT - REST) % 2)) = 0 ]; then
	set_limit $((LIMIT - 1)) || die "prlimit --pid could not lower the engine's limit"
fi
FIT=$(((LIMIT - REST) / 2))
note "section 2: $REST descriptors at rest, limit $LIMIT: room for $FIT sessions and one descriptor"
cf0=$(timeout 10 "$MXLB" -c 'show stats json' 2>/dev/null |
	"$T_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["farms"][0]["counters"]["connect_fail"])')
"$T_PY" "$T_PEERS/flood.py" 127.0.0.1 "$FE" --source 127.0.0.6 --conns $((FIT + 5)) \
	--conc $((FIT + 5)) --hold 3 --timeout 10 --expect "$LINE421" --out "$T_DIR/odd.out" \
	>"$T_DIR/odd.log" 2>&1
o=$(tail -1 "$T_DIR/odd.log")
note "$((FIT + 5)) clients, each holding 3 s: $o"
check_eq "the first $FIT clients are served" "$FIT" "$(kv greeted "$o")"
check_eq "the 5 beyond the limit read the exact 421 line at once, then the close" 5 "$(kv exact "$o")"
wait_until 3 eval '[ "$(log_count "$ENGINE_LOG" " session client=127\.0\.0\.6:.* end=tempfail:")" -ge 5 ]'
reasons=$(grep -E " session client=127\.0\.0\.6:.* end=tempfail:" "$ENGINE_LOG" | grep -Eo ' end=[^ ]+' | sort | uniq -c | tr -s ' ' | tr '\n' ',')
cf1=$(timeout 10 "$MXLB" -c 'show stats json' 2>/dev/null |
	"$T_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["farms"][0]["counters"]["connect_fail"])')
note "logged as:${reasons%,}; the farm's connect_fail went from $cf0 to $cf1 (the servers are counted as failing for the engine's own shortage)"
check "mail delivered once they left" wait_until 10 delivered_now 2 odd-after
check "engine still running" alive "$ENGINE_PID"

finish
