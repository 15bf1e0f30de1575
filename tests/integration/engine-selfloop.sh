#!/bin/bash
# A server that is a frontend of its own zone (same address and port, the
# port maybe inherited from the frontend) would make every session connect
# back to the engine, which connects again, until descriptors run out.
# Such a config is refused with an error naming the farm, the server and
# the frontend: by mxlbd -n, at start, and in a commit; a server on
# another host with the same inherited port is fine.
. "$(dirname "$0")/../lib.sh"

free_ports FE SINK

FARM=(farm mx probe=none connect-timeout=2)

MSG="farm mx: server loop: connects to 127.0.0.1 port $FE (the port of frontend in), where frontend in listens: every session would loop back into this zone (give the server another address or port)"

# The port inherited from the frontend, which listens on 127.0.0.1.
zone_config "$T_DIR/loop.json" selfloop "${FARM[@]}" server loop - frontend in "$FE"
"$MXLBD" -n -c "$T_DIR/loop.json" >/dev/null 2>"$T_DIR/check.err"
check_eq "mxlbd -n refuses a server that is its own frontend (exit 1)" 1 $?
check "the error names the farm, the server and the frontend" \
	grep -qxF -- "$MSG" "$T_DIR/check.err"
[ "$T_FAIL" -gt 0 ] && sed 's/^/# mxlbd -n: /' "$T_DIR/check.err"

# The frontend on every address (no address): loopback reaches it.
zone_config "$T_DIR/loop-all.json" selfloop "${FARM[@]}" server loop - frontend in "$FE" address=
"$MXLBD" -n -c "$T_DIR/loop-all.json" >/dev/null 2>"$T_DIR/check-all.err"
check_eq "mxlbd -n refuses it when the frontend listens on all addresses" 1 $?
check "same error for the wildcard frontend" grep -qxF -- "$MSG" "$T_DIR/check-all.err"

# Started on it, the engine does not run (today it runs, and one client
# chains sessions until the descriptors are gone).
spawn bad "$MXLBD" -z selfloop -c "$T_DIR/loop.json" -f
BAD_PID=$SPAWNED_PID
if wait_until 5 t_gone "$BAD_PID"; then
	ok "the engine refuses to start on it"
else
	fail "the engine refuses to start on it" "it is running"
	tcp_read 127.0.0.1 "$FE" 2 "$T_DIR/loop.out" >/dev/null
	note "sessions logged after one client: $(log_count "$T_DIR/bad.log" ' session ')"
	stop_pid "$BAD_PID"
fi
check "its log has the error" log_has "$T_DIR/bad.log" "$(printf '%s' "$MSG" | sed 's/[].[()*]/\\&/g')"

# A server on another host with the inherited port is a normal farm.
zone_config "$T_DIR/remote.json" selfloop "${FARM[@]}" server remote - address=192.0.2.1 \
	frontend in "$FE" address=
check "a server on another host, same inherited port, is accepted" \
	eval '"$MXLBD" -n -c "$T_DIR/remote.json" >/dev/null 2>&1'

# A commit that makes the loop is refused, and the zone goes on serving.
start_sink "$SINK" || die "smtp-sink on $SINK did not start"
zone_config "$T_DIR/good.json" selfloop "${FARM[@]}" server sink "$SINK" frontend in "$FE"
start_engine "$T_DIR/good.json" || die "engine did not start on a good config"
out=$("$T_PY" "$T_PEERS/ctl.py" --commit "$T_DIR/loop.json" "$MXLB_RUNDIR/selfloop.sock" 2>&1)
rc=$?
check_eq "a commit with the loop is refused (error reply)" 1 "$rc"
case $out in
*"connects to 127.0.0.1 port $FE"*"frontend in listens"*) ok "the refusal says why" ;;
*) fail "the refusal says why" "$out" ;;
esac
how=$(tcp_read 127.0.0.1 "$FE" 5 "$T_DIR/after.out" "" 'QUIT\r\n')
check "the zone still serves through its sink" grep -q '^220 ' "$T_DIR/after.out"
# Session lines only: the refusal's err line says "every session would loop".
check_eq "one session, not a chain" 1 \
	"$(wait_log "$ENGINE_LOG" ' session client=' 3; log_count "$ENGINE_LOG" ' session client=')"

finish
