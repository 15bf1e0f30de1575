#!/bin/bash
# Issue 7, bad backends: fake MX servers (tests/peers/badmx.py) that go
# wrong while the engine runs, each in a farm with a good server beside it
# (or alone, where what the client sees is the point).  SMTP probe every
# 1 s, timeout 2 s, fall 2, rise 2.
#
#  1. A server that accepts and never answers (farm sil: A + smtp-sink).  It
#     was up; it goes silent.  The TCP connect succeeds, but the engine
#     waits for the server's greeting before the client sees anything: a
#     session sent to it before the probe notices goes to the sink after
#     greeting-timeout (3 s), and is delivered; the engine logs
#     "greeting farm=sil server=A ... no greeting within 3.000 s".  The
#     probe times out in the greeting and marks A down after probe-fall
#     failures: no sooner than probe-timeout x fall (4 s) after A went
#     silent (passive-health off here: the probe alone judges; see
#     engine-passive).  From then on every session goes to the sink.
#  2. A server that resets the connection in the middle of DATA (farm rst:
#     R alone).  The client sees its connection closed before the reply to
#     "." (lost at the dot), the engine logs end=server-error, and no message
#     is taken.  R answers the probe's greeting, EHLO and QUIT correctly, so
#     the probe keeps it up: no state change is logged, show servers says up
#     (passive health counts only failures up to the greeting).
#  3. A server that answers 421 to everything (farm busy: N + smtp-sink).  It
#     was up; it starts answering 421.  A session sent to it before the probe
#     notices goes to the sink (a 421 greeting is redispatched).  The probe
#     marks it nolb at its first 421, with that line as the check text in
#     `mxlb -c 'show servers'`; then every new session goes to the sink.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

free_ports FE_S FE_R FE_N PA PR PN SB1 SB2

zone_config "$T_DIR/bad.json" bad \
	farm sil "${T_SMTP_PROBE[@]}" greeting-timeout=3 passive-health=off \
		server A "$PA" server sink1 "$SB1" \
	frontend fs "$FE_S" idle-timeout=6 \
	farm rst "${T_SMTP_PROBE[@]}" server R "$PR" \
	frontend fr "$FE_R" idle-timeout=6 \
	farm busy "${T_SMTP_PROBE[@]}" passive-health=off \
		server N "$PN" server sink2 "$SB2" \
	frontend fn "$FE_N" idle-timeout=6

# badmx NAME PORT MODE: a fake server whose mode is in $T_DIR/NAME.mode.
badmx() {
	echo "$3" >"$T_DIR/$1.mode"
	spawn "badmx-$1" "$T_PY" "$T_PEERS/badmx.py" "$2" --mode-file "$T_DIR/$1.mode" \
		--count "$T_DIR/$1.count" --name "badmx-$1.test"
	wait_port 127.0.0.1 "$2" 5
}
set_mode() {
	echo "$2" >"$T_DIR/$1.mode.new" && mv "$T_DIR/$1.mode.new" "$T_DIR/$1.mode"
}
# srv_field FARM SERVER FIELD: from `mxlb -c 'show servers FARM'`; FIELD is
# state, or check (the rest of the line: the last check's text).
srv_field() {
	timeout 10 "$MXLB" -c "show servers $1" 2>/dev/null | awk -v s="$2" -v f="$3" '
		NR > 1 && $2 == s {
			if (f == "state") print $7
			else { for (i = 0; i < 9; i++) sub(/^[^ ]+ +/, ""); print }
		}'
}
probe_lines() {	# probe_lines FARM SERVER: state changes logged
	log_count "$ENGINE_LOG" " probe farm=$1 server=$2 "
}
ended() {	# ended NAME: connections the fake server NAME has seen end
	log_count "$T_DIR/badmx-$1.log" "^end "
}
probed() {	# probed N NAME...: each fake server has seen N connections end
	local n=$1
	shift
	for b in "$@"; do
		[ "$(ended "$b")" -ge "$n" ] || return 1
	done
}

badmx A "$PA" ok || die "badmx A did not start"
badmx R "$PR" reset-data || die "badmx R did not start"
badmx N "$PN" ok || die "badmx N did not start"
start_sink "$SB1" || die "smtp-sink on $SB1 did not start"
start_sink "$SB2" || die "smtp-sink on $SB2 did not start"
start_engine "$T_DIR/bad.json" || die "engine did not start"
check "every fake server probed twice" wait_until 10 probed 2 A R N
check_eq "every server up at the start (show servers: A R N)" "up up up" \
	"$(srv_field sil A state) $(srv_field rst R state) $(srv_field busy N state)"

# --- 1. accepts and never answers --------------------------------------------

set_mode A silent
t_silent=$(now)
spawn sil1 "$T_PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$FE_S" -n 4 -c 4 --timeout 15 \
	--log "$T_DIR/sil1.records"
SIL1=$SPAWNED_PID
check "probe marks A down (timeout during the greeting)" \
	wait_log "$ENGINE_LOG" " probe farm=sil server=A state=down was=up check=\"timeout during greeting after 2000 ms\"" 12
t_down=$(log_time "$(grep -E " probe farm=sil server=A state=down" "$ENGINE_LOG" | head -1)")
took=$(fsub "$t_down" "$t_silent")
check "A marked down no sooner than probe-timeout x fall = 4 s after it went silent, and within 10 s ($took s)" \
	eval 'fcmp "$took" ">=" 3.9 && fcmp "$took" "<=" 10'
check_eq "show servers sil: A down" down "$(srv_field sil A state)"
check_eq "show servers sil: A's last check" "timeout during greeting after 2000 ms" "$(srv_field sil A check)"
smtpload 127.0.0.1 "$FE_S" -n 10 -c 2 --timeout 10 >"$T_DIR/sil2.log" 2>&1
s2=$(tail -1 "$T_DIR/sil2.log")
check_eq "A down: 10 new messages all delivered (to sink1)" 10 "$(kv delivered "$s2")"

wait_until 20 t_gone "$SIL1" || fail "the 4 first clients finished" "still running after 20 s"
s1=$(tail -1 "$T_DIR/sil1.log")
note "4 messages sent as A went silent: $s1"
check_eq "sessions before the verdict: all 4 delivered by sink1, none lost" "4 0" \
	"$(kv delivered "$s1") $(kv lost "$s1")"
check_eq "the 2 sent to A: to sink1 after greeting-timeout (redispatch=1)" 2 \
	"$(log_count "$ENGINE_LOG" " session .* farm=sil server=sink1 .*redispatch=1 .*end=closed")"
waited=$(awk '{ printf "%.1f ", $2 - $1 }' "$T_DIR/sil1.records")
check "... 2 of them after greeting-timeout, 3 s (took ${waited}s)" \
	eval '[ "$(awk "\$2 - \$1 >= 2.9 && \$2 - \$1 < 5" "$T_DIR/sil1.records" | wc -l)" -eq 2 ]'
check "engine logged why: no greeting from A within 3 s (twice)" \
	wait_until 3 eval '[ "$(log_count "$ENGINE_LOG" " greeting farm=sil server=A transport=plain error=\"no greeting within 3.000 s\"")" -eq 2 ]'
check_eq "sink1 got the 14 delivered messages" 14 "$(sink_count "$SB1")"
check_eq "no session sent to A after it was marked down, none ended on A" "2 0" \
	"$(log_count "$ENGINE_LOG" " greeting farm=sil server=A ") $(log_count "$ENGINE_LOG" " session .* farm=sil server=A ")"

# --- 2. resets in the middle of DATA -----------------------------------------

smtpload 127.0.0.1 "$FE_R" -n 5 -c 1 --timeout 10 --log "$T_DIR/rst.records" >"$T_DIR/rst.log" 2>&1
r=$(tail -1 "$T_DIR/rst.log")
note "5 messages through R: $r"
check_eq "the client sees its connection closed before the reply to the dot (5 lost at the dot)" 5 \
	"$(awk '$3 == "lost" && $4 == "dot"' "$T_DIR/rst.records" | wc -l)"
check "engine logged 5 end=server-error on R" \
	wait_until 3 eval '[ "$(log_count "$ENGINE_LOG" " session .* farm=rst server=R .*end=server-error$")" -eq 5 ]'
check "R reset each of them mid-DATA (its own log)" \
	eval '[ "$(grep -c "^end reset-data .* reset mid-DATA" "$T_DIR/badmx-R.log")" -eq 5 ]'
check_eq "R took no message" 0 "$(cat "$T_DIR/R.count" 2>/dev/null | wc -l)"
r_ended=$(ended R)
check "R probed twice more" wait_until 5 probed $((r_ended + 2)) R
check_eq "the probe keeps R up: no state change logged" 0 "$(probe_lines rst R)"
check_eq "show servers rst: R up, last check its greeting" "up|220 badmx-R.test ESMTP badmx" \
	"$(srv_field rst R state)|$(srv_field rst R check)"

# --- 3. answers 421 to everything --------------------------------------------

set_mode N tempfail
smtpload 127.0.0.1 "$FE_N" -n 2 -c 2 --timeout 10 --log "$T_DIR/busy1.records" >"$T_DIR/busy1.log" 2>&1
b1=$(tail -1 "$T_DIR/busy1.log")
note "2 messages sent as N turned to 421: $b1"
N421="421 4.3.2 badmx-N.test Too busy, try later"
check_eq "sessions before the verdict: both delivered (N's 421 greeting goes to the sink)" 2 \
	"$(kv delivered "$b1")"
check "probe marks N nolb at its first 421" \
	wait_log "$ENGINE_LOG" " probe farm=busy server=N state=nolb was=up check=\"$N421\"" 5
check_eq "show servers busy: N nolb" nolb "$(srv_field busy N state)"
check_eq "show servers busy: N's last check is its 421 line" "$N421" "$(srv_field busy N check)"
# The engine's log is written by a timer: count once it has been written.
wait_until 5 eval '[ "$(log_count "$ENGINE_LOG" " session .* farm=busy ")" -ge 1 ]'
before=$(log_count "$ENGINE_LOG" " (session|greeting) .*farm=busy server=N ")
b_sessions=$(log_count "$ENGINE_LOG" " session .* farm=busy ")
smtpload 127.0.0.1 "$FE_N" -n 20 -c 2 --timeout 10 >"$T_DIR/busy2.log" 2>&1
b2=$(tail -1 "$T_DIR/busy2.log")
check_eq "N nolb: 20 new messages all delivered" 20 "$(kv delivered "$b2")"
wait_until 5 eval '[ "$(log_count "$ENGINE_LOG" " session .* farm=busy ")" -ge $((b_sessions + 20)) ]'
check_eq "... none of them sent to N" "$before" "$(log_count "$ENGINE_LOG" " (session|greeting) .*farm=busy server=N ")"
check_eq "sink2 got every delivered message" "$(( 20 + $(kv delivered "$b1") ))" "$(sink_count "$SB2")"

# N answers again: up at the next good probe (nolb is not down: no rise).
set_mode N ok
check "N back: up at its next good probe" \
	wait_log "$ENGINE_LOG" " probe farm=busy server=N state=up was=nolb" 5
check_eq "sink1 and sink2 were never marked down" 0 "$(( $(probe_lines sil sink1) + $(probe_lines busy sink2) ))"
check "engine still running" alive "$ENGINE_PID"

finish
