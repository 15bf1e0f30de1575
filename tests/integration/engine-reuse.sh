#!/bin/bash
# Ports the engine itself left in TIME_WAIT never stop a zone from
# starting: the frontend port of a finished session, the ephemeral port
# of its connection to the server (the engine closed first, so the
# TIME_WAIT is the engine's), and the port of a TCP probe.  The zone
# restarts with a frontend on each.
. "$(dirname "$0")/../lib.sh"

# QUIET: probed over TCP: connect, then close
free_ports FE SINK QUIET

# The zone's farms: mx, which the frontends serve, and one probed over TCP.
FARMS=(farm probed probe=tcp probe-interval=1 server p1 "$QUIET"
	farm mx probe=none connect-timeout=2 server s1 "$SINK")

# tw_all DPORT: local ports of TIME_WAIT connections to 127.0.0.1:DPORT.
tw_all() {
	ss -Htan state time-wait "dst 127.0.0.1:$1" 2>/dev/null |
		awk '{ n = split($3, a, ":"); print a[n] }'
}

# tw_ports DPORT: those this run made (not left by an earlier run), and
# that no other socket shares: an ephemeral port may also carry another
# program's connection (or TIME_WAIT) to elsewhere, which would rightly
# stop a listener.
tw_ports() {
	local p
	for p in $(tw_all "$1" | grep -vxFf "$T_DIR/tw.before"); do
		[ "$(ss -Htan "sport = :$p" | grep -vcE "^TIME-WAIT .* 127\.0\.0\.1:$1 *\$")" = 0 ] &&
			echo "$p"
	done
}

# 0 matches no port: grep -f with an empty file would drop every line.
{ echo 0; tw_all "$SINK"; tw_all "$QUIET"; } >"$T_DIR/tw.before"
start_sink "$SINK" || die "smtp-sink on $SINK did not start"
# A server that says nothing and closes after its peer: a probe's close
# is a clean FIN (no unread greeting to turn it into a reset), so the
# TIME_WAIT is the probe's.
spawn quiet "$T_PY" -c '
import socket, sys, threading
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(16)
def serve(c):
    while c.recv(512):
        pass
    c.close()
while True:
    threading.Thread(target=serve, args=(ls.accept()[0],), daemon=True).start()
' "$QUIET"
wait_port 127.0.0.1 "$QUIET" 5 || die "the quiet server did not start"
zone_config "$T_DIR/one.json" reuse "${FARMS[@]}" frontend in "$FE"
start_engine "$T_DIR/one.json" || die "engine did not start"

# The client closes after the greeting: the engine passes the FIN on to
# the server first, so its side of that connection goes to TIME_WAIT.
# (Again if that port is shared with another program's connection.)
for try in 1 2 3 4 5; do
	"$T_PY" - "$FE" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(5)
s.recv(512)
s.shutdown(socket.SHUT_WR)
while s.recv(512):
    pass
PY
	wait_until 3 eval '[ -n "$(tw_ports "$SINK")" ]' && break
done
OUT=$(tw_ports "$SINK" | head -1)
[ -n "$OUT" ] || die "no TIME_WAIT on the engine's side of the server connection"
note "the engine's connection to the server left port $OUT in TIME_WAIT"
wait_until 10 eval '[ -n "$(tw_ports "$QUIET")" ]'
PROBE=$(tw_ports "$QUIET" | head -1)
[ -n "$PROBE" ] || die "no TIME_WAIT on the engine's side of a TCP probe"
note "a TCP probe left port $PROBE in TIME_WAIT"
stop_pid "$ENGINE_PID"

# Restarted on the same frontend port, plus one on each port in TIME_WAIT.
zone_config "$T_DIR/two.json" reuse "${FARMS[@]}" frontend in "$FE" frontend tw "$OUT" \
	frontend twp "$PROBE"
if start_engine "$T_DIR/two.json" engine2; then
	ok "the zone restarts with frontends on the ports it left in TIME_WAIT"
else
	fail "the zone restarts with frontends on the ports it left in TIME_WAIT" \
		"$(grep -m1 -E 'listen|error' "$T_DIR/engine2.log")"
fi
how=$(tcp_read 127.0.0.1 "$OUT" 5 "$T_DIR/tw.out" "" 'QUIT\r\n')
check "the frontend on the session's port serves" grep -q '^220 ' "$T_DIR/tw.out"
how=$(tcp_read 127.0.0.1 "$PROBE" 5 "$T_DIR/twp.out" "" 'QUIT\r\n')
check "the frontend on the probe's port serves" grep -q '^220 ' "$T_DIR/twp.out"
how=$(tcp_read 127.0.0.1 "$FE" 5 "$T_DIR/fe.out" "" 'QUIT\r\n')
check "and so does the first one, on port $FE" grep -q '^220 ' "$T_DIR/fe.out"

finish
