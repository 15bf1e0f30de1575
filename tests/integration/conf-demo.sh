#!/bin/bash
# Issue 13, `make run` beside whatever already uses 2525, 2601 and 2602.
# share/examples/demo-run (what `make run` starts) takes DEMO_PORT and
# DEMO_SINKS; a port already in use is named, with its holder and the
# variable to change, before anything starts, and the script ends (no tty:
# it must not wait).  With free ports and no tty the demo runs on them: the
# frontend answers with a sink's greeting, and stopping the script stops
# everything it started.  The Makefile passes DEMO_PORT and DEMO_SINKS.
. "$(dirname "$0")/../lib.sh"

DEMO=$T_TOP/share/examples/demo-run
[ -x "$T_TOP/build/mxlbd" ] || die "no engine at build/mxlbd (run make)"
free_port; BUSY=$PORT
free_port; FE=$PORT
free_port; S1=$PORT
free_port; S2=$PORT
start_sink "$BUSY" || die "smtp-sink on $BUSY did not start"

# demo TAG PORT SINKS: demo-run with no tty, bounded; output in TAG.out.
demo() {
	DEMO_PORT=$2 DEMO_SINKS=$3 TMPDIR=$T_DIR timeout -k 5 30 "$DEMO" \
		</dev/null >"$T_DIR/$1.out" 2>&1
	RC=$?
}

demo fe "$BUSY" "$S1 $S2"
check_eq "busy frontend port: demo-run exits 1 (not 124: it did not hang)" 1 "$RC"
check "... names the port, that it is the frontend (DEMO_PORT), and its holder" \
	grep -qE "port $BUSY \(the frontend, DEMO_PORT\) is already in use( by smtp-sink)?" "$T_DIR/fe.out"
check "... says how to choose others (make run DEMO_PORT=... DEMO_SINKS=...)" \
	grep -qE "make run DEMO_PORT=[0-9]+ DEMO_SINKS=\"[0-9]+ [0-9]+\"" "$T_DIR/fe.out"
check "... and started nothing (no sink on $S1, no demo zone)" eval \
	'! listening 127.0.0.1 "$S1" && [ ! -e "$MXLB_RUNDIR/demo.sock" ]'

demo sink "$FE" "$S1 $BUSY"
check_eq "busy sink port: demo-run exits 1" 1 "$RC"
check "... names it as a sink (DEMO_SINKS)" \
	grep -q "port $BUSY (a sink, DEMO_SINKS) is already in use" "$T_DIR/sink.out"
check "... and started nothing (the frontend port is free)" t_not_listening 127.0.0.1 "$FE"

demo bad "$FE" "$S1"
check "DEMO_SINKS with one port: refused, says the form" eval \
	'[ $RC -eq 1 ] && grep -q "two ports" "$T_DIR/bad.out"'
demo nan "x25" "$S1 $S2"
check "DEMO_PORT not a number: refused" eval \
	'[ $RC -eq 1 ] && grep -q "\"x25\" is not a port number" "$T_DIR/nan.out"'

# Free ports: the demo runs on them.
spawn demo env DEMO_PORT="$FE" DEMO_SINKS="$S1 $S2" TMPDIR="$T_DIR" "$DEMO"
DPID=$SPAWNED_PID
check "free ports: the demo says it runs on them" wait_log "$T_DIR/demo.log" \
	"frontend 127.0.0.1:$FE -> farm mx" 15
check "... with the sinks on $S1 and $S2" log_has "$T_DIR/demo.log" \
	"sink1 127.0.0.1:$S1, sink2 127.0.0.1:$S2"
check "... and says it has no terminal" log_has "$T_DIR/demo.log" "no terminal: Ctrl-C stops the demo"
wait_until 10 eval 'tcp_read 127.0.0.1 "$FE" 3 "$T_DIR/greet" "" "QUIT\r\n" >/dev/null && grep -qE "^220 sink-($S1|$S2)\.demo" "$T_DIR/greet"'
check "... the frontend answers with a sink's greeting" grep -qE "^220 sink-($S1|$S2)\.demo" "$T_DIR/greet"
stop_pid "$DPID" TERM 10
check "stopping demo-run stops the engine and the sinks" wait_until 10 eval \
	't_not_listening 127.0.0.1 "$FE" && t_not_listening 127.0.0.1 "$S1" && t_not_listening 127.0.0.1 "$S2"'

check "make run passes DEMO_PORT and DEMO_SINKS" eval \
	'make -n -C "$T_TOP" run DEMO_PORT=2999 DEMO_SINKS="3001 3002" 2>/dev/null |
		grep -q "DEMO_PORT=.2999. DEMO_SINKS=.3001 3002. share/examples/demo-run"'

finish
