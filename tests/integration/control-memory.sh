#!/bin/bash
# run: alone (it measures the engine's memory)
# Issue 10: memory per control client is bounded and given back; requests
# that make the engine work are bounded per client.
#
#  1. 20 root clients each send 9 MB without a newline (tests/peers/
#     ctlflood.py bigline): each is answered too-long at the 8 MB limit
#     (engine/proto.h says why 8 MB) and closed.  Once they are gone the
#     engine's VmRSS is back within 16 MB of what it was before them (the
#     engine gives freed buffers back: malloc_trim).
#  2. With sessions open on server s1, one client sends 100,000 `wait`
#     requests for it on one connection, reading the replies: at most 16
#     are kept (the rest answered "busy"), the engine's VmRSS grows by less
#     than 16 MB, and mail goes through meanwhile.
. "$(dirname "$0")/../lib.sh"

two_sink_config mem "$T_DIR/mem.json"
start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/mem.json" || die "engine did not start"
SOCK=$MXLB_RUNDIR/mem.sock
MXLB=${MXLB:-$T_TOP/build/mxlb}

vm() {	# vm FIELD: a /proc/ENGINE_PID/status field, in kB
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$ENGINE_PID/status" 2>/dev/null
}
rss_below() {	# rss_below KB
	[ "$(vm VmRSS)" -lt "$1" ]
}
# Under AddressSanitizer freed memory sits in its quarantine, not in
# malloc's free lists: the memory figures are noted, not asserted.
SANITIZED=0
ldd "$MXLBD" 2>/dev/null | grep -q libasan && SANITIZED=1
check_rss() {	# check_rss NAME CMD...: check, unless under a sanitizer
	if [ "$SANITIZED" = 1 ]; then
		note "sanitizer build, not asserted: $1 (VmRSS $(vm VmRSS) kB)"
		return 0
	fi
	check "$@"
}

# A few requests and sessions first, so the baseline is a warm engine.
for i in 1 2 3; do
	"$T_PY" "$T_PEERS/ctl.py" -t 5 "$SOCK" '{"id":1,"cmd":"stats"}' '{"id":2,"cmd":"get"}' >/dev/null
done
smtpload 127.0.0.1 "$FE" -n 10 -c 2 --timeout 5 >/dev/null 2>&1
base=$(vm VmRSS)
note "engine VmRSS at rest: $base kB"

# --- 1. long lines without a newline ---------------------------------------------
out=$("$T_PY" "$T_PEERS/ctlflood.py" bigline "$SOCK" --conns 20 --mb 9 --secs 20 | tail -1)
hwm=$(vm VmHWM)
note "20 clients x 9 MB without a newline: $out; engine VmHWM $hwm kB"
check_eq "every 9 MB line answered too-long (the limit is 8 MB)" 20 "$(kv too_long "$out")"
check_eq "... and every such client closed by the engine" 20 "$(kv closed "$out")"
check "engine logged the oversized lines" log_has "$ENGINE_LOG" "control: root \(pid [0-9]+\) sent an oversized line, dropped \(the limit is 8388608 bytes\)"
check_rss "engine memory back within 16 MB of where it was (VmRSS $base kB before)" \
	wait_until 5 rss_below $((base + 16 * 1024))
note "engine VmRSS after they left: $(vm VmRSS) kB"
check "root still answered" eval '"$T_PY" "$T_PEERS/ctl.py" -t 5 "$SOCK" "{\"id\":1,\"cmd\":\"hello\"}" >/dev/null'

# --- 2. wait requests --------------------------------------------------------------
spawn held "$T_PY" "$T_PEERS/idleconns.py" 127.0.0.1 "$FE" --conns 4 --hold 60
HELD_PID=$SPAWNED_PID
wait_log "$T_DIR/held.log" "^ready greeted=4 " 10 || die "4 sessions not held: $(tail -2 "$T_DIR/held.log")"
code=$("$T_PY" "$T_PEERS/ctl.py" -t 5 -p error.code "$SOCK" '{"id":1,"cmd":"wait","farm":"mx","server":"s1","timeout":1}')
check_eq "s1 has sessions: a wait for it times out" timeout "$code"

base=$(vm VmRSS)
spawn waits "$T_PY" "$T_PEERS/ctlflood.py" waits "$SOCK" --n 100000 --farm mx --server s1 --secs 40
WAITS_PID=$SPAWNED_PID
s=$(smtpload 127.0.0.1 "$FE" -n 50 -c 2 --timeout 5 2>&1 | tail -1)
check_eq "mail flows while a client spams waits: 50 of 50 delivered ($s)" 50 "$(kv delivered "$s")"
wait_until 45 t_gone "$WAITS_PID"
w=$(tail -1 "$T_DIR/waits.log")
note "100,000 waits on one connection: $w; engine VmRSS $(vm VmRSS) kB (was $base)"
check_eq "every wait answered but 16 (the per-client bound)" "0 16" "$(kv other "$w") $(kv unanswered "$w")"
check_eq "... the others answered busy" 99984 "$(kv busy "$w")"
check_rss "engine VmRSS grew by less than 16 MB" rss_below $((base + 16 * 1024))
stop_pid "$HELD_PID"
check "engine alive" alive "$ENGINE_PID"

finish
