#!/bin/bash
# Issue 7, slowloris: clients that connect and say nothing, and clients that
# send one byte every few seconds, are cut by the frontend's idle timeout
# (2 s here), while real mail keeps flowing through the same frontend.
#
# The idle timeout counts silence both ways: a client that says nothing
# still gets the server's greeting forwarded (bytes_out > 0), and is cut
# idle-timeout after that greeting; a dripping client is cut idle-timeout
# after its last byte.  The client sees the close (a FIN); the engine logs
# end=idle-timeout.  A client that drips faster than the idle timeout is not
# idle and is not cut by the engine (noted, not asserted: the design has no
# per-session deadline; the SMTP server's own timeouts judge such a client).
. "$(dirname "$0")/../lib.sh"

IDLE=2
IDLE_LO=1.95	# the client notes a byte sent just after writing it
IDLE_HI=3.5	# idle-timeout + 1.5 s: timer slack on a loaded machine
MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

two_sink_config slow "$T_DIR/slow.json" "\"idle-timeout\": $IDLE"

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/slow.json" || die "engine did not start"
# Let the first probes pass: a session to a server not probed yet is fine,
# but the suite is about the idle timeout, not about the start.
check "both servers probed up" wait_until 5 servers_are slow up

SILENT=400	# connect, say nothing (from 127.0.0.5 and 127.0.0.6)
DRIP=50		# one byte 1 s after the connect, then one every 4 s (127.0.0.7)
FAST=10		# one byte every 0.5 s: not idle (127.0.0.8)

slowloris() {
	"$T_PY" "$T_PEERS/slowloris.py" "$@"
}

# Real mail through the same frontend, before, during and after the attack.
spawn load "$T_PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$FE" -d 12 -c 4 --pause 0.02 \
	--timeout 10 --log "$T_DIR/load.records"
LOAD_PID=$SPAWNED_PID
check "the load delivers before the attack" \
	wait_until 5 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge 20 ]'

t_attack=$(now)
spawn silent slowloris silent 127.0.0.1 "$FE" --conns "$SILENT" --secs 15 \
	--source 127.0.0.5,127.0.0.6 --out "$T_DIR/silent.out"
SILENT_PID=$SPAWNED_PID
spawn drip slowloris drip 127.0.0.1 "$FE" --conns "$DRIP" --first 1 --every 4 --secs 15 \
	--source 127.0.0.7 --out "$T_DIR/drip.out"
DRIP_PID=$SPAWNED_PID
spawn fast slowloris drip 127.0.0.1 "$FE" --conns "$FAST" --first 0.5 --every 0.5 --secs 6 \
	--source 127.0.0.8 --out "$T_DIR/fast.out"
FAST_PID=$SPAWNED_PID

# While they sit there: the engine holds them all, and mail still goes.
wait_until 5 eval '[ "$(ss -Htn state established "dport = :$FE" | wc -l)" -ge $((SILENT + DRIP)) ]'
held=$(ss -Htn state established "dport = :$FE" | wc -l)
note "client connections established to the frontend during the attack: $held"
check "swaks from 127.0.0.2 delivered while $SILENT silent and $DRIP dripping clients are connected" \
	eval 'swaks --server "127.0.0.1:$FE" --local-interface 127.0.0.2 --to u@mxlb.test \
		--timeout 10 >"$T_DIR/swaks.out" 2>&1'

for pid in $SILENT_PID $DRIP_PID $FAST_PID $LOAD_PID; do
	wait_until 30 t_gone "$pid" || fail "client $pid finished" "still running after 30 s"
done
t_done=$(now)

# --- what the slow clients saw ------------------------------------------------

s=$(tail -1 "$T_DIR/silent.log")
d=$(tail -1 "$T_DIR/drip.log")
f=$(tail -1 "$T_DIR/fast.log")
note "$s"
note "$d"
note "$f"
check_eq "silent clients: every one greeted (the server's 220 is forwarded)" "$SILENT" "$(kv greeted "$s")"
check_eq "silent clients: every one closed by the peer with a FIN (eof)" "$SILENT" "$(kv eof "$s")"
# The greeting comes right after the connect; the client's clock starts
# before the connect, so close_min >= idle-timeout holds exactly.  (quiet_*
# is from when the client got round to reading the greeting: later, with 400
# connections in one event loop.)
check "silent clients: none closed before idle-timeout (close $(kv close_min "$s")-$(kv close_max "$s") s after connect)" \
	eval 'fcmp "$(kv close_min "$s")" ">=" "$IDLE" && fcmp "$(kv close_max "$s")" "<=" "$IDLE_HI"'
check_eq "dripping clients: every one closed (eof)" "$DRIP" "$(( $(kv eof "$d") + $(kv reset "$d") ))"
check_eq "dripping clients: each sent its one byte before the cut" "$DRIP" \
	"$(awk '$5 == 1' "$T_DIR/drip.out" | wc -l)"
check "dripping clients: cut idle-timeout after their byte (quiet $(kv quiet_min "$d")-$(kv quiet_max "$d") s)" \
	eval 'fcmp "$(kv quiet_min "$d")" ">=" "$IDLE_LO" && fcmp "$(kv quiet_max "$d")" "<=" "$IDLE_HI"'
check "dripping clients: cut before their second byte (close $(kv close_min "$d")-$(kv close_max "$d") s after connect)" \
	fcmp "$(kv close_max "$d")" "<" 5
note "dripping faster than the idle timeout (a byte every 0.5 s for 6 s): $(kv open "$f") of $FAST still open at the end, $(( $(kv eof "$f") + $(kv reset "$f") )) cut (the idle timeout counts silence; no per-session deadline)"

# --- what the engine logged ---------------------------------------------------

idle_from() {	# idle_from REGEX-OF-CLIENT-ADDRESS
	log_count "$ENGINE_LOG" " session client=$1:[0-9]+ frontend=in .* end=idle-timeout$"
}
check "engine logged end=idle-timeout for every silent client ($SILENT)" \
	wait_until 5 eval '[ "$(idle_from "127\.0\.0\.[56]")" -eq "$SILENT" ]'
check "engine logged end=idle-timeout for every dripping client ($DRIP)" \
	wait_until 5 eval '[ "$(idle_from "127\.0\.0\.7")" -eq "$DRIP" ]'
check_eq "silent sessions: bytes_in=0 and bytes_out > 0 (the greeting) in every log line" "$SILENT" \
	"$(grep -E " session client=127\.0\.0\.[56]:[0-9]+ .* bytes_in=0 bytes_out=[1-9][0-9]* .*end=idle-timeout$" "$ENGINE_LOG" | wc -l)"
check_eq "dripping sessions: bytes_in=1 in every log line" "$DRIP" \
	"$(grep -E " session client=127\.0\.0\.7:[0-9]+ .* bytes_in=1 .*end=idle-timeout$" "$ENGINE_LOG" | wc -l)"
dmin=$(grep -E " session client=127\.0\.0\.[567]:.*end=idle-timeout$" "$ENGINE_LOG" |
	grep -Eo 'duration=[0-9.]+' | cut -d= -f2 | sort -n | head -1)
check "no session cut before idle-timeout ${IDLE} s (shortest: ${dmin:-none} s)" \
	fcmp "${dmin:-0}" ">=" "$IDLE"

# --- the mail that flowed meanwhile -------------------------------------------

summary=$(tail -1 "$T_DIR/load.log")
note "load: $summary"
sent=$(kv sent "$summary")
delivered=$(kv delivered "$summary")
check "steady load kept flowing (sent ${sent:-0})" eval '[ "${sent:-0}" -gt 100 ]'
check_eq "every message of the steady load delivered" "$sent" "$delivered"
during=$(awk -v a="$t_attack" -v b="$(awk -v t="$t_attack" 'BEGIN { printf "%.3f", t + 3 }')" '$3 == "delivered" && $1 >= a && $2 <= b' "$T_DIR/load.records" | wc -l)
check "messages delivered in the 3 s the slow clients were connected ($during)" eval '[ "$during" -ge 20 ]'
expect=$((delivered + 1))
wait_until 3 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge "$expect" ]'
check_eq "sinks got every delivered message (load + swaks)" "$expect" \
	"$(( $(sink_count "$P1") + $(sink_count "$P2") ))"

# Nothing left behind: no session still counted by the frontend.
check "frontend sessions_cur back to 0 (show stats json)" wait_until 5 eval \
	'[ "$(timeout 10 "$MXLB" -c "show stats json" 2>/dev/null | "$T_PY" -c "import json,sys; print(json.load(sys.stdin)[0][\"frontends\"][0][\"counters\"][\"sessions_cur\"])")" = 0 ]'
check "no probe marked a server down" eval '! log_has "$ENGINE_LOG" " probe .*state=down"'
check "engine still running" alive "$ENGINE_PID"

finish
