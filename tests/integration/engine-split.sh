#!/bin/bash
# Two smtp-sinks of weight 1 and 3 behind one frontend; smtp-source sends
# 2,000 messages, one per connection.  Every message arrives (counted at the
# sinks) and the sinks share them by weight, within 10 %.
. "$(dirname "$0")/../lib.sh"

N=${SPLIT_MSGS:-2000}
free_ports FE P1 P2

zone_config "$T_DIR/split.json" split \
	farm mx balance=roundrobin "${T_SMTP_PROBE[@]}" queue-timeout=5 \
		server s1 "$P1" weight=1 \
		server s2 "$P2" weight=3 \
	frontend in "$FE" maxconn=1000 source-maxconn=100 source-rate=1000000

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/split.json" || die "engine did not start"
check "frontend listens on 127.0.0.1:$FE" listening 127.0.0.1 "$FE"

# smtp-source stops at its first error, so exit 0 means every message got
# its 250.  -d is not used: in Postfix 3.7 it keeps the connection.
t0=$(now)
if timeout 120 smtp-source -s 16 -m "$N" -l 1024 -f src@mxlb.test -t rcpt@mxlb.test \
	"127.0.0.1:$FE" >"$T_DIR/source.out" 2>&1; then
	ok "smtp-source sent $N messages without an error"
else
	fail "smtp-source sent $N messages without an error" "$(tail -1 "$T_DIR/source.out")"
fi
note "$N messages in $(fsub "$(now)" "$t0") s"

# The sinks write a message after its 250, so the count settles at once;
# give them a moment anyway.
wait_until 5 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge "$N" ]'
c1=$(sink_count "$P1")
c2=$(sink_count "$P2")
check_eq "all $N messages delivered at the sinks ($c1 + $c2)" "$N" $((c1 + c2))

# Weight 1:3 -> s1 a quarter, s2 three quarters, each within 10 %.
within() {	# GOT EXPECTED PERCENT
	awk -v g="$1" -v e="$2" -v p="$3" 'BEGIN { d = g - e; if (d < 0) d = -d; exit !(d <= e * p / 100) }'
}
e1=$((N / 4))
e2=$((N - e1))
check "s1 (weight 1) got $c1, expected $e1 +-10%" within "$c1" "$e1" 10
check "s2 (weight 3) got $c2, expected $e2 +-10%" within "$c2" "$e2" 10

# One session line per connection, naming the server that got it.
# smtp-source closes with SO_LINGER 0 (a RST instead of a FIN), so a session
# whose server had not closed first may end as client-error: both are fine,
# a tempfail or server-error is not.
wait_until 5 eval '[ $(log_count "$ENGINE_LOG" " session ") -ge "$N" ]'
l1=$(log_count "$ENGINE_LOG" " session .*server=s1 ")
l2=$(log_count "$ENGINE_LOG" " session .*server=s2 ")
check_eq "engine logged $N sessions" "$N" $((l1 + l2))
check_eq "engine's s1 sessions match the sink's count" "$c1" "$l1"
check_eq "engine's s2 sessions match the sink's count" "$c2" "$l2"
bad=$(log_count "$ENGINE_LOG" " session .*end=")
bad=$((bad - $(log_count "$ENGINE_LOG" " session .*end=(closed|client-error)( |$)")))
check_eq "every session ended closed (or reset by smtp-source)" 0 "$bad"
check "no probe marked a server down" eval '! log_has "$ENGINE_LOG" " probe .*state=down"'
check "engine still running" alive "$ENGINE_PID"

finish
