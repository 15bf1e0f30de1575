#!/bin/bash
# A sink is killed (SIGKILL) while mail flows through the engine, then
# restarted.  Every message the client sent was delivered or refused with a
# 4xx, except the sessions the dead sink was serving at the instant it died
# (those see their connection drop before the final 250: the sending MTA
# keeps the message and retries); no message is lost or duplicated; the
# probe marks the server down within interval x fall, and up again after it
# is back.
. "$(dirname "$0")/../lib.sh"

INTERVAL=1
FALL=2
RISE=2
SLACK=1		# seconds allowed beyond interval x fall (or x rise)
CONC=4
free_ports FE P1 P2

zone_config "$T_DIR/failover.json" failover \
	farm mx balance=roundrobin probe=smtp "probe-interval=$INTERVAL" probe-timeout=1 "probe-rise=$RISE" "probe-fall=$FALL" connect-timeout=2 queue-timeout=5 \
		server s1 "$P1" \
		server s2 "$P2" \
	frontend in "$FE" maxconn=1000 source-maxconn=100 source-rate=1000000

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/failover.json" || die "engine did not start"

# Real peer first: both sinks take mail.
check "smtp-source: 20 messages before the failure" \
	timeout 30 smtp-source -s 2 -m 20 "127.0.0.1:$FE"
wait_until 3 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge 20 ]'
check "both sinks got mail before the failure" eval '[ "$(sink_count "$P1")" -gt 0 ] && [ "$(sink_count "$P2")" -gt 0 ]'
base=$(( $(sink_count "$P1") + $(sink_count "$P2") ))

# Continuous load over the whole failure: every message accounted for.
spawn load "$T_PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$FE" -d 9 -c "$CONC" \
	--pause 0.01 --timeout 10 --log "$T_DIR/load.records"
LOAD_PID=$SPAWNED_PID
c1=$(sink_count "$P1") c2=$(sink_count "$P2")
check "the load reaches both sinks before the failure" \
	wait_until 5 eval '[ "$(sink_count "$P1")" -gt "$c1" ] && [ "$(sink_count "$P2")" -gt "$c2" ]'
check "both servers probed up before the failure" wait_until 5 servers_are failover up

t_kill=$(now)
stop_sink "$P1" KILL
note "killed s1 (pid ${SINK_PIDS[$P1]}) at $t_kill"

# probe_within STATE SINCE SECS NAME EVENT: the probe logs s1 going STATE at
# most SECS after SINCE (epoch seconds, the time of EVENT); sets LINE to that
# line.
probe_within() {
	local t dt
	LINE=
	if ! wait_log "$ENGINE_LOG" " probe .*server=s1 .*state=$1" $(($3 + 2)); then
		fail "$4" "no 'probe ... server=s1 ... state=$1' line in $(($3 + 2)) s"
		return 1
	fi
	LINE=$(grep -E " probe .*server=s1 .*state=$1" "$ENGINE_LOG" | tail -1)
	t=$(log_time "$LINE")
	dt=$(fsub "${t:-$(now)}" "$2")
	check "$4 ${dt}s after $5 (<= $3 s)" fcmp "$dt" "<=" "$3"
	note "$LINE"
}

if probe_within down "$t_kill" $((INTERVAL * FALL + SLACK)) "s1 marked down" \
	"the kill"; then
	check "the down line says why (check=...)" eval '[ -n "$(kv check "$LINE")" ]'
fi
check "s2 stayed up" eval '! log_has "$ENGINE_LOG" " probe .*server=s2 .*state=down"'

t_restart=$(now)
start_sink "$P1" || fail "smtp-sink restarted on $P1" "not listening"
probe_within up "$t_restart" $((INTERVAL * RISE + SLACK)) "s1 back up" \
	"the restart"

if ! wait_until 30 t_gone "$LOAD_PID"; then
	fail "load client finished" "still running after 30 s"
fi

summary=$(tail -1 "$T_DIR/load.log")
note "load: $summary"
sent=$(kv sent "$summary")
delivered=$(kv delivered "$summary")
tempfail=$(kv tempfail "$summary")
lost=$(kv lost "$summary")
check "load sent messages across the failure" eval '[ "${sent:-0}" -gt 50 ]'
check_eq "every message delivered, refused with a 4xx or cut at the kill" \
	"$sent" $((delivered + tempfail + lost))
check_eq "no 5xx, no timeout, no failed connect" "0 0 0" \
	"$(kv permfail "$summary") $(kv timeout "$summary") $(kv connect "$summary")"
# A message counts as cut by the kill only if its session was open when
# the sink died, and at most one per parallel session can be.
check "at most $CONC sessions cut by the kill (got $lost)" eval '[ "${lost:-0}" -le "$CONC" ]'
late=$(awk -v k="$t_kill" '$3 == "lost" && ($1 > k + 0.5 || $2 < k - 0.5)' "$T_DIR/load.records" | wc -l)
check_eq "every cut session was open at the kill" 0 "$late"
# s2 was up all along: a connect to the dead s1 is retried on s2 before the
# client sees anything, so no client should even get a 4xx.
check_eq "no 4xx either: sessions sent to the dead s1 were redispatched" 0 "${tempfail:-0}"
[ "${tempfail:-0}" -gt 0 ] && grep ' tempfail ' "$T_DIR/load.records" | head -5 | sed 's/^/#   /'
redispatched=$(log_count "$ENGINE_LOG" " connect farm=mx server=s1 ")
note "$redispatched connects to the dead s1 failed and were redispatched"

# Delivered as the client saw it == written by the sinks (nothing lost
# after its 250, nothing delivered twice).
wait_until 3 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") - base )) -ge "${delivered:-0}" ]'
atsinks=$(( $(sink_count "$P1") + $(sink_count "$P2") - base ))
check_eq "messages at the sinks == messages the client saw delivered" "$delivered" "$atsinks"

# Back in the rotation: a fresh smtp-source run reaches s1 again.
before=$(sink_count "$P1")
check "smtp-source: 20 messages after the restart" \
	timeout 30 smtp-source -s 2 -m 20 "127.0.0.1:$FE"
check "restarted s1 takes mail again" eval '[ "$(sink_count "$P1")" -gt "$before" ]'
check "engine still running" alive "$ENGINE_PID"

finish
