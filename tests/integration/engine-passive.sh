#!/bin/bash
# Passive health (issue 15): failures seen on real sessions count toward
# the probe's fall between probes.  The probe interval is long (60 s), so
# after the first probe found every server up only sessions can take one
# down.  Sessions go one at a time:
#  1. a server that starts greeting "421 4.7.0 busy" goes down after exactly
#     probe-fall (3) failed sessions, with the reason as its last check;
#     no session goes to it after that, and every message is delivered;
#  2. a server that dies (connection refused) likewise;
#  3. with passive-health off, the same failures leave the server up.
. "$(dirname "$0")/../lib.sh"

FALL=3
free_port; FE_G=$PORT
free_port; FE_D=$PORT
free_port; FE_O=$PORT
free_port; PB=$PORT		# badmx, mode from a file
free_port; PD=$PORT		# badmx, killed later
free_port; PS=$PORT		# smtp-sink
MODE=$T_DIR/mode
ZONE=passive
SOCK=$MXLB_RUNDIR/$ZONE.sock
CTL=("$T_PY" "$T_PEERS/ctl.py" -t 5)

probe="\"probe\": \"smtp\", \"probe-interval\": 60, \"probe-timeout\": 2, \"probe-rise\": 2, \"probe-fall\": $FALL, \"greeting-timeout\": 2, \"connect-timeout\": 1"
cat >"$T_DIR/passive.json" <<EOF
{ "zone": "$ZONE",
  "farms": [
    { "name": "greet", $probe,
      "servers": [ { "address": "127.0.0.1", "port": $PB, "name": "bad" },
                   { "address": "127.0.0.1", "port": $PS, "name": "good" } ] },
    { "name": "dead", $probe,
      "servers": [ { "address": "127.0.0.1", "port": $PD, "name": "dying" },
                   { "address": "127.0.0.1", "port": $PS, "name": "good" } ] },
    { "name": "off", $probe, "passive-health": "off",
      "servers": [ { "address": "127.0.0.1", "port": $PB, "name": "bad" },
                   { "address": "127.0.0.1", "port": $PS, "name": "good" } ] } ],
  "frontends": [
    { "name": "in-g", "bind": "$FE_G", "address": ["127.0.0.1"], "farm": "greet" },
    { "name": "in-d", "bind": "$FE_D", "address": ["127.0.0.1"], "farm": "dead" },
    { "name": "in-o", "bind": "$FE_O", "address": ["127.0.0.1"], "farm": "off" } ] }
EOF

echo ok >"$MODE"
spawn badmx "$T_PY" "$T_PEERS/badmx.py" "$PB" --mode-file "$MODE"
wait_port 127.0.0.1 "$PB" 5 || die "badmx did not start"
spawn dying "$T_PY" "$T_PEERS/badmx.py" "$PD"
DYING=$SPAWNED_PID
wait_port 127.0.0.1 "$PD" 5 || die "badmx (dying) did not start"
start_sink "$PS" || die "smtp-sink did not start"
start_engine "$T_DIR/passive.json" || die "engine did not start"

# stat FARM SERVER KEY: a server's field in the engine's stats (dotted).
stat() {
	"${CTL[@]}" "$SOCK" '{"id":1,"cmd":"stats"}' | "$T_PY" -c '
import json, sys
farm, srv, key = sys.argv[1:4]
r = json.loads(sys.stdin.readline())["result"]
for f in r["farms"]:
    for s in f["servers"]:
        if f["name"] == farm and s["name"] == srv:
            v = s
            for k in key.split("."):
                v = v[k]
            print(v)' "$@"
}

for f in greet:bad dead:dying off:bad; do
	wait_until 5 eval '[ "$(stat ${f%%:*} ${f#*:} state)" = up ]' ||
		die "first probe: ${f#*:} of ${f%%:*} is not up"
done
ok "first probes: every server up (the next probes are 60 s away)"

# until_down FARM SERVER FE COUNTER: one message at a time through FE
# until SERVER is down (at most 12); sets SENT, DELIVERED and AT_DOWN (the
# server's COUNTER when it went down, or "still up").
until_down() {
	local farm=$1 srv=$2 fe=$3 ctr=$4 i sum
	SENT=0 DELIVERED=0 AT_DOWN="still up"
	for i in $(seq 12); do
		sum=$(smtpload 127.0.0.1 "$fe" -n 1 --timeout 10 | tail -1)
		SENT=$((SENT + 1))
		DELIVERED=$((DELIVERED + $(kv delivered "$sum")))
		if [ "$(stat "$farm" "$srv" state)" = down ]; then
			AT_DOWN=$(stat "$farm" "$srv" "counters.$ctr")
			return
		fi
	done
}

# --- 1. 421 greetings -------------------------------------------------------
echo busy >"$MODE"
t0=$(now)
until_down greet bad "$FE_G" greeting_refused
dt=$(fsub "$(now)" "$t0")
check_eq "421 greetings: down after exactly probe-fall ($FALL) failed sessions" "$FALL" "$AT_DOWN"
check "... in ${dt}s, long before the next probe" fcmp "$dt" "<" 30
check_eq "... and every message delivered ($SENT sent)" "$SENT" "$DELIVERED"
check "the probe line says the sessions did it" \
	wait_log "$ENGINE_LOG" " probe farm=greet server=bad state=down was=up check=\"session: greeting 421 4.7.0 badmx.test busy\"" 3
check_eq "last check shown by stats" "session: greeting 421 4.7.0 badmx.test busy" \
	"$(stat greet bad check_text)"
sum=$(smtpload 127.0.0.1 "$FE_G" -n 4 --timeout 10 | tail -1)
check_eq "down: 4 more messages delivered" 4 "$(kv delivered "$sum")"
check_eq "... none of them tried the down server" "$FALL" "$(stat greet bad counters.greeting_refused)"

# --- 2. a dead server (connection refused) ----------------------------------
stop_pid "$DYING" KILL
wait_port_closed 127.0.0.1 "$PD" 5
until_down dead dying "$FE_D" connect_fail
check_eq "dead server: down after exactly probe-fall ($FALL) refused connects" "$FALL" "$AT_DOWN"
check_eq "... and every message delivered ($SENT sent)" "$SENT" "$DELIVERED"
check "... the last check says why" eval \
	'[[ "$(stat dead dying check_text)" == "session: Connection refused" ]]'

# --- 3. passive-health off --------------------------------------------------
sum=$(smtpload 127.0.0.1 "$FE_O" -n 8 --timeout 10 | tail -1)
check_eq "passive-health off: 8 messages delivered" 8 "$(kv delivered "$sum")"
n=$(stat off bad counters.greeting_refused)
check "... $n of them met the 421 server (>= $FALL)" test "$n" -ge "$FALL"
check_eq "... and it stays up until its probe says otherwise" up "$(stat off bad state)"

check "engine still running" alive "$ENGINE_PID"
finish
