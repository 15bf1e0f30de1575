#!/bin/bash
# run: alone (it measures the engine's memory)
# Hostile clients while real mail flows: one sends garbage, some never read
# their replies while sending as fast as they can, some drop the connection
# in the middle of DATA, one sits idle.  Meanwhile smtpload, smtp-source and
# swaks keep being delivered, the engine keeps running with bounded memory,
# and no half-sent message reaches a sink.
. "$(dirname "$0")/../lib.sh"

# FE: real mail, and garbage and mid-DATA drops
# FEB: the clients that never read
free_ports FE FEB P1 P2 P3

# The never-reading clients get their own sink: smtp-sink is one process,
# and a reply it cannot write would stall every session it serves, which
# would say something about smtp-sink, not about the engine.
zone_config "$T_DIR/hostile.json" hostile \
	farm mx "${T_SMTP_PROBE[@]}" \
		server s1 "$P1" \
		server s2 "$P2" \
	farm hx probe=tcp probe-interval=1 probe-timeout=2 \
		server s3 "$P3" \
	frontend in "$FE" farm=mx maxconn=1000 source-maxconn=100 source-rate=1000000 idle-timeout=3 \
	frontend bad "$FEB" maxconn=100 source-maxconn=10 idle-timeout=3

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_sink "$P3" || die "smtp-sink on $P3 did not start"
start_engine "$T_DIR/hostile.json" || die "engine did not start"

rss0=$(vm "$ENGINE_PID" VmRSS)

spawn load "$T_PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$FE" -d 8 -c 4 --pause 0.01 \
	--timeout 10 --log "$T_DIR/load.records"
LOAD_PID=$SPAWNED_PID
check "the load delivers before the attack" \
	wait_until 5 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge 20 ]'

# The hostile ones, each from its own address.
spawn garbage "$T_PY" "$T_PEERS/hostile.py" garbage 127.0.0.1 "$FE" --repeat 20 --source 127.0.0.5
G_PID=$SPAWNED_PID
spawn middata "$T_PY" "$T_PEERS/hostile.py" middata 127.0.0.1 "$FE" --repeat 20 --source 127.0.0.7
M_PID=$SPAWNED_PID
spawn idle "$T_PY" "$T_PEERS/hostile.py" idle 127.0.0.1 "$FE" --secs 6 --source 127.0.0.8
I_PID=$SPAWNED_PID
NR_PIDS=""
for i in 1 2 3; do
	spawn "noread$i" "$T_PY" "$T_PEERS/hostile.py" noread 127.0.0.1 "$FEB" --secs 4 --source 127.0.0.6
	NR_PIDS="$NR_PIDS $SPAWNED_PID"
done

# Real peers in the middle of it: once the idle and the non-reading ones
# are connected.
check "the idle and the 3 non-reading clients are connected" wait_until 5 eval \
	'[ "$(ss -Htn state established "src 127.0.0.8" "dport = :$FE" | wc -l)" -ge 1 ] &&
	 [ "$(ss -Htn state established "src 127.0.0.6" "dport = :$FEB" | wc -l)" -ge 3 ]'
check "smtp-source: 200 messages during the attack" \
	timeout 60 smtp-source -s 4 -m 200 -l 2048 "127.0.0.1:$FE"
check "swaks from 127.0.0.2 delivered during the attack" \
	eval 'swaks --server "127.0.0.1:$FE" --local-interface 127.0.0.2 --to u@mxlb.test --timeout 20 >"$T_DIR/swaks.out" 2>&1'
check "engine alive during the attack" alive "$ENGINE_PID"
hwm_mid=$(vm "$ENGINE_PID" VmHWM)

for pid in $G_PID $M_PID $I_PID $NR_PIDS $LOAD_PID; do
	wait_until 30 t_gone "$pid" || fail "client $pid finished" "still running after 30 s"
done

summary=$(tail -1 "$T_DIR/load.log")
note "load: $summary"
note "$(tail -1 "$T_DIR/garbage.log"); $(tail -1 "$T_DIR/middata.log"); $(tail -1 "$T_DIR/noread1.log")"
sent=$(kv sent "$summary")
delivered=$(kv delivered "$summary")
check "steady load kept flowing (sent $sent)" eval '[ "${sent:-0}" -gt 100 ]'
check_eq "every message of the steady load delivered" "$sent" "$delivered"
check "the garbage client was served (connected 20 times)" grep -q "garbage sessions=20 " "$T_DIR/garbage.log"
check "the mid-DATA client got to DATA 20 times" grep -q "middata sessions=20 " "$T_DIR/middata.log"
check "the never-reading clients connected" grep -q "noread sessions=1 " "$T_DIR/noread1.log"

# Nothing half-sent reached a sink: exactly what the clients saw delivered.
expect=$((delivered + 200 + 1))
wait_until 3 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge "$expect" ]'
got=$(( $(sink_count "$P1") + $(sink_count "$P2") ))
check_eq "sinks got exactly the delivered messages (no half-sent one)" "$expect" "$got"
check_eq "the never-reading clients' sink got no message" 0 "$(sink_count "$P3")"

# The engine's own account of the hostile sessions.
check "mid-DATA sessions logged (20, from 127.0.0.7)" \
	wait_until 5 eval '[ "$(log_count "$ENGINE_LOG" " session client=127\.0\.0\.7:")" -ge 20 ]'
check "garbage sessions logged (20, from 127.0.0.5)" \
	wait_until 5 eval '[ "$(log_count "$ENGINE_LOG" " session client=127\.0\.0\.5:")" -ge 20 ]'
check "idle session closed by idle-timeout (3 s)" \
	log_has "$ENGINE_LOG" " session client=127\.0\.0\.8:[0-9]+ .*end=idle-timeout"
check "never-reading sessions logged (3, from 127.0.0.6)" \
	wait_until 8 eval '[ "$(log_count "$ENGINE_LOG" " session client=127\.0\.0\.6:")" -ge 3 ]'

# Memory: the never-reading clients must not make the engine buffer without
# bound.  64 MiB is generous for an engine with a handful of sessions.
hwm=$(vm "$ENGINE_PID" VmHWM)
note "engine RSS before ${rss0} kB, peak ${hwm_mid} kB during the attack, ${hwm} kB at the end"
check "engine peak RSS under 64 MiB (${hwm} kB)" eval '[ "${hwm:-999999}" -lt 65536 ]'
check "no probe marked a server down" eval '! log_has "$ENGINE_LOG" " probe .*state=down"'
check "engine still running" alive "$ENGINE_PID"
check "engine still answers: one more message" \
	timeout 20 smtp-source -m 1 "127.0.0.1:$FE"

finish
