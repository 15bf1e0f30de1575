#!/bin/bash
# Ports the engine itself left in TIME_WAIT never stop a zone from
# starting: the frontend port of a finished session, and the ephemeral
# port of its connection to the server (the engine closed first, so the
# TIME_WAIT is the engine's).  The zone restarts with a frontend on each.
. "$(dirname "$0")/../lib.sh"

free_port; FE=$PORT
free_port; SINK=$PORT

# conf FILE [MORE-FRONTEND-JSON]
conf() {
	cat >"$1" <<EOF
{ "zone": "reuse",
  "farms": [ { "name": "mx", "probe": "none", "connect-timeout": 2,
               "servers": [ { "address": "127.0.0.1", "port": $SINK, "name": "s1" } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE", "address": ["127.0.0.1"], "farm": "mx" }${2:-} ] }
EOF
}

# tw_ports DPORT: local ports of our TIME_WAIT connections to 127.0.0.1:DPORT.
tw_ports() {
	ss -Htan state time-wait "dst 127.0.0.1:$1" 2>/dev/null |
		awk '{ n = split($3, a, ":"); print a[n] }'
}

start_sink "$SINK" || die "smtp-sink on $SINK did not start"
conf "$T_DIR/one.json"
start_engine "$T_DIR/one.json" || die "engine did not start"

# The client closes after the greeting: the engine passes the FIN on to
# the server first, so its side of that connection goes to TIME_WAIT.
"$T_PY" - "$FE" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(5)
s.recv(512)
s.shutdown(socket.SHUT_WR)
while s.recv(512):
    pass
PY
wait_log "$ENGINE_LOG" ' session .*end=closed' 5 || fail "the session ended" "no session line"
wait_until 3 eval '[ -n "$(tw_ports "$SINK")" ]'
OUT=$(tw_ports "$SINK" | head -1)
[ -n "$OUT" ] || die "no TIME_WAIT on the engine's side of the server connection"
note "the engine's connection to the server left port $OUT in TIME_WAIT"
stop_pid "$ENGINE_PID"

# Restarted on the same frontend port, plus one on the port in TIME_WAIT.
conf "$T_DIR/two.json" ", { \"name\": \"tw\", \"bind\": \"$OUT\", \"address\": [\"127.0.0.1\"], \"farm\": \"mx\" }"
if start_engine "$T_DIR/two.json" engine2; then
	ok "the zone restarts with a frontend on the port its session left in TIME_WAIT"
else
	fail "the zone restarts with a frontend on the port its session left in TIME_WAIT" \
		"$(grep -m1 -E 'listen|error' "$T_DIR/engine2.log")"
fi
how=$(tcp_read 127.0.0.1 "$OUT" 5 "$T_DIR/tw.out" "" 'QUIT\r\n')
check "that frontend serves" grep -q '^220 ' "$T_DIR/tw.out"
how=$(tcp_read 127.0.0.1 "$FE" 5 "$T_DIR/fe.out" "" 'QUIT\r\n')
check "and so does the first one, on port $FE" grep -q '^220 ' "$T_DIR/fe.out"

finish
